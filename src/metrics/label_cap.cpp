#include "metrics/label_cap.h"

#include <array>
#include <cstdio>
#include <mutex>

namespace sy::metrics {
namespace {

// A thread's answers, in a direct-mapped table picked by a cheap mix of the value (its size and
// first and last bytes), so that a worker serving a few dozen tenants in turn mostly hits. Both
// answers are final (see the header), so a hit needs no lock.
struct Memo {
  uint64_t cap = 0;  // 0: empty
  std::string value;
  bool admitted = false;
};
constexpr size_t kMemoSlots = 64;
thread_local std::array<Memo, kMemoSlots> tls_memo;

Memo& MemoSlot(std::string_view value) {
  const size_t mix = value.size() * 31 + static_cast<unsigned char>(value.front()) * 7 +
                     static_cast<unsigned char>(value.back());
  return tls_memo[mix % kMemoSlots];
}

}  // namespace

uint64_t LabelCap::NextId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

std::string_view LabelCap::Label(std::string_view value) {
  if (value.empty()) return value;
  Memo& memo = MemoSlot(value);
  if (memo.cap != id_ || memo.value != value) {
    memo.cap = 0;  // stays empty if the assignment or the admission throws
    memo.value.assign(value);
    memo.admitted = Admit(value);
    memo.cap = id_;
  }
  if (memo.admitted) return value;
  folded_.fetch_add(1, std::memory_order_relaxed);
  LogFirstFold();
  return kOther;
}

bool LabelCap::Admit(std::string_view value) {
  if (full_.load(std::memory_order_acquire)) return admitted_.find(value) != admitted_.end();
  {
    std::shared_lock lock(mu_);
    if (admitted_.find(value) != admitted_.end()) return true;
  }
  std::unique_lock lock(mu_);
  if (admitted_.find(value) != admitted_.end()) return true;
  if (admitted_.size() >= max_) return false;
  admitted_.emplace(value);
  if (admitted_.size() == max_) full_.store(true, std::memory_order_release);
  return true;
}

void LabelCap::LogFirstFold() {
  if (logged_.load(std::memory_order_relaxed) || logged_.exchange(true)) return;
  std::fprintf(stderr,
               "switchyard: metrics: more than %zu values of label %s seen; later ones are "
               "counted under %s=\"%.*s\" (%s)\n",
               max_, label_.c_str(), label_.c_str(), static_cast<int>(kOther.size()), kOther.data(),
               setting_.c_str());
}

size_t LabelCap::admitted() const {
  if (full_.load(std::memory_order_acquire)) return admitted_.size();
  std::shared_lock lock(mu_);
  return admitted_.size();
}

}  // namespace sy::metrics
