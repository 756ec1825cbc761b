#include "app/admin.h"

#include <charconv>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse_query.hpp>

#include "app/auth.h"
#include "app/dialect.h"
#include "core/text.h"
#include "ledger/outcomes.h"
#include "ledger/spend.h"
#include "limits/keys.h"

namespace sy::app {
namespace {

namespace json = boost::json;

constexpr size_t kMaxIdBytes = 128;
constexpr size_t kMaxCommentBytes = 2000;

struct Params {
  std::map<std::string, std::string, std::less<>> values;
  std::string_view Get(std::string_view name) const {
    auto it = values.find(name);
    return it == values.end() ? std::string_view() : std::string_view(it->second);
  }
  bool Has(std::string_view name) const { return values.contains(name); }
};

Params ReadParams(const http::ServerRequest& http) {
  Params out;
  auto params = boost::urls::parse_query(http.Query());
  if (!params) return out;
  for (auto param : *params) out.values.emplace(param.key.decode(), param.value.decode());
  return out;
}

// An admin body is a few flat objects: budgets and limits are the deepest, at level 2.
constexpr int kMaxBodyDepth = 16;

core::Result<json::object> ParseBody(const http::ServerRequest& http) {
  if (http.body.empty()) return json::object();
  json::parse_options options;
  options.max_depth = kMaxBodyDepth;
  boost::system::error_code ec;
  json::value v = json::parse(http.body, ec, {}, options);
  if (ec == json::error::too_deep) {
    return core::MakeError(
        core::Errc::kInvalidRequest,
        "The body is nested deeper than " + std::to_string(kMaxBodyDepth) + " levels.");
  }
  if (ec) return core::MakeError(core::Errc::kInvalidRequest, "The body is not valid JSON.");
  if (!v.is_object()) {
    return core::MakeError(core::Errc::kInvalidRequest, "The body must be a JSON object.");
  }
  return std::move(v.get_object());
}

// `allow` as the Allow header lists the methods: "GET, HEAD", "GET, PUT".
core::Error WrongMethod(const http::ServerRequest& http, std::string allow) {
  return core::MethodNotAllowed(http.Path(), std::move(allow));
}

core::Error UnknownEndpoint(const http::ServerRequest& http) {
  return core::MakeError(core::Errc::kNotFound, "Unknown endpoint " +
                                                    core::ClipForEcho(http.method, 16) + " " +
                                                    core::ClipForEcho(http.Path()) + ".");
}

std::string Serialized(core::Result<json::object> object) { return json::serialize(*object); }

// A report parameter's refusal, naming it.
core::Error Named(std::string_view name, core::Error e) {
  e.param = std::string(name);
  e.message = std::string(name) + ": " + e.message;
  return e;
}

// The time bounds shared by spend and outcomes.
core::Status ReadBounds(const Params& params, std::optional<int64_t>& from,
                        std::optional<int64_t>& to) {
  for (auto [name, out] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
    if (!params.Has(name)) continue;
    auto bound = ledger::ParseTimeBound(params.Get(name));
    if (!bound) return Named(name, bound.error());
    *out = *bound;
  }
  return {};
}

// limit=, when given: a whole number from 1 to `most` (a spend report's groups, a list's items).
core::Status ReadLimit(const Params& params, int64_t most, int64_t& out) {
  if (!params.Has("limit")) return {};
  const std::string_view text = params.Get("limit");
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > most) {
    return core::InvalidParam("limit",
                              "limit must be a whole number from 1 to " + std::to_string(most));
  }
  out = value;
  return {};
}

// limit= and after= of a key or tenant list.
core::Result<KeyService::ListPage> ReadListPage(const Params& params) {
  KeyService::ListPage page;
  page.after = std::string(params.Get("after"));
  if (auto s = ReadLimit(params, KeyService::kMaxListLimit, page.limit); !s) return s.error();
  return page;
}

// The tenant a report is about: the caller's own (a client may not ask for another), or the
// one an operator names.
core::Result<std::optional<std::string>> ReportTenant(const Params& params,
                                                      const std::string* own) {
  const bool asked = params.Has("tenant");
  if (!own) return asked ? std::optional<std::string>(params.Get("tenant")) : std::nullopt;
  if (asked && params.Get("tenant") != *own) {
    return core::MakeError(core::Errc::kForbidden,
                           "This key may read only its own tenant's spend (" + *own + ").");
  }
  return std::optional<std::string>(*own);
}

// by= (default model), from=, to= and the tenant of a spend or outcome report, into `query`.
template <typename Query, typename By>
core::Status ReadReportQuery(const Params& params, const std::string* own,
                             core::Result<By> (*parse_by)(std::string_view), Query& query) {
  auto by = parse_by(params.Has("by") ? params.Get("by") : "model");
  if (!by) return Named("by", by.error());
  query.by = *by;
  if (auto s = ReadBounds(params, query.from_ms, query.to_ms); !s) return s;
  auto scope = ReportTenant(params, own);
  if (!scope) return scope.error();
  query.tenant = *scope;
  return {};
}

core::Result<std::string> ReadId(const json::object& body, std::string_view name) {
  const json::value* v = body.if_contains(name);
  const bool plain = v && v->is_string() && !v->get_string().empty() &&
                     v->get_string().size() <= kMaxIdBytes &&
                     std::all_of(v->get_string().begin(), v->get_string().end(),
                                 [](char c) { return c >= 0x21 && c <= 0x7e; });
  if (!plain) {
    return core::InvalidParam(std::string(name),
                              std::string(name) + " must be 1-128 printable ASCII characters");
  }
  return std::string(v->get_string());
}

core::Status ReadBool(const json::object& body, std::string_view name, bool& out) {
  const json::value* v = body.if_contains(name);
  if (!v) return {};
  if (!v->is_bool()) {
    return core::InvalidParam(std::string(name), std::string(name) + " must be true or false");
  }
  out = v->get_bool();
  return {};
}

// A feedback body, without the ownership check.
core::Result<ledger::FeedbackRow> ReadFeedback(const json::object& body) {
  static constexpr std::string_view kKnown[] = {"request_id",   "task_id",     "outcome", "score",
                                                "user_retried", "user_edited", "comment"};
  for (const auto& field : body) {
    if (std::find(std::begin(kKnown), std::end(kKnown), field.key()) == std::end(kKnown)) {
      return core::InvalidParam(core::ClipForEcho(field.key(), 64),
                                "unknown field \"" + core::ClipForEcho(field.key(), 64) + "\"");
    }
  }
  ledger::FeedbackRow row;
  const bool by_request = body.contains("request_id");
  if (by_request == body.contains("task_id")) {
    return core::InvalidParam("request_id", "send exactly one of request_id and task_id");
  }
  auto id = ReadId(body, by_request ? "request_id" : "task_id");
  if (!id) return id.error();
  (by_request ? row.request_id : row.task_id) = std::move(*id);
  const json::value* outcome = body.if_contains("outcome");
  if (!outcome || !outcome->is_string() ||
      (outcome->get_string() != "success" && outcome->get_string() != "failure")) {
    return core::InvalidParam("outcome", "outcome must be \"success\" or \"failure\"");
  }
  row.outcome = std::string(outcome->get_string());
  if (const json::value* score = body.if_contains("score")) {
    const bool number = score->is_number();
    const double value = number ? score->to_number<double>() : -1;
    if (!number || !(value >= 0 && value <= 1)) {
      return core::InvalidParam("score", "score must be a number from 0 to 1");
    }
    row.score = value;
  }
  if (auto s = ReadBool(body, "user_retried", row.user_retried); !s) return s.error();
  if (auto s = ReadBool(body, "user_edited", row.user_edited); !s) return s.error();
  if (const json::value* comment = body.if_contains("comment")) {
    if (!comment->is_string() || comment->get_string().size() > kMaxCommentBytes) {
      return core::InvalidParam("comment", "comment must be a string of at most 2000 bytes");
    }
    row.comment = core::ClipForEcho(comment->get_string(), kMaxCommentBytes);
  }
  return row;
}

}  // namespace

