#include "cache/detail/entry_codec.h"

#include <cstdint>

namespace sy::cache::detail {
namespace {

void PutUint(std::string& out, uint64_t n, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
}

void PutField(std::string& out, std::string_view field) {
  PutUint(out, field.size(), 4);
  out.append(field);
}

// Reads length-prefixed fields off the front of a value; a field longer than what remains fails.
class Reader {
 public:
  explicit Reader(std::string_view rest) : rest_(rest) {}

  std::optional<std::string_view> Field() {
    const std::optional<uint64_t> length = Uint(4);
    if (!length || *length > rest_.size()) return std::nullopt;
    std::string_view field = rest_.substr(0, static_cast<size_t>(*length));
    rest_.remove_prefix(field.size());
    return field;
  }
  bool empty() const { return rest_.empty(); }

 private:
  std::optional<uint64_t> Uint(size_t bytes) {
    if (rest_.size() < bytes) return std::nullopt;
    uint64_t n = 0;
    for (size_t i = 0; i < bytes; ++i) {
      n |= uint64_t{static_cast<unsigned char>(rest_[i])} << (8 * i);
    }
    rest_.remove_prefix(bytes);
    return n;
  }

  std::string_view rest_;
};

}  // namespace

std::string EncodeEntry(const Entry& entry) {
  std::string out;
  out.reserve(1 + 5 * 4 + 1 + EntrySize(entry) + 8);
  out.push_back(static_cast<char>(kEntryFormat));
  const char stream = entry.stream ? '\1' : '\0';
  PutField(out, std::string_view(&stream, 1));
  PutField(out, entry.body);
  PutField(out, entry.model);
  PutField(out, entry.provider);
  PutUint(out, 8, 4);
  PutUint(out, static_cast<uint64_t>(entry.stored_at_ms), 8);
  return out;
}

std::optional<Entry> DecodeEntry(std::string_view value) {
  if (value.empty() || static_cast<unsigned char>(value[0]) != kEntryFormat) return std::nullopt;
  Reader reader(value.substr(1));
  const auto stream = reader.Field();
  const auto body = reader.Field();
  const auto model = reader.Field();
  const auto provider = reader.Field();
  const auto stored_at = reader.Field();
  if (!stream || !body || !model || !provider || !stored_at || !reader.empty()) {
    return std::nullopt;
  }
  if (stream->size() != 1 || static_cast<unsigned char>((*stream)[0]) > 1) return std::nullopt;
  if (stored_at->size() != 8) return std::nullopt;
  uint64_t stored_at_ms = 0;
  for (size_t i = 0; i < 8; ++i) {
    stored_at_ms |= uint64_t{static_cast<unsigned char>((*stored_at)[i])} << (8 * i);
  }
  Entry entry;
  entry.stream = (*stream)[0] == '\1';
  entry.body = std::string(*body);
  entry.model = std::string(*model);
  entry.provider = std::string(*provider);
  entry.stored_at_ms = static_cast<int64_t>(stored_at_ms);
  return entry;
}

}  // namespace sy::cache::detail
