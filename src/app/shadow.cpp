#include "app/shadow.h"

#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "app/conversation.h"
#include "app/dialect.h"
#include "app/gateway_metrics.h"
#include "app/pipeline.h"
#include "app/pipeline_internal.h"
#include "core/ids.h"
#include "verify/agreement.h"

namespace sy::app {
namespace {

constexpr int64_t kPartsPerMillion = 1'000'000;

// FNV-1a, 64 bits: stable across builds and platforms, unlike std::hash.
uint64_t Fnv1a(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// A shadow's client: nobody. The failure stage writes here; nothing goes anywhere.
class NoClient final : public http::ResponseWriter {
 public:
  http::Task<bool> Send(int, const http::Headers&, std::string) override {
    started_ = true;
    co_return true;
  }
  http::Task<bool> StartStream(int, const http::Headers&) override {
    started_ = true;
    co_return true;
  }
  http::Task<bool> Write(std::string_view) override { co_return true; }
  http::Task<bool> EndStream(const http::Headers&) override { co_return true; }
  bool started() const override { return started_; }

 private:
  bool started_ = false;
};

// A sampled live stream: relayed as it comes, each event also read into ctx.shadow's collector.
class WatchedStream final : public providers::EventStream {
 public:
  WatchedStream(RequestContext& ctx, std::unique_ptr<providers::EventStream> inner)
      : ctx_(ctx), inner_(std::move(inner)) {}
  http::Task<core::Result<std::optional<providers::StreamEvent>>> Next() override {
    auto next = co_await inner_->Next();
    if (next && *next) ctx_.shadow->collector->Add(**next);
    co_return next;
  }
  http::Task<void> Finish() override { co_await inner_->Finish(); }

 private:
  RequestContext& ctx_;
  std::unique_ptr<providers::EventStream> inner_;
};

// The live request's headers, without its credentials: a shadow is not authenticated again, and
// a key kept longer than its request is one more place a secret could leak from.
http::Headers WithoutCredentials(const http::Headers& headers) {
  http::Headers out;
  for (const auto& h : headers) {
    if (http::EqualsIgnoreCase(h.name, "authorization") ||
        http::EqualsIgnoreCase(h.name, "x-api-key")) {
      continue;
    }
    out.Add(h.name, h.value);
  }
  return out;
}

// The live answer as read, once the live request has ended.
std::optional<verify::Output> LiveOutput(ShadowLive& live) {
  if (live.output) return std::move(live.output);
  if (live.collector) return live.collector->Finish();
  return std::nullopt;
}

void NoteAgreement(RequestContext& ctx, const Answer& answer) {
  ShadowOf& of = *ctx.shadow_of;
  if (!of.live_output || !answer.completion) return;
  auto output = verify::ReadAnswer(answer.upstream, answer.completion->json);
  if (!output) return;
  of.agreement = std::string(verify::AgreementName(verify::Compare(*of.live_output, *output)));
}

// The shadow's stages: its body for the shadow model, then decode, route, execute and account.
// Fills ctx.outcome (a failure through the failure stage, into NoClient) and the agreement.
http::Task<void> Shadow(RequestContext& ctx) {
  const config::RuleShadowConfig& shadow = *ctx.shadow_of->live_rule->shadow;
  const int64_t depth = ctx.services.catalog.config().server.max_json_depth;
  core::Status front;
  if (auto body = ShadowBody(ctx.http.body, ctx.request.dialect, shadow.model, depth)) {
    ctx.http.body = std::move(*body);
  } else {
    front = std::move(body).error();
  }
  if (front) front = Decode(ctx);
  if (front && ctx.request.dialect == core::Dialect::kOpenAiResponses) {
    front = co_await ExpandConversation(ctx);
  }
  if (front) front = ChooseRoute(ctx);
  if (!front) {
    co_await EncodeFailure(ctx, front.error());
    co_return;
  }
  auto answer = co_await Execute(ctx);
  Account(ctx);
  if (answer) {
    ctx.outcome.status = 200;
    NoteAgreement(ctx, *answer);
  } else if (ctx.http.cancelled != http::CancelReason::kNone) {
    co_await EncodeCut(ctx);
  } else {
    co_await EncodeFailure(ctx, answer.error());
  }
}

}  // namespace

bool Sampled(std::string_view request_id, int64_t sample_ppm) {
  if (sample_ppm >= kPartsPerMillion) return true;
  return static_cast<int64_t>(Fnv1a(request_id) % kPartsPerMillion) < sample_ppm;
}

core::Result<std::string> ShadowBody(std::string_view body, core::Dialect dialect,
                                     std::string_view model, int64_t max_json_depth) {
  boost::json::parse_options options;
  options.max_depth = static_cast<size_t>(max_json_depth);
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec, {}, options);
  if (ec || !value.is_object()) {
    return core::MakeError(core::Errc::kInvalidRequest, "the request body is not a JSON object");
  }
  boost::json::object& object = value.get_object();
  object["model"] = model;
  object.erase("stream");
  object.erase("stream_options");
  if (dialect == core::Dialect::kOpenAiResponses) object["store"] = false;
  return boost::json::serialize(value);
}

void ShadowRunner::Plan(RequestContext& ctx) {
  const routing::Rule* rule = ctx.decision ? ctx.decision->matched : nullptr;
  if (!rule || !rule->shadow || !Sampled(ctx.request.id, rule->shadow->sample_ppm)) return;
  ctx.shadow.emplace();
}

void ShadowRunner::WatchAnswer(RequestContext& ctx, Answer& answer) {
  if (answer.completion) {
    auto output = verify::ReadAnswer(answer.upstream, answer.completion->json);
    if (output) ctx.shadow->output = std::move(*output);
    return;
  }
  ctx.shadow->collector.emplace(answer.upstream);
  if (answer.first) ctx.shadow->collector->Add(*answer.first);
  answer.stream = std::make_unique<WatchedStream>(ctx, std::move(answer.stream));
}

void ShadowRunner::Launch(RequestContext& live) {
  if (!live.shadow || !live.model || live.outcome.status != 200 || !live.http.background) return;
  // A cache hit cost nothing and called no model: nothing to compare it with was spent.
  if (live.cache && live.cache->hit) return;
  const routing::Decision& decision = *live.decision;
  if (draining_) return;
  if (in_flight_.fetch_add(1) >= max_in_flight_) {
    in_flight_.fetch_sub(1);
    if (services_.metrics) services_.metrics->ObserveShadowDropped(decision.profile, decision.rule);
    return;
  }
  http::ServerRequest copy;
  copy.method = live.http.method;
  copy.target = live.http.target;
  copy.headers = WithoutCredentials(live.http.headers);
  copy.body = live.http.body;
  copy.peer = live.http.peer;
  ShadowOf of;
  of.live_id = live.request.id;
  of.tenant = live.request.tenant;
  of.key_id = live.request.key_id;
  of.profile = std::string(decision.profile);
  of.rule = std::string(decision.rule);
  of.task_type = std::string(routing::TaskTypeName(decision.features.task_type));
  of.live_rule = decision.matched;
  of.live_output = LiveOutput(*live.shadow);
  // Called once: the live answer moves on into the shadow's frame rather than being copied.
  auto job = [this, of = std::move(of)](http::ServerRequest& request) mutable {
    return Run(request, std::move(of));
  };
  if (!live.http.background->Start(std::move(copy), std::move(job))) in_flight_.fetch_sub(1);
}

http::Task<void> ShadowRunner::Run(http::ServerRequest& http, ShadowOf of) {
  struct Leave {
    std::atomic<int64_t>& in_flight;
    ~Leave() { in_flight.fetch_sub(1); }
  } leave{in_flight_};
  NoClient nobody;
  RequestContext ctx(http, nobody, services_);
  ctx.Begin(ClientDialect(http));
  ctx.request.tenant = of.tenant;
  ctx.request.key_id = of.key_id;
  ctx.shadow_of = std::move(of);
  bool crashed = false;
  try {
    co_await Shadow(ctx);
  } catch (...) {  // the pipeline is not expected to throw; the shadow is still recorded
    crashed = true;
  }
  if (crashed) {
    ctx.outcome.status = 500;
    ctx.outcome.error_code = std::string(core::ErrcName(core::Errc::kInternal));
    ctx.outcome.error_message = "internal error";
  }
  Record(ctx);
}

}  // namespace sy::app
