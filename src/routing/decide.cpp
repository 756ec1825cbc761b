#include "routing/decide.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <utility>

#include "core/text.h"

namespace sy::routing {
namespace {

using config::ModelConfig;
// Cost x tokens products overflow int64 for large prompts; GCC's 128-bit integer holds them.
__extension__ using Wide = __int128;

// The token figures a candidate's estimates use.
struct Tokens {
  int64_t prompt = 0;
  int64_t expected_output = 0;
  int64_t max_output = 0;  // the request's cap, else the model's, else the routing default
};

int64_t SaturatingTimes(int64_t tokens, int64_t times) {
  const Wide product = Wide{tokens} * std::max<int64_t>(times, 1);
  return product > std::numeric_limits<int64_t>::max() ? std::numeric_limits<int64_t>::max()
                                                       : static_cast<int64_t>(product);
}

Tokens TokensFor(const Features& f, const ModelConfig& model, const config::RoutingConfig& r) {
  Tokens t{f.prompt_tokens, f.expected_output_tokens, f.max_output_tokens};
  if (t.max_output <= 0) t.max_output = model.max_output_tokens;
  if (t.max_output <= 0) t.max_output = r.default_max_output_tokens;
  return t;
}

// A candidate's figures are its dearest kept deployment's (unchanged when none is kept: it is
// dropped then).
void PriceAtKeptDeployments(Candidate& c) {
  bool any = false;
  for (const DeploymentChoice& choice : c.deployments) {
    if (!choice.kept) continue;
    c.estimated_cost =
        any ? std::max(c.estimated_cost, choice.estimated_cost) : choice.estimated_cost;
    c.worst_case_cost =
        any ? std::max(c.worst_case_cost, choice.worst_case_cost) : choice.worst_case_cost;
    any = true;
  }
}

Candidate Estimate(const ModelConfig& model, const Features& f, const catalog::Catalog& catalog,
                   const config::RoutingConfig& r, const Now& now) {
  const Tokens t = TokensFor(f, model, r);
  core::Usage expected;
  expected.input_tokens = t.prompt;
  // Each of n answers is billed its own output (the cost saturates past int64 anyway).
  expected.output_tokens = SaturatingTimes(t.expected_output, f.choices);
  core::Usage worst = expected;
  worst.output_tokens = SaturatingTimes(t.max_output, f.choices);
  Candidate c;
  c.model = &model;
  // Each deployment at its own price (an override may be dearer than the list price), and the
  // model at its dearest deployment's: any of them may serve the request, so the budget's
  // reservation and the client's ceiling must hold whichever does (audit 3).
  const core::Money listed_estimate = catalog::ComputeCost(model.price, expected, now.wall).total;
  const core::Money listed_worst = catalog::ComputeCost(model.price, worst, now.wall).total;
  for (const catalog::Deployment& d : catalog.DeploymentsOf(model)) {
    DeploymentChoice choice;
    choice.deployment = &d;
    const bool listed = d.price == &model.price;
    choice.estimated_cost =
        listed ? listed_estimate : catalog::ComputeCost(*d.price, expected, now.wall).total;
    choice.worst_case_cost =
        listed ? listed_worst : catalog::ComputeCost(*d.price, worst, now.wall).total;
    c.deployments.push_back(std::move(choice));
  }
  c.estimated_cost = listed_estimate;
  c.worst_case_cost = listed_worst;
  PriceAtKeptDeployments(c);
  c.kept = true;
  return c;
}

void Drop(Candidate& c, std::string_view constraint, std::string reason) {
  c.kept = false;
  c.constraint = constraint;
  c.reason = std::move(reason);
}

// Appends value as printf's "%.4f" (to_chars with a precision is specified to match it: the exact
// binary value rounded to nearest, ties to even). A routed request formats its verdict twice, for
// the header and the ledger: four numbers, and to_chars' fixed-precision path cost about 400
// instructions each (callgrind: 1% of an `auto` request). Scores and thresholds lie in [0, 1],
// where the digits come from integer arithmetic instead: value * 10000 is exact in long double
// (10000 is 625 * 2^4, and 625 times a 53-bit mantissa fits its 64 bits), so the rounding is too.
void AppendFourDecimals(std::string& out, double value) {
  if (value >= 0 && value <= 1) {
    const long double scaled = static_cast<long double>(value) * 10000.0L;
    auto units = static_cast<int64_t>(scaled);  // rounded down: scaled >= 0
    const long double rest = scaled - static_cast<long double>(units);
    if (rest > 0.5L || (rest == 0.5L && units % 2 == 1)) ++units;
    std::array<char, 6> digits = {'0', '.', '0', '0', '0', '0'};
    digits[0] = static_cast<char>('0' + units / 10000);  // 1 only for 1.0000
    for (size_t i = 5; i >= 2; --i, units /= 10) digits[i] = static_cast<char>('0' + units % 10);
    out.append(digits.data(), digits.size());
    return;
  }
  std::array<char, 32> buf{};
  auto [end, ec] =
      std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::fixed, 4);
  if (ec == std::errc()) {
    out.append(buf.data(), end);
  } else {
    out += '?';
  }
}

bool Has(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string Join(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& item : list) out += (out.empty() ? "" : ", ") + item;
  return "[" + out + "]";
}

// The estimate per 1K tokens of this request exceeds `limit` (exact: no division).
bool DearerPer1k(const Candidate& c, const Features& f, core::Money limit) {
  const int64_t tokens = f.prompt_tokens + f.expected_output_tokens;
  if (tokens <= 0) return false;
  return static_cast<Wide>(c.estimated_cost.pico()) * 1000 >
         static_cast<Wide>(limit.pico()) * tokens;
}

std::string Per1k(const Candidate& c, const Features& f) {
  const int64_t tokens = std::max<int64_t>(1, f.prompt_tokens + f.expected_output_tokens);
  const Wide pico = static_cast<Wide>(c.estimated_cost.pico()) * 1000 / tokens;
  return core::Money::FromPico(static_cast<int64_t>(pico)).ToString();
}

// Where a placement limit comes from, for the reasons: the routing section, or a rule.
enum class LimitSource { kRoutingSection, kRule };

// Why `provider` is outside the limits, or "" when it is inside.
std::pair<std::string_view, std::string> Outside(const config::ProviderConfig& provider,
                                                 const std::vector<std::string>& regions,
                                                 const std::vector<std::string>& residency,
                                                 LimitSource source) {
  const bool section = source == LimitSource::kRoutingSection;
  if (!regions.empty() && !Has(regions, provider.region)) {
    return {"region", "region " + provider.region + " not in " +
                          (section ? "routing.allowed_regions " : "") + Join(regions)};
  }
  for (const std::string& tag : residency) {
    if (!Has(provider.residency, tag)) {
      return {"residency", "provider " + provider.name + " lacks residency " + tag +
                               (section ? " (routing.required_residency)" : "")};
    }
  }
  return {"", ""};
}

// Drops the deployments whose provider is outside `regions` or lacks a `residency` tag; the
// candidate goes when none is left, with the reason of the last one dropped. Returns false when
// it went.
bool CheckPlacement(Candidate& c, const std::vector<std::string>& regions,
                    const std::vector<std::string>& residency, LimitSource source) {
  if (regions.empty() && residency.empty()) return true;
  std::pair<std::string_view, std::string> last;
  bool any = false;
  for (DeploymentChoice& choice : c.deployments) {
    if (!choice.kept) continue;
    auto outside = Outside(*choice.deployment->provider, regions, residency, source);
    if (outside.first.empty()) {
      any = true;
      continue;
    }
    choice.kept = false;
    choice.reason = outside.second;
    last = std::move(outside);
  }
  if (last.first.empty()) return true;
  if (any) {
    PriceAtKeptDeployments(c);  // a deployment it can no longer go to no longer prices it
    return true;
  }
  if (c.deployments.size() > 1) last.second = "every deployment: " + last.second;
  Drop(c, last.first, std::move(last.second));
  return false;
}

// The constraints every route obeys. Returns false (and drops `c`) at the first that fails.
bool CheckRequest(Candidate& c, const RouteRequest& request, const config::RoutingConfig& r) {
  const ModelConfig& m = *c.model;
  const Features& f = request.features;
  const Tokens t = TokensFor(f, m, r);
  const int64_t window = m.context_window > 0 ? m.context_window : r.assumed_context_window;
  // In 128 bits: max_output is the client's own figure, up to int64's largest.
  if (window > 0 && Wide{t.prompt} + t.max_output > window) {
    Drop(c, "context_window",
         "context window " + std::to_string(window) + (m.context_window > 0 ? "" : " (assumed)") +
             " < ~" + std::to_string(t.prompt) + " prompt + " + std::to_string(t.max_output) +
             " output tokens");
    return false;
  }
  const std::pair<bool, std::string_view> needs[] = {
      {f.tools, "tools"}, {f.json_schema, "json_schema"}, {f.images > 0, "vision"}};
  for (const auto& [needed, capability] : needs) {
    if (needed && !Has(m.capabilities, capability)) {
      Drop(c, "capability", "lacks capability " + std::string(capability));
      return false;
    }
  }
  if (!CheckPlacement(c, r.allowed_regions, r.required_residency, LimitSource::kRoutingSection)) {
    return false;
  }
  if (request.max_cost && c.worst_case_cost > *request.max_cost) {
    Drop(c, "max_cost_usd",
         "worst case " + c.worst_case_cost.ToString() + " USD > x-switchyard-max-cost-usd " +
             request.max_cost->ToString());
    return false;
  }
  return true;
}

bool CheckPer1k(Candidate& c, const Features& f, const std::optional<core::Money>& limit) {
  if (!limit || !DearerPer1k(c, f, *limit)) return true;
  Drop(c, "max_cost_per_1k",
       Per1k(c, f) + " USD per 1K tokens > max_cost_per_1k " + limit->ToString());
  return false;
}

std::optional<double> ScoreFor(const ModelConfig& m, TaskType type) {
  const std::string_view name = TaskTypeName(type);
  for (const auto& [task, score] : m.quality.scores) {
    if (task == name) return score;
  }
  return std::nullopt;
}

// The rule's own `cheapest` constraints on one catalog model.
bool CheckSpec(Candidate& c, const Rule& rule, const Features& f) {
  const config::CheapestSpec& spec = *rule.cheapest;
  const ModelConfig& m = *c.model;
  const auto& tiers = config::kTiers;
  const auto tier = static_cast<int>(std::find(tiers.begin(), tiers.end(), m.tier) - tiers.begin());
  if (rule.min_tier_rank >= 0 && tier > rule.min_tier_rank) {
    Drop(c, "min_tier", "tier " + m.tier + " below min_tier " + spec.min_tier);
    return false;
  }
  if (spec.min_quality) {
    const auto score = ScoreFor(m, f.task_type);
    if (!score || *score < *spec.min_quality) {
      Drop(c, "min_quality",
           (score ? "quality " + core::ShortestText(*score) : std::string("no quality figure")) +
               " for " + std::string(TaskTypeName(f.task_type)) + " (min_quality " +
               core::ShortestText(*spec.min_quality) + ")");
      return false;
    }
  }
  const auto& rate = m.quality.hallucination_rate;
  const bool by_rate = spec.rank_by == "hallucination_rate";
  if ((spec.max_hallucination_rate || by_rate) && !rate) {
    Drop(c, "hallucination_rate", "no hallucination rate figure");
    return false;
  }
  if (spec.max_hallucination_rate && *rate > *spec.max_hallucination_rate) {
    Drop(c, "hallucination_rate",
         "hallucination rate " + core::ShortestText(*rate) + " > " +
             core::ShortestText(*spec.max_hallucination_rate));
    return false;
  }
  for (const std::string& capability : spec.capabilities) {
    if (!Has(m.capabilities, capability)) {
      Drop(c, "capability", "lacks capability " + capability + " (rule " + rule.name + ")");
      return false;
    }
  }
  if (!CheckPlacement(c, spec.regions, spec.residency, LimitSource::kRule)) return false;
  return true;
}

// The candidates of `steps` in order, appended to `out`, each kept one's reason "<label> step N
// (alias A)".
void StepCandidates(const std::vector<Step>& steps, std::string_view label,
                    const RouteRequest& request, const catalog::Catalog& catalog,
                    const config::RoutingConfig& r, const Now& now, std::vector<Candidate>& out) {
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& step = steps[i];
    Candidate c = Estimate(*step.model, request.features, catalog, r, now);
    // Placement first: the price per 1K is the deployments' the request may still go to.
    if (CheckRequest(c, request, r) && CheckPer1k(c, request.features, step.max_cost_per_1k)) {
      // Written into one buffer: the + chain made a temporary and a regrowth per piece.
      c.reason.reserve(label.size() + 16 + step.via.size());
      c.reason.append(label).append(" step ").append(std::to_string(i + 1));
      if (!step.via.empty()) c.reason.append(" (alias ").append(step.via).append(")");
    }
    out.push_back(std::move(c));
  }
}

