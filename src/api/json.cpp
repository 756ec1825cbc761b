#include "api/json.h"

#include <string>

#include <boost/json/parser.hpp>

namespace sy::api {

namespace json = boost::json;

core::Result<json::value> ParseJson(std::string_view body, int64_t max_depth,
                                    json::storage_ptr storage) {
  json::parse_options options;
  options.max_depth = static_cast<std::size_t>(max_depth);
  // The parser's own working stack starts in this buffer; the value is built in `storage` (the
  // constructor's storage is only that working stack's: passing the arena there built the DOM
  // with malloc, one allocation per key, then deep-copied it into the request's arena).
  unsigned char stack[2048];
  json::parser parser(json::storage_ptr(), options, stack, sizeof stack);
  parser.reset(std::move(storage));
  boost::system::error_code ec;
  parser.write(body.data(), body.size(), ec);
  if (ec == json::error::too_deep) {
    return core::MakeError(core::Errc::kInvalidRequest, "The request body is nested deeper than " +
                                                            std::to_string(max_depth) + " levels.");
  }
  if (ec) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           "The request body is not valid JSON (" + ec.message() +
                               "). Send a JSON object encoded as UTF-8.");
  }
  return parser.release();
}

std::string_view StringAt(const boost::json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

const boost::json::array* ArrayAt(const boost::json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  return v && v->is_array() ? &v->get_array() : nullptr;
}

const boost::json::object* ObjectAt(const boost::json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

void AppendStringMembers(const boost::json::object& obj, std::string_view key,
                         std::vector<std::pair<std::string_view, std::string_view>>& out) {
  const auto* members = ObjectAt(obj, key);
  if (!members) return;
  for (const auto& kv : *members) {
    if (kv.value().is_string()) out.emplace_back(kv.key(), kv.value().get_string());
  }
}

}  // namespace sy::api
