// Client::Send and its connection pool against a scripted raw TCP upstream on 127.0.0.1:0 that
// counts every connection and complete request it reads, on the test thread's io_context next
// to the client: a request is never sent twice, a pooled connection is reused only at a
// message boundary, and a body's reader gets what arrived together in one piece.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "http/client.h"
#include "http/detail/client_internal.h"

namespace sy::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);
// Upper bound for a whole test; reached only when something is broken.
constexpr std::chrono::milliseconds kLimit = 10s;

// What the upstream does after reading request number n (1-based, over all connections).
enum class Action {
  kAnswer,             // 200 "ok", keep-alive
  kAnswerAndClose,     // 200 "ok" claiming keep-alive, then a plain close (FIN) while idle
  kAnswerAndJunk,      // 200 "ok" followed by bytes that are no response, then stays open
  kReset,              // no answer: RST (SO_LINGER 0 + close)
  kInterimThenAnswer,  // 100 Continue, a pause, 103 Early Hints, a pause, 200 "answer <n>"
  kInterimsAtOnce,     // the same three heads in one write
  kSwitchProtocols,    // 101 Switching Protocols, then stays open
  kManyInterims,       // more 103 heads than a client skips, then 200 "answer <n>"
  kChunksAtOnce,       // 200, chunked: "one", "two", "three" and the last chunk, in one write
  kChunkThenJunk,      // 200, chunked: "one", then a chunk size that is not hex, in one write
};

