#include "shared/redis.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <utility>

#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <sys/time.h>

namespace sy::shared {
namespace {

using core::Errc;
using core::MakeError;

constexpr std::string_view kScheme = "redis://";
constexpr std::string_view kTlsScheme = "rediss://";
constexpr int kMaxDb = 15;
constexpr size_t kMaxCommandNameInMessage = 32;

// Error messages name no part of the URL: a password with an unencoded '/', '?' or '#' would
// otherwise end up in the "host" or the "database" being complained about.
core::Error BadUrl(const std::string& what) {
  return MakeError(Errc::kInvalidRequest,
                   "invalid Redis URL (redis://[[user]:password@]host[:port][/db]): " + what);
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 percent-decoding; false on a malformed escape.
bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int high = HexValue(in[i + 1]);
    const int low = HexValue(in[i + 2]);
    if (high < 0 || low < 0) return false;
    out->push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return true;
}

// Decimal digits only (no sign, no spaces), at most `max`.
bool ParseBoundedNumber(std::string_view text, int max, int* value) {
  if (text.empty() || text.size() > 5) return false;
  int result = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    result = result * 10 + (c - '0');
  }
  if (result > max) return false;
  *value = result;
  return true;
}

bool IsHostnameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

bool IsIpv6Char(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
}

std::string Prefix(const std::string& display) {
  return display.empty() ? "Redis: " : "Redis at " + display + ": ";
}

core::Error NotConnected(const std::string& display) {
  return MakeError(Errc::kInternal, Prefix(display) + "not connected (connect again)");
}

// "command GET": the command's name only (its arguments may be secret), printable and short.
std::string CommandWhat(const std::string& name) {
  std::string what = "command ";
  for (char c : name.substr(0, kMaxCommandNameInMessage)) {
    what.push_back(std::isprint(static_cast<unsigned char>(c)) != 0 ? c : '?');
  }
  return what;
}

timeval ToTimeval(std::chrono::milliseconds duration) {
  const auto ms = std::max<std::chrono::milliseconds::rep>(duration.count(), 0);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

RedisReply Convert(const redisReply* reply) {
  RedisReply out;
  if (reply == nullptr) return out;
  switch (reply->type) {
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = static_cast<int64_t>(reply->integer);
      break;
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(reply->elements);
      for (size_t i = 0; i < reply->elements; ++i)
        out.elements.push_back(Convert(reply->element[i]));
      break;
    default:  // REDIS_REPLY_NIL: hiredis 0.14 knows no other type
      break;
  }
  return out;
}

// hiredis' argv form of a command: pointers into `args`, which must outlive it.
class Argv {
 public:
  explicit Argv(std::span<const std::string> args) {
    pointers_.reserve(args.size());
    lengths_.reserve(args.size());
    for (const auto& arg : args) {
      pointers_.push_back(arg.data());
      lengths_.push_back(arg.size());
    }
  }
  int argc() const { return static_cast<int>(pointers_.size()); }
  const char** argv() { return pointers_.data(); }
  const size_t* lengths() const { return lengths_.data(); }

 private:
  std::vector<const char*> pointers_;
  std::vector<size_t> lengths_;
};

// hiredis writes with write(2), not send(MSG_NOSIGNAL): writing to a server that has gone away
// raises SIGPIPE, whose default action ends the process. For the length of one call SIGPIPE is
// blocked in this thread, and one it raised is consumed before unblocking (libpq does the same),
// so the process's own SIGPIPE disposition is left as the application set it.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigemptyset(&saved_);
    pthread_sigmask(SIG_BLOCK, &pipe_, &saved_);
    was_pending_ = Pending();
  }
  ~SigpipeGuard() {
    if (!was_pending_ && Pending()) {
      const timespec zero{};
      while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  static bool Pending() {
    sigset_t pending;
    sigemptyset(&pending);
    return sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
  }

  sigset_t pipe_{};
  sigset_t saved_{};
  bool was_pending_ = false;
};

}  // namespace

core::Result<RedisTarget> ParseRedisUrl(const std::string& url) {
  if (StartsWithNoCase(url, kTlsScheme)) {
    return MakeError(Errc::kInvalidRequest,
                     "TLS (rediss://) is not supported: this build's Redis client (hiredis 0.14) "
                     "has no TLS; use redis:// on a trusted network or through a TLS tunnel");
  }
  if (!StartsWithNoCase(url, kScheme)) return BadUrl("it must start with redis://");
  std::string_view rest = std::string_view(url).substr(kScheme.size());

  RedisTarget target;
  // The last '@' ends the credentials: host, port and db never hold one, a password might.
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return BadUrl("credentials are user:password@ or :password@ (a user needs a password)");
    }
    if (!PercentDecode(userinfo.substr(0, colon), &target.username) ||
        !PercentDecode(userinfo.substr(colon + 1), &target.password)) {
      return BadUrl("a malformed %-escape in the user or the password");
    }
    if (target.password.empty()) return BadUrl("the password is empty");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return BadUrl("query strings and fragments (?..., #...) are not supported");
  }

  const size_t slash = rest.find('/');
  const std::string_view hostport = rest.substr(0, slash);
  const std::string_view db_text =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);

  std::string_view host;
  std::string_view after_host;
  const bool ipv6 = !hostport.empty() && hostport.front() == '[';
  if (ipv6) {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) return BadUrl("an IPv6 address lacks its closing ']'");
    host = hostport.substr(1, close - 1);
    after_host = hostport.substr(close + 1);
    if (host.find(':') == std::string_view::npos ||
        !std::all_of(host.begin(), host.end(), IsIpv6Char)) {
      return BadUrl("the IPv6 address in [...] is malformed");
    }
  } else {
    const size_t colon = hostport.find(':');
    host = hostport.substr(0, colon);
    after_host = colon == std::string_view::npos ? std::string_view() : hostport.substr(colon);
    if (host.empty()) return BadUrl("no host (an IPv6 address goes in brackets: [::1])");
    if (!std::all_of(host.begin(), host.end(), IsHostnameChar)) {
      return BadUrl("the host must be a hostname, an IPv4 address or an IPv6 address in [...]");
    }
  }
  if (!after_host.empty()) {
    if (after_host.front() != ':' ||
        !ParseBoundedNumber(after_host.substr(1), 65535, &target.port) || target.port == 0) {
      return BadUrl("the port must be a number from 1 to 65535");
    }
  }
  if (!db_text.empty() &&
      (db_text.size() > 2 || !ParseBoundedNumber(db_text, kMaxDb, &target.db))) {
    return BadUrl("the database (/db) must be a number from 0 to " + std::to_string(kMaxDb));
  }

  target.host = std::string(host);
  const std::string shown_host = ipv6 ? "[" + target.host + "]" : target.host;
  target.display =
      "redis://" + shown_host + ":" + std::to_string(target.port) + "/" + std::to_string(target.db);
  return target;
}

