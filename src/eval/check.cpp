#include "eval/check.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include <boost/json/parse.hpp>

#include "core/text.h"

namespace sy::eval {
namespace {

constexpr size_t kEchoBytes = 80;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Quoted(std::string_view s) { return "\"" + core::ClipForEcho(s, kEchoBytes) + "\""; }

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::optional<std::string> CheckExact(const Checker& c, std::string_view text) {
  const std::string_view got = core::TrimSpace(text);
  const bool same = c.ignore_case ? Lower(got) == Lower(c.text) : got == c.text;
  if (same) return std::nullopt;
  return "expected " + Quoted(c.text) + ", got " + Quoted(got);
}

std::optional<std::string> CheckContains(const Checker& c, std::string_view text) {
  const bool found = c.ignore_case ? Lower(text).find(Lower(c.text)) != std::string::npos
                                   : text.find(c.text) != std::string_view::npos;
  if (found) return std::nullopt;
  return "does not contain " + Quoted(c.text);
}

std::optional<std::string> CheckNumber(const Checker& c, std::string_view text) {
  const auto got = LastNumber(text);
  if (!got) return "no number in the answer";
  if (std::fabs(*got - c.value) <= c.tolerance) return std::nullopt;
  return Number(*got) + " is not within " + Number(c.tolerance) + " of " + Number(c.value);
}

std::optional<std::string> CheckSchema(const Checker& c, std::string_view text) {
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(core::TrimSpace(text), ec);
  if (ec) return "not JSON: " + ec.message();
  return verify::Validate(*c.schema, parsed);
}

std::optional<std::string> RunVerify(const verify::Check& check, const verify::Output& answer) {
  static const verify::Options kOptions{verify::DefaultRefusalPhrases()};
  const verify::Verdict v = verify::Run({check}, verify::Spec{}, answer, kOptions);
  if (v.passed) return std::nullopt;
  return v.reason;
}

// A refusal is what verify's no_refusal check fails on.
std::optional<std::string> CheckRefused(const verify::Output& answer) {
  verify::Check no_refusal;
  no_refusal.kind = verify::CheckKind::kNoRefusal;
  if (RunVerify(no_refusal, answer)) return std::nullopt;
  return "did not refuse";
}

}  // namespace

std::optional<NumberAt> FindLastNumber(std::string_view text) {
  std::optional<NumberAt> last;
  size_t i = 0;
  while (i < text.size()) {
    if (!IsDigit(text[i]) || (i > 0 && IsAlnum(text[i - 1]) && !IsDigit(text[i - 1]))) {
      ++i;
      continue;
    }
    const bool negative = i > 0 && text[i - 1] == '-' && (i < 2 || !IsAlnum(text[i - 2]));
    std::string digits = negative ? "-" : "";
    size_t j = i;
    // Digits, and commas between digits (thousands separators).
    while (j < text.size() &&
           (IsDigit(text[j]) || (text[j] == ',' && j + 1 < text.size() && IsDigit(text[j + 1])))) {
      if (text[j] != ',') digits += text[j];
      ++j;
    }
    if (j + 1 < text.size() && text[j] == '.' && IsDigit(text[j + 1])) {
      digits += text[j++];
      while (j < text.size() && IsDigit(text[j])) digits += text[j++];
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc() && end == digits.data() + digits.size()) last = NumberAt{i, j - i, value};
    i = j;
  }
  return last;
}

std::optional<double> LastNumber(std::string_view text) {
  const auto number = FindLastNumber(text);
  if (!number) return std::nullopt;
  return number->value;
}

std::optional<std::string> Check(const Checker& checker, const verify::Output& answer) {
  std::optional<std::string> why;
  switch (checker.kind) {
    case CheckKind::kExact:
      why = CheckExact(checker, answer.text);
      break;
    case CheckKind::kContains:
      why = CheckContains(checker, answer.text);
      break;
    case CheckKind::kRegex:
      why = RunVerify(checker.regex, answer);
      break;
    case CheckKind::kNumericWithin:
      why = CheckNumber(checker, answer.text);
      break;
    case CheckKind::kJsonSchema:
      why = CheckSchema(checker, answer.text);
      break;
    case CheckKind::kMustRefuse:
      return CheckRefused(answer);
  }
  if (why) *why = core::ClipForEcho(*why, 200);
  return why;
}

std::optional<std::string> CheckText(const Checker& checker, std::string_view text) {
  verify::Output answer;
  answer.text = std::string(text);
  return Check(checker, answer);
}

}  // namespace sy::eval
