// The emulator's control API (JSON in and out): faults, the request log, latency and quality
// profiles, prompt caches, task-suite answer counts, health.
//   POST   /_emulator/faults            {fault} or [{fault}...] -> 201 {"faults": [...]}
//   GET    /_emulator/faults            -> 200 {"faults": [...]}
//   DELETE /_emulator/faults            -> 204
//   GET    /_emulator/requests          -> 200 {"requests": [...]}
//   DELETE /_emulator/requests          -> 204
//   PUT    /_emulator/profiles/{model}  {"ttft_ms", "tokens_per_s", "reasoning", "quality"}
//                                        -> 200 profile (fields as profiles.h reads them)
//   GET    /_emulator/profiles/{model}  -> 200 profile
//   DELETE /_emulator/cache             -> 204 (forget all prompt-cache prefixes)
//   GET    /_emulator/eval              -> 200 {"items", "seed", "answered"} (quality.h)
//   DELETE /_emulator/eval              -> 204 (reset the suite-answer counts, so a run repeats)
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