// A raw HTTP/1.1 upstream that runs a script and counts what it reads.
class Upstream {
 public:
  Upstream(net::io_context& ioc, std::function<Action(int)> script)
      : ioc_(ioc),
        acceptor_(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)),
        script_(std::move(script)),
        closed_signal_(ioc, std::chrono::steady_clock::time_point::max()) {
    net::co_spawn(ioc_, Accept(), net::detached);
  }
  ~Upstream() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/v1/x";
  }
  int requests() const { return requests_; }
  int connections() const { return connections_; }

  // Returns once the upstream closed a connection after answering (kAnswerAndClose).
  Task<void> WaitClosedIdle() {
    if (!closed_idle_) co_await closed_signal_.async_wait(kUseTuple);
  }

 private:
  Task<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kUseTuple);
      if (ec) co_return;
      ++connections_;
      net::co_spawn(ioc_, Serve(std::move(socket)), net::detached);
    }
  }

  // Reads one request (head and content-length body); false when the connection ended.
  static Task<bool> ReadRequest(tcp::socket& socket, std::string& buffer) {
    auto [ec, head_bytes] =
        co_await net::async_read_until(socket, net::dynamic_buffer(buffer), "\r\n\r\n", kUseTuple);
    if (ec) co_return false;
    size_t body_bytes = 0;
    const std::string head = buffer.substr(0, head_bytes);
    if (auto at = head.find("content-length: "); at != std::string::npos) {
      body_bytes = std::stoul(head.substr(at + 16));
    } else if (at = head.find("Content-Length: "); at != std::string::npos) {
      body_bytes = std::stoul(head.substr(at + 16));
    }
    if (buffer.size() < head_bytes + body_bytes) {
      auto [rec, n] = co_await net::async_read(
          socket, net::dynamic_buffer(buffer),
          net::transfer_exactly(head_bytes + body_bytes - buffer.size()), kUseTuple);
      if (rec) co_return false;
    }
    buffer.erase(0, head_bytes + body_bytes);
    co_return true;
  }

  static inline const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  static inline const std::string kEarlyHints =
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";

  // A 200 whose body names the request it answers: "answer <n>".
  static std::string Answer(int n) {
    const std::string body = "answer " + std::to_string(n);
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  // Lets the client read what was written so far on its own, as a slower upstream would.
  Task<void> Pause() {
    net::steady_timer timer(ioc_, 20ms);
    co_await timer.async_wait(kUseTuple);
  }

  Task<void> Serve(tcp::socket socket) {
    std::string buffer;
    static const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    while (co_await ReadRequest(socket, buffer)) {
      const Action action = script_(++requests_);
      switch (action) {
        case Action::kAnswer:
          co_await net::async_write(socket, net::buffer(kOk), kUseTuple);
          break;
        case Action::kAnswerAndClose:
          co_await net::async_write(socket, net::buffer(kOk), kUseTuple);
          socket.close();
          closed_idle_ = true;
          closed_signal_.cancel();
          co_return;
        case Action::kAnswerAndJunk: {
          const std::string junk = kOk + "HTTP/1.1 200 OK\r\n";
          co_await net::async_write(socket, net::buffer(junk), kUseTuple);
          break;
        }
        case Action::kReset:
          socket.set_option(net::socket_base::linger(true, 0));
          socket.close();
          co_return;
        case Action::kInterimThenAnswer:
          co_await net::async_write(socket, net::buffer(kContinue), kUseTuple);
          co_await Pause();
          co_await net::async_write(socket, net::buffer(kEarlyHints), kUseTuple);
          co_await Pause();
          co_await net::async_write(socket, net::buffer(Answer(requests_)), kUseTuple);
          break;
        case Action::kInterimsAtOnce: {
          const std::string all = kContinue + kEarlyHints + Answer(requests_);
          co_await net::async_write(socket, net::buffer(all), kUseTuple);
          break;
        }
        case Action::kSwitchProtocols: {
          static const std::string kSwitch =
              "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
              "Upgrade\r\n\r\n";
          co_await net::async_write(socket, net::buffer(kSwitch), kUseTuple);
          break;
        }
        case Action::kChunksAtOnce:
        case Action::kChunkThenJunk: {
          const std::string rest = action == Action::kChunksAtOnce
                                       ? "3\r\ntwo\r\n5\r\nthree\r\n0\r\n\r\n"
                                       : "zz\r\ntwo\r\n0\r\n\r\n";
          const std::string all =
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n" + rest;
          co_await net::async_write(socket, net::buffer(all), kUseTuple);
          break;
        }
        case Action::kManyInterims: {
          std::string all;
          for (int i = 0; i < 10; ++i) all += kEarlyHints;
          all += Answer(requests_);
          co_await net::async_write(socket, net::buffer(all), kUseTuple);
          break;
        }
      }
    }
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  std::function<Action(int)> script_;
  int requests_ = 0;
  int connections_ = 0;
  bool closed_idle_ = false;
  net::steady_timer closed_signal_;
};

struct Outcome {
  std::optional<core::Error> error;
  int status = 0;
  std::string body;
};

ClientRequest PostRequest(const std::string& url, size_t max_idle_connections) {
  ClientRequest request;
  request.url = url;
  request.body = R"({"model":"m"})";
  request.first_byte_timeout = 5s;
  request.max_idle_connections = max_idle_connections;
  return request;
}

// A POST with a body, read to its end so that a keep-alive connection returns to the pool.
Task<Outcome> Post(Client& client, const std::string& url,
                   size_t max_idle_connections = ClientRequest().max_idle_connections) {
  Outcome out;
  auto response = co_await client.Send(PostRequest(url, max_idle_connections));
  if (!response) {
    out.error = response.error();
    co_return out;
  }
  out.status = (*response)->status();
  auto body = co_await (*response)->ReadAll(1024);
  if (!body) {
    out.error = body.error();
  } else {
    out.body = *body;
  }
  co_return out;
}

// Post with the default idle limit, as a plain function.
Task<Outcome> PostOnce(Client& client, const std::string& url) { return Post(client, url); }

// The pieces a body's reader gets (ClientResponse::Read) from each call.
using Pieces = std::vector<core::Result<std::string>>;
Task<Pieces> ReadPieces(Client& client, const std::string& url) {
  Pieces pieces;
  auto response = co_await client.Send(PostRequest(url, 8));
  if (!response) {
    pieces.push_back(response.error());
    co_return pieces;
  }
  for (int i = 0; i < 4; ++i) {
    pieces.push_back(co_await (*response)->Read());
    if (!pieces.back() || pieces.back()->empty()) break;
  }
  co_return pieces;
}

// The client and the upstream share the test thread's io_context. Members are destroyed
// upstream first, then the io_context (and the coroutine frames in it), then the client.
class ClientResendTest : public ::testing::Test {
 protected:
  ~ClientResendTest() override { client_->Close(); }

  // Runs `fn` to completion on the loop; false when that takes longer than kLimit.
  bool Run(std::function<Task<void>()> fn) {
    bool done = false;
    net::co_spawn(ioc_, fn(), [&](std::exception_ptr e) {
      done = true;
      ioc_.stop();
      if (e) ADD_FAILURE() << "client coroutine threw";
    });
    ioc_.run_for(kLimit);
    return done;
  }

  // Two requests in turn to an upstream that answers the first with `first_action` and the
  // second plainly: the first read by `read_first` (Post or ReadPieces), the second posted.
  // What the first leaves of the connection shows in the second.
  template <typename First>
  std::pair<First, Outcome> ThenPost(Action first_action,
                                     Task<First> (*read_first)(Client&, const std::string&)) {
    upstream_.emplace(ioc_,
                      [first_action](int n) { return n == 1 ? first_action : Action::kAnswer; });
    std::pair<First, Outcome> out;
    if (!Run([&]() -> Task<void> {
          out.first = co_await read_first(*client_, upstream_->url());
          out.second = co_await Post(*client_, upstream_->url());
        })) {
      ADD_FAILURE() << "the two requests did not finish within the limit";
    }
    return out;
  }
  std::pair<Outcome, Outcome> TwoPosts(Action first_action) {
    return ThenPost<Outcome>(first_action, &PostOnce);
  }
  std::pair<Pieces, Outcome> PiecesThenPost(Action first_action) {
    return ThenPost<Pieces>(first_action, &ReadPieces);
  }

  std::unique_ptr<Client> client_;
  net::io_context ioc_;
  std::optional<Upstream> upstream_;

  void SetUp() override { client_ = detail::MakeClient(ioc_); }
};

// Regression: a reused connection reset after the upstream read the whole request used to be
// retried on a fresh connection, so the upstream saw (and could bill) the request twice.
TEST_F(ClientResendTest, ResetAfterTheRequestWasReadIsNotResent) {
  upstream_.emplace(ioc_, [](int n) { return n == 2 ? Action::kReset : Action::kAnswer; });
  Outcome first;
  Outcome second;
  ASSERT_TRUE(Run([&]() -> Task<void> {
    first = co_await Post(*client_, upstream_->url());
    second = co_await Post(*client_, upstream_->url());
  }));
  ASSERT_FALSE(first.error) << first.error->message;
  EXPECT_EQ(first.body, "ok");
  ASSERT_TRUE(second.error);
  EXPECT_EQ(second.error->code, core::Errc::kUpstreamUnavailable);
  EXPECT_EQ(upstream_->requests(), 2);
  EXPECT_EQ(upstream_->connections(), 1);
}

TEST_F(ClientResendTest, ConnectionClosedWhileIdleIsReplacedBeforeSending) {
  upstream_.emplace(ioc_, [](int n) { return n == 1 ? Action::kAnswerAndClose : Action::kAnswer; });
  Outcome first;
  Outcome second;
  ASSERT_TRUE(Run([&]() -> Task<void> {
    first = co_await Post(*client_, upstream_->url());
    co_await upstream_->WaitClosedIdle();
    second = co_await Post(*client_, upstream_->url());
  }));
  ASSERT_FALSE(first.error) << first.error->message;
  ASSERT_FALSE(second.error) << second.error->message;
  EXPECT_EQ(second.body, "ok");
  EXPECT_EQ(upstream_->requests(), 2);  // each request read once, on its own connection
  EXPECT_EQ(upstream_->connections(), 2);
}

TEST_F(ClientResendTest, ConnectionWithUnsolicitedBytesIsNotReused) {
  const auto [first, second] = TwoPosts(Action::kAnswerAndJunk);
  ASSERT_FALSE(first.error) << first.error->message;
  ASSERT_FALSE(second.error) << second.error->message;
  EXPECT_EQ(second.body, "ok");
  EXPECT_EQ(upstream_->requests(), 2);
  EXPECT_EQ(upstream_->connections(), 2);
}

// Regression: the first head read was taken for the answer even when it was an interim 1xx.
// The 100 was returned as an upstream error with an empty body, which left the connection
// "done" and pooled while the upstream was still sending the real 200, so the next request on
// it read that 200 as its own answer.
TEST_F(ClientResendTest, InterimResponsesAreSkippedForTheFinalAnswer) {
  const auto [first, second] = TwoPosts(Action::kInterimThenAnswer);
  ASSERT_FALSE(first.error) << first.error->message;
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "answer 1");
  ASSERT_FALSE(second.error) << second.error->message;
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "ok");
  EXPECT_EQ(upstream_->requests(), 2);
  EXPECT_EQ(upstream_->connections(), 1);  // the second request reused the first's connection
}

