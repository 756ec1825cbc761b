#include "routing/policy.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <utility>

#include "routing/router_model.h"

namespace sy::routing {
namespace {

// Config validates the names rules and quality scores use; they must be the classifier's.
static_assert(kTaskTypeNames == config::kTaskTypes);

core::Error BadReference(const std::string& path, std::string_view what) {
  auto e = core::MakeError(core::Errc::kInvalidRequest, path + ": " + std::string(what));
  e.param = path;
  return e;
}

// A chain's steps with aliases expanded; a model already in the chain keeps its first place.
core::Result<std::vector<Step>> CompileChain(const std::vector<config::ChainStep>& steps,
                                             const catalog::Catalog& catalog,
                                             const std::string& path) {
  std::vector<Step> chain;
  for (size_t i = 0; i < steps.size(); ++i) {
    const config::ChainStep& step = steps[i];
    auto route = catalog.Resolve(step.target);
    if (!route) {
      return BadReference(path + "[" + std::to_string(i) + "]",
                          "unknown model or alias \"" + step.target + "\"");
    }
    const std::string via = (*route)->alias ? step.target : std::string();
    for (const config::ModelConfig* model : (*route)->candidates) {
      const bool seen =
          std::any_of(chain.begin(), chain.end(), [&](const Step& s) { return s.model == model; });
      if (!seen) chain.push_back(Step{model, step.max_cost_per_1k, via});
    }
  }
  return chain;
}

// A rule's `verify` list as checks; a regex compiles here, once.
core::Result<std::vector<verify::Check>> CompileChecks(
    const std::vector<config::VerifyCheckConfig>& configs, const std::string& path) {
  std::vector<verify::Check> out;
  for (size_t i = 0; i < configs.size(); ++i) {
    const config::VerifyCheckConfig& c = configs[i];
    const std::string item = path + "[" + std::to_string(i) + "]";
    if (c.name == "regex") {
      auto check = verify::RegexCheck(c.pattern);
      if (!check) {
        return core::MakeError(core::Errc::kInvalidRequest,
                               item + ".regex: " + check.error().message);
      }
      out.push_back(std::move(*check));
      continue;
    }
    const auto kind = verify::ParseCheckName(c.name);
    if (!kind) return core::MakeError(core::Errc::kInvalidRequest, item + ": unknown check");
    verify::Check check;
    check.kind = *kind;
    if (c.min_support) check.min_support = *c.min_support;
    out.push_back(std::move(check));
  }
  return out;
}

// The schedule's standard list alone, without its time windows.
config::PriceSchedule StandardOnly(const config::PriceSchedule& schedule) {
  config::PriceSchedule standard;
  standard.standard = schedule.standard;
  return standard;
}

// The price of the model's dearest deployment for `usage` at the standard lists: any deployment
// may serve a request, and routing prices a candidate the same way (decide.cpp's Estimate), so
// that a deployment priced above the model's list cannot spend past the budget.
const config::PriceSchedule* DearestPrice(const catalog::Catalog& catalog,
                                          const config::ModelConfig& model,
                                          const core::Usage& usage) {
  const config::PriceSchedule* dearest = nullptr;  // a model has at least one deployment
  core::Money most;
  for (const catalog::Deployment& d : catalog.DeploymentsOf(model)) {
    const core::Money cost = catalog::ComputeCost(StandardOnly(*d.price), usage, {}).total;
    if (!dearest || cost > most) {
      dearest = d.price;
      most = cost;
    }
  }
  return dearest;
}

// A budget per 1,000 requests, priced at each side's first model (its dearest deployment) for
// the start's estimate of a request: the model file's mean prompt length and the rule's expected
// output.
ShareCalibrator::Budget StartBudget(const RouterRule& rule, const catalog::Catalog& catalog,
                                    core::Money per_1k, int64_t output_tokens) {
  ShareCalibrator::Budget budget;
  budget.per_1k = per_1k;
  budget.usage.input_tokens = static_cast<int64_t>(rule.model->metadata().mean_prompt_tokens + 0.5);
  budget.usage.output_tokens = output_tokens;
  budget.strong = DearestPrice(catalog, *rule.strong.front().model, budget.usage);
  budget.weak = DearestPrice(catalog, *rule.weak.front().model, budget.usage);
  return budget;
}

// The strong share that spends `budget` with both sides at their standard lists. Not at the
// prices in force at start: a time window (DeepSeek's off-peak) would make the threshold depend
// on the minute a replica started, and hold it all day. `calibration: live` prices each request
// served at its own time instead.
double StandardShare(const ShareCalibrator::Budget& budget) {
  const config::PriceSchedule strong = StandardOnly(*budget.strong);
  const config::PriceSchedule weak = StandardOnly(*budget.weak);
  ShareCalibrator::Budget standard = budget;
  standard.strong = &strong;
  standard.weak = &weak;
  return ShareCalibrator::SpendAt(standard, standard.usage, {}).share;
}

// The model files the rules name, each read (and checksummed) once however many rules share it.
using LoadedModels = std::map<std::string, std::shared_ptr<const router::Model>>;

core::Result<RouterRule> CompileRouter(const config::RouterSpec& spec,
                                       const catalog::Catalog& catalog, const std::string& path,
                                       LoadedModels& loaded) {
  RouterRule rule;
  auto& model = loaded[spec.model];
  if (!model) {
    auto read = LoadRouterModel(spec.model);
    if (!read) return BadReference(path + ".model", read.error().message);
    model = std::move(*read);
  }
  rule.model = model;
  auto strong = CompileChain({config::ChainStep{spec.strong, {}}}, catalog, path + ".strong");
  if (!strong) return std::move(strong).error();
  auto weak = CompileChain({config::ChainStep{spec.weak, {}}}, catalog, path + ".weak");
  if (!weak) return std::move(weak).error();
  rule.strong = std::move(*strong);
  rule.weak = std::move(*weak);
  char text[160];
  double share = 0;  // what a calibration holds; unused for a given threshold
  std::optional<ShareCalibrator::Budget> budget;
  if (spec.threshold) {
    rule.threshold = *spec.threshold;
    std::snprintf(text, sizeof text, "threshold %.4f", rule.threshold);
    rule.calibration = text;
  } else if (spec.target_strong_share) {
    share = *spec.target_strong_share;
    std::snprintf(text, sizeof text, "target_strong_share %.4f", share);
    rule.calibration = text;
  } else if (spec.budget_usd_per_1k_requests) {
    // The share whose mix of the two sides' request costs spends the budget (0 when even the
    // weak side alone does not fit, 1 when the strong side alone does).
    const core::Money per_1k = *spec.budget_usd_per_1k_requests;
    budget = StartBudget(rule, catalog, per_1k, spec.expected_output_tokens);
    share = StandardShare(*budget);
    std::snprintf(text, sizeof text, "budget_usd_per_1k_requests %s: strong share %.4f",
                  per_1k.ToString().c_str(), share);
    rule.calibration = text;
  }
  const bool calibrated = spec.target_strong_share || spec.budget_usd_per_1k_requests;
  if (calibrated) rule.threshold = rule.model->ThresholdForShare(share);
  if (calibrated && spec.calibration == "live") {
    rule.live =
        std::make_shared<ShareCalibrator>(share, rule.threshold, spec.calibration_window, budget);
    rule.calibration += ", held live over " + std::to_string(spec.calibration_window) + " requests";
  }
  return rule;
}

core::Result<Rule> CompileRule(const config::RuleConfig& config, const catalog::Catalog& catalog,
                               const std::string& path, LoadedModels& loaded) {
  Rule rule;
  rule.name = config.name;
  if (config.when) {
    Match match;
    match.conditions = *config.when;
    for (const std::string& name : config.when->task_types) {
      auto type = ParseTaskType(name);
      if (!type) return BadReference(path + ".when.task", "unknown task type \"" + name + "\"");
      match.task_types.set(static_cast<size_t>(*type));
    }
    rule.when = std::move(match);
  }
  auto chain = CompileChain(config.chain, catalog, path + ".chain");
  if (!chain) return std::move(chain).error();
  rule.chain = std::move(*chain);
  rule.cheapest = config.cheapest;
  if (config.router) {
    auto compiled = CompileRouter(*config.router, catalog, path + ".router", loaded);
    if (!compiled) return std::move(compiled).error();
    rule.router = std::move(*compiled);
  }
  auto checks = CompileChecks(config.verify, path + ".verify");
  if (!checks) return std::move(checks).error();
  rule.verify = std::move(*checks);
  rule.return_last = config.on_exhausted == "return_last";
  rule.record_only = config.verify_mode == "record";
  if (config.cache) {
    rule.cache_ttl = std::chrono::seconds(config.cache->ttl_s);
    rule.cache_per_key = config.cache->scope == "key";
  }
  rule.shadow = config.shadow;
  if (config.cheapest && !config.cheapest->min_tier.empty()) {
    const auto& tiers = config::kTiers;
    const auto it = std::find(tiers.begin(), tiers.end(), config.cheapest->min_tier);
    if (it == tiers.end()) return BadReference(path + ".cheapest.min_tier", "unknown tier");
    rule.min_tier_rank = static_cast<int>(it - tiers.begin());
  }
  return rule;
}

}  // namespace

core::Result<Policy> Policy::Build(const catalog::Catalog& catalog) {
  Policy policy;
  policy.config_ = &catalog.config().routing;
  LoadedModels loaded;
  for (const config::ProfileConfig& config : policy.config_->profiles) {
    Profile profile;
    profile.name = config.name;
    const std::string path = "routing.profiles." + config.name + ".rules";
    for (size_t i = 0; i < config.rules.size(); ++i) {
      auto rule =
          CompileRule(config.rules[i], catalog, path + "[" + std::to_string(i) + "]", loaded);
      if (!rule) return std::move(rule).error();
      profile.rules.push_back(std::move(*rule));
    }
    if (profile.rules.empty() || profile.rules.back().when) {
      return BadReference(path,
                          "the profile has no default rule (the last rule must have no "
                          "`when`)");
    }
    policy.profiles_.push_back(std::move(profile));
  }
  return policy;
}

const Profile* Policy::FindProfile(std::string_view model) const {
  if (!config::NamesRoutingProfile(model)) return nullptr;
  const std::string_view name = model == "auto" ? model : model.substr(5);
  for (const Profile& profile : profiles_) {
    if (profile.name == name) return &profile;
  }
  return nullptr;
}

std::string Policy::ProfileNames() const {
  std::string names;
  for (const Profile& profile : profiles_) {
    if (!names.empty()) names += ", ";
    names += profile.name == "auto" ? "auto" : "auto:" + profile.name;
  }
  return names;
}

}  // namespace sy::routing
