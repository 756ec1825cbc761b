// Construction of the Asio-backed Client; used by Server for its workers and by tests.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>

#include "http/client.h"

namespace sy::http::detail {

std::unique_ptr<Client> MakeClient(boost::asio::io_context& ioc);

}  // namespace sy::http::detail
