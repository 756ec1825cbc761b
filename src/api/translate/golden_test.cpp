// Golden tests: hand-written wire captures (from the vendors' API references) in
// tests/fixtures/translate/<case>/, one folder per case:
//   case.json        {"from": "openai"|"anthropic"|"responses", "to": ..., "created": <unix s>,
//                     and optionally "input_tokens_estimate", "response_id",
//                     "previous_response_id", "client_request" (the Responses request an answer
//                     echoes), "native_structured_output" (false: the target model lacks it)}
//   request.json  -> expected.json (the translated body) or expected_error.json
//                    ({"param": ..., "message_contains": [...]})
//   upstream.json -> expected.json (the client's body)
//   upstream.sse  -> expected.sse (the client's events)
// Events and bodies are compared as parsed JSON (key order and whitespace do not matter). The
// usage the provider adapter would parse is read here, in a few lines, from the fixture's own
// usage blocks: the golden tests do not depend on providers/.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "api/translate/translate.h"

namespace sy::api::translate {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

fs::path CasesDir() { return fs::path(SY_FIXTURES_DIR) / "translate"; }

std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json::value ParseOrFail(std::string_view text, const std::string& what) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  EXPECT_FALSE(ec) << what << " is not valid JSON: " << text;
  return v;
}

json::value ReadJson(const fs::path& path) {
  auto text = ReadFile(path);
  EXPECT_TRUE(text.has_value()) << "cannot read " << path;
  return text ? ParseOrFail(*text, path.string()) : json::value();
}

core::Dialect DialectOf(const json::value& manifest, std::string_view key) {
  const auto* obj = manifest.if_object();
  const auto* v = obj ? obj->if_contains(key) : nullptr;
  const std::string_view name = v && v->is_string() ? std::string_view(v->get_string()) : "";
  for (auto d : {core::Dialect::kOpenAiChat, core::Dialect::kAnthropicMessages,
                 core::Dialect::kOpenAiResponses}) {
    if (core::DialectName(d) == name) return d;
  }
  ADD_FAILURE() << "case.json needs \"" << key << "\": \"openai\", \"anthropic\" or \"responses\"";
  return core::Dialect::kOpenAiChat;
}

int64_t Int(const json::value& v, std::string_view pointer) {
  boost::system::error_code ec;
  const auto* found = v.find_pointer(pointer, ec);
  return found && found->is_int64() ? found->get_int64() : 0;
}

// --- SSE, as a provider's reader would see it (kept here: api must not link http) ---------

struct SseEvent {
  std::string name;
  std::string data;
};

std::vector<SseEvent> ParseSse(std::string_view text) {
  std::vector<SseEvent> events;
  SseEvent current;
  bool has_data = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) break;  // an unterminated last line is incomplete
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (has_data) events.push_back(current);
      current = {};
      has_data = false;
      continue;
    }
    if (line.front() == ':') continue;  // comment
    const size_t colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "event") {
      current.name = std::string(value);
    } else if (field == "data") {
      if (has_data) current.data += '\n';
      current.data += value;
      has_data = true;
    }
  }
  return events;  // an event not closed by a blank line never arrived (SSE dispatch rule)
}

// --- The usage a provider adapter would parse from the upstream's own usage blocks ----------

core::Usage OpenAiUsage(const json::value& usage) {
  core::Usage u;
  u.input_tokens = Int(usage, "/prompt_tokens");
  u.cached_input_tokens = Int(usage, "/prompt_tokens_details/cached_tokens");
  u.output_tokens = Int(usage, "/completion_tokens");
  u.reasoning_tokens = Int(usage, "/completion_tokens_details/reasoning_tokens");
  u.reported = true;
  return u;
}

// Anthropic's input_tokens excludes cache reads and writes; core::Usage includes them.
core::Usage AnthropicUsage(const json::value& input_usage, const json::value& output_usage) {
  core::Usage u;
  u.cache_write_input_tokens = Int(input_usage, "/cache_creation_input_tokens");
  u.cached_input_tokens = Int(input_usage, "/cache_read_input_tokens");
  u.input_tokens =
      Int(input_usage, "/input_tokens") + u.cache_write_input_tokens + u.cached_input_tokens;
  u.output_tokens = Int(output_usage, "/output_tokens");
  u.reported = true;
  return u;
}

// Responses: input_tokens includes the cached ones, as core::Usage does.
core::Usage ResponsesUsage(const json::value& usage) {
  core::Usage u;
  u.input_tokens = Int(usage, "/input_tokens");
  u.cached_input_tokens = Int(usage, "/input_tokens_details/cached_tokens");
  u.output_tokens = Int(usage, "/output_tokens");
  u.reasoning_tokens = Int(usage, "/output_tokens_details/reasoning_tokens");
  u.reported = true;
  return u;
}

