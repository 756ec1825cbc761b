#include "config/workload.h"

#include <gtest/gtest.h>

namespace sy::config {
namespace {

std::string ErrorOf(const std::string& yaml) {
  auto w = ParseWorkload(yaml, "w.yaml");
  return w ? "(parsed)" : w.error().message;
}

constexpr const char* kPolicy = "policies: [{name: p, models: {\"*\": gpt-5.5}}]\n";

std::string Bucket(const std::string& fields) {
  return "buckets:\n  - {name: b, " + fields + "}\n" + kPolicy;
}

TEST(WorkloadTest, ReadsBothVolumeFormsAndShares) {
  auto w = ParseWorkload(R"(
buckets:
  - {name: totals, input_tokens: 100, output_tokens: 20, cached_input_share: "0.125"}
  - name: calls
    calls_per_day: 1000000
    days: 30
    input_tokens_per_call: 1000
    output_tokens_per_call: 500
    off_peak_share: 0.5
    batch_share: 0.25
    samples: ["costs ${HOME} $$5", "two"]
policies:
  - {name: a, models: {totals: gpt-5.5, "*": auto}}
)",
                         "w.yaml");
  ASSERT_TRUE(w.has_value()) << w.error().message;
  ASSERT_EQ(w->buckets.size(), 2u);
  EXPECT_EQ(w->buckets[0].input_tokens, 100);
  EXPECT_EQ(w->buckets[0].cached_input_ppm, 125'000);
  const WorkloadBucket& calls = w->buckets[1];
  EXPECT_EQ(calls.input_tokens, 30'000'000'000);
  EXPECT_EQ(calls.output_tokens, 15'000'000'000);
  EXPECT_EQ(calls.off_peak_ppm, 500'000);
  EXPECT_EQ(calls.batch_ppm, 250'000);
  // Samples are prompts, kept as written: no ${...} expansion.
  EXPECT_EQ(calls.samples, (std::vector<std::string>{"costs ${HOME} $$5", "two"}));
  EXPECT_EQ(w->policies[0].TargetFor("totals"), "gpt-5.5");
  EXPECT_EQ(w->policies[0].TargetFor("calls"), "auto");
}

TEST(WorkloadTest, RefusesMalformedBuckets) {
  EXPECT_EQ(ErrorOf(Bucket("input_tokens: 1")), "buckets[0].output_tokens: required");
  EXPECT_EQ(ErrorOf(Bucket("input_tokens: 1, output_tokens: 1, calls_per_day: 3")),
            "buckets[0]: state either input_tokens and output_tokens, or calls_per_day, days, "
            "input_tokens_per_call and output_tokens_per_call");
  EXPECT_EQ(ErrorOf(Bucket("calls_per_day: 3, days: 1, input_tokens_per_call: 1")),
            "buckets[0].output_tokens_per_call: required");
  EXPECT_EQ(ErrorOf(Bucket("input_tokens: -1, output_tokens: 1")),
            "buckets[0].input_tokens: must not be negative");
  EXPECT_EQ(ErrorOf(Bucket("calls_per_day: 1000000000, days: 1000, input_tokens_per_call: "
                           "1000000, output_tokens_per_call: 1")),
            "buckets[0]: more than 10^15 tokens in one bucket");
  EXPECT_EQ(ErrorOf(Bucket("input_tokens: 1, output_tokens: 1, off_peak_share: 1.5")),
            "buckets[0].off_peak_share: \"1.5\" is not a share from 0 to 1 with at most six "
            "decimals");
  EXPECT_EQ(ErrorOf(Bucket("input_tokens: 1, output_tokens: 1, batch_share: 0.0000001")),
            "buckets[0].batch_share: \"0.0000001\" is not a share from 0 to 1 with at most six "
            "decimals");
  EXPECT_EQ(ErrorOf(Bucket("input_tokens: 1, output_tokens: 1, off_peak_share: 0.6, "
                           "batch_share: 0.5")),
            "buckets[0]: off_peak_share and batch_share add up to more than 1");
  EXPECT_EQ(ErrorOf(Bucket("input_tokens: 1, output_tokens: 1, tokens: 3")),
            "buckets[0].tokens: unknown key");
  EXPECT_EQ(ErrorOf(Bucket("input_tokens: 1, output_tokens: 1, samples: [[1]]")),
            "buckets[0].samples[0]: expected a string");
}

// As in the gateway's config (config_test.cpp): anchors and aliases are refused before any walk.
TEST(WorkloadTest, RefusesAnchorsAndAliases) {
  EXPECT_EQ(ErrorOf("buckets:\n  - &b {name: b, input_tokens: 1, output_tokens: 1}\n  - *b\n" +
                    std::string(kPolicy)),
            "w.yaml:2:5: anchors (&name) are not supported; write the value out");
}

// `plan --workload /dev/zero` grew to 9.7 GB: the 16 MiB check was skipped for what has no size
// (audit 2, finding 5). Refused unread now.
TEST(WorkloadTest, RefusesASecondDocument) {
  EXPECT_EQ(ErrorOf(Bucket("input_tokens: 1, output_tokens: 1") + "---\n" + kPolicy),
            "w.yaml:4:1: a second YAML document (after \"---\"): the file must hold one "
            "document, so nothing in it is silently ignored");
}

TEST(WorkloadTest, RefusesAFileThatIsNotARegularFile) {
  auto w = LoadWorkloadFile("/dev/zero");
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().message, "workload file /dev/zero: not a regular file");
}

TEST(WorkloadTest, RefusesPoliciesThatDoNotCoverTheBuckets) {
  const std::string buckets =
      "buckets:\n  - {name: a, input_tokens: 1, output_tokens: 1}\n"
      "  - {name: b, input_tokens: 1, output_tokens: 1}\n";
  EXPECT_EQ(ErrorOf(buckets + "policies: [{name: p, models: {a: gpt-5.5}}]\n"),
            "policies[0].models: bucket \"b\" has no model (name it, or add \"*\")");
  EXPECT_EQ(ErrorOf(buckets + "policies: [{name: p, models: {c: gpt-5.5, \"*\": x}}]\n"),
            "policies[0].models.c: no bucket has this name");
  EXPECT_EQ(ErrorOf(buckets + "policies: [{name: p, models: {\"*\": x}}, {name: p, models: "
                              "{\"*\": y}}]\n"),
            "policies[1].name: duplicate policy name \"p\"");
  EXPECT_EQ(ErrorOf("buckets:\n  - {name: a, input_tokens: 1, output_tokens: 1}\n"
                    "  - {name: a, input_tokens: 1, output_tokens: 1}\n"),
            "buckets[1].name: duplicate bucket name \"a\"");
  EXPECT_EQ(ErrorOf(buckets + "policies: [{name: p}]\n"), "policies[0].models: required");
  EXPECT_EQ(ErrorOf("policies: []\n"), "buckets: required (at least one bucket)");
  EXPECT_EQ(ErrorOf("buckets: [").rfind("w.yaml:", 0), 0u);  // a syntax error, with its place
}

TEST(WorkloadTest, BoundsSamples) {
  std::string samples = "[";
  for (size_t i = 0; i <= kMaxSamples; ++i) samples += "x,";
  samples += "x]";
  EXPECT_EQ(ErrorOf(Bucket("input_tokens: 1, output_tokens: 1, samples: " + samples)),
            "buckets[0].samples: more than 1000 samples");
  EXPECT_EQ(ErrorOf(Bucket("input_tokens: 1, output_tokens: 1, samples: [\"" +
                           std::string(kMaxSampleBytes + 1, 'a') + "\"]")),
            "buckets[0].samples[0]: longer than 64 KiB");
}

}  // namespace
}  // namespace sy::config
