// PgServer: a real, throwaway PostgreSQL server for tests (the ledger's PostgreSQL backend).
//
// Start() runs `initdb` into a fresh temporary directory and starts `postgres` on 127.0.0.1 and a
// free port, with settings that are for tests only (trust authentication, fsync off). It waits
// until the server accepts connections and creates the database `switchyard`, owned by the
// superuser `switchyard`, so url() is ready to use.
//
// Binaries: $SY_PG_BINDIR, else the highest version under /usr/lib/postgresql/*/bin (Debian's
// `postgresql` package). PostgreSQL refuses to run as root, so when the test runs as root (CI)
// initdb and postgres run as the `postgres` system user and the temporary directory is chowned
// to it; otherwise they run as the current user. Under root the temporary directory's parent
// ($TMPDIR, else /tmp) must be traversable by that user.
//
// Lifetime: the server never outlives the test process for long. It runs under
// `timeout -s INT 1800` (the wrapper also forwards the SIGINT it gets when the thread that called
// Start() or Restart() exits), and the destructor stops it and removes the directory. Start and
// restart from a thread that outlives the server (the test's main thread).
//
// Thread-safety: Stop() and Restart() must not race with any other call. The const methods may be
// called concurrently with each other; each QueryScalar() opens its own connection.
//
// Cost: Start() takes 0.6-3 s (initdb dominates; Restart() about 50 ms): start one server per
// test binary (a shared fixture), not one per test.
#pragma once

#include <memory>
#include <string>

#include <sys/types.h>

#include "core/result.h"

namespace sy::testutil {

class PgServer {
 public:
  // initdb + start + wait until ready (bounded) + CREATE DATABASE switchyard. Retries on a new
  // port if postgres could not bind the one it was given. On failure everything started is
  // stopped and the directory removed; the error carries the tail of the initdb/postgres log.
  static core::Result<std::unique_ptr<PgServer>> Start();

  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;
  // Stops the server if it runs (as Stop()) and removes the temporary directory.
  ~PgServer();

  // "postgresql://switchyard@127.0.0.1:PORT/switchyard".
  std::string url() const;
  int port() const { return port_; }
  // The temporary directory holding the data directory, the socket and the server log.
  const std::string& dir() const { return dir_; }
  // The postmaster's pid while the server runs, else 0.
  pid_t postmaster_pid() const { return postmaster_pid_; }

  // Fast shutdown: SIGINT to the postmaster, a bounded wait (20 s), then SIGKILL to the whole
  // server. The processes are reaped before it returns. Idempotent: OK when already stopped. An
  // error means the server had to be killed; it is stopped either way.
  core::Status Stop();

  // Starts the server again on the same data directory and port and waits until it is ready.
  // Fails if the port was taken meanwhile or the server does not come up (bounded).
  core::Status Restart();

  // Runs one SQL statement through libpq against url() (connect and statement bounded) and
  // returns the first column of the first row as text: "" when there is no row or it is NULL.
  // For test assertions. Fails with the server's message when the statement or connection fails.
  core::Result<std::string> QueryScalar(const std::string& sql) const;

 private:
  // Who runs initdb and postgres: the current user, or `postgres` when the test runs as root.
  struct Account {
    bool switch_user = false;
    uid_t uid = 0;
    gid_t gid = 0;
  };

  PgServer(std::string bin_dir, std::string timeout_bin, Account account, std::string dir);
  // Starts postgres on port_ and waits (bounded) until it accepts connections. On failure the
  // server is stopped and *port_taken says whether postgres could not bind port_.
  core::Status Launch(bool* port_taken);

  std::string bin_dir_;
  std::string timeout_bin_;  // coreutils `timeout`: the server's bounded lifetime
  Account account_;
  std::string dir_;  // temporary directory: data/, the socket, postgres.log
  int port_ = 0;
  pid_t wrapper_pid_ = 0;  // our child: `timeout ... postgres`, the leader of the server's group
  pid_t postmaster_pid_ = 0;
};

// One server for the whole test binary, started on first use and stopped at exit: a binary's
// tests share it. Aborts the binary, with the reason on stderr, when it cannot start (every test
// would fail the same way). Not for tests that Stop() it without Restart()ing it.
PgServer& SharedPgServer();

// A new, empty database on SharedPgServer() for one test; returns its URL. Aborts as above when
// the server refuses to create it.
std::string FreshPgDatabase();

}  // namespace sy::testutil
