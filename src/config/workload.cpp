#include "config/workload.h"

#include <algorithm>
#include <optional>

#include <yaml-cpp/yaml.h>

#include "config/detail/yaml_reader.h"
#include "core/file.h"

namespace sy::config {
namespace {

using detail::IndexPath;
using detail::JoinPath;
using detail::MapReader;
using detail::Need;
using detail::PathError;
using detail::Quote;

// A workload has no secrets: ${NAME} is not expanded (names are checked like any text).
std::optional<std::string> NoEnv(std::string_view) { return std::nullopt; }

// a * b, or nullopt past kMaxTokens (or on overflow).
std::optional<int64_t> Tokens(int64_t a, int64_t b) {
  int64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product) || product > kMaxTokens) return std::nullopt;
  return product;
}

// The volume in one of its two forms: totals, or calls_per_day x days x tokens per call.
void ReadVolume(MapReader& r, WorkloadBucket& out) {
  std::optional<int64_t> input, output, calls, days, input_per_call, output_per_call;
  r.Int("input_tokens", input);
  r.Int("output_tokens", output);
  r.Int("calls_per_day", calls);
  r.Int("days", days);
  r.Int("input_tokens_per_call", input_per_call);
  r.Int("output_tokens_per_call", output_per_call);
  if (!r.ok()) return;
  const bool totals = input || output;
  const bool per_call = calls || days || input_per_call || output_per_call;
  if (totals == per_call) {
    return r.Fail(PathError(r.path(),
                            "state either input_tokens and output_tokens, or calls_per_day, days, "
                            "input_tokens_per_call and output_tokens_per_call"));
  }
  const auto need = [&](const std::optional<int64_t>& value, std::string_view key) {
    if (!r.ok()) return false;
    if (!value)
      r.Fail(PathError(JoinPath(r.path(), key), "required"));
    else if (*value < 0)
      r.Fail(PathError(JoinPath(r.path(), key), "must not be negative"));
    return r.ok();
  };
  if (totals) {
    if (!need(input, "input_tokens") || !need(output, "output_tokens")) return;
    if (*input > kMaxTokens || *output > kMaxTokens) {
      return r.Fail(PathError(r.path(), "more than 10^15 tokens in one bucket"));
    }
    out.input_tokens = *input;
    out.output_tokens = *output;
    return;
  }
  if (!need(calls, "calls_per_day") || !need(days, "days") ||
      !need(input_per_call, "input_tokens_per_call") ||
      !need(output_per_call, "output_tokens_per_call")) {
    return;
  }
  const auto calls_total = Tokens(*calls, *days);
  const auto input_total = calls_total ? Tokens(*calls_total, *input_per_call) : std::nullopt;
  const auto output_total = calls_total ? Tokens(*calls_total, *output_per_call) : std::nullopt;
  if (!input_total || !output_total) {
    return r.Fail(PathError(r.path(), "more than 10^15 tokens in one bucket"));
  }
  out.input_tokens = *input_total;
  out.output_tokens = *output_total;
}

// samples: plain strings, kept as written (a prompt may contain "${" or "$$").
void ReadSamples(const YAML::Node& node, const std::string& path, MapReader& r,
                 std::vector<std::string>& out) {
  const YAML::Node samples = node["samples"];
  if (!samples.IsDefined() || samples.IsNull()) return;
  const std::string samples_path = JoinPath(path, "samples");
  if (!samples.IsSequence()) return r.Fail(PathError(samples_path, "expected a list of strings"));
  if (samples.size() > kMaxSamples) {
    return r.Fail(PathError(samples_path, "more than " + std::to_string(kMaxSamples) + " samples"));
  }
  size_t index = 0;
  for (const auto& item : samples) {
    const std::string item_path = IndexPath(samples_path, index++);
    if (!item.IsScalar()) return r.Fail(PathError(item_path, "expected a string"));
    if (item.Scalar().size() > kMaxSampleBytes) {
      return r.Fail(PathError(item_path, "longer than 64 KiB"));
    }
    out.push_back(item.Scalar());
  }
}

core::Status ReadBucket(const YAML::Node& node, const std::string& path, WorkloadBucket& out) {
  MapReader r(
      node, path,
      {"name", "input_tokens", "output_tokens", "calls_per_day", "days", "input_tokens_per_call",
       "output_tokens_per_call", "cached_input_share", "off_peak_share", "batch_share", "samples"},
      &NoEnv);
  r.String("name", out.name, Need::kRequired);
  if (r.ok() && (out.name.empty() || out.name == "*")) {
    r.Fail(PathError(JoinPath(path, "name"), Quote(out.name) + " is not a bucket name"));
  }
  ReadVolume(r, out);
  r.Share("cached_input_share", out.cached_input_ppm);
  r.Share("off_peak_share", out.off_peak_ppm);
  r.Share("batch_share", out.batch_ppm);
  if (r.ok() && out.off_peak_ppm + out.batch_ppm > kPartsPerMillion) {
    r.Fail(PathError(path, "off_peak_share and batch_share add up to more than 1"));
  }
  if (r.ok()) ReadSamples(node, path, r, out.samples);
  return r.status();
}

