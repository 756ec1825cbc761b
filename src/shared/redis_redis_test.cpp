// RedisConnection against a real redis-server (tests/testutil/redis_server.h): the shared one
// where the server is only used, a server of the test's own where it is stopped, restarted,
// paused or needs a password.
#include "shared/redis.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/testutil/redis_server.h"

namespace sy::shared {
namespace {

using std::chrono::milliseconds;
using testutil::RedisServer;
using testutil::SharedRedisServer;
using Args = std::vector<std::string>;
using Type = RedisReply::Type;

constexpr milliseconds kConnectTimeout{2000};
constexpr milliseconds kIoTimeout{5000};

RedisTarget Target(const std::string& url) {
  auto target = ParseRedisUrl(url);
  EXPECT_TRUE(target.has_value()) << target.error().message;
  return target ? *target : RedisTarget{};
}

RedisConnection MustConnect(const std::string& url, milliseconds io_timeout = kIoTimeout) {
  auto connection = RedisConnection::Connect(Target(url), kConnectTimeout, io_timeout);
  EXPECT_TRUE(connection.has_value()) << connection.error().message;
  if (!connection) return RedisConnection();
  return *std::move(connection);
}

std::unique_ptr<RedisServer> MustStart(const std::string& password = "") {
  auto server = RedisServer::Start(password);
  EXPECT_TRUE(server.has_value()) << server.error().message;
  return server ? *std::move(server) : nullptr;
}

// A RedisServer::Command reply, or its error spelled out for the assertion's message.
std::string Text(const core::Result<std::string>& reply) {
  return reply ? *reply : "error: " + reply.error().message;
}

milliseconds Since(std::chrono::steady_clock::time_point begin) {
  return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - begin);
}

std::string Display(const RedisServer& server, int db = 0) {
  return "redis://127.0.0.1:" + std::to_string(server.port()) + "/" + std::to_string(db);
}

TEST(RedisConnectionTest, SetsAndGetsABinaryValue) {
  RedisConnection redis = MustConnect(SharedRedisServer().url());
  ASSERT_TRUE(redis.ok());
  const std::string key("binary:\0key", 11);
  const std::string value("a\0b\r\n\xff\0", 7);
  auto set = redis.Command(Args{"SET", key, value});
  ASSERT_TRUE(set.has_value()) << set.error().message;
  EXPECT_EQ(set->type, Type::kStatus);
  EXPECT_EQ(set->text, "OK");

  auto get = redis.Command(Args{"GET", key});
  ASSERT_TRUE(get.has_value()) << get.error().message;
  EXPECT_EQ(get->type, Type::kString);
  EXPECT_EQ(get->text, value);
  EXPECT_EQ(get->text.size(), 7U);

  auto missing = redis.Command(Args{"GET", "binary:missing"});
  ASSERT_TRUE(missing.has_value()) << missing.error().message;
  EXPECT_EQ(missing->type, Type::kNil);
  EXPECT_EQ(missing->text, "");
}

TEST(RedisConnectionTest, IncrementsIntegers) {
  RedisConnection redis = MustConnect(SharedRedisServer().url());
  ASSERT_TRUE(redis.Command(Args{"DEL", "incr:n"}).has_value());
  auto first = redis.Command(Args{"INCRBY", "incr:n", "5"});
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->type, Type::kInteger);
  EXPECT_EQ(first->integer, 5);
  auto second = redis.Command(Args{"INCRBY", "incr:n", "-7"});
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(second->integer, -2);
  auto big = redis.Command(Args{"INCRBY", "incr:n", "9000000000000000002"});
  ASSERT_TRUE(big.has_value()) << big.error().message;
  EXPECT_EQ(big->integer, int64_t{9'000'000'000'000'000'000});
  EXPECT_EQ(Text(SharedRedisServer().Command({"GET", "incr:n"})), "9000000000000000000");
}

