// app::ModelsListing: GET /v1/models and GET /v1/models/{id} in both client dialects, built once
// from the catalog. Every entry carries a "switchyard" object (provider, tier, context window,
// other ids, capabilities — the model's own and what it accepts through each client dialect —,
// price schedule, availability; for an alias, the models it stands for) next to the dialect's
// own fields, which the official SDKs ignore. A model's other ids (ModelConfig::ids) find its
// entry too; lists show each model once, by its id.
//
// Thread-safety: immutable after construction.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "catalog/catalog.h"
#include "core/result.h"

namespace sy::app {

// Anthropic's list parameters (GET /v1/models?limit=&after_id=&before_id=).
struct ModelsPage {
  int64_t limit = 20;  // 1..1000
  std::string after_id;
  std::string before_id;
};

class ModelsListing {
 public:
  ModelsListing(const catalog::Catalog& catalog,
                const std::map<std::string, std::string>& unavailable_providers);

  // OpenAI: {"object":"list","data":[{"id","object":"model","created","owned_by"}, ...]}.
  const std::string& OpenAiList() const { return openai_list_; }
  // OpenAI: one model object; nullopt when the id is neither a model nor an alias.
  std::optional<std::string> OpenAiModel(std::string_view id) const;

  // Anthropic: {"data":[{"type":"model","id","display_name","created_at"}],"has_more",
  // "first_id","last_id"}, paginated as Anthropic's API is. Fails with kInvalidRequest for a
  // limit out of range, both cursors at once or a cursor that names no entry.
  core::Result<std::string> AnthropicList(const ModelsPage& page) const;
  std::optional<std::string> AnthropicModel(std::string_view id) const;

  // Reads limit, after_id and before_id from a query string ("limit=2&after_id=x").
  static core::Result<ModelsPage> ParsePage(std::string_view query);

 private:
  struct Entry {
    std::string id;
    std::string owned_by;
    boost::json::object details;  // the "switchyard" object
  };
  static boost::json::object OpenAiEntry(const Entry& entry);
  static boost::json::object AnthropicEntry(const Entry& entry);
  const Entry* Find(std::string_view id) const;

  std::vector<Entry> entries_;
  std::map<std::string, std::string> other_ids_;  // a model's other id -> its id
  std::string openai_list_;
};

}  // namespace sy::app
