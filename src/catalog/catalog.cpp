#include "catalog/catalog.h"

#include <cstdlib>
#include <deque>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace sy::catalog {

// Keys are views into config_'s strings, which live (unchanged) as long as the Catalog.
struct Catalog::Index {
  std::unordered_map<std::string_view, const config::ModelConfig*> models;
  std::unordered_map<std::string_view, const config::ProviderConfig*> providers;
  std::unordered_map<std::string_view, Route> routes;      // every model id and alias
  std::vector<const config::ProviderConfig*> provider_of;  // by index into config.models
  std::vector<std::vector<Deployment>> deployments_of;     // by index into config.models
  std::vector<const Deployment*> deployments;              // by slot
  // The shorthand's one deployment per model, owned here (the config has none to point at).
  std::deque<config::DeploymentConfig> implied;
};

namespace {

// The model's deployments, in config order; the shorthand's one is built into `implied`.
std::vector<Deployment> DeploymentsFor(
    const config::ModelConfig& m,
    const std::unordered_map<std::string_view, const config::ProviderConfig*>& providers,
    std::deque<config::DeploymentConfig>& implied) {
  std::vector<Deployment> out;
  const auto add = [&](const config::DeploymentConfig& d) {
    const config::PriceSchedule* price = d.price ? &*d.price : &m.price;
    out.push_back(Deployment{&m, &d, providers.at(d.provider), price, 0, m.id + "/" + d.name});
  };
  if (m.deployments.empty()) {
    add(implied.emplace_back(
        config::DeploymentConfig{m.provider, m.provider, m.upstream_name, 1, std::nullopt}));
  } else {
    for (const config::DeploymentConfig& d : m.deployments) add(d);
  }
  return out;
}

}  // namespace

Catalog::Catalog(std::shared_ptr<const config::Config> config) : config_(std::move(config)) {}

Catalog::~Catalog() = default;

core::Result<std::shared_ptr<const Catalog>> Catalog::Build(
    std::shared_ptr<const config::Config> config) {
  if (!config) return core::MakeError(core::Errc::kInternal, "Catalog::Build: no config");
  if (auto status = config::CheckReferences(*config); !status) return status.error();

  auto index = std::make_unique<Index>();
  for (const config::ProviderConfig& p : config->providers) index->providers.emplace(p.name, &p);
  for (const config::ModelConfig& m : config->models) {
    index->models.emplace(m.id, &m);
    index->provider_of.push_back(index->providers.at(m.provider));
    index->deployments_of.push_back(DeploymentsFor(m, index->providers, index->implied));
    index->routes.emplace(m.id, Route{{&m}, "model " + m.id, false});
    // A model's other ids (the vendor's dated spelling, ...) reach the very same model.
    for (const std::string& other : m.ids) {
      index->models.emplace(other, &m);
      index->routes.emplace(other, Route{{&m}, "model " + m.id, false});
    }
  }
  // Slots once every model's list is in place (the vectors no longer move).
  for (auto& list : index->deployments_of) {
    for (Deployment& d : list) {
      d.slot = index->deployments.size();
      index->deployments.push_back(&d);
    }
  }
  for (const config::AliasConfig& a : config->aliases) {
    Route route{{}, "alias " + a.name, true};
    for (const std::string& id : a.models) route.candidates.push_back(index->models.at(id));
    index->routes.emplace(a.name, std::move(route));
  }

  // The constructor is private, so make_shared cannot reach it.
  std::shared_ptr<Catalog> catalog(new Catalog(std::move(config)));
  catalog->index_ = std::move(index);
  return std::shared_ptr<const Catalog>(std::move(catalog));
}

const config::ModelConfig* Catalog::FindModel(std::string_view id) const {
  const auto it = index_->models.find(id);
  return it == index_->models.end() ? nullptr : it->second;
}

const config::ProviderConfig* Catalog::FindProvider(std::string_view name) const {
  const auto it = index_->providers.find(name);
  return it == index_->providers.end() ? nullptr : it->second;
}

size_t Catalog::IndexOf(const config::ModelConfig& model) const {
  const config::ModelConfig* first = config_->models.data();
  const config::ModelConfig* last = first + config_->models.size();
  // std::less orders unrelated pointers too, so a model from another catalog is caught.
  const std::less<> before;
  if (before(&model, first) || !before(&model, last)) std::abort();  // REQUIRES violated
  return static_cast<size_t>(&model - first);
}

const config::ProviderConfig& Catalog::ProviderOf(const config::ModelConfig& model) const {
  return *index_->provider_of[IndexOf(model)];
}

const std::vector<Deployment>& Catalog::DeploymentsOf(const config::ModelConfig& model) const {
  return index_->deployments_of[IndexOf(model)];
}

const std::vector<const Deployment*>& Catalog::deployments() const { return index_->deployments; }

core::Result<const Route*> Catalog::Resolve(std::string_view name) const {
  if (const auto it = index_->routes.find(name); it != index_->routes.end()) return &it->second;
  core::Error error =
      core::MakeError(core::Errc::kNotFound, "unknown model \"" + std::string(name.substr(0, 100)) +
                                                 (name.size() > 100 ? "...\"" : "\""));
  error.param = "model";
  return error;
}

}  // namespace sy::catalog
