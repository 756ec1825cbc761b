// `switchyard router train|eval` end to end on a small synthetic data file, and the shipped
// model's reproducibility: retraining with the command stored in config/router/'s model, on the
// data it names (../shared/data/routing/ beside the source tree), must give the same bytes.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/cli/router_command.h"
#include "router/router.h"
#include "router/router_testing.h"

namespace sy::app {
namespace {

namespace json = boost::json;

constexpr const char* kShipped = "/config/router/routellm-gpt4-mixtral.syr";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Removes the files TempPath named when the test process ends.
class TempFiles final : public ::testing::Environment {
 public:
  static std::vector<std::string>& Paths() {
    static std::vector<std::string> paths;
    return paths;
  }
  void TearDown() override {
    std::error_code ec;
    for (const std::string& path : Paths()) std::filesystem::remove(path, ec);
  }
};
::testing::Environment* const kTempFiles = ::testing::AddGlobalTestEnvironment(new TempFiles);

// A temporary file of this test's own: ctest runs the tests of this binary in parallel
// processes, which once read each other's half-written data file.
std::string TempPath(const std::string& name) {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string path = ::testing::TempDir() + "router_cli_" + test->name() + "_" +
                     std::to_string(::getpid()) + "_" + name;
  TempFiles::Paths().push_back(path);
  return path;
}

// SyntheticExamples as a data file in the routing-outcomes format.
std::string WriteSyntheticData() {
  std::string jsonl;
  for (const router::Example& e : router::testing::SyntheticExamples()) {
    json::object line{{"id", e.id},
                      {"source", e.source},
                      {"prompt", e.text},
                      {"outcomes", json::object{{"big", e.strong}, {"small", e.weak}}},
                      {"meta", json::object{{"score_type", "correct_0_1"}, {"subject", e.topic}}}};
    jsonl += json::serialize(line) + "\n";
  }
  const std::string path = TempPath("data.jsonl");
  std::ofstream(path, std::ios::binary) << jsonl;
  return path;
}

RouterTrainArgs SyntheticTrainArgs() {
  RouterTrainArgs args;
  args.data = WriteSyntheticData();
  args.strong = "big";
  args.weak = "small";
  args.out = TempPath("model.syr");
  args.seed = 4;
  return args;
}

TEST(RouterCommandTest, CommandLinesRoundTrip) {
  RouterTrainArgs args;
  args.data = "../shared/data/routing/routing-train.jsonl";
  args.strong = "gpt-4-1106-preview";
  args.weak = "mistralai/Mixtral-8x7B-Instruct-v0.1";
  args.out = "config/router/routellm-gpt4-mixtral.syr";
  args.seed = 1;
  const std::string line = RouterTrainCommandLine(args);
  EXPECT_EQ(line,
            "switchyard router train --data ../shared/data/routing/routing-train.jsonl --strong "
            "gpt-4-1106-preview --weak mistralai/Mixtral-8x7B-Instruct-v0.1 --out "
            "config/router/routellm-gpt4-mixtral.syr --seed 1");
  args.strong = "it's big";
  args.weak = "";
  const std::string quoted = RouterTrainCommandLine(args);
  EXPECT_NE(quoted.find("--strong 'it'\\''s big' --weak ''"), std::string::npos) << quoted;
  auto parsed = ParseRouterTrainCommandLine(quoted);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->strong, "it's big");
  EXPECT_EQ(parsed->weak, "");
  EXPECT_EQ(parsed->seed, 1u);
  EXPECT_FALSE(ParseRouterTrainCommandLine("switchyard router eval --model m").has_value());
  EXPECT_FALSE(ParseRouterTrainCommandLine(line.substr(0, line.size() - 1) + "x").has_value());
}

TEST(RouterCommandTest, TrainsThenEvaluates) {
  const RouterTrainArgs args = SyntheticTrainArgs();
  std::ostringstream out;
  std::ostringstream err;
  ASSERT_EQ(RunRouterTrain(args, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("cross-validation inside the training split"), std::string::npos);
  EXPECT_NE(out.str().find("wrote " + args.out), std::string::npos);
  auto model = router::Model::Load(args.out);
  ASSERT_TRUE(model.has_value()) << model.error().message;
  EXPECT_EQ((*model)->metadata().command, RouterTrainCommandLine(args));
  EXPECT_EQ((*model)->metadata().strong, "big");

  RouterEvalArgs eval;
  eval.model = args.out;
  eval.data = args.data;
  eval.split = "all";
  eval.format = "json";
  eval.strong_price = "10/30";
  eval.weak_price = "0.5/1.5";
  eval.output_tokens = 100;
  std::ostringstream report;
  ASSERT_EQ(RunRouterEval(eval, report, err), 0) << err.str();
  const json::object o = json::parse(report.str()).as_object();
  EXPECT_EQ(o.at("n").as_int64(), 400);
  EXPECT_TRUE(o.at("sources").as_object().contains("exam"));
  EXPECT_TRUE(o.at("baselines").as_object().contains("length"));
  EXPECT_TRUE(o.at("curve").as_array()[0].as_object().contains("usd_per_1k_requests"));
  eval.format = "table";
  std::ostringstream table;
  ASSERT_EQ(RunRouterEval(eval, table, err), 0) << err.str();
  EXPECT_NE(table.str().find("exam (n=200"), std::string::npos) << table.str();
}

TEST(RouterCommandTest, UnusableInputsExitTwo) {
  const RouterTrainArgs good = SyntheticTrainArgs();
  std::ostringstream out;
  const auto train_error = [&](RouterTrainArgs args) {
    std::ostringstream err;
    EXPECT_EQ(RunRouterTrain(args, out, err), 2);
    return err.str();
  };
  RouterTrainArgs missing = good;
  missing.data = good.data + ".missing";
  EXPECT_EQ(train_error(missing),
            "switchyard router train: --data " + missing.data + ": no such file\n");
  RouterTrainArgs wrong_model = good;
  wrong_model.strong = "huge";
  EXPECT_EQ(train_error(wrong_model), "switchyard router train: --data " + good.data +
                                          ": line 1: outcomes has no number for \"huge\"\n");
  // Named as the flags' mistake, before the data is read (audit 2).
  RouterTrainArgs same = good;
  same.data = good.data + ".missing";
  same.weak = same.strong;
  EXPECT_EQ(train_error(same),
            "switchyard router train: --strong and --weak are the same model (\"" + same.strong +
                "\"): a router between them has nothing to learn\n");
  RouterTrainArgs unwritable = good;
  unwritable.out = ::testing::TempDir() + "no/such/dir/model.syr";
  EXPECT_NE(train_error(unwritable).find("cannot be written"), std::string::npos);

  const auto eval_error = [&](RouterEvalArgs args) {
    std::ostringstream err;
    EXPECT_EQ(RunRouterEval(args, out, err), 2);
    return err.str();
  };
  RouterEvalArgs eval;
  eval.model = good.data;  // not a model
  eval.data = good.data;
  EXPECT_NE(eval_error(eval).find("not a Switchyard router model"), std::string::npos);
  eval.model = good.out;
  eval.strong_price = "10/30";
  EXPECT_EQ(eval_error(eval),
            "switchyard router eval: --strong-price and --weak-price go together\n");
  eval.weak_price = "cheap";
  EXPECT_NE(eval_error(eval).find("--weak-price: a price is IN/OUT"), std::string::npos);
}

// `--out /dev/full` replaced the device node with the model by rename (audit 2, finding 11): an
// existing --out that is not a regular file is refused before training, and left as it was.
TEST(RouterCommandTest, RefusesAnOutThatIsNotARegularFile) {
  RouterTrainArgs args = SyntheticTrainArgs();
  const std::string fifo = TempPath("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string dir = TempPath("dir");
  ASSERT_TRUE(std::filesystem::create_directory(dir));
  for (const std::string& out : {fifo, dir}) {
    args.out = out;
    std::ostringstream log;
    std::ostringstream err;
    EXPECT_EQ(RunRouterTrain(args, log, err), 2);
    EXPECT_EQ(err.str(),
              "switchyard router train: --out " + out + ": exists and is not a regular file\n");
    EXPECT_EQ(log.str(), "") << "refused before training";
    EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));
  }
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));
  EXPECT_TRUE(std::filesystem::is_directory(dir));
}

