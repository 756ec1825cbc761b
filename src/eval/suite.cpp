#include "eval/suite.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include <boost/json/parse.hpp>

#include "core/file.h"
#include "core/text.h"
#include "eval/check.h"

namespace sy::eval {
namespace {

namespace json = boost::json;

constexpr size_t kMaxIdBytes = 128;
constexpr size_t kMaxTaskTypeBytes = 64;

// Reads one line's item; errors are plain reasons, the caller adds "<name>:<line>: ".
class ItemReader {
 public:
  explicit ItemReader(const json::object& o) : o_(o) {}

  core::Result<SuiteItem> Read() {
    static constexpr std::string_view kKeys[] = {
        "id", "task_type", "messages", "response_format", "checker", "answer", "wrong", "factual"};
    if (auto ok = KnownKeys(o_, kKeys, ""); !ok) return ok.error();
    SuiteItem item;
    if (auto ok = ReadString("id", kMaxIdBytes, true, item.id); !ok) return ok.error();
    if (auto ok = ReadString("task_type", kMaxTaskTypeBytes, true, item.task_type); !ok)
      return ok.error();
    const json::value* messages = o_.if_contains("messages");
    if (!messages || !messages->is_array() || messages->as_array().empty()) {
      return Fail("\"messages\" must be a non-empty array");
    }
    item.messages = messages->as_array();
    if (ItemKey(item.messages).empty()) return Fail("\"messages\" has no user message with text");
    if (const json::value* rf = o_.if_contains("response_format")) {
      if (!rf->is_object()) return Fail("\"response_format\" must be an object");
      item.response_format = *rf;
    }
    item.factual = item.task_type == "factual";
    if (const json::value* f = o_.if_contains("factual")) {
      if (!f->is_bool()) return Fail("\"factual\" must be true or false");
      item.factual = f->as_bool();
    }
    const json::value* checker = o_.if_contains("checker");
    if (!checker || !checker->is_object()) return Fail("\"checker\" must be an object");
    auto parsed = ReadChecker(checker->as_object());
    if (!parsed) return parsed.error();
    item.checker = std::move(*parsed);
    if (auto ok = ReadString("answer", kMaxLineBytes, false, item.answer); !ok) return ok.error();
    if (auto ok = ReadString("wrong", kMaxLineBytes, false, item.wrong); !ok) return ok.error();
    if (auto ok = SelfCheck(item); !ok) return ok.error();
    return item;
  }

 private:
  static core::Error Fail(std::string why) {
    return core::MakeError(core::Errc::kInvalidRequest, std::move(why));
  }

  core::Status ReadString(const char* key, size_t max_bytes, bool required,
                          std::string& out) const {
    const json::value* v = o_.if_contains(key);
    if (!v) {
      if (required) return Fail(std::string("\"") + key + "\" is required");
      return {};
    }
    if (!v->is_string() || (required && v->as_string().empty())) {
      return Fail(std::string("\"") + key + "\" must be a non-empty string");
    }
    if (v->as_string().size() > max_bytes) {
      return Fail(std::string("\"") + key + "\" is longer than " + std::to_string(max_bytes) +
                  " bytes");
    }
    out = v->as_string();
    return {};
  }

  // A typo ("cheker", "tolerence") is an error, not a key silently ignored.
  template <size_t N>
  static core::Status KnownKeys(const json::object& o, const std::string_view (&known)[N],
                                std::string_view where) {
    for (const auto& [key, value] : o) {
      if (std::find(std::begin(known), std::end(known), key) == std::end(known)) {
        return Fail(std::string(where) + "unknown key \"" + core::ClipForEcho(key, 40) + "\"");
      }
    }
    return {};
  }

  static core::Result<double> Number(const json::object& c, const char* key) {
    const json::value* v = c.if_contains(key);
    if (!v || !v->is_number()) {
      return Fail(std::string("checker: \"") + key + "\" must be a number");
    }
    return v->to_number<double>();
  }

  static core::Result<std::string> Text(const json::object& c, const char* key) {
    const json::value* v = c.if_contains(key);
    if (!v || !v->is_string() || v->as_string().empty()) {
      return Fail(std::string("checker: \"") + key + "\" must be a non-empty string");
    }
    return std::string(v->as_string());
  }

  static core::Result<Checker> ReadChecker(const json::object& c) {
    static constexpr std::string_view kKeys[] = {"type",      "value",  "pattern",
                                                 "tolerance", "schema", "ignore_case"};
    if (auto ok = KnownKeys(c, kKeys, "checker: "); !ok) return ok.error();
    const json::value* type = c.if_contains("type");
    std::string_view name;
    if (type && type->is_string()) name = type->as_string();
    Checker out;
    if (const json::value* ic = c.if_contains("ignore_case")) {
      if (!ic->is_bool()) return Fail("checker: \"ignore_case\" must be true or false");
      out.ignore_case = ic->as_bool();
    }
    if (name == "exact" || name == "contains") {
      out.kind = name == "exact" ? CheckKind::kExact : CheckKind::kContains;
      auto v = Text(c, "value");
      if (!v) return v.error();
      out.text = std::move(*v);
    } else if (name == "regex") {
      out.kind = CheckKind::kRegex;
      auto v = Text(c, "pattern");
      if (!v) return v.error();
      out.text = std::move(*v);
      auto compiled = verify::RegexCheck(out.ignore_case ? "(?i)" + out.text : out.text);
      if (!compiled) return Fail("checker: bad pattern: " + compiled.error().message);
      out.regex = std::move(*compiled);
    } else if (name == "numeric-within") {
      out.kind = CheckKind::kNumericWithin;
      auto value = Number(c, "value");
      if (!value) return value.error();
      auto tolerance = c.contains("tolerance") ? Number(c, "tolerance") : core::Result<double>(0.0);
      if (!tolerance) return tolerance.error();
      if (*tolerance < 0) return Fail("checker: \"tolerance\" must not be negative");
      out.value = *value;
      out.tolerance = *tolerance;
    } else if (name == "json-schema") {
      out.kind = CheckKind::kJsonSchema;
      const json::value* schema = c.if_contains("schema");
      if (!schema) return Fail("checker: \"schema\" is required");
      auto compiled = verify::CompileSchema(*schema, "checker.schema");
      if (!compiled) return compiled.error();
      out.schema = std::move(*compiled);
    } else if (name == "must-refuse") {
      out.kind = CheckKind::kMustRefuse;
    } else {
      return Fail(
          "checker: \"type\" must be exact, contains, regex, numeric-within, json-schema "
          "or must-refuse, not \"" +
          core::ClipForEcho(name, 40) + "\"");
    }
    return out;
  }

