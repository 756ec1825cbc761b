#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "cache/cache.h"

namespace sy::cache {
namespace {

namespace json = boost::json;

constexpr std::string_view kBase = R"({
  "model": "gpt-4o-mini",
  "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
  "temperature": 0.2,
  "max_tokens": 100,
  "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
})";

json::object Body(std::string_view text) { return json::parse(text).as_object(); }

// The key of a request with everything but the body fixed.
std::string KeyOf(std::string_view body) {
  return Key("acme", "", "openai", false, "default", "r0", Body(body));
}

struct Case {
  std::string_view name;
  std::string_view body;
};

// Bodies that are the same request as kBase.
const Case kSame[] = {
    {"keys in another order", R"({
      "tools": [{"function": {"parameters": {"type": "object"}, "name": "f"}, "type": "function"}],
      "max_tokens": 100,
      "temperature": 0.2,
      "messages": [{"content": "Be brief.", "role": "system"}, {"content": "Hi", "role": "user"}],
      "model": "gpt-4o-mini"})"},
    {"whitespace", R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},
      {"role":"user","content":"Hi"}],"temperature":0.2,"max_tokens":100,"tools":[{"type":
      "function","function":{"name":"f","parameters":{"type":"object"}}}]})"},
    {"user", R"({"user": "u1", "model": "gpt-4o-mini", "messages": [{"role": "system",
      "content": "Be brief."}, {"role": "user", "content": "Hi"}], "temperature": 0.2,
      "max_tokens": 100, "tools": [{"type": "function", "function": {"name": "f",
      "parameters": {"type": "object"}}}]})"},
    {"metadata", R"({"metadata": {"a": "b"}, "model": "gpt-4o-mini", "messages": [{"role":
      "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "temperature": 0.2,
      "max_tokens": 100, "tools": [{"type": "function", "function": {"name": "f",
      "parameters": {"type": "object"}}}]})"},
    {"stream", R"({"stream": true, "model": "gpt-4o-mini", "messages": [{"role": "system",
      "content": "Be brief."}, {"role": "user", "content": "Hi"}], "temperature": 0.2,
      "max_tokens": 100, "tools": [{"type": "function", "function": {"name": "f",
      "parameters": {"type": "object"}}}]})"},
    {"store", R"({"store": false, "model": "gpt-4o-mini", "messages": [{"role": "system",
      "content": "Be brief."}, {"role": "user", "content": "Hi"}], "temperature": 0.2,
      "max_tokens": 100, "tools": [{"type": "function", "function": {"name": "f",
      "parameters": {"type": "object"}}}]})"},
    {"service_tier", R"({"service_tier": "flex", "model": "gpt-4o-mini", "messages": [{"role":
      "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "temperature": 0.2,
      "max_tokens": 100, "tools": [{"type": "function", "function": {"name": "f",
      "parameters": {"type": "object"}}}]})"},
    {"safety_identifier", R"({"safety_identifier": "s", "model": "gpt-4o-mini", "messages":
      [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
      "temperature": 0.2, "max_tokens": 100, "tools": [{"type": "function", "function":
      {"name": "f", "parameters": {"type": "object"}}}]})"},
    {"prompt_cache_key", R"({"prompt_cache_key": "p", "model": "gpt-4o-mini", "messages":
      [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
      "temperature": 0.2, "max_tokens": 100, "tools": [{"type": "function", "function":
      {"name": "f", "parameters": {"type": "object"}}}]})"},
};

TEST(KeyTest, SameRequestSameKey) {
  const std::string base = KeyOf(kBase);
  for (const Case& c : kSame) {
    EXPECT_EQ(KeyOf(c.body), base) << c.name;
  }
}

