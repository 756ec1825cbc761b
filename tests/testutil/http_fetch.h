// Fetch: one client exchange read to the end, for tests of http::Client.
#pragma once

#include <optional>
#include <string>

#include "core/error.h"
#include "http/client.h"

namespace sy::testutil {

// What a client saw of one exchange.
struct Fetched {
  std::optional<core::Error> error;
  int status = 0;
  http::Headers headers;
  std::string body;
};

inline http::Task<Fetched> Fetch(http::Client& client, http::ClientRequest request) {
  Fetched out;
  auto response = co_await client.Send(std::move(request));
  if (!response) {
    out.error = response.error();
    co_return out;
  }
  out.status = (*response)->status();
  out.headers = (*response)->headers();
  auto body = co_await (*response)->ReadAll(1 << 20);
  if (body) {
    out.body = std::move(*body);
  } else {
    out.error = body.error();
  }
  co_return out;
}

}  // namespace sy::testutil