std::vector<Candidate> ChainCandidates(const Rule& rule, const RouteRequest& request,
                                       const catalog::Catalog& catalog,
                                       const config::RoutingConfig& r, const Now& now) {
  std::vector<Candidate> out;
  out.reserve(rule.chain.size());
  StepCandidates(rule.chain, "chain", request, catalog, r, now, out);
  return out;
}

// A router rule: the side the prompt's score picks, then the other as its failover. A model on
// both sides keeps its first place ("duplicate" drops the second).
std::vector<Candidate> RouterCandidates(const RouterRule& rule, const RouterVerdict& verdict,
                                        const RouteRequest& request,
                                        const catalog::Catalog& catalog,
                                        const config::RoutingConfig& r, const Now& now) {
  const auto& first = verdict.strong ? rule.strong : rule.weak;
  const auto& second = verdict.strong ? rule.weak : rule.strong;
  std::vector<Candidate> out;
  out.reserve(first.size() + second.size());
  StepCandidates(first, verdict.strong ? "router strong" : "router weak", request, catalog, r, now,
                 out);
  StepCandidates(second, std::string("router fallback ") + (verdict.strong ? "weak" : "strong"),
                 request, catalog, r, now, out);
  for (size_t i = first.size(); i < out.size(); ++i) {
    const bool seen = std::any_of(out.begin(), out.begin() + static_cast<ptrdiff_t>(first.size()),
                                  [&](const Candidate& c) { return c.model == out[i].model; });
    if (seen && out[i].kept) Drop(out[i], "duplicate", "already tried as the router's choice");
  }
  return out;
}

