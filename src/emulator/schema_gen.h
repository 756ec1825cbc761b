// GenerateFromSchema: a plausible JSON value that validates against a JSON schema, used for tool
// call arguments (tool `parameters` / `input_schema`) and structured outputs (response_format
// json_schema).
//
// Supported: type (string or list; "null" is used only when it is the sole type), properties
// (all are filled, in schema order, so every `required` one is present), items, minItems /
// maxItems, uniqueItems over enums, enum, const, $ref into the same document ("#/$defs/x",
// "#/definitions/x"), anyOf / oneOf (first non-null branch), allOf (merged), string formats
// (date, date-time, time, email, uri, uuid, ipv4, hostname), minLength / maxLength, minimum /
// maximum / exclusive bounds, multipleOf for integers. Not supported: pattern, not, if/then.
// Strings are chosen from the property name ("city" -> "Paris", "email" -> an address, ...).
//
// Thread-safety: pure; the same (schema, seed) always gives the same value.
#pragma once

#include <cstdint>

#include <boost/json/value.hpp>

namespace sy::emulator {

boost::json::value GenerateFromSchema(const boost::json::value& schema, uint64_t seed);

}  // namespace sy::emulator
