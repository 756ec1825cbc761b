// Generate, and the two synchronous front stages: decode and route.
#include "app/pipeline.h"

#include <algorithm>

#include "api/translate/translate.h"
#include "app/auth.h"
#include "app/conversation.h"
#include "app/dialect.h"
#include "app/pipeline_internal.h"
#include "app/response_cache.h"
#include "app/route.h"
#include "app/shadow.h"
#include "app/verification.h"
#include "core/text.h"

namespace sy::app {
namespace {

constexpr size_t kMaxTaskIdBytes = 128;

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
      request.dialect_headers.emplace_back("anthropic-beta", core::ClipForEcho(h.value, 1024));
    }
  }
}

// What the translators need to know about the target model besides its dialect.
api::translate::TargetModel TargetOf(const config::ModelConfig& model) {
  api::translate::TargetModel target;
  target.native_structured_output = std::find(model.capabilities.begin(), model.capabilities.end(),
                                              "json_schema") != model.capabilities.end();
  return target;
}

// Translated once per (dialect, target variant), however many candidates share them.
const core::Result<boost::json::object>& BodyFor(RequestContext& ctx, core::Dialect dialect,
                                                 const config::ModelConfig& model) {
  const auto target = TargetOf(model);
  const TranslationKey key{dialect, target.native_structured_output};
  auto it = ctx.translated_bodies.find(key);
  if (it == ctx.translated_bodies.end()) {
    it = ctx.translated_bodies
             .emplace(key, api::translate::TranslateRequest(
                               ctx.request.dialect, dialect, ctx.request.body,
                               ctx.request.body.storage(), target, ctx.request.max_json_depth))
             .first;
  }
  return it->second;
}

// A kept candidate as the chain tries it: the deployments routing kept. Whether a deployment's
// API can express the request is asked when the chain reaches it (PrepareBody).
failover::Step StepFor(const routing::Candidate& candidate) {
  const config::ModelConfig& model = *candidate.model;
  failover::Step step{
      &model, {}, routing::ParseStrategy(model.strategy).value_or(routing::Strategy::kWeighted)};
  for (const routing::DeploymentChoice& choice : candidate.deployments) {
    if (choice.kept) step.deployments.push_back(choice.deployment);
  }
  return step;
}

core::Status DecodeBody(RequestContext& ctx) {
  const int64_t depth = ctx.services.catalog.config().server.max_json_depth;
  if (auto decoded = DecodeClientRequest(ctx.http.body, depth, ctx.request); !decoded) {
    return decoded;
  }
  if (ctx.request.dialect != core::Dialect::kOpenAiResponses) return {};
  return ReadConversation(ctx);
}

}  // namespace

core::Error UnknownModel(std::string_view name) {
  auto e = core::MakeError(core::Errc::kNotFound,
                           "The model '" + core::ClipForEcho(name) +
                               "' does not exist. GET /v1/models lists the models and aliases "
                               "this gateway serves.");
  e.param = "model";
  return e;
}

core::Status Decode(RequestContext& ctx) {
  // The task id first: a request rejected for its body still belongs to its task's spend.
  if (auto s = ReadTaskId(ctx.http, ctx.request); !s) return s;
  if (auto decoded = DecodeBody(ctx); !decoded) return decoded;
  ReadDialectHeaders(ctx.http, ctx.request);
  return {};
}

core::Status ChooseRoute(RequestContext& ctx) {
  const RouteHeaders headers = ReadRouteHeaders(ctx.http.headers);
  ctx.prompt = ReadPrompt(ctx.request, ctx.http.body.size());
  const routing::Now now{ctx.request.received_at, ctx.started};
  const Services& s = ctx.services;
  auto decision = DecideRoute(ctx.request, ctx.prompt, headers, s.policy, s.catalog, s.health, now);
  if (!decision) return std::move(decision).error();
  ctx.decision = std::move(*decision);
  if (ctx.decision->kept == 0) return routing::NoCandidateError(*ctx.decision);
  for (size_t i = 0; i < ctx.decision->kept; ++i) {
    ctx.steps.push_back(StepFor(ctx.decision->candidates[i]));
  }
  return PlanVerification(ctx);
}

core::Status PrepareBody(RequestContext& ctx, const catalog::Deployment& d) {
  const auto* provider = ctx.services.providers.For(d);
  if (!provider || provider->dialect() == ctx.request.dialect) return {};
  const auto& body = BodyFor(ctx, provider->dialect(), *d.model);
  if (!body) return body.error();
  return {};
}

const boost::json::object& BodyIn(RequestContext& ctx, core::Dialect dialect,
                                  const config::ModelConfig& model) {
  return dialect == ctx.request.dialect ? ctx.request.body : *BodyFor(ctx, dialect, model);
}

http::Task<void> Generate(RequestContext& ctx) {
  // The key first: a stranger's body is not even parsed.
  core::Status front = Authenticate(ctx);
  if (front) {
    if (auto decided = Admit(ctx)) {
      front = std::move(*decided);
    } else {
      front = co_await AdmitShared(ctx);
    }
  }
  if (front) front = Decode(ctx);
  if (front && ctx.request.dialect == core::Dialect::kOpenAiResponses) {
    front = co_await ExpandConversation(ctx);
  }
  if (front) front = ChooseRoute(ctx);
  // The live pipeline's decisions are the traffic a live calibration holds its share on, those
  // refused after routing included (a shadow runs ChooseRoute too, and is not traffic).
  if (ctx.decision) routing::ObserveRouterScore(*ctx.decision);
  if (front) front = CheckKeyScope(ctx);
  if (front) ShadowRunner::Plan(ctx);
  if (!front) {
    CountRefusal(ctx, front.error());
    co_await EncodeFailure(ctx, front.error());
    co_return;
  }
  if (ctx.services.cache) {
    const bool served = co_await ServeFromCache(ctx);
    if (served) co_return;  // the record stage charges its $0
  }
  if (NeedsBudgetsPrepared(ctx)) co_await PrepareBudgets(ctx);
  auto answer = co_await Execute(ctx);
  Account(ctx);
  // A complete answer's (or a failure's) cost is final now: charge it before the client can see
  // the answer and send its next request. A stream is charged when it ends (record stage).
  if (!answer || answer->completion) Settle(ctx);
  if (answer && ctx.shadow) ShadowRunner::WatchAnswer(ctx, *answer);
  if (!answer) {
    if (ctx.http.cancelled != http::CancelReason::kNone) {
      co_await EncodeCut(ctx);
    } else {
      co_await EncodeFailure(ctx, answer.error());
    }
  } else if (answer->completion) {
    co_await EncodeAnswer(ctx, *answer->completion);
  } else {
    co_await EncodeStream(ctx, *answer);
  }
}

}  // namespace sy::app