RedisScript::RedisScript(std::string source) : source_(std::move(source)) {
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(), digest.data());
  static constexpr std::string_view kHex = "0123456789abcdef";
  sha1_.reserve(2 * digest.size());
  for (const unsigned char byte : digest) {
    sha1_.push_back(kHex[byte >> 4U]);
    sha1_.push_back(kHex[byte & 0xFU]);
  }
}

core::Result<RedisConnection> RedisConnection::Connect(const RedisTarget& target,
                                                       std::chrono::milliseconds connect_timeout,
                                                       std::chrono::milliseconds io_timeout) {
  redisContext* context =
      redisConnectWithTimeout(target.host.c_str(), target.port, ToTimeval(connect_timeout));
  if (context == nullptr) {
    return MakeError(Errc::kInternal, Prefix(target.display) + "connect: out of memory");
  }
  RedisConnection connection(context, target.display);
  if (context->err != 0) return connection.Broken("connect");
  if (redisSetTimeout(context, ToTimeval(io_timeout)) != REDIS_OK) {
    return connection.Broken("setting the I/O timeout");
  }

  if (!target.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!target.username.empty()) auth.push_back(target.username);
    auth.push_back(target.password);
    auto reply = connection.Command(auth);
    if (!reply) return std::move(reply).error();
    if (reply->type == RedisReply::Type::kError) {
      // The server's reason ("WRONGPASS ...") helps, unless it should ever echo the password.
      std::string reason;
      if (reply->text.find(target.password) == std::string::npos) reason = " (" + reply->text + ")";
      return MakeError(Errc::kInternal,
                       Prefix(target.display) + "the credentials were refused" + reason);
    }
  }
  if (target.db != 0) {
    const std::vector<std::string> select = {"SELECT", std::to_string(target.db)};
    auto reply = connection.Command(select);
    if (!reply) return std::move(reply).error();
    if (reply->type == RedisReply::Type::kError) {
      return MakeError(Errc::kInternal, Prefix(target.display) + "SELECT " +
                                            std::to_string(target.db) + " failed: " + reply->text);
    }
  }
  return connection;
}

