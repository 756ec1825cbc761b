#include "tests/testutil/redis_server.h"

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include <hiredis/hiredis.h>
#include <sys/time.h>
#include <unistd.h>

#include "tests/testutil/process.h"

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
constexpr auto kProbeConnectTimeout = std::chrono::milliseconds(200);
// A readiness probe's reply: short, since a foreign listener on the port may never answer.
constexpr auto kProbeIoTimeout = std::chrono::milliseconds(250);
constexpr auto kCommandConnectTimeout = std::chrono::seconds(5);
constexpr auto kCommandIoTimeout = std::chrono::seconds(30);
constexpr int kStartAttempts = 5;  // fresh ports tried when redis-server cannot bind one

// What redis-server writes to its log when it cannot bind its port.
constexpr std::array<std::string_view, 1> kBindFailures = {"Address already in use"};
// SIGTERM: redis-server shuts down without saving (it has no save points).
constexpr detail::ServerKind kRedis{"redis-server", SIGTERM, kReadyTimeout, kStopTimeout};

core::Error Fail(std::string message) { return MakeError(Errc::kInternal, std::move(message)); }

core::Result<std::string> FindRedisServer() {
  if (auto found = detail::FindInPath("redis-server")) return found;
  if (access("/usr/bin/redis-server", X_OK) == 0) return std::string("/usr/bin/redis-server");
  return Fail(
      "redis-server not found in PATH nor /usr/bin (install the Debian package redis-server)");
}

// The parent pid of `pid` from /proc/<pid>/stat ("pid (comm) state ppid ..."), or 0.
pid_t ParentPid(pid_t pid) {
  const std::string stat = detail::ReadFile("/proc/" + std::to_string(pid) + "/stat");
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
  auto timeout_bin = detail::FindInPath("timeout");
  if (!timeout_bin) return timeout_bin.error();

  auto dir = detail::MakeTempDir("sy-redis-");
  if (!dir) return dir.error();
  // From here the destructor removes the directory (and stops the server) on every failure.
  std::unique_ptr<RedisServer> server(
      new RedisServer(*redis_bin, *timeout_bin, std::move(password), *dir));

  // A free port can be taken between choosing and binding it: then try another.
  auto launched = detail::LaunchOnFreePort(kStartAttempts, [&server](int port, bool* port_taken) {
    server->port_ = port;
    return server->Launch(port_taken);
  });
  if (!launched) return launched.error();
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
  const std::string log = dir_ + "/redis.log";
  const std::string conf = dir_ + "/redis.conf";
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
  // Ready when it answers PING and is ours: another program may listen on the port while our
  // server fails to bind it.
  auto probe = [this]() -> pid_t {
    auto ping = Exec(port_, password_, {"PING"}, kProbeConnectTimeout, kProbeIoTimeout);
    if (!ping || ping->error || ping->text != "PONG") return 0;
    auto info = Exec(port_, password_, {"INFO", "server"}, kProbeConnectTimeout, kProbeIoTimeout);
    if (!info || info->error) return 0;
    const std::string key = "process_id:";
    const size_t at = info->text.find(key);
    if (at == std::string::npos) return 0;
    const auto server_pid =
        static_cast<pid_t>(std::strtol(info->text.c_str() + at + key.size(), nullptr, 10));
    return server_pid > 0 && ParentPid(server_pid) == wrapper_pid_ ? server_pid : 0;
  };
  const detail::SpawnOptions options{
      .log_path = log, .cwd = dir_, .parent_death_signal = SIGTERM, .run_as = std::nullopt};
  const detail::ReadyCheck ready{probe, "answering PING", "answer PING", kBindFailures};
  // The wrapper bounds the server's lifetime: SIGTERM after kLifetimeS, SIGKILL kKillAfterS
  // later; it also forwards the SIGTERM it gets when its parent thread exits.
  return detail::LaunchServer(kRedis,
                              {timeout_bin_, "-k", std::to_string(kKillAfterS), "-s", "TERM",
                               std::to_string(kLifetimeS), redis_bin_, conf},
                              options, port_, ready, &wrapper_pid_, &pid_, port_taken);
}

core::Status RedisServer::Stop() {
  // SIGTERM: redis-server shuts down without saving (no save points); if it does not stop in time,
  // its process group (redis-server and anything it forked) is killed.
  return detail::StopServer(kRedis, &wrapper_pid_, &pid_);
}

core::Status RedisServer::Restart() {
  auto stopped = Stop();
  return detail::RelaunchOnPort(port_, std::move(stopped), [this](int /*port*/, bool* port_taken) {
    return Launch(port_taken);
  });
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
