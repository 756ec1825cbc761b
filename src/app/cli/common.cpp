#include "app/cli/common.h"

#include "app/demo_config.h"
#include "ledger/spend.h"

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

core::Result<std::optional<int64_t>> ParseTimeFlag(const std::string& text, std::string_view flag) {
  if (text.empty()) return std::optional<int64_t>();
  auto ms = ledger::ParseTimeBound(text);
  if (!ms) {
    core::Error e = std::move(ms).error();
    e.message = std::string(flag) + ": " + e.message;
    return e;
  }
  return std::optional<int64_t>(*ms);
}

}  // namespace sy::app
