// `switchyard keys`: the flags reach the create and rotate as the admin API's fields, so a bad
// value is refused with the admin API's message (audit 2, finding 9: `--rpm 0`, `--rpm -1` and
// `--tpm 0` created a key with no limit; `--grace-seconds -5` gave the old secret a day).
#include "app/cli/keys_command.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace sy::app {
namespace {

namespace json = boost::json;

class KeysCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "sy-keys-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    args_.config = dir_ + "/gateway.yaml";
    std::ofstream(args_.config)
        << "providers:\n"
           "  p: {kind: openai, base_url: \"http://127.0.0.1:9/v1\"}\n"
           "models:\n"
           "  m: {provider: p, price: {input: \"1.00\", output: \"2.00\"}}\n"
           "ledger: {sqlite_path: \""
        << dir_ << "/ledger.db\"}\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `verb` with args_; the answer on stdout, parsed, or null on failure.
  json::value Run(std::string_view verb) {
    out_.str("");
    err_.str("");
    status_ = RunKeys(args_, verb, out_, err_);
    return status_ == 0 ? json::parse(out_.str()) : json::value();
  }

  std::string dir_;
  KeysArgs args_;
  int status_ = -1;
  std::ostringstream out_, err_;
};

TEST_F(KeysCommandTest, RefusesRatesOutsideTheAdminApisRange) {
  args_.tenant = "acme";
  for (const int64_t rpm : {0, -1, 1'000'000'001}) {
    args_.rpm = rpm;
    Run("create");
    EXPECT_EQ(status_, 2) << rpm;
    EXPECT_EQ(err_.str(),
              "switchyard keys: limits.requests_per_minute must be a whole number from 1 to "
              "1000000000\n");
  }
  args_.rpm.reset();
  args_.tpm = 0;
  Run("create");
  EXPECT_EQ(status_, 2);
  EXPECT_EQ(err_.str(),
            "switchyard keys: limits.tokens_per_minute must be a whole number from 1 to "
            "1000000000\n");
  // Nothing was created by the refusals.
  args_.tenant.clear();
  EXPECT_EQ(Run("list").at("data").as_array().size(), 0u) << err_.str();
}

TEST_F(KeysCommandTest, LeftOutRatesMeanNoLimitAndGivenOnesAreKept) {
  args_.tenant = "acme";
  const json::value unlimited = Run("create");
  ASSERT_EQ(status_, 0) << err_.str();
  EXPECT_TRUE(unlimited.at("limits").at("requests_per_minute").is_null());
  EXPECT_TRUE(unlimited.at("limits").at("tokens_per_minute").is_null());
  args_.rpm = 1;
  args_.tpm = 1'000'000'000;
  const json::value limited = Run("create");
  ASSERT_EQ(status_, 0) << err_.str();
  EXPECT_EQ(limited.at("limits").at("requests_per_minute").as_int64(), 1);
  EXPECT_EQ(limited.at("limits").at("tokens_per_minute").as_int64(), 1'000'000'000);
}

TEST_F(KeysCommandTest, RefusesANegativeGraceAndKeepsTheDefaultWhenLeftOut) {
  args_.tenant = "acme";
  const json::value created = Run("create");
  ASSERT_EQ(status_, 0) << err_.str();
  args_.id = std::string(created.at("id").as_string());
  for (const int64_t grace : {-5, 2'592'001}) {
    args_.grace_seconds = grace;
    Run("rotate");
    EXPECT_EQ(status_, 2) << grace;
    EXPECT_EQ(err_.str(),
              "switchyard keys: grace_seconds must be a whole number from 0 to 2592000\n");
  }
  args_.grace_seconds.reset();
  Run("rotate");
  EXPECT_EQ(status_, 0) << err_.str();
  args_.grace_seconds = 0;
  Run("rotate");
  EXPECT_EQ(status_, 0) << err_.str();
}

// Regression: `keys list --db typo.db` created an empty ledger there and listed no keys.
TEST_F(KeysCommandTest, OnlyACreateMakesANewDatabase) {
  args_.db = dir_ + "/typo.db";
  for (const std::string_view verb : {"list", "revoke", "rotate"}) {
    args_.id = "key_x";
    Run(verb);
    EXPECT_EQ(status_, 2) << verb;
    EXPECT_EQ(err_.str(), "switchyard keys: key database '" + args_.db +
                              "' does not exist (a keys create, or the gateway's first start, "
                              "makes it)\n");
    EXPECT_FALSE(std::filesystem::exists(args_.db)) << verb;
    EXPECT_FALSE(std::filesystem::exists(args_.db + ".pepper")) << verb;
  }
  args_.tenant = "acme";
  Run("create");
  ASSERT_EQ(status_, 0) << err_.str();
  EXPECT_EQ(Run("list").at("data").as_array().size(), 1u) << err_.str();
}

}  // namespace
}  // namespace sy::app
