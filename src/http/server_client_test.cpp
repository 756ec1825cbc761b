// Server and Client against each other over loopback. Every server binds 127.0.0.1:0; the
// client side runs on the test thread's own io_context, driven for a bounded time.
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "http/client.h"
#include "http/detail/client_internal.h"
#include "http/server.h"
#include "http/timer.h"
#include "tests/testutil/http_fetch.h"

namespace sy::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);
// Upper bound for anything a test waits on; reached only when something is broken.
constexpr std::chrono::milliseconds kLimit = 10s;

// A one-shot signal that coroutines on any io_context (or plain threads) wait for and any
// thread sets.
class Event {
 public:
  void Set() {
    std::lock_guard lock(mu_);
    set_ = true;
    cv_.notify_all();
    for (auto& timer : timers_) net::post(timer->get_executor(), [timer] { timer->cancel(); });
  }

  bool WaitBlocking(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return set_; });
  }

  // True when the event was set before `timeout`.
  Task<bool> Wait(std::chrono::milliseconds timeout) {
    auto executor = co_await net::this_coro::executor;
    auto timer = std::make_shared<net::steady_timer>(executor, timeout);
    {
      std::lock_guard lock(mu_);
      if (set_) co_return true;
      timers_.push_back(timer);
    }
    Unregister unregister{this, timer.get()};  // also when the frame is destroyed unresumed
    co_await timer->async_wait(kUseTuple);
    bool set = false;
    {
      std::lock_guard lock(mu_);
      set = set_;
    }
    co_return set;
  }

 private:
  struct Unregister {
    Event* event;
    net::steady_timer* timer;
    ~Unregister() {
      std::lock_guard lock(event->mu_);
      std::erase_if(event->timers_, [&](const auto& t) { return t.get() == timer; });
    }
  };

  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
  std::vector<std::shared_ptr<net::steady_timer>> timers_;
};

// The client side of a test: an io_context on the test thread and a Client on it.
class ClientLoop {
 public:
  ClientLoop() { client_ = detail::MakeClient(ioc_); }
  explicit ClientLoop(detail::Resolver::Lookup lookup) {
    client_ = detail::MakeClient(ioc_, std::move(lookup));
  }
  ~ClientLoop() { client_->Close(); }

  Client& client() { return *client_; }
  net::io_context& ioc() { return ioc_; }

  // Starts `fn`, a callable returning Task<void>; Drive() waits for it.
  template <typename Fn>
  void Spawn(Fn fn) {
    auto done = std::make_shared<bool>(false);
    net::co_spawn(ioc_, std::move(fn), [done](std::exception_ptr e) {
      *done = true;
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        ADD_FAILURE() << "client coroutine threw: " << ex.what();
      }
    });
    spawned_.push_back(std::move(done));
  }

  // Runs the loop until every spawned coroutine has finished; false when that takes `limit`.
  bool Drive(std::chrono::milliseconds limit = kLimit) {
    const auto until = Clock::now() + limit;
    ioc_.restart();
    while (!AllDone()) {
      const auto now = Clock::now();
      if (now >= until) return false;
      if (ioc_.run_one_for(until - now) == 0 && ioc_.stopped()) return AllDone();
    }
    return true;
  }

  template <typename Fn>
  bool Run(Fn fn, std::chrono::milliseconds limit = kLimit) {
    Spawn(std::move(fn));
    return Drive(limit);
  }

 private:
  bool AllDone() const {
    for (const auto& done : spawned_) {
      if (!*done) return false;
    }
    return true;
  }

  std::unique_ptr<Client> client_;  // declared first: destroyed after the frames in ioc_
  net::io_context ioc_;
  std::vector<std::shared_ptr<bool>> spawned_;
};

using testutil::Fetch;
using testutil::Fetched;

ClientRequest MakeRequest(std::string method, std::string url, std::string body = "") {
  ClientRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.body = std::move(body);
  request.connect_timeout = kLimit;
  request.first_byte_timeout = kLimit;
  request.idle_timeout = kLimit;
  return request;
}

std::unique_ptr<Server> StartServer(Handler handler, ServerOptions options = {}) {
  options.listen = "127.0.0.1:0";
  auto server = Server::Start(options, std::move(handler));
  if (!server) {
    ADD_FAILURE() << "cannot start the server: " << server.error().message;
    return nullptr;
  }
  return std::move(server).value();
}

std::string Url(const Server& server, std::string_view target) {
  return "http://" + server.address() + std::string(target);
}

// GETs each of `targets` in turn from one client, so on one connection while the server keeps
// it; what each fetch got, in order.
std::vector<Fetched> GetInTurn(const Server& server,
                               std::initializer_list<std::string_view> targets) {
  ClientLoop loop;
  std::vector<Fetched> got;
  EXPECT_TRUE(loop.Run([&]() -> Task<void> {
    for (std::string_view target : targets) {
      got.push_back(co_await Fetch(loop.client(), MakeRequest("GET", Url(server, target))));
    }
  }));
  return got;
}

// Connects a raw socket, sends `bytes`, and returns all it receives until the server closes.
std::string RawExchange(const Server& server, std::string bytes) {
  ClientLoop loop;
  std::string received;
  auto host_port = ParseHostPort(server.address());
  EXPECT_TRUE(host_port.has_value());
  if (!host_port) return "";
  const tcp::endpoint endpoint(net::ip::make_address(host_port->first), host_port->second);
  const bool finished = loop.Run([&]() -> Task<void> {
    tcp::socket socket(co_await net::this_coro::executor);
    auto [cec] = co_await socket.async_connect(endpoint, kUseTuple);
    if (cec) co_return;
    auto [wec, written] = co_await net::async_write(socket, net::buffer(bytes), kUseTuple);
    if (wec) co_return;
    std::array<char, 4096> buffer{};
    for (;;) {
      auto [rec, n] = co_await socket.async_read_some(net::buffer(buffer), kUseTuple);
      received.append(buffer.data(), n);
      if (rec) break;
    }
  });
  EXPECT_TRUE(finished) << "the server did not close the connection";
  return received;
}

// Records what handlers saw, across worker threads.
struct Seen {
  std::mutex mu;
  std::vector<std::string> peers;
  std::vector<std::optional<core::Error>> read_errors;
  std::vector<std::string> targets;
  std::vector<std::string> methods;

  void Record(const ServerRequest& req) {
    std::lock_guard lock(mu);
    peers.push_back(req.peer);
    read_errors.push_back(req.read_error);
    targets.push_back(req.target);
    methods.push_back(req.method);
  }
  size_t count() {
    std::lock_guard lock(mu);
    return peers.size();
  }
};

Task<void> Answer(ResponseWriter& writer, int status, std::string body) {
  Headers headers;
  headers.Add("content-type", "text/plain");
  co_await writer.Send(status, headers, std::move(body));
}

