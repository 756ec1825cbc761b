// metrics::LabelCap: at most `max` distinct values of one label get series of their own; every
// later value is counted under kOther. For labels whose values come from data that grows
// without a bound the code can see (tenants an operator creates through the admin API): a
// gateway with 50,000 tenants would otherwise keep and render a few hundred thousand series,
// every one alive until restart.
//
// Admission is first come, for the life of the object: a value seen while fewer than `max` are
// admitted keeps its series; a value first seen after that is folded into kOther for good. So a
// value's series never changes once chosen (a counter never moves from one series to another),
// and a thread may remember its answers. The empty value passes as is and takes no place.
// The caller picks label values that can never equal kOther.
//
// Thread-safety: every method may be called from any thread. Label runs on every request, so
// the lock is rarely taken: each thread remembers its last answers in a small table, and once
// `max` values are admitted the set never changes again and is read without the lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "core/string_hash.h"

namespace sy::metrics {

class LabelCap {
 public:
  static constexpr std::string_view kOther = "(other)";

  // label and setting name the bound in the one line logged when it is first reached.
  LabelCap(size_t max, std::string label, std::string setting)
      : max_(max), label_(std::move(label)), setting_(std::move(setting)), full_(max == 0) {}
  LabelCap(const LabelCap&) = delete;
  LabelCap& operator=(const LabelCap&) = delete;

  // `value` when it has, or now gets, a series of its own; else kOther.
  std::string_view Label(std::string_view value);

  size_t max() const { return max_; }
  size_t admitted() const;  // distinct values with a series of their own
  // Calls answered kOther; the first one is also logged to stderr once, naming the bound.
  uint64_t folded() const { return folded_.load(std::memory_order_relaxed); }

 private:
  static uint64_t NextId();
  bool Admit(std::string_view value);
  void LogFirstFold();

  const size_t max_;
  const std::string label_, setting_;
  // Never reused in a process: a thread's memo left by a destroyed cap can never match.
  const uint64_t id_ = NextId();
  mutable std::shared_mutex mu_;
  std::unordered_set<std::string, core::StringHash, std::equal_to<>>
      admitted_;  // guarded by mu_ until full_
  // Set (release) once admitted_ holds max_ values: from then on it is only read, without mu_.
  std::atomic<bool> full_;
  std::atomic<uint64_t> folded_{0};
  std::atomic<bool> logged_{false};
};

}  // namespace sy::metrics
