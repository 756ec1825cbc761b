// routing::Decide: a request's features and the policy -> the ordered candidates to try, each with
// its estimated cost and why it was kept or dropped. Explain is Decide without the execute stage.
//
// Pure: no I/O, no locks, no clock of its own (the caller passes `now`); reads Health's atomics
// and a live `router` threshold's (ShareCalibrator), which the caller feeds (ObserveRouterScore).
// Thread-safety: free functions over values; call from any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "core/error.h"
#include "core/money.h"
#include "routing/features.h"
#include "routing/health.h"
#include "routing/policy.h"

namespace sy::routing {

// What the client's `model` names: a routing profile, or a catalog route (a model or an alias).
struct Target {
  const Profile* profile = nullptr;
  const catalog::Route* route = nullptr;
};

// Resolves a client's `model`. Fails with kNotFound: for "auto:<name>" naming no profile, a
// message listing the profiles; for anything else unknown, the catalog's error.
core::Result<Target> Resolve(std::string_view model, const Policy& policy,
                             const catalog::Catalog& catalog);

// The Health of every deployment in the catalog (slot = catalog::Deployment::slot), with the
// config's breaker settings (health.breaker) and retry-after cap (failover.max_cooldown).
Health HealthFor(const catalog::Catalog& catalog);

// What the request brings besides its features.
struct RouteRequest {
  Features features;
  // The prompt the features were classified from: a `router` rule scores it. REQUIRES: set when
  // the profile has router rules (a view into the request's body).
  const core::Prompt* prompt = nullptr;
  std::vector<std::string> tags;        // x-switchyard-tags, then the body's metadata as key=value
  std::optional<core::Money> max_cost;  // x-switchyard-max-cost-usd: worst-case ceiling
};

struct Now {
  std::chrono::system_clock::time_point wall;  // selects the price list in force
  SteadyTime steady;                           // for cool-downs
};

// A deployment of a candidate model, as routing saw it.
struct DeploymentChoice {
  const catalog::Deployment* deployment = nullptr;
  bool kept = true;      // within the route's regions and residency
  bool blocked = false;  // kept, but its circuit breaker is open: the chain skips it
  std::string reason;    // why it was dropped or blocked; "" otherwise
  // The candidate's estimate and worst case at this deployment's price (its override, else the
  // model's); the worst case is what an attempt on it reserves against a budget.
  core::Money estimated_cost;
  core::Money worst_case_cost;
};

struct Candidate {
  const config::ModelConfig* model = nullptr;
  std::vector<DeploymentChoice> deployments;  // every deployment of the model, config order
  // Estimated prompt tokens at the input price + expected output tokens at the output price,
  // under the price list in force at `now`, at the dearest deployment the request may still go
  // to (regions and residency drop deployments): any of them may serve it.
  core::Money estimated_cost;
  // Estimated prompt tokens at the input price + the most output the request may produce (its
  // max_tokens, else the model's max_output_tokens, else routing.default_max_output_tokens), at
  // the same deployment's price.
  core::Money worst_case_cost;
  bool kept = false;
  bool cooling = false;  // kept, but every deployment is cooling down (retry-after): the chain
                         // skips it if it can
  // What dropped it: "context_window", "capability", "region", "residency", "max_cost_usd",
  // "max_cost_per_1k", "min_tier", "min_quality", "hallucination_rate", "top", "duplicate",
  // "circuit_open" (every deployment's breaker is open); "" when kept. Region and residency
  // drop deployments, and the model when none is left.
  std::string_view constraint;
  std::string
      reason;  // for a person: "chain step 2 (alias economy)", "context window 256000 < ..."
};

// What a `router` rule decided: the prompt's score against the rule's threshold.
struct RouterVerdict {
  double score = 0;
  double threshold = 0;
  bool strong = false;  // score >= threshold: the strong side answers first
};

struct Decision {
  std::string_view profile;       // "" when the client named a model or an alias
  std::string_view rule;          // the rule that matched, or "model gpt-5.5" / "alias economy"
  const Rule* matched = nullptr;  // that rule; null when the client named a model or an alias
  Features features;
  std::vector<Candidate> candidates;  // kept first, in the order to try; then the dropped ones
  size_t kept = 0;
  std::optional<core::Money> max_cost;  // the request's ceiling, for messages
  std::optional<RouterVerdict> router;  // set when a `router` rule matched
};

// Picks the rule (first match in the profile, or the route), builds its candidates, applies the
// constraints every route obeys (context window, capabilities the request needs, the routing
// section's regions and residency (per deployment), the request's cost ceiling, a step's
// max_cost_per_1k), drops the models whose every deployment has an open circuit breaker, and
// notes those still cooling down (Health). For a `cheapest` rule the request's constraints apply
// before its `top`: the rule keeps the best N of the models that can take this request.
Decision Decide(const Target& target, const RouteRequest& request, const Policy& policy,
                const catalog::Catalog& catalog, const Health& health, const Now& now);

// Hands a served request's router score to its rule's live calibration, when the rule has one
// (`calibration: live`); nothing otherwise. The gateway calls it once per routed request, after
// Decide; explain does not, so asking does not move the threshold.
void ObserveRouterScore(const Decision& decision);
// Hands a served request's usage (all its attempts) to its rule's live budget, when the rule
// holds one (`budget_usd_per_1k_requests` with `calibration: live`); nothing otherwise. Once per
// request, when its usage is final.
void ObserveRouterUsage(const Decision& decision, const core::Usage& usage);

// True when `rule` matches (every condition it states holds).
bool Matches(const Match& match, const Features& features, const std::vector<std::string>& tags);

// The 400 for a decision that kept no candidate, naming the constraint that dropped the last
// ones: the client's cost ceiling first (`no model satisfies x-switchyard-max-cost-usd=0.0001:
// cheapest candidate deepseek-v4-flash estimated 0.00021`), then the context window, the
// capabilities, regions, residency and a step's max_cost_per_1k; a rule's own constraints only
// when none of those dropped a model. When open circuit breakers dropped a model the error is
// kUpstreamUnavailable (502: not the client's doing). REQUIRES: decision.kept == 0, at least one
// candidate.
core::Error NoCandidateError(const Decision& decision);

// "profile=auto; rule=cheap-text; task=extraction" (profile "none" for a model or an alias);
// after a `router` rule "; router=0.7341>=0.4120 strong".
std::string RouteHeader(const Decision& decision);

// "0.7341>=0.4120 strong" / "0.1022<0.4120 weak": a router verdict for headers, explain and the
// ledger.
std::string RouterVerdictText(const RouterVerdict& verdict);
// The same, appended to `out` (a routed request writes it into its header and its ledger row).
void AppendRouterVerdict(std::string& out, const RouterVerdict& verdict);

}  // namespace sy::routing
