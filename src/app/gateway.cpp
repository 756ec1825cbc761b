#include "app/gateway.h"

#include <array>
#include <cstdio>
#include <exception>

#include <boost/url/parse_query.hpp>
#include <boost/url/pct_string_view.hpp>

#include "app/auth.h"
#include "app/dialect.h"
#include "app/key_service.h"
#include "app/pipeline.h"
#include "app/pipeline_internal.h"
#include "app/route.h"
#include "core/ids.h"
#include "core/text.h"
#include "limits/keys.h"

namespace sy::app {

struct Gateway::Endpoint {
  std::string_view path;
  bool with_subpaths;       // also serves every path below (/v1/models/{id})
  std::string_view method;  // GET endpoints answer HEAD too (the server drops the body)
  EndpointKind kind;
};

namespace {

using Kind = Gateway::EndpointKind;

http::Headers JsonHeaders() {
  http::Headers h;
  h.Add("content-type", "application/json");
  return h;
}

bool MethodFits(const Gateway::Endpoint& endpoint, std::string_view method) {
  if (endpoint.kind == Kind::kStoredResponse && method == "DELETE") return true;
  if (endpoint.kind == Kind::kAdmin) return true;
  return method == endpoint.method || (endpoint.method == "GET" && method == "HEAD");
}

// The Allow header of `endpoint` (not the admin API's, which dispatches its own): what
// MethodFits takes.
std::string AllowOf(const Gateway::Endpoint& endpoint) {
  if (endpoint.kind == Kind::kStoredResponse) return "GET, HEAD, DELETE";
  return endpoint.method == "GET" ? "GET, HEAD" : std::string(endpoint.method);
}

}  // namespace

// The route table: every endpoint the gateway serves. Anything else is a recorded 404.
constexpr std::array<Gateway::Endpoint, 15> kEndpoints = {{
    {"/healthz", false, "GET", Kind::kHealth},
    {"/readyz", false, "GET", Kind::kReady},
    {"/metrics", false, "GET", Kind::kMetrics},
    {"/admin", true, "", Kind::kAdmin},  // every method; the admin API dispatches
    {"/v1/feedback", false, "POST", Kind::kClientReports},
    {"/v1/spend", false, "GET", Kind::kClientReports},
    {"/v1/outcomes", false, "GET", Kind::kClientReports},
    {"/v1/models", true, "GET", Kind::kModels},
    {"/v1/route/explain", false, "POST", Kind::kExplain},
    {"/v1/route/health", false, "GET", Kind::kRouteHealth},
    {"/v1/messages/count_tokens", false, "POST", Kind::kCountTokens},
    {"/v1/chat/completions", false, "POST", Kind::kGenerate},
    {"/v1/messages", false, "POST", Kind::kGenerate},
    {"/v1/responses", false, "POST", Kind::kGenerate},
    {"/v1/responses", true, "GET", Kind::kStoredResponse},  // GET and DELETE /v1/responses/{id}
}};

namespace {

const Gateway::Endpoint* FindEndpoint(std::string_view path) {
  for (const auto& e : kEndpoints) {
    if (path == e.path) return &e;
    if (e.with_subpaths && path.starts_with(e.path) && path.substr(e.path.size()).starts_with('/'))
      return &e;
  }
  return nullptr;
}

// Why a request that does not reach the pipeline fails, or nullopt when it does.
std::optional<core::Error> Rejection(const http::ServerRequest& http,
                                     const Gateway::Endpoint* endpoint) {
  if (http.read_error) return *http.read_error;
  if (endpoint && !MethodFits(*endpoint, http.method)) {
    return core::MethodNotAllowed(http.Path(), AllowOf(*endpoint));
  }
  if (!endpoint || endpoint->kind != Kind::kGenerate) {
    return core::MakeError(core::Errc::kNotFound, "Unknown endpoint " +
                                                      core::ClipForEcho(http.method, 16) + " " +
                                                      core::ClipForEcho(http.Path()) + ".");
  }
  return std::nullopt;
}

// Explain reads a body in any client dialect: ?dialect=openai|responses|anthropic says which;
// without it, as elsewhere, the anthropic-version header tells Anthropic from OpenAI Chat.
core::Result<core::Dialect> ExplainDialect(const http::ServerRequest& http) {
  auto params = boost::urls::parse_query(http.Query());
  if (params) {
    for (auto param : *params) {
      if (param.key.decode() != "dialect") continue;
      const std::string name = param.value.decode();
      for (auto d : {core::Dialect::kOpenAiChat, core::Dialect::kOpenAiResponses,
                     core::Dialect::kAnthropicMessages}) {
        if (core::DialectName(d) == name) return d;
      }
      return core::InvalidParam("dialect",
                                "dialect must be openai, responses or anthropic, not \"" +
                                    core::ClipForEcho(name, 32) + "\"");
    }
  }
  return ClientDialect(http);
}

}  // namespace

ProviderSet::ProviderSet(const std::vector<config::ProviderConfig>& providers) {
  for (const auto& provider : providers) {
    auto adapter = providers::MakeProvider(provider);
    if (adapter) {
      adapters_.emplace(provider.name, std::move(*adapter));
    } else {
      unavailable_.emplace(provider.name, adapter.error().message);
    }
  }
}

providers::Provider* ProviderSet::For(const config::ModelConfig& model) const {
  auto it = adapters_.find(model.provider);
  return it == adapters_.end() ? nullptr : it->second.get();
}

providers::Provider* ProviderSet::For(const catalog::Deployment& deployment) const {
  auto it = adapters_.find(deployment.provider->name);
  return it == adapters_.end() ? nullptr : it->second.get();
}

Gateway::Gateway(std::shared_ptr<const catalog::Catalog> catalog, routing::Policy policy,
                 ledger::Sink& sink, const core::Clock& clock, ledger::ResponseStore* responses,
                 GatewayParts parts)
    : catalog_(std::move(catalog)),
      policy_(std::move(policy)),
      providers_(catalog_->config().providers),
      health_(routing::HealthFor(*catalog_)),
      secrets_(config::SecretValues(catalog_->config())),
      services_{*catalog_, policy_, providers_, health_, sink, clock, secrets_, responses},
      models_(std::make_unique<ModelsListing>(*catalog_, providers_.unavailable())),
      ledger_stats_(std::move(parts.ledger_stats)),
      compare_key_(limits::NewId("", 32)),
      shadows_(services_, catalog_->config().routing.shadow_max_in_flight) {
  if (catalog_->config().metrics.enabled) metrics_ = std::make_unique<GatewayMetrics>(*catalog_);
  services_.keys = parts.keys;
  services_.counters = parts.counters;
  services_.cache = parts.cache;
  services_.metrics = metrics_.get();
  services_.access_log = parts.access_log;
  services_.blocking = parts.blocking;
  services_.store_pool = parts.store_pool;
  if (parts.blocking && parts.feedback) {
    admin_ = std::make_unique<AdminApi>(*catalog_, parts.keys, *parts.blocking,
                                        std::move(parts.feedback), std::move(parts.flush_ledger),
                                        compare_key_);
  }
}

core::Result<std::optional<Caller>> Gateway::CallerOf(const http::ServerRequest& http) const {
  if (!services_.keys) return std::optional<Caller>();
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             services_.clock.Now().time_since_epoch())
                             .count();
  auto caller = IdentifyCaller(http.headers, *services_.keys, now_ms);
  if (!caller) {
    if (metrics_) {
      metrics_->ObserveAuthFailure(AuthFailureReason(caller.error()));
    }
    return std::move(caller).error();
  }
  return std::optional<Caller>(std::move(*caller));
}