  static core::Status SelfCheck(const SuiteItem& item) {
    if (item.answer.empty()) {
      if (!item.wrong.empty()) return Fail("\"wrong\" needs an \"answer\"");
      return {};
    }
    if (auto why = CheckText(item.checker, item.answer)) {
      return Fail("\"answer\" fails its own checker: " + *why);
    }
    if (!CheckText(item.checker, WrongAnswer(item))) {
      return Fail(item.wrong.empty() ? "the derived wrong answer passes the checker: give \"wrong\""
                                     : "\"wrong\" passes the checker");
    }
    return {};
  }

  const json::object& o_;
};

std::string TextOf(const json::value& content) {
  if (content.is_string()) return std::string(content.as_string());
  std::string text;
  if (!content.is_array()) return text;
  for (const auto& part : content.as_array()) {
    if (!part.is_object()) continue;
    const json::value* type = part.as_object().if_contains("type");
    const json::value* t = part.as_object().if_contains("text");
    if (!type || !type->is_string() || type->as_string() != "text" || !t || !t->is_string()) {
      continue;
    }
    if (!text.empty()) text += '\n';
    text += t->as_string();
  }
  return text;
}

}  // namespace

std::string ItemKey(const json::array& messages) {
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (!it->is_object()) continue;
    const json::object& m = it->as_object();
    const json::value* role = m.if_contains("role");
    const json::value* content = m.if_contains("content");
    if (role && role->is_string() && role->as_string() == "user" && content) {
      return TextOf(*content);
    }
  }
  return {};
}

std::string WrongAnswer(const SuiteItem& item) {
  if (!item.wrong.empty()) return item.wrong;
  if (item.checker.kind == CheckKind::kMustRefuse) {
    return "Sure. Here is an outline of how to do it, step by step.";
  }
  const auto number = FindLastNumber(item.answer);
  if (!number) {
    return "I am not certain, but I think the answer depends on details not given here.";
  }
  // Off by about a tenth, kept to the original's decimals: plausible, and outside any sane
  // tolerance (the suite check rejects a derived answer that would still pass).
  const auto [pos, len, value] = *number;
  const size_t dot = std::string_view(item.answer).substr(pos, len).find('.');
  const int decimals = dot == std::string_view::npos ? 0 : static_cast<int>(len - dot - 1);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, std::fabs(value) * 1.1 + 1);
  return item.answer.substr(0, pos) + buf + item.answer.substr(pos + len);
}

core::Result<Suite> ParseSuite(std::string_view jsonl, std::string_view name) {
  Suite suite;
  std::set<std::string, std::less<>> ids;
  std::set<std::string, std::less<>> keys;
  size_t line_no = 0;
  while (!jsonl.empty()) {
    ++line_no;
    const size_t nl = jsonl.find('\n');
    std::string_view line = jsonl.substr(0, nl);
    jsonl.remove_prefix(nl == std::string_view::npos ? jsonl.size() : nl + 1);
    const auto fail = [&](std::string why) {
      return core::MakeError(core::Errc::kInvalidRequest,
                             std::string(name) + ":" + std::to_string(line_no) + ": " + why);
    };
    if (line.size() > kMaxLineBytes) {
      return fail("longer than " + std::to_string(kMaxLineBytes) + " bytes");
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) return fail("not a JSON object");
    auto item = ItemReader(v.as_object()).Read();
    if (!item) return fail(item.error().message);
    if (!ids.insert(item->id).second) return fail("duplicate id \"" + item->id + "\"");
    if (!keys.insert(ItemKey(item->messages)).second) {
      return fail("its last user message repeats an earlier item's");
    }
    if (suite.items.size() == kMaxItems) {
      return fail("more than " + std::to_string(kMaxItems) + " items");
    }
    suite.items.push_back(std::move(*item));
  }
  if (suite.items.empty()) {
    return core::MakeError(core::Errc::kInvalidRequest, std::string(name) + ": no items");
  }
  return suite;
}

core::Result<Suite> LoadSuiteFile(const std::string& path) {
  // A suite this large is a mistake; the per-line bound alone would allow gigabytes.
  constexpr uint64_t kMaxFileBytes = 64 << 20;
  auto text = core::ReadRegularFile(path, kMaxFileBytes, "suite");
  if (!text) return std::move(text).error();
  return ParseSuite(*text, path);
}

}  // namespace sy::eval
