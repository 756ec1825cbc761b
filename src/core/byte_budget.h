// A process-wide budget of bytes held in memory at once (request bodies, upstream answers),
// shared by every worker, and a request's share of it, which returns its bytes when destroyed.
// The budget bounds what many requests hold together where each one's own limit cannot: 4096
// connections each within a 64 MiB limit are 256 GiB.
//
// Thread-safety: a ByteBudget is shared (lock-free); a BudgetShare belongs to one request.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

namespace sy::core {

class ByteBudget {
 public:
  explicit ByteBudget(int64_t limit) : limit_(limit) {}
  ByteBudget(const ByteBudget&) = delete;
  ByteBudget& operator=(const ByteBudget&) = delete;

  int64_t limit() const { return limit_; }
  // The bytes the shares hold now.
  int64_t used() const { return used_.load(std::memory_order_relaxed); }

 private:
  friend class BudgetShare;
  std::atomic<int64_t> used_{0};
  const int64_t limit_;
};

class BudgetShare {
 public:
  // A share of no budget: GrowTo always succeeds (a caller without a budget, tests).
  BudgetShare() = default;
  explicit BudgetShare(ByteBudget* budget) : budget_(budget) {}
  ~BudgetShare() { Release(); }
  BudgetShare(BudgetShare&& other) noexcept
      : budget_(std::exchange(other.budget_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  BudgetShare& operator=(BudgetShare&& other) noexcept {
    if (this != &other) {
      Release();
      budget_ = std::exchange(other.budget_, nullptr);
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }

  // Raises the share to `total` bytes. False, taking nothing more, when that would take the
  // budget past its limit. A smaller `total` keeps the share as it is.
  bool GrowTo(int64_t total) {
    const int64_t more = total - bytes_;
    if (more <= 0 || budget_ == nullptr) return true;
    int64_t used = budget_->used_.load(std::memory_order_relaxed);
    do {
      if (used > budget_->limit_ - more) return false;
    } while (!budget_->used_.compare_exchange_weak(used, used + more));
    bytes_ = total;
    return true;
  }
  int64_t bytes() const { return bytes_; }

 private:
  void Release() {
    if (budget_ != nullptr && bytes_ > 0) budget_->used_.fetch_sub(bytes_);
    bytes_ = 0;
  }

  ByteBudget* budget_ = nullptr;
  int64_t bytes_ = 0;
};

}  // namespace sy::core
