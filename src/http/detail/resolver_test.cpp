#include "http/detail/resolver.h"

#include <optional>
#include <thread>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <gtest/gtest.h>

namespace sy::http::detail {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

Resolver::Endpoints At(const char* address) {
  return {tcp::endpoint(net::ip::make_address(address), 443)};
}

// A name server the test answers by hand: each lookup waits until the test completes it.
struct ScriptedLookups {
  struct Call {
    std::string host;
    Resolver::Done done;
  };
  std::vector<Call> calls;

  Resolver::Lookup Lookup() {
    return [this](const std::string& host, const std::string&, Resolver::Done done) {
      calls.push_back({host, std::move(done)});
    };
  }
  void Answer(size_t i, Resolver::Endpoints endpoints) {
    calls.at(i).done(boost::system::error_code(), std::move(endpoints));
  }
  void Fail(size_t i) { calls.at(i).done(net::error::host_not_found, {}); }
};

class ResolverTest : public ::testing::Test {
 protected:
  using Outcome = std::optional<core::Result<Resolver::Endpoints>>;

  Resolver MakeResolver(Resolver::Options options = {}) {
    return Resolver(ioc_, dns_.Lookup(), options);
  }

  // Starts a Resolve of `host` that stores its outcome in `out`, and runs what is ready.
  void Start(Resolver& resolver, const std::string& host, Outcome& out,
             Clock::duration within = 5s) {
    net::co_spawn(ioc_, Call(resolver, host, Clock::now() + within, out), net::detached);
    RunReady();
  }
  static Task<void> Call(Resolver& resolver, std::string host, Clock::time_point deadline,
                         Outcome& out) {
    out = co_await resolver.Resolve(host, "443", deadline);
  }
  void RunReady() {
    ioc_.restart();
    ioc_.poll();
  }
  void RunUntil(const Outcome& out, Clock::duration limit) {
    const auto until = Clock::now() + limit;
    while (!out && Clock::now() < until) {
      ioc_.restart();
      ioc_.run_for(5ms);
    }
  }

