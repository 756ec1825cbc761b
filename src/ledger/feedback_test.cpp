#include "ledger/feedback.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ledger/detail/feedback_sql.h"
#include "ledger/detail/schema.h"
#include "ledger/detail/sqlite.h"
#include "ledger/detail/test_util.h"
#include "ledger/sqlite_ledger.h"

namespace sy::ledger {
namespace {

using test::TempDir;

Record Req(std::string id, std::string task, std::string tenant) {
  Record r;
  r.request_id = std::move(id);
  r.task_id = std::move(task);
  r.tenant = std::move(tenant);
  r.started_at_ms = 1'764'633'600'000;
  r.status = 200;
  return r;
}

class FeedbackStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ledger = SqliteLedger::Open({.path = path_});
    ASSERT_TRUE(ledger.has_value()) << ledger.error().message;
    (*ledger)->Append(Req("req_1", "task-x", "acme"));
    (*ledger)->Append(Req("req_2", "task-x", "beta"));  // the same client task id, another tenant
    (*ledger)->Append(Req("req_3", "", "acme"));
    (*ledger)->Append(Req("req_4", "", ""));  // auth off
    (*ledger)->Close();
    auto store = FeedbackStore::Open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::move(*store);
  }

  bool RequestOf(std::string_view id, std::string_view tenant) {
    auto r = store_->RequestBelongsTo(id, tenant);
    EXPECT_TRUE(r.has_value());
    return r && *r;
  }
  bool TaskOf(std::string_view id, std::string_view tenant) {
    auto r = store_->TaskBelongsTo(id, tenant);
    EXPECT_TRUE(r.has_value());
    return r && *r;
  }

  TempDir dir_;
  std::string path_ = dir_.File("ledger.db");
  std::unique_ptr<FeedbackStore> store_;
};

TEST_F(FeedbackStoreTest, ARequestBelongsOnlyToItsOwnTenant) {
  EXPECT_TRUE(RequestOf("req_1", "acme"));
  EXPECT_FALSE(RequestOf("req_1", "beta"));
  EXPECT_FALSE(RequestOf("req_1", ""));
  EXPECT_FALSE(RequestOf("req_missing", "acme"));
  EXPECT_TRUE(RequestOf("req_4", ""));                  // auth off: the same code works
  EXPECT_TRUE(RequestOf("req_4", std::string_view()));  // an empty view is "", not NULL
  EXPECT_FALSE(RequestOf("", "acme"));
}

TEST_F(FeedbackStoreTest, ATaskBelongsToEachTenantAmongItsRequests) {
  EXPECT_TRUE(TaskOf("task-x", "acme"));
  EXPECT_TRUE(TaskOf("task-x", "beta"));
  EXPECT_FALSE(TaskOf("task-x", "gamma"));
  EXPECT_FALSE(TaskOf("task-y", "acme"));
  EXPECT_FALSE(TaskOf("", "acme"));  // requests without a task id are no task "" of anyone
  EXPECT_FALSE(TaskOf("", ""));
}

// The details of EXPLAIN QUERY PLAN for `sql`, one line each.
std::string Plan(const std::string& path, const char* sql) {
  auto db = detail::Db::Open(path, SQLITE_OPEN_READONLY);
  EXPECT_TRUE(db.has_value());
  if (!db) return {};
  auto plan = db->Prepare(std::string("EXPLAIN QUERY PLAN ") + sql);
  EXPECT_TRUE(plan.has_value());
  if (!plan) return {};
  std::string out;
  while (plan->Step() == SQLITE_ROW) out += plan->ColumnText(3) + "\n";
  return out;
}

// Each ownership lookup searches an index, not the requests table, which grows by a row a
// request. The task_id index is partial (only requests with a task id): the lookup must state
// its condition for the planner to take it.
TEST_F(FeedbackStoreTest, EachLookupSearchesItsIndex) {
  EXPECT_THAT(Plan(path_, detail::kSqliteRequestOfTenant),
              testing::HasSubstr("USING INDEX requests_request_id (request_id=?)"));
  EXPECT_THAT(Plan(path_, detail::kSqliteTaskOfTenant),
              testing::HasSubstr("USING INDEX requests_task_id (task_id=?)"));
  // A rating's replacement of the earlier ones searches its own column's index (audit 4: with
  // task_id = '' stated too, a rating by request walked every request rating of every tenant).
  EXPECT_THAT(Plan(path_, detail::kDeleteEarlierOfRequest),
              testing::HasSubstr("USING INDEX feedback_request_id (request_id=?)"));
  EXPECT_THAT(Plan(path_, detail::kDeleteEarlierOfTask),
              testing::HasSubstr("USING INDEX feedback_tenant_task (tenant=? AND task_id=?)"));
}

// Schema v8: a request without a task id is not in the task_id index.
TEST_F(FeedbackStoreTest, OnlyRequestsWithATaskIdAreInTheTaskIndex) {
  auto db = detail::Db::Open(path_, SQLITE_OPEN_READONLY);
  ASSERT_TRUE(db.has_value());
  auto indexed = db->QueryInt(
      "SELECT COUNT(*) FROM requests INDEXED BY requests_task_id "
      "WHERE task_id <> ''");
  ASSERT_TRUE(indexed.has_value()) << indexed.error().message;
  EXPECT_EQ(*indexed, 2);
  auto sql = db->QueryText("SELECT sql FROM sqlite_master WHERE name = 'requests_task_id'");
  ASSERT_TRUE(sql.has_value());
  EXPECT_THAT(*sql, testing::HasSubstr("WHERE task_id <> ''"));
}