core::Usage UsageOfBody(core::Dialect dialect, const json::value& body) {
  boost::system::error_code ec;
  const auto* usage = body.find_pointer("/usage", ec);
  if (!usage) return {};
  if (dialect == core::Dialect::kOpenAiResponses) return ResponsesUsage(*usage);
  return dialect == core::Dialect::kOpenAiChat ? OpenAiUsage(*usage)
                                               : AnthropicUsage(*usage, *usage);
}

// The upstream events as the provider would hand them over, usage set on the usage-bearing one.
std::vector<core::StreamEvent> UpstreamEvents(core::Dialect dialect,
                                              const std::vector<SseEvent>& sse) {
  std::vector<core::StreamEvent> events;
  json::value input_usage;  // Anthropic: message_start's, merged into message_delta's
  for (const auto& e : sse) {
    core::StreamEvent event;
    event.event = e.name;
    event.data = e.data;
    if (e.data == "[DONE]") {
      event.terminal = true;
      events.push_back(std::move(event));
      continue;
    }
    event.SetJson(ParseOrFail(e.data, "upstream event"));
    boost::system::error_code ec;
    if (dialect == core::Dialect::kOpenAiChat) {
      const auto* usage = event.Json().find_pointer("/usage", ec);
      if (usage && usage->is_object()) event.usage = OpenAiUsage(*usage);
    } else if (dialect == core::Dialect::kOpenAiResponses) {
      // The terminal event carries the whole Response, usage included.
      if (e.name == "response.completed" || e.name == "response.incomplete") {
        const auto* usage = event.Json().find_pointer("/response/usage", ec);
        if (usage && usage->is_object()) event.usage = ResponsesUsage(*usage);
        event.terminal = true;
      }
    } else if (e.name == "message_start") {
      if (const auto* usage = event.Json().find_pointer("/message/usage", ec)) input_usage = *usage;
    } else if (e.name == "message_delta") {
      if (const auto* usage = event.Json().find_pointer("/usage", ec)) {
        event.usage = AnthropicUsage(input_usage, *usage);
      }
    } else if (e.name == "message_stop") {
      event.terminal = true;
    }
    events.push_back(std::move(event));
  }
  return events;
}

bool IsTerminal(const SseEvent& e) {
  return e.data == "[DONE]" || e.name == "message_stop" || e.name == "response.completed" ||
         e.name == "response.incomplete" || e.name == "response.failed";
}

// --- The runner ------------------------------------------------------------------------------

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(CasesDir(), ec)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class Golden : public ::testing::TestWithParam<std::string> {
 protected:
  fs::path dir() const { return CasesDir() / GetParam(); }

  void RunRequest(core::Dialect from, core::Dialect to, const TargetModel& target) {
    const auto request = ReadJson(dir() / "request.json");
    ASSERT_TRUE(request.is_object());
    auto out = TranslateRequest(from, to, request.get_object(), {}, target);
    if (fs::exists(dir() / "expected_error.json")) {
      ASSERT_FALSE(out.has_value()) << json::serialize(*out);
      const auto expected = ReadJson(dir() / "expected_error.json");
      EXPECT_EQ(out.error().code, core::Errc::kInvalidRequest);
      EXPECT_EQ(json::value(out.error().param), expected.at("param"));
      for (const auto& part : expected.at("message_contains").as_array()) {
        EXPECT_NE(out.error().message.find(part.as_string().c_str()), std::string::npos)
            << out.error().message << "\n lacks: " << part;
      }
      return;
    }
    ASSERT_TRUE(out.has_value()) << out.error().param << ": " << out.error().message;
    EXPECT_EQ(json::value(*out), ReadJson(dir() / "expected.json"))
        << "got: " << json::serialize(*out);
  }

  void RunResponse(core::Dialect from, core::Dialect to, const Context& ctx) {
    const auto upstream = ReadJson(dir() / "upstream.json");
    auto out = TranslateResponse(from, to, upstream, UsageOfBody(from, upstream), ctx);
    ASSERT_TRUE(out.has_value()) << out.error().message;
    EXPECT_EQ(ParseOrFail(*out, "output"), ReadJson(dir() / "expected.json")) << "got: " << *out;
  }

  void RunStream(core::Dialect from, core::Dialect to, const Context& ctx) {
    const auto upstream_text = ReadFile(dir() / "upstream.sse");
    const auto expected_text = ReadFile(dir() / "expected.sse");
    ASSERT_TRUE(upstream_text && expected_text);
    const auto upstream = UpstreamEvents(from, ParseSse(*upstream_text));
    const auto expected = ParseSse(*expected_text);
    ASSERT_FALSE(upstream.empty());
    const bool upstream_usage =
        std::any_of(upstream.begin(), upstream.end(), [](const auto& e) { return e.usage; });
    auto translator = MakeStreamTranslator(from, to, ctx);
    std::vector<core::StreamEvent> out;
    for (const auto& event : upstream) {
      auto s = translator->Feed(event, out);
      ASSERT_TRUE(s.has_value()) << event.data << ": " << s.error().message;
    }
    for (size_t i = 0; i < std::max(out.size(), expected.size()); ++i) {
      SCOPED_TRACE("event " + std::to_string(i));
      ASSERT_LT(i, out.size()) << "missing: " << expected[i].name << " " << expected[i].data;
      ASSERT_LT(i, expected.size()) << "unexpected: " << out[i].event << " " << out[i].data;
      EXPECT_EQ(out[i].event, expected[i].name);
      if (expected[i].data == "[DONE]") {
        EXPECT_EQ(out[i].data, "[DONE]");
        EXPECT_TRUE(out[i].Json().is_null());
      } else {
        const auto want = ParseOrFail(expected[i].data, "expected event");
        EXPECT_EQ(out[i].Json(), want) << "got: " << out[i].data;
        EXPECT_EQ(ParseOrFail(out[i].data, "output data"), out[i].Json());
      }
      EXPECT_EQ(out[i].terminal, IsTerminal(expected[i]));
      // The billed usage rides on the client event that shows usage, and on no other.
      // (Responses: the final event's response.usage.)
      boost::system::error_code ec;
      const auto* nested = out[i].Json().find_pointer("/response/usage", ec);
      const bool shows_usage =
          (out[i].Json().is_object() && out[i].Json().get_object().contains("usage")) ||
          (nested && nested->is_object());
      EXPECT_EQ(out[i].usage.has_value(), upstream_usage && shows_usage);
    }
  }
};

