#include "api/json.h"

#include <string>

#include <boost/json/parser.hpp>

namespace sy::api {

namespace json = boost::json;

core::Result<json::value> ParseJson(std::string_view body, int64_t max_depth,
                                    json::storage_ptr storage) {
  json::parse_options options;
  options.max_depth = static_cast<std::size_t>(max_depth);
  json::parser parser(std::move(storage), options);
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

}  // namespace sy::api
