// Whole-config checks of the routing section and of the models' quality figures: every name a
// rule uses (task types, models, aliases, capabilities, tiers) must exist, so a typo fails at
// start with its path instead of silently never matching.
#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/detail/checker.h"
#include "verify/verify.h"

namespace sy::config::detail {
namespace {

template <size_t N>
bool OneOf(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string TaskTypeList() {
  std::string list;
  for (auto name : kTaskTypes) list += (list.empty() ? "" : ", ") + std::string(name);
  return list;
}

void CheckTaskType(Checker& c, std::string_view path, std::string_view name) {
  if (!OneOf(kTaskTypes, name)) {
    c.Fail(path, "unknown task type " + Quote(name) + " (expected one of " + TaskTypeList() + ")");
  }
}

void CheckCapability(Checker& c, std::string_view path, std::string_view name) {
  if (!OneOf(kCapabilities, name)) {
    c.Fail(path, "unknown capability " + Quote(name) +
                     " (expected tools, json_schema, vision or reasoning)");
  }
}

void CheckNames(Checker& c, std::string_view path, const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) c.Fail(IndexPath(path, i), "must not be empty");
    for (size_t j = 0; j < i; ++j) {
      if (names[j] == names[i]) c.Fail(IndexPath(path, i), "duplicate " + Quote(names[i]));
    }
  }
}

void CheckQuality(Checker& c, const ModelConfig& m) {
  const std::string path = JoinPath(JoinPath(JoinPath("models", m.id), "quality"), "scores");
  for (size_t i = 0; i < m.quality.scores.size(); ++i) {
    const std::string& task = m.quality.scores[i].first;
    CheckTaskType(c, JoinPath(path, task), task);
  }
}

void CheckRange(Checker& c, std::string_view path, std::string_view lo_key, std::string_view hi_key,
                const std::optional<int64_t>& lo, const std::optional<int64_t>& hi) {
  constexpr int64_t kMax = 1'000'000'000;
  if (lo) c.Range(JoinPath(path, lo_key), *lo, 0, kMax);
  if (hi) c.Range(JoinPath(path, hi_key), *hi, 0, kMax);
  if (lo && hi && *lo > *hi) c.Fail(JoinPath(path, lo_key), "exceeds " + std::string(hi_key));
}

bool IsLanguage(std::string_view code) {
  return code == "other" || (code.size() == 2 && std::all_of(code.begin(), code.end(), [](char ch) {
                               return ch >= 'a' && ch <= 'z';
                             }));
}

void CheckMatch(Checker& c, std::string_view path, const RuleMatch& m) {
  const std::string task_path = JoinPath(path, "task");
  CheckNames(c, task_path, m.task_types);
  for (size_t i = 0; i < m.task_types.size(); ++i) {
    CheckTaskType(c, IndexPath(task_path, i), m.task_types[i]);
  }
  const std::string language_path = JoinPath(path, "language");
  CheckNames(c, language_path, m.languages);
  for (size_t i = 0; i < m.languages.size(); ++i) {
    if (!IsLanguage(m.languages[i])) {
      c.Fail(IndexPath(language_path, i),
             "expected a two-letter ISO 639-1 code or \"other\", got " + Quote(m.languages[i]));
    }
  }
  CheckNames(c, JoinPath(path, "tags"), m.tags);
  CheckRange(c, path, "min_prompt_tokens", "max_prompt_tokens", m.min_prompt_tokens,
             m.max_prompt_tokens);
  CheckRange(c, path, "min_output_tokens", "max_output_tokens", m.min_output_tokens,
             m.max_output_tokens);
  const auto widen = [](const std::optional<int>& v) -> std::optional<int64_t> {
    if (v) return *v;
    return std::nullopt;
  };
  CheckRange(c, path, "min_depth", "max_depth", widen(m.min_depth), widen(m.max_depth));
  const bool empty = m.task_types.empty() && !m.tools && !m.tool_results && !m.json_output &&
                     !m.code && !m.context && !m.images && m.languages.empty() &&
                     !m.min_prompt_tokens && !m.max_prompt_tokens && !m.min_output_tokens &&
                     !m.max_output_tokens && !m.min_depth && !m.max_depth && m.tags.empty();
  if (empty) c.Fail(path, "has no condition (leave `when` out for the default rule)");
}

void CheckCheapest(Checker& c, std::string_view path, const CheapestSpec& s) {
  if (!s.min_tier.empty() && !OneOf(kTiers, s.min_tier)) {
    c.Fail(JoinPath(path, "min_tier"),
           "unknown tier " + Quote(s.min_tier) + " (expected frontier, standard or economy)");
  }
  const std::string caps_path = JoinPath(path, "capabilities");
  CheckNames(c, caps_path, s.capabilities);
  for (size_t i = 0; i < s.capabilities.size(); ++i) {
    CheckCapability(c, IndexPath(caps_path, i), s.capabilities[i]);
  }
  CheckNames(c, JoinPath(path, "regions"), s.regions);
  CheckNames(c, JoinPath(path, "residency"), s.residency);
  if (s.rank_by != "cost" && s.rank_by != "hallucination_rate") {
    c.Fail(JoinPath(path, "rank_by"),
           "unknown ranking " + Quote(s.rank_by) + " (expected cost or hallucination_rate)");
  }
  c.Range(JoinPath(path, "top"), s.top, 1, 100);
}

bool IsTarget(const Config& config, std::string_view name) {
  return std::any_of(config.models.begin(), config.models.end(),
                     [&](const ModelConfig& m) { return m.id == name; }) ||
         std::any_of(config.aliases.begin(), config.aliases.end(),
                     [&](const AliasConfig& a) { return a.name == name; });
}

void CheckChain(Checker& c, const Config& config, std::string_view path,
                const std::vector<ChainStep>& chain) {
  for (size_t i = 0; i < chain.size(); ++i) {
    const std::string step_path = IndexPath(path, i);
    if (!IsTarget(config, chain[i].target)) {
      c.Fail(step_path, "unknown model or alias " + Quote(chain[i].target));
    }
    for (size_t j = 0; j < i; ++j) {
      if (chain[j].target == chain[i].target) {
        c.Fail(step_path, "duplicate step " + Quote(chain[i].target));
      }
    }
  }
}

// The model file itself is read when the policy is built (routing::Policy::Build), which names
// it on failure; here only the shape.
void CheckRouter(Checker& c, const Config& config, std::string_view path, const RouterSpec& r) {
  if (r.model.empty()) c.Fail(JoinPath(path, "model"), "must not be empty");
  for (const auto& [key, name] : {std::pair{"strong", &r.strong}, std::pair{"weak", &r.weak}}) {
    if (!IsTarget(config, *name)) {
      c.Fail(JoinPath(path, key), "unknown model or alias " + Quote(*name));
    }
  }
  if (r.strong == r.weak) c.Fail(JoinPath(path, "weak"), "must differ from `strong`");
  const int given = (r.threshold ? 1 : 0) + (r.target_strong_share ? 1 : 0) +
                    (r.budget_usd_per_1k_requests ? 1 : 0);
  if (given != 1) {
    c.Fail(path,
           "needs exactly one of `threshold`, `target_strong_share` and "
           "`budget_usd_per_1k_requests`");
  }
  c.Range(JoinPath(path, "expected_output_tokens"), r.expected_output_tokens, 1, 1'000'000);
  if (r.calibration != "training" && r.calibration != "live") {
    c.Fail(JoinPath(path, "calibration"),
           "must be \"training\" or \"live\", not " + Quote(r.calibration));
  } else if (r.calibration == "live" && r.threshold) {
    c.Fail(JoinPath(path, "calibration"),
           "\"live\" holds a share: give `target_strong_share` or `budget_usd_per_1k_requests`, "
           "not `threshold`");
  }
  c.Range(JoinPath(path, "calibration_window"), r.calibration_window, kMinCalibrationWindow,
          kMaxCalibrationWindow);
}

// A regex must compile here, at start, not on the first request that needs it: the check's
// own compiler decides.
void CheckRegex(Checker& c, const std::string& path, const std::string& pattern) {
  if (pattern.empty()) {
    c.Fail(path, "must not be empty");
    return;
  }
  if (auto check = verify::RegexCheck(pattern); !check) {
    c.Fail(path, "the regular expression does not compile: " + check.error().message);
  }
}

void CheckCache(Checker& c, const std::string& path, const RuleCacheConfig& cache) {
  c.Range(JoinPath(path, "ttl_s"), cache.ttl_s, 1, 30 * 86'400);
  if (cache.scope != "tenant" && cache.scope != "key") {
    c.Fail(JoinPath(path, "scope"),
           "unknown value " + Quote(cache.scope) + " (expected tenant or key)");
  }
}

void CheckVerify(Checker& c, const std::string& rule_path, const RuleConfig& rule) {
  const std::string path = JoinPath(rule_path, "verify");
  for (size_t i = 0; i < rule.verify.size(); ++i) {
    const VerifyCheckConfig& check = rule.verify[i];
    const std::string item = IndexPath(path, i);
    if (!verify::ParseCheckName(check.name)) {
      c.Fail(item, "unknown check " + Quote(check.name) +
                       " (expected json, json_schema, non_empty, no_refusal, regex, tool_call or "
                       "grounded)");
    } else if (check.name == "regex") {
      CheckRegex(c, JoinPath(item, "regex"), check.pattern);
    }
  }
  if (rule.on_exhausted != "error" && rule.on_exhausted != "return_last") {
    c.Fail(JoinPath(rule_path, "on_exhausted"),
           "unknown value " + Quote(rule.on_exhausted) + " (expected error or return_last)");
  }
  if (rule.verify_mode != "hold" && rule.verify_mode != "record") {
    c.Fail(JoinPath(rule_path, "verify_mode"),
           "unknown value " + Quote(rule.verify_mode) + " (expected hold or record)");
  }
  if (rule.cache) CheckCache(c, JoinPath(rule_path, "cache"), *rule.cache);
}

void CheckShadow(Checker& c, const Config& config, const std::string& rule_path,
                 const RuleShadowConfig& shadow) {
  const std::string path = JoinPath(rule_path, "shadow");
  if (!IsTarget(config, shadow.model)) {
    c.Fail(JoinPath(path, "model"), "unknown model or alias " + Quote(shadow.model));
  }
  if (shadow.sample_ppm <= 0) {
    c.Fail(JoinPath(path, "sample"), "must be a share above 0 and at most 1 (e.g. 0.1)");
  }
}

void CheckRule(Checker& c, const Config& config, const std::string& path, const RuleConfig& rule,
               bool last) {
  if (rule.name.empty()) c.Fail(JoinPath(path, "name"), "must not be empty");
  if (rule.when) CheckMatch(c, JoinPath(path, "when"), *rule.when);
  if (!rule.when && !last) {
    c.Fail(path, "rule " + Quote(rule.name) +
                     " has no `when`, so it matches everything and the rules after it are never "
                     "reached; put the default rule last");
  }
  const int actions =
      (rule.chain.empty() ? 0 : 1) + (rule.cheapest ? 1 : 0) + (rule.router ? 1 : 0);
  if (actions != 1) {
    c.Fail(path,
           "rule " + Quote(rule.name) + " needs exactly one of `chain`, `cheapest` and `router`");
  }
  CheckChain(c, config, JoinPath(path, "chain"), rule.chain);
  if (rule.cheapest) CheckCheapest(c, JoinPath(path, "cheapest"), *rule.cheapest);
  if (rule.router) CheckRouter(c, config, JoinPath(path, "router"), *rule.router);
  CheckVerify(c, path, rule);
  if (rule.shadow) CheckShadow(c, config, path, *rule.shadow);
}

void CheckProfile(Checker& c, const Config& config, const ProfileConfig& profile) {
  const std::string path = JoinPath("routing.profiles", profile.name);
  const bool plain = !profile.name.empty() && profile.name.size() <= 64 &&
                     std::all_of(profile.name.begin(), profile.name.end(), [](char ch) {
                       return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                              ch == '_' || ch == '.';
                     });
  if (!plain) {
    c.Fail(path, "invalid profile name " + Quote(profile.name) +
                     " (use 1 to 64 lower-case letters, digits and . _ -)");
  }
  const std::string rules_path = JoinPath(path, "rules");
  if (profile.rules.empty()) c.Fail(rules_path, "a profile needs at least one rule");
  for (size_t i = 0; i < profile.rules.size(); ++i) {
    const std::string rule_path = IndexPath(rules_path, i);
    CheckRule(c, config, rule_path, profile.rules[i], i + 1 == profile.rules.size());
    for (size_t j = 0; j < i; ++j) {
      if (profile.rules[j].name == profile.rules[i].name) {
        c.Fail(JoinPath(rule_path, "name"), "duplicate rule name " + Quote(profile.rules[i].name));
      }
    }
  }
  if (!profile.rules.empty() && profile.rules.back().when) {
    c.Fail(rules_path,
           "the profile has no default rule: the last rule must have no `when`, so "
           "every request finds a route");
  }
}

}  // namespace

void CheckRouting(Checker& c, const Config& config) {
  for (const ModelConfig& m : config.models) {
    CheckQuality(c, m);
    if (NamesRoutingProfile(m.id))
      c.Fail(JoinPath("models", m.id), "\"auto\" names routing profiles");
  }
  for (const AliasConfig& a : config.aliases) {
    if (NamesRoutingProfile(a.name))
      c.Fail(JoinPath("aliases", a.name), "\"auto\" names routing profiles");
  }
  const RoutingConfig& r = config.routing;
  c.Range("routing.default_max_output_tokens", r.default_max_output_tokens, 1, 1'000'000'000);
  c.Range("routing.assumed_context_window", r.assumed_context_window, 0, 1'000'000'000);
  c.Range("routing.shadow_max_in_flight", r.shadow_max_in_flight, 1, 100'000);
  CheckNames(c, "routing.allowed_regions", r.allowed_regions);
  CheckNames(c, "routing.required_residency", r.required_residency);
  for (const ProfileConfig& profile : r.profiles) CheckProfile(c, config, profile);
}

}  // namespace sy::config::detail
