// The emulator's control API (JSON in and out): faults, the request log, latency profiles,
// prompt caches, health.
//   POST   /_emulator/faults            {fault} or [{fault}...] -> 201 {"faults": [...]}
//   GET    /_emulator/faults            -> 200 {"faults": [...]}
//   DELETE /_emulator/faults            -> 204
//   GET    /_emulator/requests          -> 200 {"requests": [...]}
//   DELETE /_emulator/requests          -> 204
//   PUT    /_emulator/profiles/{model}  {"ttft_ms", "tokens_per_s", "reasoning"} -> 200 profile
//   GET    /_emulator/profiles/{model}  -> 200 profile
//   DELETE /_emulator/cache             -> 204 (forget all prompt-cache prefixes)
//   GET    /_emulator/health            -> 200 {"status": "ok"}
//
// Thread-safety: stateless; `state` is thread-safe. Never throws for bad input: it answers 400
// with {"error": {"message"}}.
#pragma once

#include "emulator/http_message.h"
#include "emulator/state.h"

namespace sy::emulator {

// Handles a request whose path starts with /_emulator/.
Reply HandleControl(const HttpRequest& request, State& state);

}  // namespace sy::emulator
