// routing::Policy: the config's routing section compiled against the catalog once at start:
// names resolved to models, aliases expanded, task types to a bit set. Decide reads it.
//
// Thread-safety: immutable after Build, but for the live thresholds of `router` rules
// (ShareCalibrator, internally synchronised); share across threads.
// Lifetime: holds pointers into the catalog's config; the catalog must outlive it.
#pragma once

#include <bitset>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "config/config.h"
#include "core/money.h"
#include "core/result.h"
#include "router/router.h"
#include "routing/features.h"
#include "routing/share_calibrator.h"
#include "verify/verify.h"

namespace sy::routing {

struct Step {
  const config::ModelConfig* model = nullptr;
  std::optional<core::Money> max_cost_per_1k;
  std::string via;  // the alias the step named ("" for a model)
};

struct Match {
  std::bitset<kTaskTypeCount> task_types;  // none set: any type
  config::RuleMatch conditions;            // the rest, as configured
};

// A `router` rule's compiled action: the model loaded once, both sides' steps (aliases
// expanded) and the threshold in force.
struct RouterRule {
  std::shared_ptr<const router::Model> model;
  std::vector<Step> strong;
  std::vector<Step> weak;
  double threshold = 0;     // the score at or above which `strong` answers (at start, if live)
  std::string calibration;  // how it was set: "threshold", "target_strong_share 0.2", ...
  // `calibration: live`: the threshold held on live scores, which the gateway reports to it
  // (Observe); Threshold() replaces `threshold`. Shared by copies of the policy.
  std::shared_ptr<ShareCalibrator> live;

  double ThresholdInForce() const { return live ? live->Threshold() : threshold; }
};

struct Rule {
  std::string name;
  std::optional<Match> when;  // nullopt: the default rule
  std::vector<Step> chain;    // models in order (aliases expanded); empty for cheapest and router
  std::optional<config::CheapestSpec> cheapest;
  std::optional<RouterRule> router;
  int min_tier_rank = -1;             // cheapest.min_tier as an index into config::kTiers; -1 = any
  std::vector<verify::Check> verify;  // every answer must pass these; empty: none
  bool return_last = false;           // on_exhausted: return_last (else error)
  bool record_only = false;           // verify_mode: record (else hold)
  std::optional<std::chrono::seconds> cache_ttl;   // cache.ttl_s: answers replayed for this long
  bool cache_per_key = false;                      // cache.scope: key (else tenant)
  std::optional<config::RuleShadowConfig> shadow;  // a sample mirrored to a candidate model
};

struct Profile {
  std::string name;
  std::vector<Rule> rules;  // the last one is the default rule
};

class Policy {
 public:
  // Compiles catalog.config().routing, loading each `router` rule's model file (and calibrating
  // its threshold). The config has been validated (ValidateConfig), so this fails
  // (kInvalidRequest, path-qualified) for a model file that is missing, truncated or of another
  // format version (LoadRouterModel's message), or for a Config built in code with a bad
  // reference.
  static core::Result<Policy> Build(const catalog::Catalog& catalog);

  // The profile a client's `model` names: "auto" is the profile named auto, "auto:<name>" the
  // profile <name>. nullptr when `model` does not name a profile (config::NamesRoutingProfile)
  // or there is no such profile.
  const Profile* FindProfile(std::string_view model) const;
  // "auto, auto:accurate": what a client may send, for the unknown-profile error.
  std::string ProfileNames() const;

  const config::RoutingConfig& config() const { return *config_; }
  const std::vector<Profile>& profiles() const { return profiles_; }

 private:
  const config::RoutingConfig* config_ = nullptr;
  std::vector<Profile> profiles_;
};

}  // namespace sy::routing
