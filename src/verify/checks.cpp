#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include <boost/json.hpp>
#include <boost/regex.hpp>

#include "core/json_depth.h"
#include "core/text.h"
#include "verify/grounded.h"
#include "verify/verify.h"

namespace sy::verify {
namespace {

namespace json = boost::json;

constexpr std::array<std::pair<CheckKind, std::string_view>, 7> kNames = {{
    {CheckKind::kJson, "json"},
    {CheckKind::kJsonSchema, "json_schema"},
    {CheckKind::kNonEmpty, "non_empty"},
    {CheckKind::kNoRefusal, "no_refusal"},
    {CheckKind::kRegex, "regex"},
    {CheckKind::kToolCall, "tool_call"},
    {CheckKind::kGrounded, "grounded"},
}};

constexpr size_t kRefusalWindowBytes = 300;

// Parses JSON text strictly, as deep as Options::max_json_depth allows an answer to nest;
// nullopt and `why` on failure.
std::optional<json::value> ParseJson(std::string_view text, const Options& options,
                                     std::string& why) {
  boost::system::error_code ec;
  json::value v =
      json::parse(core::TrimSpace(text), ec, {}, core::EchoParseOptions(options.max_json_depth));
  if (ec) {
    why = "not JSON: " + ec.message();
    return std::nullopt;
  }
  return v;
}

std::optional<std::string> CheckJson(const Output& out, const Options& options) {
  if (out.truncated) return "answer truncated";
  std::string why;
  if (!ParseJson(out.text, options, why)) return why;
  return std::nullopt;
}

std::optional<std::string> ValidateText(const CompiledSchema& schema, std::string_view text,
                                        const Options& options) {
  std::string why;
  const auto v = ParseJson(text, options, why);
  if (!v) return why;
  return Validate(schema, *v);
}

const Tool* FindTool(const Spec& spec, std::string_view name) {
  for (const auto& t : spec.tools) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::optional<std::string> CheckJsonSchema(const Spec& spec, const Output& out,
                                           const Options& options) {
  if (out.truncated) return "answer truncated";
  if (spec.answer_schema) return ValidateText(*spec.answer_schema, out.text, options);
  if (spec.forced_tool.empty()) return std::nullopt;  // no schema: not applicable
  const Tool* tool = FindTool(spec, spec.forced_tool);
  if (!tool || !tool->schema) return std::nullopt;
  for (const auto& call : out.tool_calls) {
    if (call.name == spec.forced_tool) {
      return ValidateText(*tool->schema, call.arguments, options);
    }
  }
  return "no call to the forced tool \"" + core::ClipForEcho(spec.forced_tool, 64) + "\"";
}

bool NonEmpty(const Output& out) {
  return !out.tool_calls.empty() || !core::TrimSpace(out.text).empty();
}

std::string LowerAscii(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.substr(i, 3) == "\xE2\x80\x99") {  // U+2019 right single quotation mark
      out += '\'';
      i += 2;
    } else {
      const char c = s[i];
      out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
  }
  return out;
}

std::optional<std::string> CheckNoRefusal(const Output& out, const Options& options) {
  if (!out.refusal.empty()) return "refused: " + core::ClipForEcho(out.refusal, 120);
  if (out.stop == Stop::kRefusal) return "the model stopped with a refusal";
  if (out.stop == Stop::kContentFilter) return "the content filter stopped the answer";
  const std::string head = LowerAscii(core::ClipForEcho(out.text, kRefusalWindowBytes));
  for (const auto& phrase : options.refusal_phrases) {
    if (!phrase.empty() && head.find(LowerAscii(phrase)) != std::string::npos) {
      return "refusal phrase \"" + phrase + "\"";
    }
  }
  return std::nullopt;
}

std::optional<std::string> CheckRegex(const Check& check, const Output& out) {
  if (!check.regex) return "no compiled pattern";
  try {
    if (boost::regex_search(out.text, *check.regex)) return std::nullopt;
    return "no match for /" + core::ClipForEcho(check.pattern, 80) + "/";
  } catch (const std::exception& e) {
    return std::string("pattern too complex for this answer: ") + e.what();
  }
}

std::optional<std::string> CheckToolCall(const Spec& spec, const Output& out,
                                         const Options& options) {
  if (spec.tool_required && out.tool_calls.empty()) return "no tool call, but one was required";
  for (const auto& call : out.tool_calls) {
    const std::string name = core::ClipForEcho(call.name, 64);
    if (!spec.forced_tool.empty() && call.name != spec.forced_tool) {
      return "called \"" + name + "\", not the forced tool";
    }
    const Tool* tool = FindTool(spec, call.name);
    if (!tool) return "called \"" + name + "\", which was not offered";
    std::string why;
    const auto args = ParseJson(call.arguments, options, why);
    if (!args) return name + ": arguments " + why;
    if (tool->schema) {
      if (auto error = Validate(*tool->schema, *args)) return name + ": " + *error;
    }
  }
  return std::nullopt;
}

std::optional<std::string> CheckGroundedOutput(const Check& check, const Spec& spec,
                                               const Output& out) {
  const auto r = CheckGrounded(spec.context, out.text);
  if (r.support() >= check.min_support) return std::nullopt;
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "support %.2f < %.2f", r.support(), check.min_support);
  std::string why = buf.data();
  why += "; not in the context: ";
  for (size_t i = 0; i < r.missing.size(); ++i) why += (i ? ", " : "") + r.missing[i];
  return why;
}

std::optional<std::string> RunOne(const Check& check, const Spec& spec, const Output& out,
                                  const Options& options) {
  switch (check.kind) {
    case CheckKind::kJson:
      return CheckJson(out, options);
    case CheckKind::kJsonSchema:
      return CheckJsonSchema(spec, out, options);
    case CheckKind::kNonEmpty:
      if (NonEmpty(out)) return std::nullopt;
      return std::string("empty answer");
    case CheckKind::kNoRefusal:
      return CheckNoRefusal(out, options);
    case CheckKind::kRegex:
      return CheckRegex(check, out);
    case CheckKind::kToolCall:
      return CheckToolCall(spec, out, options);
    case CheckKind::kGrounded:
      return CheckGroundedOutput(check, spec, out);
  }
  return std::nullopt;
}

core::Error HeaderError(std::string message) {
  return core::InvalidParam("x-switchyard-verify", std::move(message));
}

}  // namespace