// Answers every request 200 "ok"; requests that could not be read get 400 (or 413/408).
Handler RecordingHandler(Seen& seen) {
  return [&seen](ServerRequest& req, ResponseWriter& writer) -> Task<void> {
    seen.Record(req);
    int status = 200;
    if (req.read_error) {
      switch (req.read_error->code) {
        case core::Errc::kPayloadTooLarge:
          status = req.read_error->param == "headers" ? 431 : 413;
          break;
        case core::Errc::kRequestTimeout:
          status = 408;
          break;
        default:
          status = 400;
      }
    }
    co_await Answer(writer, status, "ok");
  };
}

TEST(ServerRequestTest, PathAndQuery) {
  ServerRequest with;
  with.target = "/v1/models?limit=2";
  EXPECT_EQ(with.Path(), "/v1/models");
  EXPECT_EQ(with.Query(), "limit=2");
  ServerRequest without;
  without.target = "/v1/route/explain";
  EXPECT_EQ(without.Query(), "");
  // Never a null view: Boost.URL's parse_query ran strlen on one and crashed explain.
  EXPECT_NE(without.Query().data(), nullptr);
}

TEST(ServerClientTest, PostRoundTripWithHeadersAndBody) {
  std::mutex mu;
  ServerRequest received;
  auto server = StartServer([&](ServerRequest& req, ResponseWriter& writer) -> Task<void> {
    {
      std::lock_guard lock(mu);
      received.method = req.method;
      received.target = req.target;
      received.headers = req.headers;
      received.body = req.body;
      received.peer = req.peer;
      received.read_error = req.read_error;
      received.client = req.client;
    }
    Headers headers;
    headers.Add("X-Echo-Path", std::string(req.Path()));
    headers.Add("Content-Type", "application/json");
    co_await writer.Send(201, headers, "echo:" + req.body);
  });
  ASSERT_TRUE(server);

  ClientLoop loop;
  Fetched got;
  auto request =
      MakeRequest("POST", Url(*server, "/v1/chat/completions?stream=false"), R"({"model":"m"})");
  request.headers.Add("Authorization", "Bearer sk-test");
  request.headers.Add("Content-Type", "application/json");
  ASSERT_TRUE(loop.Run([&]() -> Task<void> { got = co_await Fetch(loop.client(), request); }));

  ASSERT_FALSE(got.error) << got.error->message;
  EXPECT_EQ(got.status, 201);
  EXPECT_EQ(got.headers.Get("x-echo-path"), "/v1/chat/completions");
  EXPECT_EQ(got.headers.Get("content-type"), "application/json");
  EXPECT_EQ(got.body, R"(echo:{"model":"m"})");

  std::lock_guard lock(mu);
  EXPECT_EQ(received.method, "POST");
  EXPECT_EQ(received.target, "/v1/chat/completions?stream=false");
  EXPECT_EQ(received.headers.Get("authorization"), "Bearer sk-test");
  EXPECT_EQ(received.headers.Get("content-length"), "13");
  EXPECT_EQ(received.headers.Get("host"), server->address());  // with the port
  EXPECT_EQ(received.body, R"({"model":"m"})");
  EXPECT_EQ(received.peer.rfind("127.0.0.1:", 0), 0u) << received.peer;
  EXPECT_FALSE(received.read_error);
  EXPECT_NE(received.client, nullptr);
}

TEST(ServerClientTest, GetRoundTrip) {
  auto server = StartServer([](ServerRequest& req, ResponseWriter& writer) -> Task<void> {
    co_await Answer(writer, 200, req.method + " " + req.target + " body=" + req.body);
  });
  ASSERT_TRUE(server);
  ClientLoop loop;
  Fetched got;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    got = co_await Fetch(loop.client(), MakeRequest("GET", Url(*server, "/v1/models")));
  }));
  ASSERT_FALSE(got.error) << got.error->message;
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "GET /v1/models body=");
}

TEST(ServerClientTest, UrlWithoutPathRequestsSlash) {
  auto server = StartServer([](ServerRequest& req, ResponseWriter& writer) -> Task<void> {
    co_await Answer(writer, 200, req.target);
  });
  ASSERT_TRUE(server);
  ClientLoop loop;
  Fetched got;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    got = co_await Fetch(loop.client(), MakeRequest("GET", "http://" + server->address()));
  }));
  ASSERT_FALSE(got.error) << got.error->message;
  EXPECT_EQ(got.body, "/");
}

TEST(ServerClientTest, SequentialRequestsReuseTheConnection) {
  Seen seen;
  auto server = StartServer(RecordingHandler(seen));
  ASSERT_TRUE(server);
  ClientLoop loop;
  std::vector<Fetched> got;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    got.push_back(co_await Fetch(loop.client(), MakeRequest("GET", Url(*server, "/a"))));
    got.push_back(co_await Fetch(loop.client(), MakeRequest("POST", Url(*server, "/b"), "x")));
    got.push_back(co_await Fetch(loop.client(), MakeRequest("GET", Url(*server, "/c"))));
  }));
  ASSERT_EQ(got.size(), 3u);
  for (const auto& g : got) {
    EXPECT_FALSE(g.error);
    EXPECT_EQ(g.status, 200);
    EXPECT_EQ(g.body, "ok");
  }
  std::lock_guard lock(seen.mu);
  ASSERT_EQ(seen.peers.size(), 3u);
  EXPECT_EQ(seen.peers[1], seen.peers[0]);
  EXPECT_EQ(seen.peers[2], seen.peers[0]);
}

TEST(ServerClientTest, UnreadResponseIsNotReused) {
  Seen seen;
  auto server = StartServer(RecordingHandler(seen));
  ASSERT_TRUE(server);
  ClientLoop loop;
  Fetched second;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    {
      auto first = co_await loop.client().Send(MakeRequest("GET", Url(*server, "/a")));
      EXPECT_TRUE(first.has_value());
      // Dropped with its body unread: its connection is not at a message boundary.
    }
    second = co_await Fetch(loop.client(), MakeRequest("GET", Url(*server, "/b")));
  }));
  EXPECT_EQ(second.status, 200);
  std::lock_guard lock(seen.mu);
  ASSERT_EQ(seen.peers.size(), 2u);
  EXPECT_NE(seen.peers[0], seen.peers[1]);
}

