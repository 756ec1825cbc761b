#include "tests/testutil/pg_server.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include <libpq-fe.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/testutil/process.h"

namespace sy::testutil {
namespace {

namespace fs = std::filesystem;
using core::Errc;
using core::MakeError;

// Every wait below is bounded.
constexpr int kInitdbTimeoutS = 120;
constexpr int kLifetimeS = 1800;  // the server's hard deadline (`timeout -s INT`)
constexpr int kKillAfterS = 15;   // ... then SIGKILL if it ignored the SIGINT
constexpr auto kReadyTimeout = std::chrono::seconds(20);
constexpr auto kStopTimeout = std::chrono::seconds(20);
constexpr int kStartAttempts = 5;  // fresh ports tried when postgres cannot bind one
constexpr int kConnectTimeoutS = 5;
constexpr int kStatementTimeoutMs = 30000;

// What postgres writes to its log when it cannot bind its port.
constexpr std::array<std::string_view, 2> kBindFailures = {"could not bind",
                                                           "Address already in use"};
// SIGINT is postgres' fast shutdown.
constexpr detail::ServerKind kPostgres{"postgres", SIGINT, kReadyTimeout, kStopTimeout};

core::Error Fail(std::string message) { return MakeError(Errc::kInternal, std::move(message)); }

// $SY_PG_BINDIR, else the highest /usr/lib/postgresql/<version>/bin holding postgres and initdb.
core::Result<std::string> FindBinDir() {
  auto usable = [](const fs::path& dir) {
    return access((dir / "postgres").c_str(), X_OK) == 0 &&
           access((dir / "initdb").c_str(), X_OK) == 0;
  };
  if (const char* env = std::getenv("SY_PG_BINDIR"); env != nullptr && *env != '\0') {
    if (!usable(env)) return Fail(std::string("SY_PG_BINDIR=") + env + " has no postgres/initdb");
    return std::string(env);
  }
  std::optional<std::pair<long, fs::path>> best;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    char* end = nullptr;
    const long version = std::strtol(name.c_str(), &end, 10);
    if (end == name.c_str() || !usable(entry.path() / "bin")) continue;
    if (!best || version > best->first) best.emplace(version, entry.path() / "bin");
  }
  if (!best) {
    return Fail(
        "no PostgreSQL under /usr/lib/postgresql/*/bin (install the Debian package "
        "postgresql, or set SY_PG_BINDIR)");
  }
  return best->second.string();
}

// Who runs initdb and postgres (PgServer::Account), as Spawn() takes it.
std::optional<detail::SpawnOptions::Account> RunAs(bool switch_user, uid_t uid, gid_t gid) {
  if (!switch_user) return std::nullopt;
  return detail::SpawnOptions::Account{.uid = uid, .gid = gid};
}

std::string ConnInfo(int port, const char* dbname) {
  return "host=127.0.0.1 port=" + std::to_string(port) + " user=switchyard dbname=" + dbname +
         " connect_timeout=" + std::to_string(kConnectTimeoutS) +
         " options='-c statement_timeout=" + std::to_string(kStatementTimeoutMs) + "'";
}

// Whether postmaster.pid says that a live postmaster listening on `port` accepts connections:
// the status line pg_ctl waits for (PostgreSQL 10+). Unlike a bare connection attempt this is
// not fooled, nor held up for connect_timeout, by another program listening on the port.
bool PidFileSaysReady(const std::string& path, int port, pid_t* pid) {
  std::istringstream in(detail::ReadFile(path));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  // 1: pid, 4: port, 8: status ("starting", "ready", "stopping").
  if (lines.size() < 8 || lines[3] != std::to_string(port) || lines[7].rfind("ready", 0) != 0) {
    return false;
  }
  const long value = std::strtol(lines[0].c_str(), nullptr, 10);
  *pid = static_cast<pid_t>(value);
  return value > 0 && kill(*pid, 0) == 0;
}

core::Result<std::string> Query(const std::string& conninfo, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo.c_str()), &PQfinish);
  if (!conn) return Fail("libpq: out of memory");
  auto trimmed = [](const char* text) {
    std::string s = text != nullptr ? text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  };
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return Fail("connect: " + trimmed(PQerrorMessage(conn.get())));
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), sql.c_str()), &PQclear);
  const ExecStatusType status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return Fail("query \"" + sql + "\": " + trimmed(PQerrorMessage(conn.get())));
  }
  if (PQntuples(res.get()) == 0 || PQnfields(res.get()) == 0 || PQgetisnull(res.get(), 0, 0)) {
    return std::string();
  }
  return std::string(PQgetvalue(res.get(), 0, 0));
}

}  // namespace

PgServer::PgServer(std::string bin_dir, std::string timeout_bin, Account account, std::string dir)
    : bin_dir_(std::move(bin_dir)),
      timeout_bin_(std::move(timeout_bin)),
      account_(account),
      dir_(std::move(dir)) {}

