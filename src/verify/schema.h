// verify::CompiledSchema: a client's JSON Schema (draft 7), compiled once, validated many times.
//
// Validation is Valijson's (libvalijson-dev) over Boost.JSON, strict types. What we add around it,
// because Valijson 1.0 (Debian 12) would otherwise crash the process on client input:
// - A schema is first validated against the draft-07 meta-schema, so a malformed schema is
//   refused with the path inside the schema that is wrong ("/properties/age/type").
// - `pattern` regexes are compiled here, in libstdc++'s polynomial (BFS) mode, and in a form
//   that searches in one pass (anchored, led by a lazy run of anything, no capturing groups):
//   a plain search restarts the matcher at every byte, quadratic in the string. Valijson's own
//   std::regex is recursive per input character and overflows the stack on a ~5 KB string under
//   ASan (~40 KB without). A pattern that needs backtracking (a back-reference) is refused, and
//   so is one over 1,000 bytes or repeating more than 1,000 times: the compiler recurses per
//   term (a 100 KB pattern overflowed a worker's stack) and copies what it repeats.
// - `patternProperties` is refused: Valijson 1.0 compiles those regexes itself, in the
//   backtracking mode, for every object it checks (exponential time on a hostile key).
// - A $ref chain or allOf/anyOf/oneOf/not/if/then/else cycle that never descends into the
//   instance (`{"$ref": "#"}`) recurses forever in Valijson: refused with its path. So is a
//   schema with more than 256 $ref: the parser recurses per hop of a chain (20,000 overflowed).
// - Remote $ref (another document) is refused: we fetch nothing.
// - `format` is not asserted (annotation only, as most validators default): Valijson 1.0 applies
//   it to non-strings and matches dates with a recursive regex.
// - Strings longer than kMaxPatternSubjectBytes in an instance checked against a schema that has
//   patterns fail validation, and so does an instance whose strings would take the matcher more
//   than a step budget (about a second at worst): a pass costs about the pattern's size
//   times the string's length, and the budget weighs every string against every pattern
//   occurrence. Ordinary patterns on ordinary answers stay far below it.
//
// Thread-safety: a CompiledSchema is immutable; Validate may run concurrently on one schema.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "core/result.h"

namespace sy::verify {

inline constexpr size_t kMaxPatternSubjectBytes = 4096;
// Bound of a Validate message and of the reason part of a CompileSchema message.
inline constexpr size_t kMaxSchemaMessageBytes = 300;

class CompiledSchema {
 public:
  struct Impl;
  explicit CompiledSchema(std::unique_ptr<Impl> impl);
  ~CompiledSchema();
  CompiledSchema(const CompiledSchema&) = delete;
  CompiledSchema& operator=(const CompiledSchema&) = delete;
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Compiles `schema`. On failure: core::InvalidParam(param, "<param>: invalid JSON Schema at
// <path in schema>: <why>"), e.g. "response_format.json_schema.schema: invalid JSON Schema at
// /properties/age/type: ...". `param` names the request field the schema came from. Besides an
// invalid schema it refuses one that would cost too much to check: a path longer than 4096
// bytes, or paths over 4 MiB together (the checker holds a copy of a path per level), and the
// limits on patterns and $ref. Never throws.
core::Result<std::shared_ptr<const CompiledSchema>> CompileSchema(const boost::json::value& schema,
                                                                  std::string_view param);

// The pattern matcher's steps one Validate may take (see above): a string's bytes times a
// pattern's weight, summed over every string and pattern occurrence. A step costs 3-5 ns for
// ordinary patterns and 17 ns for one of nested quantifiers that keeps every state alive
// (bench/micro/verify_bench.cpp, BM_PatternSteps): about a second at worst. The estimate counts
// every string against every pattern, so the budget is set for large answers to pass: ten
// 25-byte patterns still check 200 KB of strings.
inline constexpr int64_t kMaxPatternSteps = 60'000'000;

// nullopt when `instance` is valid; else "<instance path>: <why>" for the first error(s), at most
// about kMaxSchemaMessageBytes ("/age: Value type not permitted by 'type' constraint."). The root
// is "/". An instance past `max_pattern_steps`, or with a path longer than 4096 bytes, fails
// unchecked; an invalid one of more than 10,000 values fails without the place ("/"). Never
// throws.
std::optional<std::string> Validate(const CompiledSchema& schema,
                                    const boost::json::value& instance,
                                    int64_t max_pattern_steps = kMaxPatternSteps);

}  // namespace sy::verify