TEST(ServerClientTest, StreamedChunksArriveInOrderBeforeTheNextIsWritten) {
  Event got_one;
  Event got_two;
  std::atomic<int> written{0};
  auto server = StartServer([&](ServerRequest&, ResponseWriter& writer) -> Task<void> {
    Headers headers;
    headers.Add("content-type", "text/event-stream");
    EXPECT_TRUE(co_await writer.StartStream(200, headers));
    EXPECT_TRUE(writer.started());
    written = 1;
    EXPECT_TRUE(co_await writer.Write("one"));
    EXPECT_TRUE(co_await got_one.Wait(kLimit));
    written = 2;
    EXPECT_TRUE(co_await writer.Write("two"));
    EXPECT_TRUE(co_await got_two.Wait(kLimit));
    EXPECT_TRUE(co_await writer.Write(""));  // empty writes send nothing (no last-chunk)
    written = 3;
    EXPECT_TRUE(co_await writer.Write("three"));
    Headers trailers;
    EXPECT_TRUE(co_await writer.EndStream(trailers));
  });
  ASSERT_TRUE(server);

  ClientLoop loop;
  std::vector<std::string> pieces;
  std::vector<int> written_when_read;
  int status = 0;
  Headers response_headers;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    auto response = co_await loop.client().Send(MakeRequest("POST", Url(*server, "/stream")));
    if (!response) {
      ADD_FAILURE() << response.error().message;
      co_return;
    }
    status = (*response)->status();
    response_headers = (*response)->headers();
    for (int i = 0; i < 5; ++i) {
      auto piece = co_await (*response)->Read();
      if (!piece) {
        ADD_FAILURE() << piece.error().message;
        co_return;
      }
      pieces.push_back(*piece);
      written_when_read.push_back(written.load());
      if (piece->empty()) break;
      if (*piece == "one") got_one.Set();
      if (*piece == "two") got_two.Set();
    }
  }));
  EXPECT_EQ(status, 200);
  EXPECT_EQ(response_headers.Get("content-type"), "text/event-stream");
  EXPECT_EQ(response_headers.Get("transfer-encoding"), "chunked");
  EXPECT_EQ(pieces, (std::vector<std::string>{"one", "two", "three", ""}));
  EXPECT_EQ(written_when_read, (std::vector<int>{1, 2, 3, 3}));
}

TEST(ServerClientTest, StreamedResponseConnectionIsReusedAfterTheLastChunk) {
  std::mutex mu;
  std::vector<std::string> peers;
  auto server = StartServer([&](ServerRequest& req, ResponseWriter& writer) -> Task<void> {
    {
      std::lock_guard lock(mu);
      peers.push_back(req.peer);
    }
    const Headers headers;
    co_await writer.StartStream(200, headers);
    co_await writer.Write("a");
    co_await writer.Write("b");
    co_await writer.EndStream(headers);
  });
  ASSERT_TRUE(server);
  const std::vector<Fetched> got = GetInTurn(*server, {"/1", "/2"});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].body, "ab");
  EXPECT_EQ(got[1].body, "ab");
  std::lock_guard lock(mu);
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[0], peers[1]);
}

// The last data and the body's end go out together; the body and the connection are as with a
// Write and an EndStream. A stream may also be nothing but that one write after its head.
TEST(ServerClientTest, WriteAndEndSendsTheLastChunkWithTheEnd) {
  auto server = StartServer([&](ServerRequest& req, ResponseWriter& writer) -> Task<void> {
    Headers trailers;
    trailers.Add("x-switchyard-cost-usd", "0.1");
    Headers headers;
    headers.Add("trailer", "x-switchyard-cost-usd");
    EXPECT_TRUE(co_await writer.StartStream(200, headers));
    if (req.Path() == "/two") {
      EXPECT_TRUE(co_await writer.Write("a"));
    }
    EXPECT_TRUE(co_await writer.WriteAndEnd("bc", trailers));
  });
  ASSERT_TRUE(server);
  const std::vector<Fetched> got = GetInTurn(*server, {"/two", "/one"});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].status, 200);
  EXPECT_EQ(got[0].body, "abc");
  EXPECT_EQ(got[1].body, "bc");
}

// A reader that stops before the body's end (an SSE stream after "[DONE]") discards the rest:
// the connection is then reused instead of a new one per stream.
TEST(ServerClientTest, ADiscardedRestLeavesTheConnectionForTheNextRequest) {
  std::mutex mu;
  std::vector<std::string> peers;
  auto server = StartServer([&](ServerRequest& req, ResponseWriter& writer) -> Task<void> {
    {
      std::lock_guard lock(mu);
      peers.push_back(req.peer);
    }
    const Headers headers;
    co_await writer.StartStream(200, headers);
    co_await writer.Write("data: [DONE]\n\n");
    co_await writer.Write("not read by the client");
    co_await writer.EndStream(headers);
  });
  ASSERT_TRUE(server);
  ClientLoop loop;
  bool ended = false;
  Fetched second;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    {
      auto first = co_await loop.client().Send(MakeRequest("GET", Url(*server, "/1")));
      if (!first) {
        ADD_FAILURE() << first.error().message;
        co_return;
      }
      auto piece = co_await (*first)->Read();
      EXPECT_TRUE(piece.has_value());
      ended = co_await (*first)->Discard(std::chrono::milliseconds(2000), 1024);
    }
    second = co_await Fetch(loop.client(), MakeRequest("GET", Url(*server, "/2")));
  }));
  EXPECT_TRUE(ended);
  EXPECT_EQ(second.status, 200);
  std::lock_guard lock(mu);
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[0], peers[1]);
}

// An upstream that never ends its body costs the discard its timeout, not the idle timeout.
TEST(ServerClientTest, DiscardGivesUpAfterItsTimeout) {
  Event release;
  auto server = StartServer([&](ServerRequest&, ResponseWriter& writer) -> Task<void> {
    const Headers headers;
    co_await writer.StartStream(200, headers);
    co_await writer.Write("first");
    co_await release.Wait(kLimit);
    co_await writer.EndStream(headers);
  });
  ASSERT_TRUE(server);
  ClientLoop loop;
  bool ended = true;
  std::chrono::steady_clock::duration took{};
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    auto response = co_await loop.client().Send(MakeRequest("GET", Url(*server, "/1")));
    if (!response) {
      ADD_FAILURE() << response.error().message;
      co_return;
    }
    (void)co_await (*response)->Read();
    const auto start = std::chrono::steady_clock::now();
    ended = co_await (*response)->Discard(std::chrono::milliseconds(50), 1024);
    took = std::chrono::steady_clock::now() - start;
  }));
  release.Set();
  EXPECT_FALSE(ended);
  EXPECT_LT(took, std::chrono::seconds(5));  // the idle timeout would have been much longer
}

TEST(ServerClientTest, HandlerThatForgetsToEndTheStreamStillEndsIt) {
  auto server = StartServer([](ServerRequest&, ResponseWriter& writer) -> Task<void> {
    const Headers headers;
    co_await writer.StartStream(200, headers);
    co_await writer.Write("partial");
  });
  ASSERT_TRUE(server);
  ClientLoop loop;
  Fetched got;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    got = co_await Fetch(loop.client(), MakeRequest("GET", Url(*server, "/")));
  }));
  EXPECT_FALSE(got.error);
  EXPECT_EQ(got.body, "partial");
}

// POSTs `body_bytes` to /v1/messages on a server whose body limit is 1 KiB.
Fetched PostOverTheLimit(Seen& seen, size_t body_bytes) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  auto server = StartServer(RecordingHandler(seen), options);
  EXPECT_TRUE(server);
  if (!server) return {};
  ClientLoop loop;
  Fetched got;
  EXPECT_TRUE(loop.Run([&]() -> Task<void> {
    got = co_await Fetch(loop.client(), MakeRequest("POST", Url(*server, "/v1/messages"),
                                                    std::string(body_bytes, 'x')));
  }));
  return got;
}