// Bodies that differ from kBase in what changes the answer.
const Case kDifferent[] = {
    {"message", R"({"model": "gpt-4o-mini", "messages": [{"role": "system", "content":
      "Be brief."}, {"role": "user", "content": "Hi!"}], "temperature": 0.2, "max_tokens": 100,
      "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type":
      "object"}}}]})"},
    {"message order", R"({"model": "gpt-4o-mini", "messages": [{"role": "user", "content":
      "Hi"}, {"role": "system", "content": "Be brief."}], "temperature": 0.2, "max_tokens": 100,
      "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type":
      "object"}}}]})"},
    {"temperature", R"({"model": "gpt-4o-mini", "messages": [{"role": "system", "content":
      "Be brief."}, {"role": "user", "content": "Hi"}], "temperature": 0.3, "max_tokens": 100,
      "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type":
      "object"}}}]})"},
    {"tools", R"({"model": "gpt-4o-mini", "messages": [{"role": "system", "content":
      "Be brief."}, {"role": "user", "content": "Hi"}], "temperature": 0.2, "max_tokens": 100,
      "tools": [{"type": "function", "function": {"name": "g", "parameters": {"type":
      "object"}}}]})"},
    {"no tools", R"({"model": "gpt-4o-mini", "messages": [{"role": "system", "content":
      "Be brief."}, {"role": "user", "content": "Hi"}], "temperature": 0.2, "max_tokens": 100})"},
    {"model", R"({"model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Hi"}], "temperature": 0.2, "max_tokens": 100, "tools":
      [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]})"},
    {"max_tokens", R"({"model": "gpt-4o-mini", "messages": [{"role": "system", "content":
      "Be brief."}, {"role": "user", "content": "Hi"}], "temperature": 0.2, "max_tokens": 101,
      "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type":
      "object"}}}]})"},
    // Only the top level's fields are ignored: a tool's "user" parameter is part of the request.
    {"nested user", R"({"model": "gpt-4o-mini", "messages": [{"role": "system", "content":
      "Be brief."}, {"role": "user", "content": "Hi"}], "temperature": 0.2, "max_tokens": 100,
      "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type":
      "object"}, "user": "u1"}}]})"},
};

TEST(KeyTest, DifferentRequestDifferentKey) {
  const std::string base = KeyOf(kBase);
  for (const Case& c : kDifferent) {
    EXPECT_NE(KeyOf(c.body), base) << c.name;
  }
}

TEST(KeyTest, EveryOtherInputChangesIt) {
  const json::object body = Body(kBase);
  const std::string base = Key("acme", "", "openai", false, "default", "r0", body);
  EXPECT_NE(Key("globex", "", "openai", false, "default", "r0", body), base) << "tenant";
  EXPECT_NE(Key("acme", "", "anthropic", false, "default", "r0", body), base) << "dialect";
  EXPECT_NE(Key("acme", "", "openai", true, "default", "r0", body), base) << "stream";
  EXPECT_NE(Key("acme", "", "openai", false, "cheap", "r0", body), base) << "profile";
  EXPECT_NE(Key("acme", "", "openai", false, "default", "r1", body), base) << "rule";
}

// Regression: the key covered the tenant only, so one client key learnt from a hit that another
// key of its tenant had sent the same prompt. Under `scope: key` (a key id given) each key has its
// own entries; without one (scope tenant, or auth.mode off) the tenant's keys share them.
TEST(KeyTest, KeyScopeSeparatesTheKeysOfATenant) {
  const json::object body = Body(kBase);
  const auto key_of = [&](std::string_view key_id) {
    return Key("acme", key_id, "openai", false, "default", "r0", body);
  };
  const std::string tenant_scope = key_of("");
  EXPECT_NE(key_of("key_1"), key_of("key_2"));
  EXPECT_EQ(key_of("key_1"), key_of("key_1"));
  EXPECT_NE(key_of("key_1"), tenant_scope);
  EXPECT_EQ(tenant_scope, KeyOf(kBase));
  // The key id is a field of its own, apart from the tenant.
  EXPECT_NE(Key("a", "bc", "d", false, "p", "r", body), Key("ab", "c", "d", false, "p", "r", body));
  EXPECT_NE(Key("t", "k", "d", false, "p", "r", body), Key("tk", "", "d", false, "p", "r", body));
}

