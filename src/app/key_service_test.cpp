// KeyService's start on a SQLite ledger: the keys it loads and the spend it seeds them with.
#include "app/key_service.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/serialize.hpp>
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

// The SQLite key store, whose Revision() fails while `failing` is set: a reload after a write
// then fails as it does when the database stops answering between the two.
class FailingReloads final : public ledger::KeyStore {
 public:
  FailingReloads(std::unique_ptr<ledger::KeyStore> real, const std::atomic<bool>& failing)
      : real_(std::move(real)), failing_(failing) {}

  core::Result<std::vector<ledger::KeyRow>> Keys() override { return real_->Keys(); }
  core::Result<std::optional<ledger::KeyRow>> Key(std::string_view id) override {
    return real_->Key(id);
  }
  core::Result<std::vector<ledger::TenantRow>> Tenants() override { return real_->Tenants(); }
  core::Result<int64_t> PutTenant(const ledger::TenantRow& row) override {
    return real_->PutTenant(row);
  }
  core::Result<int64_t> Revision() override {
    if (failing_) return core::MakeError(core::Errc::kInternal, "keys revision: disk I/O error");
    return real_->Revision();
  }

 protected:
  core::Result<int64_t> WriteKey(const ledger::KeyRow& row, bool insert) override {
    return insert ? real_->InsertKey(row) : real_->UpdateKey(row);
  }
  core::Result<std::vector<ledger::SpendTotal>> SpendSince(const char* column,
                                                           int64_t since_ms) override {
    return std::string_view(column) == "key_id" ? real_->SpendByKeySince(since_ms)
                                                : real_->SpendByTenantSince(since_ms);
  }

 private:
  std::unique_ptr<ledger::KeyStore> real_;
  const std::atomic<bool>& failing_;
};

// A key service over the ledger WriteLedger leaves, whose reloads fail while failing_ is set.
// Its poller waits a minute: the tests reload by hand.
class KeyWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteLedger(path_, {});
    ASSERT_FALSE(HasFatalFailure());
    auto config = std::make_shared<config::Config>();
    config->auth.reload_interval = std::chrono::milliseconds(60'000);
    catalog_ = *catalog::Catalog::Build(std::move(config));
    policy_ = std::make_unique<routing::Policy>(*routing::Policy::Build(*catalog_));
    auto real = ledger::KeyStore::Open(path_);
    ASSERT_TRUE(real.has_value()) << real.error().message;
    auto opened = KeyService::OpenWithStore(
        *catalog_, *policy_, clock_, std::make_unique<FailingReloads>(std::move(*real), failing_),
        "a pepper of this test, 32 chars");
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    service_ = std::move(*opened);
  }

  ScratchDir dir_;
  const std::string path_ = dir_.File("ledger.db");
  const FixedClock clock_{kT0};
  std::atomic<bool> failing_{false};
  std::shared_ptr<const catalog::Catalog> catalog_;
  std::unique_ptr<routing::Policy> policy_;
  std::unique_ptr<KeyService> service_;
};

// The key id `secret` authenticates as now, or the refusal's message.
std::string WhoIs(const KeyService& keys, const std::string& secret, int64_t now_ms) {
  auto key = keys.directory()->Authenticate(secret, keys.hasher(), now_ms);
  return key ? (*key)->id : key.error().message;
}

