// The demo configuration (config/demo.yaml), embedded at build time.
#pragma once

#include <string_view>

namespace sy::app {

extern const std::string_view kDemoConfigYaml;

}  // namespace sy::app
