#include "http/headers.h"

#include <algorithm>

namespace sy::http {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

void Headers::Set(std::string_view name, std::string value) {
  std::erase_if(list_, [&](const Header& h) { return EqualsIgnoreCase(h.name, name); });
  list_.push_back({std::string(name), std::move(value)});
}

std::string_view Headers::Get(std::string_view name) const {
  for (const auto& h : list_) {
    if (EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return {};
}

bool Headers::Has(std::string_view name) const {
  return std::any_of(list_.begin(), list_.end(),
                     [&](const Header& h) { return EqualsIgnoreCase(h.name, name); });
}

}  // namespace sy::http
