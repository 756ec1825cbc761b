#include "router/data.h"

#include <string>

#include <boost/json.hpp>

#include "core/text.h"

namespace sy::router {
namespace {

namespace json = boost::json;

core::Error LineError(size_t line, const std::string& what) {
  return core::MakeError(core::Errc::kInvalidRequest, "line " + std::to_string(line) + ": " + what);
}

const json::string* StringAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v == nullptr ? nullptr : v->if_string();
}

// The outcome of `model`, normalised to [0, 1] by the score type; "" when it is fine.
std::string ReadOutcome(const json::object& outcomes, std::string_view model,
                        std::string_view score_type, double& raw, double& normalized) {
  const json::value* v = outcomes.if_contains(model);
  if (v == nullptr || !v->is_number()) {
    return "outcomes has no number for \"" + std::string(model) + "\"";
  }
  raw = v->to_number<double>();
  if (score_type.starts_with("gpt4_judge_1to10")) {
    if (!(raw >= 1 && raw <= 10)) return "a 1-10 grade of " + core::ShortestText(raw);
    normalized = (raw - 1) / 9;
    return "";
  }
  if (!score_type.empty() && score_type != "correct_0_1") {
    return "unknown meta.score_type \"" + std::string(score_type) + "\"";
  }
  if (!(raw >= 0 && raw <= 1))
    return "an outcome of " + core::ShortestText(raw) + " outside [0, 1]";
  normalized = raw;
  return "";
}

core::Result<LabeledPrompt> ParseLine(std::string_view text, size_t line, std::string_view strong,
                                      std::string_view weak) {
  boost::system::error_code ec;
  const json::value doc = json::parse(text, ec);
  if (ec) return LineError(line, "not JSON (" + ec.message() + ")");
  const json::object* o = doc.if_object();
  if (o == nullptr) return LineError(line, "not a JSON object");
  LabeledPrompt p;
  for (auto [key, out] : {std::pair{"id", &p.id}, {"source", &p.source}, {"prompt", &p.prompt}}) {
    const json::string* s = StringAt(*o, key);
    if (s == nullptr) return LineError(line, std::string("no string \"") + key + "\"");
    *out = std::string(*s);
  }
  const json::value* outcomes = o->if_contains("outcomes");
  if (outcomes == nullptr || !outcomes->is_object())
    return LineError(line, "no object \"outcomes\"");
  std::string_view score_type;
  if (const json::value* meta = o->if_contains("meta"); meta != nullptr && meta->is_object()) {
    const json::object& m = meta->get_object();
    if (const json::string* s = StringAt(m, "score_type")) score_type = *s;
    if (const json::string* s = StringAt(m, "subject")) p.topic = std::string(*s);
    if (const json::string* s = StringAt(m, "category"); s != nullptr && p.topic.empty()) {
      p.topic = std::string(*s);
    }
    if (const json::value* c = m.if_contains("contaminated"); c != nullptr && c->is_bool()) {
      p.contaminated = c->get_bool();
    }
  }
  for (auto [model, raw, normalized] :
       {std::tuple{strong, &p.strong, &p.strong_normalized}, {weak, &p.weak, &p.weak_normalized}}) {
    const std::string bad =
        ReadOutcome(outcomes->get_object(), model, score_type, *raw, *normalized);
    if (!bad.empty()) return LineError(line, bad);
  }
  return p;
}

}  // namespace

core::Result<std::vector<LabeledPrompt>> ParseRoutingData(std::string_view jsonl,
                                                          std::string_view strong,
                                                          std::string_view weak) {
  std::vector<LabeledPrompt> out;
  size_t line = 0;
  while (!jsonl.empty()) {
    ++line;
    const size_t end = jsonl.find('\n');
    std::string_view text = jsonl.substr(0, end);
    jsonl.remove_prefix(end == std::string_view::npos ? jsonl.size() : end + 1);
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto p = ParseLine(text, line, strong, weak);
    if (!p) return std::move(p).error();
    out.push_back(std::move(*p));
  }
  return out;
}

}  // namespace sy::router