std::string Gateway::MetricsText() const {
  LedgerStats ledger = ledger_stats_ ? ledger_stats_() : LedgerStats{};
  std::vector<BudgetUse> budgets;
  if (services_.keys) {
    const auto dir = services_.keys->directory();
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               services_.clock.Now().time_since_epoch())
                               .count();
    for (const auto& t : dir->tenants()) {
      const auto spend = limits::CurrentSpend(*t.account, now_ms);
      if (auto day = t.policy.budgets.usd_per_day)
        budgets.push_back({t.name, "day", spend.day, *day});
      if (auto month = t.policy.budgets.usd_per_month) {
        budgets.push_back({t.name, "month", spend.month, *month});
      }
    }
  }
  std::vector<RouterCalibration> routers;
  for (const routing::Profile& profile : policy_.profiles()) {
    for (const routing::Rule& rule : profile.rules) {
      if (!rule.router || !rule.router->live) continue;
      const routing::ShareCalibrator& live = *rule.router->live;
      routers.push_back({profile.name, rule.name, live.Threshold(), live.share()});
    }
  }
  return metrics_->Render(health_, ledger, budgets, routers);
}

http::Task<void> Gateway::Handle(http::ServerRequest& http, http::ResponseWriter& writer) {
  const Endpoint* endpoint = FindEndpoint(http.Path());
  if (endpoint && endpoint->kind != Kind::kGenerate && !http.read_error &&
      MethodFits(*endpoint, http.method)) {
    // Served without a client key: /admin checks the admin token, /metrics the metrics token
    // when one is set.
    const bool open = endpoint->kind == Kind::kHealth || endpoint->kind == Kind::kReady ||
                      endpoint->kind == Kind::kMetrics || endpoint->kind == Kind::kAdmin;
    if (endpoint->kind == Kind::kMetrics &&
        !MayScrapeMetrics(http.headers, catalog_->config(), compare_key_)) {
      co_await RefuseScrape(writer);
      co_return;
    }
    if (open) {
      co_await Serve(endpoint->kind, http, writer, nullptr);
      co_return;
    }
    // Every other /v1/ endpoint needs a key, as the generation endpoints do.
    auto caller = CallerOf(http);
    if (!caller) {
      auto encoded = EncodeError(ClientDialect(http), caller.error());
      co_await writer.Send(encoded.status, JsonHeaders(), std::move(encoded.body));
      co_return;
    }
    co_await Serve(endpoint->kind, http, writer, caller->has_value() ? &**caller : nullptr);
    co_return;
  }
  co_await Recorded(http, writer, endpoint);
}