TEST(RedisConnectionTest, PipelineAnswersEachCommandInOrder) {
  RedisConnection redis = MustConnect(SharedRedisServer().url());
  const std::vector<Args> commands = {{"SET", "pipe:n", "1"},
                                      {"INCR", "pipe:n"},
                                      {"GET", "pipe:n"},
                                      {"MGET", "pipe:n", "pipe:missing"}};
  auto replies = redis.Pipeline(commands);
  ASSERT_TRUE(replies.has_value()) << replies.error().message;
  ASSERT_EQ(replies->size(), 4U);
  EXPECT_EQ((*replies)[0].type, Type::kStatus);
  EXPECT_EQ((*replies)[0].text, "OK");
  EXPECT_EQ((*replies)[1].type, Type::kInteger);
  EXPECT_EQ((*replies)[1].integer, 2);
  EXPECT_EQ((*replies)[2].type, Type::kString);
  EXPECT_EQ((*replies)[2].text, "2");
  ASSERT_EQ((*replies)[3].type, Type::kArray);
  ASSERT_EQ((*replies)[3].elements.size(), 2U);
  EXPECT_EQ((*replies)[3].elements[0].text, "2");
  EXPECT_EQ((*replies)[3].elements[1].type, Type::kNil);

  auto none = redis.Pipeline({});
  ASSERT_TRUE(none.has_value()) << none.error().message;
  EXPECT_TRUE(none->empty());

  // A malformed pipeline is refused before anything is sent: the connection stays in step.
  const std::vector<Args> with_empty = {{"INCR", "pipe:n"}, {}};
  EXPECT_FALSE(redis.Pipeline(with_empty).has_value());
  EXPECT_TRUE(redis.ok());
  auto after = redis.Command(Args{"GET", "pipe:n"});
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_EQ(after->text, "2");
}

TEST(RedisConnectionTest, AnErrorReplyIsAReplyNotABrokenConnection) {
  RedisConnection redis = MustConnect(SharedRedisServer().url());
  ASSERT_TRUE(redis.Command(Args{"SET", "error:text", "not a number"}).has_value());
  auto incr = redis.Command(Args{"INCR", "error:text"});
  ASSERT_TRUE(incr.has_value()) << incr.error().message;
  EXPECT_EQ(incr->type, Type::kError);
  EXPECT_EQ(incr->text, "ERR value is not an integer or out of range");
  EXPECT_TRUE(redis.ok());

  const std::vector<Args> commands = {{"NOSUCHCOMMAND"}, {"PING"}};
  auto replies = redis.Pipeline(commands);
  ASSERT_TRUE(replies.has_value()) << replies.error().message;
  EXPECT_EQ((*replies)[0].type, Type::kError);
  EXPECT_EQ((*replies)[0].text.rfind("ERR unknown command", 0), 0U) << (*replies)[0].text;
  EXPECT_EQ((*replies)[1].text, "PONG");
  EXPECT_TRUE(redis.ok());
  EXPECT_FALSE(redis.Command(Args{}).has_value());  // refused, nothing sent
  EXPECT_TRUE(redis.ok());
}

TEST(RedisConnectionTest, SelectsTheUrlsDatabase) {
  const std::string base = SharedRedisServer().url();
  RedisConnection db3 = MustConnect(base + "/3");
  RedisConnection db0 = MustConnect(base + "/0");
  ASSERT_TRUE(db3.Command(Args{"SET", "select:k", "in 3"}).has_value());
  auto from3 = db3.Command(Args{"GET", "select:k"});
  auto from0 = db0.Command(Args{"GET", "select:k"});
  ASSERT_TRUE(from3.has_value() && from0.has_value());
  EXPECT_EQ(from3->text, "in 3");
  EXPECT_EQ(from0->type, Type::kNil);
}