TEST(ServerClientTest, BodyOverLimitReachesTheHandlerAsPayloadTooLarge) {
  Seen seen;
  Fetched got = PostOverTheLimit(seen, 64 * 1024);
  ASSERT_FALSE(got.error) << got.error->message;
  EXPECT_EQ(got.status, 413);
  EXPECT_EQ(got.headers.Get("connection"), "close");
  std::lock_guard lock(seen.mu);
  ASSERT_EQ(seen.read_errors.size(), 1u);
  ASSERT_TRUE(seen.read_errors[0]);
  EXPECT_EQ(seen.read_errors[0]->code, core::Errc::kPayloadTooLarge);
  EXPECT_EQ(seen.read_errors[0]->param, "");
  // The head was read, so the application can answer in the dialect its path selects.
  EXPECT_EQ(seen.methods[0], "POST");
  EXPECT_EQ(seen.targets[0], "/v1/messages");
}

TEST(ServerClientTest, BodyFarOverTheLimitStillGetsItsAnswerRatherThanAReset) {
  // The client is still sending when the 413 goes out; the server keeps reading (and
  // discarding) so the client can finish and read the answer instead of hitting a reset.
  Seen seen;
  Fetched got = PostOverTheLimit(seen, 8 * 1024 * 1024);
  ASSERT_FALSE(got.error) << got.error->message;
  EXPECT_EQ(got.status, 413);
}

TEST(ServerClientTest, BodyAtTheLimitIsAccepted) {
  std::atomic<size_t> body_bytes{0};
  ServerOptions options;
  options.max_body_bytes = 1024;
  auto server = StartServer(
      [&](ServerRequest& req, ResponseWriter& writer) -> Task<void> {
        body_bytes = req.body.size();
        co_await Answer(writer, req.read_error ? 413 : 200, "");
      },
      options);
  ASSERT_TRUE(server);
  ClientLoop loop;
  Fetched got;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    got = co_await Fetch(loop.client(),
                         MakeRequest("POST", Url(*server, "/"), std::string(1024, 'x')));
  }));
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(body_bytes.load(), 1024u);
}

TEST(ServerClientTest, HeadersOverLimitReachTheHandlerAsPayloadTooLarge) {
  Seen seen;
  ServerOptions options;
  options.max_header_bytes = 1024;
  auto server = StartServer(RecordingHandler(seen), options);
  ASSERT_TRUE(server);
  ClientLoop loop;
  Fetched got;
  auto request = MakeRequest("POST", Url(*server, "/v1/messages?beta=true"));
  request.headers.Add("x-big", std::string(8 * 1024, 'h'));
  ASSERT_TRUE(loop.Run([&]() -> Task<void> { got = co_await Fetch(loop.client(), request); }));
  ASSERT_FALSE(got.error) << got.error->message;
  EXPECT_EQ(got.status, 431);
  std::lock_guard lock(seen.mu);
  ASSERT_EQ(seen.read_errors.size(), 1u);
  ASSERT_TRUE(seen.read_errors[0]);
  EXPECT_EQ(seen.read_errors[0]->code, core::Errc::kPayloadTooLarge);
  EXPECT_EQ(seen.read_errors[0]->param, "headers");
  // Beast parsed nothing of the head; its request line still says where it was going (the
  // gateway answers in that endpoint's dialect).
  EXPECT_EQ(seen.methods[0], "POST");
  EXPECT_EQ(seen.targets[0], "/v1/messages?beta=true");
}

// A head cut short by the read timeout, or one with a malformed field: the request line is
// taken when it is whole and well formed, and nothing when it is not.
TEST(ServerClientTest, AHeadReadInPartKeepsItsRequestLineOnlyWhenWhole) {
  Seen seen;
  ServerOptions options;
  options.request_read_timeout = 200ms;
  auto server = StartServer(RecordingHandler(seen), options);
  ASSERT_TRUE(server);
  EXPECT_EQ(RawExchange(*server, "POST /v1/messages HTTP/1.1\r\nHost: x\r\nX-Slow: a")
                .rfind("HTTP/1.1 408", 0),
            0u);
  EXPECT_EQ(RawExchange(*server, "POST /v1/messages HTTP/1.1\r\nBad Field: x\r\n\r\n")
                .rfind("HTTP/1.1 400", 0),
            0u);
  EXPECT_EQ(RawExchange(*server, "POST /v1/mess").rfind("HTTP/1.1 408", 0), 0u);
  const std::string odd = RawExchange(*server, "POST v1 x HTTP/1.1\r\nHost: x");
  EXPECT_EQ(odd.rfind("HTTP/1.1 400", 0), 0u) << odd;  // Beast refuses the line as it comes
  std::lock_guard lock(seen.mu);
  ASSERT_EQ(seen.targets.size(), 4u);
  EXPECT_EQ(seen.targets[0], "/v1/messages");
  EXPECT_EQ(seen.targets[1], "/v1/messages");
  EXPECT_EQ(seen.targets[2], "");  // no whole line
  EXPECT_EQ(seen.targets[3], "");  // not a path
}

TEST(ServerClientTest, SlowClientReachesTheHandlerAsRequestTimeout) {
  Seen seen;
  ServerOptions options;
  options.request_read_timeout = 200ms;
  auto server = StartServer(RecordingHandler(seen), options);
  ASSERT_TRUE(server);
  const auto start = Clock::now();
  const std::string received =
      RawExchange(*server, "POST /v1/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf");
  EXPECT_GE(Clock::now() - start, 200ms);
  std::lock_guard lock(seen.mu);
  ASSERT_EQ(seen.read_errors.size(), 1u);
  ASSERT_TRUE(seen.read_errors[0]);
  EXPECT_EQ(seen.read_errors[0]->code, core::Errc::kRequestTimeout);
  EXPECT_EQ(seen.targets[0], "/v1/chat");
  EXPECT_EQ(received.rfind("HTTP/1.1 408", 0), 0u) << received;
}

TEST(ServerClientTest, MalformedRequestReachesTheHandlerAsInvalidRequest) {
  Seen seen;
  auto server = StartServer(RecordingHandler(seen));
  ASSERT_TRUE(server);
  const std::string received = RawExchange(*server, "GARBAGE\r\n\r\n");
  EXPECT_EQ(received.rfind("HTTP/1.1 400", 0), 0u) << received;
  std::lock_guard lock(seen.mu);
  ASSERT_EQ(seen.read_errors.size(), 1u);
  ASSERT_TRUE(seen.read_errors[0]);
  EXPECT_EQ(seen.read_errors[0]->code, core::Errc::kInvalidRequest);
}