RedisConnection::RedisConnection(RedisConnection&& other) noexcept
    : context_(std::exchange(other.context_, nullptr)), display_(std::move(other.display_)) {}

RedisConnection& RedisConnection::operator=(RedisConnection&& other) noexcept {
  if (this != &other) {
    if (context_ != nullptr) redisFree(context_);
    context_ = std::exchange(other.context_, nullptr);
    display_ = std::move(other.display_);
  }
  return *this;
}

RedisConnection::~RedisConnection() {
  if (context_ != nullptr) redisFree(context_);
}

bool RedisConnection::ok() const { return context_ != nullptr && context_->err == 0; }

core::Error RedisConnection::Broken(std::string_view what) {
  std::string detail = "connection lost";
  if (context_ != nullptr && context_->err != 0) {
    detail = context_->errstr;
    // An expired SO_RCVTIMEO/SO_SNDTIMEO surfaces as EAGAIN.
    if (context_->err == REDIS_ERR_IO && detail == std::strerror(EAGAIN)) {
      detail = "I/O timeout (" + detail + ")";
    }
  }
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
  return MakeError(Errc::kInternal, Prefix(display_) + std::string(what) + ": " + detail);
}

core::Result<RedisReply> RedisConnection::Command(std::span<const std::string> args) {
  if (!ok()) return NotConnected(display_);
  if (args.empty()) return MakeError(Errc::kInternal, Prefix(display_) + "an empty command");
  Argv argv(args);
  const SigpipeGuard guard;
  ReplyPtr reply(static_cast<redisReply*>(
      redisCommandArgv(context_, argv.argc(), argv.argv(), argv.lengths())));
  if (reply == nullptr) return Broken(CommandWhat(args.front()));
  return Convert(reply.get());
}

core::Result<std::vector<RedisReply>> RedisConnection::Pipeline(
    std::span<const std::vector<std::string>> commands) {
  if (!ok()) return NotConnected(display_);
  // Checked before anything is buffered, so a refusal leaves the connection usable.
  for (const auto& command : commands) {
    if (command.empty()) {
      return MakeError(Errc::kInternal, Prefix(display_) + "an empty command in a pipeline");
    }
  }
  std::vector<RedisReply> replies;
  if (commands.empty()) return replies;
  const std::string what = "pipeline of " + std::to_string(commands.size()) + " commands";
  const SigpipeGuard guard;
  for (const auto& command : commands) {
    Argv argv(command);
    if (redisAppendCommandArgv(context_, argv.argc(), argv.argv(), argv.lengths()) != REDIS_OK) {
      return Broken(what);
    }
  }
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    const int status = redisGetReply(context_, &raw);
    ReplyPtr reply(static_cast<redisReply*>(raw));
    if (status != REDIS_OK || reply == nullptr) return Broken(what);
    replies.push_back(Convert(reply.get()));
  }
  return replies;
}

core::Result<RedisReply> RedisConnection::Eval(const RedisScript& script,
                                               std::span<const std::string> keys,
                                               std::span<const std::string> args) {
  std::vector<std::string> command;
  command.reserve(3 + keys.size() + args.size());
  command.insert(command.end(), {"EVALSHA", script.sha1(), std::to_string(keys.size())});
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  auto reply = Command(command);
  if (!reply || reply->type != RedisReply::Type::kError || !reply->text.starts_with("NOSCRIPT")) {
    return reply;
  }
  // The server lost its script cache (restarted or SCRIPT FLUSH): send the source once; EVAL
  // caches it again for the next EVALSHA.
  command[0] = "EVAL";
  command[1] = script.source();
  return Command(command);
}

}  // namespace sy::shared
