// The ResponseStore cases both engines must pass (ledger/response_store.h), as value-parameterised
// tests: response_store_test.cpp instantiates them on SQLite, response_store_pg_test.cpp on
// PostgreSQL. Include this header in one test file per binary (it defines the tests).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ledger/response_store.h"

namespace sy::ledger::test {

using namespace std::chrono_literals;
using TimePoint = std::chrono::system_clock::time_point;

// A fresh ledger database of one engine, its schema current, for the cases below.
class ResponsesTestDb {
 public:
  virtual ~ResponsesTestDb() = default;
  // What ResponseStore::Options::location takes: the file's path or the database's URL.
  virtual const std::string& location() const = 0;
  // One integer from a query of one row and column.
  virtual int64_t QueryInt(const std::string& sql) = 0;
};

using ResponsesTestDbFactory = std::unique_ptr<ResponsesTestDb> (*)();

inline const TimePoint kT0 = TimePoint(std::chrono::milliseconds(1'700'000'000'123));

// Turn `n` of a conversation: distinct items per turn, continuing `previous`.
inline StoredResponse Turn(const std::string& id, const std::string& previous, TimePoint created,
                           const std::string& owner = "key-a") {
  StoredResponse r;
  r.id = id;
  r.owner = owner;
  r.previous_id = previous;
  r.input_json = R"([{"role":"user","content":"question )" + id + R"("}])";
  r.output_json =
      R"([{"type":"message","content":[{"type":"output_text","text":"answer )" + id + R"("}]}])";
  r.response_json = R"({"id":")" + id + R"(","object":"response"})";
  r.created_at = created;
  return r;
}

// Stores resp_1 ... resp_n, each continuing the one before, a second apart.
inline void PutChain(ResponseStore& store, int n, const std::string& owner = "key-a") {
  for (int i = 1; i <= n; ++i) {
    const std::string previous = i == 1 ? "" : "resp_" + std::to_string(i - 1);
    ASSERT_TRUE(store.Put(Turn("resp_" + std::to_string(i), previous, kT0 + i * 1s, owner)));
  }
}

// Whether the owner's response `id` is live at `now` (and the Get itself succeeded).
inline bool Visible(ResponseStore& store, const std::string& id, const std::string& owner,
                    TimePoint now) {
  auto got = store.Get(id, owner, now);
  EXPECT_TRUE(got.has_value()) << got.error().message;
  return got && got->has_value();
}

// The conversation ending with `id` fails with kNotFound about previous_response_id.
inline void ExpectNoConversation(ResponseStore& store, const std::string& id,
                                 const std::string& owner, TimePoint now) {
  auto chain = store.Conversation(id, owner, now, 10, 1 << 20);
  ASSERT_FALSE(chain.has_value()) << id;
  EXPECT_EQ(chain.error().code, core::Errc::kNotFound);
  EXPECT_EQ(chain.error().param, "previous_response_id");
  EXPECT_EQ(chain.error().message, "Previous response with id '" + id + "' not found.");
}

inline size_t ItemBytes(const StoredResponse& r) {
  return r.input_json.size() + r.output_json.size();
}

class ResponseStoreTest : public ::testing::TestWithParam<ResponsesTestDbFactory> {
 protected:
  void SetUp() override {
    db_ = GetParam()();
    ASSERT_NE(db_, nullptr);
  }

  // A store on this test's database with `options` (its location filled in).
  std::unique_ptr<ResponseStore> OpenStore(ResponseStore::Options options) {
    options.location = db_->location();
    auto store = ResponseStore::Open(options);
    EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
    return store ? std::move(*store) : nullptr;
  }

