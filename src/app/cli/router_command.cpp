#include "app/cli/router_command.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "core/file.h"
#include "core/prompt.h"
#include "router/data.h"
#include "router/report.h"
#include "router/router.h"
#include "router/train.h"
#include "routing/features.h"

namespace sy::app {
namespace {

constexpr int kErrorExit = 2;
constexpr std::string_view kProgram = "switchyard router train";

int Fail(std::ostream& err, std::string_view verb, const std::string& message) {
  err << "switchyard router " << verb << ": " << message << "\n";
  return kErrorExit;
}

core::Error Invalid(std::string message) {
  return core::MakeError(core::Errc::kInvalidRequest, std::move(message));
}

// Outcome data: the RouteLLM file the shipped model learns from is 8.7 MB; thirty times that
// is still a training set, and more than that is a wrong file.
constexpr uint64_t kMaxDataFileBytes = 256 << 20;

// The task type the gateway would give the prompt (router.h takes it as an index).
int TaskTypeOf(const core::Prompt& prompt) {
  return static_cast<int>(routing::Classify(prompt).task_type);
}

struct Data {
  std::string sha256;
  std::vector<router::LabeledPrompt> records;
};

core::Result<Data> LoadData(const std::string& path, const std::string& strong,
                            const std::string& weak) {
  auto bytes = core::ReadRegularFile(path, kMaxDataFileBytes, "--data");
  if (!bytes) return bytes.error();
  auto records = router::ParseRoutingData(*bytes, strong, weak);
  if (!records) return Invalid("--data " + path + ": " + records.error().message);
  if (records->empty()) return Invalid("--data " + path + ": no prompts in it");
  return Data{router::Sha256Hex(*bytes), std::move(*records)};
}

bool NeedsQuotes(std::string_view v) {
  return v.empty() || v.find_first_of(" \t\n'\"\\$`") != std::string_view::npos;
}

std::string Quote(std::string_view v) {
  if (!NeedsQuotes(v)) return std::string(v);
  std::string out = "'";
  for (const char c : v) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

// Splits a command line as a POSIX shell would for the quoting Quote writes.
core::Result<std::vector<std::string>> SplitWords(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == ' ') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (c == '\'') {
      const size_t end = line.find('\'', i + 1);
      if (end == std::string_view::npos) return Invalid("unterminated quote in the command");
      word.append(line.substr(i + 1, end - i - 1));
      i = end;
      in_word = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      word.push_back(line[++i]);
      in_word = true;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

std::vector<router::Example> ExamplesOf(const std::vector<router::LabeledPrompt>& records) {
  std::vector<router::Example> examples;
  examples.reserve(records.size());
  for (const auto& r : records) {
    examples.push_back({r.id, r.source, r.topic, r.prompt,
                        TaskTypeOf(core::SingleUserPrompt(r.prompt)), r.strong_normalized,
                        r.weak_normalized});
  }
  return examples;
}

router::ScoredPrompt Scored(const router::Model& model, const router::LabeledPrompt& r) {
  const core::Prompt prompt = core::SingleUserPrompt(r.prompt);
  return {r.source,
          model.Score(prompt, TaskTypeOf(prompt)),
          static_cast<int64_t>(r.prompt.size()),
          r.strong,
          r.weak,
          r.strong_normalized,
          r.weak_normalized};
}

std::string Fixed(double x, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

void LogCandidates(const router::TrainResult& result, std::ostream& log) {
  log << "cross-validation inside the training split (5 folds; * = chosen per regime):\n";
  for (const router::Candidate& c : result.candidates) {
    log << (c.chosen ? "  * " : "    ") << c.regime << ": " << c.name << "  criterion "
        << Fixed(c.criterion, 4);
    for (const router::FoldScore& s : c.sources) {
      log << "  " << s.source << " APGR " << Fixed(s.apgr, 3) << " CPT50 "
          << Fixed(100 * s.cpt50, 1) << "%";
    }
    log << "\n";
  }
}

void LogValidation(const std::string& bytes, const std::vector<router::LabeledPrompt>& records,
                   std::ostream& log) {
  auto model = router::Model::Parse(bytes, "(trained)");
  if (!model) return;
  std::vector<router::ScoredPrompt> scored;
  for (const auto& r : records) {
    if (router::InValidationSplit(r.id)) scored.push_back(Scored(**model, r));
  }
  if (scored.empty()) return;
  auto report = router::BuildReport(scored, "validation", 1, std::nullopt);
  if (!report) return;  // not reached: only prices can fail a report
  log << "validation split (FNV-1a-64(id) % 5 == 0): APGR, CPT(50%) [length router, random]\n";
  for (const auto& [source, f] : report->sources) {
    log << "  " << source << " n=" << f.ours.n << ": " << Fixed(f.ours.apgr, 3) << ", "
        << Fixed(100 * f.ours.cpt50, 1) << "% [" << Fixed(f.length.apgr, 3) << ", "
        << Fixed(f.random.apgr, 3) << "]\n";
  }
}

// Whether `path` is absent or a regular file: what may be replaced by a rename.
core::Status Replaceable(const std::filesystem::path& path, const std::string& out_path) {
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) return {};
  if (ec) return Invalid("--out " + out_path + ": cannot be checked (" + ec.message() + ")");
  if (status.type() != std::filesystem::file_type::regular) {
    const std::string which = path == out_path ? "" : " " + path.string();
    return Invalid("--out " + out_path + ":" + which + " exists and is not a regular file");
  }
  return {};
}

// The file --out names: PATH, or the file a symlink at PATH points to (written through, as a
// shell redirection would, rather than the link replaced). The model is written to
// "<file>.tmp" and renamed over the file, so both must be absent or regular files: a rename
// over a device node, a FIFO or a directory would replace it (`--out /dev/full` once did).
core::Result<std::filesystem::path> OutputFile(const std::string& out_path) {
  std::error_code ec;
  std::filesystem::path file = out_path;
  if (std::filesystem::is_symlink(file, ec)) {
    file = std::filesystem::canonical(file, ec);
    if (ec) return Invalid("--out " + out_path + ": a symlink to nothing (" + ec.message() + ")");
  }
  if (auto ok = Replaceable(file, out_path); !ok) return ok.error();
  if (auto ok = Replaceable(file.string() + ".tmp", out_path); !ok) return ok.error();
  return file;
}

// Writes `bytes` to `file` (OutputFile's) through "<file>.tmp", removed on any failure.
core::Status WriteFile(const std::string& out_path, const std::filesystem::path& file,
                       const std::string& bytes) {
  const std::string tmp = file.string() + ".tmp";
  std::error_code ec;
  const auto fail = [&](const std::string& why) {
    std::filesystem::remove(tmp, ec);
    return Invalid("--out " + out_path + ": cannot be written" + why);
  };
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) return fail("");
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) return fail(" (" + ec.message() + ")");
  return {};
}

core::Result<std::optional<router::Prices>> PricesOf(const RouterEvalArgs& args) {
  if (args.strong_price.empty() && args.weak_price.empty()) return std::optional<router::Prices>();
  if (args.strong_price.empty() || args.weak_price.empty()) {
    return Invalid("--strong-price and --weak-price go together");
  }
  if (args.output_tokens < 0) return Invalid("--output-tokens must not be negative");
  auto strong = router::ParsePricePair(args.strong_price);
  if (!strong) return Invalid("--strong-price: " + strong.error().message);
  auto weak = router::ParsePricePair(args.weak_price);
  if (!weak) return Invalid("--weak-price: " + weak.error().message);
  if (auto ok = router::CheckOutputPrice(strong->second, args.output_tokens); !ok) {
    return Invalid("--strong-price: " + ok.error().message);
  }
  if (auto ok = router::CheckOutputPrice(weak->second, args.output_tokens); !ok) {
    return Invalid("--weak-price: " + ok.error().message);
  }
  return std::optional<router::Prices>(
      router::Prices{strong->first, strong->second, weak->first, weak->second, args.output_tokens});
}

bool InSplit(const router::LabeledPrompt& r, const RouterEvalArgs& args) {
  if (args.contaminated == "drop" && r.contaminated) return false;
  if (args.split == "all") return true;
  return router::InValidationSplit(r.id) == (args.split == "validation");
}

std::string Header(const router::Model& model, const RouterEvalArgs& args) {
  const router::Metadata& md = model.metadata();
  std::ostringstream out;
  out << "model: " << args.model << " (strong " << md.strong << ", weak " << md.weak
      << "; trained on " << md.train_examples << " prompts, seed " << md.seed << ")\n"
      << "data: " << args.data << ", contaminated prompts: " << args.contaminated << "\n";
  return out.str();
}

}  // namespace

std::string RouterTrainCommandLine(const RouterTrainArgs& args) {
  return std::string(kProgram) + " --data " + Quote(args.data) + " --strong " + Quote(args.strong) +
         " --weak " + Quote(args.weak) + " --out " + Quote(args.out) + " --seed " +
         std::to_string(args.seed);
}

core::Result<RouterTrainArgs> ParseRouterTrainCommandLine(std::string_view command) {
  auto words = SplitWords(command);
  if (!words) return words.error();
  const std::vector<std::string>& w = *words;
  if (w.size() != 13 || w[0] != "switchyard" || w[1] != "router" || w[2] != "train") {
    return Invalid("not a \"" + std::string(kProgram) + "\" command: " + std::string(command));
  }
  RouterTrainArgs args;
  const std::pair<const char*, std::string*> fields[] = {{"--data", &args.data},
                                                         {"--strong", &args.strong},
                                                         {"--weak", &args.weak},
                                                         {"--out", &args.out}};
  for (size_t i = 0; i < 4; ++i) {
    if (w[3 + 2 * i] != fields[i].first) return Invalid("expected " + std::string(fields[i].first));
    *fields[i].second = w[4 + 2 * i];
  }
  if (w[11] != "--seed") return Invalid("expected --seed");
  try {
    size_t used = 0;
    args.seed = std::stoull(w[12], &used);
    if (used != w[12].size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    return Invalid("--seed " + w[12] + " is not a number");
  }
  return args;
}

core::Result<std::string> BuildRouterModel(const RouterTrainArgs& args, const std::string& base_dir,
                                           std::ostream& log) {
  const std::filesystem::path data(args.data);
  const std::string path =
      base_dir.empty() || data.is_absolute() ? args.data : (base_dir + "/" + args.data);
  // A flag mistake, named as one before the data is read.
  if (args.strong == args.weak) {
    return Invalid("--strong and --weak are the same model (\"" + args.strong +
                   "\"): a router between them has nothing to learn");
  }
  auto loaded = LoadData(path, args.strong, args.weak);
  if (!loaded) return loaded.error();
  const auto started = std::chrono::steady_clock::now();
  const std::vector<router::Example> examples = ExamplesOf(loaded->records);
  router::TrainOptions options;
  options.seed = args.seed;
  options.command = RouterTrainCommandLine(args);
  options.data_sha256 = loaded->sha256;
  options.strong = args.strong;
  options.weak = args.weak;
  auto result = router::Train(examples, options);
  if (!result) return result.error();
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  log << "trained on " << result->train_examples << " of " << examples.size() << " prompts ("
      << result->validation_examples << " held out for validation) in " << Fixed(took.count(), 1)
      << " s\n";
  LogCandidates(*result, log);
  LogValidation(result->model_bytes, loaded->records, log);
  return std::move(result->model_bytes);
}

int RunRouterTrain(const RouterTrainArgs& args, std::ostream& out, std::ostream& err) {
  // Checked before the training, which takes seconds, and again just before the write.
  if (auto file = OutputFile(args.out); !file) return Fail(err, "train", file.error().message);
  auto bytes = BuildRouterModel(args, "", out);
  if (!bytes) return Fail(err, "train", bytes.error().message);
  auto file = OutputFile(args.out);
  if (!file) return Fail(err, "train", file.error().message);
  if (auto written = WriteFile(args.out, *file, *bytes); !written) {
    return Fail(err, "train", written.error().message);
  }
  out << "wrote " << args.out << " (" << bytes->size() << " bytes)\n";
  out.flush();
  return 0;
}

int RunRouterEval(const RouterEvalArgs& args, std::ostream& out, std::ostream& err) {
  auto prices = PricesOf(args);
  if (!prices) return Fail(err, "eval", prices.error().message);
  auto model = router::Model::Load(args.model);
  if (!model) return Fail(err, "eval", model.error().message);
  const router::Metadata& md = (*model)->metadata();
  auto data = LoadData(args.data, md.strong, md.weak);
  if (!data) return Fail(err, "eval", data.error().message);
  std::vector<router::ScoredPrompt> scored;
  for (const auto& r : data->records) {
    if (InSplit(r, args)) scored.push_back(Scored(**model, r));
  }
  if (scored.empty()) return Fail(err, "eval", "no prompts in the " + args.split + " split");
  auto report = router::BuildReport(scored, args.split, args.seed, *prices);
  if (!report) return Fail(err, "eval", report.error().message);
  if (args.format == "json") {
    out << router::FormatReportJson(*report);
  } else {
    out << Header(**model, args) << router::FormatReportTable(*report);
  }
  out.flush();
  return 0;
}

int RunRouterVerify(const RouterVerifyArgs& args, std::ostream& out, std::ostream& err) {
  auto model = router::Model::Load(args.model);
  if (!model) return Fail(err, "verify", model.error().message);
  const std::string& command = (*model)->metadata().command;
  auto train = ParseRouterTrainCommandLine(command);
  if (!train) return Fail(err, "verify", train.error().message);
  std::ostringstream log;
  auto rebuilt = BuildRouterModel(*train, args.base_dir, log);
  if (!rebuilt) return Fail(err, "verify", rebuilt.error().message);
  auto shipped = core::ReadRegularFile(args.model, router::kMaxModelFileBytes, "--model");
  if (!shipped) return Fail(err, "verify", shipped.error().message);
  if (*rebuilt != *shipped) {
    err << "switchyard router verify: " << args.model
        << " is not what its stored command trains; rebuild it from " << args.base_dir
        << " with:\n  " << command << "\n";
    return 1;
  }
  out << args.model << ": reproduced bit for bit by: " << command << "\n";
  return 0;
}

void AddRouterCommand(CLI::App& app) {
  CLI::App* router = app.add_subcommand("router", "Train and evaluate the learned router");
  router->require_subcommand(1);

  CLI::App* train = router->add_subcommand("train", "Train a router model from outcome data");
  auto t = std::make_shared<RouterTrainArgs>();
  train->add_option("--data", t->data, "Routing outcomes, JSON lines")->required();
  train->add_option("--strong", t->strong, "The strong model's key in `outcomes`")->required();
  train->add_option("--weak", t->weak, "The weak model's key in `outcomes`")->required();
  train->add_option("--out", t->out, "The model file to write")->required();
  train->add_option("--seed", t->seed, "Training order seed")->capture_default_str();
  train->callback([t] {
    if (const int status = RunRouterTrain(*t, std::cout, std::cerr); status != 0) {
      throw CLI::RuntimeError(status);
    }
  });

  CLI::App* verify =
      router->add_subcommand("verify", "Retrain a model with its stored command; same bytes?");
  auto v = std::make_shared<RouterVerifyArgs>();
  verify->add_option("--model", v->model, "The router model file")->required();
  verify->add_option("--base-dir", v->base_dir, "Where the stored command's paths start")
      ->capture_default_str();
  verify->callback([v] {
    if (const int status = RunRouterVerify(*v, std::cout, std::cerr); status != 0) {
      throw CLI::RuntimeError(status);
    }
  });

  CLI::App* eval = router->add_subcommand("eval", "RouteLLM's metrics of a router model");
  auto e = std::make_shared<RouterEvalArgs>();
  eval->add_option("--model", e->model, "The router model file")->required();
  eval->add_option("--data", e->data, "Routing outcomes, JSON lines")->required();
  eval->add_option("--split", e->split,
                   "Which prompts: the held-out validation split, the "
                   "training split or all")
      ->check(CLI::IsMember({"validation", "train", "all"}))
      ->capture_default_str();
  eval->add_option("--contaminated", e->contaminated,
                   "Keep or drop prompts marked meta.contaminated (RouteLLM drops them)")
      ->check(CLI::IsMember({"keep", "drop"}))
      ->capture_default_str();
  eval->add_option("--format", e->format, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  eval->add_option("--seed", e->seed, "The random router's seed")->capture_default_str();
  eval->add_option("--strong-price", e->strong_price,
                   "Strong model's USD per million tokens, IN/OUT (e.g. 10/30)");
  eval->add_option("--weak-price", e->weak_price, "Weak model's USD per million tokens, IN/OUT");
  eval->add_option("--output-tokens", e->output_tokens, "Output tokens per request, for dollars")
      ->capture_default_str();
  eval->callback([e] {
    if (const int status = RunRouterEval(*e, std::cout, std::cerr); status != 0) {
      throw CLI::RuntimeError(status);
    }
  });
}

}  // namespace sy::app
