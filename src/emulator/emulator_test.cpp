// In-process tests: Start the emulator on port 0 and talk raw HTTP/1.1 over a socket.
// Every blocking read has a receive timeout, so a bug fails the test instead of hanging it.
#include "emulator/emulator.h"

#include <chrono>
#include <fstream>
#include <map>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

namespace sy::emulator {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using net::ip::tcp;

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  boost::system::error_code error;  // set when no complete response arrived
};

class Client {
 public:
  explicit Client(const std::string& address, int timeout_ms = 10'000) : socket_(ioc_) {
    size_t colon = address.rfind(':');
    tcp::endpoint endpoint(net::ip::make_address(address.substr(0, colon)),
                           static_cast<unsigned short>(std::stoi(address.substr(colon + 1))));
    socket_.connect(endpoint);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }

  void SendRaw(const std::string& bytes) { net::write(socket_, net::buffer(bytes)); }

  void Send(http::verb method, const std::string& target, const std::string& body,
            const std::map<std::string, std::string>& headers) {
    http::request<http::string_body> request(method, target, 11);
    request.set(http::field::host, "emulator");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = body;
    request.prepare_payload();
    http::write(socket_, request);
  }

  Response Read() {
    Response response;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(socket_, buffer_, parser, response.error);
    if (response.error) return response;
    response.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      response.headers[name] = std::string(field.value());
    }
    response.body = parser.get().body();
    return response;
  }

  Response Exchange(http::verb method, const std::string& target, const std::string& body,
                    const std::map<std::string, std::string>& headers = {}) {
    Send(method, target, body, headers);
    return Read();
  }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

const std::map<std::string, std::string> kOpenAi = {{"authorization", "Bearer sk-test"},
                                                    {"content-type", "application/json"}};
const std::map<std::string, std::string> kAnthropic = {{"x-api-key", "sk-ant"},
                                                       {"anthropic-version", "2023-06-01"},
                                                       {"content-type", "application/json"}};

class EmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = Emulator::Start(Options{});
    ASSERT_TRUE(started.has_value()) << started.error().message;
    emulator_ = std::move(*started);
  }

  Response Post(const std::string& target, const std::string& body,
                const std::map<std::string, std::string>& headers = kOpenAi) {
    Client client(emulator_->address());
    return client.Exchange(http::verb::post, target, body, headers);
  }

  size_t LoggedRequests() {
    Client client(emulator_->address());
    Response r = client.Exchange(http::verb::get, "/_emulator/requests", "");
    return json::parse(r.body).at("requests").as_array().size();
  }

  std::unique_ptr<Emulator> emulator_;
};

constexpr const char* kChat =
    R"({"model":"instant","messages":[{"role":"user","content":"Hello there"}]})";

TEST_F(EmulatorTest, AddressHasTheBoundPort) {
  std::string address = emulator_->address();
  EXPECT_EQ(address.rfind("127.0.0.1:", 0), 0U);
  EXPECT_NE(address, "127.0.0.1:0");
}

TEST_F(EmulatorTest, NonStreamAndKeepAlive) {
  Client client(emulator_->address());
  Response first = client.Exchange(http::verb::post, "/v1/chat/completions", kChat, kOpenAi);
  ASSERT_FALSE(first.error) << first.error.message();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.headers["content-type"], "application/json");
  EXPECT_EQ(json::parse(first.body).at("object"), "chat.completion");
  // The same connection serves a second request.
  Response second = client.Exchange(http::verb::post, "/v1/chat/completions", kChat, kOpenAi);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(json::parse(second.body).at("choices"), json::parse(first.body).at("choices"));
}

