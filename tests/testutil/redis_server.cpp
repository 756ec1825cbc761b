#include "tests/testutil/redis_server.h"

#include <array>
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

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT: POSIX; passed to the server unchanged

namespace sy::testutil {
namespace {

namespace fs = std::filesystem;
using core::Errc;
using core::MakeError;

// Every wait below is bounded.
constexpr int kLifetimeS = 1800;  // the server's hard deadline (`timeout -s TERM`)
constexpr int kKillAfterS = 15;   // ... then SIGKILL if it ignored the SIGTERM
constexpr auto kReadyTimeout = std::chrono::seconds(10);
constexpr auto kStopTimeout = std::chrono::seconds(10);
constexpr auto kPollInterval = std::chrono::milliseconds(10);
constexpr auto kProbeConnectTimeout = std::chrono::milliseconds(200);
// A readiness probe's reply: short, since a foreign listener on the port may never answer.
constexpr auto kProbeIoTimeout = std::chrono::milliseconds(250);
constexpr auto kCommandConnectTimeout = std::chrono::seconds(5);
constexpr auto kCommandIoTimeout = std::chrono::seconds(30);
constexpr int kStartAttempts = 5;  // fresh ports tried when redis-server cannot bind one
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

core::Result<std::string> FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return Fail(name + " not found in PATH");
}

core::Result<std::string> FindRedisServer() {
  if (auto found = FindInPath("redis-server")) return found;
  if (access("/usr/bin/redis-server", X_OK) == 0) return std::string("/usr/bin/redis-server");
  return Fail(
      "redis-server not found in PATH nor /usr/bin (install the Debian package redis-server)");
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

// Starts argv[0] (an absolute path) with stdout and stderr appended to `log_path`, working
// directory `cwd`. The child gets SIGTERM when the thread that spawned it exits. Between fork and
// exec only async-signal-safe calls: everything is prepared before the fork.
core::Result<pid_t> Spawn(std::vector<std::string> args, const std::string& log_path,
                          const std::string& cwd) {
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
  // If the parent is already gone, stop here.
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) _exit(126);
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

// The parent pid of `pid` from /proc/<pid>/stat ("pid (comm) state ppid ..."), or 0.
pid_t ParentPid(pid_t pid) {
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 1));
  std::string state;
  long ppid = 0;
  fields >> state >> ppid;
  return static_cast<pid_t>(ppid);
}

// A redis.conf value in double quotes (the config parser's escapes), whatever it holds.
std::string Quoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7f) {
      std::array<char, 5> hex{};
      std::snprintf(hex.data(), hex.size(), "\\x%02x", static_cast<unsigned>(byte));
      out += hex.data();
    } else {
      out += c;
    }
  }
  return out + "\"";
}

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

struct ContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};

struct TextReply {
  bool error = false;  // an error reply; text holds its message
  std::string text;
};

std::string ReplyText(const redisReply* reply) {
  if (reply == nullptr) return "";
  switch (reply->type) {
    case REDIS_REPLY_INTEGER:
      return std::to_string(reply->integer);
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return std::string(reply->str, reply->len);
    case REDIS_REPLY_ARRAY: {
      std::string out;
      for (size_t i = 0; i < reply->elements; ++i) {
        if (i > 0) out += '\n';
        out += ReplyText(reply->element[i]);
      }
      return out;
    }
    default:  // REDIS_REPLY_NIL
      return "";
  }
}

// One command on a fresh connection to 127.0.0.1:port, AUTH first when `password` is set. Fails
// when the server cannot be reached or refuses the AUTH; an error reply to the command itself is
// a TextReply with error set.
core::Result<TextReply> Exec(int port, const std::string& password,
                             const std::vector<std::string>& args,
                             std::chrono::milliseconds connect_timeout,
                             std::chrono::milliseconds io_timeout) {
  const std::string where = "redis at 127.0.0.1:" + std::to_string(port) + ": ";
  std::unique_ptr<redisContext, ContextDeleter> context(
      redisConnectWithTimeout("127.0.0.1", port, ToTimeval(connect_timeout)));
  if (!context) return Fail(where + "connect: out of memory");
  if (context->err != 0) return Fail(where + "connect: " + context->errstr);
  if (redisSetTimeout(context.get(), ToTimeval(io_timeout)) != REDIS_OK) {
    return Fail(where + "setting the timeout: " + context->errstr);
  }
  auto run = [&](const std::vector<std::string>& command) -> core::Result<TextReply> {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const auto& arg : command) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    std::unique_ptr<redisReply, ReplyDeleter> reply(static_cast<redisReply*>(redisCommandArgv(
        context.get(), static_cast<int>(argv.size()), argv.data(), lengths.data())));
    if (!reply) return Fail(where + command.front() + ": " + context->errstr);
    return TextReply{.error = reply->type == REDIS_REPLY_ERROR, .text = ReplyText(reply.get())};
  };
  if (!password.empty()) {
    auto auth = run({"AUTH", password});
    if (!auth) return auth.error();
    if (auth->error) return Fail(where + "AUTH refused: " + auth->text);
  }
  if (args.empty()) return Fail(where + "an empty command");
  return run(args);
}

}  // namespace

RedisServer::RedisServer(std::string redis_bin, std::string timeout_bin, std::string password,
                         std::string dir)
    : redis_bin_(std::move(redis_bin)),
      timeout_bin_(std::move(timeout_bin)),
      password_(std::move(password)),
      dir_(std::move(dir)) {}

