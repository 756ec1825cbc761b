// Process plumbing shared by the throwaway test servers (pg_server.cpp, redis_server.cpp):
// starting a child with its output in a log file, starting a server under coreutils `timeout` and
// waiting until it is ready, stopping it and its process group, picking a free loopback port
// (and trying another when it was taken), a private temporary directory, the tail of a log.
// Internal to tests/testutil: tests use PgServer and RedisServer, not these.
//
// Bounds: every wait has a deadline (a ServerKind's ready_timeout and stop_timeout; a ReadyCheck's
// probe bounds itself) except Reap(), which is only for a child that is bound to exit (killed, or
// under `timeout -s KILL`). LaunchOnFreePort() makes at most `attempts` launches.
//
// Failure: fallible functions return a core::Errc::kInternal error whose message says what failed
// and why: the call and strerror(errno) ("mkdtemp /tmp/sy-pg-XXXXXX: No space left on device"), or
// for a server the tail of its log. The messages are those PgServer and RedisServer document.
//
// Thread-safety: any function may be called from any thread, but a child's pid must be waited for
// (Reap, LaunchServer, StopServer) by one thread at a time, and only in the process that started
// it; the pids and flags passed by pointer belong to the call while it runs. Spawn() ties the
// child's life to the calling thread (see SpawnOptions).
//
// Ownership: nothing here keeps a pointer or view after it returns; the string_views and spans of
// a ServerKind or ReadyCheck need only outlive the call (in practice they are literals).
#pragma once

#include <chrono>
#include <csignal>
#include <cstddef>
#include <functional>
#include <ios>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "core/result.h"

