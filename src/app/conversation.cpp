#include "app/conversation.h"

#include <cstdio>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/json.h"
#include "api/responses/decode.h"
#include "app/gateway_metrics.h"
#include "core/json_depth.h"
#include "ledger/response_store.h"

namespace sy::app {
namespace {

namespace json = boost::json;

// A conversation expands to at most this many stored turns, and to at most a few request bodies'
// worth of items: what one request may make the gateway read and send is bounded.
constexpr size_t kMaxTurns = 256;
constexpr int64_t kMaxBodiesPerConversation = 4;

// This turn's input as items: a string input is one user message.
json::array InputItems(const json::object& body, json::storage_ptr sp) {
  const auto* input = body.if_contains("input");
  if (input && input->is_array()) return json::array(input->get_array(), sp);
  json::array items(sp);
  if (input && input->is_string()) {
    items.push_back(json::object({{"type", "message"}, {"role", "user"}, {"content", *input}}, sp));
  }
  return items;
}

// Appends a stored JSON array's items. Reasoning items are left out: they are one model's opaque
// state (never reusable once the upstream stored nothing) and no other model can read them.
// The items were a client's input or a model's output, stored as the client sent or got them:
// they nest as deep as a body accepted under `max_json_depth` may. A turn that cannot be read
// fails the request: leaving it out would send the model a conversation with a hole in it.
core::Status AppendItems(std::string_view stored, int64_t max_json_depth, json::array& out) {
  boost::system::error_code ec;
  json::value items =
      json::parse(stored, ec, out.storage(), core::EchoParseOptions(max_json_depth));
  if (ec == json::error::too_deep) {
    // Stored under a larger server.max_json_depth than this gateway's now.
    return core::InvalidParam(
        "previous_response_id",
        "the stored conversation nests deeper than this gateway accepts now (server."
        "max_json_depth " +
            std::to_string(max_json_depth) + "). Send the whole conversation in input instead.");
  }
  if (ec || !items.is_array()) {
    return core::MakeError(core::Errc::kInternal,
                           "a stored turn of the conversation cannot be read");
  }
  for (auto& item : items.get_array()) {
    if (item.is_object() && api::StringAt(item.get_object(), "type") == "reasoning") continue;
    out.push_back(std::move(item));
  }
  return {};
}

core::Error StoreOff() {
  return core::InvalidParam("previous_response_id",
                            "previous_response_id cannot be used: this gateway keeps no stored "
                            "responses (responses.store: false). Send the whole conversation in "
                            "input instead.");
}

// The stored turns ctx.turn.previous_id continues, read on the store's pool.
http::Task<core::Result<std::vector<ledger::StoredResponse>>> ReadTurns(RequestContext& ctx) {
  const int64_t max_bytes =
      kMaxBodiesPerConversation * ctx.services.catalog.config().server.max_body_bytes;
  core::Result<std::vector<ledger::StoredResponse>> turns = StorePoolFull();
  std::function<void()> call = [&] {
    turns = ctx.services.responses->Conversation(ctx.turn.previous_id, ctx.request.key_id,
                                                 ctx.request.received_at, kMaxTurns,
                                                 static_cast<size_t>(max_bytes));
  };
  co_await RunOnStorePool(ctx.services, call);
  if (!turns && turns.error().code != core::Errc::kNotFound &&
      turns.error().code != core::Errc::kInvalidRequest && ctx.services.metrics) {
    ctx.services.metrics->ObserveResponseStoreFailure("read");
  }
  co_return turns;
}

}  // namespace

core::Error StorePoolFull() {
  return core::MakeError(core::Errc::kOverloaded,
                         "Too many stored-response reads and writes at once; retry shortly.");
}

std::string ResponseIdFor(const core::Request& request) {
  std::string_view id = request.id;
  if (id.starts_with("req_")) id.remove_prefix(4);
  return "resp_" + std::string(id);
}

core::Status ReadConversation(RequestContext& ctx) {
  const json::object& body = ctx.request.body;
  const auto* store = body.if_contains("store");
  ctx.turn.store =
      (!store || !store->is_bool() || store->get_bool()) && ctx.services.responses != nullptr;
  if (ctx.turn.store) {  // only a stored turn needs its own input
    ctx.turn.input_json = json::serialize(InputItems(body, body.storage()));
  }
  const std::string_view previous = api::StringAt(body, "previous_response_id");
  if (previous.empty()) return {};
  if (!ctx.services.responses) return StoreOff();
  ctx.turn.previous_id = std::string(previous);
  return {};
}

http::Task<core::Status> ExpandConversation(RequestContext& ctx) {
  json::object& body = ctx.request.body;
  // A key whose stored responses are full is refused before anything is generated, rather than
  // answered with a response that is never stored. Only once a put has found it full: the
  // others' requests read nothing more.
  if (ctx.turn.store && ctx.services.responses->FoundFull(ctx.request.key_id)) {
    core::Status room = StorePoolFull();
    std::function<void()> call = [&] {
      room = ctx.services.responses->CheckRoom(ctx.request.key_id);
    };
    co_await RunOnStorePool(ctx.services, call);
    if (!room && room.error().param != "store" && ctx.services.metrics) {
      ctx.services.metrics->ObserveResponseStoreFailure("read");
    }
    if (!room) co_return room;
  }
  if (!ctx.turn.previous_id.empty()) {
    auto turns = co_await ReadTurns(ctx);
    if (!turns) co_return std::move(turns).error();
    json::array whole(body.storage());
    for (const auto& turn : *turns) {
      for (const std::string* stored : {&turn.input_json, &turn.output_json}) {
        if (auto s = AppendItems(*stored, ctx.request.max_json_depth, whole); !s) {
          co_return s.error();
        }
      }
    }
    for (auto& item : InputItems(body, body.storage())) whole.push_back(std::move(item));
    body["input"] = std::move(whole);
    body.erase("previous_response_id");
  }
  const auto* items = body.if_contains("input");
  if (items && items->is_array()) {
    co_return api::responses::CheckFunctionCallOutputs(items->get_array());
  }
  co_return core::Status();
}

void EchoConversation(const RequestContext& ctx, json::object& response) {
  // The gateway's id, as a translated answer gets: the turn is stored under it, and an upstream
  // that repeats its ids (or one of another provider that happens to match) must not make a
  // later previous_response_id continue another conversation.
  response["id"] = ResponseIdFor(ctx.request);
  if (ctx.turn.previous_id.empty()) {
    response["previous_response_id"] = nullptr;
  } else {
    response["previous_response_id"] = ctx.turn.previous_id;
  }
  const auto* store = ctx.request.body.if_contains("store");
  response["store"] = !store || !store->is_bool() || store->get_bool();
}

std::optional<ledger::StoredResponse> ToStore(const RequestContext& ctx,
                                              const json::object& response) {
  if (!ctx.turn.store) return std::nullopt;
  ledger::StoredResponse stored;
  stored.id = std::string(api::StringAt(response, "id"));
  if (stored.id.empty()) return std::nullopt;  // an upstream Response without an id
  stored.owner = ctx.request.key_id;
  stored.previous_id = ctx.turn.previous_id;
  stored.input_json = ctx.turn.input_json;
  const auto* output = api::ArrayAt(response, "output");
  stored.output_json = output ? json::serialize(*output) : "[]";
  stored.response_json = json::serialize(response);
  stored.created_at = ctx.request.received_at;
  return stored;
}

http::Task<void> StoreResponse(RequestContext& ctx, const ledger::StoredResponse& stored) {
  core::Status status;
  std::function<void()> call = [&] { status = ctx.services.responses->Put(stored); };
  const bool ran = co_await RunOnStorePool(ctx.services, call);
  if (!ran) status = StorePoolFull();
  if (status) co_return;
  if (status.error().param == "store") {
    // The key's stored responses are full: its next request with store is refused (400), which
    // tells the client. Not the store's failure, nor its operator's alert.
    std::fprintf(stderr,
                 "switchyard: response %s not stored: its key's stored responses are full\n",
                 stored.id.c_str());
    co_return;
  }
  if (ctx.services.metrics) ctx.services.metrics->ObserveResponseStoreFailure("write");
  std::fprintf(stderr, "switchyard: storing response %s failed: %s\n", stored.id.c_str(),
               ctx.services.secrets.Scrub(status.error().message).c_str());
}

http::Task<bool> RunOnStorePool(const Services& services, std::function<void()>& call) {
  if (!services.store_pool) {
    call();
    co_return true;
  }
  const bool ran = co_await services.store_pool->Run(call);
  co_return ran;
}

}  // namespace sy::app