http::Task<void> Gateway::RefuseScrape(http::ResponseWriter& writer) {
  // The same answer for a missing and a wrong token; the message names neither token's value.
  auto encoded = EncodeError(
      core::Dialect::kOpenAiChat,
      core::MakeError(core::Errc::kUnauthenticated,
                      "Invalid or missing metrics token: send Authorization: Bearer <the metrics "
                      "token>, as a Prometheus scrape config's authorization.credentials_file "
                      "does."));
  http::Headers headers = JsonHeaders();
  headers.Add("www-authenticate", "Bearer");
  co_await writer.Send(encoded.status, headers, std::move(encoded.body));
}

http::Task<void> Gateway::Serve(EndpointKind kind, http::ServerRequest& http,
                                http::ResponseWriter& writer, const Caller* caller) {
  const bool reports = admin_ != nullptr;
  switch (kind) {
    case Kind::kHealth:
      co_await writer.Send(200, JsonHeaders(), R"({"status":"ok"})");
      break;
    case Kind::kReady: {
      // Decided before the co_await: GCC 12 miscompiles ?: inside a co_await's arguments.
      const bool ready = !draining_;
      const int status = ready ? 200 : 503;
      std::string body = ready ? R"({"status":"ready"})" : R"({"status":"draining"})";
      co_await writer.Send(status, JsonHeaders(), std::move(body));
      break;
    }
    case Kind::kExplain:
      co_await Explain(http, writer, caller);
      break;
    case Kind::kRouteHealth:
      co_await writer.Send(200, JsonHeaders(), HealthJson(*catalog_, health_));
      break;
    case Kind::kCountTokens:
      co_await CountTokens(http, writer, caller);
      break;
    case Kind::kStoredResponse:
      co_await StoredResponse(http, writer, caller);
      break;
    case Kind::kMetrics:
      if (metrics_) {
        http::Headers headers;
        headers.Add("content-type", "text/plain; version=0.0.4; charset=utf-8");
        co_await writer.Send(200, headers, MetricsText());
      } else {
        co_await writer.Send(404, JsonHeaders(), R"({"error":"metrics are disabled"})");
      }
      break;
    case Kind::kAdmin:
      if (reports) {
        co_await admin_->ServeAdmin(http, writer);
      } else {
        co_await writer.Send(404, JsonHeaders(), R"({"error":"the admin API is not served"})");
      }
      break;
    case Kind::kClientReports:
      if (reports) {
        co_await ClientReports(http, writer, caller);
      } else {
        co_await writer.Send(404, JsonHeaders(), R"({"error":"reports are not served"})");
      }
      break;
    case Kind::kModels:
    case Kind::kGenerate:
      co_await Models(http, writer);
      break;
  }
}

