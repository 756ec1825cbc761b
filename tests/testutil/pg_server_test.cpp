#include "tests/testutil/pg_server.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <sys/types.h>
#include <unistd.h>

#include "tests/testutil/process.h"

namespace sy::testutil {
namespace {

// Reports how long a Start() took, for the log (and CI timing).
std::unique_ptr<PgServer> TimedStart(std::string* error) {
  const auto begin = std::chrono::steady_clock::now();
  auto started = PgServer::Start();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - begin);
  if (!started) {
    *error = started.error().message;
    return nullptr;
  }
  std::cerr << "PgServer::Start took " << took.count() << " ms (port " << (*started)->port()
            << ")\n";
  return *std::move(started);
}

bool ProcessExists(pid_t pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

// One server for the whole binary: starting one costs about a second.
class PgServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = TimedStart(&start_error_); }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { ASSERT_NE(server_, nullptr) << "PgServer::Start: " << start_error_; }

  static std::unique_ptr<PgServer> server_;
  static std::string start_error_;
};
std::unique_ptr<PgServer> PgServerTest::server_;
std::string PgServerTest::start_error_;

TEST_F(PgServerTest, AnswersQueriesOnItsUrl) {
  EXPECT_EQ(server_->url(),
            "postgresql://switchyard@127.0.0.1:" + std::to_string(server_->port()) + "/switchyard");
  auto one = server_->QueryScalar("SELECT 1");
  ASSERT_TRUE(one.has_value()) << one.error().message;
  EXPECT_EQ(*one, "1");
  auto db = server_->QueryScalar("SELECT current_database() || ' ' || current_user");
  ASSERT_TRUE(db.has_value()) << db.error().message;
  EXPECT_EQ(*db, "switchyard switchyard");
  auto none = server_->QueryScalar("SELECT 1 WHERE false");
  ASSERT_TRUE(none.has_value()) << none.error().message;
  EXPECT_EQ(*none, "");
  EXPECT_FALSE(server_->QueryScalar("SELECT * FROM no_such_table").has_value());
}

TEST_F(PgServerTest, RestartKeepsDataAndPort) {
  ASSERT_TRUE(server_->QueryScalar("CREATE TABLE kept (v text)").has_value());
  ASSERT_TRUE(server_->QueryScalar("INSERT INTO kept VALUES ('before stop')").has_value());
  const int port = server_->port();
  const pid_t first = server_->postmaster_pid();
  ASSERT_GT(first, 0);

  auto stopped = server_->Stop();
  ASSERT_TRUE(stopped.has_value()) << stopped.error().message;
  EXPECT_EQ(server_->postmaster_pid(), 0);
  EXPECT_FALSE(ProcessExists(first));
  EXPECT_FALSE(server_->QueryScalar("SELECT 1").has_value());
  EXPECT_TRUE(server_->Stop().has_value());  // idempotent

  const auto begin = std::chrono::steady_clock::now();
  auto restarted = server_->Restart();
  ASSERT_TRUE(restarted.has_value()) << restarted.error().message;
  std::cerr << "PgServer::Restart took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - begin)
                   .count()
            << " ms\n";
  EXPECT_EQ(server_->port(), port);
  EXPECT_GT(server_->postmaster_pid(), 0);
  auto kept = server_->QueryScalar("SELECT v FROM kept");
  ASSERT_TRUE(kept.has_value()) << kept.error().message;
  EXPECT_EQ(*kept, "before stop");
  ASSERT_TRUE(server_->QueryScalar("DROP TABLE kept").has_value());
}

// Postgres failing to bind is detected (Start() retries on a fresh port when it happens).
TEST_F(PgServerTest, RestartReportsATakenPort) {
  ASSERT_TRUE(server_->Stop().has_value());
  const auto taken = detail::ListenOnLoopback(server_->port());
  ASSERT_TRUE(taken.has_value()) << taken.error().message;

  auto blocked = server_->Restart();
  close(*taken);
  ASSERT_FALSE(blocked.has_value());
  EXPECT_NE(blocked.error().message.find("was taken"), std::string::npos)
      << blocked.error().message;
  EXPECT_EQ(server_->postmaster_pid(), 0);

  auto restarted = server_->Restart();
  ASSERT_TRUE(restarted.has_value()) << restarted.error().message;
  EXPECT_TRUE(server_->QueryScalar("SELECT 1").has_value());
}

// The destructor is what every fixture relies on, so this one test starts its own server.
TEST(PgServerLifetimeTest, DestructorLeavesNoProcessAndNoDirectory) {
  std::string error;
  auto server = TimedStart(&error);
  ASSERT_NE(server, nullptr) << error;
  const pid_t postmaster = server->postmaster_pid();
  const std::string dir = server->dir();
  ASSERT_GT(postmaster, 0);
  ASSERT_TRUE(ProcessExists(postmaster));
  ASSERT_TRUE(std::filesystem::exists(dir + "/data/PG_VERSION"));

  server.reset();
  EXPECT_FALSE(ProcessExists(postmaster));
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace sy::testutil