  std::unique_ptr<ResponsesTestDb> db_;
};

TEST_P(ResponseStoreTest, PutThenGetReturnsEveryField) {
  auto store = OpenStore({});
  ASSERT_NE(store, nullptr);
  const StoredResponse put = Turn("resp_2", "resp_1", kT0);
  ASSERT_TRUE(store->Put(put));

  auto got = store->Get("resp_2", "key-a", kT0 + 1s);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  const StoredResponse& r = **got;
  EXPECT_EQ(r.id, "resp_2");
  EXPECT_EQ(r.owner, "key-a");
  EXPECT_EQ(r.previous_id, "resp_1");
  EXPECT_EQ(r.input_json, put.input_json);
  EXPECT_EQ(r.output_json, put.output_json);
  EXPECT_EQ(r.response_json, put.response_json);
  EXPECT_EQ(r.created_at, kT0);  // millisecond precision survives

  EXPECT_FALSE(Visible(*store, "resp_9", "key-a", kT0));
}

TEST_P(ResponseStoreTest, AnotherOwnerSeesNothingAndCannotDelete) {
  auto store = OpenStore({});
  ASSERT_NE(store, nullptr);
  PutChain(*store, 2, "key-a");

  for (const std::string owner : {"key-b", ""}) {
    EXPECT_FALSE(Visible(*store, "resp_2", owner, kT0)) << owner;
    ExpectNoConversation(*store, "resp_2", owner, kT0);
    auto deleted = store->Delete("resp_2", owner, kT0);
    ASSERT_TRUE(deleted.has_value());
    EXPECT_FALSE(*deleted);
  }
  EXPECT_TRUE(Visible(*store, "resp_2", "key-a", kT0));
}

TEST_P(ResponseStoreTest, AResponseExpiresRetentionAfterItWasCreated) {
  auto store = OpenStore({.retention = 1h});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put(Turn("resp_1", "", kT0)));

  EXPECT_TRUE(Visible(*store, "resp_1", "key-a", kT0 + 1h - 1ms));
  EXPECT_FALSE(Visible(*store, "resp_1", "key-a", kT0 + 1h));
  ExpectNoConversation(*store, "resp_1", "key-a", kT0 + 1h);
}

TEST_P(ResponseStoreTest, ConversationWalksEveryTurnOldestFirst) {
  auto store = OpenStore({});
  ASSERT_NE(store, nullptr);
  PutChain(*store, 5);

  auto chain = store->Conversation("resp_5", "key-a", kT0 + 10s, 5, 1 << 20);
  ASSERT_TRUE(chain.has_value()) << chain.error().message;
  ASSERT_EQ(chain->size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    const std::string id = "resp_" + std::to_string(i + 1);
    const StoredResponse expected =
        Turn(id, i == 0 ? "" : "resp_" + std::to_string(i), kT0 + (static_cast<int>(i) + 1) * 1s);
    const StoredResponse& turn = (*chain)[i];
    EXPECT_EQ(turn.id, id);
    EXPECT_EQ(turn.owner, "key-a");
    EXPECT_EQ(turn.previous_id, expected.previous_id);
    EXPECT_EQ(turn.input_json, expected.input_json);
    EXPECT_EQ(turn.output_json, expected.output_json);
    EXPECT_EQ(turn.created_at, expected.created_at);
    EXPECT_TRUE(turn.response_json.empty());  // not read: the items rebuild the conversation
  }
  // A conversation may end at any of its turns.
  auto prefix = store->Conversation("resp_2", "key-a", kT0 + 10s, 5, 1 << 20);
  ASSERT_TRUE(prefix.has_value());
  ASSERT_EQ(prefix->size(), 2u);
  EXPECT_EQ((*prefix)[0].id, "resp_1");
  EXPECT_EQ((*prefix)[1].id, "resp_2");
}