// A v7 ledger's full task_id index is rebuilt as the partial one when the gateway opens it.
TEST_F(FeedbackStoreTest, AVersionSevenLedgerGetsThePartialTaskIndex) {
  {
    auto db = detail::Db::Open(path_, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(
        db->Exec("DROP INDEX requests_task_id; CREATE INDEX requests_task_id ON "
                 "requests(task_id); PRAGMA user_version = 7;"));
  }
  auto ledger = SqliteLedger::Open({.path = path_});
  ASSERT_TRUE(ledger.has_value()) << ledger.error().message;
  (*ledger)->Close();
  auto db = detail::Db::Open(path_, SQLITE_OPEN_READONLY);
  ASSERT_TRUE(db.has_value());
  EXPECT_EQ(db->QueryInt("PRAGMA user_version").value(), detail::kSchemaVersion);
  EXPECT_THAT(
      db->QueryText("SELECT sql FROM sqlite_master WHERE name = 'requests_task_id'").value(),
      testing::HasSubstr("WHERE task_id <> ''"));
  EXPECT_EQ(db->QueryInt("SELECT COUNT(*) FROM requests").value(), 4);
  EXPECT_TRUE(TaskOf("task-x", "acme"));
}

TEST_F(FeedbackStoreTest, InsertStoresEveryFieldAndRefusesADuplicateId) {
  FeedbackRow row{.id = "fb_1",
                  .request_id = "req_1",
                  .task_id = "",
                  .tenant = "acme",
                  .key_id = "key_a",
                  .outcome = "success",
                  .score = 0.75,
                  .user_retried = true,
                  .user_edited = false,
                  .comment = "good",
                  .created_at_ms = 1'764'633'601'000};
  ASSERT_TRUE(store_->Insert(row));
  FeedbackRow bare;
  bare.id = "fb_2";
  bare.task_id = "task-x";
  bare.tenant = "acme";
  bare.outcome = "failure";
  ASSERT_TRUE(store_->Insert(bare));
  const auto again = store_->Insert(row);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, core::Errc::kInvalidRequest);

  EXPECT_EQ(test::QueryInt(path_, "SELECT COUNT(*) FROM feedback"), 2);
  EXPECT_EQ(test::QueryInt(path_,
                           "SELECT COUNT(*) FROM feedback WHERE id = 'fb_1' AND request_id = "
                           "'req_1' AND task_id = '' AND tenant = 'acme' AND key_id = 'key_a' AND "
                           "outcome = 'success' AND score = 0.75 AND user_retried = 1 AND "
                           "user_edited = 0 AND comment = 'good' AND created_at_ms = "
                           "1764633601000"),
            1);
  EXPECT_EQ(test::QueryInt(path_,
                           "SELECT COUNT(*) FROM feedback WHERE id = 'fb_2' AND score IS "
                           "NULL AND task_id = 'task-x' AND request_id = ''"),
            1);
}

// Audit 3: every rating was a new row, so one client rating one request again and again filled
// the disk (15,105 rows in 10 s). A rating replaces the tenant's earlier one of the same request
// or task; other requests, tasks and tenants keep theirs.
TEST_F(FeedbackStoreTest, ARatingReplacesTheTenantsEarlierRatingOfTheSameRequestOrTask) {
  using test::Rating;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(store_->Insert(
        Rating("fb_a" + std::to_string(i), "req_1", "", "acme", i % 2 ? "success" : "failure")));
  }
  ASSERT_TRUE(store_->Insert(Rating("fb_b", "req_2", "", "acme", "success")));
  ASSERT_TRUE(store_->Insert(Rating("fb_c", "", "task-x", "acme", "failure")));
  ASSERT_TRUE(store_->Insert(Rating("fb_d", "", "task-x", "acme", "success")));
  ASSERT_TRUE(store_->Insert(Rating("fb_e", "req_1", "", "other", "success")));
  EXPECT_EQ(test::QueryInt(path_, "SELECT COUNT(*) FROM feedback"), 4);
  EXPECT_EQ(test::QueryInt(path_,
                           "SELECT COUNT(*) FROM feedback WHERE id = 'fb_a49' AND outcome = "
                           "'success' AND request_id = 'req_1' AND tenant = 'acme'"),
            1);
  EXPECT_EQ(test::QueryInt(path_, "SELECT COUNT(*) FROM feedback WHERE id = 'fb_d'"), 1);
  // A duplicate id still fails, and takes nothing away.
  const auto again = store_->Insert(Rating("fb_b", "req_1", "", "acme", "failure"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(test::QueryInt(path_, "SELECT COUNT(*) FROM feedback WHERE id = 'fb_a49'"), 1);
}

TEST(FeedbackStoreOpenTest, AMissingFileIsAnError) {
  TempDir dir;
  auto store = FeedbackStore::Open(dir.File("none.db"));
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, core::Errc::kInternal);
  EXPECT_THAT(store.error().message, ::testing::HasSubstr("none.db"));
}

}  // namespace
}  // namespace sy::ledger
