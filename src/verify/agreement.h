// verify::Compare: how a shadow model's answer agrees with the live one (shadow traffic,
// docs/planning.md). A pure function over two read answers.
//
// Thread-safety: free functions.
#pragma once

#include <string_view>

#include "verify/verify.h"

namespace sy::verify {

enum class Agreement {
  kExact,    // the same text (surrounding whitespace aside), refusal and tool calls
  kJson,     // not the same text, but the same JSON values: text, and each tool call's arguments
  kDiffers,  // anything else, a truncated answer included
};

// Compares `live` with `shadow`. Tool calls are compared in order, by name and arguments.
Agreement Compare(const Output& live, const Output& shadow);

// "exact", "json", "differs": the ledger's and the shadow report's words.
std::string_view AgreementName(Agreement agreement);

}  // namespace sy::verify
