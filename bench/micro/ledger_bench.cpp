// The ledger writer's cost per record, pinned so that a regression shows in review: a batch of
// 128 live requests with one attempt each, written in one transaction into a SQLite file in WAL
// mode (BM_LedgerWriteBatch, per record: eight to an INSERT), and the same records one statement
// each, as a replayed spill writes them (BM_LedgerWriteBatchReplay: each also checked for a copy).
// The file grows through the run, as a ledger does.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <unistd.h>

#include "ledger/detail/schema.h"
#include "ledger/record.h"

namespace {

using sy::ledger::Attempt;
using sy::ledger::Record;

constexpr int64_t kBatch = 128;

// A chat request as the load benchmark's: one attempt, answered.
Record BenchRecord(int64_t i) {
  Record r;
  r.request_id = "req_" + std::to_string(1'000'000'000'000 + i);
  r.started_at_ms = 1'796'427'290'341 + i;
  r.tenant = "bench";
  r.key_id = "key_xAcGpmaixSiFAbaM";
  r.dialect = "openai";
  r.endpoint = "/v1/chat/completions";
  r.requested_model = "bench-fast";
  r.chosen_model = "bench-fast";
  r.provider = "fast";
  r.usage.input_tokens = 14;
  r.usage.output_tokens = 7;
  r.usage.reported = true;
  r.cost = sy::core::Money::FromPico(28'000'000);
  r.price_list = "standard";
  r.status = 200;
  r.route_reason = "model bench-fast [bench-fast]";
  r.task_type = "chat";
  r.rule = "model bench-fast";
  Attempt a;
  a.model = "bench-fast";
  a.provider = "fast";
  a.deployment = "fast";
  a.http_status = 200;
  a.outcome = "ok";
  a.usage = r.usage;
  a.cost = r.cost;
  r.attempts.push_back(a);
  return r;
}

void WriteBatches(benchmark::State& state, bool replay) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("sy_ledger_bench_" + std::to_string(::getpid()) + ".db");
  {
    auto db = sy::ledger::detail::OpenForWriting(path.string(), std::chrono::seconds(5));
    if (!db) {
      state.SkipWithError(db.error().message.c_str());
      return;
    }
    auto writer = sy::ledger::detail::RecordWriter::Create(*db);
    if (!writer) {
      state.SkipWithError(writer.error().message.c_str());
      return;
    }
    int64_t next = 0;
    std::vector<Record> batch;
    for (auto _ : state) {
      state.PauseTiming();
      batch.clear();
      for (int64_t i = 0; i < kBatch; ++i) batch.push_back(BenchRecord(next++));
      state.ResumeTiming();
      if (!writer->WriteBatch(batch, {.replay = replay})) {
        state.SkipWithError("write failed");
        break;
      }
    }
    state.SetItemsProcessed(state.iterations() * kBatch);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

void BM_LedgerWriteBatch(benchmark::State& state) { WriteBatches(state, false); }
BENCHMARK(BM_LedgerWriteBatch);

void BM_LedgerWriteBatchReplay(benchmark::State& state) { WriteBatches(state, true); }
BENCHMARK(BM_LedgerWriteBatchReplay);

}  // namespace

BENCHMARK_MAIN();