http::Task<void> Gateway::Explain(http::ServerRequest& http, http::ResponseWriter& writer,
                                  const Caller* caller) {
  RequestContext ctx(http, writer, services_);
  auto dialect = ExplainDialect(http);
  // A refusal is answered in the dialect asked for, when it is one.
  ctx.Begin(dialect ? *dialect : ClientDialect(http));
  if (caller) SetCaller(ctx, *caller);
  core::Status front = co_await AdmitAuxiliary(ctx);
  if (front && !dialect) front = dialect.error();
  if (!front) {
    co_await EncodeFailure(ctx, front.error());
    co_return;
  }
  const auto decision = DecodeAndDecide(http.body, catalog_->config().server.max_json_depth,
                                        ReadRouteHeaders(http.headers), ctx.request, policy_,
                                        *catalog_, health_, {ctx.request.received_at, ctx.started});
  if (!decision) {
    co_await EncodeFailure(ctx, decision.error());
    co_return;
  }
  std::string body = ExplainJson(*decision, *catalog_);
  http::Headers headers = JsonHeaders();
  AddRateLimitHeaders(ctx, headers);
  co_await writer.Send(200, headers, std::move(body));
}

http::Task<void> Gateway::ClientReports(http::ServerRequest& http, http::ResponseWriter& writer,
                                        const Caller* caller) {
  RequestContext ctx(http, writer, services_);
  ctx.Begin(ClientDialect(http));
  if (caller) SetCaller(ctx, *caller);
  if (core::Status admitted = co_await AdmitAuxiliary(ctx); !admitted) {
    co_await EncodeFailure(ctx, admitted.error());
    co_return;
  }
  http::Headers headers;
  AddRateLimitHeaders(ctx, headers);
  co_await admin_->ServeClient(http, writer, caller, headers);
}

// Everything that leaves a ledger record: the generation endpoints and every request that
// fails before reaching one (unreadable, unknown endpoint, wrong method).
http::Task<void> Gateway::Recorded(http::ServerRequest& http, http::ResponseWriter& writer,
                                   const Endpoint* endpoint) {
  RequestContext ctx(http, writer, services_);
  ctx.Begin(ClientDialect(http));
  std::string crash;
  try {
    if (auto rejection = Rejection(http, endpoint)) {
      co_await EncodeFailure(ctx, *rejection);
    } else {
      co_await Generate(ctx);
    }
  } catch (const std::exception& e) {
    crash = e.what()[0] ? e.what() : "exception";
  } catch (...) {
    crash = "unknown exception";
  }
  if (!crash.empty()) {
    // The last-resort net: the pipeline is not expected to throw. Log, answer, still record.
    std::fprintf(stderr, "switchyard: internal error serving %s %s: %s\n", ctx.request.id.c_str(),
                 core::ClipForEcho(http.Path()).c_str(),
                 secrets_.Scrub(core::ClipForEcho(crash)).c_str());
    const auto internal = core::MakeError(core::Errc::kInternal, "internal error");
    if (!writer.started()) {
      co_await EncodeFailure(ctx, internal);  // in the client's dialect
    } else {
      ctx.outcome.error_code = std::string(core::ErrcName(internal.code));
      ctx.outcome.error_message = "internal error after the answer started";
    }
  }
  Record(ctx);
  shadows_.Launch(ctx);  // after the live record: the shadow's row never precedes it
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

}  // namespace sy::app