TEST_P(ResponseStoreTest, AMissingTurnOnTheWayIsNotFound) {
  auto store = OpenStore({});
  ASSERT_NE(store, nullptr);
  PutChain(*store, 5);
  auto deleted = store->Delete("resp_3", "key-a", kT0);
  ASSERT_TRUE(deleted.has_value());
  ASSERT_TRUE(*deleted);

  ExpectNoConversation(*store, "resp_5", "key-a", kT0 + 10s);
  ExpectNoConversation(*store, "resp_404", "key-a", kT0);

  // A turn continued from an expired one: the whole conversation is gone.
  auto short_lived = OpenStore({.retention = 1h});
  ASSERT_NE(short_lived, nullptr);
  ASSERT_TRUE(short_lived->Put(Turn("short_1", "", kT0)));
  ASSERT_TRUE(short_lived->Put(Turn("short_2", "short_1", kT0 + 30min)));
  EXPECT_TRUE(Visible(*short_lived, "short_2", "key-a", kT0 + 1h));
  ExpectNoConversation(*short_lived, "short_2", "key-a", kT0 + 1h);
}

TEST_P(ResponseStoreTest, ConversationIsBoundedInTurnsAndBytes) {
  auto store = OpenStore({});
  ASSERT_NE(store, nullptr);
  PutChain(*store, 5);
  size_t total_bytes = 0;
  for (int i = 1; i <= 5; ++i) total_bytes += ItemBytes(Turn("resp_" + std::to_string(i), "", kT0));

  EXPECT_TRUE(store->Conversation("resp_5", "key-a", kT0, 5, total_bytes).has_value());

  auto too_many = store->Conversation("resp_5", "key-a", kT0, 4, total_bytes);
  ASSERT_FALSE(too_many.has_value());
  EXPECT_EQ(too_many.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(too_many.error().param, "previous_response_id");
  EXPECT_NE(too_many.error().message.find("more than 4 turns"), std::string::npos);

  auto too_big = store->Conversation("resp_5", "key-a", kT0, 5, total_bytes - 1);
  ASSERT_FALSE(too_big.has_value());
  EXPECT_EQ(too_big.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(too_big.error().param, "previous_response_id");
  EXPECT_NE(too_big.error().message.find("bytes"), std::string::npos);
}

TEST_P(ResponseStoreTest, DeleteRemovesOnlyALiveResponseOnce) {
  auto store = OpenStore({.retention = 1h});
  ASSERT_NE(store, nullptr);
  PutChain(*store, 2);

  auto first = store->Delete("resp_2", "key-a", kT0);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(*first);
  EXPECT_FALSE(Visible(*store, "resp_2", "key-a", kT0));
  auto again = store->Delete("resp_2", "key-a", kT0);
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(*again);

  // Expired: absent to DELETE as to GET, and the row goes all the same.
  auto expired = store->Delete("resp_1", "key-a", kT0 + 2h);
  ASSERT_TRUE(expired.has_value());
  EXPECT_FALSE(*expired);
  EXPECT_EQ(db_->QueryInt("SELECT COUNT(*) FROM responses"), 0);
}

TEST_P(ResponseStoreTest, SweepDeletesOnlyExpiredRowsAtMostLimitPerCall) {
  // No lazy sweep during the puts: the first put would sweep (nothing expired), then never.
  auto store = OpenStore({.retention = 1h,
                          .sweep_every_puts = 1'000'000,
                          .sweep_interval = std::chrono::seconds(1h) * 24 * 365});
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store->Put(Turn("old_" + std::to_string(i), "", kT0 + i * 1ms)));
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store->Put(Turn("new_" + std::to_string(i), "", kT0 + 2h)));
  }
  const TimePoint now = kT0 + 2h;
  for (const int64_t expected : {4, 4, 2, 0}) {
    auto swept = store->Sweep(now, 4);
    ASSERT_TRUE(swept.has_value()) << swept.error().message;
    EXPECT_EQ(*swept, expected);
  }
  EXPECT_EQ(store->rows_swept(), 10u);
  EXPECT_EQ(db_->QueryInt("SELECT COUNT(*) FROM responses"), 3);
  EXPECT_EQ(db_->QueryInt("SELECT COUNT(*) FROM responses WHERE id LIKE 'new_%'"), 3);
}

