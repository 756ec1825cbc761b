#include "verify/agreement.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "core/text.h"

namespace sy::verify {
namespace {

bool SameText(const Output& a, const Output& b) {
  if (core::TrimSpace(a.text) != core::TrimSpace(b.text) || a.refusal != b.refusal) return false;
  if (a.tool_calls.size() != b.tool_calls.size()) return false;
  for (size_t i = 0; i < a.tool_calls.size(); ++i) {
    if (a.tool_calls[i].name != b.tool_calls[i].name ||
        core::TrimSpace(a.tool_calls[i].arguments) != core::TrimSpace(b.tool_calls[i].arguments)) {
      return false;
    }
  }
  return true;
}

// Equal as JSON values; false when either is not JSON. Texts are bounded by kMaxOutputBytes,
// and boost::json's parser has a depth limit, so a hostile answer cannot make this unbounded.
bool SameJson(std::string_view a, std::string_view b) {
  boost::system::error_code ec_a, ec_b;
  const boost::json::value va = boost::json::parse(a, ec_a);
  if (ec_a) return false;
  const boost::json::value vb = boost::json::parse(b, ec_b);
  return !ec_b && va == vb;
}

bool SameValues(const Output& a, const Output& b) {
  if (a.refusal != b.refusal || a.tool_calls.size() != b.tool_calls.size()) return false;
  const bool texts = core::TrimSpace(a.text) == core::TrimSpace(b.text) || SameJson(a.text, b.text);
  if (!texts) return false;
  for (size_t i = 0; i < a.tool_calls.size(); ++i) {
    const ToolCall& x = a.tool_calls[i];
    const ToolCall& y = b.tool_calls[i];
    if (x.name != y.name || !SameJson(x.arguments, y.arguments)) return false;
  }
  return true;
}

}  // namespace

Agreement Compare(const Output& live, const Output& shadow) {
  if (live.truncated || shadow.truncated) return Agreement::kDiffers;
  if (SameText(live, shadow)) return Agreement::kExact;
  if (SameValues(live, shadow)) return Agreement::kJson;
  return Agreement::kDiffers;
}

std::string_view AgreementName(Agreement agreement) {
  switch (agreement) {
    case Agreement::kExact:
      return "exact";
    case Agreement::kJson:
      return "json";
    case Agreement::kDiffers:
      return "differs";
  }
  return "differs";
}

}  // namespace sy::verify
