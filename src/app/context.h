// The per-request state the gateway's stages share, and the collaborators they are given.
// Internal to app/ (docs/architecture.md shows the stages).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/prompt.h"
#include "core/request.h"
#include "core/secrets.h"
#include "failover/chain.h"
#include "http/blocking_pool.h"
#include "http/server.h"
#include "ledger/sink.h"
#include "limits/directory.h"
#include "limits/limiter.h"
#include "providers/provider.h"
#include "routing/decide.h"
#include "routing/health.h"
#include "routing/policy.h"
#include "verify/verify.h"

namespace sy::ledger {
class ResponseStore;
}  // namespace sy::ledger

namespace sy::shared {
class Counters;
}  // namespace sy::shared

namespace sy::cache {
class Store;
}  // namespace sy::cache

namespace sy::app {

class KeyService;
class GatewayMetrics;
class AccessLog;

// The provider adapters, one per configured provider whose kind this build has.
// Immutable after construction; shared by every worker.
class ProviderSet {
 public:
  explicit ProviderSet(const std::vector<config::ProviderConfig>& providers);
  // The adapter that serves `model` (its first deployment); null when its provider has no
  // adapter in this build.
  providers::Provider* For(const config::ModelConfig& model) const;
  // The adapter of the deployment's provider; null as above.
  providers::Provider* For(const catalog::Deployment& deployment) const;
  // Providers whose kind has no adapter, with the reason (logged at start).
  const std::map<std::string, std::string>& unavailable() const { return unavailable_; }

 private:
  std::map<std::string, std::unique_ptr<providers::Provider>> adapters_;
  std::map<std::string, std::string> unavailable_;
};

// What the stages work with besides the request itself. Everything here outlives every request;
// the per-worker part (the upstream connection pool) comes with the request (ServerRequest).
struct Services {
  const catalog::Catalog& catalog;
  const routing::Policy& policy;
  const ProviderSet& providers;
  routing::Health& health;  // process-wide, lock-free
  ledger::Sink& sink;
  const core::Clock& clock;  // "now" for prices and the ledger
  // Every configured secret: scrubbed from any text that reaches a client, a log or the ledger.
  const core::SecretScrubber& secrets;
  // The stored responses of the Responses dialect; null when responses.store is false.
  ledger::ResponseStore* responses = nullptr;
  // Client keys; null when auth.mode is off (no key is asked for).
  KeyService* keys = nullptr;
  GatewayMetrics* metrics = nullptr;       // null: nothing counted
  AccessLog* access_log = nullptr;         // null: access_log.enabled is false
  http::BlockingPool* blocking = nullptr;  // for database reads and writes off the workers
  // Runs the calls of `responses`; null: they run inline (unit tests).
  http::BlockingPool* store_pool = nullptr;
  // Budgets and rate limits shared with other replicas in Redis; null: counted in this process.
  shared::Counters* counters = nullptr;
  // The response cache (rules with cache.ttl_s); null when no rule caches.
  cache::Store* cache = nullptr;
};

// Who is calling, once the auth stage has read their key (auth.mode keys).
struct Caller {
  std::shared_ptr<const limits::Directory> directory;  // keeps `key` alive
  const limits::Key* key = nullptr;
  limits::RateHeaders rate;  // x-ratelimit-*, as admission left them
  core::Money reserved;      // budget_check estimate: what this request's attempts reserved
  bool settled = false;      // its cost has been charged (app::Settle)
};

// What the client got, filled by the encode stage (and the cut and last-resort paths).
struct RequestOutcome {
  int status = 0;  // HTTP status sent (or that would have been sent to a client that left)
  // core::ErrcName of the failure, or "client_closed" / "shutdown"; "" on success.
  std::string error_code;
  std::string error_message;
  std::optional<int64_t> ttft_ms;  // streams: to the first content byte sent
  // Streams: when that byte went out (the gateway's overhead is measured up to it).
  std::optional<std::chrono::steady_clock::time_point> first_byte_at;
};

// A model's answer as the execute stage hands it on: a complete JSON answer, already in the
// client's dialect, or an opened stream whose first event has been read.
struct Answer {
  std::optional<providers::Completion> completion;
  std::unique_ptr<providers::EventStream> stream;
  std::optional<providers::StreamEvent> first;
  core::Dialect upstream = core::Dialect::kOpenAiChat;  // what the answering provider speaks
};

// What verification asks of this request's answers: the rule's checks and the request's
// (x-switchyard-verify), and what the request says the answer must be (app/verification.h).
struct VerifyPlan {
  std::vector<verify::Check> checks;
  verify::Spec spec;
  verify::Options options;
  bool record_only = false;  // verify_mode record: send at once, only record the verdict
  bool return_last = false;  // on_exhausted return_last: the last answer when none passes
  std::string names;         // "json_schema,non_empty": the header's checks=
};

// A translated body's key: the target dialect, and whether the model has native structured
// output (api::translate::TargetModel).
using TranslationKey = std::pair<core::Dialect, bool>;

// A Responses request's conversation state (app/conversation.h).
struct ResponsesTurn {
  bool store = false;       // the answer is to be stored
  std::string previous_id;  // the client's previous_response_id, "" when none
  std::string input_json;   // this turn's own input items, as stored
};

// A request whose rule caches its answers (app/response_cache.h).
struct CacheState {
  std::string key;  // cache::Key of the request
  std::chrono::seconds ttl{0};
  bool hit = false;       // answered from the cache
  std::string frames;     // a stream's frames as sent, while they fit
  bool overflow = false;  // the stream outgrew cache::kMaxEntryBytes: not stored
};

// Shadow traffic (app/shadow.h). On a live request a rule's `shadow` sampled: the live answer
// as read, for agreement. On a shadow request: the live request it mirrors.
struct ShadowLive {
  std::optional<verify::Output> output;              // the live answer, once read
  std::optional<verify::StreamCollector> collector;  // a live stream's, as relayed
};
struct ShadowOf {
  std::string live_id;
  std::string tenant, key_id;                 // who the live request was
  std::string profile, rule, task_type;       // how routing saw it
  const routing::Rule* live_rule = nullptr;   // its matched rule (the policy outlives requests)
  std::optional<verify::Output> live_output;  // nullopt: the live answer could not be read
  std::string agreement;                      // verify::AgreementName, "" without both answers
};

struct RequestContext {
  RequestContext(http::ServerRequest& h, http::ResponseWriter& w, const Services& s)
      : http(h), writer(w), services(s) {}

