// eval checks: whether a model's answer passes a suite item's checker (suite.h lists them).
// Regex, JSON Schema and refusal detection are verify's own checks, so `switchyard eval` and the
// gateway's verification agree on what a refusal or a schema-valid answer is.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "eval/suite.h"
#include "verify/verify.h"

namespace sy::eval {

// nullopt when `answer` passes `checker`; else why not, at most about 200 bytes ("expected
// \"positive\"", "42.5 is not within 0.01 of 42", "did not refuse").
std::optional<std::string> Check(const Checker& checker, const verify::Output& answer);
// The same for a plain text answer.
std::optional<std::string> CheckText(const Checker& checker, std::string_view text);

// A number in a text: an optional '-', digits with optional thousands commas ("1,685.04" reads
// 1685.04), an optional fraction; digits glued to a letter ("A4") are not a number.
struct NumberAt {
  size_t pos = 0;  // where its digits start (after any '-')
  size_t len = 0;  // the bytes of its digits, commas and fraction
  double value = 0;
};
// The last number in `text`, nullopt when there is none.
std::optional<NumberAt> FindLastNumber(std::string_view text);
std::optional<double> LastNumber(std::string_view text);

}  // namespace sy::eval
