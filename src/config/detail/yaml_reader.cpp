#include "config/detail/yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <limits>
#include <sstream>
#include <utility>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

namespace sy::config::detail {
namespace {

bool IsNameStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

bool Absent(const YAML::Node& node) { return !node.IsDefined() || node.IsNull(); }

// The parser's events over a stream, keeping the first construct a config may not use.
class RefusedConstructs final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1) {
      Refuse(mark,
             "a second YAML document (after \"---\"): the file must hold one document, so "
             "nothing in it is silently ignored");
    }
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { Anchored(mark, anchor); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t /*anchor*/) override {
    Refuse(mark, "aliases (*name) are not supported; write the value out");
  }
  void OnScalar(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                const std::string& /*value*/) override {
    Anchored(mark, anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    Anchored(mark, anchor);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    Anchored(mark, anchor);
  }
  void OnMapEnd() override {}

  // The first refusal, as "<line>:<column>: <what>".
  const std::optional<std::string>& refused() const { return refused_; }

 private:
  void Anchored(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) {
      Refuse(mark, "anchors (&name) are not supported; write the value out");
    }
  }
  void Refuse(const YAML::Mark& mark, std::string_view what) {
    if (refused_) return;
    refused_ = std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": " +
               std::string(what);
  }

  int documents_ = 0;
  std::optional<std::string> refused_;
};

// Prefixes a core parser's message with the path.
core::Error AtPath(std::string_view path, const core::Error& inner) {
  return PathError(path, inner.message);
}

}  // namespace

std::string JoinPath(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

std::string IndexPath(std::string_view parent, size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

core::Error PathError(std::string_view path, std::string_view what) {
  return core::InvalidParam(std::string(path), std::string(path) + ": " + std::string(what));
}

std::string Quote(std::string_view text) {
  constexpr size_t kMaxShown = 60;
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : text[i]);
  }
  if (text.size() > kMaxShown) out += "...";
  return out + "\"";
}

// yaml-cpp reports syntax errors by exception; marks are 0-based.
core::Error SyntaxError(std::string_view source, const YAML::Exception& e) {
  std::string message(source);
  if (!e.mark.is_null()) {
    message += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
  }
  return core::MakeError(core::Errc::kInvalidRequest, message + ": " + e.msg);
}

core::Result<YAML::Node> LoadDocument(std::string_view yaml, std::string_view source) {
  const std::string text(yaml);
  try {
    // A first pass over the parser's events, which never builds the tree: the check must not
    // depend on what it guards against.
    std::istringstream in(text);
    YAML::Parser parser(in);
    RefusedConstructs events;
    while (!events.refused() && parser.HandleNextDocument(events)) {
    }
    if (const auto& refused = events.refused()) {
      return core::MakeError(core::Errc::kInvalidRequest, std::string(source) + ":" + *refused);
    }
    return YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message for it is "bad file".
    YAML::Exception named(e.mark, "nested too deeply (more than 2000 levels)");
    return SyntaxError(source, named);
  } catch (const YAML::Exception& e) {
    return SyntaxError(source, e);
  } catch (const std::exception& e) {
    return core::MakeError(core::Errc::kInvalidRequest, std::string(source) + ": " + e.what());
  }
}

core::Result<std::string> SubstituteEnv(std::string_view text, std::string_view path,
                                        EnvLookup env) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$' || i + 1 >= text.size() || (text[i + 1] != '{' && text[i + 1] != '$')) {
      out.push_back(text[i++]);
      continue;
    }
    if (text[i + 1] == '$') {
      out.push_back('$');
      i += 2;
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos)
      return PathError(path, "unterminated ${ in " + Quote(text));
    const std::string_view name = text.substr(i + 2, close - i - 2);
    if (name.empty() || !IsNameStart(name.front()) ||
        !std::all_of(name.begin(), name.end(), IsNameChar)) {
      return PathError(path, "invalid variable name " + Quote(name) + " in ${...}");
    }
    const auto value = env(name);
    if (!value) return PathError(path, "environment variable " + std::string(name) + " is not set");
    out += *value;
    i = close + 1;
  }
  return out;
}

core::Result<double> ParseFraction(std::string_view text, std::string_view path) {
  double value = -1;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || !(value >= 0 && value <= 1)) {
    return PathError(path, Quote(text) + " is not a number between 0 and 1");
  }
  return value;
}

MapReader::MapReader(const YAML::Node& node, std::string path,
                     std::initializer_list<std::string_view> allowed, EnvLookup env)
    : path_(std::move(path)), env_(env) {
  if (Absent(node)) return;
  if (!node.IsMap()) {
    Fail(PathError(path_, "expected a map"));
    return;
  }
  node_ = node;
  CheckKeys(allowed);
}

