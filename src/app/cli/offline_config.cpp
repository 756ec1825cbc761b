#include "app/cli/offline_config.h"

#include "app/demo_config.h"

namespace sy::app {

std::optional<std::string> DemoEnv(std::string_view name) {
  if (name == "EMULATOR_URL") return std::string("http://127.0.0.1:9");
  if (name == "SWITCHYARD_DEMO_UPSTREAM_KEY") return std::string("sk-demo-not-a-secret");
  return config::RealEnv(name);
}

std::optional<std::string> PricesOnlyEnv(std::string_view name) {
  if (auto value = config::RealEnv(name)) return value;
  return std::string("http://unset-environment-variable.invalid");
}

core::Result<config::Config> LoadOfflineConfig(const std::string& path) {
  if (path.empty()) return config::ParseConfig(kDemoConfigYaml, "demo.yaml", &DemoEnv);
  return config::LoadConfigFile(path, &PricesOnlyEnv);
}

}  // namespace sy::app
