#include "app/cli/eval_command.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/cli/eval_runner.h"
#include "eval/report.h"
#include "eval/suite.h"

extern char** environ;

namespace sy::app {
namespace {

constexpr int kErrorExit = 2;
constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kStopTimeout = std::chrono::seconds(15);
constexpr size_t kMaxPolicies = 32;

core::Error Invalid(std::string message) {
  return core::MakeError(core::Errc::kInvalidRequest, std::move(message));
}

// A `switchyard demo` or `serve` started for the run: its own process, on a free loopback port,
// with its output in a log file, stopped (SIGTERM, then SIGKILL) when this is destroyed.
class ChildGateway {
 public:
  static core::Result<std::unique_ptr<ChildGateway>> Start(std::vector<std::string> args) {
    std::string dir_template =
        (std::filesystem::temp_directory_path() / "switchyard-eval-XXXXXX").string();
    if (::mkdtemp(dir_template.data()) == nullptr) return Invalid("cannot create a temp directory");
    auto child = std::unique_ptr<ChildGateway>(new ChildGateway(dir_template));
    if (args[0] == "demo") {
      args.insert(args.end(), {"--state-dir", child->dir_ + "/state"});
    }
    if (auto started = child->Spawn(args); !started) return started.error();
    if (auto ready = child->WaitReady(); !ready) return ready.error();
    return child;
  }

