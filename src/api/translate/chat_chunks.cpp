#include "api/translate/chat_chunks.h"

#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "api/translate/usage_json.h"

namespace sy::api::translate::internal {

namespace json = boost::json;

void ChatChunks::Begin(std::string_view id, int64_t created, std::string_view model,
                       std::vector<core::StreamEvent>& out) {
  id_ = std::string(id);
  created_ = created;
  model_ = std::string(model);
  Delta(json::object({{"role", "assistant"}, {"content", ""}}), out);
}

json::object ChatChunks::Header() const {
  return json::object(
      {{"id", id_}, {"object", "chat.completion.chunk"}, {"created", created_}, {"model", model_}});
}

void ChatChunks::Delta(json::object delta, std::vector<core::StreamEvent>& out,
                       std::string_view finish_reason) const {
  json::object choice({{"index", 0}});
  choice["delta"] = std::move(delta);
  choice["logprobs"] = nullptr;
  if (finish_reason.empty()) {
    choice["finish_reason"] = nullptr;
  } else {
    choice["finish_reason"] = finish_reason;
  }
  json::object chunk = Header();
  chunk["choices"] = json::array({std::move(choice)});
  Emit(std::move(chunk), out);
}

void ChatChunks::Close(const std::optional<core::Usage>& usage,
                       std::vector<core::StreamEvent>& out) const {
  if (usage) {
    json::object chunk = Header();
    chunk["choices"] = json::array();
    chunk["usage"] = OpenAiUsageJson(*usage);
    Emit(std::move(chunk), out, usage);
  }
  core::StreamEvent done;
  done.data = "[DONE]";
  done.terminal = true;
  out.push_back(std::move(done));
}

void ChatChunks::Emit(json::object chunk, std::vector<core::StreamEvent>& out,
                      const std::optional<core::Usage>& usage) {
  core::StreamEvent e;
  e.data = json::serialize(chunk);
  e.SetJson(std::move(chunk));
  e.usage = usage;
  out.push_back(std::move(e));
}

}  // namespace sy::api::translate::internal
