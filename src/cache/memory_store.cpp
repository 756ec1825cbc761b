// cache::MemoryStore: an LRU bounded in bytes, behind one mutex.
//
// A list holds the entries, most recently used first; an index maps each key to its node (the
// index's string_view points at the node's own key, so a key is stored once). Get moves a hit to
// the front; Put inserts at the front and evicts from the back until the total fits. An expired
// entry is dropped when Get meets it, or when eviction reaches it: nothing sweeps.
#include "cache/detail/memory_store.h"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "cache/cache.h"
#include "cache/detail/entry_codec.h"

namespace sy::cache {
namespace detail {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// Longer ttls are cut to this, so that now + ttl cannot overflow the clock's representation.
constexpr std::chrono::seconds kMaxTtl = std::chrono::hours(24 * 365);

class LruStore final : public Store {
 public:
  LruStore(size_t max_bytes, SteadyNow now) : max_bytes_(max_bytes), now_(std::move(now)) {}

  http::Task<std::optional<Entry>> Get(std::string key) override {
    std::shared_ptr<const Entry> found = Find(key);
    if (!found) co_return std::nullopt;
    co_return *found;  // the copy is made outside the lock
  }

  void Put(std::string key, Entry entry, std::chrono::seconds ttl) override {
    if (ttl <= std::chrono::seconds::zero() || EntrySize(entry) > kMaxEntryBytes) return;
    const size_t bytes = MemoryBytes(key, entry);
    if (bytes > max_bytes_) return;
    auto shared = std::make_shared<const Entry>(std::move(entry));  // allocated outside the lock
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = index_.find(key); it != index_.end()) Erase(it->second);
    lru_.push_front(
        Node{std::move(key), std::move(shared), now_() + std::min(ttl, kMaxTtl), bytes});
    index_.emplace(lru_.front().key, lru_.begin());
    bytes_ += bytes;
    while (bytes_ > max_bytes_) Erase(std::prev(lru_.end()));  // the new node fits alone
  }

 private:
  struct Node {
    std::string key;
    std::shared_ptr<const Entry> entry;  // shared with a Get copying it
    SteadyTime expires;
    size_t bytes;
  };
  using List = std::list<Node>;

  std::shared_ptr<const Entry> Find(std::string_view key) {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    const List::iterator node = it->second;
    if (now_() >= node->expires) {
      Erase(node);
      return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, node);
    return node->entry;
  }

  // REQUIRES: mu_ held.
  void Erase(List::iterator node) {
    bytes_ -= node->bytes;
    index_.erase(std::string_view(node->key));
    lru_.erase(node);
  }

  const size_t max_bytes_;
  const SteadyNow now_;
  std::mutex mu_;
  List lru_;                                                    // guarded by mu_
  std::unordered_map<std::string_view, List::iterator> index_;  // guarded by mu_
  size_t bytes_ = 0;                                            // guarded by mu_
};

}  // namespace

size_t MemoryBytes(std::string_view key, const Entry& entry) {
  return key.size() + EntrySize(entry) + kEntryOverheadBytes;
}

std::unique_ptr<Store> MemoryStoreWithClock(size_t max_bytes, SteadyNow now) {
  return std::make_unique<LruStore>(max_bytes, std::move(now));
}

}  // namespace detail

std::unique_ptr<Store> MemoryStore(size_t max_bytes) {
  return detail::MemoryStoreWithClock(max_bytes, [] { return std::chrono::steady_clock::now(); });
}

}  // namespace sy::cache