RouterVerdict Judge(const RouterRule& rule, const RouteRequest& request) {
  RouterVerdict v;
  v.threshold = rule.ThresholdInForce();
  if (request.prompt) {
    v.score = rule.model->Score(*request.prompt, static_cast<int>(request.features.task_type));
  }
  v.strong = v.score >= v.threshold;
  return v;
}

std::vector<Candidate> CheapestCandidates(const Rule& rule, const RouteRequest& request,
                                          const catalog::Catalog& catalog,
                                          const config::RoutingConfig& r, const Now& now) {
  const config::CheapestSpec& spec = *rule.cheapest;
  const Features& f = request.features;
  std::vector<Candidate> out;
  out.reserve(catalog.config().models.size());
  for (const ModelConfig& m : catalog.config().models) {
    Candidate c = Estimate(m, f, catalog, r, now);
    if (CheckSpec(c, rule, f) && CheckRequest(c, request, r)) {
      CheckPer1k(c, f, spec.max_cost_per_1k);
    }
    out.push_back(std::move(c));
  }
  const bool by_rate = spec.rank_by == "hallucination_rate";
  std::stable_sort(out.begin(), out.end(), [&](const Candidate& a, const Candidate& b) {
    if (a.kept != b.kept) return a.kept;
    if (by_rate && a.kept) {
      const double ra = *a.model->quality.hallucination_rate;
      const double rb = *b.model->quality.hallucination_rate;
      if (ra != rb) return ra < rb;
    }
    return a.kept && a.estimated_cost < b.estimated_cost;
  });
  const std::string order = by_rate ? "by hallucination rate" : "by estimated cost";
  int rank = 0;
  for (Candidate& c : out) {
    if (!c.kept) continue;
    if (++rank > spec.top) {
      Drop(c, "top", "not in the top " + std::to_string(spec.top) + " " + order);
    } else {
      c.reason = "cheapest #" + std::to_string(rank) + " " + order;
    }
  }
  return out;
}

