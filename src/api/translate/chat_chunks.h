// The Chat Completions chunks a stream translated into the hub dialect is made of; shared by the
// translators that write them (from Anthropic, from Responses). Internal to api/translate/.
//
// Thread-safety: one per stream, like the translator that owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/stream_event.h"
#include "core/usage.h"

namespace sy::api::translate::internal {

class ChatChunks {
 public:
  // The stream's identity, repeated by every chunk; then the first chunk (role assistant, empty
  // content), as OpenAI streams begin.
  void Begin(std::string_view id, int64_t created, std::string_view model,
             std::vector<core::StreamEvent>& out);
  // A chunk whose one choice carries `delta`, with `finish_reason` (null when empty).
  void Delta(boost::json::object delta, std::vector<core::StreamEvent>& out,
             std::string_view finish_reason = {}) const;
  // The end, after the finish chunk (Delta({}, out, reason)): the usage chunk (no choices;
  // written from `usage`, which the event also carries for billing) when there is a usage, and
  // the terminal [DONE].
  void Close(const std::optional<core::Usage>& usage, std::vector<core::StreamEvent>& out) const;

 private:
  boost::json::object Header() const;  // a chunk without choices
  static void Emit(boost::json::object chunk, std::vector<core::StreamEvent>& out,
                   const std::optional<core::Usage>& usage = std::nullopt);

  std::string id_;
  int64_t created_ = 0;
  std::string model_;
};

}  // namespace sy::api::translate::internal
