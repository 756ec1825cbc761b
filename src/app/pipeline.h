// The gateway's request pipeline for the generation endpoints (/v1/chat/completions,
// /v1/messages and /v1/responses): stage functions over one RequestContext, in this order
// (docs/architecture.md):
//
//   Decode -> [ExpandConversation] -> ChooseRoute -> Execute -> Account
//          -> Encode{Answer,Stream,Failure} -> Record
//
// Each stage reads and writes only the context and the collaborators in ctx.services; none keeps
// state of its own. Decode and ChooseRoute are synchronous and do no I/O. A Responses request that
// continues a stored response has its conversation read between them (app/conversation.h), off
// the worker. Record runs for every request whatever ended it (a failure, the client leaving, a
// shutdown cut, an exception).
//
// Thread-safety: a context belongs to one request on one worker.
#pragma once

#include "app/context.h"
#include "core/result.h"
#include "core/usage.h"
#include "http/task.h"

namespace sy::app {

// decode: reads the client's headers and body into ctx.request (dialect, model, body in its
// arena, stream flags, task id). Fails with the error to answer (kInvalidRequest naming the
// parameter).
core::Status Decode(RequestContext& ctx);

// route: the model, alias or routing profile, the routing headers and the classified prompt ->
// ctx.decision (app/route.h, routing::Decide); ctx.steps, its kept candidates with the
// deployments routing kept; and ctx.verify, the checks its answers must pass
// (app/verification.h). Fails with kNotFound for an unknown model or profile, kInvalidRequest
// for a bad routing or verification header or when the constraints left no candidate (naming the
// constraint), kUpstreamUnavailable when open circuit breakers did.
core::Status ChooseRoute(RequestContext& ctx);

// execute: the attempt chain over ctx.steps (failover::RunChain: models in order, each over its
// deployments), every attempt recorded in ctx.attempts with what it billed and its verdict. The
// request is translated for another dialect when the chain first reaches a deployment speaking
// it; a deployment whose API cannot express the request is skipped (recorded with the
// translation's refusal), and when every deployment reached was, that refusal is the error. An
// answer that fails verification (ctx.verify, hold mode) is not returned: the next model is
// tried; a verified stream is read whole before a byte is sent. On success sets ctx.model,
// ctx.deployment and ctx.answer_attempt and returns the answer (a JSON answer translated into the
// client's dialect, or a stream opened with its first event read). When no answer passed and the
// rule says on_exhausted return_last, returns the last rejected answer (ctx.returned_rejected).
// Fails with the chain's error; when the server cancelled the request (client gone, shutdown
// cut) the attempt that was cut carries an estimated usage and the error says why.
http::Task<core::Result<Answer>> Execute(RequestContext& ctx);

// account: prices every attempt that has a usage and no cost yet (catalog::ComputeCost at the
// request's received_at: the one place cost is computed). The request's cost is the sum.
void Account(RequestContext& ctx);
// The request's cost so far: the sum of its attempts' costs, nullopt when none was priced.
std::optional<core::Money> RequestCost(const RequestContext& ctx);

// The usage of a call whose upstream usage never arrived: input tokens from the size of the
// body sent upstream (`prompt_bytes`: the attempt's request_bytes, never the client's own body,
// which a Responses conversation or a translation can make much smaller), output tokens from
// what was relayed (the larger of the number of content deltas and a quarter of their bytes,
// the usual characters-per-token of English text). Marked estimated; docs/cost.md.
core::Usage EstimateUsage(size_t prompt_bytes, size_t relayed_deltas, size_t relayed_bytes);

// The usage of a complete answer: `reported` when the upstream sent a usage block; otherwise
// (some OpenAI-compatible servers omit it) an estimate, since the provider bills the answer all
// the same: the prompt from `prompt_bytes`, the output from the text, refusal and tool-call
// arguments of `answer` (in the `upstream` dialect; a body that is not one estimates no output).
core::Usage AnswerUsage(core::Dialect upstream, const boost::json::value& answer,
                        const core::Usage& reported, size_t prompt_bytes);

// encode: the answer, the stream (relayed event by event) or the failure, in the client's
// dialect with the x-switchyard-* headers; fills ctx.outcome.
http::Task<void> EncodeAnswer(RequestContext& ctx, providers::Completion& completion);
http::Task<void> EncodeStream(RequestContext& ctx, Answer& answer);
http::Task<void> EncodeFailure(RequestContext& ctx, const core::Error& error);

// record: the ledger record, filled from the context in this one place (client-supplied and
// upstream text clipped, so a row has a size bound), appended to ctx.services.sink.
void Record(RequestContext& ctx);

// Decode, route, execute, account and encode for one generation request. The caller records
// (Gateway::Handle does, for every request, whatever ended it).
http::Task<void> Generate(RequestContext& ctx);

}  // namespace sy::app
