// verify::CompiledSchema: a client's JSON Schema (draft 7), compiled once, validated many times.
//
// Validation is Valijson's (libvalijson-dev) over Boost.JSON, strict types. What we add around it,
// because Valijson 1.0 (Debian 12) would otherwise crash the process on client input:
// - A schema is first validated against the draft-07 meta-schema, so a malformed schema is
//   refused with the path inside the schema that is wrong ("/properties/age/type").
// - `pattern` and `patternProperties` regexes are compiled here, in libstdc++'s polynomial (BFS)
//   mode. Valijson's own std::regex is recursive per input character and overflows the stack on
//   a ~5 KB string under ASan (~40 KB without). A pattern that needs backtracking (a
//   back-reference) is refused.
// - A $ref chain or allOf/anyOf/oneOf/not/if/then/else cycle that never descends into the
//   instance (`{"$ref": "#"}`) recurses forever in Valijson: refused with its path.
// - Remote $ref (another document) is refused: we fetch nothing.
// - `format` is not asserted (annotation only, as most validators default): Valijson 1.0 applies
//   it to non-strings and matches dates with a recursive regex.
// - Strings longer than kMaxPatternSubjectBytes in an instance checked against a schema that has
//   patterns fail validation: BFS matching is quadratic for an unanchored search, so this bounds
//   the worst case (about 2 s for an adversarial pattern, microseconds for ordinary ones).
//
// Thread-safety: a CompiledSchema is immutable; Validate may run concurrently on one schema.
#pragma once

#include <cstddef>
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
// /properties/age/type: ...". `param` names the request field the schema came from. Never throws.
core::Result<std::shared_ptr<const CompiledSchema>> CompileSchema(const boost::json::value& schema,
                                                                  std::string_view param);

// nullopt when `instance` is valid; else "<instance path>: <why>" for the first error(s), at most
// about kMaxSchemaMessageBytes ("/age: Value type not permitted by 'type' constraint."). The root
// is "/". Never throws.
std::optional<std::string> Validate(const CompiledSchema& schema,
                                    const boost::json::value& instance);

}  // namespace sy::verify