TEST(ServerClientTest, ExpectContinueIsAnsweredBeforeTheBody) {
  Seen seen;
  auto server = StartServer(RecordingHandler(seen));
  ASSERT_TRUE(server);
  const std::string received =
      RawExchange(*server,
                  "POST /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n"
                  "Connection: close\r\n\r\nhi");
  EXPECT_EQ(received.rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200", 0), 0u) << received;
  EXPECT_EQ(seen.count(), 1u);
}

// RFC 9110 §10.1.1: a server must ignore Expect from an HTTP/1.0 client, and never sends a
// 1xx response to one.
TEST(ServerClientTest, ExpectContinueFromAnHttp10ClientIsIgnored) {
  Seen seen;
  auto server = StartServer(RecordingHandler(seen));
  ASSERT_TRUE(server);
  const std::string received = RawExchange(
      *server, "POST /x HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(received.rfind("HTTP/1.1 200", 0), 0u) << received;
  EXPECT_EQ(received.find("100 Continue"), std::string::npos) << received;
  EXPECT_EQ(seen.count(), 1u);
}

TEST(ServerClientTest, ClientClosingBetweenRequestsDoesNotReachTheHandler) {
  Seen seen;
  auto server = StartServer(RecordingHandler(seen));
  ASSERT_TRUE(server);
  const std::string received =
      RawExchange(*server, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(received.rfind("HTTP/1.1 200", 0), 0u) << received;
  EXPECT_EQ(seen.count(), 1u);
}

TEST(ServerClientTest, PipelinedRequestsAreAnsweredInOrder) {
  auto server = StartServer([](ServerRequest& req, ResponseWriter& writer) -> Task<void> {
    co_await Answer(writer, 200, req.target);
  });
  ASSERT_TRUE(server);
  const std::string received =
      RawExchange(*server,
                  "GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const auto first = received.find("/first");
  const auto second = received.find("/second");
  ASSERT_NE(first, std::string::npos) << received;
  ASSERT_NE(second, std::string::npos) << received;
  EXPECT_LT(first, second);
}

TEST(ServerClientTest, HeadGetsTheHeadersWithoutTheBody) {
  auto server = StartServer([](ServerRequest&, ResponseWriter& writer) -> Task<void> {
    co_await Answer(writer, 200, "hello");
  });
  ASSERT_TRUE(server);
  // The second request on the same connection is parsed correctly only if the HEAD answer
  // carried no body.
  const std::string received =
      RawExchange(*server,
                  "HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const auto second = received.find("HTTP/1.1 200", 1);
  ASSERT_NE(second, std::string::npos) << received;
  const std::string head_answer = received.substr(0, second);
  EXPECT_NE(head_answer.find("content-length: 5\r\n"), std::string::npos) << received;
  EXPECT_EQ(head_answer.find("hello"), std::string::npos) << received;
  EXPECT_NE(received.find("hello", second), std::string::npos) << received;
}

TEST(ServerClientTest, HandlerThatThrowsGives500) {
  auto server = StartServer([](ServerRequest&, ResponseWriter&) -> Task<void> {
    throw std::runtime_error("boom");
    co_return;
  });
  ASSERT_TRUE(server);
  const std::vector<Fetched> got = GetInTurn(*server, {"/", "/"});
  ASSERT_EQ(got.size(), 2u);
  for (const auto& g : got) {
    ASSERT_FALSE(g.error) << g.error->message;
    EXPECT_EQ(g.status, 500);
    EXPECT_NE(g.body.find("internal error"), std::string::npos);
  }
}

TEST(ServerClientTest, HandlerThatThrowsANonStdExceptionGives500) {
  auto server = StartServer([](ServerRequest&, ResponseWriter&) -> Task<void> {
    throw 42;
    co_return;
  });
  ASSERT_TRUE(server);
  ClientLoop loop;
  Fetched got;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    got = co_await Fetch(loop.client(), MakeRequest("GET", Url(*server, "/")));
  }));
  EXPECT_EQ(got.status, 500);
  // Stop must not wait for a request the throw left counted as in flight.
  const auto start = Clock::now();
  server->Stop(5s);
  EXPECT_LT(Clock::now() - start, 4s);
}

TEST(ServerClientTest, HandlerThatThrowsMidStreamEndsTheStream) {
  auto server = StartServer([](ServerRequest&, ResponseWriter& writer) -> Task<void> {
    const Headers headers;
    co_await writer.StartStream(200, headers);
    co_await writer.Write("before");
    throw std::runtime_error("boom");
  });
  ASSERT_TRUE(server);
  ClientLoop loop;
  Fetched got;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    got = co_await Fetch(loop.client(), MakeRequest("GET", Url(*server, "/")));
  }));
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "before");
}

TEST(ServerClientTest, HandlerThatSendsNothingGives500) {
  auto server = StartServer([](ServerRequest&, ResponseWriter&) -> Task<void> { co_return; });
  ASSERT_TRUE(server);
  ClientLoop loop;
  Fetched got;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    got = co_await Fetch(loop.client(), MakeRequest("GET", Url(*server, "/")));
  }));
  EXPECT_EQ(got.status, 500);
}

TEST(ServerClientTest, Ipv6RoundTrip) {
  ServerOptions options;
  options.listen = "[::1]:0";
  auto started =
      Server::Start(options, [](ServerRequest& req, ResponseWriter& writer) -> Task<void> {
        co_await Answer(writer, 200, std::string(req.headers.Get("host")));
      });
  if (!started) GTEST_SKIP() << "no IPv6 loopback: " << started.error().message;
  auto server = std::move(started).value();
  ClientLoop loop;
  Fetched got;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    got = co_await Fetch(loop.client(), MakeRequest("GET", Url(*server, "/")));
  }));
  ASSERT_FALSE(got.error) << got.error->message;
  EXPECT_EQ(got.body, server->address());
  EXPECT_EQ(server->address().rfind("[::1]:", 0), 0u);
}

TEST(ClientTest, ClosedPortIsUpstreamUnavailable) {
  uint16_t port = 0;
  {
    net::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    port = acceptor.local_endpoint().port();
  }
  ClientLoop loop;
  Fetched got;
  bool delivered = false;
  auto request = MakeRequest("GET", "http://127.0.0.1:" + std::to_string(port) + "/");
  request.delivered = &delivered;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> { got = co_await Fetch(loop.client(), request); }));
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->code, core::Errc::kUpstreamUnavailable);
  EXPECT_FALSE(delivered) << "nothing reached the upstream";
}

TEST(ClientTest, ARequestTheUpstreamNeverReadIsNotDelivered) {
  // A listener that never accepts: the kernel completes the handshake and takes what fits its
  // buffers, and the rest of a large body never leaves.
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  ClientLoop loop;
  Fetched got;
  bool delivered = false;
  auto request = MakeRequest("POST", "http://127.0.0.1:" + std::to_string(port) + "/",
                             std::string(32 * 1024 * 1024, 'x'));
  request.first_byte_timeout = 200ms;
  request.delivered = &delivered;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> { got = co_await Fetch(loop.client(), request); }));
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->code, core::Errc::kUpstreamTimeout);
  EXPECT_FALSE(delivered) << "the body never left whole";
}

