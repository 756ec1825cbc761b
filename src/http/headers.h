// A small ordered header list with case-insensitive lookup, the one shape of HTTP headers that
// code outside http/ sees.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace sy::http {

// One header as a list hands it out: views into the list's storage, valid until the list is
// changed or destroyed.
struct Header {
  std::string_view name;
  std::string_view value;
};

// Every name and value lives in one buffer, and the list holds offsets into it: adding a header
// copies its bytes once and allocates only when the buffer or the offsets grow. An answer
// carries about fifteen headers, most names longer than std::string's inline capacity, and a
// list of string pairs allocated one to three times for each.
class Headers {
 public:
  class Iterator;

  Headers() = default;
  Headers(std::initializer_list<Header> headers);

  // Room for `n` headers of about `bytes` bytes of names and values in all, without regrowing.
  void Reserve(size_t n, size_t bytes);
  void Add(std::string_view name, std::string_view value);
  // Replaces every header of that name with one value. The replaced bytes stay in the buffer
  // until the list is destroyed: Set is for the few headers a caller fixes, not for a loop.
  void Set(std::string_view name, std::string_view value);
  // The first value of `name` (case-insensitive), or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  // How many headers carry `name` (case-insensitive).
  size_t Count(std::string_view name) const;

  // Every name and value back to back (with the bytes of headers Set replaced): for a check
  // that one pass over the whole list can answer.
  std::string_view bytes() const { return bytes_; }

  Iterator begin() const;
  Iterator end() const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    size_t at;  // the name's first byte in bytes_; the value follows it
    size_t name_size;
    size_t value_size;
  };

  bool Inside(std::string_view text) const;
  std::string_view NameOf(const Entry& e) const { return {bytes_.data() + e.at, e.name_size}; }
  Header At(const Entry& e) const {
    return {NameOf(e), {bytes_.data() + e.at + e.name_size, e.value_size}};
  }
  const Entry* Find(std::string_view name) const;

  std::string bytes_;
  std::vector<Entry> entries_;
};

class Headers::Iterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = Header;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = Header;

  Iterator() = default;
  Header operator*() const { return list_->At(*entry_); }
  Iterator& operator++() {
    ++entry_;
    return *this;
  }
  Iterator operator++(int) {
    Iterator before = *this;
    ++entry_;
    return before;
  }
  bool operator==(const Iterator& other) const { return entry_ == other.entry_; }

 private:
  friend class Headers;
  Iterator(const Headers* list, std::vector<Entry>::const_iterator entry)
      : list_(list), entry_(entry) {}

  const Headers* list_ = nullptr;
  std::vector<Entry>::const_iterator entry_;
};

inline Headers::Iterator Headers::begin() const { return {this, entries_.begin()}; }
inline Headers::Iterator Headers::end() const { return {this, entries_.end()}; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace sy::http
