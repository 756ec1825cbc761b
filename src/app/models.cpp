#include "app/models.h"

#include <algorithm>
#include <charconv>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse_query.hpp>

#include "core/text.h"

namespace sy::app {
namespace {

namespace json = boost::json;

constexpr int64_t kMaxPageLimit = 1000;
// Model release dates are not in the catalog; both dialects get the epoch rather than a guess.
constexpr int64_t kCreatedUnix = 0;
constexpr const char* kCreatedAt = "1970-01-01T00:00:00Z";

json::object PriceList(const config::PriceList& list) {
  json::object out;
  out["input"] = list.input.ToString();
  if (list.cached_input) out["cached_input"] = list.cached_input->ToString();
  if (list.cache_write) out["cache_write"] = list.cache_write->ToString();
  out["output"] = list.output.ToString();
  return out;
}

std::string HourMinute(int minute) {
  const auto two = [](int v) { return std::string(v < 10 ? "0" : "") + std::to_string(v); };
  return two(minute / 60) + ":" + two(minute % 60);
}

json::object PriceSchedule(const config::PriceSchedule& schedule) {
  json::object out = PriceList(schedule.standard);
  out["currency"] = "USD";
  out["unit"] = "per 1M tokens";
  out["example"] = schedule.example;
  if (!schedule.note.empty()) out["note"] = schedule.note;
  json::array windows;
  for (const auto& w : schedule.windows) {
    json::object win = PriceList(w.prices);
    win["name"] = w.name;
    win["start_utc"] = HourMinute(w.start_minute_utc);
    win["end_utc"] = HourMinute(w.end_minute_utc);
    windows.push_back(std::move(win));
  }
  if (!windows.empty()) out["windows"] = std::move(windows);
  return out;
}

bool Has(const config::ModelConfig& m, std::string_view capability) {
  return std::find(m.capabilities.begin(), m.capabilities.end(), capability) !=
         m.capabilities.end();
}

// What a model accepts through one client dialect, given the dialect its provider speaks: what
// the translators carry across (api/translate; docs/api.md, the translation table). Chat and
// Responses translate into each other without loss; towards and from Anthropic, reasoning
// settings are dropped (extended thinking and reasoning_effort do not map), and a JSON-schema
// answer from an Anthropic model without native structured output is asked for as a forced tool,
// so a model with tools accepts json_schema through the OpenAI dialects.
json::array CapabilitiesThrough(const config::ModelConfig& m, bool anthropic_model,
                                bool anthropic_client) {
  json::array out;
  const bool translated = anthropic_model != anthropic_client;
  for (const std::string& c : m.capabilities) {
    if (translated && c == "reasoning") continue;
    out.push_back(json::value(c));
  }
  if (anthropic_model && !anthropic_client && !Has(m, "json_schema") && Has(m, "tools")) {
    out.push_back("json_schema");
  }
  return out;
}

// Where the model is served from: each deployment's provider, upstream name and weight, and
// its price when it overrides the model's.
json::array DeploymentsOf(const catalog::Catalog& catalog, const config::ModelConfig& m) {
  json::array out;
  for (const catalog::Deployment& d : catalog.DeploymentsOf(m)) {
    json::object o{{"name", d.name()},
                   {"provider", d.provider->name},
                   {"upstream_name", d.upstream_name()},
                   {"weight", d.config->weight}};
    if (d.config->price) o["price"] = PriceSchedule(*d.config->price);
    out.push_back(std::move(o));
  }
  return out;
}

// What is known of the model's quality, with where it came from: the figures routing's
// min_quality and max_hallucination_rate read, so that a client or operator can see whether a
// decision rests on a published figure or on an operator's example.
json::object QualityOf(const config::ModelQuality& q) {
  json::object scores;
  for (const auto& [task, score] : q.scores) scores[task] = score;
  json::object out;
  out["scores"] = std::move(scores);
  out["example"] = q.example;
  if (!q.note.empty()) out["note"] = q.note;
  if (q.hallucination_rate) {
    json::object h;
    h["rate"] = *q.hallucination_rate;
    if (!q.hallucination_source.empty()) h["source"] = q.hallucination_source;
    out["hallucination"] = std::move(h);
  }
  return out;
}

json::object ModelDetails(const catalog::Catalog& catalog, const config::ModelConfig& m,
                          const config::ProviderConfig& provider, bool available) {
  json::object details;
  details["provider"] = m.provider;
  details["tier"] = m.tier;
  details["context_window"] = m.context_window;
  json::array ids;
  for (const auto& id : m.ids) ids.push_back(json::value(id));
  details["ids"] = std::move(ids);
  json::array caps;
  for (const auto& c : m.capabilities) caps.push_back(json::value(c));
  details["capabilities"] = std::move(caps);
  const bool anthropic = provider.kind == "anthropic";
  json::object by_dialect;
  by_dialect["openai"] = CapabilitiesThrough(m, anthropic, false);
  by_dialect["responses"] = CapabilitiesThrough(m, anthropic, false);
  by_dialect["anthropic"] = CapabilitiesThrough(m, anthropic, true);
  details["capabilities_by_dialect"] = std::move(by_dialect);
  details["price"] = PriceSchedule(m.price);
  details["quality"] = QualityOf(m.quality);
  details["deployments"] = DeploymentsOf(catalog, m);
  details["strategy"] = m.strategy;
  details["available"] = available;
  return details;
}

json::object AliasDetails(const config::AliasConfig& alias) {
  json::array chain;
  for (const auto& id : alias.models) chain.push_back(json::value(id));
  json::object details;
  details["alias_for"] = std::move(chain);
  return details;
}

}  // namespace

ModelsListing::ModelsListing(const catalog::Catalog& catalog,
                             const std::map<std::string, std::string>& unavailable_providers) {
  for (const auto& m : catalog.config().models) {
    entries_.push_back({m.id, m.provider,
                        ModelDetails(catalog, m, catalog.ProviderOf(m),
                                     !unavailable_providers.contains(m.provider))});
    for (const auto& other : m.ids) other_ids_.emplace(other, m.id);
  }
  for (const auto& alias : catalog.config().aliases) {
    entries_.push_back({alias.name, "switchyard", AliasDetails(alias)});
  }
  json::array data;
  for (const auto& e : entries_) data.push_back(OpenAiEntry(e));
  json::object root;
  root["object"] = "list";
  root["data"] = std::move(data);
  openai_list_ = json::serialize(root);
}

json::object ModelsListing::OpenAiEntry(const Entry& e) {
  json::object out;
  out["id"] = e.id;
  out["object"] = "model";
  out["created"] = kCreatedUnix;
  out["owned_by"] = e.owned_by;
  out["switchyard"] = e.details;
  return out;
}

json::object ModelsListing::AnthropicEntry(const Entry& e) {
  json::object out;
  out["type"] = "model";
  out["id"] = e.id;
  out["display_name"] = e.id;
  out["created_at"] = kCreatedAt;
  out["switchyard"] = e.details;
  return out;
}

const ModelsListing::Entry* ModelsListing::Find(std::string_view id) const {
  if (auto other = other_ids_.find(std::string(id)); other != other_ids_.end()) id = other->second;
  auto it =
      std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.id == id; });
  return it == entries_.end() ? nullptr : &*it;
}