TEST_P(Golden, Case) {
  const auto manifest = ReadJson(dir() / "case.json");
  const auto from = DialectOf(manifest, "from");
  const auto to = DialectOf(manifest, "to");
  ASSERT_NE(from, to) << "a translation case needs two dialects";
  Context ctx;
  TargetModel target;
  boost::system::error_code ec;
  const auto int_at = [&](std::string_view pointer) -> int64_t {
    const auto* v = manifest.find_pointer(pointer, ec);
    return v && v->is_int64() ? v->get_int64() : 0;
  };
  const auto string_at = [&](std::string_view pointer) -> std::string {
    const auto* v = manifest.find_pointer(pointer, ec);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  ctx.created_unix_s = int_at("/created");
  ctx.input_tokens_estimate = int_at("/input_tokens_estimate");
  ctx.response_id = string_at("/response_id");
  ctx.previous_response_id = string_at("/previous_response_id");
  // A Responses answer echoes the client's request: the case gives it as "client_request".
  if (const auto* request = manifest.find_pointer("/client_request", ec)) {
    ctx.responses_request = request->if_object();
  }
  if (const auto* native = manifest.find_pointer("/native_structured_output", ec)) {
    target.native_structured_output = native->is_bool() && native->get_bool();
  }
  if (fs::exists(dir() / "request.json")) {
    RunRequest(from, to, target);
  } else if (fs::exists(dir() / "upstream.json")) {
    RunResponse(from, to, ctx);
  } else if (fs::exists(dir() / "upstream.sse")) {
    RunStream(from, to, ctx);
  } else {
    FAIL() << "no request.Json(), upstream.Json() or upstream.sse in " << dir();
  }
}

INSTANTIATE_TEST_SUITE_P(Translate, Golden, ::testing::ValuesIn(CaseNames()),
                         [](const auto& test_case) { return test_case.param; });

// Guards the runner itself: a missing or moved fixture folder must not pass as zero cases.
TEST(GoldenFixtures, AllCasesArePresent) { EXPECT_GE(CaseNames().size(), 56u) << CasesDir(); }

TEST(GoldenFixtures, SseParserFollowsTheDispatchRules) {
  const auto events = ParseSse(
      "event: a\ndata: {\"x\":1}\n\n: comment\ndata: [DONE]\r\n\r\nevent: cut\ndata: {}\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].name, "a");
  EXPECT_EQ(events[0].data, "{\"x\":1}");
  EXPECT_EQ(events[1].name, "");
  EXPECT_EQ(events[1].data, "[DONE]");
}

}  // namespace
}  // namespace sy::api::translate