TEST_F(EmulatorTest, OpenAiStream) {
  Response r = Post("/v1/chat/completions",
                    R"({"model":"instant","stream":true,"stream_options":{"include_usage":true},
                        "messages":[{"role":"user","content":"Hello"}]})");
  ASSERT_FALSE(r.error) << r.error.message();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"].substr(0, 17), "text/event-stream");
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  EXPECT_EQ(r.body.rfind("data: {", 0), 0U);
  EXPECT_NE(r.body.find("\"usage\":{\"prompt_tokens\""), std::string::npos);
  EXPECT_EQ(r.body.substr(r.body.size() - 14), "data: [DONE]\n\n");
}

TEST_F(EmulatorTest, AnthropicStreamIsPacedByTheProfile) {
  Client control(emulator_->address());
  Response put = control.Exchange(http::verb::put, "/_emulator/profiles/slowish",
                                  R"({"ttft_ms":40,"tokens_per_s":2000})");
  ASSERT_EQ(put.status, 200) << put.body;
  auto start = std::chrono::steady_clock::now();
  Response r = Post("/v1/messages",
                    R"({"model":"slowish","max_tokens":100,"stream":true,
                        "messages":[{"role":"user","content":"Hello"}]})",
                    kAnthropic);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.status, 200);
  EXPECT_GE(elapsed, std::chrono::milliseconds(40));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  EXPECT_EQ(r.body.rfind("event: message_start\n", 0), 0U);
  EXPECT_NE(r.body.find("event: ping\n"), std::string::npos);
  EXPECT_NE(r.body.find("event: message_stop\n"), std::string::npos);
}

TEST_F(EmulatorTest, RateLimitFault) {
  Client control(emulator_->address());
  Response created =
      control.Exchange(http::verb::post, "/_emulator/faults",
                       R"({"model":"instant","status":429,"count":1,"retry_after_s":3})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(json::parse(created.body).at("faults").at(0).at("status"), 429);
  Response limited = Post("/v1/chat/completions", kChat);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.headers["retry-after"], "3");
  EXPECT_EQ(json::parse(limited.body).at("error").at("code"), "rate_limit_exceeded");
  EXPECT_EQ(Post("/v1/chat/completions", kChat).status, 200);
}

TEST_F(EmulatorTest, ResetFaultAbortsTheConnection) {
  Client control(emulator_->address());
  ASSERT_EQ(
      control
          .Exchange(http::verb::post, "/_emulator/faults", R"({"model":"instant","kind":"reset"})")
          .status,
      201);
  Response r = Post("/v1/chat/completions", kChat);
  EXPECT_EQ(r.error, net::error::connection_reset) << r.error.message();
}

TEST_F(EmulatorTest, ResetMidStreamAfterTokens) {
  Client control(emulator_->address());
  ASSERT_EQ(control
                .Exchange(http::verb::post, "/_emulator/faults",
                          R"({"model":"*","kind":"reset","after_tokens":3})")
                .status,
            201);
  Client client(emulator_->address());
  client.Send(http::verb::post, "/v1/chat/completions",
              R"({"model":"instant","stream":true,"messages":[{"role":"user","content":"x"}]})",
              kOpenAi);
  Response r = client.Read();
  EXPECT_TRUE(r.error);  // the body never completed
}

TEST_F(EmulatorTest, TimeoutFaultHoldsUntilStop) {
  Client control(emulator_->address());
  ASSERT_EQ(control
                .Exchange(http::verb::post, "/_emulator/faults",
                          R"({"model":"instant","kind":"timeout"})")
                .status,
            201);
  ASSERT_EQ(control.Exchange(http::verb::delete_, "/_emulator/requests", "").status, 204);
  Client client(emulator_->address());
  client.Send(http::verb::post, "/v1/chat/completions", kChat, kOpenAi);
  // Wait (bounded) until the emulator has read the request, then stop it under the hung call.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (LoggedRequests() == 0 && std::chrono::steady_clock::now() < deadline) {
  }
  ASSERT_EQ(LoggedRequests(), 1U);
  auto start = std::chrono::steady_clock::now();
  emulator_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  Response r = client.Read();
  EXPECT_TRUE(r.error);                         // closed without an answer
  EXPECT_NE(r.error, net::error::would_block);  // closed, not timed out on our side
  emulator_->Stop();                            // idempotent
}

