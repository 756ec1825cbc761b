#include "routing/router_model.h"

// The shipped model's bytes, linked in by the assembler (CMake passes the file's path in
// SY_ROUTER_BUILTIN_PATH and rebuilds this file when it changes): no generated source, no copy
// at start. .incbin is a GNU assembler directive; GCC is the compiler this project builds with.
#define SY_STR2(x) #x
#define SY_STR(x) SY_STR2(x)
__asm__(".section .rodata\n"
        ".balign 16\n"
        "sy_router_builtin_begin:\n"
        ".incbin \"" SY_STR(SY_ROUTER_BUILTIN_PATH) "\"\n"
        "sy_router_builtin_end:\n"
        ".previous\n");
extern "C" const char sy_router_builtin_begin[];
extern "C" const char sy_router_builtin_end[];

namespace sy::routing {
namespace {

constexpr std::string_view kBuiltinName = "routellm-gpt4-mixtral";

std::string_view BuiltinBytes() {
  return std::string_view(sy_router_builtin_begin,
                          static_cast<size_t>(sy_router_builtin_end - sy_router_builtin_begin));
}

}  // namespace

core::Result<std::shared_ptr<const router::Model>> LoadRouterModel(const std::string& location) {
  const std::string_view name = location;
  if (!name.starts_with(kBuiltinPrefix)) return router::Model::Load(location);
  if (name.substr(kBuiltinPrefix.size()) == kBuiltinName) {
    return router::Model::Parse(BuiltinBytes(), location);
  }
  return core::MakeError(core::Errc::kInvalidRequest,
                         "unknown built-in router model \"" + location +
                             "\" (built in: builtin:" + std::string(kBuiltinName) + ")");
}

}  // namespace sy::routing