void MapReader::CheckKeys(std::initializer_list<std::string_view> allowed) {
  std::vector<std::string> seen;
  for (const auto& entry : node_) {
    if (!entry.first.IsScalar()) {
      Fail(PathError(path_, "keys must be plain strings"));
      return;
    }
    const std::string& key = entry.first.Scalar();
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      Fail(PathError(JoinPath(path_, key), "duplicate key"));
      return;
    }
    seen.push_back(key);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      Fail(PathError(JoinPath(path_, key), "unknown key"));
      return;
    }
  }
}

core::Status MapReader::status() const {
  if (error_) return *error_;
  return {};
}

void MapReader::Fail(core::Error error) {
  if (!error_) error_ = std::move(error);
}

std::optional<YAML::Node> MapReader::Get(std::string_view key, Need need) {
  if (!ok()) return std::nullopt;
  if (node_.IsMap()) {
    for (const auto& entry : node_) {
      if (entry.first.Scalar() == key && !Absent(entry.second)) return entry.second;
    }
  }
  if (need == Need::kRequired) Fail(PathError(JoinPath(path_, key), "required"));
  return std::nullopt;
}

std::optional<std::string> MapReader::ScalarText(std::string_view key, Need need,
                                                 std::string_view want) {
  auto node = Get(key, need);
  if (!node) return std::nullopt;
  if (!node->IsScalar()) {
    Fail(PathError(JoinPath(path_, key), "expected " + std::string(want)));
    return std::nullopt;
  }
  return node->Scalar();
}

void MapReader::String(std::string_view key, std::string& out, Need need) {
  auto text = ScalarText(key, need, "a string");
  if (!text) return;
  auto value = SubstituteEnv(*text, JoinPath(path_, key), env_);
  if (!value) return Fail(std::move(value).error());
  out = std::move(*value);
}

void MapReader::StringList(std::string_view key, std::vector<std::string>& out) {
  auto node = Get(key, Need::kOptional);
  if (!node) return;
  const std::string key_path = JoinPath(path_, key);
  if (!node->IsSequence()) return Fail(PathError(key_path, "expected a list of strings"));
  std::vector<std::string> values;
  size_t index = 0;
  for (const auto& item : *node) {
    const std::string item_path = IndexPath(key_path, index++);
    if (!item.IsScalar()) return Fail(PathError(item_path, "expected a string"));
    auto value = SubstituteEnv(item.Scalar(), item_path, env_);
    if (!value) return Fail(std::move(value).error());
    values.push_back(std::move(*value));
  }
  out = std::move(values);
}

void MapReader::Bool(std::string_view key, bool& out) {
  auto text = ScalarText(key, Need::kOptional, "true or false");
  if (!text) return;
  if (*text == "true") {
    out = true;
  } else if (*text == "false") {
    out = false;
  } else {
    Fail(PathError(JoinPath(path_, key), "expected true or false, got " + Quote(*text)));
  }
}

std::optional<int64_t> MapReader::ParseInt(std::string_view key, Need need) {
  auto text = ScalarText(key, need, "an integer");
  if (!text) return std::nullopt;
  const std::string_view digits =
      !text->empty() && text->front() == '-' ? std::string_view(*text).substr(1) : *text;
  const auto fail = [&](std::string_view what) -> std::optional<int64_t> {
    Fail(PathError(JoinPath(path_, key), std::string(what)));
    return std::nullopt;
  };
  if (digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return fail("expected an integer, got " + Quote(*text));
  }
  uint64_t magnitude = 0;
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (char c : digits) {
    const auto digit = static_cast<uint64_t>(c - '0');
    if (magnitude > (kMax - digit) / 10) return fail(Quote(*text) + " is out of range");
    magnitude = magnitude * 10 + digit;
  }
  const auto value = static_cast<int64_t>(magnitude);
  return digits.size() == text->size() ? value : -value;
}

void MapReader::Int(std::string_view key, int64_t& out, Need need) {
  if (auto value = ParseInt(key, need)) out = *value;
}

void MapReader::Int(std::string_view key, int& out, Need need) {
  auto value = ParseInt(key, need);
  if (!value) return;
  if (*value < std::numeric_limits<int>::min() || *value > std::numeric_limits<int>::max()) {
    return Fail(
        PathError(JoinPath(path_, key), Quote(std::to_string(*value)) + " is out of range"));
  }
  out = static_cast<int>(*value);
}

void MapReader::Bool(std::string_view key, std::optional<bool>& out) {
  bool value = false;
  const bool present = ok() && Get(key, Need::kOptional).has_value();
  Bool(key, value);
  if (present && ok()) out = value;
}

void MapReader::Int(std::string_view key, std::optional<int64_t>& out) {
  if (auto value = ParseInt(key, Need::kOptional)) out = *value;
}

void MapReader::Int(std::string_view key, std::optional<int>& out) {
  int value = 0;
  const bool present = ok() && Get(key, Need::kOptional).has_value();
  Int(key, value);
  if (present && ok()) out = value;
}

