// KeyService's start on a SQLite ledger: the keys it loads and the spend it seeds them with.
#include "app/key_service.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include "ledger/keys.h"
#include "ledger/sqlite_ledger.h"

namespace sy::app {
namespace {

constexpr int64_t kT0 = 1'796'169'600'000;  // 2026-12-02T00:00:00Z

// A clock pinned at `at_ms`.
class FixedClock final : public core::Clock {
 public:
  explicit FixedClock(int64_t at_ms) : at_(core::FromUnixMs(at_ms)) {}
  std::chrono::system_clock::time_point Now() const override { return at_; }

 private:
  std::chrono::system_clock::time_point at_;
};

// A directory of this test's own (tests of one binary may run at once), removed afterwards.
class ScratchDir {
 public:
  ScratchDir()
      : path_(::testing::TempDir() + "key_service_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
              std::to_string(::getpid())) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

ledger::Record Spent(std::string id, int64_t pico, int64_t started_at_ms) {
  ledger::Record r;
  r.request_id = std::move(id);
  r.key_id = "key_a";
  r.tenant = "acme";
  r.cost = core::Money::FromPico(pico);
  r.started_at_ms = started_at_ms;
  r.status = 200;
  return r;
}

// A ledger as the gateway leaves it: `records`, and key_a of tenant acme with a daily budget.
void WriteLedger(const std::string& path, std::vector<ledger::Record> records) {
  auto sink = ledger::SqliteLedger::Open({.path = path});
  ASSERT_TRUE(sink.has_value()) << sink.error().message;
  for (ledger::Record& r : records) (*sink)->Append(std::move(r));
  (*sink)->Close();
  auto store = ledger::KeyStore::Open(path);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  ledger::KeyRow key;
  key.id = "key_a";
  key.tenant = "acme";
  key.prefix = "sk-sy-AbCdEf";
  key.hash = std::string(32, 'a');
  key.created_at_ms = kT0;
  key.policy_json = R"({"budgets":{"usd_per_day":"5.00"}})";
  ASSERT_TRUE((*store)->InsertKey(key));
}

// Runs `sql` on the SQLite file at `path`, as another process could.
void ExecSql(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

// Regression: two requests whose costs summed past int64 pico-dollars (one of them a saturated
// cost) made the seed's SUM fail, and with it the gateway's start. The key starts spent.
TEST(KeyServiceTest, StartsOnALedgerWhoseSpendSumsPastInt64AndSeedsItSaturated) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  ScratchDir dir;
  const std::string path = dir.File("ledger.db");
  WriteLedger(path, {Spent("r1", kMax, kT0 + 1'000), Spent("r2", 5, kT0 + 2'000)});
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  const auto catalog = *catalog::Catalog::Build(std::make_shared<const config::Config>());
  const auto policy = *routing::Policy::Build(*catalog);
  const FixedClock clock(kT0 + 3'600'000);
  auto keys = KeyService::Open(*catalog, policy, clock, path);
  ASSERT_TRUE(keys.has_value()) << keys.error().message;
  auto key = (*keys)->GetKey("key_a");
  ASSERT_TRUE(key.has_value()) << key.error().message;
  const auto& spend = key->at("spend").as_object();
  EXPECT_EQ(spend.at("usd_today").as_string(), "9223372.036854775807");
  EXPECT_EQ(spend.at("usd_this_month").as_string(), "9223372.036854775807");
}

// The ids of the keys `keys` authenticates.
std::vector<std::string> KeyIds(const KeyService& keys) {
  std::vector<std::string> ids;
  for (const auto& key : keys.directory()->keys()) ids.push_back(key.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Regression: one stored row whose policy could not be read failed every reload (and the start),
// so no revocation or rotation reached the replica any more. Now that row, and what depends on
// it, is left out, closed: a key whose policy is unreadable, or every key of a tenant whose policy
// is, does not authenticate; the others do.
TEST(KeyServiceTest, AnUnreadableRowLeavesOutOnlyWhatDependsOnIt) {
  ScratchDir dir;
  const std::string path = dir.File("ledger.db");
  WriteLedger(path, {});
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  ExecSql(path,
          "INSERT INTO client_keys (id, tenant, name, prefix, hash, created_at_ms, policy_json) "
          "VALUES ('key_b', 'acme', '', 'sk-sy-BbBbBb', x'01', 0, '{not json'), "
          "('key_c', 'beta', '', 'sk-sy-CcCcCc', x'02', 0, '{}'), "
          "('key_d', 'gamma', '', 'sk-sy-DdDdDd', x'03', 0, '{}');"
          "INSERT INTO tenants (name, policy_json, created_at_ms, updated_at_ms) "
          "VALUES ('beta', '[1,', 0, 0), ('gamma', '{}', 0, 0);");
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  const auto catalog = *catalog::Catalog::Build(std::make_shared<const config::Config>());
  const auto policy = *routing::Policy::Build(*catalog);
  const FixedClock clock(kT0);
  auto keys = KeyService::Open(*catalog, policy, clock, path);
  ASSERT_TRUE(keys.has_value()) << keys.error().message;
  EXPECT_EQ(KeyIds(**keys), (std::vector<std::string>{"key_a", "key_d"}));
  // A revocation still reaches the directory.
  ExecSql(path,
          "UPDATE client_keys SET revoked_at_ms = 1 WHERE id = 'key_a';"
          "UPDATE meta SET value = value + 1 WHERE name = 'keys_revision';");
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  ASSERT_TRUE((*keys)->Reload(/*force=*/true).has_value());
  const auto& after = (*keys)->directory()->keys();
  const auto key_a = std::find_if(after.begin(), after.end(),
                                  [](const limits::Key& key) { return key.id == "key_a"; });
  ASSERT_NE(key_a, after.end());
  EXPECT_TRUE(key_a->revoked_at_ms.has_value());
}

// Regression: when the spend that seeds the budgets could not be read, the start failed with only
// "cannot read this month's spend", and the operator could not tell why. The cause is kept.
TEST(KeyServiceTest, ReportsWhyItCannotReadThisMonthsSpend) {
  ScratchDir dir;
  const std::string path = dir.File("ledger.db");
  WriteLedger(path, {Spent("r1", 5, kT0 + 1'000)});
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  ExecSql(path, "DROP TABLE requests");  // the keys still load; the spend cannot be read
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  const auto catalog = *catalog::Catalog::Build(std::make_shared<const config::Config>());
  const auto policy = *routing::Policy::Build(*catalog);
  const FixedClock clock(kT0 + 3'600'000);
  auto keys = KeyService::Open(*catalog, policy, clock, path);
  ASSERT_FALSE(keys.has_value());
  EXPECT_EQ(keys.error().code, core::Errc::kInternal);
  EXPECT_NE(keys.error().message.find("cannot read this month's spend"), std::string::npos)
      << keys.error().message;
  EXPECT_NE(keys.error().message.find("no such table: requests"), std::string::npos)
      << keys.error().message;
}

}  // namespace
}  // namespace sy::app
