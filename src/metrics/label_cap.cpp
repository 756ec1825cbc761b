#include "metrics/label_cap.h"

#include <cstdio>

namespace sy::metrics {
namespace {

// A thread's last answer: which cap, which value, and whether it was admitted. Both answers are
// final (see the header), so a hit needs no lock.
struct Memo {
  uint64_t cap = 0;  // 0: empty
  std::string value;
  bool admitted = false;
};
thread_local Memo tls_memo;

}  // namespace

uint64_t LabelCap::NextId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

std::string_view LabelCap::Label(std::string_view value) {
  if (value.empty()) return value;
  Memo& memo = tls_memo;
  if (memo.cap != id_ || memo.value != value) {
    memo.cap = 0;  // stays empty if the assignment below throws
    memo.value.assign(value);
    memo.admitted = Admit(value);
    memo.cap = id_;
  }
  if (memo.admitted) return value;
  folded_.fetch_add(1, std::memory_order_relaxed);
  return kOther;
}

bool LabelCap::Admit(std::string_view value) {
  {
    std::lock_guard lock(mu_);
    if (admitted_.find(value) != admitted_.end()) return true;
    if (admitted_.size() < max_) {
      admitted_.emplace(value);
      return true;
    }
  }
  if (!logged_.exchange(true, std::memory_order_relaxed)) {
    std::fprintf(stderr,
                 "switchyard metrics: more than %zu values of label %s seen; later ones are "
                 "counted under %s=\"%.*s\" (%s)\n",
                 max_, label_.c_str(), label_.c_str(), static_cast<int>(kOther.size()),
                 kOther.data(), setting_.c_str());
  }
  return false;
}

size_t LabelCap::admitted() const {
  std::lock_guard lock(mu_);
  return admitted_.size();
}

}  // namespace sy::metrics