void MapReader::Fraction(std::string_view key, std::optional<double>& out) {
  auto text = ScalarText(key, Need::kOptional, "a number between 0 and 1");
  if (!text) return;
  auto value = ParseFraction(*text, JoinPath(path_, key));
  if (!value) return Fail(value.error());
  out = *value;
}

void MapReader::Share(std::string_view key, int64_t& ppm) {
  auto text = ScalarText(key, Need::kOptional, "a decimal share from 0 to 1");
  if (!text) return;
  // A price's exact parse (at most six decimals, never negative) gives millionths of the value.
  auto value = core::PricePerMTokens::Parse(*text);
  if (!value || value->micro() > 1'000'000) {
    return Fail(PathError(JoinPath(path_, key),
                          Quote(*text) + " is not a share from 0 to 1 with at most six decimals"));
  }
  ppm = value->micro();
}

void MapReader::Usd(std::string_view key, std::optional<core::Money>& out) {
  auto text = ScalarText(key, Need::kOptional, "a decimal USD amount");
  if (!text) return;
  auto money = core::Money::Parse(*text);
  if (!money) return Fail(AtPath(JoinPath(path_, key), money.error()));
  if (money->pico() < 0) {
    return Fail(PathError(JoinPath(path_, key), Quote(*text) + " must not be negative"));
  }
  out = *money;
}

void MapReader::Millis(std::string_view key, std::chrono::milliseconds& out) {
  if (auto value = ParseInt(key, Need::kOptional)) out = std::chrono::milliseconds(*value);
}

void MapReader::Price(std::string_view key, core::PricePerMTokens& out, Need need) {
  // The scalar's own text, never a double: "0.014" stays exactly 0.014.
  auto text = ScalarText(key, need, "a decimal price");
  if (!text) return;
  auto price = core::PricePerMTokens::Parse(*text);
  if (!price) return Fail(AtPath(JoinPath(path_, key), price.error()));
  out = *price;
}

void MapReader::Price(std::string_view key, std::optional<core::PricePerMTokens>& out) {
  core::PricePerMTokens price;
  const bool present = ok() && Get(key, Need::kOptional).has_value();
  Price(key, price, Need::kOptional);
  if (present && ok()) out = price;
}

void MapReader::TimeOfDay(std::string_view key, int& minute, Need need) {
  auto text = ScalarText(key, need, "a time of day (HH:MM)");
  if (!text) return;
  const std::string& t = *text;
  const auto digit = [&](size_t i) { return t[i] >= '0' && t[i] <= '9' ? t[i] - '0' : -100; };
  if (t.size() == 5 && t[2] == ':') {
    const int hours = digit(0) * 10 + digit(1);
    const int minutes = digit(3) * 10 + digit(4);
    if (hours >= 0 && hours <= 23 && minutes >= 0 && minutes <= 59) {
      minute = hours * 60 + minutes;
      return;
    }
  }
  Fail(PathError(JoinPath(path_, key),
                 Quote(t) + " is not a time of day (expected HH:MM, 00:00 to 23:59)"));
}

void MapReader::Map(std::string_view key, std::initializer_list<std::string_view> allowed,
                    const std::function<void(MapReader&)>& read, Need need) {
  auto node = Get(key, need);
  if (!node) return;
  MapReader sub(*node, JoinPath(path_, key), allowed, env_);
  if (sub.ok()) read(sub);
  if (!sub.ok()) Fail(*sub.error_);
}

void MapReader::List(
    std::string_view key,
    const std::function<core::Status(const YAML::Node&, const std::string&)>& read) {
  auto node = Get(key, Need::kOptional);
  if (!node) return;
  const std::string key_path = JoinPath(path_, key);
  if (!node->IsSequence()) return Fail(PathError(key_path, "expected a list"));
  size_t index = 0;
  for (const auto& item : *node) {
    if (auto status = read(item, IndexPath(key_path, index++)); !status)
      return Fail(status.error());
  }
}

void MapReader::Named(std::string_view key,
                      const std::function<core::Status(const std::string&, const YAML::Node&,
                                                       const std::string&)>& read) {
  auto node = Get(key, Need::kOptional);
  if (!node) return;
  const std::string key_path = JoinPath(path_, key);
  if (!node->IsMap()) return Fail(PathError(key_path, "expected a map keyed by name"));
  std::vector<std::string> seen;
  for (const auto& entry : *node) {
    if (!entry.first.IsScalar()) return Fail(PathError(key_path, "names must be plain strings"));
    const std::string& name = entry.first.Scalar();
    const std::string entry_path = JoinPath(key_path, name);
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return Fail(PathError(entry_path, "duplicate key"));
    }
    seen.push_back(name);
    if (auto status = read(name, entry.second, entry_path); !status) return Fail(status.error());
  }
}

}  // namespace sy::config::detail
