// Test helpers for the PostgreSQL tests (*_pg_test.cpp): one value from a query, and a fresh
// database whose schema the gateway's ledger created.
#pragma once

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "ledger/detail/postgres.h"
#include "ledger/postgres_ledger.h"
#include "tests/testutil/pg_server.h"

namespace sy::ledger::test {

// One value from `url`'s database, as text ("" and a test failure when the query fails).
inline std::string PgQuery(const std::string& url, const std::string& sql) {
  auto target = detail::ParsePgTarget(url);
  EXPECT_TRUE(target.has_value());
  if (!target) return "";
  auto conn = detail::PgConnection::Connect(*target, std::chrono::seconds(5));
  if (!conn) {
    ADD_FAILURE() << conn.error().message;
    return "";
  }
  auto value = conn->QueryScalar(sql, "test query");
  EXPECT_TRUE(value.has_value()) << (value ? "" : value.error().message);
  return value ? *value : "";
}

// A new database on the binary's shared server with the current ledger schema, as a gateway
// starting on it leaves it (its spill file at `spill_path`, left empty); returns its URL.
inline std::string MigratedPgDatabase(const std::string& spill_path) {
  const std::string url = testutil::FreshPgDatabase();
  PostgresLedger::Options options;
  options.url = url;
  options.queue.spill_path = spill_path;
  auto ledger = PostgresLedger::Open(options);
  EXPECT_TRUE(ledger.has_value()) << (ledger ? "" : ledger.error().message);
  if (ledger) (*ledger)->Close();
  return url;
}

}  // namespace sy::ledger::test
