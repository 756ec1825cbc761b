// Test helpers for api/translate/*_test.cpp: JSON literals and event builders.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "core/stream_event.h"
#include "core/usage.h"

namespace sy::api::translate::test_util {

// Parses a JSON literal of a test; a typo in it fails the test instead of throwing.
inline boost::json::value J(std::string_view text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << "bad JSON literal in the test: " << text;
  return v;
}

inline boost::json::object O(std::string_view text) {
  auto v = J(text);
  EXPECT_TRUE(v.is_object()) << text;
  return v.is_object() ? v.get_object() : boost::json::object();
}

// An upstream event as a provider decodes it.
inline core::StreamEvent Event(std::string name, std::string_view data) {
  core::StreamEvent e;
  e.event = std::move(name);
  e.data = std::string(data);
  if (data != "[DONE]") e.SetJson(J(data));
  e.terminal = data == "[DONE]";
  return e;
}

inline core::Usage MakeUsage(int64_t input, int64_t cached, int64_t cache_write, int64_t output,
                             int64_t reasoning = 0) {
  core::Usage u;
  u.input_tokens = input;
  u.cached_input_tokens = cached;
  u.cache_write_input_tokens = cache_write;
  u.output_tokens = output;
  u.reasoning_tokens = reasoning;
  u.reported = true;
  return u;
}

}  // namespace sy::api::translate::test_util
