// The requests of `switchyard eval`: every suite item, `attempts` times, sent to a running
// gateway in one dialect (Chat Completions, Anthropic Messages or Responses) with the policy as
// the model, `concurrency` at a time, each answer checked by the item's checker and costed by the
// gateway's x-switchyard-cost-usd.
//
// Thread-safety: RunPolicy runs its own io_context on the calling thread.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "core/request.h"
#include "core/result.h"
#include "eval/report.h"
#include "eval/suite.h"

namespace sy::app {

struct EvalTarget {
  std::string base_url;                                // "http://127.0.0.1:8080": the gateway
  core::Dialect dialect = core::Dialect::kOpenAiChat;  // what the requests are sent as
  std::string api_key;                                 // "" = none; sent as Authorization: Bearer
  int concurrency = 8;                                 // requests in flight
  int attempts = 1;                                    // per item
  std::chrono::milliseconds timeout{120'000};          // per request, head and body
};

// Called after each finished request with (done, total).
using EvalProgress = std::function<void(size_t, size_t)>;

// The request body of each item in `dialect`, without "model": the suite's Chat messages and
// response_format as they are, or translated by the gateway's own translators (Anthropic bodies
// get max_tokens 1024 when the item sets none: the Messages API requires it). Fails with the
// translator's error, prefixed with the item's id, when an item cannot be said in `dialect`.
core::Result<std::vector<boost::json::object>> RequestBodies(const eval::Suite& suite,
                                                             core::Dialect dialect);

// Runs the suite under `policy`; `bodies` are RequestBodies(suite, target.dialect). Outcomes
// come in job order (attempt 1 of every item in suite order, then attempt 2, ...), the same
// every run however the concurrent answers arrive.
std::vector<eval::Outcome> RunPolicy(const eval::Suite& suite,
                                     const std::vector<boost::json::object>& bodies,
                                     const std::string& policy, const EvalTarget& target,
                                     const EvalProgress& progress);

// A DELETE to `url` (the emulator's /_emulator/eval): true on a 2xx.
bool SendDelete(const std::string& url);

}  // namespace sy::app