TEST_F(EmulatorTest, MalformedFaultIsNotJson) {
  Client control(emulator_->address());
  ASSERT_EQ(control
                .Exchange(http::verb::post, "/_emulator/faults",
                          R"({"model":"instant","kind":"malformed"})")
                .status,
            201);
  Response r = Post("/v1/chat/completions", kChat);
  EXPECT_EQ(r.status, 200);
  boost::system::error_code ec;
  (void)json::parse(r.body, ec);
  EXPECT_TRUE(ec);
}

TEST_F(EmulatorTest, ControlApi) {
  Client control(emulator_->address());
  EXPECT_EQ(control.Exchange(http::verb::get, "/_emulator/health", "").status, 200);
  (void)Post("/v1/messages",
             R"({"model":"claude-haiku-4.5","max_tokens":5,
                 "messages":[{"role":"user","content":"x"}]})",
             kAnthropic);
  Response log = control.Exchange(http::verb::get, "/_emulator/requests", "");
  json::array requests = json::parse(log.body).at("requests").as_array();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].at("method"), "POST");
  EXPECT_EQ(requests[0].at("path"), "/v1/messages");
  EXPECT_EQ(requests[0].at("headers").at("x-api-key"), "sk-ant");
  EXPECT_EQ(requests[0].at("body").at("max_tokens"), 5);
  EXPECT_TRUE(requests[0].at("received_at_ms").is_int64());
  EXPECT_EQ(control.Exchange(http::verb::delete_, "/_emulator/requests", "").status, 204);
  EXPECT_EQ(LoggedRequests(), 0U);
  EXPECT_EQ(control.Exchange(http::verb::post, "/_emulator/faults", R"({"status":999})").status,
            400);
  EXPECT_EQ(control.Exchange(http::verb::delete_, "/_emulator/faults", "").status, 204);
  EXPECT_EQ(control.Exchange(http::verb::put, "/_emulator/profiles/m", R"({"ttft_ms":-1})").status,
            400);
}

TEST_F(EmulatorTest, GarbageAndOversizedBodies) {
  {
    Client client(emulator_->address());
    client.SendRaw("\x01\x02 not http at all\r\n\r\n");
    Response r = client.Read();
    EXPECT_EQ(r.status, 400);
  }
  {
    Client client(emulator_->address());
    client.SendRaw(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer k\r\n"
        "content-length: 40000000\r\n\r\n");
    Response r = client.Read();
    EXPECT_EQ(r.status, 413);
    EXPECT_TRUE(json::parse(r.body).at("error").is_object());
  }
  // Still serving.
  EXPECT_EQ(Post("/v1/chat/completions", kChat).status, 200);
}

TEST(EmulatorStartTest, ConfigFileOverridesProfiles) {
  std::string path = ::testing::TempDir() + "emulator_profiles_test.yaml";
  {
    std::ofstream out(path);
    out << "default: {ttft_ms: 0, tokens_per_s: 0}\n"
           "profiles:\n"
           "  custom: {ttft_ms: 7, tokens_per_s: 123, reasoning: true}\n";
  }
  Options options;
  options.config_file = path;
  auto started = Emulator::Start(options);
  ASSERT_TRUE(started.has_value()) << started.error().message;
  Client client((*started)->address());
  Response r = client.Exchange(http::verb::get, "/_emulator/profiles/custom", "");
  json::value profile = json::parse(r.body);
  EXPECT_EQ(profile.at("ttft_ms"), 7);
  EXPECT_EQ(profile.at("reasoning"), true);

  std::ofstream(path) << "profiles: {x: {speed: 3}}\n";
  auto bad = Emulator::Start(options);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("profiles.x.speed"), std::string::npos);
  EXPECT_FALSE(Emulator::Start(Options{"nonsense", "", 1}).has_value());
}

}  // namespace
}  // namespace sy::emulator
