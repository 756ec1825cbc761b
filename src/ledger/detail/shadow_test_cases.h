// A hand-built ledger of live requests and the shadows that mirror them, with the shadow report
// it must give (ledger/shadow_report.h), for shadow_report_test.cpp (SQLite) and
// shadow_report_pg_test.cpp (PostgreSQL). Header-only; tests only.
//
// Rule auto/cheap, live model small, shadow model big:
//   live-1  0.001 USD     100 ms  answered, verdict passed   shadow-1  0.003 USD   400 ms exact
//                                                                      passed
//   live-2  0.002 USD     300 ms  answer rejected            shadow-2  0.0045 USD  700 ms json
//                                                                      recorded: rejected
//   live-3  0.000001 USD  200 ms  no check                   shadow-3  0 USD, 502,  50 ms ""
//   (no live row)                                           shadow-4  0.001 USD   900 ms differs
// Rule model (no profile), live model gpt, tenant other, a day later:
//   live-4  0.01 USD       80 ms  recorded: passed           shadow-5  0.02 USD     90 ms exact
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/money.h"
#include "ledger/record.h"

namespace sy::ledger::test {

inline constexpr int64_t kShadowT0 = 1'764'633'600'000;  // 2025-12-02T00:00:00Z
inline constexpr int64_t kShadowDay = 86'400'000;

inline Attempt ShadowCaseAttempt(std::string outcome, std::string verdict) {
  Attempt a;
  a.model = "m";
  a.provider = "p";
  a.outcome = std::move(outcome);
  a.verdict = std::move(verdict);
  a.http_status = a.outcome == "failed" ? 502 : 200;
  return a;
}

inline Record ShadowCaseLive(std::string id, std::string model, int64_t cost_pico,
                             int64_t latency_ms, std::vector<Attempt> attempts) {
  Record r;
  r.request_id = std::move(id);
  r.started_at_ms = kShadowT0;
  r.tenant = "acme";
  r.dialect = "openai";
  r.endpoint = "/v1/chat/completions";
  r.requested_model = "auto";
  r.chosen_model = std::move(model);
  r.provider = "p";
  r.attempts = std::move(attempts);
  r.cost = core::Money::FromPico(cost_pico);
  r.status = 200;
  r.task_type = "extraction";
  r.profile = "auto";
  r.rule = "cheap";
  r.latency_ms = latency_ms;
  return r;
}

inline Record ShadowCaseShadow(std::string id, std::string of, int64_t cost_pico,
                               int64_t latency_ms, std::string agreement, Attempt attempt) {
  Record r = ShadowCaseLive(std::move(id), "big", cost_pico, latency_ms, {std::move(attempt)});
  r.requested_model = "big";
  r.shadow_of = std::move(of);
  r.agreement = std::move(agreement);
  r.started_at_ms = kShadowT0 + 5;
  return r;
}

inline constexpr int64_t kMilli = 1'000'000'000;  // 0.001 USD in pico-dollars

inline std::vector<Record> ShadowCaseRecords() {
  std::vector<Record> records = {
      ShadowCaseLive("live-1", "small", kMilli, 100, {ShadowCaseAttempt("ok", "passed")}),
      ShadowCaseLive("live-2", "small", 2 * kMilli, 300,
                     {ShadowCaseAttempt("failed", ""),
                      ShadowCaseAttempt("rejected", "rejected: json: not json")}),
      ShadowCaseLive("live-3", "small", 1'000'000, 200, {ShadowCaseAttempt("ok", "")}),
      ShadowCaseShadow("shadow-1", "live-1", 3 * kMilli, 400, "exact",
                       ShadowCaseAttempt("ok", "passed")),
      ShadowCaseShadow("shadow-2", "live-2", 4'500'000'000, 700, "json",
                       ShadowCaseAttempt("ok", "recorded: rejected: json_schema: no")),
      ShadowCaseShadow("shadow-3", "live-3", 0, 50, "", ShadowCaseAttempt("failed", "")),
      ShadowCaseShadow("shadow-4", "live-missing", kMilli, 900, "differs",
                       ShadowCaseAttempt("ok", "")),
  };
  records[5].status = 502;
  records[5].chosen_model.clear();
  Record live4 = ShadowCaseLive("live-4", "gpt", 10 * kMilli, 80,
                                {ShadowCaseAttempt("ok", "recorded: passed")});
  live4.profile.clear();
  live4.rule = "model";
  live4.tenant = "other";
  live4.started_at_ms = kShadowT0 + kShadowDay;
  Record shadow5 =
      ShadowCaseShadow("shadow-5", "live-4", 20 * kMilli, 90, "exact", ShadowCaseAttempt("ok", ""));
  shadow5.profile.clear();
  shadow5.rule = "model";
  shadow5.tenant = "other";
  shadow5.started_at_ms = kShadowT0 + kShadowDay + 5;
  records.push_back(std::move(live4));
  records.push_back(std::move(shadow5));
  return records;
}

// FormatShadowJson of the whole ledger above (one line, wrapped here at group boundaries).
inline const std::string kShadowCaseJson =
    R"j({"groups":[)j"
    R"j({"rule":"auto/cheap","live_model":"(none)","shadow_model":"big","shadows":1,)j"
    R"j("shadow_errors":0,"live_found":0,"live_cost_usd":"0","shadow_cost_usd":"0",)j"
    R"j("cost_ratio":null,"live_p50_ms":null,"live_p95_ms":null,"shadow_p50_ms":900,)j"
    R"j("shadow_p95_ms":900,"agreement":{"exact":0,"json":0,"differs":1,"unknown":0},)j"
    R"j("shadow_verification":{"passed":0,"rejected":0},)j"
    R"j("live_verification":{"passed":0,"rejected":0}},)j"
    R"j({"rule":"auto/cheap","live_model":"small","shadow_model":"big","shadows":3,)j"
    R"j("shadow_errors":1,"live_found":3,"live_cost_usd":"0.003001","shadow_cost_usd":"0.0075",)j"
    R"j("cost_ratio":"2.4992","live_p50_ms":200,"live_p95_ms":300,"shadow_p50_ms":400,)j"
    R"j("shadow_p95_ms":700,"agreement":{"exact":1,"json":1,"differs":0,"unknown":1},)j"
    R"j("shadow_verification":{"passed":1,"rejected":1},)j"
    R"j("live_verification":{"passed":1,"rejected":1}},)j"
    R"j({"rule":"model","live_model":"gpt","shadow_model":"big","shadows":1,)j"
    R"j("shadow_errors":0,"live_found":1,"live_cost_usd":"0.01","shadow_cost_usd":"0.02",)j"
    R"j("cost_ratio":"2.0000","live_p50_ms":80,"live_p95_ms":80,"shadow_p50_ms":90,)j"
    R"j("shadow_p95_ms":90,"agreement":{"exact":1,"json":0,"differs":0,"unknown":0},)j"
    R"j("shadow_verification":{"passed":0,"rejected":0},)j"
    R"j("live_verification":{"passed":1,"rejected":0}}],)j"
    R"j("total":{"shadows":5,"shadow_errors":1,"live_found":4,"live_cost_usd":"0.013001",)j"
    R"j("shadow_cost_usd":"0.0275","cost_ratio":"2.1152","live_p50_ms":100,"live_p95_ms":300,)j"
    R"j("shadow_p50_ms":400,"shadow_p95_ms":900,)j"
    R"j("agreement":{"exact":2,"json":1,"differs":1,"unknown":1},)j"
    R"j("shadow_verification":{"passed":1,"rejected":1},)j"
    R"j("live_verification":{"passed":2,"rejected":1}}})j"
    "\n";

}  // namespace sy::ledger::test