std::string_view CheckName(CheckKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<CheckKind> ParseCheckName(std::string_view name) {
  for (const auto& [k, n] : kNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

core::Result<Check> RegexCheck(std::string_view pattern) {
  Check check;
  check.kind = CheckKind::kRegex;
  check.pattern = std::string(pattern);
  try {
    check.regex = std::make_shared<const boost::regex>(check.pattern);
  } catch (const std::exception& e) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           "invalid regex /" + core::ClipForEcho(pattern, 80) + "/: " + e.what());
  }
  return check;
}

core::Result<std::vector<Check>> ParseCheckList(std::string_view header) {
  if (header.size() > kMaxCheckListBytes) {
    return HeaderError("x-switchyard-verify is longer than " + std::to_string(kMaxCheckListBytes) +
                       " bytes");
  }
  std::vector<Check> out;
  size_t names = 0;
  while (!header.empty()) {
    const auto comma = header.find(',');
    const std::string_view name = core::TrimSpace(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    if (name.empty()) continue;
    if (++names > kMaxCheckListNames) {
      return HeaderError("x-switchyard-verify names more than " +
                         std::to_string(kMaxCheckListNames) + " checks");
    }
    const auto kind = ParseCheckName(name);
    if (!kind) {
      std::string known;
      for (const auto& [k, n] : kNames) {
        if (k != CheckKind::kRegex) known += (known.empty() ? "" : ", ") + std::string(n);
      }
      return HeaderError("unknown verification check \"" + core::ClipForEcho(name, 64) +
                         "\" in x-switchyard-verify; known: " + known);
    }
    if (*kind == CheckKind::kRegex) {
      return HeaderError("the regex check needs a pattern, so only the config can ask for it");
    }
    const bool seen =
        std::any_of(out.begin(), out.end(), [&](const Check& c) { return c.kind == *kind; });
    if (!seen) out.push_back(Check{*kind, "", nullptr, kDefaultMinSupport});
  }
  return out;
}

std::vector<std::string> DefaultRefusalPhrases() {
  return {"i can't help with",    "i cannot help with",   "i'm sorry, but i can",
          "i am unable to",       "i'm unable to",        "as an ai language model",
          "i can't assist with",  "i cannot assist with", "i won't be able to help",
          "i'm not able to help", "i cannot provide",     "i can't provide"};
}

Verdict Run(const std::vector<Check>& checks, const Spec& spec, const Output& output,
            const Options& options) {
  Verdict v;
  for (const auto& check : checks) {
    v.ran.push_back(check.kind);
    if (auto why = RunOne(check, spec, output, options)) {
      v.passed = false;
      v.failed = check.kind;
      v.reason =
          core::ClipForEcho(std::string(CheckName(check.kind)) + ": " + *why, kMaxReasonBytes);
      break;
    }
  }
  return v;
}

}  // namespace sy::verify