AdminApi::AdminApi(const catalog::Catalog& catalog, KeyService* keys, http::BlockingPool& pool,
                   std::unique_ptr<ledger::FeedbackStore> feedback,
                   std::function<void()> flush_ledger, std::string_view compare_key)
    : catalog_(catalog),
      keys_(keys),
      pool_(pool),
      feedback_(std::move(feedback)),
      flush_ledger_(std::move(flush_ledger)),
      compare_key_(compare_key) {}

const http::Headers AdminApi::kNoHeaders{};

http::Task<void> AdminApi::Send(http::ResponseWriter& writer, core::Dialect dialect, Reply& reply,
                                const http::Headers& given) {
  http::Headers headers = given;
  headers.Add("content-type", "application/json");
  if (reply.body) {
    co_await writer.Send(reply.status, headers, std::move(*reply.body));
    co_return;
  }
  auto encoded = EncodeError(dialect, reply.body.error());
  // A 401 names the scheme it wants (RFC 9110 §11.6.1): the admin token, or a client key.
  if (encoded.status == 401) headers.Add("www-authenticate", "Bearer");
  if (!reply.body.error().allow.empty()) headers.Add("allow", reply.body.error().allow);
  co_await writer.Send(encoded.status, headers, std::move(encoded.body));
}

http::Task<void> AdminApi::RunAndSend(http::ResponseWriter& writer, core::Dialect dialect,
                                      std::function<Reply()> work, const http::Headers& headers) {
  Reply reply;
  const bool ran = co_await pool_.Run([&] { reply = work(); });
  if (!ran) {
    reply.body = core::MakeError(core::Errc::kOverloaded,
                                 "Too many reports and admin calls at once; retry shortly.");
  }
  co_await Send(writer, dialect, reply, headers);
}

