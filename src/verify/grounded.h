// verify::CheckGrounded: are the answer's checkable claims in the supplied context?
//
// For answers to requests that carry context (retrieved passages, documents, tool results). The
// claims are numbers, dates, amounts and names; support = found / claims. Deterministic and
// in-process: the context is indexed once (normalised numbers, dates as y-m-d, lower-cased word
// 1-, 2- and 3-grams), then each claim is a lookup.
//
// Normalisation: "1,200" == "1200"; "$812 million" is the number 812 (also found as 812000000);
// "37.4%" is 37.4; "14 November 2026" == "November 14, 2026" == "2026-11-14"; a bare year is a
// number. Digits 0-10 are ignored (list numbering, "step 2"). Names are runs of capitalised words
// not at the start of a sentence, or runs of two or more anywhere ("Dr. Elena Marchetti" ->
// "Elena Marchetti"), minus a stop-list (The, I, However, months, ...); a name is found when its
// words occur, case-insensitively and in order, in the context.
//
// Limits: it catches invented figures and names, not paraphrased falsehoods ("revenue fell" when
// the context says it rose), numbers written as words, or arithmetic the answer did on the
// context's figures. Capitals are ASCII only, so a name starting with "É" is not a claim.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sy::verify {

struct GroundedResult {
  size_t claims = 0;
  size_t found = 0;
  std::vector<std::string> missing;  // claims not found, as written in the answer, in order
  // found / claims; 1 when there are no claims.
  double support() const {
    return claims == 0 ? 1.0 : static_cast<double>(found) / static_cast<double>(claims);
  }
};

GroundedResult CheckGrounded(std::string_view context, std::string_view answer);

}  // namespace sy::verify
