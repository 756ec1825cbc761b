// config::ParseConfig on arbitrary YAML: loading never throws (yaml-cpp's exceptions are
// wrapped) and every refusal is kInvalidRequest with a message. The environment is a fixed
// lookup, so ${NAME} substitutions and api_key_env always resolve to the same value.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "fuzz_check.h"

namespace {

// Long enough to pass as an admin token or a pepper (16+ characters), so those checks do not
// refuse every input before the rest of the config is looked at.
std::optional<std::string> FixedEnv(std::string_view /*name*/) { return "fuzz-value-0123456789"; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto config = sy::config::ParseConfig(sy::fuzz::AsText(data, size), "fuzz.yaml", &FixedEnv);
  if (!config) {
    sy::fuzz::Check(config.error().code == sy::core::Errc::kInvalidRequest,
                    "refusal is kInvalidRequest");
    sy::fuzz::Check(!config.error().message.empty(), "a refusal says what is wrong");
  }
  return 0;
}
