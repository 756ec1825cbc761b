#include "app/cli/serve_command.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "app/demo_config.h"
#include "app/runner.h"
#include "emulator/emulator.h"

namespace sy::app {
namespace {

void PrintReady(const std::string& address) {
  std::printf("switchyard listening on http://%s\n", address.c_str());
  std::fflush(stdout);
}

int Serve(const std::string& config_path, const std::string& listen) {
  auto config = config::LoadConfigFile(config_path);
  if (!config) {
    std::fprintf(stderr, "switchyard: %s\n", config.error().message.c_str());
    return 2;
  }
  if (!listen.empty()) config->server.listen = listen;
  return RunGateway(std::move(*config), PrintReady);
}

struct DemoArgs {
  std::string listen = "127.0.0.1:8080";
  std::string state_dir = "switchyard-state";
  std::string emulator_listen = "127.0.0.1:0";
  std::string suite_file{};  // the emulator's task suite ("" = the demo suite)
  uint64_t seed = 0;         // the emulator's suite-answer seed
};

int Demo(const DemoArgs& args) {
  const std::string& listen = args.listen;
  const std::string& state_dir = args.state_dir;
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    std::fprintf(stderr, "switchyard: cannot create state dir %s: %s\n", state_dir.c_str(),
                 ec.message().c_str());
    return 2;
  }
  BlockStopSignals();  // before the emulator starts its threads
  emulator::Options emu_options;
  emu_options.listen = args.emulator_listen;
  emu_options.suite_file = args.suite_file;
  emu_options.seed = args.seed;
  auto emu = emulator::Emulator::Start(emu_options);
  if (!emu) {
    std::fprintf(stderr, "switchyard: emulator: %s\n", emu.error().message.c_str());
    return 2;
  }
  const std::string emulator_url = "http://" + (*emu)->address();
  // The demo config reads these through ${...}; the key is a placeholder the emulator accepts.
  ::setenv("EMULATOR_URL", emulator_url.c_str(), 1);
  ::setenv("SWITCHYARD_DEMO_UPSTREAM_KEY", "sk-demo-not-a-secret", 0);
  auto config = config::ParseConfig(kDemoConfigYaml, "demo.yaml");
  if (!config) {
    std::fprintf(stderr, "switchyard: %s\n", config.error().message.c_str());
    return 2;
  }
  config->server.listen = listen;
  config->ledger.sqlite_path = (std::filesystem::path(state_dir) / "ledger.db").string();
  const std::string ledger_path = config->ledger.sqlite_path;
  return RunGateway(std::move(*config), [&](const std::string& address) {
    std::printf("emulator listening on %s\n", emulator_url.c_str());
    std::printf("ledger at %s\n", ledger_path.c_str());
    PrintReady(address);
    std::printf(
        "\ntry:\n  curl -s http://%s/v1/chat/completions -H 'content-type: application/json' \\\n"
        "    -d '{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"Extract the "
        "total from: Invoice 17, total 1685.04 EUR\"}]}' -i\n"
        "  curl -s http://%s/v1/messages -H 'content-type: application/json' \\\n"
        "    -H 'anthropic-version: 2023-06-01' -d '{\"model\":\"frontier\",\"max_tokens\":200,"
        "\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}]}' -i\n\n"
        "client keys are off in the demo. To require them, run `switchyard serve` on a copy of\n"
        "config/demo.yaml with `auth: {mode: keys}` and SWITCHYARD_ADMIN_TOKEN set, then\n"
        "  curl -s http://%s/admin/keys -H \"authorization: Bearer $SWITCHYARD_ADMIN_TOKEN\" \\\n"
        "    -d '{\"tenant\":\"demo\",\"budgets\":{\"usd_per_day\":\"1.00\"}}'\n"
        "(docs/operations.md, \"Keys\").\n\n",
        address.c_str(), address.c_str(), address.c_str());
    std::fflush(stdout);
  });
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Run the gateway on a YAML configuration");
  auto config_path = std::make_shared<std::string>();
  auto listen = std::make_shared<std::string>();
  cmd->add_option("--config", *config_path, "YAML configuration file")->required();
  cmd->add_option("--listen", *listen, "Listen address host:port (overrides server.listen)");
  cmd->callback([=] { std::exit(Serve(*config_path, *listen)); });
}

void AddDemoCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Run the gateway on its demo configuration");
  auto args = std::make_shared<DemoArgs>();
  cmd->add_option("--listen", args->listen, "Listen address host:port")->capture_default_str();
  cmd->add_option("--state-dir", args->state_dir, "Directory for ledger.db")->capture_default_str();
  cmd->add_option("--emulator-listen", args->emulator_listen, "Emulator address (port 0: any free)")
      ->capture_default_str();
  cmd->add_option("--suite", args->suite_file,
                  "Task suite the emulator answers by quality (default: the demo suite)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--seed", args->seed, "Seed of the emulator's suite answers")
      ->capture_default_str();
  cmd->callback([args] { std::exit(Demo(*args)); });
}

}  // namespace sy::app
