// Shadow traffic: a rule's `shadow: {model, sample}` mirrors a sample of the requests it answers
// to a candidate model, and records each mirrored request apart (the ledger's shadows table),
// with how its answer agreed with the live one (docs/planning.md).
//
// The live request is neither changed nor delayed. The route stage only decides whether it is
// sampled (Sampled: a hash of its id). Its answer is read as it goes out: a complete answer
// once, a stream's events collected as they are relayed. After its own record, the shadow is
// handed to the worker (http::Background) as a copy of the request, without its key, and runs
// after the live handler has returned.
//
// A shadow request is: the body rewritten for the shadow model (not streamed, not stored), then
// decode, route, execute, account and record. It skips admission, budgets and the response
// cache: its cost is the operator's experiment, kept out of the tenant's spend. The live rule's
// verification checks run on its answer in record mode, so a verdict is recorded and nothing is
// withheld; its answer is compared with the live one (verify::Compare).
//
// At most routing.shadow_max_in_flight shadows run at once in a process. A sampled request over
// that bound is dropped, never queued (switchyard_shadow_requests_total{result="dropped"}). On
// shutdown the server waits for running shadows within the grace, then cuts them; a cut shadow
// is still recorded, with an estimated usage, like any cut request.
//
// Thread-safety: Plan and Launch run on the live request's worker; a shadow runs on that same
// worker. The in-flight count is atomic. Lifetime: `services` outlives the runner, and the
// runner outlives the server whose workers run its shadows.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "app/context.h"
#include "http/task.h"

namespace sy::app {

// Whether the request with this id is in a sample of `sample_ppm` parts per million: a hash of
// the id (ids are random), so the same id always gets the same answer.
bool Sampled(std::string_view request_id, int64_t sample_ppm);

// The shadow request's body: the live one for `model`, with stream and stream_options removed
// and, for the Responses dialect, store false (a shadow's answer is never stored). Fails with
// kInvalidRequest when `body` is not a JSON object (the live decoder accepted it, so only a
// bug gets here).
core::Result<std::string> ShadowBody(std::string_view body, core::Dialect dialect,
                                     std::string_view model, int64_t max_json_depth);

class ShadowRunner {
 public:
  ShadowRunner(const Services& services, int64_t max_in_flight)
      : services_(services), max_in_flight_(max_in_flight) {}

  // Route stage of a live request: sets ctx.shadow when its matched rule shadows and the request
  // is in the sample.
  static void Plan(RequestContext& ctx);
  // After execute, on a sampled live request: reads the answer (a complete one now; a stream's
  // events as they are relayed, by wrapping answer.stream).
  static void WatchAnswer(RequestContext& ctx, Answer& answer);

  // After the live request's record: starts its shadow when it was sampled and a model answered
  // it (status 200, not from the response cache), unless the gateway is draining or
  // routing.shadow_max_in_flight shadows are running (then it is dropped and counted).
  void Launch(RequestContext& live);

  // No shadow starts after this (shutdown).
  void SetDraining() { draining_ = true; }

 private:
  http::Task<void> Run(http::ServerRequest& http, ShadowOf of);

  const Services& services_;
  const int64_t max_in_flight_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<bool> draining_{false};
};

}  // namespace sy::app
