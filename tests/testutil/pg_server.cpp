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
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT: POSIX; passed to the server unchanged

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
constexpr auto kPollInterval = std::chrono::milliseconds(10);
constexpr int kStartAttempts = 5;  // fresh ports tried when postgres cannot bind one
constexpr int kConnectTimeoutS = 5;
constexpr int kStatementTimeoutMs = 30000;
constexpr size_t kLogTailBytes = 2000;

core::Error Fail(std::string message) { return MakeError(Errc::kInternal, std::move(message)); }

std::string ReadFile(const std::string& path, std::streamoff from = 0) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(from);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::streamoff FileSize(const std::string& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  return ec ? 0 : static_cast<std::streamoff>(size);
}

std::string Tail(std::string text) {
  if (text.size() > kLogTailBytes) text = "..." + text.substr(text.size() - kLogTailBytes);
  return text;
}

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

core::Result<std::string> FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return Fail(name + " not found in PATH");
}

core::Result<int> FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  socklen_t len = sizeof(addr);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int saved = errno;
  close(fd);
  if (!ok) return Fail(std::string("bind 127.0.0.1:0: ") + std::strerror(saved));
  return static_cast<int>(ntohs(addr.sin_port));
}

// In a forked child: reports `what` and errno on stderr and exits. Async-signal-safe.
[[noreturn]] void ChildDie(const char* what) {
  const int err = errno;
  std::array<char, 16> digits{};
  size_t n = digits.size();
  auto value = static_cast<unsigned>(err);
  do {
    digits[--n] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && n > 0);
  (void)!write(STDERR_FILENO, what, std::strlen(what));
  (void)!write(STDERR_FILENO, " failed, errno ", 15);
  (void)!write(STDERR_FILENO, digits.data() + n, digits.size() - n);
  (void)!write(STDERR_FILENO, "\n", 1);
  _exit(127);
}

// Starts argv[0] (an absolute path) with stdout and stderr appended to `log_path`, as the given
// account, working directory `cwd`. The child gets SIGINT when the thread that spawned it exits.
// Between fork and exec only async-signal-safe calls: everything is prepared before the fork.
core::Result<pid_t> Spawn(std::vector<std::string> args, bool switch_user, uid_t uid, gid_t gid,
                          const std::string& log_path, const std::string& cwd) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();

  const pid_t pid = fork();
  if (pid < 0) return Fail(std::string("fork: ") + std::strerror(errno));
  if (pid > 0) return pid;

  // Child. Undo what the test process may have set: blocked or ignored signals are inherited.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD}) signal(sig, SIG_DFL);
  const int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (log_fd < 0) ChildDie("open log");
  dup2(log_fd, STDOUT_FILENO);
  dup2(log_fd, STDERR_FILENO);
  if (switch_user) {
    if (setgroups(1, &gid) != 0) ChildDie("setgroups");
    if (setgid(gid) != 0) ChildDie("setgid");
    if (setuid(uid) != 0) ChildDie("setuid");
  }
  // After the credential change, which clears it. If the parent is already gone, stop here.
  if (prctl(PR_SET_PDEATHSIG, SIGINT) != 0 || getppid() != parent) _exit(126);
  if (chdir(cwd.c_str()) != 0) ChildDie("chdir");
  execve(argv[0], argv.data(), environ);
  ChildDie("execve");
}

