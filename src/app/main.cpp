// switchyard: the model-routing gateway, its demo, its upstream emulator and its reports.
#include <CLI/CLI.hpp>

#include "app/cli/emulator_command.h"
#include "app/cli/eval_command.h"
#include "app/cli/keys_command.h"
#include "app/cli/outcomes_command.h"
#include "app/cli/plan_command.h"
#include "app/cli/route_command.h"
#include "app/cli/router_command.h"
#include "app/cli/serve_command.h"
#include "app/cli/shadow_command.h"
#include "app/cli/spend_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Switchyard: an OpenAI- and Anthropic-compatible model-routing gateway"};
  app.require_subcommand(1);
  sy::app::AddDemoCommand(app);
  sy::app::AddServeCommand(app);
  sy::app::AddEmulatorCommand(app);
  sy::app::AddSpendCommand(app);
  sy::app::AddOutcomesCommand(app);
  sy::app::AddShadowCommand(app);
  sy::app::AddRouteCommand(app);
  sy::app::AddKeysCommand(app);
  sy::app::AddRouterCommand(app);
  sy::app::AddPlanCommand(app);
  sy::app::AddEvalCommand(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
