// The routing section: profiles of rules (docs/routing.md). Shape and scalar syntax are checked
// here; names, references and the default rule in validate_routing.cpp.
#include <string>
#include <utility>

#include "config/detail/sections.h"

namespace sy::config::detail {
namespace {

// A chain step: "model-or-alias" or {model: ..., max_cost_per_1k: "0.002"}.
core::Status ReadStep(const YAML::Node& node, const std::string& path, EnvLookup env,
                      ChainStep& out) {
  if (node.IsScalar()) {
    auto value = SubstituteEnv(node.Scalar(), path, env);
    if (!value) return std::move(value).error();
    out.target = std::move(*value);
    return {};
  }
  MapReader r(node, path, {"model", "max_cost_per_1k"}, env);
  r.String("model", out.target, Need::kRequired);
  r.Usd("max_cost_per_1k", out.max_cost_per_1k);
  return r.status();
}

void ReadMatch(MapReader& rule, RuleMatch& out) {
  rule.Map("when",
           {"task", "tools", "tool_results", "json_output", "code", "context", "images", "language",
            "min_prompt_tokens", "max_prompt_tokens", "min_output_tokens", "max_output_tokens",
            "min_depth", "max_depth", "tags"},
           [&](MapReader& r) {
             r.StringList("task", out.task_types);
             r.Bool("tools", out.tools);
             r.Bool("tool_results", out.tool_results);
             r.Bool("json_output", out.json_output);
             r.Bool("code", out.code);
             r.Bool("context", out.context);
             r.Bool("images", out.images);
             r.StringList("language", out.languages);
             r.Int("min_prompt_tokens", out.min_prompt_tokens);
             r.Int("max_prompt_tokens", out.max_prompt_tokens);
             r.Int("min_output_tokens", out.min_output_tokens);
             r.Int("max_output_tokens", out.max_output_tokens);
             r.Int("min_depth", out.min_depth);
             r.Int("max_depth", out.max_depth);
             r.StringList("tags", out.tags);
           });
}

void ReadCheapest(MapReader& rule, CheapestSpec& out) {
  rule.Map("cheapest",
           {"min_tier", "min_quality", "max_hallucination_rate", "capabilities", "regions",
            "residency", "max_cost_per_1k", "rank_by", "top"},
           [&](MapReader& r) {
             r.String("min_tier", out.min_tier);
             r.Fraction("min_quality", out.min_quality);
             r.Fraction("max_hallucination_rate", out.max_hallucination_rate);
             r.StringList("capabilities", out.capabilities);
             r.StringList("regions", out.regions);
             r.StringList("residency", out.residency);
             r.Usd("max_cost_per_1k", out.max_cost_per_1k);
             r.String("rank_by", out.rank_by);
             r.Int("top", out.top);
           });
}

void ReadRouter(MapReader& rule, RouterSpec& out) {
  rule.Map(
      "router",
      {"model", "strong", "weak", "threshold", "target_strong_share", "budget_usd_per_1k_requests",
       "expected_output_tokens", "calibration", "calibration_window"},
      [&](MapReader& r) {
        r.String("model", out.model, Need::kRequired);
        r.String("strong", out.strong, Need::kRequired);
        r.String("weak", out.weak, Need::kRequired);
        r.Fraction("threshold", out.threshold);
        r.Fraction("target_strong_share", out.target_strong_share);
        r.Usd("budget_usd_per_1k_requests", out.budget_usd_per_1k_requests);
        r.Int("expected_output_tokens", out.expected_output_tokens);
        r.String("calibration", out.calibration);
        r.Int("calibration_window", out.calibration_window);
      });
}

// A verify check: "json_schema", {regex: "^\\{"} or {grounded: {min_support: 0.9}}.
core::Status ReadVerifyCheck(const YAML::Node& node, const std::string& path, EnvLookup env,
                             VerifyCheckConfig& out) {
  if (node.IsScalar()) {
    out.name = node.Scalar();
    return {};
  }
  if (!node.IsMap() || node.size() != 1) {
    return PathError(path,
                     "expected a check name, {regex: \"...\"} or {grounded: {min_support: x}}");
  }
  out.name = node.begin()->first.as<std::string>();
  MapReader r(node, path, {"regex", "grounded"}, env);
  if (out.name == "regex") {
    r.String("regex", out.pattern, Need::kRequired);
  } else if (out.name == "grounded") {
    if (!node["grounded"].IsNull()) {
      r.Map("grounded", {"min_support"},
            [&](MapReader& g) { g.Fraction("min_support", out.min_support); });
    }
  } else {
    return PathError(JoinPath(path, out.name), "only regex and grounded take settings");
  }
  return r.status();
}

core::Status ReadRule(const YAML::Node& node, const std::string& path, EnvLookup env,
                      RuleConfig& out) {
  MapReader r(node, path,
              {"name", "when", "chain", "cheapest", "router", "verify", "on_exhausted",
               "verify_mode", "cache", "shadow"},
              env);
  r.String("name", out.name, Need::kRequired);
  if (r.ok() && node["when"].IsDefined() && !node["when"].IsNull()) {
    out.when.emplace();
    ReadMatch(r, *out.when);
  }
  r.List("chain", [&](const YAML::Node& item, const std::string& item_path) {
    ChainStep step;
    auto status = ReadStep(item, item_path, env, step);
    if (status) out.chain.push_back(std::move(step));
    return status;
  });
  if (r.ok() && node["cheapest"].IsDefined()) {
    out.cheapest.emplace();
    ReadCheapest(r, *out.cheapest);
  }
  if (r.ok() && node["router"].IsDefined()) {
    out.router.emplace();
    ReadRouter(r, *out.router);
  }
  r.List("verify", [&](const YAML::Node& item, const std::string& item_path) {
    VerifyCheckConfig check;
    auto status = ReadVerifyCheck(item, item_path, env, check);
    if (status) out.verify.push_back(std::move(check));
    return status;
  });
  r.String("on_exhausted", out.on_exhausted);
  r.String("verify_mode", out.verify_mode);
  if (r.ok() && node["cache"].IsDefined() && !node["cache"].IsNull()) {
    out.cache.emplace();
    r.Map("cache", {"ttl_s", "scope"}, [&](MapReader& m) {
      m.Int("ttl_s", out.cache->ttl_s, Need::kRequired);
      m.String("scope", out.cache->scope);
    });
  }
  if (r.ok() && node["shadow"].IsDefined() && !node["shadow"].IsNull()) {
    out.shadow.emplace();
    r.Map("shadow", {"model", "sample"}, [&](MapReader& m) {
      m.String("model", out.shadow->model, Need::kRequired);
      m.Share("sample", out.shadow->sample_ppm);
    });
  }
  return r.status();
}

}  // namespace

void ReadRouting(MapReader& root, EnvLookup env, RoutingConfig& out) {
  root.Map(
      "routing",
      {"trust_task_header", "allowed_regions", "required_residency", "default_max_output_tokens",
       "assumed_context_window", "shadow_max_in_flight", "profiles"},
      [&](MapReader& r) {
        r.Bool("trust_task_header", out.trust_task_header);
        r.StringList("allowed_regions", out.allowed_regions);
        r.StringList("required_residency", out.required_residency);
        r.Int("default_max_output_tokens", out.default_max_output_tokens);
        r.Int("assumed_context_window", out.assumed_context_window);
        r.Int("shadow_max_in_flight", out.shadow_max_in_flight);
        r.Named("profiles",
                [&](const std::string& name, const YAML::Node& node,
                    const std::string& path) -> core::Status {
                  ProfileConfig profile;
                  profile.name = name;
                  MapReader p(node, path, {"rules"}, env);
                  p.List("rules", [&](const YAML::Node& item, const std::string& item_path) {
                    RuleConfig rule;
                    auto status = ReadRule(item, item_path, env, rule);
                    if (status) profile.rules.push_back(std::move(rule));
                    return status;
                  });
                  if (p.ok()) out.profiles.push_back(std::move(profile));
                  return p.status();
                });
      });
}

}  // namespace sy::config::detail
