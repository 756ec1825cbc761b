// RedisServer: a real, throwaway Redis server for tests (the gateway's shared state, shared/).
//
// Start() writes a config file into a fresh temporary directory and starts `redis-server` on
// 127.0.0.1 and a free port (never the 6379 of a system redis), with settings that are for tests
// only: no persistence at all (`save ""`, `appendonly no`), protected mode, the log in the
// directory, `requirepass` when a password is given. It waits until the server answers PING, so
// url() is ready to use.
//
// Binary: `redis-server` from PATH, else /usr/bin/redis-server (Debian's `redis-server`
// package). Redis runs as whoever runs the test, root included.
//
// Lifetime: the server never outlives the test process for long. It runs under
// `timeout -s TERM 1800` (SIGKILL 15 s after that SIGTERM; the wrapper also forwards the SIGTERM
// it gets when the thread that called Start() or Restart() exits), and the destructor stops it
// and removes the directory. Start and restart from a thread that outlives the server (the
// test's main thread).
//
// Thread-safety: Stop() and Restart() must not race with any other call. The const methods may be
// called concurrently with each other; each Command() opens its own connection.
//
// Cost: Start() and Restart() take tens of milliseconds; still, share one server per test binary
// (SharedRedisServer) unless a test stops, restarts or pauses it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include "core/result.h"

namespace sy::testutil {

class RedisServer {
 public:
  // Config + start + wait until it answers PING (bounded, 10 s). A non-empty `password` becomes
  // `requirepass` (the `default` user's password). Retries on a new port if redis-server could
  // not bind the one it was given. On failure everything started is stopped and the directory
  // removed; the error carries the tail of the server's log.
  static core::Result<std::unique_ptr<RedisServer>> Start(std::string password = "");

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  // Stops the server if it runs (as Stop()) and removes the temporary directory.
  ~RedisServer();

  // "redis://127.0.0.1:PORT", or "redis://:PASSWORD@127.0.0.1:PORT" (the password as given: use
  // one that needs no percent-encoding).
  std::string url() const;
  int port() const { return port_; }
  const std::string& password() const { return password_; }
  // The temporary directory holding redis.conf and redis.log.
  const std::string& dir() const { return dir_; }
  // The redis-server process's pid while the server runs, else 0.
  pid_t pid() const { return pid_; }

  // Shutdown without saving (there is nothing to save): SIGTERM to redis-server, a bounded wait
  // (10 s), then SIGKILL to the whole server. The processes are reaped before it returns.
  // Idempotent: OK when already stopped. An error means the server had to be killed; it is
  // stopped either way.
  core::Status Stop();

  // Starts the server again on the same port and directory and waits until it is ready. Its data
  // is gone (no persistence): a restarted Redis is an empty one. Fails if the port was taken
  // meanwhile or the server does not come up (bounded).
  core::Status Restart();

  // Runs one command on a short-lived connection (connect bounded by 5 s, the reply by 30 s;
  // AUTH first when the server has a password) and returns its reply as text: an integer in
  // decimal, a string or status as is, nil as "", an array as its elements' text joined by "\n".
  // For test assertions. Fails with the server's message on an error reply, and when the server
  // cannot be reached.
  core::Result<std::string> Command(std::vector<std::string> args) const;

 private:
  RedisServer(std::string redis_bin, std::string timeout_bin, std::string password,
              std::string dir);
  // Writes redis.conf for port_, starts redis-server and waits (bounded) until it answers PING.
  // On failure the server is stopped and *port_taken says whether it could not bind port_.
  core::Status Launch(bool* port_taken);

  std::string redis_bin_;
  std::string timeout_bin_;  // coreutils `timeout`: the server's bounded lifetime
  std::string password_;
  std::string dir_;  // temporary directory: redis.conf, redis.log
  int port_ = 0;
  pid_t wrapper_pid_ = 0;  // our child: `timeout ... redis-server`, the leader of its group
  pid_t pid_ = 0;          // redis-server, the wrapper's child
};

// One server (no password) for the whole test binary, started on first use and stopped at exit:
// a binary's tests share it, each with its own keys. Aborts the binary, with the reason on
// stderr, when it cannot start (every test would fail the same way). Not for tests that Stop()
// it without Restart()ing it, nor for tests that pause it (CLIENT PAUSE).
RedisServer& SharedRedisServer();

}  // namespace sy::testutil