// A symlink was replaced by the model rather than followed: now the file it names is written.
TEST(RouterCommandTest, WritesThroughASymlinkOut) {
  RouterTrainArgs args = SyntheticTrainArgs();
  const std::string target = TempPath("target.syr");
  std::ofstream(target) << "old";
  args.out = TempPath("link.syr");
  std::filesystem::create_symlink(target, args.out);
  std::ostringstream log;
  std::ostringstream err;
  ASSERT_EQ(RunRouterTrain(args, log, err), 0) << err.str();
  EXPECT_TRUE(std::filesystem::is_symlink(args.out));
  auto model = router::Model::Load(target);
  EXPECT_TRUE(model.has_value()) << model.error().message;
  EXPECT_FALSE(std::filesystem::exists(target + ".tmp"));
}

// A write that fails (a full disk, here a file size limit) left PATH.tmp behind; it is removed.
TEST(RouterCommandTest, AFailedWriteLeavesNoTemporaryFile) {
  RouterTrainArgs args = SyntheticTrainArgs();  // writes the data file before the limit
  std::ostringstream log;
  std::ostringstream err;
  rlimit before{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &before), 0);
  // Past the limit write() fails with EFBIG instead of raising SIGXFSZ.
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = before;
  small.rlim_cur = 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const int status = RunRouterTrain(args, log, err);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &before), 0);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(status, 2);
  EXPECT_EQ(err.str(), "switchyard router train: --out " + args.out + ": cannot be written\n");
  EXPECT_FALSE(std::filesystem::exists(args.out));
  EXPECT_FALSE(std::filesystem::exists(args.out + ".tmp"));
}