TEST_P(ResponseStoreTest, PutsSweepLazilyByCountAndByTime) {
  {  // By count: every 4th put after the first (which sweeps: no sweep has run yet).
    auto store = OpenStore({.retention = 1h,
                            .sweep_every_puts = 4,
                            .sweep_interval = std::chrono::seconds(1h) * 24 * 365});
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Put(Turn("a_0", "", kT0)));
    for (int i = 1; i <= 3; ++i)
      ASSERT_TRUE(store->Put(Turn("a_" + std::to_string(i), "", kT0 + 2h)));
    EXPECT_EQ(db_->QueryInt("SELECT COUNT(*) FROM responses"), 4);  // a_0 expired, not swept
    ASSERT_TRUE(store->Put(Turn("a_4", "", kT0 + 2h)));
    EXPECT_EQ(db_->QueryInt("SELECT COUNT(*) FROM responses WHERE id = 'a_0'"), 0);
    EXPECT_EQ(store->rows_swept(), 1u);
  }
  {  // By time: a put a sweep_interval after the last sweep sweeps.
    auto store = OpenStore({.retention = 1h, .sweep_every_puts = 1000, .sweep_interval = 60s});
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Put(Turn("b_0", "", kT0 + 3h)));  // the first put sweeps: 4 rows expired
    EXPECT_EQ(store->rows_swept(), 4u);
    ASSERT_TRUE(store->Put(Turn("b_1", "", kT0 + 3h + 59s)));
    ASSERT_TRUE(store->Put(Turn("b_2", "", kT0 + 5h)));  // sweeps b_0 and b_1
    EXPECT_EQ(store->rows_swept(), 6u);
    EXPECT_EQ(db_->QueryInt("SELECT COUNT(*) FROM responses"), 1);
    EXPECT_EQ(store->sweep_errors(), 0u);
  }
}

// An owner stores until its responses hold max_bytes_per_owner (their JSON texts' bytes, kept
// by the schema's triggers): the put that reaches it is the last one stored; a delete or the
// sweep makes room again; other owners are not affected (audit 4: nothing bounded a key's).
TEST_P(ResponseStoreTest, AnOwnerStoresUpToItsBoundAndDeletesMakeRoom) {
  const auto bytes = [](const StoredResponse& r) {
    return static_cast<int64_t>(r.input_json.size() + r.output_json.size() +
                                r.response_json.size());
  };
  const int64_t one = bytes(Turn("resp_1", "", kT0));  // every resp_N below has the same size
  auto store = OpenStore({.retention = 1h,
                          .sweep_every_puts = 1'000'000,
                          .sweep_interval = std::chrono::seconds(1h) * 24 * 365,
                          .max_bytes_per_owner = 2 * one - 1});
  ASSERT_NE(store, nullptr);
  const auto stored_bytes = [&](const char* owner) {
    auto got = store->StoredBytes(owner);
    EXPECT_TRUE(got.has_value()) << got.error().message;
    return got ? *got : -1;
  };
  EXPECT_EQ(stored_bytes("key-a"), 0);
  ASSERT_TRUE(store->Put(Turn("resp_1", "", kT0)));
  EXPECT_EQ(stored_bytes("key-a"), one);
  EXPECT_TRUE(store->CheckRoom("key-a"));
  ASSERT_TRUE(store->Put(Turn("resp_2", "", kT0)));  // past the bound by this one response
  EXPECT_EQ(stored_bytes("key-a"), 2 * one);
  EXPECT_FALSE(store->FoundFull("key-a"));  // no put was refused yet

  auto full = store->Put(Turn("resp_3", "", kT0));
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(full.error().param, "store");
  EXPECT_FALSE(Visible(*store, "resp_3", "key-a", kT0));
  EXPECT_EQ(stored_bytes("key-a"), 2 * one);
  EXPECT_TRUE(store->FoundFull("key-a"));
  auto check = store->CheckRoom("key-a");
  ASSERT_FALSE(check.has_value());
  EXPECT_EQ(check.error().message, full.error().message);
  ASSERT_TRUE(store->Put(Turn("resp_4", "", kT0, "key-b")));  // another owner stores
  EXPECT_EQ(stored_bytes("key-b"), one);
  EXPECT_FALSE(store->FoundFull("key-b"));

  ASSERT_TRUE(store->Delete("resp_1", "key-a", kT0).has_value());
  EXPECT_EQ(stored_bytes("key-a"), one);
  EXPECT_TRUE(store->FoundFull("key-a"));  // until a check reads the bytes again
  EXPECT_TRUE(store->CheckRoom("key-a"));
  EXPECT_FALSE(store->FoundFull("key-a"));
  ASSERT_TRUE(store->Put(Turn("resp_3", "", kT0)));
  auto swept = store->Sweep(kT0 + 2h, 100);
  ASSERT_TRUE(swept.has_value());
  EXPECT_EQ(*swept, 3);
  EXPECT_EQ(stored_bytes("key-a"), 0);
  EXPECT_EQ(stored_bytes("key-b"), 0);
}

