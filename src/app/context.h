// The per-request state the gateway's stages share. Internal to app/.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "catalog/catalog.h"
#include "core/request.h"
#include "failover/chain.h"
#include "http/server.h"
#include "ledger/record.h"

namespace sy::app {

struct RequestContext {
  RequestContext(http::ServerRequest& h, http::ResponseWriter& w) : http(h), writer(w) {}

  http::ServerRequest& http;
  http::ResponseWriter& writer;
  core::Request request;
  ledger::Record record;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  const catalog::Route* route = nullptr;  // once resolved; owned by the catalog
  // The request translated for each other dialect a candidate speaks, or why it cannot be.
  std::map<core::Dialect, core::Result<boost::json::object>> translated_bodies;
  std::vector<failover::Attempt> attempts;
  const config::ModelConfig* model = nullptr;  // the model that answered
  std::optional<catalog::CostBreakdown> cost;
};

}  // namespace sy::app