std::vector<Candidate> RouteCandidates(const catalog::Route& route, const RouteRequest& request,
                                       const catalog::Catalog& catalog,
                                       const config::RoutingConfig& r, const Now& now) {
  std::vector<Candidate> out;
  out.reserve(route.candidates.size());
  for (size_t i = 0; i < route.candidates.size(); ++i) {
    Candidate c = Estimate(*route.candidates[i], request.features, catalog, r, now);
    if (CheckRequest(c, request, r)) {
      c.reason = route.alias ? route.rule + ", #" + std::to_string(i + 1) : "the model asked for";
    }
    out.push_back(std::move(c));
  }
  return out;
}

const Rule& FirstMatch(const Profile& profile, const RouteRequest& request) {
  for (const Rule& rule : profile.rules) {
    if (!rule.when || Matches(*rule.when, request.features, request.tags)) return rule;
  }
  return profile.rules.back();  // never reached: the last rule has no `when`
}

// What health says of a kept candidate's deployments: those whose breaker is open are marked
// (the chain skips them), and the candidate drops ("circuit_open") when every one is; it is
// marked cooling when every deployment left is cooling down after a retry-after.
void ApplyHealth(Candidate& c, const Health& health, const Now& now) {
  bool open_only = true;
  bool cooling_only = true;
  std::optional<SteadyTime> cool_until;
  for (DeploymentChoice& choice : c.deployments) {
    if (!choice.kept) continue;
    const size_t slot = choice.deployment->slot;
    if (health.Blocked(slot, now.steady)) {
      choice.blocked = true;
      choice.reason = "circuit open";
      continue;
    }
    open_only = false;
    auto until = health.CooldownUntil(slot, now.steady);
    if (!until) {
      cooling_only = false;
    } else if (!cool_until || *until < *cool_until) {
      cool_until = until;
    }
  }
  if (open_only) {
    Drop(c, "circuit_open",
         c.deployments.size() > 1 ? "every deployment's circuit breaker is open"
                                  : "circuit breaker open after repeated upstream failures");
    return;
  }
  if (cooling_only && cool_until) {
    const auto left = std::chrono::ceil<std::chrono::seconds>(*cool_until - now.steady);
    c.reason += "; cooling down for " + std::to_string(left.count()) +
                " s: skipped while another candidate remains";
    c.cooling = true;
  }
}

