#include "app/response_headers.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace sy::app {

namespace json = boost::json;

namespace {

// Attempts actually sent upstream (skipped cool-downs do not count).
int SentAttempts(const RequestContext& ctx) {
  return static_cast<int>(std::count_if(ctx.attempts.begin(), ctx.attempts.end(),
                                        [](const failover::Attempt& a) { return !a.skipped; }));
}

}  // namespace

void AddSwitchyardHeaders(const RequestContext& ctx, http::Headers& headers) {
  headers.Add("x-switchyard-request-id", ctx.request.id);
  if (ctx.route) headers.Add("x-switchyard-route", ctx.route->reason);
  headers.Add("x-switchyard-attempts", std::to_string(SentAttempts(ctx)));
  if (ctx.model) {
    headers.Add("x-switchyard-model", ctx.model->id);
    headers.Add("x-switchyard-provider", ctx.model->provider);
  }
  if (ctx.cost) headers.Add("x-switchyard-cost-usd", ctx.cost->total.ToString());
}

namespace {

json::object PriceList(const config::PriceList& list) {
  json::object out;
  out["input"] = list.input.ToString();
  if (list.cached_input) out["cached_input"] = list.cached_input->ToString();
  if (list.cache_write) out["cache_write"] = list.cache_write->ToString();
  out["output"] = list.output.ToString();
  return out;
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
    auto hhmm = [](int minute) {
      const auto two = [](int v) { return std::string(v < 10 ? "0" : "") + std::to_string(v); };
      return two(minute / 60) + ":" + two(minute % 60);
    };
    win["name"] = w.name;
    win["start_utc"] = hhmm(w.start_minute_utc);
    win["end_utc"] = hhmm(w.end_minute_utc);
    windows.push_back(std::move(win));
  }
  if (!windows.empty()) out["windows"] = std::move(windows);
  return out;
}

json::object ModelEntry(const config::ModelConfig& m, bool available) {
  json::object details;
  details["provider"] = m.provider;
  details["tier"] = m.tier;
  details["context_window"] = m.context_window;
  json::array caps;
  for (const auto& c : m.capabilities) caps.push_back(json::value(c));
  details["capabilities"] = std::move(caps);
  details["price"] = PriceSchedule(m.price);
  details["available"] = available;
  json::object entry;
  entry["id"] = m.id;
  entry["object"] = "model";
  entry["created"] = 0;
  entry["owned_by"] = m.provider;
  entry["switchyard"] = std::move(details);
  return entry;
}

}  // namespace

std::string ModelsBody(const catalog::Catalog& catalog,
                       const std::map<std::string, std::string>& unavailable_providers) {
  json::array data;
  for (const auto& m : catalog.config().models) {
    data.push_back(ModelEntry(m, !unavailable_providers.contains(m.provider)));
  }
  for (const auto& alias : catalog.config().aliases) {
    json::array chain;
    for (const auto& id : alias.models) chain.push_back(json::value(id));
    json::object details;
    details["alias_for"] = std::move(chain);
    json::object entry;
    entry["id"] = alias.name;
    entry["object"] = "model";
    entry["created"] = 0;
    entry["owned_by"] = "switchyard";
    entry["switchyard"] = std::move(details);
    data.push_back(std::move(entry));
  }
  json::object root;
  root["object"] = "list";
  root["data"] = std::move(data);
  return json::serialize(root);
}

}  // namespace sy::app
