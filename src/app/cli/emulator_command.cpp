#include "app/cli/emulator_command.h"

#include <cstdio>
#include <memory>

#include <pthread.h>
#include <signal.h>

#include "emulator/emulator.h"

namespace sy::app {

namespace {

void IgnoreSignal(int /*signal*/) {}

// Blocks SIGINT and SIGTERM in the calling thread (and so in the threads it starts), runs the
// emulator, and waits for one of them with sigwait. Returns the process exit code.
int RunEmulator(const emulator::Options& options) {
  // A signal whose disposition is SIG_IGN (as a shell sets SIGINT for background jobs) is
  // discarded before sigwait can see it, so give both a handler first; while blocked it never
  // runs.
  struct sigaction action {};
  action.sa_handler = IgnoreSignal;
  sigemptyset(&action.sa_mask);
  struct sigaction previous_int {};
  struct sigaction previous_term {};
  sigaction(SIGINT, &action, &previous_int);
  sigaction(SIGTERM, &action, &previous_term);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  auto restore = [&] {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    sigaction(SIGINT, &previous_int, nullptr);
    sigaction(SIGTERM, &previous_term, nullptr);
  };

  auto started = emulator::Emulator::Start(options);
  if (!started) {
    restore();
    std::fprintf(stderr, "emulator: %s\n", started.error().message.c_str());
    return 1;
  }
  std::unique_ptr<emulator::Emulator> server = std::move(*started);
  std::printf("emulator listening on http://%s\n", server->address().c_str());
  std::fflush(stdout);

  int received = 0;
  while (sigwait(&signals, &received) != 0) {
  }
  server->Stop();
  restore();
  return 0;
}

}  // namespace

void AddEmulatorCommand(CLI::App& app) {
  auto options = std::make_shared<emulator::Options>();
  options->listen = "127.0.0.1:8090";
  CLI::App* command = app.add_subcommand("emulator",
                                         "Run the upstream-provider emulator (OpenAI Chat "
                                         "Completions and Responses, Anthropic Messages)");
  command->add_option("--listen", options->listen, "Address to listen on, HOST:PORT (port 0: any)")
      ->capture_default_str();
  command
      ->add_option("--config", options->config_file,
                   "Latency-profile file (YAML or JSON; see emulator/profiles.h)")
      ->check(CLI::ExistingFile);
  command->add_option("--threads", options->threads, "Server threads")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command
      ->add_option("--suite", options->suite_file,
                   "Task suite whose prompts get quality-drawn answers (JSON Lines, see "
                   "eval/suite.h; default: the built-in demo suite)")
      ->check(CLI::ExistingFile);
  command
      ->add_option("--seed", options->seed,
                   "Seed of the suite-answer draws (same seed, same answers; see "
                   "emulator/quality.h)")
      ->capture_default_str();
  command->callback([options] {
    int code = RunEmulator(*options);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace sy::app