// Kept candidates first, in order, then the dropped ones. A kept model still cooling down keeps
// its place: the chain skips it while another candidate remains, and records the skip.
void Order(std::vector<Candidate>& candidates, const Health& health, const Now& now) {
  for (Candidate& c : candidates) {
    if (c.kept) ApplyHealth(c, health, now);
  }
  std::stable_partition(candidates.begin(), candidates.end(),
                        [](const Candidate& c) { return c.kept; });
}

template <typename T>
bool InRange(const std::optional<T>& lo, const std::optional<T>& hi, int64_t value) {
  return (!lo || value >= *lo) && (!hi || value <= *hi);
}

}  // namespace

Health HealthFor(const catalog::Catalog& catalog) {
  std::vector<std::string> keys;
  for (const catalog::Deployment* d : catalog.deployments()) keys.push_back(d->key);
  return Health(std::move(keys), catalog.config().health.breaker,
                catalog.config().failover.max_cooldown, catalog.config().failover.total_deadline);
}

core::Result<Target> Resolve(std::string_view model, const Policy& policy,
                             const catalog::Catalog& catalog) {
  if (config::NamesRoutingProfile(model)) {
    if (const Profile* profile = policy.FindProfile(model)) return Target{profile, nullptr};
    const std::string names = policy.ProfileNames();
    auto e = core::MakeError(
        core::Errc::kNotFound,
        "The routing profile '" + core::ClipForEcho(model) + "' does not exist. " +
            (names.empty() ? std::string("No routing profiles are configured (routing.profiles).")
                           : "Profiles: " + names + "."));
    e.param = "model";
    return e;
  }
  auto route = catalog.Resolve(model);
  if (!route) return std::move(route).error();
  return Target{nullptr, *route};
}

bool Matches(const Match& match, const Features& f, const std::vector<std::string>& tags) {
  const config::RuleMatch& m = match.conditions;
  if (match.task_types.any() && !match.task_types.test(static_cast<size_t>(f.task_type))) {
    return false;
  }
  const std::pair<const std::optional<bool>&, bool> flags[] = {
      {m.tools, f.tools}, {m.tool_results, f.tool_results}, {m.json_output, f.json_output},
      {m.code, f.code},   {m.context, f.context},           {m.images, f.images > 0}};
  for (const auto& [want, have] : flags) {
    if (want && *want != have) return false;
  }
  if (!m.languages.empty() && !Has(m.languages, f.language)) return false;
  if (!InRange(m.min_prompt_tokens, m.max_prompt_tokens, f.prompt_tokens)) return false;
  if (!InRange(m.min_output_tokens, m.max_output_tokens, f.expected_output_tokens)) return false;
  if (!InRange(m.min_depth, m.max_depth, f.depth)) return false;
  for (const std::string& tag : m.tags) {
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) return false;
  }
  return true;
}

