#include "tests/testutil/process.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT: POSIX; passed to the child unchanged

namespace sy::testutil::detail {
namespace {

namespace fs = std::filesystem;

// How often a child's exit and a server's readiness are looked at again.
constexpr auto kPollInterval = std::chrono::milliseconds(10);

core::Error Fail(std::string message) {
  return core::MakeError(core::Errc::kInternal, std::move(message));
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

std::streamoff FileSize(const std::string& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  return ec ? 0 : static_cast<std::streamoff>(size);
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

}  // namespace

std::string ReadFile(const std::string& path, std::streamoff from) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(from);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
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

core::Result<std::string> MakeTempDir(const std::string& prefix) {
  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string dir = (base / (prefix + "XXXXXX")).string();
  if (mkdtemp(dir.data()) == nullptr) {
    return Fail("mkdtemp " + dir + ": " + std::strerror(errno));
  }
  return dir;
}

core::Result<int> FreeLoopbackPort() {
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

core::Result<int> ListenOnLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(std::string("socket: ") + std::strerror(errno));
  const int on = 1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  const bool ok = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == 0 &&
                  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  listen(fd, 1) == 0;
  if (ok) return fd;
  const int saved = errno;
  close(fd);
  return Fail("listen on 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(saved));
}

// Between fork and exec only async-signal-safe calls: everything is prepared before the fork.
core::Result<pid_t> Spawn(std::vector<std::string> args, const SpawnOptions& options) {
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
  const int log_fd = open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (log_fd < 0) ChildDie("open log");
  dup2(log_fd, STDOUT_FILENO);
  dup2(log_fd, STDERR_FILENO);
  if (options.run_as) {
    const gid_t gid = options.run_as->gid;
    if (setgroups(1, &gid) != 0) ChildDie("setgroups");
    if (setgid(gid) != 0) ChildDie("setgid");
    if (setuid(options.run_as->uid) != 0) ChildDie("setuid");
  }
  // After the credential change, which clears it. If the parent is already gone, stop here.
  if (prctl(PR_SET_PDEATHSIG, options.parent_death_signal) != 0 || getppid() != parent) _exit(126);
  if (chdir(options.cwd.c_str()) != 0) ChildDie("chdir");
  execve(argv[0], argv.data(), environ);
  ChildDie("execve");
}

int Reap(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

core::Status LaunchServer(const ServerKind& kind, std::vector<std::string> args,
                          const SpawnOptions& options, int port, const ReadyCheck& ready,
                          pid_t* wrapper_pid, pid_t* server_pid, bool* port_taken) {
  *port_taken = false;
  *server_pid = 0;
  const std::streamoff log_from = FileSize(options.log_path);
  auto pid = Spawn(std::move(args), options);
  if (!pid) return pid.error();
  *wrapper_pid = *pid;

  const std::string name(kind.name);
  const std::string on_port = " on port " + std::to_string(port);
  const auto deadline = std::chrono::steady_clock::now() + kind.ready_timeout;
  for (;;) {
    int status = 0;
    if (waitpid(*wrapper_pid, &status, WNOHANG) == *wrapper_pid) {
      *wrapper_pid = 0;
      const std::string text = ReadFile(options.log_path, log_from);
      *port_taken = std::any_of(
          ready.bind_failures.begin(), ready.bind_failures.end(),
          [&](std::string_view failure) { return text.find(failure) != std::string::npos; });
      return Fail(name + " exited before " + std::string(ready.becoming_ready) + on_port + ", " +
                  DescribeStatus(status) + ":\n" + Tail(text));
    }
    if (const pid_t pid_when_ready = ready.probe(); pid_when_ready > 0) {
      *server_pid = pid_when_ready;
      return {};
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      (void)StopServer(kind, wrapper_pid, server_pid);
      return Fail(name + " did not " + std::string(ready.become_ready) + on_port + " within " +
                  std::to_string(kind.ready_timeout.count()) + " s:\n" +
                  Tail(ReadFile(options.log_path, log_from)));
    }
    std::this_thread::sleep_for(kPollInterval);  // a bounded poll of readiness
  }
}

core::Status StopServer(const ServerKind& kind, pid_t* wrapper_pid, pid_t* server_pid) {
  if (*wrapper_pid == 0) return {};
  const pid_t wrapper = *wrapper_pid;
  // `timeout` forwards the signal too, should the server's pid be unknown.
  kill(*server_pid > 0 ? *server_pid : wrapper, kind.stop_signal);
  const bool stopped = WaitExit(wrapper, kind.stop_timeout).has_value();
  if (!stopped) {
    // `timeout` leads its own process group: the server and whatever it started.
    kill(-wrapper, SIGKILL);
    kill(wrapper, SIGKILL);
    (void)Reap(wrapper);
  }
  *wrapper_pid = 0;
  *server_pid = 0;
  if (stopped) return {};
  const char* abbrev = sigabbrev_np(kind.stop_signal);  // "INT" for SIGINT
  const std::string signal = abbrev != nullptr ? std::string("SIG") + abbrev
                                               : "signal " + std::to_string(kind.stop_signal);
  return Fail(std::string(kind.name) + " did not stop within " +
              std::to_string(kind.stop_timeout.count()) + " s of " + signal + "; killed");
}

core::Status LaunchOnFreePort(int attempts, const LaunchFn& launch) {
  for (int attempt = 1;; ++attempt) {
    auto port = FreeLoopbackPort();
    if (!port) return port.error();
    bool port_taken = false;
    auto launched = launch(*port, &port_taken);
    if (launched) return {};
    if (!port_taken || attempt >= attempts) return launched;
  }
}

core::Status RelaunchOnPort(int port, core::Status stopped, const LaunchFn& launch) {
  bool port_taken = false;
  auto launched = launch(port, &port_taken);
  if (!launched && port_taken) {
    return Fail("port " + std::to_string(port) + " was taken while the server was stopped:\n" +
                launched.error().message);
  }
  if (!launched) return launched;
  return stopped;
}

}  // namespace sy::testutil::detail