std::optional<std::string> ModelsListing::OpenAiModel(std::string_view id) const {
  const Entry* e = Find(id);
  if (!e) return std::nullopt;
  return json::serialize(OpenAiEntry(*e));
}

std::optional<std::string> ModelsListing::AnthropicModel(std::string_view id) const {
  const Entry* e = Find(id);
  if (!e) return std::nullopt;
  return json::serialize(AnthropicEntry(*e));
}

core::Result<std::string> ModelsListing::AnthropicList(const ModelsPage& page) const {
  if (page.limit < 1 || page.limit > kMaxPageLimit) {
    return core::InvalidParam("limit", "limit: Input should be between 1 and 1000");
  }
  if (!page.after_id.empty() && !page.before_id.empty()) {
    return core::InvalidParam("after_id", "after_id and before_id cannot be used together");
  }
  // [begin, end) of the page within entries_.
  auto index_of = [&](const std::string& id) -> std::optional<int64_t> {
    const Entry* e = Find(id);
    if (!e) return std::nullopt;
    return e - entries_.data();
  };
  const auto size = static_cast<int64_t>(entries_.size());
  int64_t begin = 0;
  int64_t end = std::min(size, page.limit);
  if (!page.after_id.empty()) {
    auto at = index_of(page.after_id);
    if (!at)
      return core::InvalidParam(
          "after_id", "after_id: no model or alias named " + core::ClipForEcho(page.after_id));
    begin = *at + 1;
    end = std::min(size, begin + page.limit);
  } else if (!page.before_id.empty()) {
    auto at = index_of(page.before_id);
    if (!at)
      return core::InvalidParam(
          "before_id", "before_id: no model or alias named " + core::ClipForEcho(page.before_id));
    end = *at;
    begin = std::max<int64_t>(0, end - page.limit);
  }
  json::array data;
  for (int64_t i = begin; i < end; ++i) {
    const Entry& e = entries_[static_cast<size_t>(i)];
    data.push_back(AnthropicEntry(e));
  }
  json::object root;
  const bool empty = begin >= end;
  root["data"] = std::move(data);
  // Anthropic's has_more looks past the page in the direction of travel.
  root["has_more"] = page.before_id.empty() ? end < size : begin > 0;
  root["first_id"] = empty ? json::value(nullptr) : json::value(entries_[size_t(begin)].id);
  root["last_id"] = empty ? json::value(nullptr) : json::value(entries_[size_t(end - 1)].id);
  return json::serialize(root);
}

core::Result<ModelsPage> ModelsListing::ParsePage(std::string_view query) {
  ModelsPage page;
  auto params = boost::urls::parse_query(query);
  if (!params) return core::InvalidParam("", "the query string is malformed");
  for (auto param : *params) {
    const std::string value = param.value.decode();
    const std::string key = param.key.decode();
    if (key == "limit") {
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), page.limit);
      if (ec != std::errc() || ptr != value.data() + value.size()) {
        return core::InvalidParam("limit", "limit: Input should be a valid integer");
      }
    } else if (key == "after_id") {
      page.after_id = value;
    } else if (key == "before_id") {
      page.before_id = value;
    }
  }
  return page;
}

}  // namespace sy::app
