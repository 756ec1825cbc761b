// Parameter checks worded as OpenAI's API words its 400s, shared by the two OpenAI dialects'
// decoders (Chat Completions and Responses) so both answer a bad type or range alike.
//
// Thread-safety: pure functions.
#pragma once

#include <span>
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

// v is an integer in [1, 2^31 - 1] (OpenAI's integer parameters are 32-bit: larger values are
// refused here instead of at an upstream). `name` is the parameter, for the message.
core::Status CheckPositiveInt(std::string_view name, const boost::json::value& v);

// v is a number in [lo, hi]; lo_text and hi_text are the bounds as the message shows them.
core::Status CheckNumberRange(std::string_view name, const boost::json::value& v, double lo,
                              double hi, std::string_view lo_text, std::string_view hi_text);

// temperature in [0, 2], top_p in [0, 1]: the ranges both OpenAI dialects accept.
core::Status CheckTemperature(std::string_view name, const boost::json::value& v);
core::Status CheckTopP(std::string_view name, const boost::json::value& v);

// v is a string, a boolean, an object (the type error's wording, as OpenAI's).
core::Status CheckString(std::string_view name, const boost::json::value& v);
core::Status CheckBool(std::string_view name, const boost::json::value& v);
core::Status CheckObject(std::string_view name, const boost::json::value& v);

// How one optional top-level parameter is checked when it is present and not null.
struct ParamRule {
  std::string_view name;
  core::Status (*check)(std::string_view name, const boost::json::value& v);
};

// Checks every member of `body` that a rule names, in the body's member order, and returns the
// first failure. One pass over the members, each looked up among the rules: a request sets few
// of the many optional parameters, so this is cheaper than one object lookup per rule.
core::Status CheckParams(const boost::json::object& body, std::span<const ParamRule> rules);

}  // namespace sy::api::openai