// Waits until `pid` (our child) exits or `timeout` passes: its wait status, or nullopt.
std::optional<int> WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return status;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);  // a bounded poll of a child's exit
  }
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
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
  std::istringstream in(ReadFile(path));
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
  auto timeout_bin = FindInPath("timeout");
  if (!timeout_bin) return timeout_bin.error();

  // PostgreSQL refuses to run as root; CI runs as root.
  Account account;
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) return Fail("running as root, but there is no `postgres` user to run as");
    account = {true, pw->pw_uid, pw->pw_gid};
  }

  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string dir = (base / "sy-pg-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    return Fail("mkdtemp " + dir + ": " + std::strerror(errno));
  }
  // From here the destructor removes the directory (and stops the server) on every failure.
  std::unique_ptr<PgServer> server(new PgServer(*bin_dir, *timeout_bin, account, dir));
  // mkdtemp made it 0700 and ours: hand it to the account that runs the server.
  if (account.switch_user && chown(dir.c_str(), account.uid, account.gid) != 0) {
    return Fail("chown " + dir + " to postgres: " + std::strerror(errno));
  }

  // Test-only cluster: trust authentication, no fsync (nothing here must survive a crash).
  const std::string initdb_log = dir + "/initdb.log";
  auto initdb = Spawn({*timeout_bin, "-s", "KILL", std::to_string(kInitdbTimeoutS),
                       *bin_dir + "/initdb", "-D", dir + "/data", "--auth=trust", "-U",
                       "switchyard", "--encoding=UTF8", "--locale=C", "--no-sync"},
                      account.switch_user, account.uid, account.gid, initdb_log, dir);
  if (!initdb) return initdb.error();
  int status = 0;
  while (waitpid(*initdb, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string hint;
    if (account.switch_user) {
      hint = " (initdb ran as user postgres: every parent of " + dir + " must be searchable by it)";
    }
    return Fail("initdb failed, " + DescribeStatus(status) + hint + ":\n" +
                Tail(ReadFile(initdb_log)));
  }

  // A free port can be taken between choosing and binding it: then try another.
  for (int attempt = 1;; ++attempt) {
    auto port = FreePort();
    if (!port) return port.error();
    server->port_ = *port;
    bool port_taken = false;
    auto launched = server->Launch(&port_taken);
    if (launched) break;
    if (!port_taken || attempt == kStartAttempts) return launched.error();
  }

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
  *port_taken = false;
  postmaster_pid_ = 0;
  const std::string log = dir_ + "/postgres.log";
  const std::streamoff log_from = FileSize(log);
  const std::string port = std::to_string(port_);
  // The wrapper bounds the server's lifetime: SIGINT (fast shutdown) after kLifetimeS, SIGKILL
  // kKillAfterS later; it also forwards the SIGINT it gets when its parent thread exits.
  std::vector<std::string> args = {timeout_bin_, "-k", std::to_string(kKillAfterS), "-s", "INT"};
  args.insert(args.end(),
              {std::to_string(kLifetimeS), bin_dir_ + "/postgres", "-D", dir_ + "/data"});
  // Test-only settings: loopback only, the socket in our directory, durability off (nothing
  // here must survive a crash).
  args.insert(args.end(), {"-h", "127.0.0.1", "-p", port, "-k", dir_});
  for (const char* setting :
       {"fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=60"}) {
    args.insert(args.end(), {"-c", setting});
  }
  auto pid = Spawn(std::move(args), account_.switch_user, account_.uid, account_.gid, log, dir_);
  if (!pid) return pid.error();
  wrapper_pid_ = *pid;

  const std::string conninfo = ConnInfo(port_, "postgres");
  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  for (;;) {
    int status = 0;
    if (waitpid(wrapper_pid_, &status, WNOHANG) == wrapper_pid_) {
      wrapper_pid_ = 0;
      const std::string text = ReadFile(log, log_from);
      *port_taken = text.find("could not bind") != std::string::npos ||
                    text.find("Address already in use") != std::string::npos;
      return Fail("postgres exited before accepting connections on port " + port + ", " +
                  DescribeStatus(status) + ":\n" + Tail(text));
    }
    pid_t postmaster = 0;
    if (PidFileSaysReady(dir_ + "/data/postmaster.pid", port_, &postmaster) &&
        PQping(conninfo.c_str()) == PQPING_OK) {
      postmaster_pid_ = postmaster;
      return {};
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      (void)Stop();
      return Fail("postgres did not accept connections on port " + port + " within " +
                  std::to_string(kReadyTimeout.count()) + " s:\n" + Tail(ReadFile(log, log_from)));
    }
    std::this_thread::sleep_for(kPollInterval);  // a bounded poll of readiness
  }
}

core::Status PgServer::Stop() {
  if (wrapper_pid_ == 0) return {};
  // SIGINT is postgres' fast shutdown. `timeout` forwards it too, should the postmaster's pid be
  // unknown.
  kill(postmaster_pid_ > 0 ? postmaster_pid_ : wrapper_pid_, SIGINT);
  core::Status result;
  if (!WaitExit(wrapper_pid_, kStopTimeout)) {
    // `timeout` leads its own process group: the postmaster and every backend.
    kill(-wrapper_pid_, SIGKILL);
    kill(wrapper_pid_, SIGKILL);
    int status = 0;
    while (waitpid(wrapper_pid_, &status, 0) < 0 && errno == EINTR) {
    }
    result = Fail("postgres did not stop within " + std::to_string(kStopTimeout.count()) +
                  " s of SIGINT; killed");
  }
  wrapper_pid_ = 0;
  postmaster_pid_ = 0;
  return result;
}

core::Status PgServer::Restart() {
  auto stopped = Stop();
  bool port_taken = false;
  auto launched = Launch(&port_taken);
  if (!launched && port_taken) {
    return Fail("port " + std::to_string(port_) + " was taken while the server was stopped:\n" +
                launched.error().message);
  }
  if (!launched) return launched;
  return stopped;
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
