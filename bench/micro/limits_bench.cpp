// The auth stage's decision path: finding a presented key (an HMAC-SHA256 and a hash lookup)
// and admitting a request against its key's and tenant's rate limits and budgets, on this
// process's counters or (shared_state) on the allowances taken from the shared ones.
#include <benchmark/benchmark.h>

#include "limits/limiter.h"
#include "limits/shared_limiter.h"

namespace sy::limits {
namespace {

constexpr std::string_view kPepper = "bench-pepper-0123456789abcdef";
const KeyHasher kHasher{kPepper};
constexpr int64_t kNow = 1'796'205'600'000;

struct Keys {
  std::vector<std::string> secrets;
  std::shared_ptr<const Directory> dir;

  explicit Keys(int n) {
    std::vector<Key> keys;
    for (int i = 0; i < n; ++i) {
      secrets.push_back(NewKey());
      Key k;
      k.id = NewId("key_", 16);
      k.tenant = "tenant-" + std::to_string(i % 10);
      k.hash = HashKey(kPepper, secrets.back());
      k.policy.limits.requests_per_minute = 1'000'000'000;
      k.policy.budgets.usd_per_day = core::Money::FromPico(int64_t{1} << 60);
      keys.push_back(std::move(k));
    }
    dir = Directory::Build(std::move(keys), {}, nullptr);
  }
};

void BM_Authenticate(benchmark::State& state) {
  const Keys keys(static_cast<int>(state.range(0)));
  size_t i = 0;
  for (auto _ : state) {
    auto key = keys.dir->Authenticate(keys.secrets[i++ % keys.secrets.size()], kHasher, kNow);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_Authenticate)->Arg(10)->Arg(10'000);

// Strangers' keys, cycled like the known ones above: a miss must cost what a hit costs.
void BM_AuthenticateUnknownKey(benchmark::State& state) {
  const Keys keys(10'000);
  std::vector<std::string> strangers;
  for (int i = 0; i < 10'000; ++i) strangers.push_back(NewKey());
  size_t i = 0;
  for (auto _ : state) {
    auto key = keys.dir->Authenticate(strangers[i++ % strangers.size()], kHasher, kNow);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_AuthenticateUnknownKey);

void BM_AdmitAndSettle(benchmark::State& state) {
  const Keys keys(1);
  const Key& key = keys.dir->keys().front();
  int64_t now = kNow;
  for (auto _ : state) {
    RateHeaders headers;
    auto admitted = Admit(key, ++now, headers);
    benchmark::DoNotOptimize(admitted);
    Settle(key, {}, core::Money::FromPico(1'000), 100, now, now);
  }
}
BENCHMARK(BM_AdmitAndSettle)->Threads(1)->Threads(2);

// With shared counters, what most requests cost: admitted from allowances already granted (the
// grants here are made as Redis would make them, outside the timed loop) and settled into them.
void BM_SharedAdmitAndSettle(benchmark::State& state) {
  const Keys keys(1);
  const Key& key = keys.dir->keys().front();
  int64_t now = kNow;
  std::vector<SharedCall> calls;
  for (auto _ : state) {
    RateHeaders headers;
    auto decided = SharedAdmit(key, ++now, 5, false, calls, headers);
    if (!decided) {
      state.PauseTiming();
      for (SharedCall& call : calls) {  // top up, as a Redis round trip would
        Account& a = call.tenant ? *key.owner->account : *key.account;
        std::lock_guard<std::mutex> lock(a.mu);
        TakeReport(a, now, call);
        ApplyReply(a, call, {.grant = call.want, .remaining = 1'000'000}, now);
      }
      state.ResumeTiming();
      continue;
    }
    benchmark::DoNotOptimize(decided);
    SharedSettle(key, {}, core::Money::FromPico(1'000), 100, now, now);
  }
}
BENCHMARK(BM_SharedAdmitAndSettle)->Threads(1)->Threads(2);

}  // namespace
}  // namespace sy::limits

BENCHMARK_MAIN();
