#include "tests/testutil/redis_server.h"

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
std::unique_ptr<RedisServer> TimedStart(std::string* error, std::string password = "") {
  const auto begin = std::chrono::steady_clock::now();
  auto started = RedisServer::Start(std::move(password));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - begin);
  if (!started) {
    *error = started.error().message;
    return nullptr;
  }
  std::cerr << "RedisServer::Start took " << took.count() << " ms (port " << (*started)->port()
            << ")\n";
  return *std::move(started);
}

bool ProcessExists(pid_t pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

std::string Text(const core::Result<std::string>& reply) {
  return reply ? *reply : "error: " + reply.error().message;
}

// One server for the tests that stop and restart it.
class RedisServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = TimedStart(&start_error_); }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { ASSERT_NE(server_, nullptr) << "RedisServer::Start: " << start_error_; }

  static std::unique_ptr<RedisServer> server_;
  static std::string start_error_;
};
std::unique_ptr<RedisServer> RedisServerTest::server_;
std::string RedisServerTest::start_error_;

TEST_F(RedisServerTest, AnswersCommandsOnItsUrl) {
  EXPECT_EQ(server_->url(), "redis://127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_NE(server_->port(), 6379);
  EXPECT_EQ(Text(server_->Command({"PING"})), "PONG");
  EXPECT_EQ(Text(server_->Command({"SET", "k", "v"})), "OK");
  EXPECT_EQ(Text(server_->Command({"GET", "k"})), "v");
  EXPECT_EQ(Text(server_->Command({"INCRBY", "n", "41"})), "41");
  EXPECT_EQ(Text(server_->Command({"GET", "missing"})), "");
  EXPECT_EQ(Text(server_->Command({"RPUSH", "list", "a", "b", "c"})), "3");
  EXPECT_EQ(Text(server_->Command({"LRANGE", "list", "0", "-1"})), "a\nb\nc");
  EXPECT_EQ(Text(server_->Command({"MGET", "k", "missing", "k"})), "v\n\nv");

  auto refused = server_->Command({"INCR", "k"});  // not an integer
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("not an integer"), std::string::npos)
      << refused.error().message;
  EXPECT_FALSE(server_->Command({}).has_value());

  // The test-only settings are in force.
  EXPECT_EQ(Text(server_->Command({"CONFIG", "GET", "save"})), "save\n");
  EXPECT_EQ(Text(server_->Command({"CONFIG", "GET", "appendonly"})), "appendonly\nno");
  EXPECT_EQ(Text(server_->Command({"CONFIG", "GET", "bind"})), "bind\n127.0.0.1");
  EXPECT_EQ(Text(server_->Command({"CONFIG", "GET", "dir"})), "dir\n" + server_->dir());
  EXPECT_TRUE(std::filesystem::exists(server_->dir() + "/redis.log"));
}

TEST_F(RedisServerTest, RestartKeepsThePortAndEmptiesTheData) {
  ASSERT_EQ(Text(server_->Command({"SET", "before", "stop"})), "OK");
  const int port = server_->port();
  const pid_t first = server_->pid();
  ASSERT_GT(first, 0);

  auto stopped = server_->Stop();
  ASSERT_TRUE(stopped.has_value()) << stopped.error().message;
  EXPECT_EQ(server_->pid(), 0);
  EXPECT_FALSE(ProcessExists(first));
  EXPECT_FALSE(server_->Command({"PING"}).has_value());
  EXPECT_TRUE(server_->Stop().has_value());  // idempotent

  const auto begin = std::chrono::steady_clock::now();
  auto restarted = server_->Restart();
  ASSERT_TRUE(restarted.has_value()) << restarted.error().message;
  std::cerr << "RedisServer::Restart took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - begin)
                   .count()
            << " ms\n";
  EXPECT_EQ(server_->port(), port);
  EXPECT_GT(server_->pid(), 0);
  EXPECT_NE(server_->pid(), first);
  EXPECT_EQ(Text(server_->Command({"PING"})), "PONG");
  EXPECT_EQ(Text(server_->Command({"EXISTS", "before"})), "0");  // no persistence
}

// redis-server failing to bind is detected (Start() retries on a fresh port when it happens).
TEST_F(RedisServerTest, RestartReportsATakenPort) {
  ASSERT_TRUE(server_->Stop().has_value());
  const auto taken = detail::ListenOnLoopback(server_->port());
  ASSERT_TRUE(taken.has_value()) << taken.error().message;

  auto blocked = server_->Restart();
  close(*taken);
  ASSERT_FALSE(blocked.has_value());
  EXPECT_NE(blocked.error().message.find("was taken"), std::string::npos)
      << blocked.error().message;
  EXPECT_EQ(server_->pid(), 0);

  auto restarted = server_->Restart();
  ASSERT_TRUE(restarted.has_value()) << restarted.error().message;
  EXPECT_EQ(Text(server_->Command({"PING"})), "PONG");
}

TEST(RedisServerPasswordTest, RequiresThePasswordItWasGiven) {
  std::string error;
  auto server = TimedStart(&error, "s3cret");
  ASSERT_NE(server, nullptr) << error;
  EXPECT_EQ(server->url(), "redis://:s3cret@127.0.0.1:" + std::to_string(server->port()));
  EXPECT_EQ(Text(server->Command({"PING"})), "PONG");  // Command() authenticates
  EXPECT_EQ(Text(server->Command({"CONFIG", "GET", "requirepass"})), "requirepass\ns3cret");
}

TEST(RedisServerSharedTest, OneServerPerBinary) {
  RedisServer& shared = SharedRedisServer();
  EXPECT_EQ(&shared, &SharedRedisServer());
  EXPECT_GT(shared.pid(), 0);
  EXPECT_EQ(Text(shared.Command({"PING"})), "PONG");
}

// The destructor is what every fixture relies on, so this one test starts its own server.
TEST(RedisServerLifetimeTest, DestructorLeavesNoProcessAndNoDirectory) {
  std::string error;
  auto server = TimedStart(&error);
  ASSERT_NE(server, nullptr) << error;
  const pid_t pid = server->pid();
  const std::string dir = server->dir();
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(ProcessExists(pid));
  ASSERT_TRUE(std::filesystem::exists(dir + "/redis.conf"));

  server.reset();
  EXPECT_FALSE(ProcessExists(pid));
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace sy::testutil
