// core::StringHash: std::hash of a string_view, marked transparent, so that an unordered container
// of std::string (with std::equal_to<>) is searched with a string_view without building a string.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace sy::core {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
};

}  // namespace sy::core
