// cache::Key: SHA-256 over a canonical form of what changes a request's answer.
//
// The hashed bytes, in order (format "v1"; changing any of it changes every key, which only costs
// one cold cache):
//   "v1"
//   " scope:key", key id      only for a key's scope (a key id given): the tag, then the id as
//                             its length and bytes (below). Without them, a tenant's keys are
//                             those of before scopes existed. The tag's 8 bytes stand where the
//                             tenant's length would otherwise be, read as a length they exceed
//                             2^62: no tenant-scope input can begin with them.
//   tenant, dialect           each as its length (uint64 little-endian) then its bytes
//   stream                    one byte, 0 or 1
//   profile, rule             each as its length (uint64 little-endian) then its bytes
//   the body                  canonical JSON (below)
// Length prefixes keep the fields apart ("a" + "bc" is not "ab" + "c"); the body comes last and
// needs none.
//
// Canonical JSON: compact; an object's members sorted by key in byte order at every depth (a
// JSON object is unordered, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are one request); arrays in
// order; strings and numbers exactly as boost::json::serialize writes them. The top-level members
// named in cache.h are left out (skipped, not copied out). Nothing else is copied either: the
// bytes are streamed into the digest through a fixed buffer, and besides the digest context the
// only allocation is one scratch vector, shared by every object, for sorting members.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>
#include <openssl/evp.h>

#include "cache/cache.h"

namespace sy::cache {
namespace {

namespace json = boost::json;

// Top-level request fields that do not change the answer (cache.h). Not stream_options: its
// include_usage decides whether a stream carries the usage chunk, so it changes the bytes replayed.
constexpr std::array<std::string_view, 7> kIgnoredFields = {
    "user", "metadata", "stream", "store", "service_tier", "safety_identifier", "prompt_cache_key",
};

bool Ignored(std::string_view field) {
  return std::find(kIgnoredFields.begin(), kIgnoredFields.end(), field) != kIgnoredFields.end();
}

std::string_view View(json::string_view s) { return {s.data(), s.size()}; }

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// Bytes into a SHA-256, through a fixed buffer so that small writes cost no call into OpenSSL.
// OpenSSL failures here (out of memory) are not expected failures: they abort.
class DigestSink {
 public:
  DigestSink() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) std::abort();
  }

  void Append(std::string_view bytes) {
    if (bytes.size() > kBufferBytes - used_) {
      Flush();
      if (bytes.size() >= kBufferBytes) {  // large: straight into the digest
        Update(bytes.data(), bytes.size());
        return;
      }
    }
    std::memcpy(buffer_.data() + used_, bytes.data(), bytes.size());
    used_ += bytes.size();
  }
  void Append(char c) { Append(std::string_view(&c, 1)); }

  void AppendLength(size_t length) {
    std::array<char, 8> le;
    const uint64_t n = length;
    for (size_t i = 0; i < le.size(); ++i) le[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    Append(std::string_view(le.data(), le.size()));
  }
  void AppendField(std::string_view field) {
    AppendLength(field.size());
    Append(field);
  }

  // Drains `sr` (reset to a scalar or a string) into the buffer.
  void AppendSerialized(json::serializer& sr) {
    while (!sr.done()) {
      if (used_ == kBufferBytes) Flush();
      used_ += sr.read(buffer_.data() + used_, kBufferBytes - used_).size();
    }
  }

  // The digest as 64 lowercase hex digits.
  std::string Finish() {
    Flush();
    std::array<unsigned char, EVP_MAX_MD_SIZE> md;
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), md.data(), &length) != 1) std::abort();
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex(size_t{length} * 2, '\0');
    for (size_t i = 0; i < length; ++i) {
      hex[2 * i] = kHex[md[i] >> 4];
      hex[2 * i + 1] = kHex[md[i] & 0xf];
    }
    return hex;
  }

 private:
  static constexpr size_t kBufferBytes = 4096;

  void Flush() {
    if (used_ > 0) Update(buffer_.data(), used_);
    used_ = 0;
  }
  void Update(const char* data, size_t size) {
    if (EVP_DigestUpdate(ctx_.get(), data, size) != 1) std::abort();
  }

  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx_;
  std::array<char, kBufferBytes> buffer_;
  size_t used_ = 0;
};

// Writes canonical JSON (see the top of this file) into a DigestSink.
class CanonicalWriter {
 public:
  explicit CanonicalWriter(DigestSink& sink) : sink_(sink) {}

  // `top`: leave out the ignored fields (the request body's own members only).
  void Object(const json::object& object, bool top) {
    // The members to write go on the end of the shared scratch stack, sorted there, and are
    // written by index (a nested object grows the stack, which may move it); then popped.
    const size_t begin = members_.size();
    for (const json::key_value_pair& member : object) {
      if (top && Ignored(View(member.key()))) continue;
      members_.push_back(&member);
    }
    std::sort(members_.begin() + static_cast<std::ptrdiff_t>(begin), members_.end(),
              [](const json::key_value_pair* a, const json::key_value_pair* b) {
                // std::string_view compares as memcmp: byte order.
                return View(a->key()) < View(b->key());
              });
    const size_t end = members_.size();
    sink_.Append('{');
    for (size_t i = begin; i < end; ++i) {
      if (i > begin) sink_.Append(',');
      const json::key_value_pair& member = *members_[i];
      sr_.reset(member.key());
      sink_.AppendSerialized(sr_);
      sink_.Append(':');
      Value(member.value());
    }
    sink_.Append('}');
    members_.resize(begin);
  }

  void Value(const json::value& value) {
    switch (value.kind()) {
      case json::kind::object:
        Object(value.get_object(), false);
        return;
      case json::kind::array: {
        sink_.Append('[');
        bool first = true;
        for (const json::value& element : value.get_array()) {
          if (!first) sink_.Append(',');
          first = false;
          Value(element);
        }
        sink_.Append(']');
        return;
      }
      default:  // null, bool, numbers, strings: as boost::json writes them
        sr_.reset(&value);
        sink_.AppendSerialized(sr_);
        return;
    }
  }

 private:
  DigestSink& sink_;
  json::serializer sr_;
  std::vector<const json::key_value_pair*> members_;
};

}  // namespace

std::string Key(std::string_view tenant, std::string_view key_id, std::string_view dialect,
                bool stream, std::string_view profile, std::string_view rule,
                const boost::json::object& body) {
  DigestSink sink;
  sink.Append("v1");
  if (!key_id.empty()) {
    sink.Append(" scope:key");
    sink.AppendField(key_id);
  }
  sink.AppendField(tenant);
  sink.AppendField(dialect);
  sink.Append(stream ? '\1' : '\0');
  sink.AppendField(profile);
  sink.AppendField(rule);
  CanonicalWriter writer(sink);
  writer.Object(body, true);
  return sink.Finish();
}

}  // namespace sy::cache