TEST_F(ClientResendTest, InterimResponsesBufferedWithTheAnswerAreSkipped) {
  const auto [first, second] = TwoPosts(Action::kInterimsAtOnce);
  ASSERT_FALSE(first.error) << first.error->message;
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "answer 1");
  ASSERT_FALSE(second.error) << second.error->message;
  EXPECT_EQ(second.body, "ok");
  EXPECT_EQ(upstream_->connections(), 1);
}

TEST_F(ClientResendTest, SwitchingProtocolsFailsAndTheConnectionIsNotPooled) {
  const auto [first, second] = TwoPosts(Action::kSwitchProtocols);
  ASSERT_TRUE(first.error);
  EXPECT_EQ(first.error->code, core::Errc::kUpstreamUnavailable);
  ASSERT_FALSE(second.error) << second.error->message;
  EXPECT_EQ(second.body, "ok");
  EXPECT_EQ(upstream_->connections(), 2);
}

TEST_F(ClientResendTest, EndlessInterimResponsesFailAndTheConnectionIsNotPooled) {
  const auto [first, second] = TwoPosts(Action::kManyInterims);
  ASSERT_TRUE(first.error);
  EXPECT_EQ(first.error->code, core::Errc::kUpstreamUnavailable);
  EXPECT_NE(first.error->message.find("interim"), std::string::npos) << first.error->message;
  ASSERT_FALSE(second.error) << second.error->message;
  EXPECT_EQ(second.body, "ok");
  EXPECT_EQ(upstream_->connections(), 2);
}