  // Gives the request its id and its arrival time (services.clock), and the dialect its answers
  // and errors are in: what every endpoint does first.
  void Begin(core::Dialect dialect) {
    request.id = core::NewRequestId();
    request.received_at = services.clock.Now();
    request.dialect = dialect;
  }

  http::ServerRequest& http;
  http::ResponseWriter& writer;
  const Services& services;

  core::Request request;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // What the request asks for, read once by the route stage (views into request.body).
  core::Prompt prompt;
  // The route stage's decision (profile, rule, task type, candidates), once made.
  std::optional<routing::Decision> decision;
  // The decision's kept candidates, in order, each with the deployments it may be served from
  // (route stage).
  std::vector<failover::Step> steps;
  // Set when the answer is verified (route stage).
  std::optional<VerifyPlan> verify;
  // The request translated for each other dialect the chain reached (and each variant of the
  // target: whether it has native structured output), or why it cannot be (execute stage).
  std::map<TranslationKey, core::Result<boost::json::object>> translated_bodies;
  // Every candidate tried or skipped, in order, each with its outcome, usage and cost.
  std::vector<failover::Attempt> attempts;
  const config::ModelConfig* model = nullptr;       // the model that answered
  const catalog::Deployment* deployment = nullptr;  // ... and the deployment it answered from
  size_t answer_attempt = 0;                        // its index in `attempts`
  // The last answer that failed verification, and its attempt's index: what on_exhausted
  // return_last sends when no answer passes.
  std::optional<Answer> rejected;
  size_t rejected_attempt = 0;
  bool returned_rejected = false;     // the answer sent is that one (return_last)
  ResponsesTurn turn;                 // Responses requests only
  std::optional<CacheState> cache;    // set when the matched rule caches its answers
  std::optional<Caller> caller;       // set by the auth stage when keys are required
  std::optional<ShadowLive> shadow;   // a live request whose rule's shadow sampled it
  std::optional<ShadowOf> shadow_of;  // a shadow request
  RequestOutcome outcome;
};

}  // namespace sy::app
