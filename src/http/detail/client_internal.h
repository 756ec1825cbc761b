// Construction of the Asio-backed Client; used by Server for its workers and by tests.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>

#include "http/client.h"
#include "http/detail/resolver.h"

namespace sy::http::detail {

std::unique_ptr<Client> MakeClient(boost::asio::io_context& ioc);
// The same with host names looked up by `lookup` instead of the system's resolver (tests).
std::unique_ptr<Client> MakeClient(boost::asio::io_context& ioc, Resolver::Lookup lookup);

}  // namespace sy::http::detail
