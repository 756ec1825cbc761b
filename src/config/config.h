// config::Config: the typed gateway configuration, loaded from YAML and validated as a whole.
//
// Loading never throws. Every mistake is reported with the exact path of the offending node, e.g.
//   models.gpt-5.5.price.output: "30.0.0" is not a decimal number
// and the process refuses to start. Prices are parsed from their YAML text, never through double.
//
// Thread-safety: a loaded Config is an immutable value; share it as shared_ptr<const Config>.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json_depth.h"
#include "core/money.h"
#include "core/result.h"

namespace sy::config {

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  int threads = 0;                                         // 0: one per core
  int64_t max_body_bytes = 8 * 1024 * 1024;                // larger bodies get 413
  int64_t max_header_bytes = 16 * 1024;                    // larger header blocks get 431/413
  int64_t max_json_depth = core::kDefaultMaxJsonDepth;     // deeper JSON gets 400
  std::chrono::milliseconds request_read_timeout{30'000};  // slow clients get 408
  std::chrono::milliseconds idle_timeout{60'000};          // idle keep-alive connections close
  // On SIGTERM, how long requests in flight may still run before they are cut (and recorded).
  std::chrono::milliseconds shutdown_grace{10'000};
  int max_connections = 4096;  // open client connections, all workers; more get 503
  // Request bodies held in memory at once, all connections; a body past it gets 503.
  int64_t max_buffered_body_bytes = int64_t{256} * 1024 * 1024;
  // Upstream answers read whole (non-streamed, up to 64 MiB each) held in memory at once, all
  // requests; an attempt whose answer does not fit fails with 503 (kOverloaded).
  int64_t max_buffered_answer_bytes = int64_t{256} * 1024 * 1024;
  // At shutdown, how long cancelled requests get to answer and record after the grace period.
  std::chrono::milliseconds cancel_wait{3'000};
};

struct ProviderTimeouts {
  std::chrono::milliseconds connect{5'000};
  std::chrono::milliseconds first_byte{60'000};  // until response headers arrive
  std::chrono::milliseconds idle{60'000};        // between two reads of a streamed body
};

struct ProviderConfig {
  std::string name;
  std::string kind;  // "openai" (any OpenAI-compatible API) or "anthropic"
  // For kind openai: the API its models are called through, "chat" (Chat Completions, the
  // default) or "responses" (OpenAI's Responses API: Responses clients are passed through).
  std::string api = "chat";
  std::string base_url;     // e.g. "https://api.openai.com/v1"; http:// is allowed (local servers)
  std::string api_key_env;  // name of the environment variable holding the key; "" = no key
  std::string api_key;      // resolved from api_key_env at load time; never logged
  std::string region;       // e.g. "us", "eu"
  std::vector<std::string> residency;  // data-residency tags, e.g. ["eu", "gdpr"]
  ProviderTimeouts timeouts;
  bool tls_verify = true;         // verify the server certificate and host name (https only)
  std::string ca_file;            // extra CA bundle; "" = the system store
  int max_idle_connections = 64;  // idle connections a worker keeps to base_url's origin; 0 = none
};

struct PriceList {
  core::PricePerMTokens input;
  std::optional<core::PricePerMTokens> cached_input;  // absent: cached tokens cost `input`
  std::optional<core::PricePerMTokens> cache_write;   // absent: cache writes cost `input`
  core::PricePerMTokens output;
};

// A list that applies on a daily UTC window, e.g. DeepSeek's off-peak 16:30-00:30.
// start == end is rejected; a window may cross midnight.
struct PriceWindow {
  std::string name;          // "off-peak"
  int start_minute_utc = 0;  // minutes since 00:00 UTC, inclusive
  int end_minute_utc = 0;    // exclusive
  PriceList prices;
};

struct PriceSchedule {
  PriceList standard;
  std::vector<PriceWindow> windows;  // the first window containing the time wins
  // The provider's batch list (e.g. OpenAI's Batch API at half the standard rate), where it has
  // one. The gateway serves no batch API: only `switchyard plan` prices with it (batch_share).
  std::optional<PriceList> batch;
  bool example = false;  // true: not a published list price, an operator's example figure
  std::string note;      // shown next to an example price
};

// The capability names a model may list; any other name is rejected as a typo.
inline constexpr std::array<std::string_view, 4> kCapabilities = {"tools", "json_schema", "vision",
                                                                  "reasoning"};
// The tiers a model may be in, strongest first.
inline constexpr std::array<std::string_view, 3> kTiers = {"frontier", "standard", "economy"};
// The task types routing classifies requests into (docs/routing.md defines each); quality scores
// and routing rules name them. routing::TaskType follows this order.
inline constexpr std::array<std::string_view, 12> kTaskTypes = {
    "extraction", "classification", "summarization", "rewriting", "code", "math",
    "reasoning",  "factual",        "grounded_qa",   "creative",  "chat", "agentic"};

// What is known of a model's answer quality. Figures are 0-1. A published figure names its
// source; anything else is marked example, as example prices are.
struct ModelQuality {
  std::optional<double> hallucination_rate;  // share of wrong answers given instead of abstaining
  std::string hallucination_source;          // where the figure was published
  std::vector<std::pair<std::string, double>> scores;  // task type -> quality, 0-1
  bool example = false;  // the scores are an operator's example figures, not measurements
  std::string note;
};

// One place a model is served from: a provider, its name for the model, a share of the traffic.
struct DeploymentConfig {
  std::string name;           // unique within the model; defaults to the provider's name
  std::string provider;       // a ProviderConfig::name
  std::string upstream_name;  // the provider's name for the model; defaults to the model's id
  int weight = 1;             // share of the traffic under the weighted strategy; >= 1
  // What calls to this deployment cost when it differs from the model's list price (a
  // self-hosted copy, a negotiated rate); absent: the model's price.
  std::optional<PriceSchedule> price;
};

// How a model's deployments are ordered for each request (routing::OrderDeployments).
inline constexpr std::array<std::string_view, 3> kDeploymentStrategies = {
    "weighted", "least_in_flight", "latency"};

struct ModelConfig {
  std::string id;  // the name clients use, e.g. "gpt-5.5"
  // The first deployment's provider and upstream name: with the one-deployment shorthand
  // (`provider:` and `upstream_name:` on the model) the only ones.
  std::string provider;       // a ProviderConfig::name
  std::string upstream_name;  // the provider's name for it; defaults to id
  // `deployments:` as configured; empty with the shorthand (catalog::Catalog then serves the
  // model from one deployment named after its provider).
  std::vector<DeploymentConfig> deployments;
  std::string strategy = "weighted";  // one of kDeploymentStrategies
  // Other names clients may use for the same model, e.g. the vendor's dated id
  // ("claude-haiku-4-5-20251001"). Unique across every model id, alias and other id.
  std::vector<std::string> ids;
  PriceSchedule price;
  int64_t context_window = 0;             // tokens; 0 = unknown
  int64_t max_output_tokens = 0;          // tokens; 0 = unknown
  std::vector<std::string> capabilities;  // "tools", "json_schema", "vision", "reasoning", ...
  std::string tier = "standard";          // one of kTiers
  ModelQuality quality;
};

struct AliasConfig {
  std::string name;                 // e.g. "economy"
  std::vector<std::string> models;  // ordered fallback list of model ids
};

// routing: named profiles of rules that turn a request's features into an ordered candidate list
// (docs/routing.md). Checked as a whole by ValidateConfig; compiled by routing::Policy.
struct ChainStep {
  std::string target;                          // a model id or an alias (expanded to its models)
  std::optional<core::Money> max_cost_per_1k;  // skip the step when the estimate per 1K is dearer
};

struct CheapestSpec {
  std::string min_tier;               // "" = any; else one of kTiers (that tier or stronger)
  std::optional<double> min_quality;  // for the request's task type; unscored models drop
  std::optional<double> max_hallucination_rate;  // models without a figure drop
  std::vector<std::string> capabilities;         // required, besides those the request needs
  std::vector<std::string> regions;              // allowed provider regions; empty = any
  std::vector<std::string> residency;            // residency tags the provider must carry
  std::optional<core::Money> max_cost_per_1k;
  std::string rank_by = "cost";  // "cost" or "hallucination_rate" (then cost)
  int top = 3;                   // how many candidates to keep
};

// What a rule matches on; an absent condition matches anything. All present conditions must hold.
struct RuleMatch {
  std::vector<std::string> task_types;
  std::optional<bool> tools, tool_results, json_output, code, context, images;
  std::vector<std::string> languages;
  std::optional<int64_t> min_prompt_tokens, max_prompt_tokens;
  std::optional<int64_t> min_output_tokens, max_output_tokens;  // expected output tokens
  std::optional<int> min_depth, max_depth;
  std::vector<std::string> tags;  // every listed tag must be present
};

// One check of a rule's `verify` list: a name, or {regex: "..."} / {grounded: {min_support: x}}.
struct VerifyCheckConfig {
  std::string name;                   // a verify::CheckName
  std::string pattern;                // regex only
  std::optional<double> min_support;  // grounded only; absent: the default
};

// A rule's `cache`: its answers are kept for ttl_s and replayed at no cost to a request that is
// the same in everything that changes the answer (cache/cache.h), from the same tenant or, with
// scope "key", from the same client key.
struct RuleCacheConfig {
  int64_t ttl_s = 0;
  std::string scope = "tenant";  // "tenant" (its keys share entries) or "key" (each key its own)
};

// A rule's `shadow`: a sample of the requests it answers is mirrored to `model` off the hot path
// and recorded apart, to compare cost, latency and agreement before switching (docs/planning.md).
struct RuleShadowConfig {
  std::string model;       // a model or an alias
  int64_t sample_ppm = 0;  // `sample`: the share of its answered requests mirrored, (0, 1]
};

// A rule's `router`: the learned router (router/router.h) scores each prompt and sends it to
// `strong` when the score is at or above the threshold, else to `weak`; the other one follows as
// the failover step. The threshold is given, or calibrated at start on the model's training
// scores: for a share of prompts sent to strong, or for a budget per 1,000 requests at the
// catalog's prices (docs/routing.md, "The learned router"); `calibration: live` then holds that
// share on the scores of the requests routed.
struct RouterSpec {
  std::string model{};   // the model file's path, or "builtin:<name>" for one shipped in the binary
  std::string strong{};  // a model or an alias
  std::string weak{};    // a model or an alias
  // Exactly one of these three.
  std::optional<double> threshold;            // 0..1: the score at or above which strong answers
  std::optional<double> target_strong_share;  // 0..1: that share of prompts to strong
  std::optional<core::Money> budget_usd_per_1k_requests;
  // The output tokens per request the budget calibration assumes (the data has none).
  int64_t expected_output_tokens = 500;
  // How a share (target_strong_share, or the budget's) becomes a threshold: "training" (the
  // default) once at start from the model's training scores; "live" held on the scores of the
  // requests this gateway routes (routing/share_calibrator.h), starting from the training one.
  std::string calibration = "training";
  int64_t calibration_window = 10'000;  // live: about how many recent scores decide
};
inline constexpr int64_t kMinCalibrationWindow = 100;
inline constexpr int64_t kMaxCalibrationWindow = 1'000'000;

struct RuleConfig {
  std::string name;
  std::optional<RuleMatch> when;  // absent: the default rule, matches every request
  std::vector<ChainStep> chain;   // exactly one of chain, cheapest and router
  std::optional<CheapestSpec> cheapest;
  std::optional<RouterSpec> router;
  std::vector<VerifyCheckConfig> verify;   // checks every answer must pass; empty: none
  std::string on_exhausted = "error";      // "error" or "return_last": when no candidate passes
  std::string verify_mode = "hold";        // "hold" (verify, then send) or "record" (send at once)
  std::optional<RuleCacheConfig> cache;    // absent: answers are not cached
  std::optional<RuleShadowConfig> shadow;  // absent: no shadow traffic
};

struct ProfileConfig {
  std::string name;  // clients send "auto" for the profile named auto, "auto:<name>" for others
  std::vector<RuleConfig> rules;  // first match wins; the last must be a default rule
};

// True for "auto" and "auto:<profile>": what clients send to be routed by a profile, so no
// model or alias may be named so.
inline bool NamesRoutingProfile(std::string_view model) {
  return model == "auto" || model.starts_with("auto:");
}

struct RoutingConfig {
  bool trust_task_header = true;  // x-switchyard-task replaces the classifier's answer
  // Provider regions and residency tags every route is limited to (aliases and models too);
  // empty: no limit.
  std::vector<std::string> allowed_regions;
  std::vector<std::string> required_residency;
  // The output tokens a worst-case estimate assumes when neither the request nor the model says
  // (Anthropic's adapter sends the same default).
  int64_t default_max_output_tokens = 4096;
  // The context window assumed for a model whose context_window is 0 (not configured), so a
  // huge prompt is not sent where it may not fit; 0 = assume it fits.
  int64_t assumed_context_window = 128'000;
  // The most shadow requests in flight in this process (a rule's `shadow`); a sampled request
  // over the bound is not mirrored (switchyard_shadow_requests_total{result="dropped"}), never
  // queued.
  int64_t shadow_max_in_flight = 16;
  std::vector<ProfileConfig> profiles;
};

struct FailoverConfig {
  std::chrono::milliseconds total_deadline{120'000};  // all attempts of one request
  int max_attempts = 4;
  std::chrono::milliseconds max_retry_after{30'000};  // longer retry-after: move on, don't wait
  // The longest an upstream's retry-after may cool a model down (and the most a client is told
  // to wait): a retry-after of years must not take a model out until the next restart.
  std::chrono::milliseconds max_cooldown{300'000};
  // Extra tries on the same deployment after a 429 without retry-after, a 5xx or a connect error,
  // each after a full-jitter exponential backoff: uniform(0, min(backoff_max, base * 2^n)).
  int retries_per_deployment = 0;
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_max{2'000};
};

// health: the circuit breaker every deployment has (routing::Health).
struct BreakerConfig {
  int consecutive_failures = 5;  // open after this many failures in a row; 0 = never
  double error_rate = 0.5;       // or when failures / requests in the window pass this share
  int min_requests = 20;         // ... and the window holds at least this many requests
  std::chrono::milliseconds window{30'000};
  std::chrono::milliseconds cool_off{15'000};  // open -> one probe after this
};

struct HealthConfig {
  BreakerConfig breaker;
};

// verification: what every verified route shares.
struct VerificationConfig {
  // Phrases that mark an answer as a refusal for no_refusal (case-insensitive); absent from the
  // YAML: the built-in list (verify::DefaultRefusalPhrases).
  std::optional<std::vector<std::string>> refusal_phrases;
  int64_t max_held_bytes = int64_t{4} << 20;  // a held (verified) stream longer than this fails
};

struct LedgerConfig {
  std::string sqlite_path = "ledger.db";
  int batch_size = 512;
  std::chrono::milliseconds flush_interval{200};
  int queue_capacity = 65'536;
  // Where records wait while the database fails or the queue is full (ledger/batch_ledger.h);
  // "" = sqlite_path + ".spill". One process per file.
  std::string spill_path;
  int64_t spill_max_bytes = int64_t{1} << 30;
  // Retention: requests (with their attempts), shadows and feedback older than this many days
  // are deleted by the ledger's writer (ledger/batch_ledger.h); 0 = keep every row.
  int64_t retention_days = 0;
};

// database: where the request ledger is written. url "" (the default): the SQLite file
// ledger.sqlite_path. "postgresql://user:password@host:port/dbname?sslmode=...": PostgreSQL, for
// several replicas recording into one database (docs/operations.md, "Several instances"); client
// keys and tenants (auth.mode: keys) then live there too, shared by every replica. The URL may
// hold a password: it is a secret (SecretValues), never logged.
struct DatabaseConfig {
  std::string url;
  std::chrono::seconds connect_timeout{5};
};

// shared_state: what N replicas behind a load balancer share in Redis (docs/operations.md,
// "Several instances"): budgets and rate limits of client keys and tenants. redis_url "" (the
// default): every counter lives in this process, right for one instance. The URL may hold a
// password: it is a secret (SecretValues), never logged.
struct SharedStateConfig {
  std::string redis_url;
  // Redis unreachable: "fail_open" decides on this replica's own counters (each replica then
  // enforces every limit alone), "fail_closed" refuses what needs Redis with 503.
  std::string on_failure = "fail_open";
  std::string key_prefix = "switchyard:";
  // A replica takes this share of what remains of a limit at a time, and spends it without asking
  // Redis (shared/counters.h states the error bound this implies).
  int allowance_percent = 5;
  std::chrono::milliseconds sync_interval{100};  // spend and token debts reported this often
  std::chrono::milliseconds timeout{250};        // connect, and each round trip
};

// responses: the conversation state of POST /v1/responses (store, previous_response_id).
struct ResponsesConfig {
  bool store = true;  // false: store is ignored and previous_response_id is refused
  std::chrono::hours retention{24 * 30};
  // What one key's stored responses may hold (their input, output and Response JSON); past it
  // a request with store is refused (400, param store) until some are deleted or expire.
  int64_t max_stored_bytes_per_key = int64_t{1} << 30;
};

// auth: client keys and the admin API (docs/operations.md, "Keys").
struct AuthConfig {
  std::string mode = "keys";  // "keys": every /v1/ call needs a client key; "off": none does
  std::string admin_token_env = "SWITCHYARD_ADMIN_TOKEN";
  std::string admin_token;  // resolved from admin_token_env; "" disables /admin/; never logged
  std::string pepper_env = "SWITCHYARD_KEY_PEPPER";
  // Resolved from pepper_env; "" = the pepper file next to the SQLite ledger (created once,
  // 0600). Required with database.url: every replica and the keys CLI hash with the same one.
  std::string pepper;
  std::string budget_check = "estimate";        // "estimate" (refuse before sending) or "after"
  std::chrono::seconds rotation_grace{86'400};  // the old secret's life after a rotate
  // How often the stored keys revision is polled, and keys another process or replica changed
  // re-read: 250 ms, so a key revoked through one replica is refused by all within a second.
  std::chrono::milliseconds reload_interval{250};
};

// access_log: one JSON line per recorded request.
struct AccessLogConfig {
  bool enabled = false;
  std::string path = "-";    // "-": standard output; else a file, appended to
  bool log_prompts = false;  // include the (clipped) prompt text
};

// metrics: GET /metrics, the Prometheus exposition (docs/metrics.md). It names tenants and shows
// their budgets and spend: with a token, a scrape must send "Authorization: Bearer <token>" (the
// metrics token or the admin token); without one it is open, as for the demo and the benches.
struct MetricsConfig {
  bool enabled = true;  // GET /metrics
  std::string token_env = "SWITCHYARD_METRICS_TOKEN";
  std::string token;  // resolved from token_env; "" leaves /metrics open; never logged
  // Tenants with series of their own, the first seen; later ones share tenant="(other)". A tenant
  // adds up to five series for each model and provider that serve it (tokens by kind, cost),
  // seven more (limits, cache lookups) and two budget gauges a window. 0 names no tenant at all.
  int64_t max_tenant_labels = 1000;
};

struct Config {
  ServerConfig server;
  std::vector<ProviderConfig> providers;
  std::vector<ModelConfig> models;
  std::vector<AliasConfig> aliases;
  RoutingConfig routing;
  FailoverConfig failover;
  HealthConfig health;
  VerificationConfig verification;
  LedgerConfig ledger;
  DatabaseConfig database;
  SharedStateConfig shared_state;
  ResponsesConfig responses;
  AuthConfig auth;
  AccessLogConfig access_log;
  MetricsConfig metrics;
};

// Looks up an environment variable; a seam so tests need not touch the real environment.
using EnvLookup = std::optional<std::string> (*)(std::string_view name);
std::optional<std::string> RealEnv(std::string_view name);

// Parses and validates YAML text (schema: docs/configuration.md). `source` names it in YAML
// syntax errors ("demo.yaml:12:3: ..."); every other message is "<path>: <what is wrong>" with the
// path in YAML key names, and Error::param holds the path.
// Every string value may use ${NAME}, replaced by the variable's value from `env` (an unset
// variable is an error; "$$" is a literal "$"). Keys, numbers, booleans and prices are not
// substituted. api_key is read from `env` under the name api_key_env; its value never appears in
// any message. Nor does any substituted value, which may be a secret put in the wrong place
// (base_url: "${OPENAI_API_KEY}"): a message quotes such a scalar as written in the YAML
// ("${OPENAI_API_KEY}"), and any other trace of a variable's value is "[redacted]" or, for a
// fragment of one, replaces the message by "<path>: invalid value (not shown: ...)".
// On failure: kInvalidRequest with the first error found; then ValidateConfig runs on the result.
core::Result<Config> ParseConfig(std::string_view yaml, std::string_view source,
                                 EnvLookup env = &RealEnv);

// Checks a typed Config as a whole (ranges, names, kinds, URLs, windows, duplicates, and
// CheckReferences), with the same path-qualified messages as ParseConfig. ParseConfig calls it;
// call it yourself on a Config built in code. Fails with kInvalidRequest (first error found).
core::Status ValidateConfig(const Config& config);

// Only the cross-references: unique provider names, model ids and alias names; every model's
// provider exists; every alias lists at least one model, each existing and listed once; no alias
// is named like a model. Fails with kInvalidRequest, e.g. `aliases.economy[1]: unknown model
// "kimi-k3"`. Catalog::Build calls it.
core::Status CheckReferences(const Config& config);

// The secret values `config` holds, for core::SecretScrubber: every provider's resolved api_key
// the admin token, the metrics token, the key pepper, the database URL and its password. Empty
// values are left out; order is unspecified.
std::vector<std::string> SecretValues(const Config& config);

// The password of a database URL ("scheme://user:PASSWORD@host/..." or "...?password=PASSWORD"),
// percent-encoded as written; "" when it has none.
std::string DatabasePassword(std::string_view url);

// The largest config file read: hand-written configs are kilobytes; 50,000 models fit in 5 MiB.
inline constexpr uint64_t kMaxConfigFileBytes = 16 << 20;

// Reads and parses a file. Fails as core::ReadRegularFile: kNotFound when it can't be opened,
// kInvalidRequest when it is not a regular file (refused unread: /dev/zero, a FIFO),
// kPayloadTooLarge when it is larger than kMaxConfigFileBytes; then as ParseConfig.
core::Result<Config> LoadConfigFile(const std::string& path, EnvLookup env = &RealEnv);

}  // namespace sy::config
