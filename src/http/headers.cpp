#include "http/headers.h"

#include <algorithm>
#include <functional>

namespace sy::http {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

Headers::Headers(std::initializer_list<Header> headers) {
  size_t bytes = 0;
  for (const auto& h : headers) bytes += h.name.size() + h.value.size();
  Reserve(headers.size(), bytes);
  for (const auto& h : headers) Add(h.name, h.value);
}

void Headers::Reserve(size_t n, size_t bytes) {
  entries_.reserve(n);
  bytes_.reserve(bytes);
}

bool Headers::Inside(std::string_view text) const {
  const std::less_equal<const char*> before;
  return !text.empty() && before(bytes_.data(), text.data()) &&
         before(text.data(), bytes_.data() + bytes_.size());
}

void Headers::Add(std::string_view name, std::string_view value) {
  const size_t need = bytes_.size() + name.size() + value.size();
  if (need > bytes_.capacity() && (Inside(name) || Inside(value))) {
    // Views of this list's own bytes (a header copied from the list into it): growing moves the
    // buffer under them, so they are copied out first.
    const std::string copy = std::string(name).append(value);
    Add(std::string_view(copy).substr(0, name.size()), std::string_view(copy).substr(name.size()));
    return;
  }
  entries_.push_back({bytes_.size(), name.size(), value.size()});
  bytes_.append(name).append(value);
}

void Headers::Set(std::string_view name, std::string_view value) {
  std::erase_if(entries_, [&](const Entry& e) { return EqualsIgnoreCase(NameOf(e), name); });
  Add(name, value);
}

const Headers::Entry* Headers::Find(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.name_size == name.size() && EqualsIgnoreCase(NameOf(e), name)) return &e;
  }
  return nullptr;
}

std::string_view Headers::Get(std::string_view name) const {
  const Entry* e = Find(name);
  return e ? At(*e).value : std::string_view();
}

bool Headers::Has(std::string_view name) const { return Find(name) != nullptr; }

size_t Headers::Count(std::string_view name) const {
  return static_cast<size_t>(std::count_if(entries_.begin(), entries_.end(), [&](const Entry& e) {
    return e.name_size == name.size() && EqualsIgnoreCase(NameOf(e), name);
  }));
}

}  // namespace sy::http
