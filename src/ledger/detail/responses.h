// The two engines of ResponseStore (ledger/response_store.h) and the errors both answer, worded
// alike. Internal to ledger/.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/text.h"
#include "ledger/response_store.h"

namespace sy::ledger::detail {

// kNotFound, param previous_response_id, as OpenAI words it; the client's id clipped.
inline core::Error PreviousNotFound(std::string_view id) {
  core::Error e =
      core::MakeError(core::Errc::kNotFound,
                      "Previous response with id '" + core::ClipForEcho(id) + "' not found.");
  e.param = "previous_response_id";
  return e;
}

// kInvalidRequest, param previous_response_id: the conversation ending with `id` has `what`.
inline core::Error ConversationTooLong(std::string_view id, const std::string& what) {
  return core::InvalidParam("previous_response_id",
                            "the conversation ending with '" + core::ClipForEcho(id) + "' has " +
                                what +
                                "; start a new conversation (send the turns you need as input)");
}

inline core::Error TooManyTurns(std::string_view id, size_t max_turns) {
  return ConversationTooLong(id, "more than " + std::to_string(max_turns) + " turns");
}

inline core::Error TooManyBytes(std::string_view id, size_t max_bytes) {
  return ConversationTooLong(id, "more than " + std::to_string(max_bytes) + " bytes of items");
}

// kInvalidRequest, param store: the owner's stored responses hold `max_bytes` or more.
inline core::Error StoreFull(int64_t max_bytes) {
  return core::InvalidParam(
      "store", "This key's stored responses hold " + std::to_string(max_bytes) +
                   " bytes or more, the most a key keeps (responses.max_stored_bytes_per_key): "
                   "delete some (DELETE /v1/responses/{id}), wait for them to expire, or send "
                   "\"store\": false.");
}

// ResponseStore::Open for each engine, its options already checked.
core::Result<std::unique_ptr<ResponseStore>> OpenSqliteResponses(
    const ResponseStore::Options& options);
core::Result<std::unique_ptr<ResponseStore>> OpenPostgresResponses(
    const ResponseStore::Options& options);

}  // namespace sy::ledger::detail