Decision Decide(const Target& target, const RouteRequest& request, const Policy& policy,
                const catalog::Catalog& catalog, const Health& health, const Now& now) {
  Decision d;
  d.features = request.features;
  const config::RoutingConfig& r = policy.config();
  if (target.profile) {
    d.profile = target.profile->name;
    const Rule& rule = FirstMatch(*target.profile, request);
    d.rule = rule.name;
    d.matched = &rule;
    if (rule.router) {
      d.router = Judge(*rule.router, request);
      d.candidates = RouterCandidates(*rule.router, *d.router, request, catalog, r, now);
    } else if (rule.cheapest) {
      d.candidates = CheapestCandidates(rule, request, catalog, r, now);
    } else {
      d.candidates = ChainCandidates(rule, request, catalog, r, now);
    }
  } else {
    d.rule = target.route->rule;
    d.candidates = RouteCandidates(*target.route, request, catalog, r, now);
  }
  d.max_cost = request.max_cost;
  Order(d.candidates, health, now);
  d.kept = static_cast<size_t>(std::count_if(d.candidates.begin(), d.candidates.end(),
                                             [](const Candidate& c) { return c.kept; }));
  return d;
}

core::Error NoCandidateError(const Decision& d) {
  // Name what the client can change first (its ceiling, its prompt, what it asks for), then
  // the deployment's limits; the rule's own constraints only when nothing else dropped a model.
  static constexpr std::string_view kByPriority[] = {
      "circuit_open", "max_cost_usd", "context_window", "capability",
      "region",       "residency",    "max_cost_per_1k"};
  const Candidate* named = &d.candidates.back();
  for (std::string_view constraint : kByPriority) {
    const auto it = std::find_if(d.candidates.rbegin(), d.candidates.rend(),
                                 [&](const Candidate& c) { return c.constraint == constraint; });
    if (it != d.candidates.rend()) {
      named = &*it;
      break;
    }
  }
  if (named->constraint == "context_window") {  // the largest window says how far off it was
    for (const Candidate& c : d.candidates) {
      if (c.constraint == "context_window" &&
          c.model->context_window > named->model->context_window) {
        named = &c;
      }
    }
  }
  if (named->constraint == "circuit_open") {
    // Not the client's doing: the models it could use are failing upstream right now.
    return core::MakeError(core::Errc::kUpstreamUnavailable,
                           "every model the route allows is unavailable: its circuit breaker "
                           "opened after repeated upstream failures (GET /v1/route/health); "
                           "for example " +
                               named->model->id);
  }
  std::string message;
  std::string param = "model";
  if (named->constraint == "max_cost_usd") {
    for (const Candidate& c : d.candidates) {
      if (c.constraint == "max_cost_usd" && c.worst_case_cost < named->worst_case_cost) named = &c;
    }
    message = "no model satisfies x-switchyard-max-cost-usd=" + d.max_cost->ToString() +
              ": cheapest candidate " + named->model->id + " estimated " +
              named->worst_case_cost.ToString();
    param = "x-switchyard-max-cost-usd";
  } else {
    message = "no model satisfies " + std::string(named->constraint) + ": " + named->model->id +
              ": " + named->reason;
  }
  auto e = core::MakeError(core::Errc::kInvalidRequest, message);
  e.param = param;
  return e;
}

std::string RouteHeader(const Decision& d) {
  std::string out = "profile=";
  out += d.profile.empty() ? std::string_view("none") : d.profile;
  out += "; rule=";
  out += d.rule;
  out += "; task=";
  out += TaskTypeName(d.features.task_type);
  if (d.router) {
    out += "; router=";
    AppendRouterVerdict(out, *d.router);
  }
  return out;
}

namespace {

ShareCalibrator* LiveCalibration(const Decision& d) {
  if (!d.router || d.matched == nullptr || !d.matched->router) return nullptr;
  return d.matched->router->live.get();
}

}  // namespace

void ObserveRouterScore(const Decision& d) {
  if (ShareCalibrator* live = LiveCalibration(d)) live->Observe(d.router->score);
}

void ObserveRouterUsage(const Decision& d, const core::Usage& usage) {
  if (ShareCalibrator* live = LiveCalibration(d)) live->ObserveUsage(usage);
}

std::string RouterVerdictText(const RouterVerdict& v) {
  std::string out;
  AppendRouterVerdict(out, v);
  return out;
}

void AppendRouterVerdict(std::string& out, const RouterVerdict& v) {
  AppendFourDecimals(out, v.score);
  out += v.strong ? ">=" : "<";
  AppendFourDecimals(out, v.threshold);
  out += v.strong ? " strong" : " weak";
}

}  // namespace sy::routing
