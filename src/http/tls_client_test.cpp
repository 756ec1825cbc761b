// The upstream client's TLS behaviour against a real TLS server on 127.0.0.1:0. The PKI (a CA
// and server certificates signed by it) is generated in the process with the OpenSSL API; only
// the CA certificate touches the disk, as a PEM file in a temporary directory.
#include <chrono>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>  // mkdtemp

#include "http/client.h"
#include "http/detail/client_internal.h"
#include "tests/testutil/http_fetch.h"

namespace sy::http {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;

constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);
// Upper bound for anything a test waits on; reached only when something is broken.
constexpr std::chrono::milliseconds kLimit = 10s;

struct OsslFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, OsslFree>;
using Cert = std::unique_ptr<X509, OsslFree>;

Key NewKey() {
  char curve[] = "P-256";  // EVP_PKEY_Q_keygen takes the curve name as a char* vararg
  Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
  EXPECT_NE(key, nullptr);
  return key;
}

// A certificate for `key` named `cn` with subjectAltName `san` ("" for none), signed by
// issuer/issuer_key, or a self-signed CA when `issuer` is null.
Cert Issue(EVP_PKEY* key, const char* cn, const std::string& san, X509* issuer,
           EVP_PKEY* issuer_key) {
  static long serial = 1;
  const bool is_ca = issuer == nullptr;
  Cert cert(X509_new());
  X509* x = cert.get();
  X509_NAME* name = X509_get_subject_name(x);
  bool ok =
      X509_set_version(x, 2) == 1 && ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) == 1 &&
      X509_gmtime_adj(X509_getm_notBefore(x), -3600) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(x), 86400) != nullptr && X509_set_pubkey(x, key) == 1 &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(cn), -1, -1, 0) == 1 &&
      X509_set_issuer_name(x, is_ca ? name : X509_get_subject_name(issuer)) == 1;
  X509V3_CTX ctx{};
  X509V3_set_ctx(&ctx, is_ca ? x : issuer, x, nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    std::unique_ptr<X509_EXTENSION, OsslFree> ext(
        X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    ok = ok && ext && X509_add_ext(x, ext.get(), -1) == 1;
  };
  add(NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add(NID_key_usage, is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  add(NID_subject_key_identifier, "hash");
  if (!is_ca) add(NID_authority_key_identifier, "keyid:always");
  if (!san.empty()) add(NID_subject_alt_name, san);
  ok = ok && X509_sign(x, is_ca ? key : issuer_key, EVP_sha256()) > 0;
  EXPECT_TRUE(ok) << "cannot build the certificate for " << cn;
  return cert;
}

// An HTTP/1.1 server over TLS answering every request with 200 "hello <path>", keep-alive.
// Its state is owned by its coroutines, so it dies with the io_context whatever the order.
class TlsServer {
 public:
  TlsServer(net::io_context& ioc, X509* cert, EVP_PKEY* key)
      : state_(std::make_shared<State>(ioc)) {
    EXPECT_EQ(SSL_CTX_use_certificate(state_->ctx.native_handle(), cert), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey(state_->ctx.native_handle(), key), 1);
    net::co_spawn(ioc, Accept(state_), net::detached);
  }

  std::string Url(std::string_view host, std::string_view path) const {
    return "https://" + std::string(host) + ":" +
           std::to_string(state_->acceptor.local_endpoint().port()) + std::string(path);
  }
  int accepted() const { return state_->accepted; }
  int served() const { return state_->served; }

 private:
  struct State {
    explicit State(net::io_context& ioc)
        : acceptor(ioc, tcp::endpoint(net::ip::address_v4::loopback(), 0)) {}
    ssl::context ctx{ssl::context::tls_server};
    tcp::acceptor acceptor;
    int accepted = 0;
    int served = 0;
  };

  static Task<void> Accept(std::shared_ptr<State> s) {
    for (;;) {
      auto [ec, socket] = co_await s->acceptor.async_accept(kUseTuple);
      if (ec) co_return;
      ++s->accepted;
      net::co_spawn(s->acceptor.get_executor(), Serve(s, std::move(socket)), net::detached);
    }
  }

  static Task<void> Serve(std::shared_ptr<State> s, tcp::socket socket) {
    ssl::stream<tcp::socket> stream(std::move(socket), s->ctx);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, kUseTuple);
    if (hec) co_return;  // the client refused the certificate
    std::string in;
    for (;;) {
      auto [rec, n] =
          co_await net::async_read_until(stream, net::dynamic_buffer(in), "\r\n\r\n", kUseTuple);
      if (rec) co_return;
      const size_t start = in.find(' ') + 1;
      const std::string body = "hello " + in.substr(start, in.find(' ', start) - start);
      in.erase(0, n);
      ++s->served;
      const std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
      auto [wec, written] = co_await net::async_write(stream, net::buffer(out), kUseTuple);
      if (wec) co_return;
    }
  }

  std::shared_ptr<State> state_;
};

using testutil::Fetch;
using testutil::Fetched;

class TlsClientTest : public ::testing::Test {
 protected:
  TlsClientTest() { client_ = detail::MakeClient(ioc_); }

  void SetUp() override {
    std::string dir = (std::filesystem::temp_directory_path() / "sy_tls_XXXXXX").string();
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
    dir_ = dir;
    ca_pem_ = (dir_ / "ca.pem").string();
    std::unique_ptr<BIO, OsslFree> bio(BIO_new_file(ca_pem_.c_str(), "w"));
    ASSERT_TRUE(bio && PEM_write_bio_X509(bio.get(), ca_.get()) == 1);
  }

  void TearDown() override {
    client_->Close();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // One GET through the client, the io_context run for at most kLimit.
  Fetched Get(const std::string& url, TlsOptions tls) {
    ClientRequest request;
    request.method = "GET";
    request.url = url;
    request.tls = std::move(tls);
    request.connect_timeout = request.first_byte_timeout = request.idle_timeout = kLimit;
    auto got = std::make_shared<std::optional<Fetched>>();
    net::co_spawn(ioc_, Fetch(*client_, std::move(request)),
                  [got](std::exception_ptr e, Fetched fetched) {
                    if (e) ADD_FAILURE() << "the client coroutine threw";
                    *got = std::move(fetched);
                  });
    const auto until = Clock::now() + kLimit;
    ioc_.restart();
    while (!got->has_value() && !ioc_.stopped() && Clock::now() < until) {
      ioc_.run_one_for(until - Clock::now());
    }
    if (got->has_value()) return std::move(**got);
    ADD_FAILURE() << "no answer from " << url << " within " << kLimit.count() << " ms";
    return Fetched{core::MakeError(core::Errc::kInternal, "test timed out"), 0, {}, ""};
  }

  static void ExpectHandshakeFailure(const Fetched& got) {
    ASSERT_TRUE(got.error.has_value()) << "unexpected success, status " << got.status;
    EXPECT_EQ(got.error->code, core::Errc::kUpstreamUnavailable);
    EXPECT_THAT(got.error->message, HasSubstr("TLS handshake")) << got.error->message;
    EXPECT_THAT(got.error->message, HasSubstr("certificate verify failed"));
  }

  std::unique_ptr<Client> client_;  // declared first: destroyed after the frames in ioc_
  net::io_context ioc_;
  Key ca_key_ = NewKey();
  Cert ca_ = Issue(ca_key_.get(), "Switchyard Test CA", "", nullptr, nullptr);
  Key server_key_ = NewKey();
  Cert localhost_ =
      Issue(server_key_.get(), "localhost", "DNS:localhost,IP:127.0.0.1", ca_.get(), ca_key_.get());
  // Trusted chain, wrong DNS name: valid for https://127.0.0.1, not for https://localhost.
  Cert other_ = Issue(server_key_.get(), "other.example", "DNS:other.example,IP:127.0.0.1",
                      ca_.get(), ca_key_.get());
  std::filesystem::path dir_;
  std::string ca_pem_;
};

TEST_F(TlsClientTest, VerifiesAgainstTheConfiguredCaFile) {
  TlsServer server(ioc_, localhost_.get(), server_key_.get());
  auto got = Get(server.Url("localhost", "/v1/models"), {.verify = true, .ca_file = ca_pem_});
  ASSERT_FALSE(got.error.has_value()) << got.error->message;
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "hello /v1/models");
  // An IP literal is checked against the IP SAN.
  got = Get(server.Url("127.0.0.1", "/ip"), {.verify = true, .ca_file = ca_pem_});
  ASSERT_FALSE(got.error.has_value()) << got.error->message;
  EXPECT_EQ(got.body, "hello /ip");
}

TEST_F(TlsClientTest, SystemStoreRejectsAPrivateCa) {
  TlsServer server(ioc_, localhost_.get(), server_key_.get());
  ExpectHandshakeFailure(Get(server.Url("localhost", "/"), {.verify = true, .ca_file = ""}));
  EXPECT_EQ(server.served(), 0);
}

TEST_F(TlsClientTest, RejectsACertificateForAnotherHostName) {
  TlsServer server(ioc_, other_.get(), server_key_.get());
  ExpectHandshakeFailure(Get(server.Url("localhost", "/"), {.verify = true, .ca_file = ca_pem_}));
  EXPECT_EQ(server.served(), 0);
  // Control: the same certificate passes where its SAN matches, so the name was the reason.
  auto got = Get(server.Url("127.0.0.1", "/"), {.verify = true, .ca_file = ca_pem_});
  ASSERT_FALSE(got.error.has_value()) << got.error->message;
  EXPECT_EQ(got.status, 200);
}

// verify=false is the operator's explicit opt-out: untrusted CA and wrong name both pass.
TEST_F(TlsClientTest, VerifyFalseAcceptsAnUntrustedCertificate) {
  TlsServer server(ioc_, other_.get(), server_key_.get());
  auto got = Get(server.Url("localhost", "/open"), {.verify = false, .ca_file = ""});
  ASSERT_FALSE(got.error.has_value()) << got.error->message;
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "hello /open");
}