TEST(ClientTest, BadUrlIsInvalidRequest) {
  ClientLoop loop;
  std::vector<Fetched> got;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    got.push_back(co_await Fetch(loop.client(), MakeRequest("GET", "not a url")));
    got.push_back(co_await Fetch(loop.client(), MakeRequest("GET", "/relative/path")));
    got.push_back(co_await Fetch(loop.client(), MakeRequest("GET", "ftp://127.0.0.1/x")));
  }));
  ASSERT_EQ(got.size(), 3u);
  for (const auto& g : got) {
    ASSERT_TRUE(g.error);
    EXPECT_EQ(g.error->code, core::Errc::kInvalidRequest);
  }
}

TEST(ClientTest, FirstByteTimeoutIsUpstreamTimeout) {
  Event release;
  auto server = StartServer([&](ServerRequest&, ResponseWriter& writer) -> Task<void> {
    co_await release.Wait(kLimit);
    co_await Answer(writer, 200, "late");
  });
  ASSERT_TRUE(server);
  ClientLoop loop;
  Fetched got;
  auto request = MakeRequest("GET", Url(*server, "/slow"));
  request.first_byte_timeout = 200ms;
  bool delivered = false;
  request.delivered = &delivered;
  const auto start = Clock::now();
  ASSERT_TRUE(loop.Run([&]() -> Task<void> { got = co_await Fetch(loop.client(), request); }));
  const auto elapsed = Clock::now() - start;
  release.Set();
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->code, core::Errc::kUpstreamTimeout);
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 5s);
  EXPECT_TRUE(delivered) << "the upstream had the request: it may bill it";
}

TEST(ClientTest, DeadlineBoundsTheFirstByteTimeout) {
  Event release;
  auto server = StartServer([&](ServerRequest&, ResponseWriter& writer) -> Task<void> {
    co_await release.Wait(kLimit);
    co_await Answer(writer, 200, "late");
  });
  ASSERT_TRUE(server);
  ClientLoop loop;
  Fetched got;
  auto request = MakeRequest("GET", Url(*server, "/slow"));
  request.deadline = Clock::now() + 200ms;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> { got = co_await Fetch(loop.client(), request); }));
  release.Set();
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->code, core::Errc::kUpstreamTimeout);
  // Which bound it hit: the operator's total deadline, not the first-byte timeout.
  EXPECT_EQ(got.error->message,
            "upstream timed out while waiting for the response head (the request's deadline "
            "passed)");
}

// Regression (audit 2): a stream cut by the request's deadline said only "upstream timed out
// while reading the response body", as an idle upstream does.
TEST(ClientTest, ABodyCutByTheDeadlineSaysSo) {
  Event release;
  auto server = StartServer([&](ServerRequest&, ResponseWriter& writer) -> Task<void> {
    const Headers headers;
    co_await writer.StartStream(200, headers);
    // A byte every 20 ms: never idle for the 1 s idle timeout, cut by the 300 ms deadline.
    for (int i = 0; i < 500; ++i) {
      if (!co_await writer.Write("x") || co_await release.Wait(20ms)) break;
    }
  });
  ASSERT_TRUE(server);
  ClientLoop loop;
  std::optional<core::Error> error;
  auto request = MakeRequest("GET", Url(*server, "/"));
  request.idle_timeout = 1s;
  request.deadline = Clock::now() + 300ms;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    auto response = co_await loop.client().Send(request);
    if (!response) co_return;
    for (;;) {
      auto piece = co_await (*response)->Read();
      if (!piece) {
        error = piece.error();
        break;
      }
      if (piece->empty()) break;
    }
  }));
  release.Set();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, core::Errc::kUpstreamTimeout);
  EXPECT_EQ(error->message,
            "upstream timed out while reading the response body (the request's deadline passed)");
}

// A name's lookup is bounded by the connect timeout and the request's deadline, whichever
// comes first; the error names the deadline when that was the bound (a lookup that never answers).
TEST(ClientTest, ALookupCutByTheDeadlineSaysSo) {
  std::vector<detail::Resolver::Done> unanswered;
  auto hang = [&](const std::string&, const std::string&, detail::Resolver::Done done) {
    unanswered.push_back(std::move(done));
  };
  for (const bool deadline_first : {true, false}) {
    ClientLoop loop(hang);
    std::optional<core::Error> error;
    auto request = MakeRequest("GET", "http://slow.example:8080/");
    request.connect_timeout = deadline_first ? 10s : 100ms;
    request.deadline = Clock::now() + (deadline_first ? 100ms : 10s);
    ASSERT_TRUE(loop.Run([&]() -> Task<void> {
      auto response = co_await loop.client().Send(request);
      if (!response) error = response.error();
    }));
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, core::Errc::kUpstreamTimeout);
    EXPECT_EQ(error->message, deadline_first ? "upstream timed out resolving slow.example (the "
                                               "request's deadline passed)"
                                             : "upstream timed out resolving slow.example");
  }
}

TEST(ClientTest, IdleTimeoutBetweenChunksIsUpstreamTimeout) {
  Event release;
  auto server = StartServer([&](ServerRequest&, ResponseWriter& writer) -> Task<void> {
    const Headers headers;
    co_await writer.StartStream(200, headers);
    co_await writer.Write("first");
    co_await release.Wait(kLimit);
  });
  ASSERT_TRUE(server);
  ClientLoop loop;
  std::string first;
  std::optional<core::Error> error;
  auto request = MakeRequest("GET", Url(*server, "/"));
  request.idle_timeout = 200ms;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    auto response = co_await loop.client().Send(request);
    if (!response) co_return;
    auto piece = co_await (*response)->Read();
    if (piece) first = *piece;
    auto next = co_await (*response)->Read();
    if (!next) error = next.error();
    auto after_error = co_await (*response)->Read();  // must not crash or pretend the body ended
    EXPECT_FALSE(after_error.has_value());
  }));
  release.Set();
  EXPECT_EQ(first, "first");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, core::Errc::kUpstreamTimeout);
  EXPECT_EQ(error->message, "upstream timed out while reading the response body");
}

TEST(ClientTest, ReadAllFailsPastTheLimit) {
  auto server = StartServer([](ServerRequest&, ResponseWriter& writer) -> Task<void> {
    co_await Answer(writer, 200, std::string(4096, 'b'));
  });
  ASSERT_TRUE(server);
  ClientLoop loop;
  std::optional<core::Error> error;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    auto response = co_await loop.client().Send(MakeRequest("GET", Url(*server, "/")));
    if (!response) co_return;
    auto body = co_await (*response)->ReadAll(1000);
    if (!body) error = body.error();
  }));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, core::Errc::kUpstreamUnavailable);
}