namespace sy::testutil::detail {

// How much of a log Tail() keeps.
inline constexpr size_t kLogTailBytes = 2000;

// The bytes of `path` from offset `from` to its end; "" when it cannot be opened.
std::string ReadFile(const std::string& path, std::streamoff from = 0);

// `text` when it has at most kLogTailBytes bytes, else "..." and its last kLogTailBytes bytes.
std::string Tail(std::string text);

// The first executable `name` in $PATH (":"-separated; an empty entry means "."; /usr/bin:/bin
// when PATH is unset). Fails with "NAME not found in PATH".
core::Result<std::string> FindInPath(const std::string& name);

// Creates a new directory $TMPDIR/<prefix>XXXXXX (/tmp when TMPDIR is unset or unusable), mode
// 0700 and owned by the caller, and returns its path. The caller removes it.
core::Result<std::string> MakeTempDir(const std::string& prefix);

// A TCP port on 127.0.0.1 that the kernel just reported free (bind to port 0, then close). Another
// process may take it before the caller binds it: see LaunchOnFreePort().
core::Result<int> FreeLoopbackPort();

// A socket listening on 127.0.0.1:`port` until the caller closes the returned descriptor: how a
// test takes a server's port. SO_REUSEADDR, so a stopped server's connections lingering in
// TIME_WAIT on the port do not stand in the way.
core::Result<int> ListenOnLoopback(int port);

// How Spawn() starts a child.
struct SpawnOptions {
  std::string log_path;  // stdout and stderr are appended here (created 0600); stdin is /dev/null
  std::string cwd;       // the child's working directory
  // Sent to the child when the thread that called Spawn() exits (PR_SET_PDEATHSIG): start from a
  // thread that outlives the child.
  int parent_death_signal = SIGTERM;
  // When set, the child drops to this account (setgroups, setgid, setuid) before exec: for a root
  // test process starting a server that refuses to run as root.
  struct Account {
    uid_t uid = 0;
    gid_t gid = 0;
  };
  std::optional<Account> run_as;
};

// Starts args[0] (an absolute path) with arguments args[1..] and the caller's environment, as
// `options` say, with no signal blocked or ignored. Returns the child's pid; the caller reaps it.
// Fails when fork() fails. When the child cannot be set up or exec, it writes "WHAT failed, errno
// N" to the log and exits 127 (126 when the caller was already gone). Between fork and exec the
// child makes only async-signal-safe calls, so this is safe in a multithreaded test binary.
core::Result<pid_t> Spawn(std::vector<std::string> args, const SpawnOptions& options);

// Blocks until `pid`, a child of ours, exits and returns its wait status (retrying on EINTR).
// Unbounded: REQUIRES: the child is bound to exit (it runs under `timeout -s KILL`).
int Reap(pid_t pid);

// A wait status in words: "exit code N", "signal N" or "status N".
std::string DescribeStatus(int status);

// A kind of server, as LaunchServer() and StopServer() treat it.
struct ServerKind {
  std::string_view name;  // "postgres": the subject of every message
  int stop_signal;        // asks it to shut down: SIGINT for postgres, SIGTERM for redis-server
  std::chrono::seconds ready_timeout;
  std::chrono::seconds stop_timeout;
};

// How LaunchServer() tells that a server is ready, or could not bind its port, and how its
// messages say "ready".
struct ReadyCheck {
  // Called between looks at the wrapper: the pid of the server process once it is ready and is
  // the one we started, else 0. It runs on the calling thread and must be bounded.
  std::function<pid_t()> probe;
  std::string_view becoming_ready;  // "accepting connections" in "postgres exited before ..."
  std::string_view become_ready;    // "accept connections" in "postgres did not ... within 20 s"
  std::span<const std::string_view> bind_failures;  // log text saying it could not bind its port
};

// Starts a server whose command line `args` runs it under `timeout` (so the wrapper leads its own
// process group), stores the wrapper's pid in *wrapper_pid, and waits until `ready.probe` returns
// the server's pid, which goes to *server_pid. Before each probe it looks whether the wrapper
// exited; it waits at most kind.ready_timeout. Fails, with the tail of what the server appended to
// options.log_path, when:
//  - Spawn() fails;
//  - the wrapper exited: *wrapper_pid is 0 and *port_taken says whether the log holds one of
//    ready.bind_failures. "NAME exited before BECOMING_READY on port PORT, STATUS:\nLOG";
//  - time ran out: the server is stopped as by StopServer(). "NAME did not BECOME_READY on port
//    PORT within N s:\nLOG".
// REQUIRES: *wrapper_pid is 0 (the server does not run).
core::Status LaunchServer(const ServerKind& kind, std::vector<std::string> args,
                          const SpawnOptions& options, int port, const ReadyCheck& ready,
                          pid_t* wrapper_pid, pid_t* server_pid, bool* port_taken);

// Stops the server that LaunchServer() started: kind.stop_signal to *server_pid (to the wrapper,
// which forwards it, when that is 0), a wait of at most kind.stop_timeout for the wrapper to exit,
// then SIGKILL to the wrapper's process group and to the wrapper. The wrapper is reaped and both
// pids are 0 when it returns. OK when the server was not running or stopped in time; else it fails
// with "NAME did not stop within N s of SIGNAL; killed" (it is stopped either way).
core::Status StopServer(const ServerKind& kind, pid_t* wrapper_pid, pid_t* server_pid);

// Starts a server on `port` and waits until it is ready, as LaunchServer() does; on failure sets
// *port_taken when the server could not bind `port`.
using LaunchFn = std::function<core::Status(int port, bool* port_taken)>;

// Calls `launch` with a fresh FreeLoopbackPort() until it succeeds, at most `attempts` times, while
// it fails with *port_taken (a port taken between choosing and binding it). Returns the first
// other failure, or the last one.
core::Status LaunchOnFreePort(int attempts, const LaunchFn& launch);

// The end of a server's Restart(): `stopped` is what stopping it returned; this calls `launch` on
// the same `port`. Fails with "port N was taken while the server was stopped:\n..." when the port
// was taken, with launch's error when the server did not come up; else returns `stopped`.
core::Status RelaunchOnPort(int port, core::Status stopped, const LaunchFn& launch);

}  // namespace sy::testutil::detail
