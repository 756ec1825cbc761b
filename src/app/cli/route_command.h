// `switchyard route explain`: the route the gateway would take for a request, without starting
// it or calling any upstream (the same decision as POST /v1/route/explain).
//
//   switchyard route explain --request FILE [--config FILE] [--dialect openai|anthropic]
//                            [--task TYPE] [--max-cost-usd USD] [--tags a,b]
//
// Prints the explain JSON (docs/api.md) on stdout. Without --config it explains under the demo
// configuration. Exit status: 0 with a decision (also when it kept no candidate: the JSON says
// why), 1 when the request is refused (the error on stderr, as a client would get it), 2 when the
// configuration or the request file cannot be read.
//
// Thread-safety: run from main only.
#pragma once

#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

namespace sy::app {

struct RouteExplainArgs {
  std::string request_path;
  std::string config_path;  // "" = the demo configuration
  std::string dialect = "openai";
  std::string task;
  std::string max_cost_usd;
  std::string tags;
};

// Registers `route explain` on `app`. REQUIRES: `app` outlives the parse.
void AddRouteCommand(CLI::App& app);

// The command body, for tests: returns the exit status.
int RunRouteExplain(const RouteExplainArgs& args, std::ostream& out, std::ostream& err);

}  // namespace sy::app