TEST_P(ResponseStoreTest, AStoredIdCannotBeOverwritten) {
  auto store = OpenStore({});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put(Turn("resp_1", "", kT0, "key-a")));
  auto again = store->Put(Turn("resp_1", "", kT0, "key-b"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, core::Errc::kInternal);
  EXPECT_TRUE(Visible(*store, "resp_1", "key-a", kT0));
  EXPECT_FALSE(Visible(*store, "resp_1", "key-b", kT0));
}

// At the turn bound, whether the next turn exists is not looked up: too long either way.
TEST_P(ResponseStoreTest, AChainAtTheTurnBoundIsTooLongEvenIfItsNextTurnIsMissing) {
  auto store = OpenStore({});
  ASSERT_NE(store, nullptr);
  PutChain(*store, 5);
  auto deleted = store->Delete("resp_2", "key-a", kT0);
  ASSERT_TRUE(deleted.has_value() && *deleted);
  auto chain = store->Conversation("resp_5", "key-a", kT0, 3, 1 << 20);
  ASSERT_FALSE(chain.has_value());
  EXPECT_NE(chain.error().message.find("more than 3 turns"), std::string::npos);
  ExpectNoConversation(*store, "resp_5", "key-a", kT0);  // one turn more allowed: missing
}

// Threads (the gateway's blocking pool) put and read at once, each its own conversation.
TEST_P(ResponseStoreTest, ConcurrentPutsAndReadsSeeEveryRow) {
  auto store = OpenStore({.sweep_every_puts = 50});
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 6;
  constexpr int kPerThread = 60;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      const std::string owner = "key-" + std::to_string(t);
      const std::string prefix = "resp_" + std::to_string(t) + "_";
      for (int i = 0; i < kPerThread; ++i) {
        const std::string previous = i == 0 ? "" : prefix + std::to_string(i - 1);
        if (!store->Put(Turn(prefix + std::to_string(i), previous, kT0 + i * 1ms, owner))) {
          ++failures;
        }
        auto got = store->Get(prefix + std::to_string(i), owner, kT0);
        if (!got || !got->has_value()) ++failures;
      }
      auto chain = store->Conversation(prefix + std::to_string(kPerThread - 1), owner, kT0,
                                       kPerThread, 1 << 24);
      if (!chain || chain->size() != static_cast<size_t>(kPerThread)) ++failures;
    });
  }
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(db_->QueryInt("SELECT COUNT(*) FROM responses"), kThreads * kPerThread);
  EXPECT_EQ(store->sweep_errors(), 0u);
}

}  // namespace sy::ledger::test
