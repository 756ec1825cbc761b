// Pieces the pipeline's stage files share. Internal to app/.
#pragma once

#include <string_view>

#include <boost/json/object.hpp>

#include "api/translate/translate.h"
#include "app/context.h"
#include "core/error.h"
#include "http/task.h"

namespace sy::app {

// kNotFound for `model`, its name clipped for echoing.
core::Error UnknownModel(std::string_view name);

// The chain's prepare hook (failover::ChainOptions::prepare): translates the request for the
// deployment's dialect, once per dialect and target, when the chain first reaches a deployment
// that needs it; fails with the translation's refusal when its API cannot express the request.
core::Status PrepareBody(RequestContext& ctx, const catalog::Deployment& d);

// The request body in `dialect` for `model`. REQUIRES: PrepareBody succeeded for a deployment of
// that model in that dialect.
const boost::json::object& BodyIn(RequestContext& ctx, core::Dialect dialect,
                                  const config::ModelConfig& model);

// What the answer translators need to know about the request (when it came, its estimate of
// the prompt, and for Responses clients the response's id and the request it echoes).
api::translate::Context TranslationContext(const RequestContext& ctx);

// An upstream's error (one with an upstream status: an error answer, or an error event of its
// stream, first or later) names its parameter as the body the gateway sent `upstream` did; the
// client may have sent it under another name ("stop" is an Anthropic client's "stop_sequences").
// Renames error.param for the client (api::translate::NameParamForClient); leaves the gateway's
// own errors, and those that name no parameter, as they are.
void NameUpstreamParamForClient(const RequestContext& ctx, core::Dialect upstream,
                                core::Error& error);

// The server cancelled the request (ctx.http.cancelled): "client_closed" (status 499, nothing
// sent: nobody is listening) or "shutdown" (503 in the client's dialect, or the dialect's error
// event when the stream had started).
std::string_view CutCode(http::CancelReason reason);
core::Error CutError(http::CancelReason reason);
http::Task<void> EncodeCut(RequestContext& ctx);

}  // namespace sy::app