// Regression: Read returned one chunk a call, so a stream's events that arrived in one segment
// reached the stream relay one at a time and went to its client in one write each (five
// `sendmsg` calls for a five-event answer), though the relay writes what is buffered together.
TEST_F(ClientResendTest, ChunksThatArrivedTogetherAreReadInOnePiece) {
  const auto [pieces, next] = PiecesThenPost(Action::kChunksAtOnce);
  ASSERT_EQ(pieces.size(), 2u);
  ASSERT_TRUE(pieces[0]) << pieces[0].error().message;
  EXPECT_EQ(*pieces[0], "onetwothree");
  ASSERT_TRUE(pieces[1]) << pieces[1].error().message;
  EXPECT_EQ(*pieces[1], "");  // the body's end
  ASSERT_FALSE(next.error) << next.error->message;
  EXPECT_EQ(next.body, "ok");
  EXPECT_EQ(upstream_->connections(), 1);  // read to its end: the connection was reused
}

// What came before a malformed element is still the body's: the reader gets it, then the error.
TEST_F(ClientResendTest, ABrokenChunkAfterAGoodOneFailsTheReadAfterIt) {
  const auto [pieces, next] = PiecesThenPost(Action::kChunkThenJunk);
  ASSERT_EQ(pieces.size(), 2u);
  ASSERT_TRUE(pieces[0]) << pieces[0].error().message;
  EXPECT_EQ(*pieces[0], "one");
  ASSERT_FALSE(pieces[1]);
  EXPECT_EQ(pieces[1].error().code, core::Errc::kUpstreamUnavailable);
  ASSERT_FALSE(next.error) << next.error->message;
  EXPECT_EQ(upstream_->connections(), 2);  // the broken connection was not pooled
}

// Regression: providers.<name>.max_idle_connections was never passed on, and the pool kept up
// to 64 idle connections per origin whatever it said.
TEST_F(ClientResendTest, ALimitOfZeroKeepsNoIdleConnection) {
  upstream_.emplace(ioc_, [](int) { return Action::kAnswer; });
  Outcome first;
  Outcome second;
  ASSERT_TRUE(Run([&]() -> Task<void> {
    first = co_await Post(*client_, upstream_->url(), 0);
    second = co_await Post(*client_, upstream_->url(), 0);
  }));
  ASSERT_FALSE(first.error) << first.error->message;
  ASSERT_FALSE(second.error) << second.error->message;
  EXPECT_EQ(second.body, "ok");
  EXPECT_EQ(upstream_->connections(), 2);
}

TEST_F(ClientResendTest, IdleConnectionsAreCappedAtTheLimit) {
  upstream_.emplace(ioc_, [](int) { return Action::kAnswer; });
  int answered = 0;
  ASSERT_TRUE(Run([&]() -> Task<void> {
    // Three responses open at once hold three connections; read and released under a limit of
    // two, one of them is closed. The next three then reuse two and open one.
    for (int round = 0; round < 2; ++round) {
      std::vector<std::unique_ptr<ClientResponse>> open;
      for (int i = 0; i < 3; ++i) {
        auto response = co_await client_->Send(PostRequest(upstream_->url(), 2));
        if (!response) {
          ADD_FAILURE() << response.error().message;
          co_return;
        }
        open.push_back(std::move(*response));
      }
      for (auto& response : open) {
        auto body = co_await response->ReadAll(1024);
        if (body && *body == "ok") {
          ++answered;
        }
      }
    }
  }));
  EXPECT_EQ(answered, 6);
  EXPECT_EQ(upstream_->connections(), 4);
}

}  // namespace
}  // namespace sy::http
