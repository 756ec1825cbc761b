// The account stage: the one place a cost is computed.
#include "app/pipeline.h"
#include "core/saturating.h"
#include "verify/verify.h"

namespace sy::app {
namespace {

int64_t CeilQuarter(size_t bytes) { return static_cast<int64_t>((bytes + 3) / 4); }

// The deployment's price (its override, else the model's list price).
const config::PriceSchedule& PriceOf(const failover::Attempt& attempt) {
  return attempt.deployment ? *attempt.deployment->price : attempt.model->price;
}

}  // namespace

void Account(RequestContext& ctx) {
  for (auto& attempt : ctx.attempts) {
    if (!attempt.usage || attempt.cost) continue;
    attempt.cost = catalog::ComputeCost(PriceOf(attempt), *attempt.usage, ctx.request.received_at);
  }
}

std::optional<core::Money> RequestCost(const RequestContext& ctx) {
  std::optional<core::Money> total;
  for (const auto& attempt : ctx.attempts) {
    if (!attempt.cost) continue;
    total = core::Money::FromPico(
        core::SaturatingAdd(total.value_or(core::Money()).pico(), attempt.cost->total.pico()));
  }
  return total;
}

core::Usage EstimateUsage(size_t prompt_bytes, size_t relayed_deltas, size_t relayed_bytes) {
  core::Usage usage;
  usage.estimated = true;
  usage.input_tokens = CeilQuarter(prompt_bytes);
  usage.output_tokens = std::max(static_cast<int64_t>(relayed_deltas), CeilQuarter(relayed_bytes));
  return usage;
}

core::Usage AnswerUsage(core::Dialect upstream, const boost::json::value& answer,
                        const core::Usage& reported, size_t prompt_bytes) {
  if (reported.reported) return reported;
  size_t generated = 0;
  if (auto output = verify::ReadAnswer(upstream, answer)) {
    generated = output->text.size() + output->refusal.size();
    for (const auto& call : output->tool_calls) generated += call.arguments.size();
  }
  return EstimateUsage(prompt_bytes, 0, generated);
}

}  // namespace sy::app
