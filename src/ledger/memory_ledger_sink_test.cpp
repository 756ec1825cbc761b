#include "tests/testutil/memory_ledger_sink.h"

#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sy::testutil {
namespace {

using namespace std::chrono_literals;

TEST(MemoryLedgerSinkTest, CollectsRecordsFromManyThreads) {
  MemoryLedgerSink sink;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&sink, t] {
      for (int i = 0; i < 100; ++i) {
        ledger::Record r;
        r.request_id = std::to_string(t) + "-" + std::to_string(i);
        sink.Append(std::move(r));
      }
    });
  }
  EXPECT_TRUE(sink.WaitFor(400, 30s));
  for (auto& t : threads) t.join();
  EXPECT_EQ(sink.Records().size(), 400u);
  EXPECT_FALSE(sink.WaitFor(401, 1ms));
}

}  // namespace
}  // namespace sy::testutil
