// Verification in the pipeline: which checks a request's answers must pass (the matched rule's
// `verify` and the client's x-switchyard-verify), the verdict on each answer, and how it is shown
// (x-switchyard-verify, the ledger's verdicts). The checks themselves are verify::Run's.
//
// Thread-safety: functions over one request's context.
#pragma once

#include <string>

#include "app/context.h"
#include "core/result.h"
#include "failover/chain.h"
#include "verify/verify.h"

namespace sy::app {

// Route stage: sets ctx.verify when the matched rule or the x-switchyard-verify header asks for
// checks (header names join the rule's). Fails with a 400 naming an unknown check, a json_schema
// check asked for by the header of a request that has no schema, or a schema that does not compile
// (naming its path). REQUIRES: ctx.decision and ctx.prompt are set.
core::Status PlanVerification(RequestContext& ctx);

// The verdict on one answer: sets attempt.verdict ("passed", "rejected: <check>: <why>", or
// "recorded: ..." when the plan only records) and, when the answer must not be returned, fails
// with kVerificationFailed whose message is "<check>: <why>".
core::Status Judge(const VerifyPlan& plan, const verify::Output& output,
                   failover::Attempt& attempt);

// The x-switchyard-verify value once the request has ended: "checks=a,b; result=passed;
// attempt=2", "...; result=failed; failed=json_schema[; attempt=3; returned=last]" or
// "...; result=recorded". "" when nothing was verified.
std::string VerifyHeader(const RequestContext& ctx);

}  // namespace sy::app