core::Result<std::unique_ptr<RedisServer>> RedisServer::Start(std::string password) {
  auto redis_bin = FindRedisServer();
  if (!redis_bin) return redis_bin.error();
  auto timeout_bin = FindInPath("timeout");
  if (!timeout_bin) return timeout_bin.error();

  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string dir = (base / "sy-redis-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    return Fail("mkdtemp " + dir + ": " + std::strerror(errno));
  }
  // From here the destructor removes the directory (and stops the server) on every failure.
  std::unique_ptr<RedisServer> server(
      new RedisServer(*redis_bin, *timeout_bin, std::move(password), dir));

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
  return server;
}

RedisServer::~RedisServer() {
  (void)Stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string RedisServer::url() const {
  const std::string auth = password_.empty() ? "" : ":" + password_ + "@";
  return "redis://" + auth + "127.0.0.1:" + std::to_string(port_);
}

core::Status RedisServer::Launch(bool* port_taken) {
  *port_taken = false;
  pid_ = 0;
  const std::string log = dir_ + "/redis.log";
  const std::string conf = dir_ + "/redis.conf";
  const std::streamoff log_from = FileSize(log);
  const std::string port = std::to_string(port_);
  {
    // Test-only settings: loopback only, nothing persisted, the log in our directory.
    std::ofstream out(conf, std::ios::trunc);
    out << "bind 127.0.0.1\n"
        << "port " << port << "\n"
        << "protected-mode yes\n"
        << "daemonize no\n"
        << "save \"\"\n"
        << "appendonly no\n"
        << "dir " << Quoted(dir_) << "\n"
        << "logfile " << Quoted(log) << "\n"
        << "always-show-logo no\n";
    if (!password_.empty()) out << "requirepass " << Quoted(password_) << "\n";
    out.close();
    if (!out) return Fail("writing " + conf + " failed");
  }
  // The wrapper bounds the server's lifetime: SIGTERM after kLifetimeS, SIGKILL kKillAfterS
  // later; it also forwards the SIGTERM it gets when its parent thread exits.
  auto pid = Spawn({timeout_bin_, "-k", std::to_string(kKillAfterS), "-s", "TERM",
                    std::to_string(kLifetimeS), redis_bin_, conf},
                   log, dir_);
  if (!pid) return pid.error();
  wrapper_pid_ = *pid;

  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  for (;;) {
    int status = 0;
    if (waitpid(wrapper_pid_, &status, WNOHANG) == wrapper_pid_) {
      wrapper_pid_ = 0;
      const std::string text = ReadFile(log, log_from);
      *port_taken = text.find("Address already in use") != std::string::npos;
      return Fail("redis-server exited before answering PING on port " + port + ", " +
                  DescribeStatus(status) + ":\n" + Tail(text));
    }
    // Ready when it answers PING and is ours: another program may listen on the port while our
    // server fails to bind it.
    auto ping = Exec(port_, password_, {"PING"}, kProbeConnectTimeout, kProbeIoTimeout);
    if (ping && !ping->error && ping->text == "PONG") {
      auto info = Exec(port_, password_, {"INFO", "server"}, kProbeConnectTimeout, kProbeIoTimeout);
      const std::string key = "process_id:";
      if (info && !info->error) {
        if (const size_t at = info->text.find(key); at != std::string::npos) {
          const auto server_pid =
              static_cast<pid_t>(std::strtol(info->text.c_str() + at + key.size(), nullptr, 10));
          if (server_pid > 0 && ParentPid(server_pid) == wrapper_pid_) {
            pid_ = server_pid;
            return {};
          }
        }
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      (void)Stop();
      return Fail("redis-server did not answer PING on port " + port + " within " +
                  std::to_string(kReadyTimeout.count()) + " s:\n" + Tail(ReadFile(log, log_from)));
    }
    std::this_thread::sleep_for(kPollInterval);  // a bounded poll of readiness
  }
}

core::Status RedisServer::Stop() {
  if (wrapper_pid_ == 0) return {};
  // SIGTERM: redis-server shuts down without saving (no save points). `timeout` forwards it too,
  // should the server's pid be unknown.
  kill(pid_ > 0 ? pid_ : wrapper_pid_, SIGTERM);
  core::Status result;
  if (!WaitExit(wrapper_pid_, kStopTimeout)) {
    // `timeout` leads its own process group: redis-server and anything it forked.
    kill(-wrapper_pid_, SIGKILL);
    kill(wrapper_pid_, SIGKILL);
    int status = 0;
    while (waitpid(wrapper_pid_, &status, 0) < 0 && errno == EINTR) {
    }
    result = Fail("redis-server did not stop within " + std::to_string(kStopTimeout.count()) +
                  " s of SIGTERM; killed");
  }
  wrapper_pid_ = 0;
  pid_ = 0;
  return result;
}

core::Status RedisServer::Restart() {
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

core::Result<std::string> RedisServer::Command(std::vector<std::string> args) const {
  auto reply = Exec(port_, password_, args, kCommandConnectTimeout, kCommandIoTimeout);
  if (!reply) return reply.error();
  if (reply->error) {
    return Fail("redis " + (args.empty() ? std::string() : args.front()) + ": " + reply->text);
  }
  return std::move(reply->text);
}

RedisServer& SharedRedisServer() {
  static const std::unique_ptr<RedisServer> server = [] {
    auto started = RedisServer::Start();
    if (!started) {
      std::fprintf(stderr, "SharedRedisServer: %s\n", started.error().message.c_str());
      std::abort();
    }
    return std::move(*started);
  }();
  return *server;
}

}  // namespace sy::testutil