std::string Text(const boost::json::object& object, std::string_view field) {
  const boost::json::value* v = object.if_contains(field);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// Regression: a key created or rotated while the reload after the database write failed was
// answered with an error, though the database held it: its secret, shown only in that answer,
// was lost, and the operator had to rotate again. Now the answer is the success answer with the
// secret and a warning, and the key authenticates once a later reload succeeds.
TEST_F(KeyWriteTest, AKeyWrittenWhileReloadsFailKeepsItsSecretAndWorksAfterTheNextReload) {
  KeyService& service = *service_;
  auto rotated_before = service.CreateKey({{"tenant", "acme"}, {"name", "to-rotate"}});
  ASSERT_TRUE(rotated_before.has_value()) << rotated_before.error().message;
  EXPECT_FALSE(rotated_before->contains("warning"));
  const std::string rotated_id = Text(*rotated_before, "id");

  failing_ = true;
  ::testing::internal::CaptureStderr();
  auto created = service.CreateKey({{"tenant", "acme"}, {"name", "new"}});
  auto rotated = service.RotateKey(rotated_id, {{"grace_seconds", 0}});
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(created.has_value()) << created.error().message;
  ASSERT_TRUE(rotated.has_value()) << rotated.error().message;
  const std::string created_secret = Text(*created, "key");
  const std::string rotated_secret = Text(*rotated, "key");
  ASSERT_TRUE(created_secret.starts_with("sk-sy-")) << boost::json::serialize(*created);
  ASSERT_TRUE(rotated_secret.starts_with("sk-sy-")) << boost::json::serialize(*rotated);
  for (const auto* answer : {&*created, &*rotated}) {
    EXPECT_EQ(Text(*answer, "tenant"), "acme");
    EXPECT_EQ(Text(*answer, "status"), "active");
    EXPECT_EQ(Text(*answer, "prefix"), Text(*answer, "key").substr(0, limits::kShownKeyChars));
    EXPECT_NE(Text(*answer, "warning").find("next successful reload"), std::string::npos)
        << boost::json::serialize(*answer);
  }
  EXPECT_EQ(Text(*rotated, "id"), rotated_id);
  // The log says what happened and why, and never shows a secret.
  EXPECT_NE(log.find("key " + Text(*created, "id") + " stored, but the reload after it failed"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("disk I/O error"), std::string::npos) << log;
  EXPECT_EQ(log.find(created_secret), std::string::npos) << log;
  EXPECT_EQ(log.find(rotated_secret), std::string::npos) << log;
  // Not served yet: this gateway still holds the keys as they were.
  EXPECT_EQ(WhoIs(service, created_secret, kT0), "Invalid API key.");
  EXPECT_EQ(WhoIs(service, rotated_secret, kT0), "Invalid API key.");

  failing_ = false;
  ASSERT_TRUE(service.Reload().has_value());  // as the poller's: the revision moved
  EXPECT_EQ(WhoIs(service, created_secret, kT0), Text(*created, "id"));
  EXPECT_EQ(WhoIs(service, rotated_secret, kT0), rotated_id);
}

// Regression: revoking a key another replica had already revoked answered from this replica's
// directory, which had not reloaded yet: "active", and the key still authenticated here until
// the next poll. Now the answer and the directory follow the database at once.
TEST_F(KeyWriteTest, RevokingAKeyAnotherReplicaRevokedAnswersRevokedAndRefusesItAtOnce) {
  KeyService& service = *service_;
  auto created = service.CreateKey({{"tenant", "acme"}});
  ASSERT_TRUE(created.has_value()) << created.error().message;
  const std::string id = Text(*created, "id");
  const std::string secret = Text(*created, "key");
  {
    auto other = ledger::KeyStore::Open(path_);  // the other replica
    ASSERT_TRUE(other.has_value()) << other.error().message;
    auto rows = (*other)->Keys();
    ASSERT_TRUE(rows.has_value()) << rows.error().message;
    auto row = std::find_if(rows->begin(), rows->end(), [&](const auto& r) { return r.id == id; });
    ASSERT_NE(row, rows->end());
    row->revoked_at_ms = kT0 - 1000;
    ASSERT_TRUE((*other)->UpdateKey(*row).has_value());
  }
  ASSERT_EQ(WhoIs(service, secret, kT0), id);  // not reloaded yet

  auto revoked = service.RevokeKey(id);
  ASSERT_TRUE(revoked.has_value()) << revoked.error().message;
  EXPECT_EQ(Text(*revoked, "status"), "revoked") << boost::json::serialize(*revoked);
  EXPECT_EQ(revoked->at("revoked_at").as_int64(), (kT0 - 1000) / 1000);
  EXPECT_FALSE(revoked->contains("warning"));
  EXPECT_NE(WhoIs(service, secret, kT0), id);
}

// Regression: PUT /admin/tenants/.. was accepted, a tenant no client that normalises paths can
// address again.
TEST_F(KeyWriteTest, DotAndDotDotAreNoTenantNames) {
  for (const char* name : {".", ".."}) {
    auto put = service_->PutTenant(name, {});
    ASSERT_FALSE(put.has_value()) << name;
    EXPECT_EQ(put.error().param, "tenant");
    auto created = service_->CreateKey({{"tenant", name}});
    ASSERT_FALSE(created.has_value()) << name;
  }
  EXPECT_TRUE(service_->PutTenant("...", {}).has_value());
}

std::vector<std::string> Ids(const boost::json::object& list) {
  std::vector<std::string> ids;
  for (const auto& item : list.at("data").as_array()) {
    const auto& object = item.as_object();
    ids.push_back(Text(object, object.contains("id") ? "id" : "name"));
  }
  return ids;
}

// Every item of a list, read in pages of `limit` from `list`: each page's last_id is the next
// one's after, and has_more is false only on the last.
template <typename List>
std::vector<std::string> Paged(List list, int64_t limit) {
  std::vector<std::string> all;
  KeyService::ListPage page{.after = "", .limit = limit};
  for (int pages = 0; pages < 100; ++pages) {
    auto answer = list(page);
    EXPECT_TRUE(answer.has_value()) << answer.error().message;
    if (!answer) break;
    const std::vector<std::string> ids = Ids(*answer);
    EXPECT_LE(ids.size(), static_cast<size_t>(limit));
    all.insert(all.end(), ids.begin(), ids.end());
    if (!answer->at("has_more").as_bool()) break;
    EXPECT_EQ(Text(*answer, "first_id"), ids.front());
    page.after = Text(*answer, "last_id");
    EXPECT_EQ(page.after, ids.back());
  }
  return all;
}

// Keys and tenants are listed a page at a time (a directory may hold 100,000 keys): the pages
// together are the whole list, in the same order, a tenant's keys alike.
TEST_F(KeyWriteTest, ListsComeInPagesThatTogetherAreTheWholeList) {
  for (const char* tenant : {"acme", "globex", "acme", "globex", "acme"}) {
    ASSERT_TRUE(service_->CreateKey({{"tenant", tenant}}).has_value());
  }
  ASSERT_TRUE(service_->PutTenant("initech", {}).has_value());
  const KeyService::ListPage whole;
  auto all = service_->ListKeys("", whole);
  ASSERT_TRUE(all.has_value());
  EXPECT_FALSE(all->at("has_more").as_bool());
  const std::vector<std::string> ids = Ids(*all);
  ASSERT_EQ(ids.size(), 6u);  // key_a and the five
  for (const int64_t limit : {1, 2, 5, 6}) {
    SCOPED_TRACE(limit);
    EXPECT_EQ(Paged([&](const auto& p) { return service_->ListKeys("", p); }, limit), ids);
  }
  std::vector<std::string> globex;
  for (const auto& item : all->at("data").as_array()) {
    if (Text(item.as_object(), "tenant") == "globex")
      globex.push_back(Text(item.as_object(), "id"));
  }
  EXPECT_EQ(Paged([&](const auto& p) { return service_->ListKeys("globex", p); }, 1), globex);

  auto tenants = service_->ListTenants(whole);
  ASSERT_TRUE(tenants.has_value());
  EXPECT_EQ(Paged([&](const auto& p) { return service_->ListTenants(p); }, 1), Ids(*tenants));
  EXPECT_EQ(Ids(*tenants).size(), 3u);

  // Past the end: an empty page; an unknown `after`: a 400 naming it.
  auto end = service_->ListKeys("", {.after = ids.back(), .limit = 5});
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(end->at("data").as_array().empty());
  EXPECT_TRUE(end->at("first_id").is_null());
  EXPECT_FALSE(end->at("has_more").as_bool());
  auto unknown = service_->ListKeys("", {.after = "key_nope", .limit = 5});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().param, "after");
  EXPECT_EQ(unknown.error().message, "after: no key key_nope to list after.");
  EXPECT_FALSE(service_->ListTenants({.after = "umbrella", .limit = 5}).has_value());
}

// A directory as text: every key and tenant with what a request reads of it.
std::string Snapshot(const limits::Directory& dir) {
  std::string out;
  for (const auto& k : dir.keys()) {
    out += "key " + k.id + " " + k.tenant + " " + k.name + " " + k.prefix + " " +
           limits::HashBytes(k.hash) + " " +
           (k.previous_hash ? limits::HashBytes(*k.previous_hash) : "-") + " " +
           std::to_string(k.previous_valid_until_ms) + " " + std::to_string(k.created_at_ms) + " " +
           (k.revoked_at_ms ? std::to_string(*k.revoked_at_ms) : "-") + " " +
           limits::PolicyJson(k.policy) + " owner " + k.owner->name + "\n";
  }
  for (const auto& t : dir.tenants()) {
    out += "tenant " + t.name + " " + std::to_string(t.created_at_ms) +
           (t.implied ? " implied " : " ") + limits::PolicyJson(t.policy) + "\n";
  }
  return out;
}

// A write of this process applies its row to the directory in force (a full reload read every
// row again: a second per write at 100,000 keys). What that yields is what a full reload yields;
// a write of another process in between makes it a full reload.
TEST_F(KeyWriteTest, AWriteAppliedInPlaceEqualsAFullReload) {
  KeyService& service = *service_;
  std::vector<std::string> ids;
  for (const char* tenant : {"acme", "globex", "acme", "initech"}) {  // two new tenants
    auto created = service.CreateKey({{"tenant", tenant}, {"name", tenant}});
    ASSERT_TRUE(created.has_value()) << created.error().message;
    ids.push_back(Text(*created, "id"));
  }
  ASSERT_TRUE(service.PutTenant("globex", {{"budgets", {{"usd_per_day", "5"}}}}).has_value());
  ASSERT_TRUE(service.PutTenant("hooli", {}).has_value());
  ASSERT_TRUE(service.UpdateKey(ids[1], {{"name", "renamed"}}).has_value());
  ASSERT_TRUE(service.RevokeKey(ids[2]).has_value());
  ASSERT_TRUE(service.RotateKey(ids[3], {{"grace_seconds", 60}}).has_value());

  const auto reopen = [&] {
    auto store = ledger::KeyStore::Open(path_);
    EXPECT_TRUE(store.has_value());
    auto fresh = KeyService::OpenWithStore(*catalog_, *policy_, clock_, std::move(*store),
                                           "a pepper of this test, 32 chars");
    EXPECT_TRUE(fresh.has_value()) << fresh.error().message;
    return std::move(*fresh);
  };
  EXPECT_EQ(Snapshot(*service.directory()), Snapshot(*reopen()->directory()));
  EXPECT_EQ(service.directory()->FindKey(ids[1])->name, "renamed");

  // Another process writes, then this one: its own write finds the revision two ahead.
  auto other = reopen();
  auto theirs = other->CreateKey({{"tenant", "umbrella"}});
  ASSERT_TRUE(theirs.has_value());
  ASSERT_TRUE(service.CreateKey({{"tenant", "acme"}}).has_value());
  EXPECT_NE(service.directory()->FindKey(Text(*theirs, "id")), nullptr);
  EXPECT_EQ(Snapshot(*service.directory()), Snapshot(*reopen()->directory()));

  // Regression (review): a revoke of a key revoked already writes nothing. Counted as a write, it
  // took another process's pending revocation for its own and never read it: that key kept
  // authenticating here.
  ASSERT_TRUE(other->RevokeKey(ids[0]).has_value());
  ASSERT_TRUE(service.RevokeKey(ids[2]).has_value());  // revoked above
  EXPECT_TRUE(service.directory()->FindKey(ids[0])->revoked_at_ms.has_value());
  EXPECT_EQ(Snapshot(*service.directory()), Snapshot(*reopen()->directory()));
}

// The same for the other writes: each succeeds with what was stored and a warning; the change
// reaches the directory at the next successful reload (a revoked key is refused only then).
TEST_F(KeyWriteTest, OtherWritesWhileReloadsFailSucceedAndSayWhenTheyTakeEffect) {
  KeyService& service = *service_;
  auto created = service.CreateKey({{"tenant", "acme"}});
  ASSERT_TRUE(created.has_value()) << created.error().message;
  const std::string id = Text(*created, "id");
  const std::string secret = Text(*created, "key");

  failing_ = true;
  ::testing::internal::CaptureStderr();
  auto renamed = service.UpdateKey(id, {{"name", "renamed"}});
  auto tenant = service.PutTenant("beta", {{"budgets", {{"usd_per_day", "3.00"}}}});
  auto revoked = service.RevokeKey(id);
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(renamed.has_value()) << renamed.error().message;
  ASSERT_TRUE(tenant.has_value()) << tenant.error().message;
  ASSERT_TRUE(revoked.has_value()) << revoked.error().message;
  EXPECT_EQ(Text(*renamed, "name"), "renamed");
  EXPECT_EQ(Text(*tenant, "name"), "beta");
  EXPECT_EQ(tenant->at("budgets").as_object().at("usd_per_day").as_string(), "3");
  EXPECT_EQ(Text(*revoked, "status"), "revoked");
  for (const auto* answer : {&*renamed, &*tenant, &*revoked}) {
    EXPECT_NE(Text(*answer, "warning").find("next successful reload"), std::string::npos)
        << boost::json::serialize(*answer);
    EXPECT_FALSE(answer->contains("key"));
  }
  EXPECT_NE(log.find("tenant beta stored"), std::string::npos) << log;
  EXPECT_EQ(log.find(secret), std::string::npos) << log;
  EXPECT_EQ(WhoIs(service, secret, kT0), id);  // the revocation is not served yet

  failing_ = false;
  ASSERT_TRUE(service.Reload().has_value());
  EXPECT_NE(WhoIs(service, secret, kT0), id);
  auto served = service.GetKey(id);
  ASSERT_TRUE(served.has_value()) << served.error().message;
  EXPECT_EQ(Text(*served, "name"), "renamed");
  EXPECT_FALSE(served->contains("warning"));
  ASSERT_TRUE(service.GetTenant("beta").has_value());
}

// A rotation of a key that a reload leaves out (its tenant's stored row cannot be read) reached
// the database, then answered 404 "No key": the new secret was lost. It is answered from the
// stored row with the secret and a warning.
TEST_F(KeyWriteTest, ARotationOfAKeyLeftOutOfTheDirectoryKeepsItsSecret) {
  ExecSql(path_,
          "INSERT INTO tenants (name, policy_json, created_at_ms, updated_at_ms) "
          "VALUES ('acme', '[1,', 0, 0);"
          "UPDATE meta SET value = value + 1 WHERE name = 'keys_revision';");
  ASSERT_FALSE(HasFatalFailure());
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(service_->Reload().has_value());
  auto rotated = service_->RotateKey("key_a", {});
  ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(rotated.has_value()) << rotated.error().message;
  EXPECT_EQ(Text(*rotated, "id"), "key_a");
  EXPECT_TRUE(Text(*rotated, "key").starts_with("sk-sy-")) << boost::json::serialize(*rotated);
  EXPECT_NE(Text(*rotated, "warning").find("left out"), std::string::npos)
      << boost::json::serialize(*rotated);
}

}  // namespace
}  // namespace sy::app
