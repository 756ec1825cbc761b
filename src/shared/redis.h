// shared::RedisConnection: one blocking connection to Redis (hiredis), for the threads that own
// the gateway's shared state (shared/counters.h). Never used on a request worker: every call
// blocks up to the I/O timeout.
//
// URL: redis://[[user]:password@]host[:port][/db] (port 6379, db 0 by default); rediss:// (TLS)
// is refused with a clear error (hiredis 0.14 has no TLS). A password is sent with AUTH after
// connecting, a db with SELECT. The password is never in a message: errors name the server as
// redis://host:port/db.
//
// Failure: a network error, a timeout or a protocol error breaks the connection (ok() turns
// false, the socket is closed) and is a kInternal error naming the server; every later call
// fails at once and the owner reconnects with Connect. An error reply of the server
// ("-ERR ...", "-NOSCRIPT ...") is not a broken connection: it comes back as a RedisReply of
// type kError. A server gone away never ends the process by SIGPIPE: calls block SIGPIPE in
// their thread and swallow the one they raised, whatever the process's disposition.
//
// Thread-safety: one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

struct redisContext;

namespace sy::shared {

// Where a redis:// URL points and what it must never show.
struct RedisTarget {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string username;  // "" = none (AUTH with the password only)
  std::string password;  // "" = no AUTH
  std::string display;   // "redis://host:port/db"
};

// Parses a redis:// URL (see above). The user and the password are percent-decoded; the host is
// a hostname, an IPv4 address or an IPv6 address in brackets ([::1]); the db is 0..15; a query
// string or fragment is refused. Fails with kInvalidRequest naming no part of the URL (a
// password with an unencoded '/' or '?' could otherwise be shown as the "host" or "db").
core::Result<RedisTarget> ParseRedisUrl(const std::string& url);

struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;               // kInteger
  std::string text;                  // kString, kStatus, kError
  std::vector<RedisReply> elements;  // kArray
};

// A Lua script, sent by EVALSHA (its SHA-1 computed once) and by EVAL when the server answers
// NOSCRIPT (a restarted or flushed server).
class RedisScript {
 public:
  explicit RedisScript(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }  // 40 lowercase hex digits

 private:
  std::string source_;
  std::string sha1_;
};

class RedisConnection {
 public:
  // Connects (bounded by connect_timeout; resolving a hostname is not), sets the I/O timeout
  // (each read and each write; 0 = none) for every later call, sends AUTH and SELECT when the
  // target needs them. Fails with kInternal naming target.display (a refused AUTH too: the
  // message says the credentials were refused).
  static core::Result<RedisConnection> Connect(const RedisTarget& target,
                                               std::chrono::milliseconds connect_timeout,
                                               std::chrono::milliseconds io_timeout);
  RedisConnection() = default;
  RedisConnection(RedisConnection&& other) noexcept;
  RedisConnection& operator=(RedisConnection&& other) noexcept;
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;
  ~RedisConnection();

  bool ok() const;  // connected and not broken (false when default-constructed or moved from)

  // One command, its arguments binary-safe. Fails (without breaking) on an empty command.
  core::Result<RedisReply> Command(std::span<const std::string> args);
  // Several commands in one round trip (pipelined); one reply per command, in order. On a
  // broken connection no reply is returned, though some commands may have run.
  core::Result<std::vector<RedisReply>> Pipeline(
      std::span<const std::vector<std::string>> commands);
  // EVALSHA script keys... args..., falling back to EVAL once on NOSCRIPT.
  core::Result<RedisReply> Eval(const RedisScript& script, std::span<const std::string> keys,
                                std::span<const std::string> args);

 private:
  RedisConnection(redisContext* context, std::string display)
      : context_(context), display_(std::move(display)) {}
  core::Error Broken(std::string_view what);

  redisContext* context_ = nullptr;
  std::string display_;
};

}  // namespace sy::shared