  ~ChildGateway() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      const auto until = std::chrono::steady_clock::now() + kStopTimeout;
      while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > until) {
          ::kill(pid_, SIGKILL);
          ::waitpid(pid_, nullptr, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  const std::string& url() const { return url_; }
  const std::string& emulator_url() const { return emulator_url_; }

 private:
  explicit ChildGateway(std::string dir) : dir_(std::move(dir)), log_(dir_ + "/gateway.log") {}

  core::Status Spawn(const std::vector<std::string>& args) {
    std::error_code ec;
    const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec) return Invalid("cannot find this program: " + ec.message());
    std::vector<std::string> argv_strings = {self};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const int rc = posix_spawn(&pid_, self.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return Invalid("cannot start " + self + ": " + std::strerror(rc));
    }
    return {};
  }

  // Reads the log until the gateway says where it listens.
  core::Status WaitReady() {
    const auto until = std::chrono::steady_clock::now() + kStartTimeout;
    while (std::chrono::steady_clock::now() < until) {
      std::ifstream in(log_);
      std::string line;
      while (std::getline(in, line)) {
        if (line.rfind("emulator listening on ", 0) == 0) emulator_url_ = line.substr(22);
        if (line.rfind("switchyard listening on ", 0) == 0) {
          url_ = line.substr(24);
          return {};
        }
      }
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return Invalid("the gateway exited before it listened:\n" + LogTail());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Invalid("the gateway did not listen within 30 s:\n" + LogTail());
  }

  std::string LogTail() const {
    std::ifstream in(log_);
    std::stringstream text;
    text << in.rdbuf();
    const std::string all = text.str();
    return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
  }

  std::string dir_;
  std::string log_;
  pid_t pid_ = -1;
  std::string url_;
  std::string emulator_url_;
};

core::Result<std::vector<std::string>> SplitPolicies(const std::string& list) {
  std::vector<std::string> out;
  std::string_view rest = list;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view name = rest.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    if (name.empty()) return Invalid("--policies: an empty name");
    out.emplace_back(name);
  }
  if (out.empty()) return Invalid("--policies: name at least one policy");
  if (out.size() > kMaxPolicies) {
    return Invalid("--policies: at most " + std::to_string(kMaxPolicies) + " policies");
  }
  return out;
}

core::Status CheckArgs(const EvalArgs& args) {
  if (!args.gateway.empty() && !args.config_path.empty()) {
    return Invalid("give --gateway or --config, not both");
  }
  if (args.attempts < 1 || args.attempts > 100) return Invalid("--attempts: 1 to 100");
  if (args.concurrency < 1 || args.concurrency > 256) return Invalid("--concurrency: 1 to 256");
  if (args.timeout_ms < 1) return Invalid("--timeout-ms: at least 1");
  if (!(args.min_success >= 0 && args.min_success <= 1)) {
    return Invalid("--min-success: a share from 0 to 1, e.g. 0.9");
  }
  if (!args.gateway.empty() && args.gateway.rfind("http://", 0) != 0 &&
      args.gateway.rfind("https://", 0) != 0) {
    return Invalid("--gateway: an http:// or https:// URL");
  }
  if (!args.api_key_env.empty() && std::getenv(args.api_key_env.c_str()) == nullptr) {
    return Invalid("--api-key-env: " + args.api_key_env + " is not set");
  }
  return {};
}

core::Result<std::unique_ptr<ChildGateway>> StartGateway(const EvalArgs& args) {
  if (!args.gateway.empty()) return std::unique_ptr<ChildGateway>();
  if (!args.config_path.empty()) {
    return ChildGateway::Start({"serve", "--config", args.config_path, "--listen", "127.0.0.1:0"});
  }
  std::vector<std::string> demo = {"demo", "--listen", "127.0.0.1:0", "--seed",
                                   std::to_string(args.seed)};
  if (!args.suite_path.empty()) demo.insert(demo.end(), {"--suite", args.suite_path});
  return ChildGateway::Start(demo);
}

// "\r  auto           [##########..........]  50/100" on a terminal.
EvalProgress ProgressBar(const std::string& policy, std::ostream& err) {
  constexpr size_t kLabelWidth = 24;
  const std::string label =
      policy + std::string(policy.size() < kLabelWidth ? kLabelWidth - policy.size() : 0, ' ');
  return [&err, label](size_t done, size_t total) {
    constexpr size_t kWidth = 30;
    const size_t filled = total == 0 ? kWidth : done * kWidth / total;
    err << "\r  " << label << " [" << std::string(filled, '#') << std::string(kWidth - filled, '.')
        << "] " << done << "/" << total << (done == total ? "\n" : "") << std::flush;
  };
}

std::string Note(const EvalArgs& args) {
  if (!args.gateway.empty() || !args.config_path.empty()) return "";
  return "simulated quality: the demo's emulator answers each item right or wrong with per-model, "
         "per-task-type odds (seed " +
         std::to_string(args.seed) + "); not a measurement of the real models";
}

}  // namespace

int RunEval(const EvalArgs& args, std::ostream& out, std::ostream& err) {
  const auto fail = [&](const core::Error& e) {
    err << "switchyard eval: " << e.message << "\n";
    return kErrorExit;
  };
  if (auto ok = CheckArgs(args); !ok) return fail(ok.error());
  auto policies = SplitPolicies(args.policies);
  if (!policies) return fail(policies.error());
  auto suite = args.suite_path.empty() ? eval::ParseSuite(eval::kDemoSuiteJsonl, "demo.jsonl")
                                       : eval::LoadSuiteFile(args.suite_path);
  if (!suite) return fail(suite.error());
  const auto dialect = core::ParseDialectName(args.dialect);
  if (!dialect) return fail(Invalid("--dialect: openai, anthropic or responses"));
  auto bodies = RequestBodies(*suite, *dialect);
  if (!bodies) return fail(bodies.error());
  auto gateway = StartGateway(args);
  if (!gateway) return fail(gateway.error());
  EvalTarget target;
  target.dialect = *dialect;
  target.base_url = *gateway ? (*gateway)->url() : args.gateway;
  while (!target.base_url.empty() && target.base_url.back() == '/') target.base_url.pop_back();
  if (!args.api_key_env.empty()) target.api_key = std::getenv(args.api_key_env.c_str());
  target.concurrency = args.concurrency;
  target.attempts = args.attempts;
  target.timeout = std::chrono::milliseconds(args.timeout_ms);

  std::vector<eval::PolicyRun> runs;
  for (const std::string& policy : *policies) {
    // Every policy starts from the same emulator draws: the comparison is of policies, not luck.
    if (*gateway && !(*gateway)->emulator_url().empty() &&
        !SendDelete((*gateway)->emulator_url() + "/_emulator/eval")) {
      return fail(Invalid("the demo emulator did not reset its answer counters"));
    }
    const EvalProgress progress = args.progress ? ProgressBar(policy, err) : EvalProgress();
    runs.push_back({policy, RunPolicy(*suite, *bodies, policy, target, progress)});
  }
  auto summary = eval::Summarize(*suite, args.suite_path.empty() ? "demo" : args.suite_path,
                                 args.attempts, runs);
  if (!summary) return fail(std::move(summary).error());
  eval::Report report = std::move(*summary);
  report.note = Note(args);
  report.min_success = args.min_success;
  report.dialect = std::string(core::DialectName(*dialect));
  if (!args.svg_path.empty()) {
    std::ofstream svg(args.svg_path, std::ios::binary | std::ios::trunc);
    svg << eval::FormatSvg(report);
    if (!svg.flush()) return fail(Invalid("cannot write " + args.svg_path));
  }
  if (args.format == "json") {
    out << eval::FormatJson(report);
  } else if (args.format == "markdown") {
    out << eval::FormatMarkdown(report);
  } else {
    out << eval::FormatTable(report);
  }
  return 0;
}

void AddEvalCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "eval", "Measure cost per successful task of several policies on a task suite");
  auto args = std::make_shared<EvalArgs>();
  cmd->add_option("--policies", args->policies,
                  "Comma-separated policies: routing profiles, aliases or models")
      ->required();
  cmd->add_option("--suite", args->suite_path, "Task suite (JSON Lines; default: the demo suite)");
  cmd->add_option("--gateway", args->gateway, "A running gateway's URL");
  cmd->add_option("--config", args->config_path, "Start `serve` on this configuration for the run");
  cmd->add_option("--attempts", args->attempts, "Requests per item")->capture_default_str();
  cmd->add_option("--concurrency", args->concurrency, "Requests in flight")->capture_default_str();
  cmd->add_option("--seed", args->seed, "The demo emulator's seed")->capture_default_str();
  cmd->add_option("--format", args->format, "Output format")
      ->check(CLI::IsMember({"table", "json", "markdown"}))
      ->capture_default_str();
  cmd->add_option("--dialect", args->dialect,
                  "Send the items as Chat Completions (openai), Anthropic Messages (anthropic) or "
                  "Responses (responses)")
      ->check(CLI::IsMember({"openai", "anthropic", "responses"}))
      ->capture_default_str();
  cmd->add_option("--svg", args->svg_path, "Also write the cost/success chart as SVG here");
  cmd->add_option("--min-success", args->min_success,
                  "The success rate (0 to 1) a policy must reach to be named the cheapest")
      ->capture_default_str();
  cmd->add_option("--api-key-env", args->api_key_env,
                  "Environment variable holding the gateway's client key");
  cmd->add_option("--timeout-ms", args->timeout_ms, "Per-request timeout")->capture_default_str();
  cmd->callback([args] {
    args->progress = ::isatty(STDERR_FILENO) != 0;
    const int status = RunEval(*args, std::cout, std::cerr);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace sy::app
