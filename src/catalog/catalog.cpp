#include "catalog/catalog.h"

#include <cstdlib>
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
};

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
    index->routes.emplace(m.id, Route{{&m}, "model " + m.id, false});
    // A model's other ids (the vendor's dated spelling, ...) reach the very same model.
    for (const std::string& other : m.ids) {
      index->models.emplace(other, &m);
      index->routes.emplace(other, Route{{&m}, "model " + m.id, false});
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

const config::ProviderConfig& Catalog::ProviderOf(const config::ModelConfig& model) const {
  const config::ModelConfig* first = config_->models.data();
  const config::ModelConfig* last = first + config_->models.size();
  // std::less orders unrelated pointers too, so a model from another catalog is caught.
  const std::less<> before;
  if (before(&model, first) || !before(&model, last)) std::abort();  // REQUIRES violated
  return *index_->provider_of[static_cast<size_t>(&model - first)];
}

core::Result<const Route*> Catalog::Resolve(std::string_view name) const {
  if (const auto it = index_->routes.find(name); it != index_->routes.end()) return &it->second;
  core::Error error =
      core::MakeError(core::Errc::kNotFound, "unknown model \"" + std::string(name.substr(0, 100)) +
                                                 (name.size() > 100 ? "...\"" : "\""));
  error.param = "model";
  return error;
}

}  // namespace sy::catalog
