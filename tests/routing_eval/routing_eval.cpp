// sy_routing_eval: measures routing::Classify on labelled requests.
//
// Reads JSON Lines files whose records are
//   {"id": "...", "task_type": "<one of the twelve>", "dialect": "openai"|"anthropic",
//    "language": "en", "body": {<a Chat Completions or Messages request body>}}
// runs the dialect's prompt reader and Classify on each body, and prints per-type precision,
// recall and F1, macro-F1 (over the types present in the labels), accuracy, language accuracy
// and the confusion matrix as Markdown.
//
// Usage: sy_routing_eval [--min-macro-f1 X] [--explain] FILE...
//   --min-macro-f1 X  exit 1 when macro-F1 is below X
//   --explain         also list each misclassified record with its scores (for tuning on the
//                     train files only)
// Exit: 0 ok, 1 below the threshold, 2 bad usage or unreadable input.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "routing/classify_internal.h"
#include "routing/features.h"
#include "tests/routing_eval/labelled.h"

namespace {

using sy::routing::kTaskTypeCount;
using sy::routing::TaskType;
using sy::routing_eval::LabelledRequest;
using sy::routing_eval::LastUserText;
using sy::routing_eval::ReadLabelledFile;

struct Options {
  std::vector<std::string> files;
  double min_macro_f1 = -1;
  bool explain = false;
};

struct Tally {
  std::array<std::array<int, kTaskTypeCount>, kTaskTypeCount> confusion{};  // [labelled][predicted]
  int records = 0;
  int correct = 0;
  int language_correct = 0;
  std::map<std::string, std::pair<int, int>> by_language;  // labelled language: {correct, n}
  std::map<std::string, std::pair<int, int>> by_dialect;
};

bool ParseArgs(int argc, char** argv, Options& out) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--min-macro-f1" && i + 1 < argc) {
      char* end = nullptr;
      out.min_macro_f1 = std::strtod(argv[++i], &end);
      if (end == argv[i] || *end != '\0') return false;
    } else if (arg == "--explain") {
      out.explain = true;
    } else if (arg.starts_with("--")) {
      return false;
    } else {
      out.files.push_back(arg);
    }
  }
  return !out.files.empty();
}

void Explain(const std::string& id, TaskType want, TaskType got, const sy::core::Prompt& prompt) {
  sy::routing::detail::Evidence ev;
  sy::routing::detail::GatherEvidence(prompt, ev);
  const sy::routing::Features f = sy::routing::Classify(prompt);
  (void)sy::routing::detail::DecideType(prompt, f.context, f.code, ev);
  std::cout << "- `" << id << "` " << sy::routing::TaskTypeName(want) << " -> "
            << sy::routing::TaskTypeName(got) << " [";
  for (size_t t = 0; t < kTaskTypeCount; ++t) {
    if (ev.scores[t] != 0) {
      std::cout << sy::routing::kTaskTypeNames[t] << "=" << ev.scores[t] << " ";
    }
  }
  std::cout << "ctx=" << f.context << " code=" << f.code << " q=" << ev.questions
            << " lang=" << f.language << "] " << LastUserText(prompt, 160) << "\n";
}

void Count(const LabelledRequest& r, const Options& opt, Tally& tally) {
  const sy::routing::Features f = sy::routing::Classify(r.prompt);
  const auto w = static_cast<size_t>(r.label);
  const auto g = static_cast<size_t>(f.task_type);
  ++tally.confusion[w][g];
  ++tally.records;
  const bool ok = w == g;
  tally.correct += ok ? 1 : 0;
  tally.language_correct += f.language == r.language ? 1 : 0;
  if (opt.explain && f.language != r.language) {
    std::cout << "- `" << r.id << "` language " << r.language << " -> " << f.language << ": "
              << LastUserText(r.prompt, 160) << "\n";
  }
  auto& lang = tally.by_language[r.language];
  lang.first += ok ? 1 : 0;
  ++lang.second;
  auto& dia = tally.by_dialect[r.dialect];
  dia.first += ok ? 1 : 0;
  ++dia.second;
  if (opt.explain && !ok) Explain(r.id, r.label, f.task_type, r.prompt);
}