// Prices outside what a report can cost are refused with a message naming the flag, or the
// request, that overflows; never a wrapped figure (exit 2).
TEST(RouterCommandTest, PricesPastTheLargestMoneyExitTwoNamingWhatOverflows) {
  const RouterTrainArgs args = SyntheticTrainArgs();
  std::ostringstream out;
  std::ostringstream err;
  ASSERT_EQ(RunRouterTrain(args, out, err), 0) << err.str();
  struct Case {
    const char* strong;
    const char* weak;
    int64_t output_tokens;
    std::string error;  // the start of stderr; "" when the report is made
  };
  const Case cases[] = {
      {"10/30", "0.5/1.5", 500, ""},
      {"10/99999999999999999999", "0.5/1.5", 500,
       "switchyard router eval: --strong-price: \"99999999999999999999\" is too large"},
      // The largest output price 500 tokens allow passes the flag's check; with the prompts'
      // input on top, the all-weak point's 1,000 requests do not fit.
      {"10/30", "0.5/18446744.073709", 500,
       "switchyard router eval: cost overflows: 1,000 requests routed at a strong share of 0.0% "
       "cost more than the largest amount a report holds (9223372.036854775807 USD)"},
      {"10/30", "0.5/18446744.07371", 500,
       "switchyard router eval: --weak-price: cost overflows: 1,000 requests of 500 output tokens "
       "at 18446744.07371 USD per million output tokens cost more than the largest amount a "
       "report holds (9223372.036854775807 USD); at most 18446744.073709 fits"},
      {"9223372036854.775807/30", "0.5/1.5", 0,
       "switchyard router eval: cost overflows: a request of "},
      {"10/30", "0.5/1.5", std::numeric_limits<int64_t>::max(),
       "switchyard router eval: --strong-price: cost overflows: 1,000 requests of "
       "9223372036854775807 output tokens"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.strong) + " " + c.weak);
    RouterEvalArgs eval;
    eval.model = args.out;
    eval.data = args.data;
    eval.split = "all";
    eval.format = "json";
    eval.strong_price = c.strong;
    eval.weak_price = c.weak;
    eval.output_tokens = c.output_tokens;
    std::ostringstream report;
    std::ostringstream eval_err;
    const int status = RunRouterEval(eval, report, eval_err);
    if (c.error.empty()) {
      EXPECT_EQ(status, 0) << eval_err.str();
      continue;
    }
    EXPECT_EQ(status, 2);
    EXPECT_EQ(eval_err.str().substr(0, c.error.size()), c.error) << eval_err.str();
    EXPECT_EQ(report.str(), "");
  }
}

// verify retrains with the stored command: the same data gives the same bytes (exit 0); other
// data under the same name gives other bytes (exit 1), and a model file that is not one, exit 2.
TEST(RouterCommandTest, VerifyRetrainsWithTheStoredCommandAndComparesTheBytes) {
  RouterTrainArgs args = SyntheticTrainArgs();
  args.out = TempPath("verify.syr");
  std::ostringstream out;
  std::ostringstream err;
  ASSERT_EQ(RunRouterTrain(args, out, err), 0) << err.str();
  const RouterVerifyArgs verify{.model = args.out, .base_dir = "."};
  std::ostringstream said;
  EXPECT_EQ(RunRouterVerify(verify, said, err), 0) << err.str();
  EXPECT_NE(said.str().find("reproduced bit for bit"), std::string::npos);

  std::ofstream(args.data, std::ios::app) << ReadAll(args.data);  // every prompt twice
  std::ostringstream differs;
  EXPECT_EQ(RunRouterVerify(verify, out, differs), 1);
  EXPECT_NE(differs.str().find("is not what its stored command trains"), std::string::npos);

  std::ofstream(args.out, std::ios::binary) << "not a model";
  std::ostringstream broken;
  EXPECT_EQ(RunRouterVerify(verify, out, broken), 2);
}

TEST(RouterCommandTest, ShippedModelIsReproducible) {
  const std::string source_dir = SY_SOURCE_DIR;
  auto shipped = router::Model::Load(source_dir + kShipped);
  ASSERT_TRUE(shipped.has_value()) << shipped.error().message;
  auto args = ParseRouterTrainCommandLine((*shipped)->metadata().command);
  ASSERT_TRUE(args.has_value()) << args.error().message;
  if (!std::filesystem::exists(source_dir + "/" + args->data)) {
    GTEST_SKIP() << "the training data " << args->data << " is not there relative to " << source_dir
                 << ": cannot check that " << kShipped << " is reproducible";
  }
  std::ostringstream log;
  auto rebuilt = BuildRouterModel(*args, source_dir, log);
  ASSERT_TRUE(rebuilt.has_value()) << rebuilt.error().message;
  const std::string bytes = ReadAll(source_dir + kShipped);
  EXPECT_EQ(rebuilt->size(), bytes.size());
  EXPECT_TRUE(*rebuilt == bytes)
      << "retraining with the stored command gives other bytes: rerun it from the source dir:\n"
      << (*shipped)->metadata().command;
}

}  // namespace
}  // namespace sy::app