  net::io_context ioc_;
  ScriptedLookups dns_;
};

TEST_F(ResolverTest, ACallerGivesUpAtItsDeadlineWhileTheLookupHangs) {
  auto resolver = MakeResolver();
  Outcome out;
  const auto start = Clock::now();
  Start(resolver, "slow.example", out, 100ms);
  RunUntil(out, 5s);
  const auto waited = Clock::now() - start;
  ASSERT_TRUE(out);
  ASSERT_FALSE(*out);
  EXPECT_EQ(out->error().code, core::Errc::kUpstreamTimeout);
  EXPECT_EQ(out->error().message, "upstream timed out resolving slow.example");
  EXPECT_GE(waited, 100ms);
  EXPECT_LT(waited, 2s);
  // The lookup still answers later, and its answer serves the next caller at once.
  dns_.Answer(0, At("192.0.2.1"));
  Outcome next;
  Start(resolver, "slow.example", next);
  ASSERT_TRUE(next && *next);
  EXPECT_EQ(**next, At("192.0.2.1"));
  EXPECT_EQ(dns_.calls.size(), 1u);
}

TEST_F(ResolverTest, CallersOfOneNameShareOneLookup) {
  auto resolver = MakeResolver();
  Outcome first;
  Outcome second;
  Outcome other;
  Start(resolver, "api.example", first);
  Start(resolver, "api.example", second);
  Start(resolver, "other.example", other);
  ASSERT_EQ(dns_.calls.size(), 2u);
  EXPECT_EQ(dns_.calls[0].host, "api.example");
  EXPECT_EQ(dns_.calls[1].host, "other.example");
  EXPECT_FALSE(first || second || other);
  dns_.Answer(0, At("192.0.2.7"));
  RunReady();
  ASSERT_TRUE(first && *first && second && *second);
  EXPECT_EQ(**first, At("192.0.2.7"));
  EXPECT_EQ(**second, At("192.0.2.7"));
  EXPECT_FALSE(other);
}

TEST_F(ResolverTest, AFreshAnswerIsReusedWithoutALookup) {
  auto resolver = MakeResolver();
  Outcome first;
  Start(resolver, "api.example", first);
  dns_.Answer(0, At("192.0.2.7"));
  RunReady();
  Outcome again;
  Start(resolver, "api.example", again);
  ASSERT_TRUE(again && *again);
  EXPECT_EQ(**again, At("192.0.2.7"));
  EXPECT_EQ(dns_.calls.size(), 1u);
}

TEST_F(ResolverTest, AStaleAnswerIsGivenAtOnceWhileOneLookupRefreshesIt) {
  auto resolver = MakeResolver({.fresh_for = 0s, .keep_for = 10min, .max_names = 8});
  Outcome first;
  Start(resolver, "api.example", first);
  dns_.Answer(0, At("192.0.2.7"));
  RunReady();
  Outcome stale1;
  Outcome stale2;
  Start(resolver, "api.example", stale1);
  Start(resolver, "api.example", stale2);
  ASSERT_TRUE(stale1 && *stale1 && stale2 && *stale2);
  EXPECT_EQ(**stale1, At("192.0.2.7"));
  EXPECT_EQ(**stale2, At("192.0.2.7"));
  ASSERT_EQ(dns_.calls.size(), 2u) << "one refresh for both stale callers";
  dns_.Answer(1, At("192.0.2.8"));
  Outcome refreshed;
  Start(resolver, "api.example", refreshed);
  ASSERT_TRUE(refreshed && *refreshed);
  EXPECT_EQ(**refreshed, At("192.0.2.8"));
}

TEST_F(ResolverTest, AFailedRefreshKeepsTheLastAnswerUntilKeepFor) {
  auto resolver = MakeResolver({.fresh_for = 0s, .keep_for = 50ms, .max_names = 8});
  Outcome first;
  Start(resolver, "api.example", first);
  dns_.Answer(0, At("192.0.2.7"));
  Outcome stale;
  Start(resolver, "api.example", stale);
  dns_.Fail(1);
  ASSERT_TRUE(stale && *stale);
  EXPECT_EQ(**stale, At("192.0.2.7"));
  std::this_thread::sleep_for(60ms);
  Outcome expired;
  Start(resolver, "api.example", expired);
  EXPECT_FALSE(expired) << "past keep_for a caller waits for the lookup";
  ASSERT_EQ(dns_.calls.size(), 3u);
  dns_.Answer(2, At("192.0.2.9"));
  RunReady();
  ASSERT_TRUE(expired && *expired);
  EXPECT_EQ(**expired, At("192.0.2.9"));
}

TEST_F(ResolverTest, AFailedLookupIsNotKept) {
  auto resolver = MakeResolver();
  Outcome failed;
  Start(resolver, "missing.example", failed);
  dns_.Fail(0);
  RunReady();
  ASSERT_TRUE(failed);
  ASSERT_FALSE(*failed);
  EXPECT_EQ(failed->error().code, core::Errc::kUpstreamUnavailable);
  EXPECT_EQ(failed->error().message.rfind("cannot resolve missing.example: ", 0), 0u)
      << failed->error().message;
  Outcome retried;
  Start(resolver, "missing.example", retried);
  EXPECT_EQ(dns_.calls.size(), 2u);
}

TEST_F(ResolverTest, AnEmptyAnswerIsAFailure) {
  auto resolver = MakeResolver();
  Outcome out;
  Start(resolver, "empty.example", out);
  dns_.Answer(0, {});
  RunReady();
  ASSERT_TRUE(out);
  ASSERT_FALSE(*out);
  EXPECT_EQ(out->error().message, "cannot resolve empty.example: no address found");
}

TEST_F(ResolverTest, ALookupThatAnswersAtOnceNeedsNoWait) {
  Resolver resolver(ioc_,
                    [](const std::string&, const std::string&, Resolver::Done done) {
                      done(boost::system::error_code(), At("192.0.2.3"));
                    },
                    {});
  Outcome out;
  Start(resolver, "now.example", out);
  ASSERT_TRUE(out && *out);
  EXPECT_EQ(**out, At("192.0.2.3"));
}

TEST_F(ResolverTest, ACancelledWaitEndsAtOnce) {
  auto resolver = MakeResolver();
  Outcome out;
  net::cancellation_signal cancel;
  net::co_spawn(ioc_, Call(resolver, "slow.example", Clock::now() + 30s, out),
                net::bind_cancellation_slot(cancel.slot(), net::detached));
  RunReady();
  ASSERT_FALSE(out);
  cancel.emit(net::cancellation_type::terminal);
  RunUntil(out, 1s);
  ASSERT_TRUE(out);
  ASSERT_FALSE(*out);
  EXPECT_EQ(out->error().code, core::Errc::kUpstreamUnavailable);
  EXPECT_NE(out->error().message.find("resolving slow.example"), std::string::npos);
}

TEST_F(ResolverTest, ALookupThatEndsAfterTheResolverIsGoneChangesNothing) {
  {
    auto resolver = MakeResolver();
    Outcome out;
    Start(resolver, "late.example", out, 10ms);
    RunUntil(out, 5s);
    ASSERT_TRUE(out);
  }
  dns_.Answer(0, At("192.0.2.1"));  // the sanitizer build fails on any use of freed state
}

TEST_F(ResolverTest, TheSystemLookupResolvesALiteralAddress) {
  Resolver resolver(ioc_, Resolver::SystemLookup(ioc_), {});
  Outcome out;
  Start(resolver, "127.0.0.1", out);
  RunUntil(out, 5s);
  ASSERT_TRUE(out && *out);
  ASSERT_FALSE((*out)->empty());
  EXPECT_EQ((*out)->front().address(), net::ip::make_address("127.0.0.1"));
}

}  // namespace
}  // namespace sy::http::detail
