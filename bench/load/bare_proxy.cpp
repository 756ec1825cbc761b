// bare_proxy: the gateway's HTTP layers as a plain proxy, and nothing else (issue 20).
//
// decompose.sh's "sy bare proxy" row. It runs the http::Server and http::Client the gateway runs
// (Asio, Beast's parsers, each connection's watch and deadlines, the worker's upstream pool),
// with a handler that sends a request's body to one upstream and the answer back as it came,
// holding the answer in the server's answer budget as the gateway does: no key, no JSON, no
// routing, no ledger, no metrics. What a proxied request costs in the gateway's HTTP stack alone:
// the floor under any pipeline built on it, to set beside nginx's proxy row. Errors are not the
// gateway's: a request the server could not read gets a 400, a failed upstream call a 502.
//
//   bare_proxy LISTEN UPSTREAM   e.g. bare_proxy 127.0.0.1:0 http://127.0.0.1:8081
//
// Prints the bound address on the first line of standard output, serves on one worker thread
// (named sy-worker, as the gateway's) and stops on SIGTERM or SIGINT (also when started in the
// background, where a shell ignores SIGINT).
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <pthread.h>

#include "core/byte_budget.h"
#include "http/client.h"
#include "http/headers.h"
#include "http/server.h"
#include "http/task.h"

namespace {

using namespace sy;

constexpr int64_t kMaxAnswerBytes = int64_t{64} << 20;

http::Task<void> Fail(http::ResponseWriter& writer, int status) {
  const http::Headers headers{{"content-type", "text/plain"}};
  std::string text = "bare_proxy: no answer\n";  // a named local: no temporary in a co_await
  co_await writer.Send(status, headers, std::move(text));
}

void AddContentType(http::Headers& to, const http::Headers& from) {
  if (const std::string_view type = from.Get("content-type"); !type.empty()) {
    to.Add("content-type", type);
  }
}

http::Task<void> Proxy(const std::string& upstream, http::ServerRequest& request,
                       http::ResponseWriter& writer) {
  if (request.read_error) {
    co_await Fail(writer, 400);
    co_return;
  }
  http::ClientRequest call;
  call.method = request.method;
  call.url = upstream + request.target;
  AddContentType(call.headers, request.headers);
  call.body = std::move(request.body);
  auto response = co_await request.client->Send(std::move(call));
  if (!response) {
    co_await Fail(writer, 502);
    co_return;
  }
  core::BudgetShare hold(request.client->answer_budget());  // until the answer is sent
  auto body = co_await (*response)->ReadAll(kMaxAnswerBytes, &hold);
  if (!body) {
    co_await Fail(writer, 502);
    co_return;
  }
  http::Headers headers;
  AddContentType(headers, (*response)->headers());
  co_await writer.Send((*response)->status(), headers, std::move(*body));
}

void IgnoreSignal(int /*signal*/) {}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr,
                 "usage: bare_proxy LISTEN UPSTREAM (e.g. 127.0.0.1:0 http://127.0.0.1:8081)\n");
    return 2;
  }
  // A signal a shell set to SIG_IGN is dropped before sigwait sees it: give both a handler
  // (never run while blocked), as the emulator does.
  struct sigaction action {};
  action.sa_handler = IgnoreSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before the workers start: they inherit it

  const std::string upstream = argv[2];
  http::ServerOptions options;
  options.listen = argv[1];
  options.threads = 1;
  auto server = http::Server::Start(
      options, [&upstream](http::ServerRequest& request, http::ResponseWriter& writer) {
        return Proxy(upstream, request, writer);
      });
  if (!server) {
    std::fprintf(stderr, "bare_proxy: %s\n", server.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", (*server)->address().c_str());
  std::fflush(stdout);
  int signal = 0;
  sigwait(&stop, &signal);
  (*server)->Stop(std::chrono::milliseconds(1000));
  return 0;
}