http::Task<void> AdminApi::ServeAdmin(http::ServerRequest& http, http::ResponseWriter& writer) {
  const std::string& token = catalog_.config().auth.admin_token;
  std::optional<core::Error> refusal;
  if (token.empty()) {
    refusal = core::MakeError(core::Errc::kUnauthenticated,
                              "The admin API is disabled: set " +
                                  catalog_.config().auth.admin_token_env + " to enable it.");
  } else {
    if (!PresentsToken(http.headers, compare_key_, token)) {
      refusal = core::MakeError(
          core::Errc::kUnauthenticated,
          "Invalid or missing admin token: send Authorization: Bearer <the admin token>.");
    }
  }
  if (refusal) {
    // Answered at once: a refused caller gets no place in the pool's queue.
    // A named local, not a temporary: GCC 12 mishandles class temporaries in a co_await's
    // arguments.
    Reply reply{0, *refusal};
    co_await Send(writer, core::Dialect::kOpenAiChat, reply, kNoHeaders);
    co_return;
  }
  co_await RunAndSend(
      writer, core::Dialect::kOpenAiChat, [&] { return Admin(http); }, kNoHeaders);
}

http::Task<void> AdminApi::ServeClient(http::ServerRequest& http, http::ResponseWriter& writer,
                                       const Caller* caller, const http::Headers& headers) {
  const core::Dialect dialect = ClientDialect(http);
  const std::string* tenant = caller ? &caller->key->tenant : nullptr;
  const std::string_view path = http.Path();
  co_await RunAndSend(
      writer, dialect,
      [&]() -> Reply {
        if (path == "/v1/feedback") {
          if (http.method != "POST") return {0, WrongMethod(http, "POST")};
          return Feedback(http, caller);
        }
        if (http.method != "GET" && http.method != "HEAD") {
          return {0, WrongMethod(http, "GET, HEAD")};
        }
        return path == "/v1/spend" ? Spend(http, tenant) : Outcomes(http, tenant);
      },
      headers);
}

AdminApi::Reply AdminApi::Admin(const http::ServerRequest& http) {
  const std::string_view rest = http.Path().substr(std::string_view("/admin").size());
  const bool get = http.method == "GET" || http.method == "HEAD";
  if (rest == "/spend")
    return get ? Spend(http, nullptr) : Reply{0, WrongMethod(http, "GET, HEAD")};
  if (rest == "/outcomes") {
    return get ? Outcomes(http, nullptr) : Reply{0, WrongMethod(http, "GET, HEAD")};
  }
  if (!keys_) return {0, UnknownEndpoint(http)};
  if (rest == "/keys" || rest.starts_with("/keys/")) return Keys(http, rest.substr(5));
  if (rest == "/tenants") {
    if (!get) return {0, WrongMethod(http, "GET, HEAD")};
    auto page = ReadListPage(ReadParams(http));
    if (!page) return {0, page.error()};
    return {200, Serialized(keys_->ListTenants(*page))};
  }
  if (rest.starts_with("/tenants/") && rest.size() > 9) {
    const std::string_view name = rest.substr(9);
    if (get) {
      auto tenant = keys_->GetTenant(name);
      if (!tenant) return {0, tenant.error()};
      return {200, Serialized(std::move(tenant))};
    }
    if (http.method != "PUT") return {0, WrongMethod(http, "GET, HEAD, PUT")};
    auto body = ParseBody(http);
    if (!body) return {0, body.error()};
    auto tenant = keys_->PutTenant(name, *body);
    if (!tenant) return {0, tenant.error()};
    return {200, Serialized(std::move(tenant))};
  }
  return {0, UnknownEndpoint(http)};
}