// Returns false when the file cannot be read; a bad line is reported and skipped.
bool EvaluateFile(const std::string& path, const Options& opt, Tally& tally) {
  return ReadLabelledFile(path, "sy_routing_eval",
                          [&](std::unique_ptr<LabelledRequest> r) { Count(*r, opt, tally); });
}

std::string Fixed(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", x);
  return buf;
}

// Prints the report; returns macro-F1.
double Report(const Tally& t) {
  std::cout << "\n| type | n | precision | recall | F1 |\n|---|---:|---:|---:|---:|\n";
  double f1_sum = 0;
  int types = 0;
  for (size_t k = 0; k < kTaskTypeCount; ++k) {
    int support = 0, predicted = 0;
    for (size_t j = 0; j < kTaskTypeCount; ++j) {
      support += t.confusion[k][j];
      predicted += t.confusion[j][k];
    }
    if (support == 0 && predicted == 0) continue;
    const int hit = t.confusion[k][k];
    const double p = predicted ? static_cast<double>(hit) / predicted : 0;
    const double r = support ? static_cast<double>(hit) / support : 0;
    const double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
    if (support > 0) {
      f1_sum += f1;
      ++types;
    }
    std::cout << "| " << sy::routing::kTaskTypeNames[k] << " | " << support << " | " << Fixed(p)
              << " | " << Fixed(r) << " | " << Fixed(f1) << " |\n";
  }
  const double macro = types ? f1_sum / types : 0;
  const double n = t.records;
  std::cout << "\n**macro-F1 " << Fixed(macro) << "**, accuracy " << Fixed(t.correct / n) << " ("
            << t.correct << "/" << t.records << "), language accuracy "
            << Fixed(t.language_correct / n)
            << "\n\n| language | n | accuracy |\n|---|---:|---:|\n";
  for (const auto& [lang, c] : t.by_language) {
    std::cout << "| " << lang << " | " << c.second << " | " << Fixed(1.0 * c.first / c.second)
              << " |\n";
  }
  std::cout << "\n| dialect | n | accuracy |\n|---|---:|---:|\n";
  for (const auto& [dialect, c] : t.by_dialect) {
    std::cout << "| " << dialect << " | " << c.second << " | " << Fixed(1.0 * c.first / c.second)
              << " |\n";
  }
  std::cout << "\nConfusion matrix (rows: labelled, columns: predicted)\n\n| |";
  for (const auto name : sy::routing::kTaskTypeNames) std::cout << " " << name << " |";
  std::cout << "\n|---|";
  for (size_t k = 0; k < kTaskTypeCount; ++k) std::cout << "---:|";
  std::cout << "\n";
  for (size_t k = 0; k < kTaskTypeCount; ++k) {
    std::cout << "| **" << sy::routing::kTaskTypeNames[k] << "** |";
    for (size_t j = 0; j < kTaskTypeCount; ++j) std::cout << " " << t.confusion[k][j] << " |";
    std::cout << "\n";
  }
  return macro;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!ParseArgs(argc, argv, opt)) {
    std::cerr << "usage: sy_routing_eval [--min-macro-f1 X] [--explain] FILE...\n";
    return 2;
  }
  Tally tally;
  for (const auto& file : opt.files) {
    if (!EvaluateFile(file, opt, tally)) return 2;
  }
  if (tally.records == 0) {
    std::cerr << "sy_routing_eval: no labelled records in the given files\n";
    return 2;
  }
  std::cout << "\n## Task classification: " << tally.records << " records\n";
  const double macro = Report(tally);
  if (opt.min_macro_f1 >= 0 && macro < opt.min_macro_f1) {
    std::cout << "\nFAIL: macro-F1 " << Fixed(macro) << " is below " << Fixed(opt.min_macro_f1)
              << "\n";
    return 1;
  }
  return 0;
}
