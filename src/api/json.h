// Parsing a client's JSON body, and typed lookups in it, shared by every client dialect.
//
// Thread-safety: a pure function; safe to call from any thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include "core/result.h"

namespace sy::api {

// Parses `body` as one JSON value, allowing at most `max_depth` levels of nesting.
// Fails with kInvalidRequest and an empty param: "... is not valid JSON (...)" (invalid UTF-8
// and trailing bytes included) or "... nested deeper than N levels".
// The DOM is allocated from `storage` (the default resource when null), which must outlive it.
core::Result<boost::json::value> ParseJson(std::string_view body, int64_t max_depth,
                                           boost::json::storage_ptr storage = {});

// Typed lookups in a body that may hold anything: the value at `key` when it has that type,
// else an empty view / null (readers that must never throw on an odd body use these).
std::string_view StringAt(const boost::json::object& obj, std::string_view key);
const boost::json::array* ArrayAt(const boost::json::object& obj, std::string_view key);
const boost::json::object* ObjectAt(const boost::json::object& obj, std::string_view key);

// Appends the string-valued members of obj[key], when it is an object, as {name, value} views
// into `obj` (OpenAI's `metadata`); members of other types are skipped.
void AppendStringMembers(const boost::json::object& obj, std::string_view key,
                         std::vector<std::pair<std::string_view, std::string_view>>& out);

}  // namespace sy::api