core::Status ReadPolicy(const YAML::Node& node, const std::string& path, WorkloadPolicy& out) {
  MapReader r(node, path, {"name", "models"}, &NoEnv);
  r.String("name", out.name, Need::kRequired);
  r.Named("models",
          [&](const std::string& bucket, const YAML::Node& value,
              const std::string& entry_path) -> core::Status {
            if (!value.IsScalar() || value.Scalar().empty()) {
              return PathError(entry_path, "expected a model, an alias or a routing profile");
            }
            out.targets.emplace_back(bucket, value.Scalar());
            return {};
          });
  if (r.ok() && out.targets.empty()) r.Fail(PathError(JoinPath(path, "models"), "required"));
  return r.status();
}

// Names are unique, every policy names known buckets and leaves none without a target.
core::Status CheckNames(const Workload& w) {
  const auto bucket_named = [&](std::string_view name) {
    return std::any_of(w.buckets.begin(), w.buckets.end(),
                       [&](const WorkloadBucket& b) { return b.name == name; });
  };
  for (size_t i = 0; i < w.buckets.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (w.buckets[j].name == w.buckets[i].name) {
        return PathError(JoinPath(IndexPath("buckets", i), "name"),
                         "duplicate bucket name " + Quote(w.buckets[i].name));
      }
    }
  }
  for (size_t i = 0; i < w.policies.size(); ++i) {
    const WorkloadPolicy& policy = w.policies[i];
    const std::string path = IndexPath("policies", i);
    for (size_t j = 0; j < i; ++j) {
      if (w.policies[j].name == policy.name) {
        return PathError(JoinPath(path, "name"), "duplicate policy name " + Quote(policy.name));
      }
    }
    for (const auto& [bucket, target] : policy.targets) {
      if (bucket != "*" && !bucket_named(bucket)) {
        return PathError(JoinPath(JoinPath(path, "models"), bucket), "no bucket has this name");
      }
    }
    for (const WorkloadBucket& bucket : w.buckets) {
      if (policy.TargetFor(bucket.name).empty()) {
        return PathError(JoinPath(path, "models"),
                         "bucket " + Quote(bucket.name) + " has no model (name it, or add \"*\")");
      }
    }
  }
  return {};
}

core::Status ReadWorkload(const YAML::Node& root, Workload& out) {
  MapReader r(root, "", {"buckets", "policies"}, &NoEnv);
  r.List("buckets", [&](const YAML::Node& node, const std::string& path) -> core::Status {
    if (out.buckets.size() == kMaxBuckets) return PathError(path, "more than 1000 buckets");
    return ReadBucket(node, path, out.buckets.emplace_back());
  });
  r.List("policies", [&](const YAML::Node& node, const std::string& path) -> core::Status {
    if (out.policies.size() == kMaxPolicies) return PathError(path, "more than 100 policies");
    return ReadPolicy(node, path, out.policies.emplace_back());
  });
  if (!r.ok()) return r.status();
  if (out.buckets.empty()) return PathError("buckets", "required (at least one bucket)");
  return CheckNames(out);
}

}  // namespace

std::string_view WorkloadPolicy::TargetFor(std::string_view bucket) const {
  std::string_view fallback;
  for (const auto& [key, target] : targets) {
    if (key == bucket) return target;
    if (key == "*") fallback = target;
  }
  return fallback;
}

core::Result<Workload> ParseWorkload(std::string_view yaml, std::string_view source) {
  if (yaml.size() > kMaxWorkloadBytes) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           std::string(source) + ": larger than 16 MiB");
  }
  Workload workload;
  auto root = detail::LoadDocument(yaml, source);
  if (!root) return std::move(root).error();
  try {
    if (auto status = ReadWorkload(*root, workload); !status) return std::move(status).error();
  } catch (const YAML::Exception& e) {
    return detail::SyntaxError(source, e);
  } catch (const std::exception& e) {
    return core::MakeError(core::Errc::kInvalidRequest, std::string(source) + ": " + e.what());
  }
  return workload;
}

core::Result<Workload> LoadWorkloadFile(const std::string& path) {
  auto text = core::ReadRegularFile(path, kMaxWorkloadBytes, "workload file");
  if (!text) return std::move(text).error();
  return ParseWorkload(*text, path);
}

}  // namespace sy::config
