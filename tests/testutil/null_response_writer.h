// NullResponseWriter: an http::ResponseWriter that accepts everything and keeps nothing, for
// tests of stages that answer a client whose answer they do not look at. Header-only.
#pragma once

#include <string>
#include <string_view>

#include "http/server.h"

namespace sy::testutil {

class NullResponseWriter final : public http::ResponseWriter {
 public:
  http::Task<bool> Send(int, const http::Headers&, std::string) override { co_return true; }
  http::Task<bool> StartStream(int, const http::Headers&) override { co_return true; }
  http::Task<bool> Write(std::string_view) override { co_return true; }
  http::Task<bool> EndStream(const http::Headers&) override { co_return true; }
  bool started() const override { return false; }
};

}  // namespace sy::testutil
