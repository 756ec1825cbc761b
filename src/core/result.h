// core::Result<T>: a T or a core::Error, spelled like std::expected (has_value, value, error,
// *, ->), which GCC 12 offers only under C++23. Success costs nothing beyond the value.
//
// Usage:
//   Result<int> Parse(std::string_view s);
//   auto r = Parse(s);
//   if (!r) return r.error();          // propagate
//   Use(*r);
// Thread-safety: a plain value type.
#pragma once

#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/error.h"

namespace sy::core {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : v_(std::in_place_index<0>, value) {}        // NOLINT: implicit by design
  Result(T&& value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(const Error& error) : v_(std::in_place_index<1>, error) {}    // NOLINT
  Result(Error&& error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
           !std::is_same_v<std::decay_t<U>, Error> && !std::is_same_v<std::decay_t<U>, Result>)
      Result(U&& value)
      : v_(std::in_place_index<0>, T(std::forward<U>(value))) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  // REQUIRES: has_value(). Checked: calling it on an error aborts.
  T& value() & { return Checked(), std::get<0>(v_); }
  const T& value() const& { return Checked(), std::get<0>(v_); }
  T&& value() && { return Checked(), std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !has_value().
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  void Checked() const {
    if (v_.index() != 0) std::abort();
  }
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error. A success holds no Error: a Status is built, returned and
// tested on every check of the request path, and an Error's three strings built and destroyed
// each time cost more than the checks themselves.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(const Error& error) : error_(error) {}        // NOLINT
  Result(Error&& error) : error_(std::move(error)) {}  // NOLINT

  bool has_value() const { return !error_.has_value(); }
  explicit operator bool() const { return has_value(); }
  // REQUIRES: !has_value(). Checked: calling it on a success aborts.
  const Error& error() const& { return Checked(), *error_; }
  Error&& error() && { return Checked(), std::move(*error_); }

 private:
  void Checked() const {
    if (!error_) std::abort();
  }
  std::optional<Error> error_;
};

using Status = Result<void>;

}  // namespace sy::core