// Answers each request on a connection and then closes it, although the answer claimed
// keep-alive: what a client sees when an upstream drops an idle pooled connection.
Task<void> AnswerThenClose(tcp::acceptor& acceptor, int& accepted, Event& closed) {
  for (;;) {
    auto [aec, socket] = co_await acceptor.async_accept(kUseTuple);
    if (aec) co_return;
    ++accepted;
    std::string request;
    auto [rec, n] =
        co_await net::async_read_until(socket, net::dynamic_buffer(request), "\r\n\r\n", kUseTuple);
    if (rec) continue;
    const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    co_await net::async_write(socket, net::buffer(answer), kUseTuple);
    socket.close();
    closed.Set();
  }
}

TEST(ClientTest, StaleKeepAliveConnectionIsRetriedTransparently) {
  ClientLoop loop;
  tcp::acceptor acceptor(loop.ioc(), tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  const std::string url =
      "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/";
  int accepted = 0;
  Event closed;
  net::co_spawn(loop.ioc(), AnswerThenClose(acceptor, accepted, closed), net::detached);
  Fetched first;
  Fetched second;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    first = co_await Fetch(loop.client(), MakeRequest("GET", url));
    EXPECT_TRUE(co_await closed.Wait(kLimit));
    second = co_await Fetch(loop.client(), MakeRequest("GET", url));
  }));
  boost::system::error_code ignored;
  acceptor.close(ignored);
  EXPECT_EQ(first.status, 200);
  ASSERT_FALSE(second.error) << second.error->message;
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "ok");
  EXPECT_EQ(accepted, 2);
}

// POSTs the bodies "0" .. "n-1" to `server` at once, from one client loop, and returns the
// answers in that order. `ready`, when given, holds back every request but the first until it
// returns true.
std::vector<Fetched> PostConcurrently(const Server& server, int n,
                                      const std::function<bool()>& ready = nullptr) {
  ClientLoop loop;
  std::vector<Fetched> got(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    loop.Spawn([&, i]() -> Task<void> {
      if (i > 0 && ready) {
        while (!ready()) co_await SleepFor(1ms);
      }
      got[static_cast<size_t>(i)] =
          co_await Fetch(loop.client(), MakeRequest("POST", Url(server, "/"), std::to_string(i)));
    });
  }
  EXPECT_TRUE(loop.Drive());
  return got;
}

void ExpectAnswer(const Fetched& got, const std::string& body) {
  ASSERT_FALSE(got.error) << got.error->message;
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, body);
}

TEST(ServerTest, ParseHostPort) {
  auto v4 = ParseHostPort("127.0.0.1:8080");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->first, "127.0.0.1");
  EXPECT_EQ(v4->second, 8080);
  auto v6 = ParseHostPort("[::1]:443");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->first, "::1");
  EXPECT_EQ(v6->second, 443);
  auto name = ParseHostPort("localhost:0");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->first, "localhost");
  EXPECT_EQ(name->second, 0);
  auto max = ParseHostPort("0.0.0.0:65535");
  ASSERT_TRUE(max);
  EXPECT_EQ(max->second, 65535);
  for (const char* bad : {"", "localhost", ":80", "host:", "host:65536", "host:80x", "host:-1",
                          "host:+80", "[::1]", "host: 80"}) {
    auto r = ParseHostPort(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, core::Errc::kInvalidRequest) << bad;
    EXPECT_NE(r.error().message.find(bad), std::string::npos) << bad;
  }
}

TEST(ServerTest, StartFailsOnABadListenAddress) {
  ServerOptions options;
  options.listen = "not-an-ip:80";
  auto bad_host =
      Server::Start(options, [](ServerRequest&, ResponseWriter&) -> Task<void> { co_return; });
  ASSERT_FALSE(bad_host);
  EXPECT_EQ(bad_host.error().code, core::Errc::kInvalidRequest);
  options.listen = "127.0.0.1";
  auto no_port =
      Server::Start(options, [](ServerRequest&, ResponseWriter&) -> Task<void> { co_return; });
  ASSERT_FALSE(no_port);
}

TEST(ServerTest, AddressNamesTheBoundPort) {
  auto server = StartServer([](ServerRequest&, ResponseWriter&) -> Task<void> { co_return; });
  ASSERT_TRUE(server);
  auto host_port = ParseHostPort(server->address());
  ASSERT_TRUE(host_port);
  EXPECT_EQ(host_port->first, "127.0.0.1");
  EXPECT_NE(host_port->second, 0);
}

TEST(ServerTest, StopLetsAnInFlightRequestFinish) {
  Event started;
  Event stopping;
  auto server = StartServer([&](ServerRequest&, ResponseWriter& writer) -> Task<void> {
    started.Set();
    EXPECT_TRUE(co_await stopping.Wait(kLimit));
    co_await SleepFor(100ms);  // Stop has begun by now: it must wait for this answer
    co_await Answer(writer, 200, "finished");
  });
  ASSERT_TRUE(server);
  ClientLoop loop;
  Fetched got;
  loop.Spawn([&]() -> Task<void> {
    got = co_await Fetch(loop.client(), MakeRequest("GET", Url(*server, "/")));
  });
  std::chrono::nanoseconds stop_took{0};
  std::thread stopper([&] {
    if (!started.WaitBlocking(kLimit)) return;
    const auto start = Clock::now();
    stopping.Set();
    server->Stop(5s);
    stop_took = Clock::now() - start;
  });
  const bool done = loop.Drive();
  stopper.join();
  ASSERT_TRUE(done);
  ASSERT_FALSE(got.error) << got.error->message;
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "finished");
  EXPECT_GE(stop_took, 50ms);  // it waited for the handler
  EXPECT_LT(stop_took, 5s);
  server->Stop(0ms);  // idempotent
}

TEST(ServerTest, StopGivesUpOnAHandlerThatIgnoresCancellation) {
  Event started;
  Event release;
  ServerOptions options;
  options.cancel_wait = 200ms;
  auto server = StartServer(
      [&](ServerRequest&, ResponseWriter& writer) -> Task<void> {
        started.Set();
        // Each cancelled sleep is followed by another: this handler never finishes by itself.
        while (!release.WaitBlocking(0ms)) co_await SleepFor(5ms);
        co_await Answer(writer, 200, "never");
      },
      options);
  ASSERT_TRUE(server);
  ClientLoop loop;
  Fetched got;
  loop.Spawn([&]() -> Task<void> {
    got = co_await Fetch(loop.client(), MakeRequest("GET", Url(*server, "/")));
  });
  std::chrono::nanoseconds stop_took{0};
  std::thread stopper([&] {
    if (!started.WaitBlocking(kLimit)) return;
    const auto start = Clock::now();
    server->Stop(200ms);
    stop_took = Clock::now() - start;
  });
  const bool done = loop.Drive();
  stopper.join();
  ASSERT_TRUE(done);
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->code, core::Errc::kUpstreamUnavailable);
  EXPECT_GE(stop_took, 200ms + 200ms);  // the grace, then the cancel wait
  EXPECT_LT(stop_took, 5s);
  release.Set();
}

