// http::Task<T>: the coroutine type of every asynchronous operation in Switchyard.
//
// It is Asio's awaitable. This is the one Asio header that modules outside http/ see: the
// request pipeline is written as coroutines, and wrapping awaitable in a type of our own would
// cost an allocation per await for no gain. Sockets, buffers and Beast stay inside http/.
#pragma once

#include <boost/asio/awaitable.hpp>

namespace sy::http {

template <typename T>
using Task = boost::asio::awaitable<T>;

}  // namespace sy::http