TEST_F(TlsClientTest, KeepAliveReusesTheTlsConnection) {
  TlsServer server(ioc_, localhost_.get(), server_key_.get());
  const TlsOptions tls{.verify = true, .ca_file = ca_pem_};
  auto first = Get(server.Url("localhost", "/1"), tls);
  auto second = Get(server.Url("localhost", "/2"), tls);
  ASSERT_FALSE(first.error.has_value()) << first.error->message;
  ASSERT_FALSE(second.error.has_value()) << second.error->message;
  EXPECT_EQ(first.body, "hello /1");
  EXPECT_EQ(second.body, "hello /2");
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(server.served(), 2);
}

// A pooled connection carries the verification it was opened with: one opened with
// verify=false must not serve a later verify=true request to the same origin.
TEST_F(TlsClientTest, UnverifiedConnectionIsNotReusedForAVerifiedRequest) {
  TlsServer server(ioc_, other_.get(), server_key_.get());
  const std::string url = server.Url("localhost", "/");
  auto open = Get(url, {.verify = false, .ca_file = ""});
  ASSERT_FALSE(open.error.has_value()) << open.error->message;
  ExpectHandshakeFailure(Get(url, {.verify = true, .ca_file = ca_pem_}));
  EXPECT_EQ(server.served(), 1);
}

}  // namespace
}  // namespace sy::http
