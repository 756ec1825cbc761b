// Parameter checks worded as OpenAI's API words its 400s, shared by the two OpenAI dialects'
// decoders (Chat Completions and Responses) so both answer a bad type or range alike.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/error.h"
#include "core/result.h"

namespace sy::api::openai {

// "Invalid type for '<param>': expected <expected>, but got <a string|an integer|...>."
core::Error WrongType(const std::string& param, const boost::json::value& v,
                      std::string_view expected);

// "Missing required parameter: '<param>'."
core::Error Missing(const std::string& param);

// body[name], when present and not null, is an integer in [1, 2^31 - 1] (OpenAI's integer
// parameters are 32-bit: larger values are refused here instead of at an upstream).
core::Status CheckPositiveInt(const boost::json::object& body, std::string_view name);

// body[name], when present and not null, is a number in [lo, hi]; lo_text and hi_text are the
// bounds as the message shows them.
core::Status CheckNumberRange(const boost::json::object& body, std::string_view name, double lo,
                              double hi, std::string_view lo_text, std::string_view hi_text);

}  // namespace sy::api::openai