AdminApi::Reply AdminApi::Keys(const http::ServerRequest& http, std::string_view rest) {
  const bool get = http.method == "GET" || http.method == "HEAD";
  core::Result<json::object> out = json::object();
  int status = 200;
  auto body = ParseBody(http);
  if (!body) return {0, body.error()};
  if (rest.empty() || rest == "/") {
    if (get) {
      const Params params = ReadParams(http);
      auto page = ReadListPage(params);
      if (!page) return {0, page.error()};
      out = keys_->ListKeys(params.Get("tenant"), *page);
    } else if (http.method == "POST") {
      out = keys_->CreateKey(*body);
      status = 201;
    } else {
      return {0, WrongMethod(http, "GET, HEAD, POST")};
    }
  } else if (rest.ends_with("/rotate")) {
    if (http.method != "POST") return {0, WrongMethod(http, "POST")};
    out = keys_->RotateKey(rest.substr(1, rest.size() - 8), *body);
  } else {
    const std::string_view id = rest.substr(1);
    if (get) {
      out = keys_->GetKey(id);
    } else if (http.method == "PATCH") {
      out = keys_->UpdateKey(id, *body);
    } else if (http.method == "DELETE") {
      out = keys_->RevokeKey(id);
    } else {
      return {0, WrongMethod(http, "GET, HEAD, PATCH, DELETE")};
    }
  }
  if (!out) return {0, out.error()};
  return {status, Serialized(std::move(out))};
}

// The request ledger: PostgreSQL when database.url is set, else the SQLite file.
const std::string& AdminApi::LedgerLocation() const {
  const config::Config& config = catalog_.config();
  return config.database.url.empty() ? config.ledger.sqlite_path : config.database.url;
}

AdminApi::Reply AdminApi::Spend(const http::ServerRequest& http, const std::string* tenant) {
  const Params params = ReadParams(http);
  ledger::SpendQuery query;
  if (auto s = ReadReportQuery(params, tenant, &ledger::ParseGroupBy, query); !s) {
    return {0, s.error()};
  }
  if (auto s = ReadLimit(params, ledger::kMaxSpendGroups, query.max_groups); !s) {
    return {0, s.error()};
  }
  const std::string baseline(params.Get("baseline"));
  const config::ModelConfig* model = nullptr;
  if (!baseline.empty() && !(model = catalog_.FindModel(baseline))) {
    return {0, core::InvalidParam("baseline", "baseline: unknown model \"" +
                                                  core::ClipForEcho(baseline, 128) + "\"")};
  }
  ledger::Reprice reprice = [model](const core::Usage& usage, int64_t at_ms, std::string_view) {
    const auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(at_ms));
    return catalog::ComputeCost(model->price, usage, at).total;
  };
  auto report = ledger::QuerySpend(LedgerLocation(), query, model ? &reprice : nullptr, baseline);
  if (!report) return {0, report.error()};
  return {200, ledger::FormatJson(*report)};
}

AdminApi::Reply AdminApi::Outcomes(const http::ServerRequest& http, const std::string* tenant) {
  const Params params = ReadParams(http);
  ledger::OutcomeQuery query;
  if (auto s = ReadReportQuery(params, tenant, &ledger::ParseOutcomeBy, query); !s) {
    return {0, s.error()};
  }
  auto report = ledger::QueryOutcomes(LedgerLocation(), query);
  if (!report) return {0, report.error()};
  return {200, ledger::FormatOutcomesJson(*report)};
}

AdminApi::Reply AdminApi::Feedback(const http::ServerRequest& http, const Caller* caller) {
  auto body = ParseBody(http);
  if (!body) return {0, body.error()};
  auto row = ReadFeedback(*body);
  if (!row) return {0, row.error()};
  row->tenant = caller ? caller->key->tenant : std::string();
  row->key_id = caller ? caller->key->id : std::string();
  const bool by_request = !row->request_id.empty();
  const auto belongs = [&] {
    return by_request ? feedback_->RequestBelongsTo(row->request_id, row->tenant)
                      : feedback_->TaskBelongsTo(row->task_id, row->tenant);
  };
  auto known = belongs();
  if (known && !*known) {
    // The request may have finished a moment ago, its record still on the way to the file:
    // flush and look again. Only then: a flush on every feedback made each one, from any key,
    // cut the ledger writer's batch short.
    flush_ledger_();
    known = belongs();
  }
  if (!known) return {0, known.error()};
  if (!*known) {
    return {0, core::MakeError(core::Errc::kNotFound,
                               by_request ? "No request " + row->request_id + " of yours."
                                          : "No task " + row->task_id + " of yours.")};
  }
  row->id = limits::NewId("fb_", 16);
  row->created_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  if (auto s = feedback_->Insert(*row); !s) return {0, s.error()};
  json::object out{{"object", "feedback"}, {"id", row->id}, {"outcome", row->outcome}};
  out[by_request ? "request_id" : "task_id"] = by_request ? row->request_id : row->task_id;
  return {201, json::serialize(out)};
}

}  // namespace sy::app
