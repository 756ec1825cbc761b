// Construction of the Asio-backed Client; used by Server for its workers and by tests.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>

#include "http/client.h"
#include "http/detail/round.h"

namespace sy::http::detail {

// `load`, when given, is the load of the server worker whose thread runs `ioc`: the client's
// writes wait for the worker's round while other requests share it (detail::AfterReadyWork).
// It must outlive the client.
std::unique_ptr<Client> MakeClient(boost::asio::io_context& ioc, const WorkerLoad* load = nullptr);

}  // namespace sy::http::detail
