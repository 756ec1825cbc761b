// Test helper for the dialects' prompt readers (api/*/prompt.h): a table of request bodies and the
// prompt each must give, checked the same way for every dialect. For *_test.cpp files only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "core/prompt.h"

namespace sy::api::testing {

// One request body and what the reader must make of it.
struct PromptCase {
  const char* name;
  const char* body;
  const char* texts;  // TextsOf(prompt)
  int messages, user_turns, tools_offered;
  bool tool_required, tool_calls, tool_results;
  core::OutputFormat output;
  int images, documents;
  int64_t max_output_tokens;
};

// The prompt's texts as "role:turn:text" lines, for compact expectations.
inline std::string TextsOf(const core::Prompt& p) {
  std::string out;
  for (const auto& t : p.texts) {
    static constexpr const char* kRoles[] = {"system", "user", "assistant", "tool"};
    out += std::string(kRoles[static_cast<int>(t.role)]) + ":" + std::to_string(t.turn) + ":" +
           std::string(t.text) + "\n";
  }
  return out;
}

using PromptReader = core::Prompt (*)(const boost::json::object& body, size_t body_bytes);

// Reads each case's body with `read` (told the body is `body_bytes` long) and checks every count.
inline void ExpectPrompts(std::span<const PromptCase> cases, PromptReader read, size_t body_bytes) {
  for (const PromptCase& c : cases) {
    SCOPED_TRACE(c.name);
    const boost::json::value body = boost::json::parse(c.body);
    const core::Prompt p = read(body.as_object(), body_bytes);
    EXPECT_EQ(TextsOf(p), c.texts);
    EXPECT_EQ(p.messages, c.messages);
    EXPECT_EQ(p.user_turns, c.user_turns);
    EXPECT_EQ(p.tools_offered, c.tools_offered);
    EXPECT_EQ(p.tool_required, c.tool_required);
    EXPECT_EQ(p.tool_calls, c.tool_calls);
    EXPECT_EQ(p.tool_results, c.tool_results);
    EXPECT_EQ(p.output, c.output);
    EXPECT_EQ(p.images, c.images);
    EXPECT_EQ(p.documents, c.documents);
    EXPECT_EQ(p.max_output_tokens, c.max_output_tokens);
    EXPECT_EQ(p.body_bytes, body_bytes);
    size_t text_bytes = 0;
    for (const auto& t : p.texts) text_bytes += t.text.size();
    EXPECT_EQ(p.text_bytes, text_bytes);
  }
}

}  // namespace sy::api::testing
