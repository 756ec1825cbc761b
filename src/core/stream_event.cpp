#include "core/stream_event.h"

#include <utility>

#include <boost/json/parse.hpp>

namespace sy::core {

const boost::json::value& StreamEvent::Json() const {
  if (deferred_) {
    boost::system::error_code ec;
    json_ = boost::json::parse(data, ec, {}, *deferred_);
    // Checked text parses; `data` changed since its check is a caller's bug, read as no DOM.
    if (ec) json_ = nullptr;
    deferred_.reset();
  }
  return json_;
}

boost::json::value& StreamEvent::Json() {
  std::as_const(*this).Json();
  return json_;
}

void StreamEvent::SetJson(boost::json::value json) {
  json_ = std::move(json);
  deferred_.reset();
}

void StreamEvent::DeferJson(const boost::json::parse_options& options) {
  json_ = nullptr;
  deferred_ = options;
}

}  // namespace sy::core
