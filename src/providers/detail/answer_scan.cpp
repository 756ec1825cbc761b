#include "providers/detail/answer_scan.h"

#include <cstddef>
#include <cstdint>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value_stack.hpp>

namespace sy::providers::detail {
namespace {

namespace json = boost::json;

constexpr std::string_view kUsageKey = "usage";

// A basic_parser handler that drops every event except those of the top-level "usage" member's
// value, which it hands to a value_stack: the building block json::parse's own handler uses,
// so the value comes out as json::parse would build it.
class UsageHandler {
 public:
  // The limits json::parse's handler sets: an answer too large for a DOM fails here too.
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  explicit UsageHandler(json::storage_ptr sp)
      : stack_({}, temp_, sizeof(temp_)), sp_(std::move(sp)) {}

  bool object() const { return object_; }
  std::optional<json::value> TakeUsage() { return std::move(usage_); }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }

  bool on_object_begin(json::error_code&) {
    if (depth_ == 0) object_ = true;
    OpenContainer();
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code&) {
    --depth_;
    if (capturing_) {
      stack_.push_object(n);
      CloseContainer();
    }
    return true;
  }
  bool on_array_begin(json::error_code&) {
    OpenContainer();
    return true;
  }
  bool on_array_end(std::size_t n, json::error_code&) {
    --depth_;
    if (capturing_) {
      stack_.push_array(n);
      CloseContainer();
    }
    return true;
  }

  // Keys come in parts when they hold escapes or cross the parser's buffer.
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    if (capturing_) {
      stack_.push_chars(s);
    } else if (depth_ == 1) {
      MatchKey(s);
    }
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    if (capturing_) {
      stack_.push_key(s);
    } else if (depth_ == 1) {
      MatchKey(s);
      pending_ = key_matches_ && key_matched_ == kUsageKey.size();
      key_matches_ = true;
      key_matched_ = 0;
    }
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    Enter();
    if (capturing_) stack_.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    return Scalar([&] { stack_.push_string(s); });
  }

  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    return Scalar([&] { stack_.push_int64(i); });
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    return Scalar([&] { stack_.push_uint64(u); });
  }
  bool on_double(double d, json::string_view, json::error_code&) {
    return Scalar([&] { stack_.push_double(d); });
  }
  bool on_bool(bool b, json::error_code&) {
    return Scalar([&] { stack_.push_bool(b); });
  }
  bool on_null(json::error_code&) {
    return Scalar([&] { stack_.push_null(); });
  }

  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  // Compares a top-level key, part by part, with "usage" without copying it.
  void MatchKey(std::string_view part) {
    if (key_matches_ && part.size() <= kUsageKey.size() - key_matched_ &&
        kUsageKey.substr(key_matched_, part.size()) == part) {
      key_matched_ += part.size();
    } else {
      key_matches_ = false;
    }
  }

  // A scalar (or a string's last part): pushed when it is, or is inside, the captured value.
  template <typename Push>
  bool Scalar(Push push) {
    Enter();
    if (capturing_) {
      push();
      Leave();
    }
    return true;
  }

  // The first event of the value after a top-level "usage" key starts its capture.
  void Enter() {
    if (!pending_) return;
    pending_ = false;
    capturing_ = true;
    stack_.reset(sp_);
  }
  // After the captured value's last event: kept, replacing an earlier "usage" as json::parse
  // keeps the last of a repeated key.
  void Leave() {
    if (nesting_ != 0) return;
    usage_ = stack_.release();
    capturing_ = false;
  }

  void OpenContainer() {
    Enter();
    if (capturing_) ++nesting_;
    ++depth_;
  }
  void CloseContainer() {
    --nesting_;
    Leave();
  }

  // A usage block fits here: the value_stack then allocates only the value it returns.
  unsigned char temp_[512] = {};
  json::value_stack stack_;
  json::storage_ptr sp_;  // the usage value's
  std::optional<json::value> usage_{};
  std::size_t depth_ = 0;    // containers open around the current event
  std::size_t nesting_ = 0;  // ... of them inside the captured value
  std::size_t key_matched_ = 0;
  bool key_matches_ = true;  // the top-level key read so far is a prefix of "usage"
  bool pending_ = false;     // the last top-level key was "usage": its value comes next
  bool capturing_ = false;
  bool object_ = false;  // the document is an object
};

}  // namespace

std::optional<ScannedAnswer> ScanAnswer(std::string_view body,
                                        const boost::json::parse_options& options,
                                        boost::json::storage_ptr sp) {
  json::basic_parser<UsageHandler> parser(options, std::move(sp));
  json::error_code ec;
  // As json::parse: the whole text is one document (more = false), then only whitespace.
  const std::size_t used = parser.write_some(false, body.data(), body.size(), ec);
  if (ec || used < body.size() || !parser.handler().object()) return std::nullopt;
  return ScannedAnswer{.usage = parser.handler().TakeUsage()};
}

}  // namespace sy::providers::detail