core::Result<std::unique_ptr<PgServer>> PgServer::Start() {
  auto bin_dir = FindBinDir();
  if (!bin_dir) return bin_dir.error();
  auto timeout_bin = detail::FindInPath("timeout");
  if (!timeout_bin) return timeout_bin.error();

  // PostgreSQL refuses to run as root; CI runs as root.
  Account account;
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) return Fail("running as root, but there is no `postgres` user to run as");
    account = {true, pw->pw_uid, pw->pw_gid};
  }

  auto made = detail::MakeTempDir("sy-pg-");
  if (!made) return made.error();
  const std::string dir = *made;
  // From here the destructor removes the directory (and stops the server) on every failure.
  std::unique_ptr<PgServer> server(new PgServer(*bin_dir, *timeout_bin, account, dir));
  // mkdtemp made it 0700 and ours: hand it to the account that runs the server.
  if (account.switch_user && chown(dir.c_str(), account.uid, account.gid) != 0) {
    return Fail("chown " + dir + " to postgres: " + std::strerror(errno));
  }

  // Test-only cluster: trust authentication, no fsync (nothing here must survive a crash).
  const std::string initdb_log = dir + "/initdb.log";
  const detail::SpawnOptions options{
      .log_path = initdb_log,
      .cwd = dir,
      .parent_death_signal = SIGINT,
      .run_as = RunAs(account.switch_user, account.uid, account.gid)};
  auto initdb = detail::Spawn({*timeout_bin, "-s", "KILL", std::to_string(kInitdbTimeoutS),
                               *bin_dir + "/initdb", "-D", dir + "/data", "--auth=trust", "-U",
                               "switchyard", "--encoding=UTF8", "--locale=C", "--no-sync"},
                              options);
  if (!initdb) return initdb.error();
  const int status = detail::Reap(*initdb);  // bounded: `timeout -s KILL`
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string hint;
    if (account.switch_user) {
      hint = " (initdb ran as user postgres: every parent of " + dir + " must be searchable by it)";
    }
    return Fail("initdb failed, " + detail::DescribeStatus(status) + hint + ":\n" +
                detail::Tail(detail::ReadFile(initdb_log)));
  }

  // A free port can be taken between choosing and binding it: then try another.
  auto launched = detail::LaunchOnFreePort(kStartAttempts, [&server](int port, bool* port_taken) {
    server->port_ = port;
    return server->Launch(port_taken);
  });
  if (!launched) return launched.error();

  auto created = Query(ConnInfo(server->port_, "postgres"), "CREATE DATABASE switchyard");
  if (!created) return created.error();
  return server;
}

PgServer::~PgServer() {
  (void)Stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string PgServer::url() const {
  return "postgresql://switchyard@127.0.0.1:" + std::to_string(port_) + "/switchyard";
}

core::Status PgServer::Launch(bool* port_taken) {
  // The wrapper bounds the server's lifetime: SIGINT (fast shutdown) after kLifetimeS, SIGKILL
  // kKillAfterS later; it also forwards the SIGINT it gets when its parent thread exits.
  std::vector<std::string> args = {timeout_bin_, "-k", std::to_string(kKillAfterS), "-s", "INT"};
  args.insert(args.end(),
              {std::to_string(kLifetimeS), bin_dir_ + "/postgres", "-D", dir_ + "/data"});
  // Test-only settings: loopback only, the socket in our directory, durability off (nothing
  // here must survive a crash).
  args.insert(args.end(), {"-h", "127.0.0.1", "-p", std::to_string(port_), "-k", dir_});
  for (const char* setting :
       {"fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=60"}) {
    args.insert(args.end(), {"-c", setting});
  }
  const detail::SpawnOptions options{
      .log_path = dir_ + "/postgres.log",
      .cwd = dir_,
      .parent_death_signal = SIGINT,
      .run_as = RunAs(account_.switch_user, account_.uid, account_.gid)};
  const std::string conninfo = ConnInfo(port_, "postgres");
  auto probe = [&]() -> pid_t {
    pid_t postmaster = 0;
    const bool up = PidFileSaysReady(dir_ + "/data/postmaster.pid", port_, &postmaster) &&
                    PQping(conninfo.c_str()) == PQPING_OK;
    return up ? postmaster : 0;
  };
  const detail::ReadyCheck ready{probe, "accepting connections", "accept connections",
                                 kBindFailures};
  return detail::LaunchServer(kPostgres, std::move(args), options, port_, ready, &wrapper_pid_,
                              &postmaster_pid_, port_taken);
}

core::Status PgServer::Stop() {
  // SIGINT is postgres' fast shutdown; if it does not stop in time, its process group (the
  // postmaster and every backend) is killed.
  return detail::StopServer(kPostgres, &wrapper_pid_, &postmaster_pid_);
}

core::Status PgServer::Restart() {
  auto stopped = Stop();
  return detail::RelaunchOnPort(port_, std::move(stopped), [this](int /*port*/, bool* port_taken) {
    return Launch(port_taken);
  });
}

core::Result<std::string> PgServer::QueryScalar(const std::string& sql) const {
  return Query(ConnInfo(port_, "switchyard"), sql);
}

PgServer& SharedPgServer() {
  static const std::unique_ptr<PgServer> server = [] {
    auto started = PgServer::Start();
    if (!started) {
      std::fprintf(stderr, "SharedPgServer: %s\n", started.error().message.c_str());
      std::abort();
    }
    return std::move(*started);
  }();
  return *server;
}

std::string FreshPgDatabase() {
  static std::atomic<int> next{0};
  const std::string name = "test_" + std::to_string(::getpid()) + "_" + std::to_string(++next);
  if (auto created = SharedPgServer().QueryScalar("CREATE DATABASE " + name); !created) {
    std::fprintf(stderr, "FreshPgDatabase: %s\n", created.error().message.c_str());
    std::abort();
  }
  return "postgresql://switchyard@127.0.0.1:" + std::to_string(SharedPgServer().port()) + "/" +
         name;
}

}  // namespace sy::testutil
