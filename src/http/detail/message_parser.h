// Beast's HTTP/1 parser with the head stored once, in the Headers list the rest of the gateway
// reads. Beast's request_parser and response_parser keep fields in basic_fields (an allocation
// and a red-black-tree insert per field), which the server and the client then copied into a
// Headers list: a request paid for its two heads' fields twice. Framing, limits and chunked
// decoding stay Beast's (basic_parser); these classes only say where the parts go.
//
// Fields after the head (a chunked body's trailer section) are not stored: they never count as
// headers (RFC 9110 §6.5.1), and no front proxy or framing check has seen them.
#pragma once

#include <cstdint>
#include <string>

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/optional/optional.hpp>

#include "http/headers.h"

namespace sy::http::detail {

// Room for a typical head's fields without regrowing the list.
inline constexpr size_t kHeadFields = 16;
inline constexpr size_t kHeadFieldBytes = 512;

template <bool isRequest>
class HeadStore : public boost::beast::http::basic_parser<isRequest> {
 public:
  Headers& headers() { return headers_; }
  unsigned version() const { return version_; }

 protected:
  using ErrorCode = boost::beast::error_code;
  using StringView = boost::beast::string_view;

  unsigned version_ = 0;

 private:
  void on_field_impl(boost::beast::http::field, StringView name, StringView value,
                     ErrorCode&) final {
    if (this->is_header_done()) return;  // a trailer field
    if (headers_.size() == 0) headers_.Reserve(kHeadFields, kHeadFieldBytes);
    headers_.Add(name, value);
  }
  void on_header_impl(ErrorCode& ec) final { ec = {}; }
  void on_finish_impl(ErrorCode& ec) final { ec = {}; }
  // A chunk's data is body like any other (its framing is Beast's): to on_body_impl.
  void on_chunk_header_impl(uint64_t, StringView, ErrorCode& ec) final { ec = {}; }
  size_t on_chunk_body_impl(uint64_t, StringView piece, ErrorCode& ec) final {
    return this->on_body_impl(piece, ec);
  }

  Headers headers_;
};

// A request: its line, head and whole body (bounded by body_limit(), as Beast bounds it).
class RequestParser final : public HeadStore<true> {
 public:
  boost::beast::http::verb method() const { return method_; }
  std::string& method_string() { return method_string_; }
  std::string& target() { return target_; }
  std::string& body() { return body_; }

 private:
  void on_request_impl(boost::beast::http::verb method, StringView method_string, StringView target,
                       int version, ErrorCode& ec) override {
    method_ = method;
    method_string_.assign(method_string.data(), method_string.size());
    target_.assign(target.data(), target.size());
    version_ = static_cast<unsigned>(version);
    ec = {};
  }
  void on_response_impl(int, StringView, int, ErrorCode& ec) override {
    ec = boost::beast::http::error::bad_version;  // never called on a request parser
  }
  void on_body_init_impl(const boost::optional<uint64_t>& length, ErrorCode& ec) override {
    // basic_parser has refused a length over body_limit() before this.
    if (length) body_.reserve(static_cast<size_t>(*length));
    ec = {};
  }
  size_t on_body_impl(StringView piece, ErrorCode& ec) override {
    body_.append(piece.data(), piece.size());
    ec = {};
    return piece.size();
  }

  boost::beast::http::verb method_ = boost::beast::http::verb::unknown;
  std::string method_string_;
  std::string target_;
  std::string body_;
};

// A response: its status, head, and a body delivered piece by piece into a string the reader
// names (set_sink) for each read; with none named the parser stops with need_buffer.
class ResponseParser final : public HeadStore<false> {
 public:
  unsigned status() const { return status_; }
  // Body bytes parsed from now on are appended to `*sink` (nullptr: none are taken).
  void set_sink(std::string* sink) { sink_ = sink; }

 private:
  void on_request_impl(boost::beast::http::verb, StringView, StringView, int,
                       ErrorCode& ec) override {
    ec = boost::beast::http::error::bad_version;  // never called on a response parser
  }
  void on_response_impl(int status, StringView, int version, ErrorCode& ec) override {
    status_ = static_cast<unsigned>(status);
    version_ = static_cast<unsigned>(version);
    ec = {};
  }
  void on_body_init_impl(const boost::optional<uint64_t>&, ErrorCode& ec) override { ec = {}; }
  size_t on_body_impl(StringView piece, ErrorCode& ec) override {
    if (!sink_) {
      ec = boost::beast::http::error::need_buffer;
      return 0;
    }
    sink_->append(piece.data(), piece.size());
    ec = {};
    return piece.size();
  }

  unsigned status_ = 0;
  std::string* sink_ = nullptr;
};

}  // namespace sy::http::detail
