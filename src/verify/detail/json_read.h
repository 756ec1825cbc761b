// Lenient reads of upstream and client JSON for the verify module: a missing member or one of
// another type reads as empty (the checks decide what an absence means). Internal to verify/.
#pragma once

#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace sy::verify::detail {

// The string member `key`, or "" when absent or not a string.
inline std::string_view Str(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return {};
  return v->get_string();
}

// The object member `key`, or null; a null `o` reads as empty, so lookups chain.
inline const boost::json::object* Obj(const boost::json::object* o, std::string_view key) {
  if (!o) return nullptr;
  const auto* v = o->if_contains(key);
  return v ? v->if_object() : nullptr;
}
inline const boost::json::object* Obj(const boost::json::object& o, std::string_view key) {
  return Obj(&o, key);
}

// The array member `key`, or null.
inline const boost::json::array* Arr(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v ? v->if_array() : nullptr;
}

}  // namespace sy::verify::detail
