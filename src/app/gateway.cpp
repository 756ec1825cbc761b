#include "app/gateway.h"

#include <cstdio>

#include <boost/url/pct_string_view.hpp>

#include "api/anthropic/decode.h"
#include "api/openai/decode.h"
#include "app/context.h"
#include "app/dialect.h"
#include "app/response_headers.h"
#include "core/ids.h"

namespace sy::app {

namespace {

constexpr size_t kMaxTaskIdBytes = 128;

http::Headers JsonHeaders() {
  http::Headers h;
  h.Add("content-type", "application/json");
  return h;
}

// x-switchyard-task-id must be short printable ASCII: it lands in headers, logs and the ledger.
core::Status ReadTaskId(const http::ServerRequest& http, core::Request& request) {
  const std::string_view task = http.headers.Get("x-switchyard-task-id");
  const bool printable =
      std::all_of(task.begin(), task.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
  if (task.size() > kMaxTaskIdBytes || !printable) {
    return core::InvalidParam("x-switchyard-task-id",
                              "x-switchyard-task-id must be 1-128 printable ASCII characters "
                              "without spaces");
  }
  request.task_id = std::string(task);
  return {};
}

// Anthropic clients switch on beta features with anthropic-beta; an Anthropic upstream needs it.
void ReadDialectHeaders(const http::ServerRequest& http, core::Request& request) {
  if (request.dialect != core::Dialect::kAnthropicMessages) return;
  for (const auto& h : http.headers) {
    if (http::EqualsIgnoreCase(h.name, "anthropic-beta")) {
      request.dialect_headers.emplace_back("anthropic-beta", h.value);
    }
  }
}

core::Error UnknownModel(const std::string& name) {
  auto e = core::MakeError(core::Errc::kNotFound,
                           "The model '" + name +
                               "' does not exist. GET /v1/models lists the models and aliases "
                               "this gateway serves.");
  e.param = "model";
  return e;
}

}  // namespace

Gateway::Gateway(std::shared_ptr<const catalog::Catalog> catalog, ledger::Sink& sink)
    : catalog_(std::move(catalog)), sink_(sink) {
  for (const auto& provider : catalog_->config().providers) {
    auto adapter = providers::MakeProvider(provider);
    if (adapter) {
      providers_.emplace(provider.name, std::move(*adapter));
    } else {
      unavailable_.emplace(provider.name, adapter.error().message);
    }
  }
  models_ = std::make_unique<ModelsListing>(*catalog_, unavailable_);
}

providers::Provider* Gateway::ProviderFor(const config::ModelConfig& model) const {
  auto it = providers_.find(model.provider);
  return it == providers_.end() ? nullptr : it->second.get();
}

http::Task<void> Gateway::Handle(http::ServerRequest& http, http::ResponseWriter& writer) {
  const std::string_view path = http.Path();
  // HEAD is answered as GET; the server sends the headers without the body.
  const bool get = (http.method == "GET" || http.method == "HEAD") && !http.read_error;
  if (get && path == "/healthz") {
    co_await writer.Send(200, JsonHeaders(), R"({"status":"ok"})");
    co_return;
  }
  if (get && path == "/readyz") {
    const bool ready = !draining_;
    co_await writer.Send(ready ? 200 : 503, JsonHeaders(),
                         ready ? R"({"status":"ready"})" : R"({"status":"draining"})");
    co_return;
  }
  if (get && (path == "/v1/models" || path.starts_with("/v1/models/"))) {
    co_await Models(http, writer);
    co_return;
  }
  Context ctx(http, writer);
  ctx.request.id = core::NewRequestId();
  ctx.request.received_at = std::chrono::system_clock::now();
  ctx.request.dialect = ClientDialect(http);
  ctx.record.endpoint = std::string(path);
  if (http.read_error) {
    co_await Fail(ctx, *http.read_error);
  } else if (path == "/v1/chat/completions" || path == "/v1/messages") {
    if (http.method != "POST") {
      co_await Fail(ctx, core::MakeError(core::Errc::kInvalidRequest,
                                         "Use POST for " + std::string(path) + "."));
    } else {
      co_await Generate(ctx);
    }
  } else {
    co_await Fail(ctx, core::MakeError(core::Errc::kNotFound, "Unknown endpoint " + http.method +
                                                                  " " + std::string(path) + "."));
  }
  Record(ctx);
}

http::Task<void> Gateway::Models(http::ServerRequest& http, http::ResponseWriter& writer) {
  const core::Dialect dialect = ClientDialect(http);
  auto body = ModelsBody(http, dialect);
  if (body) {
    co_await writer.Send(200, JsonHeaders(), std::move(*body));
  } else {
    auto encoded = EncodeError(dialect, body.error());
    co_await writer.Send(encoded.status, JsonHeaders(), std::move(encoded.body));
  }
}

core::Result<std::string> Gateway::ModelsBody(const http::ServerRequest& http,
                                              core::Dialect dialect) const {
  const bool anthropic = dialect == core::Dialect::kAnthropicMessages;
  const std::string_view rest = http.Path().substr(std::string_view("/v1/models").size());
  if (rest.empty() || rest == "/") {
    if (!anthropic) return models_->OpenAiList();
    auto page = ModelsListing::ParsePage(http.Query());
    if (!page) return std::move(page).error();
    return models_->AnthropicList(*page);
  }
  auto encoded = boost::urls::make_pct_string_view(rest.substr(1));
  const std::string name = encoded ? encoded->decode() : std::string(rest.substr(1));
  auto found = anthropic ? models_->AnthropicModel(name) : models_->OpenAiModel(name);
  if (!found) return UnknownModel(name);
  return std::move(*found);
}

http::Task<void> Gateway::Generate(Context& ctx) {
  // The task id first: a request rejected for its body still belongs to its task's spend.
  if (auto s = ReadTaskId(ctx.http, ctx.request); !s) {
    co_await Fail(ctx, s.error());
    co_return;
  }
  const int64_t depth = catalog_->config().server.max_json_depth;
  auto decoded = ctx.request.dialect == core::Dialect::kAnthropicMessages
                     ? api::anthropic::DecodeMessagesRequest(ctx.http.body, depth, ctx.request)
                     : api::openai::DecodeChatRequest(ctx.http.body, depth, ctx.request);
  if (!decoded) {
    co_await Fail(ctx, decoded.error());
    co_return;
  }
  ReadDialectHeaders(ctx.http, ctx.request);
  auto route = catalog_->Resolve(ctx.request.model);
  if (!route) {
    co_await Fail(ctx, UnknownModel(ctx.request.model));
    co_return;
  }
  ctx.route = *route;
  if (ctx.request.stream) {
    co_await Stream(ctx);
  } else {
    co_await Complete(ctx);
  }
}

http::Task<void> Gateway::Fail(Context& ctx, const core::Error& error) {
  ctx.record.error_code = std::string(core::ErrcName(error.code));
  ctx.record.error_message = error.message;
  auto encoded = EncodeError(ctx.request.dialect, error);
  ctx.record.status = encoded.status;
  http::Headers headers = JsonHeaders();
  AddSwitchyardHeaders(ctx, headers);
  if (error.retry_after && error.code == core::Errc::kRateLimited) {
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(*error.retry_after).count();
    headers.Add("retry-after", std::to_string(std::max<int64_t>(1, seconds)));
  }
  co_await ctx.writer.Send(encoded.status, headers, std::move(encoded.body));
}

void Gateway::Record(Context& ctx) {
  auto& r = ctx.record;
  const auto& req = ctx.request;
  r.request_id = req.id;
  r.started_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(req.received_at.time_since_epoch())
          .count();
  r.tenant = req.tenant;
  r.key_id = req.key_id;
  r.task_id = req.task_id;
  r.dialect = std::string(core::DialectName(req.dialect));
  r.requested_model = req.model;
  r.stream = req.stream;
  if (ctx.route) r.route_reason = ctx.route->reason;
  if (ctx.model) {
    r.chosen_model = ctx.model->id;
    r.provider = ctx.model->provider;
  }
  if (ctx.cost) {
    r.cost = ctx.cost->total;
    r.price_list = ctx.cost->price_list;
  }
  for (const auto& a : ctx.attempts) {
    ledger::Attempt out;
    out.model = a.model->id;
    out.provider = a.model->provider;
    out.http_status = a.ok ? 200 : a.error.upstream_status;
    if (!a.ok) {
      out.error_code = a.skipped ? "skipped" : std::string(core::ErrcName(a.error.code));
      out.error_message = a.error.message;
    }
    out.latency_ms = a.latency.count();
    r.attempts.push_back(std::move(out));
  }
  r.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - ctx.started)
                     .count();
  sink_.Append(std::move(r));
}

}  // namespace sy::app
