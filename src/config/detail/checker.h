// Internal to config/: the whole-config checks' accumulator (validate*.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/detail/yaml_reader.h"
#include "core/result.h"

namespace sy::config::detail {

inline constexpr int64_t kMaxMillis = 86'400'000;  // one day

// Keeps the first failure; later checks become no-ops.
class Checker {
 public:
  bool ok() const { return !error_.has_value(); }
  core::Status status() const {
    if (error_) return *error_;
    return {};
  }
  void Fail(std::string_view path, std::string_view what) {
    if (!error_) error_ = PathError(path, what);
  }
  void Take(const core::Status& status) {
    if (!status && !error_) error_ = status.error();
  }
  void Range(std::string_view path, int64_t value, int64_t lo, int64_t hi) {
    if (value < lo || value > hi) {
      Fail(path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
                     std::to_string(value));
    }
  }
  void Millis(std::string_view path, std::chrono::milliseconds value, int64_t lo) {
    Range(path, value.count(), lo, kMaxMillis);
  }

 private:
  std::optional<core::Error> error_;
};

// The routing section and the models' quality figures (validate_routing.cpp).
void CheckRouting(Checker& c, const Config& config);

}  // namespace sy::config::detail
