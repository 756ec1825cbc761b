// The model files of `router` rules (router/router.h): a path, or "builtin:<name>" for a model
// shipped inside the binary, so the demo's `auto` profile needs no file next to it.
//
// Built in: "builtin:routellm-gpt4-mixtral" (config/router/routellm-gpt4-mixtral.syr, trained on
// RouteLLM's GPT-4 Turbo / Mixtral outcomes; docs/routing.md has the command that rebuilds it).
//
// Thread-safety: free functions; call from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "router/router.h"

namespace sy::routing {

inline constexpr std::string_view kBuiltinPrefix = "builtin:";

// Loads the model at `location`. Fails with kInvalidRequest: for an unknown built-in name (listing
// the built-in ones), or as router::Model::Load does for a file.
core::Result<std::shared_ptr<const router::Model>> LoadRouterModel(const std::string& location);

}  // namespace sy::routing