// The fields are kept apart: moving bytes from one field to the next makes another key.
TEST(KeyTest, FieldBoundariesMatter) {
  const json::object body = Body(R"({"x": 1})");
  EXPECT_NE(Key("a", "", "bc", false, "p", "r", body), Key("ab", "", "c", false, "p", "r", body));
  EXPECT_NE(Key("t", "", "d", false, "a", "bc", body), Key("t", "", "d", false, "ab", "c", body));
  EXPECT_NE(Key("t", "", "d", false, "", "r", body), Key("t", "", "d", false, "r", "", body));
  EXPECT_NE(Key("t", "", "", false, "p", "r", body), Key("", "", "t", false, "p", "r", body));
}

// Regression: stream_options was ignored, yet include_usage decides whether a stream carries the
// usage chunk (a chunk with empty `choices`). A stream stored for a client that asked for usage
// was replayed to one that did not (and the other way round), so a client indexing choices[0]
// of every chunk broke on a hit, and one counting usage got none.
TEST(KeyTest, StreamOptionsChangeTheKey) {
  const std::string without =
      Key("acme", "", "openai", true, "default", "r0", Body(R"({"model": "m", "stream": true})"));
  const std::string with_usage =
      Key("acme", "", "openai", true, "default", "r0",
          Body(R"({"model": "m", "stream": true, "stream_options": {"include_usage": true}})"));
  EXPECT_NE(with_usage, without);
}

TEST(KeyTest, IsLowercaseHexSha256) {
  const std::string key = KeyOf(kBase);
  ASSERT_EQ(key.size(), 64u);
  for (const char c : key) {
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << key;
  }
}

// Scalars keep boost::json's spelling: 1 and 1.0 are different numbers to it, and so here.
TEST(KeyTest, NumbersAreKeptAsParsed) {
  EXPECT_NE(KeyOf(R"({"temperature": 1})"), KeyOf(R"({"temperature": 1.0})"));
  EXPECT_EQ(KeyOf(R"({"temperature": 1.0})"), KeyOf(R"({"temperature": 1.00})"));
  EXPECT_EQ(KeyOf(R"({"s": "\u00e9"})"), KeyOf(R"({"s": "é"})"));
}

TEST(KeyTest, EmptyBodyAndIgnoredOnlyBodyAreOneKey) {
  EXPECT_EQ(KeyOf("{}"), KeyOf(R"({"user": "u", "stream": true})"));
}

// Long strings go around the digest's buffer: still one key per content.
TEST(KeyTest, LongStrings) {
  const std::string long_text(10'000, 'x');
  json::object a;
  a["content"] = long_text;
  json::object b;
  b["content"] = long_text + "y";
  EXPECT_NE(Key("t", "", "d", false, "p", "r", a), Key("t", "", "d", false, "p", "r", b));
  EXPECT_EQ(Key("t", "", "d", false, "p", "r", a),
            Key("t", "", "d", false, "p", "r", json::object(a)));
}

// The format is pinned: a change to the hashed bytes must be deliberate (it empties every
// shared cache), and this value is then recomputed on purpose. It was checked outside C++ as
// SHA-256 of "v1", each of acme, openai as uint64-LE length + bytes, a 0 byte (no stream),
// default, r0 likewise, then
// {"logprobs":false,"messages":[{"content":"Hi","role":"user"}],"model":"m","n":1,"stop":null,"temperature":5E-1}
TEST(KeyTest, PinnedFormat) {
  EXPECT_EQ(Key("acme", "", "openai", false, "default", "r0",
                Body(R"({"model": "m", "messages": [{"role": "user", "content": "Hi"}],
                         "temperature": 0.5, "n": 1, "stop": null, "logprobs": false})")),
            "f5f0c4743a899ca3abf4c99c2d04fe57cd4726c04ba8e34ff54a8016f121965d");
}

// A key's scope: the same, with " scope:key" and the key id as uint64-LE length + bytes between
// "v1" and the tenant.
TEST(KeyTest, PinnedFormatOfAKeysScope) {
  EXPECT_EQ(Key("acme", "key_1", "openai", false, "default", "r0",
                Body(R"({"model": "m", "messages": [{"role": "user", "content": "Hi"}],
                         "temperature": 0.5, "n": 1, "stop": null, "logprobs": false})")),
            "ed2450c56d4bee0d7a2dbbae821f24c57cf71bb56d2731e371376b1b9c971fd6");
}

}  // namespace
}  // namespace sy::cache
