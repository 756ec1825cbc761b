// A small ordered header list with case-insensitive lookup, the one shape of HTTP headers that
// code outside http/ sees.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sy::http {

struct Header {
  std::string name;
  std::string value;
};

class Headers {
 public:
  Headers() = default;
  Headers(std::initializer_list<Header> headers) : list_(headers) {}

  // Room for `n` headers without reallocating: an answer carries about fifteen, and growing the
  // vector one doubling at a time moved every header string along.
  void Reserve(size_t n) { list_.reserve(n); }
  void Add(std::string name, std::string value) {
    list_.push_back({std::move(name), std::move(value)});
  }
  // Replaces every header of that name with one value.
  void Set(std::string_view name, std::string value);
  // The first value of `name` (case-insensitive), or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;

  auto begin() const { return list_.begin(); }
  auto end() const { return list_.end(); }
  size_t size() const { return list_.size(); }

 private:
  std::vector<Header> list_;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace sy::http
