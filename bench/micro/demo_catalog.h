// The demo configuration's catalog, for micro benchmarks: loaded with a fixed environment (no
// upstream is ever called; no admin token or pepper, so the demo's keyless auth holds).
// Aborts when the demo does not load: a benchmark of nothing must not pass.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "app/demo_config.h"
#include "catalog/catalog.h"
#include "config/config.h"

namespace sy::bench {

inline std::optional<std::string> DemoEnv(std::string_view name) {
  if (name == "EMULATOR_URL") return std::string("http://127.0.0.1:9");
  if (name == "SWITCHYARD_DEMO_UPSTREAM_KEY") return std::string("sk-bench");
  return std::nullopt;
}

inline std::shared_ptr<const catalog::Catalog> DemoCatalog() {
  auto config = config::ParseConfig(app::kDemoConfigYaml, "demo.yaml", &DemoEnv);
  if (!config) {
    std::fprintf(stderr, "bench: the demo config does not load: %s\n",
                 config.error().message.c_str());
    std::abort();
  }
  return *catalog::Catalog::Build(std::make_shared<const config::Config>(std::move(*config)));
}

}  // namespace sy::bench
