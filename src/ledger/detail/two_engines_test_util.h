// Test helpers for the engine-equivalence tests (*_pg_test.cpp): the same records written to a
// SQLite ledger and to a PostgreSQL ledger (a fresh database on the binary's shared server).
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ledger/detail/test_util.h"
#include "ledger/postgres_ledger.h"
#include "ledger/sqlite_ledger.h"
#include "tests/testutil/pg_server.h"

namespace sy::ledger::test {

// 120 records over ~41 UTC hours and two days, with ties in cost between groups whose keys sort
// differently by byte and by a natural-language collation ("Zeta" < "alpha" < "beta" in bytes),
// failures, requests no model answered, and attempts skipped, rejected and verified.
inline std::vector<Record> VariedRecords() {
  std::vector<Record> records;
  for (int64_t i = 0; i < 120; ++i) {
    Record r = MakeRecord(i);
    r.started_at_ms = 1'700'000'000'000 + i * 1'234'567;
    if (i % 10 == 0) {
      r.tenant = i % 20 == 0 ? "Zeta" : "alpha";
      r.cost = core::Money::FromPico(5'000'000);
    }
    if (i % 11 == 0) {
      r.chosen_model.clear();
      r.provider.clear();
      r.status = 502;
      r.error_code = "upstream_unavailable";
      r.cost = core::Money();
    }
    if (i % 13 == 0) r.task_type.clear();
    for (size_t a = 0; a < r.attempts.size(); ++a) {
      const int64_t kind = (i + static_cast<int64_t>(a)) % 4;
      r.attempts[a].outcome = kind == 0 ? "skipped" : kind == 1 ? "rejected" : "ok";
      r.attempts[a].verdict = kind == 2   ? "passed"
                              : kind == 3 ? "recorded: rejected: json_schema: not an object"
                                          : "";
    }
    records.push_back(std::move(r));
  }
  return records;
}

// A SQLite ledger file and a PostgreSQL database holding the same records.
struct TwoLedgers {
  TempDir dir;
  std::string sqlite_path = dir.File("ledger.db");
  std::string postgres_url = testutil::FreshPgDatabase();

  void Write(const std::vector<Record>& records) {
    auto sqlite = SqliteLedger::Open({.path = sqlite_path});
    ASSERT_TRUE(sqlite.has_value()) << sqlite.error().message;
    PostgresLedger::Options options;
    options.url = postgres_url;
    options.queue.spill_path = dir.File("pg.spill");
    auto postgres = PostgresLedger::Open(options);
    ASSERT_TRUE(postgres.has_value()) << postgres.error().message;
    for (const Record& r : records) {
      (*sqlite)->Append(Record(r));
      (*postgres)->Append(Record(r));
    }
    (*sqlite)->Close();
    (*postgres)->Close();
    ASSERT_EQ((*postgres)->records_written(), records.size());
  }
};

}  // namespace sy::ledger::test
