#include "app/verification.h"

#include <algorithm>

namespace sy::app {
namespace {

bool Has(const std::vector<verify::Check>& checks, verify::CheckKind kind) {
  return std::any_of(checks.begin(), checks.end(),
                     [&](const verify::Check& c) { return c.kind == kind; });
}

// A json_schema check has something to check against: the answer's schema or a forced tool's.
bool HasSchema(const verify::Spec& spec) {
  if (spec.answer_schema) return true;
  return std::any_of(spec.tools.begin(), spec.tools.end(),
                     [&](const verify::Tool& t) { return t.name == spec.forced_tool && t.schema; });
}

std::string Names(const std::vector<verify::Check>& checks) {
  std::string out;
  for (const verify::Check& c : checks) {
    const std::string_view name = verify::CheckName(c.kind);
    if (out.find(name) != std::string::npos) continue;  // two regexes: one name
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

verify::Options OptionsFrom(const config::VerificationConfig& config, int64_t max_json_depth) {
  verify::Options options;
  options.refusal_phrases = config.refusal_phrases.value_or(verify::DefaultRefusalPhrases());
  options.max_json_depth = max_json_depth;
  return options;
}

// 1-based among the attempts sent, of the attempt at `index`.
size_t SentOrdinal(const RequestContext& ctx, size_t index) {
  size_t n = 0;
  for (size_t i = 0; i <= index && i < ctx.attempts.size(); ++i) n += ctx.attempts[i].sent();
  return n;
}

// The check named by the last rejected attempt's verdict ("rejected: json_schema: ...").
std::string LastFailedCheck(const RequestContext& ctx) {
  for (auto it = ctx.attempts.rbegin(); it != ctx.attempts.rend(); ++it) {
    if (it->outcome != failover::Outcome::kRejected) continue;
    std::string_view v = it->verdict;
    v.remove_prefix(std::min(v.size(), std::string_view("rejected: ").size()));
    return std::string(v.substr(0, v.find(':')));
  }
  return "";
}

}  // namespace

core::Status PlanVerification(RequestContext& ctx) {
  // A shadow is judged by the live rule's checks, which only record (app/shadow.h).
  const routing::Rule* rule = ctx.shadow_of ? ctx.shadow_of->live_rule : ctx.decision->matched;
  const std::string_view header = ctx.http.headers.Get("x-switchyard-verify");
  if (header.empty() && (!rule || rule->verify.empty())) return {};
  std::vector<verify::Check> asked;
  if (!header.empty()) {
    auto parsed = verify::ParseCheckList(header);
    if (!parsed) return std::move(parsed).error();
    asked = std::move(*parsed);
  }
  VerifyPlan plan;
  if (rule) {
    plan.checks = rule->verify;
    plan.return_last = rule->return_last;
    plan.record_only = rule->record_only;
  }
  for (verify::Check& check : asked) {
    if (!Has(plan.checks, check.kind)) plan.checks.push_back(std::move(check));
  }
  auto spec = verify::ReadSpec(ctx.request.dialect, ctx.request.body, ctx.prompt, plan.checks);
  if (!spec) return std::move(spec).error();
  plan.spec = std::move(*spec);
  if (Has(asked, verify::CheckKind::kJsonSchema) && !HasSchema(plan.spec)) {
    return core::InvalidParam("x-switchyard-verify",
                              "x-switchyard-verify asks for json_schema, but the request has no "
                              "JSON schema to check the answer against (response_format "
                              "json_schema, text.format, output_format or a forced tool)");
  }
  if (ctx.shadow_of) {
    plan.record_only = true;
    plan.return_last = false;
  }
  plan.options =
      OptionsFrom(ctx.services.catalog.config().verification, ctx.request.max_json_depth);
  plan.names = Names(plan.checks);
  ctx.verify = std::move(plan);
  return {};
}

core::Status Judge(const VerifyPlan& plan, const verify::Output& output,
                   failover::Attempt& attempt) {
  const verify::Verdict verdict = verify::Run(plan.checks, plan.spec, output, plan.options);
  const std::string said = verdict.passed ? std::string("passed") : "rejected: " + verdict.reason;
  if (plan.record_only) {
    attempt.verdict = "recorded: " + said;
    return {};
  }
  attempt.verdict = said;
  if (verdict.passed) return {};
  return core::MakeError(core::Errc::kVerificationFailed, verdict.reason);
}

std::string VerifyHeader(const RequestContext& ctx) {
  if (!ctx.verify) return "";
  std::string out = "checks=" + ctx.verify->names;
  if (ctx.verify->record_only) return out + "; result=recorded";
  if (ctx.model && ctx.returned_rejected) {
    return out + "; result=failed; failed=" + LastFailedCheck(ctx) +
           "; attempt=" + std::to_string(SentOrdinal(ctx, ctx.answer_attempt)) + "; returned=last";
  }
  if (ctx.model) {
    return out + "; result=passed; attempt=" + std::to_string(SentOrdinal(ctx, ctx.answer_attempt));
  }
  const std::string failed = LastFailedCheck(ctx);
  return failed.empty() ? out + "; result=none" : out + "; result=failed; failed=" + failed;
}

}  // namespace sy::app
