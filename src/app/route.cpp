// The route stage: routing headers + the prompt -> routing::Decide; and its explain rendering.
#include "app/route.h"

#include <algorithm>
#include <chrono>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "api/anthropic/prompt.h"
#include "api/openai/prompt.h"
#include "api/responses/prompt.h"
#include "app/dialect.h"
#include "app/pipeline_internal.h"
#include "core/text.h"

namespace sy::app {
namespace {

namespace json = boost::json;

constexpr size_t kMaxTags = 16;
constexpr size_t kMaxTagBytes = 64;

core::Error BadHeader(std::string_view name, std::string_view what) {
  return core::InvalidParam(std::string(name), std::string(name) + " " + std::string(what));
}

core::Result<std::optional<routing::TaskType>> ReadTask(std::string_view value,
                                                        const routing::Policy& policy) {
  if (value.empty()) return std::optional<routing::TaskType>();
  auto type = routing::ParseTaskType(value);
  if (!type) {
    std::string names;
    for (auto name : routing::kTaskTypeNames)
      names += (names.empty() ? "" : ", ") + std::string(name);
    return BadHeader("x-switchyard-task",
                     "must be one of " + names + "; got '" + core::ClipForEcho(value, 64) + "'");
  }
  if (!policy.config().trust_task_header) return std::optional<routing::TaskType>();
  return std::optional<routing::TaskType>(*type);
}

core::Result<std::optional<core::Money>> ReadMaxCost(std::string_view value) {
  if (value.empty()) return std::optional<core::Money>();
  auto money = core::Money::Parse(value);
  if (!money || money->pico() <= 0) {
    return BadHeader("x-switchyard-max-cost-usd",
                     "must be a positive decimal USD amount such as 0.01; got '" +
                         core::ClipForEcho(value, 64) + "'");
  }
  return std::optional<core::Money>(*money);
}

bool PrintableTag(std::string_view tag) {
  return std::all_of(tag.begin(), tag.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// The header's tags, then the body's metadata as "key=value".
core::Status ReadTags(std::string_view header, const core::Prompt& prompt,
                      std::vector<std::string>& tags) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    const std::string_view tag = core::TrimOws(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (tag.empty()) continue;
    if (tag.size() > kMaxTagBytes || !PrintableTag(tag) || tags.size() == kMaxTags) {
      return BadHeader("x-switchyard-tags",
                       "must be at most 16 comma-separated tags of 1-64 printable characters");
    }
    tags.emplace_back(tag);
  }
  for (const auto& [key, value] : prompt.metadata) {
    if (tags.size() == 2 * kMaxTags) break;  // routing needs a few; the rest is not ours
    if (key.size() + value.size() < 2 * kMaxTagBytes)
      tags.push_back(std::string(key) + "=" + std::string(value));
  }
  return {};
}

json::object FeaturesJson(const routing::Features& f) {
  json::object o;
  o["task_type"] = routing::TaskTypeName(f.task_type);
  o["task_stated"] = f.task_stated;
  o["prompt_tokens"] = f.prompt_tokens;
  o["max_output_tokens"] = f.max_output_tokens;
  o["expected_output_tokens"] = f.expected_output_tokens;
  o["tools"] = f.tools;
  o["tool_required"] = f.tool_required;
  o["tool_results"] = f.tool_results;
  o["json_output"] = f.json_output;
  o["json_schema"] = f.json_schema;
  o["code"] = f.code;
  o["context"] = f.context;
  o["images"] = f.images;
  o["language"] = f.language;
  o["depth"] = f.depth;
  return o;
}

// A candidate's deployments: kept or dropped (region, residency) and blocked (open breaker).
json::array DeploymentsJson(const routing::Candidate& c) {
  json::array out;
  for (const routing::DeploymentChoice& choice : c.deployments) {
    json::object o;
    o["name"] = choice.deployment->name();
    o["provider"] = choice.deployment->provider->name;
    o["worst_case_cost_usd"] = choice.worst_case_cost.ToString();  // at its own price
    o["kept"] = choice.kept && !choice.blocked;
    if (!choice.reason.empty()) o["reason"] = choice.reason;
    out.push_back(std::move(o));
  }
  return out;
}

// The rule's verification: its checks, what happens when none passes, and the mode.
json::object VerifyJson(const routing::Rule& rule) {
  json::array checks;
  for (const verify::Check& check : rule.verify) {
    if (check.kind == verify::CheckKind::kRegex) {
      checks.push_back(json::object{{"regex", check.pattern}});
    } else {
      checks.push_back(json::string(verify::CheckName(check.kind)));
    }
  }
  return {{"checks", std::move(checks)},
          {"on_exhausted", rule.return_last ? "return_last" : "error"},
          {"verify_mode", rule.record_only ? "record" : "hold"}};
}

// "0.1", "1", "0.000001": a share read in parts per million, as the config wrote it.
std::string ShareText(int64_t ppm) {
  constexpr int64_t kMillion = 1'000'000;
  std::string text = std::to_string(ppm / kMillion);
  if (const int64_t part = ppm % kMillion; part != 0) {
    std::string digits = std::to_string(kMillion + part).substr(1);  // six digits
    digits.erase(digits.find_last_not_of('0') + 1);
    text += "." + digits;
  }
  return text;
}

// Milliseconds from `now` to `t` (0 when past), or null.
json::value MillisUntil(const std::optional<routing::SteadyTime>& t, routing::SteadyTime now) {
  if (!t) return nullptr;
  return std::max<int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(*t - now).count());
}

}  // namespace

std::string HealthJson(const catalog::Catalog& catalog, const routing::Health& health) {
  const auto now = std::chrono::steady_clock::now();
  json::array data;
  for (const catalog::Deployment* d : catalog.deployments()) {
    const routing::Health::Snapshot s = health.Read(d->slot, now);
    data.push_back(json::object{
        {"model", d->model->id},
        {"deployment", d->name()},
        {"provider", d->provider->name},
        {"state", routing::BreakerStateName(s.state)},
        {"consecutive_failures", s.consecutive_failures},
        {"window_requests", s.window_requests},
        {"window_failures", s.window_failures},
        {"error_rate", s.error_rate},
        {"in_flight", s.in_flight},
        {"latency_ewma_ms", s.latency_ewma_ms},
        {"open_until_ms", MillisUntil(s.open_until, now)},
        {"cooldown_until_ms", MillisUntil(s.cooldown_until, now)},
        {"opened_total", s.opened_total},
    });
  }
  return json::serialize(json::object{{"object", "list"}, {"data", std::move(data)}});
}

core::Prompt ReadPrompt(const core::Request& request, size_t body_bytes) {
  switch (request.dialect) {
    case core::Dialect::kAnthropicMessages:
      return api::anthropic::ReadMessagesPrompt(request.body, body_bytes);
    case core::Dialect::kOpenAiResponses:
      return api::responses::ReadResponsesPrompt(request.body, body_bytes);
    case core::Dialect::kOpenAiChat:
      break;
  }
  return api::openai::ReadChatPrompt(request.body, body_bytes);
}

RouteHeaders ReadRouteHeaders(const http::Headers& headers) {
  return {headers.Get("x-switchyard-task"), headers.Get("x-switchyard-max-cost-usd"),
          headers.Get("x-switchyard-tags")};
}

core::Result<routing::Decision> DecideRoute(const core::Request& request,
                                            const core::Prompt& prompt, const RouteHeaders& headers,
                                            const routing::Policy& policy,
                                            const catalog::Catalog& catalog,
                                            const routing::Health& health,
                                            const routing::Now& now) {
  auto target = routing::Resolve(request.model, policy, catalog);
  if (!target) {
    if (config::NamesRoutingProfile(request.model)) return std::move(target).error();
    return UnknownModel(request.model);
  }
  auto stated = ReadTask(headers.task, policy);
  if (!stated) return std::move(stated).error();
  auto max_cost = ReadMaxCost(headers.max_cost);
  if (!max_cost) return std::move(max_cost).error();
  routing::RouteRequest route;
  if (auto s = ReadTags(headers.tags, prompt, route.tags); !s) return s.error();
  route.features = routing::Classify(prompt, *stated);
  route.prompt = &prompt;
  route.max_cost = *max_cost;
  return routing::Decide(*target, route, policy, catalog, health, now);
}

core::Result<routing::Decision> DecodeAndDecide(std::string_view body, int64_t max_json_depth,
                                                const RouteHeaders& headers, core::Request& request,
                                                const routing::Policy& policy,
                                                const catalog::Catalog& catalog,
                                                const routing::Health& health,
                                                const routing::Now& now) {
  if (auto decoded = DecodeClientRequest(body, max_json_depth, request); !decoded) {
    return decoded.error();
  }
  return DecideRoute(request, ReadPrompt(request, body.size()), headers, policy, catalog, health,
                     now);
}

namespace {

// Where a live calibration stands: the share it holds now, the threshold it started from (in
// force until warmed up) and, for a budget, the mean usage it prices on both sides (now).
json::object LiveJson(const routing::ShareCalibrator& live, double start_threshold) {
  json::object out{{"strong_share", live.share()},
                   {"window", live.window()},
                   {"scores_seen", live.seen()},
                   {"warmed_up", live.seen() >= live.warm_up()},
                   {"start_threshold", start_threshold}};
  if (const auto usage = live.mean_usage()) {
    out["mean_usage"] = {{"input_tokens", usage->input_tokens},
                         {"cached_input_tokens", usage->cached_input_tokens},
                         {"output_tokens", usage->output_tokens}};
    const auto spend =
        routing::ShareCalibrator::SpendAt(*live.budget(), *usage, std::chrono::system_clock::now());
    out["request_cost_usd"] = {{"strong", spend.strong.ToString()},
                               {"weak", spend.weak.ToString()}};
  }
  return out;
}

// A router rule's verdict: the score against the threshold, which side it picked, how the
// threshold was set (and, when held live, where its calibration stands) and what the model file
// says it was trained on.
json::object RouterJson(const routing::RouterVerdict& v, const routing::Rule& rule) {
  const routing::RouterRule& r = *rule.router;
  const router::Metadata& m = r.model->metadata();
  json::object out;
  out["score"] = v.score;
  out["threshold"] = v.threshold;
  out["decision"] = v.strong ? "strong" : "weak";
  out["calibration"] = r.calibration;
  if (r.live) out["live"] = LiveJson(*r.live, r.threshold);
  out["strong"] = r.strong.front().model->id;
  out["weak"] = r.weak.front().model->id;
  out["trained_on"] = {{"strong", m.strong}, {"weak", m.weak}, {"data_sha256", m.data_sha256}};
  return out;
}

}  // namespace

std::string ExplainJson(const routing::Decision& d, const catalog::Catalog& catalog) {
  json::object out;
  if (d.profile.empty()) {
    out["profile"] = nullptr;
  } else {
    out["profile"] = d.profile;
  }
  out["rule"] = d.rule;
  out["task_type"] = routing::TaskTypeName(d.features.task_type);
  out["features"] = FeaturesJson(d.features);
  if (d.max_cost) out["max_cost_usd"] = d.max_cost->ToString();
  json::array candidates;
  for (const routing::Candidate& c : d.candidates) {
    json::object o;
    o["model"] = c.model->id;
    o["provider"] = catalog.ProviderOf(*c.model).name;
    o["estimated_cost_usd"] = c.estimated_cost.ToString();
    o["worst_case_cost_usd"] = c.worst_case_cost.ToString();
    o["kept"] = c.kept;
    if (!c.kept) o["constraint"] = c.constraint;
    o["reason"] = c.reason;
    o["deployments"] = DeploymentsJson(c);
    candidates.push_back(std::move(o));
  }
  out["candidates"] = std::move(candidates);
  if (d.router && d.matched && d.matched->router) out["router"] = RouterJson(*d.router, *d.matched);
  if (d.matched && !d.matched->verify.empty()) out["verify"] = VerifyJson(*d.matched);
  if (d.matched && d.matched->shadow) {
    out["shadow"] = {{"model", d.matched->shadow->model},
                     {"sample", ShareText(d.matched->shadow->sample_ppm)}};
  }
  if (d.kept == 0 && !d.candidates.empty()) {
    out["error"] = routing::NoCandidateError(d).message;
  }
  return json::serialize(out);
}

}  // namespace sy::app
