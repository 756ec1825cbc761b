// catalog::Catalog: the models, providers and aliases the gateway can route to, compiled once
// from a Config, plus the exact cost of a usage block under a model's price schedule.
//
// Thread-safety: immutable after Build; share as shared_ptr<const Catalog> across threads.
// Lifetime: pointers returned by lookups live as long as the Catalog.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/money.h"
#include "core/result.h"
#include "core/usage.h"

namespace sy::catalog {

struct CostBreakdown {
  core::Money input;         // uncached input tokens
  core::Money cached_input;  // cache reads
  core::Money cache_write;   // cache writes
  core::Money output;        // output tokens, reasoning included
  core::Money total;
  std::string price_list;      // "standard" or the window's name, e.g. "off-peak"
  bool example_price = false;  // the schedule is an example, not a list price
};

// Exact cost of `usage` under `schedule` at time `at`: the first window whose [start, end)
// contains the UTC time of day of `at` (a window may cross midnight), else the standard list.
// Uncached input = input_tokens - cached_input_tokens - cache_write_input_tokens. Negative counts
// count as 0; when cached + cache-write tokens exceed input_tokens (an inconsistent usage block)
// they are billed as reported and uncached input is 0. Cached tokens cost cached_input (input
// when absent), cache writes cost cache_write (input when absent), output_tokens cost output.
// Totals saturate at the largest Money instead of overflowing. Never fails.
CostBreakdown ComputeCost(const config::PriceSchedule& schedule, const core::Usage& usage,
                          std::chrono::system_clock::time_point at);

// What a client's `model` names, expanded once when the catalog is built: the hot path looks a
// route up instead of rebuilding the list and its name per request.
struct Route {
  std::vector<const config::ModelConfig*> candidates;  // in fallback order
  std::string rule;  // how routing names it: "model gpt-5.5" or "alias economy"
  bool alias = false;
};

// One place a model is served from, resolved: its provider, the price its calls cost, and its
// slot in routing::Health (an index over every model's deployments, in config order).
struct Deployment {
  const config::ModelConfig* model = nullptr;
  const config::DeploymentConfig* config = nullptr;
  const config::ProviderConfig* provider = nullptr;
  const config::PriceSchedule* price = nullptr;  // the override, else the model's price
  size_t slot = 0;
  std::string key;  // "model/deployment": how health lists it

  const std::string& name() const { return config->name; }
  const std::string& upstream_name() const { return config->upstream_name; }
};

class Catalog {
 public:
  // Compiles a validated Config. Fails (kInvalidRequest, path-qualified) on cross-references
  // that do not resolve, e.g. `aliases.economy[1]: unknown model "kimi-k3"` (it runs
  // config::CheckReferences; ParseConfig has already run the full config::ValidateConfig).
  static core::Result<std::shared_ptr<const Catalog>> Build(
      std::shared_ptr<const config::Config> config);
  ~Catalog();

  const config::Config& config() const { return *config_; }
  // By the model's id or one of its other ids (ModelConfig::ids).
  const config::ModelConfig* FindModel(std::string_view id) const;
  const config::ProviderConfig* FindProvider(std::string_view name) const;
  // The provider a model is served by. REQUIRES: model belongs to this catalog.
  const config::ProviderConfig& ProviderOf(const config::ModelConfig& model) const;
  // The model's deployments in config order (one, named after its provider, for the
  // shorthand). REQUIRES: model belongs to this catalog.
  const std::vector<Deployment>& DeploymentsOf(const config::ModelConfig& model) const;
  // Every deployment of every model, by slot.
  const std::vector<const Deployment*>& deployments() const;
  // The route for an alias (its ordered fallback list) or a model id or other id (the model).
  // Fails with kNotFound naming the unknown model.
  core::Result<const Route*> Resolve(std::string_view name) const;

 private:
  struct Index;  // name -> model/provider/alias lookups, defined in catalog.cpp

  size_t IndexOf(const config::ModelConfig& model) const;

  explicit Catalog(std::shared_ptr<const config::Config> config);
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<const Index> index_;
};

}  // namespace sy::catalog