// A background job runs after its handler answered, on the worker, with the worker's client;
// Stop waits for it within the grace.
TEST(ServerTest, ABackgroundJobRunsAfterTheAnswerAndStopWaitsForIt) {
  std::atomic<bool> job_had_client{false};
  std::atomic<bool> job_done{false};
  Event job_started;
  Event release;
  auto server = StartServer([&](ServerRequest& request, ResponseWriter& writer) -> Task<void> {
    co_await Answer(writer, 200, "answered");
    ServerRequest copy;
    copy.body = request.body + " (shadow)";
    const bool started =
        request.background->Start(std::move(copy), [&](ServerRequest& job) -> Task<void> {
          job_had_client = job.client != nullptr && job.body == "ping (shadow)";
          job_started.Set();
          EXPECT_TRUE(co_await release.Wait(kLimit));
          job_done = true;
        });
    EXPECT_TRUE(started);
  });
  ASSERT_TRUE(server);
  ClientLoop loop;
  Fetched got;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    got = co_await Fetch(loop.client(), MakeRequest("POST", Url(*server, "/"), "ping"));
  }));
  EXPECT_EQ(got.body, "answered");  // while the job had not ended: the client did not wait
  // Stop only once the job runs: a Start that comes after Stop began is refused by design.
  ASSERT_TRUE(job_started.WaitBlocking(kLimit));
  EXPECT_FALSE(job_done);
  std::thread releaser([&] {
    std::this_thread::sleep_for(100ms);
    release.Set();
  });
  const auto stop_started = Clock::now();
  server->Stop(5s);
  const auto stop_took = Clock::now() - stop_started;
  releaser.join();
  EXPECT_TRUE(job_done);  // Stop waited for it
  EXPECT_GE(stop_took, 50ms);
  EXPECT_LT(stop_took, 5s);
  EXPECT_TRUE(job_had_client);
}

// Past the grace a background job is cancelled like a handler: it sees kShutdown and ends.
TEST(ServerTest, StopCancelsABackgroundJobPastTheGrace) {
  Event started;
  std::atomic<CancelReason> seen{CancelReason::kNone};
  auto server = StartServer([&](ServerRequest& request, ResponseWriter& writer) -> Task<void> {
    co_await Answer(writer, 200, "answered");
    const bool ok =
        request.background->Start(ServerRequest{}, [&](ServerRequest& job) -> Task<void> {
          started.Set();
          co_await SleepFor(kLimit);  // cut short by the cancellation
          seen = job.cancelled;
        });
    EXPECT_TRUE(ok);
  });
  ASSERT_TRUE(server);
  ClientLoop loop;
  ASSERT_TRUE(loop.Run([&]() -> Task<void> {
    (void)co_await Fetch(loop.client(), MakeRequest("GET", Url(*server, "/")));
  }));
  ASSERT_TRUE(started.WaitBlocking(kLimit));
  const auto start = Clock::now();
  server->Stop(100ms);
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_EQ(seen, CancelReason::kShutdown);
}

TEST(ServerTest, NewConnectionsAreRefusedAfterStop) {
  auto server = StartServer([](ServerRequest&, ResponseWriter& writer) -> Task<void> {
    co_await Answer(writer, 200, "ok");
  });
  ASSERT_TRUE(server);
  const std::string url = Url(*server, "/");
  server->Stop(0ms);
  ClientLoop loop;
  Fetched got;
  ASSERT_TRUE(loop.Run(
      [&]() -> Task<void> { got = co_await Fetch(loop.client(), MakeRequest("GET", url)); }));
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->code, core::Errc::kUpstreamUnavailable);
}

// Requests in flight together on one worker, each streaming its answer while the others call an
// upstream through the worker's own client: every answer arrives whole, its chunks in order.
TEST(ServerTest, RequestsInFlightTogetherOnOneWorkerAreEachAnsweredWhole) {
  auto upstream = StartServer([](ServerRequest& req, ResponseWriter& writer) -> Task<void> {
    co_await Answer(writer, 200, "up:" + req.body);
  });
  ASSERT_TRUE(upstream);
  constexpr int kRequests = 16;
  std::atomic<int> started{0};
  Event all_started;
  const std::string upstream_url = Url(*upstream, "/");
  auto server = StartServer([&](ServerRequest& req, ResponseWriter& writer) -> Task<void> {
    // Every request waits here until all are in flight on the one worker.
    if (++started == kRequests) all_started.Set();
    EXPECT_TRUE(co_await all_started.Wait(kLimit));
    std::string fetched = "no answer";
    auto response = co_await req.client->Send(MakeRequest("POST", upstream_url, req.body));
    if (response) {
      auto all = co_await (*response)->ReadAll(1 << 20);
      if (all) fetched = *all;
    }
    Headers headers;
    headers.Add("content-type", "text/plain");
    EXPECT_TRUE(co_await writer.StartStream(200, headers));
    EXPECT_TRUE(co_await writer.Write("[" + req.body + "]"));
    EXPECT_TRUE(co_await writer.Write(fetched));
    Headers trailers;
    EXPECT_TRUE(co_await writer.EndStream(trailers));
  });
  ASSERT_TRUE(server);
  const auto got = PostConcurrently(*server, kRequests);
  for (int i = 0; i < kRequests; ++i) {
    ExpectAnswer(got[static_cast<size_t>(i)], "[" + std::to_string(i) + "]up:" + std::to_string(i));
  }
}

TEST(ServerTest, TwoWorkersServeConcurrentRequests) {
  std::mutex mu;
  std::set<std::thread::id> threads;
  std::set<std::string> peers;
  Event first_started;
  ServerOptions options;
  options.threads = 2;
  auto server = StartServer(
      [&](ServerRequest& req, ResponseWriter& writer) -> Task<void> {
        {
          std::lock_guard lock(mu);
          threads.insert(std::this_thread::get_id());
          peers.insert(req.peer);
        }
        // The first request holds its worker's thread, as a CPU-bound request would, while the
        // other connections arrive: the other worker must accept them. Both wait on one
        // listening socket, and which wins an accept is otherwise a race that one worker,
        // draining the whole backlog in one go, can win 64 times.
        if (req.body == "0") {
          first_started.Set();
          std::this_thread::sleep_for(300ms);
        }
        co_await Answer(writer, 200, "echo:" + req.body);
      },
      options);
  ASSERT_TRUE(server);
  constexpr int kRequests = 64;
  const auto got =
      PostConcurrently(*server, kRequests, [&] { return first_started.WaitBlocking(0ms); });
  for (int i = 0; i < kRequests; ++i) {
    ExpectAnswer(got[static_cast<size_t>(i)], "echo:" + std::to_string(i));
  }
  std::lock_guard lock(mu);
  // Several connections at once, though not always 64: the client pools its connections, and
  // on a loaded machine a request may start only after another has finished and left its
  // connection idle for it (seen once in a ctest run: 63 peers).
  EXPECT_GE(peers.size(), 2u);
  EXPECT_EQ(threads.size(), 2u);
}

}  // namespace
}  // namespace sy::http