TEST(RedisConnectionTest, EvalFallsBackToTheSourceOnNoscript) {
  RedisConnection redis = MustConnect(SharedRedisServer().url());
  const RedisScript pair("return {1, 'x'}");
  auto first = redis.Eval(pair, {}, {});
  ASSERT_TRUE(first.has_value()) << first.error().message;
  ASSERT_EQ(first->type, Type::kArray);
  ASSERT_EQ(first->elements.size(), 2U);
  EXPECT_EQ(first->elements[0].type, Type::kInteger);
  EXPECT_EQ(first->elements[0].integer, 1);
  EXPECT_EQ(first->elements[1].type, Type::kString);
  EXPECT_EQ(first->elements[1].text, "x");
  // The server knows the script by the SHA-1 we computed.
  EXPECT_EQ(Text(SharedRedisServer().Command({"SCRIPT", "EXISTS", pair.sha1()})), "1");

  // Flushed (as by a restart): EVALSHA answers NOSCRIPT, EVAL runs and caches it again.
  ASSERT_EQ(Text(SharedRedisServer().Command({"SCRIPT", "FLUSH"})), "OK");
  ASSERT_EQ(Text(SharedRedisServer().Command({"SCRIPT", "EXISTS", pair.sha1()})), "0");
  auto again = redis.Eval(pair, {}, {});
  ASSERT_TRUE(again.has_value()) << again.error().message;
  ASSERT_EQ(again->type, Type::kArray);
  ASSERT_EQ(again->elements.size(), 2U);
  EXPECT_EQ(again->elements[0].integer, 1);
  EXPECT_EQ(again->elements[1].text, "x");
  EXPECT_EQ(Text(SharedRedisServer().Command({"SCRIPT", "EXISTS", pair.sha1()})), "1");

  // Keys and arguments reach the script, in their places.
  const RedisScript add("return {KEYS[1], ARGV[1], redis.call('INCRBY', KEYS[1], ARGV[1])}");
  ASSERT_TRUE(redis.Command(Args{"DEL", "eval:n"}).has_value());
  auto added = redis.Eval(add, Args{"eval:n"}, Args{"40"});
  ASSERT_TRUE(added.has_value()) << added.error().message;
  ASSERT_EQ(added->elements.size(), 3U);
  EXPECT_EQ(added->elements[0].text, "eval:n");
  EXPECT_EQ(added->elements[1].text, "40");
  EXPECT_EQ(added->elements[2].integer, 40);

  // A script's own error is its reply; nothing is retried.
  const RedisScript failing("return redis.error_reply('over budget')");
  auto refused = redis.Eval(failing, {}, {});
  ASSERT_TRUE(refused.has_value()) << refused.error().message;
  EXPECT_EQ(refused->type, Type::kError);
  EXPECT_EQ(refused->text, "over budget");
  EXPECT_TRUE(redis.ok());
}

TEST(RedisConnectionTest, MovesOwnTheConnection) {
  RedisConnection first = MustConnect(SharedRedisServer().url());
  RedisConnection second(std::move(first));
  EXPECT_FALSE(first.ok());  // NOLINT(bugprone-use-after-move): a moved-from one is not ok
  ASSERT_TRUE(second.ok());
  RedisConnection third;
  third = std::move(second);
  auto pong = third.Command(Args{"PING"});
  ASSERT_TRUE(pong.has_value()) << pong.error().message;
  EXPECT_EQ(pong->text, "PONG");
}

TEST(RedisAuthTest, TheRightPasswordWorksAWrongOneIsRefusedUnnamed) {
  auto server = MustStart("s3cret");
  ASSERT_NE(server, nullptr);
  const std::string hostport = "127.0.0.1:" + std::to_string(server->port());

  RedisConnection redis = MustConnect(server->url());
  auto pong = redis.Command(Args{"PING"});
  ASSERT_TRUE(pong.has_value()) << pong.error().message;
  EXPECT_EQ(pong->text, "PONG");
  // AUTH user password (Redis 6 ACL form), for the default user.
  RedisConnection as_user = MustConnect("redis://default:s3cret@" + hostport + "/1");
  ASSERT_TRUE(as_user.ok());

  const auto begin = std::chrono::steady_clock::now();
  auto wrong = RedisConnection::Connect(Target("redis://:wr0ng-pass@" + hostport), kConnectTimeout,
                                        kIoTimeout);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_LT(Since(begin), milliseconds(1000));
  EXPECT_EQ(wrong.error().code, core::Errc::kInternal);
  EXPECT_NE(wrong.error().message.find("Redis at " + Display(*server) + ": "), std::string::npos)
      << wrong.error().message;
  EXPECT_NE(wrong.error().message.find("the credentials were refused"), std::string::npos)
      << wrong.error().message;
  EXPECT_EQ(wrong.error().message.find("wr0ng-pass"), std::string::npos) << wrong.error().message;

  auto wrong_user = RedisConnection::Connect(Target("redis://nobody:s3cret@" + hostport),
                                             kConnectTimeout, kIoTimeout);
  ASSERT_FALSE(wrong_user.has_value());
  EXPECT_NE(wrong_user.error().message.find("the credentials were refused"), std::string::npos);
  EXPECT_EQ(wrong_user.error().message.find("s3cret"), std::string::npos);

  // Without a password the connection opens, and the server refuses each command.
  RedisConnection anonymous = MustConnect("redis://" + hostport);
  auto refused = anonymous.Command(Args{"GET", "k"});
  ASSERT_TRUE(refused.has_value()) << refused.error().message;
  EXPECT_EQ(refused->type, Type::kError);
  EXPECT_EQ(refused->text.rfind("NOAUTH", 0), 0U) << refused->text;
}

