#include "shared/redis.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sy::shared {
namespace {

struct GoodUrl {
  std::string url;
  std::string host;
  int port;
  int db;
  std::string username;
  std::string password;
  std::string display;
};

TEST(ParseRedisUrlTest, AcceptsEveryForm) {
  const std::vector<GoodUrl> cases = {
      {"redis://localhost", "localhost", 6379, 0, "", "", "redis://localhost:6379/0"},
      {"redis://127.0.0.1:6380", "127.0.0.1", 6380, 0, "", "", "redis://127.0.0.1:6380/0"},
      {"redis://cache.internal/3", "cache.internal", 6379, 3, "", "",
       "redis://cache.internal:6379/3"},
      {"redis://h:1/", "h", 1, 0, "", "", "redis://h:1/0"},
      {"redis://h:65535/15", "h", 65535, 15, "", "", "redis://h:65535/15"},
      {"REDIS://Host-1_a:7000", "Host-1_a", 7000, 0, "", "", "redis://Host-1_a:7000/0"},
      {"redis://:s3cret@h", "h", 6379, 0, "", "s3cret", "redis://h:6379/0"},
      {"redis://gw:s3cret@h:7000/2", "h", 7000, 2, "gw", "s3cret", "redis://h:7000/2"},
      // Percent-encoded user and password; the last '@' ends them, so an unencoded one is kept.
      {"redis://g%40w:p%3Aa%2Fs%25s%20@h", "h", 6379, 0, "g@w", "p:a/s%s ", "redis://h:6379/0"},
      {"redis://:p@ss:w/rd?#@h", "h", 6379, 0, "", "p@ss:w/rd?#", "redis://h:6379/0"},
      {"redis://[::1]", "::1", 6379, 0, "", "", "redis://[::1]:6379/0"},
      {"redis://:pw@[fe80::1:2]:6390/1", "fe80::1:2", 6390, 1, "", "pw",
       "redis://[fe80::1:2]:6390/1"},
      {"redis://[::ffff:127.0.0.1]:1", "::ffff:127.0.0.1", 1, 0, "", "",
       "redis://[::ffff:127.0.0.1]:1/0"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.url);
    auto target = ParseRedisUrl(c.url);
    ASSERT_TRUE(target.has_value()) << target.error().message;
    EXPECT_EQ(target->host, c.host);
    EXPECT_EQ(target->port, c.port);
    EXPECT_EQ(target->db, c.db);
    EXPECT_EQ(target->username, c.username);
    EXPECT_EQ(target->password, c.password);
    EXPECT_EQ(target->display, c.display);
  }
}

struct BadUrl {
  std::string url;
  std::string says;  // a part of the message
};

TEST(ParseRedisUrlTest, RefusesWhatItCannotUse) {
  const std::vector<BadUrl> cases = {
      {"", "must start with redis://"},
      {"localhost:6379", "must start with redis://"},
      {"http://h", "must start with redis://"},
      {"rediss://:hunter2@h", "TLS (rediss://) is not supported"},
      {"RediSS://h", "TLS (rediss://) is not supported"},
      {"redis://", "no host"},
      {"redis://:hunter2@", "no host"},
      {"redis://:6379", "no host"},
      {"redis://::1", "no host"},
      {"redis://h:0", "port must be a number from 1 to 65535"},
      {"redis://h:65536", "port must be a number from 1 to 65535"},
      {"redis://h:", "port must be a number from 1 to 65535"},
      {"redis://h:-1", "port must be a number from 1 to 65535"},
      {"redis://h:+80", "port must be a number from 1 to 65535"},
      {"redis://h:80x", "port must be a number from 1 to 65535"},
      {"redis://h:9999999", "port must be a number from 1 to 65535"},
      {"redis://[::1]x", "port must be a number from 1 to 65535"},
      {"redis://h/16", "must be a number from 0 to 15"},
      {"redis://h/-1", "must be a number from 0 to 15"},
      {"redis://h/01x", "must be a number from 0 to 15"},
      {"redis://h/001", "must be a number from 0 to 15"},
      {"redis://h/1/2", "must be a number from 0 to 15"},
      {"redis://h/db", "must be a number from 0 to 15"},
      {"redis://h?db=1", "query strings"},
      {"redis://h/0?timeout=1", "query strings"},
      {"redis://:hunter2@h#frag", "query strings"},
      {"redis://h o", "the host must be"},
      {"redis://h%41", "the host must be"},
      {"redis://[::1", "closing ']'"},
      {"redis://[zz::1]", "IPv6 address in [...] is malformed"},
      {"redis://[]", "IPv6 address in [...] is malformed"},
      {"redis://hunter2@h", "a user needs a password"},
      {"redis://user:@h", "the password is empty"},
      {"redis://:@h", "the password is empty"},
      {"redis://:hunter2%@h", "malformed %-escape"},
      {"redis://:hunter2%4@h", "malformed %-escape"},
      {"redis://us%zzer:hunter2@h", "malformed %-escape"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.url);
    auto target = ParseRedisUrl(c.url);
    ASSERT_FALSE(target.has_value());
    EXPECT_EQ(target.error().code, core::Errc::kInvalidRequest);
    EXPECT_NE(target.error().message.find(c.says), std::string::npos) << target.error().message;
    // No message names any part of a URL: a misplaced password would show.
    EXPECT_EQ(target.error().message.find("hunter2"), std::string::npos) << target.error().message;
  }
}

// A password with an unencoded '/' or ':' that was not followed by '@' lands where a host, port
// or db is expected; the complaint must not quote it.
TEST(ParseRedisUrlTest, NoMessageQuotesAMisplacedPassword) {
  for (const std::string url :
       {"redis://:hunter2", "redis://h:hunter2", "redis://h/hunter2", "redis://hunter2:h/x",
        "redis://h/?hunter2", "redis://[hunter2]", "redis://hunter2 /"}) {
    SCOPED_TRACE(url);
    auto target = ParseRedisUrl(url);
    ASSERT_FALSE(target.has_value());
    EXPECT_EQ(target.error().message.find("hunter2"), std::string::npos) << target.error().message;
  }
}

TEST(RedisScriptTest, KnowsItsSha1) {
  // sha1("return 1") and sha1(""), as SCRIPT LOAD would answer.
  EXPECT_EQ(RedisScript("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  EXPECT_EQ(RedisScript("").sha1(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(RedisScript("return 1").source(), "return 1");
}

TEST(RedisConnectionTest, AnUnconnectedOneFailsWithoutCrashing) {
  RedisConnection connection;
  EXPECT_FALSE(connection.ok());
  const std::vector<std::string> ping = {"PING"};
  auto reply = connection.Command(ping);
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().code, core::Errc::kInternal);
  EXPECT_NE(reply.error().message.find("not connected"), std::string::npos);
  const std::vector<std::vector<std::string>> pipeline = {ping};
  EXPECT_FALSE(connection.Pipeline(pipeline).has_value());
  EXPECT_FALSE(connection.Eval(RedisScript("return 1"), {}, {}).has_value());
}

}  // namespace
}  // namespace sy::shared