TEST(RedisConnectionTest, AStoppedServerFailsFastNamingItWithoutThePassword) {
  auto server = MustStart("s3cret");
  ASSERT_NE(server, nullptr);
  const std::string url = server->url();
  ASSERT_TRUE(server->Stop().has_value());

  const auto begin = std::chrono::steady_clock::now();
  auto connection = RedisConnection::Connect(Target(url), milliseconds(1000), kIoTimeout);
  EXPECT_LT(Since(begin), milliseconds(1500));
  ASSERT_FALSE(connection.has_value());
  EXPECT_EQ(connection.error().code, core::Errc::kInternal);
  EXPECT_NE(connection.error().message.find("Redis at " + Display(*server) + ": connect: "),
            std::string::npos)
      << connection.error().message;
  EXPECT_EQ(connection.error().message.find("s3cret"), std::string::npos);
}

TEST(RedisConnectionTest, AServerGoneBreaksTheConnectionAndANewOneWorksAfterRestart) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  RedisConnection redis = MustConnect(server->url() + "/2");
  ASSERT_TRUE(redis.Command(Args{"PING"}).has_value());
  ASSERT_TRUE(server->Stop().has_value());

  auto lost = redis.Command(Args{"PING"});
  ASSERT_FALSE(lost.has_value());
  EXPECT_EQ(lost.error().code, core::Errc::kInternal);
  EXPECT_NE(lost.error().message.find("Redis at " + Display(*server, 2) + ": command PING: "),
            std::string::npos)
      << lost.error().message;
  EXPECT_FALSE(redis.ok());
  auto after = redis.Command(Args{"PING"});  // fails at once, nothing sent
  ASSERT_FALSE(after.has_value());
  EXPECT_NE(after.error().message.find("not connected"), std::string::npos);
  EXPECT_FALSE(redis.Pipeline(std::vector<Args>{{"PING"}}).has_value());

  ASSERT_TRUE(server->Restart().has_value());
  EXPECT_FALSE(redis.ok());  // a broken connection stays broken
  RedisConnection fresh = MustConnect(server->url() + "/2");
  auto pong = fresh.Command(Args{"PING"});
  ASSERT_TRUE(pong.has_value()) << pong.error().message;
  EXPECT_EQ(pong->text, "PONG");
}

// hiredis writes with write(2): a large write to a server gone away raises SIGPIPE, which
// would end the test process unless the connection blocks and swallows it.
TEST(RedisConnectionTest, AWriteToAServerGoneIsAnErrorNotSigpipe) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  RedisConnection redis = MustConnect(server->url());
  ASSERT_TRUE(redis.Command(Args{"PING"}).has_value());
  ASSERT_TRUE(server->Stop().has_value());

  const std::string big(32 << 20, 'x');  // larger than any socket buffer
  auto lost = redis.Command(Args{"SET", "big", big});
  ASSERT_FALSE(lost.has_value());
  EXPECT_NE(lost.error().message.find("command SET"), std::string::npos) << lost.error().message;
  EXPECT_FALSE(redis.ok());
}

TEST(RedisConnectionTest, AnIoTimeoutBreaksTheConnectionInTime) {
  auto server = MustStart();  // its own: a paused server holds every client
  ASSERT_NE(server, nullptr);
  RedisConnection control = MustConnect(server->url());
  RedisConnection redis = MustConnect(server->url(), milliseconds(200));
  auto paused = control.Command(Args{"CLIENT", "PAUSE", "1500", "ALL"});
  ASSERT_TRUE(paused.has_value()) << paused.error().message;
  ASSERT_EQ(paused->text, "OK");

  const auto begin = std::chrono::steady_clock::now();
  auto late = redis.Command(Args{"PING"});
  const milliseconds took = Since(begin);
  ASSERT_FALSE(late.has_value());
  EXPECT_GE(took, milliseconds(150));
  EXPECT_LT(took, milliseconds(1000));
  EXPECT_EQ(late.error().code, core::Errc::kInternal);
  EXPECT_NE(
      late.error().message.find("Redis at " + Display(*server) + ": command PING: I/O timeout"),
      std::string::npos)
      << late.error().message;
  EXPECT_FALSE(redis.ok());
}

}  // namespace
}  // namespace sy::shared
