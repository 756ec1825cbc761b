#include "providers/detail/upstream_call.h"

#include <algorithm>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serializer.hpp>

#include "core/json_depth.h"
#include "providers/detail/answer_scan.h"
#include "providers/upstream_error.h"

namespace sy::providers::detail {

namespace json = boost::json;

std::string EndpointUrl(std::string_view base_url, std::string_view path) {
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  std::string url(base_url);
  url += path;
  return url;
}

UpstreamBody::UpstreamBody(const Call& call) : base_(call.body) {
  Set("model", json::string(call.UpstreamName()));
}

const UpstreamBody::Edit* UpstreamBody::EditOf(std::string_view key) const {
  for (const Edit& edit : edits_) {
    if (edit.key == key) return &edit;
  }
  return nullptr;
}

const json::value* UpstreamBody::Find(std::string_view key) const {
  if (const Edit* edit = EditOf(key)) return edit->value ? &*edit->value : nullptr;
  return base_.if_contains(key);
}

void UpstreamBody::Set(std::string_view key, json::value value) {
  for (Edit& edit : edits_) {
    if (edit.key == key) {
      edit.value = std::move(value);
      return;
    }
  }
  edits_.push_back({key, std::move(value)});
}

void UpstreamBody::Erase(std::string_view key) {
  for (Edit& edit : edits_) {
    if (edit.key == key) {
      edit.value.reset();
      return;
    }
  }
  edits_.push_back({key, std::nullopt});
}

namespace {

// Appends `v`'s JSON text to `out` through a stack buffer (no temporary string per member).
template <class T>
void AppendJson(std::string& out, const T& v) {
  json::serializer serializer;
  serializer.reset(&v);
  char buffer[1024];
  while (!serializer.done()) out.append(serializer.read(buffer));
}

void AppendMember(std::string& out, std::string_view key, const json::value& value) {
  if (out.size() > 1) out.push_back(',');
  json::serializer serializer;
  serializer.reset(key);
  char buffer[256];
  while (!serializer.done()) out.append(serializer.read(buffer));
  out.push_back(':');
  AppendJson(out, value);
}

}  // namespace

std::string UpstreamBody::Serialize() const {
  std::string out;
  out.reserve(256);
  out.push_back('{');
  for (const auto& member : base_) {
    const Edit* edit = EditOf(member.key());
    if (!edit) {
      AppendMember(out, member.key(), member.value());
    } else if (edit->value) {
      AppendMember(out, member.key(), *edit->value);
    }
  }
  for (const Edit& edit : edits_) {
    if (edit.value && !base_.contains(edit.key)) AppendMember(out, edit.key, *edit.value);
  }
  out.push_back('}');
  return out;
}

http::ClientRequest JsonPost(const config::ProviderConfig& config, const Call& call,
                             std::string url, std::string body) {
  if (call.sent_bytes) *call.sent_bytes = body.size();
  http::ClientRequest request;
  request.url = std::move(url);
  // These two, the provider's key and version, and a few passed-through dialect headers.
  request.headers.Reserve(6, 256);
  request.headers.Add("content-type", "application/json");
  request.headers.Add("accept", call.request.stream ? "text/event-stream" : "application/json");
  request.body = std::move(body);
  request.connect_timeout = config.timeouts.connect;
  request.first_byte_timeout = config.timeouts.first_byte;
  request.idle_timeout = config.timeouts.idle;
  request.deadline = call.deadline;
  request.tls = {config.tls_verify, config.ca_file};
  request.max_idle_connections = static_cast<size_t>(std::max(config.max_idle_connections, 0));
  request.delivered = call.delivered;
  return request;
}

std::string ErrorMessageOf(const json::value& body) {
  const auto* obj = body.if_object();
  const auto* error = obj ? obj->if_contains("error") : nullptr;
  if (!error) return {};
  if (error->is_string()) return std::string(error->get_string());
  const auto* error_obj = error->if_object();
  const auto* message = error_obj ? error_obj->if_contains("message") : nullptr;
  return message && message->is_string() ? std::string(message->get_string()) : std::string();
}

int OpenAiFailureStatusOf(const json::value& error) {
  const auto* obj = error.if_object();
  if (!obj) return OpenAiFailureStatus({}, {});
  auto field = [obj](std::string_view name) {
    const auto* v = obj->if_contains(name);
    return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
  };
  return OpenAiFailureStatus(field("type"), field("code"));
}

namespace {

// "messages.1.content" in "messages.1.content: Field required": lower-case names and indices
// joined by dots, then ": ". Anything else (a sentence, a header name) leads with no path.
std::string_view LeadingPath(std::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == std::string_view::npos || colon == 0) return {};
  const std::string_view path = message.substr(0, colon);
  bool segment_start = true;
  for (const char c : path) {
    if (c == '.') {
      if (segment_start) return {};
      segment_start = true;
      continue;
    }
    const bool lower = c >= 'a' && c <= 'z';
    const bool digit = c >= '0' && c <= '9';
    if (!lower && !digit && c != '_') return {};
    segment_start = false;
  }
  return segment_start ? std::string_view() : path;
}

}  // namespace

std::string ErrorParamOf(const json::value& body) {
  const auto* obj = body.if_object();
  const auto* error = obj ? obj->if_contains("error") : nullptr;
  const auto* error_obj = error ? error->if_object() : nullptr;
  if (!error_obj) return {};
  if (const auto* param = error_obj->if_contains("param"); param && param->is_string()) {
    return std::string(param->get_string());
  }
  const auto* type = obj->if_contains("type");
  const bool anthropic = type && type->is_string() && type->get_string() == "error";
  const auto* message = error_obj->if_contains("message");
  if (!anthropic || !message || !message->is_string()) return {};
  return std::string(LeadingPath(message->get_string()));
}

std::optional<int64_t> TokenField(const json::object& usage, std::string_view name) {
  const auto* v = usage.if_contains(name);
  if (!v) return std::nullopt;
  if (v->is_int64() && v->get_int64() >= 0 && v->get_int64() <= kMaxTokenCount) {
    return v->get_int64();
  }
  return std::nullopt;  // a uint64 is above kMaxTokenCount too
}

int64_t NestedTokens(const json::object& usage, std::string_view parent, std::string_view name) {
  const auto* p = usage.if_contains(parent);
  return p && p->is_object() ? TokenField(p->get_object(), name).value_or(0) : 0;
}

bool Billable(const json::object& usage, std::initializer_list<std::string_view> required,
              std::initializer_list<std::string_view> optional) {
  for (std::string_view name : required) {
    if (!TokenField(usage, name)) return false;
  }
  for (std::string_view name : optional) {
    const auto* v = usage.if_contains(name);
    if (v && !v->is_null() && !TokenField(usage, name)) return false;
  }
  return true;
}

http::Task<core::Error> ReadUpstreamError(http::ClientResponse& response,
                                          const std::string& provider,
                                          const core::SecretScrubber& secrets) {
  auto body = co_await response.ReadAll(kMaxErrorBytes);
  std::string text = body ? std::move(*body) : std::string();
  boost::system::error_code ec;
  const json::value parsed = json::parse(text, ec);
  co_return UpstreamError(response.status(), response.headers(), provider,
                          ec ? std::string() : ErrorMessageOf(parsed), text, secrets,
                          ec ? std::string() : ErrorParamOf(parsed));
}

namespace {

// The usage member's reading, or none (no member, or one read_usage refuses).
core::Usage UsageOf(const json::value* member, UsageReader read_usage) {
  if (!member || !read_usage) return {};
  return read_usage(*member).value_or(core::Usage{});
}

// A complete answer as read, with what its shape check needs (ScannedAnswer's facts).
struct ReadAnswer {
  Completion completion;
  bool error = false;    // a non-null top-level "error"
  bool choices = false;  // a top-level "choices" array
  bool content = false;  // a top-level "content" array
};

bool IsArrayMember(const json::object& obj, std::string_view name) {
  const auto* v = obj.if_contains(name);
  return v && v->is_array();
}

// The answer with its DOM, parsed in a monotonic arena; nullopt when it is not a JSON object
// (under `options`).
std::optional<ReadAnswer> ParseAnswer(std::string&& body, UsageReader read_usage,
                                      const json::parse_options& options) {
  boost::system::error_code ec;
  json::value parsed =
      json::parse(body, ec, json::make_shared_resource<json::monotonic_resource>(), options);
  if (ec || !parsed.is_object()) return std::nullopt;
  const json::object& obj = parsed.get_object();
  const core::Usage usage = UsageOf(obj.if_contains("usage"), read_usage);
  const auto* error = obj.if_contains("error");
  const bool has_error = error && !error->is_null();
  const bool choices = IsArrayMember(obj, "choices");
  const bool content = IsArrayMember(obj, "content");
  // Constructed, not assigned: assigning a DOM across memory resources deep-copies it.
  return ReadAnswer{.completion = {.body = std::move(body),
                                   .json = std::move(parsed),
                                   .usage = usage,
                                   .content_type = {}},
                    .error = has_error,
                    .choices = choices,
                    .content = content};
}

// The answer without its DOM: checked and its usage member read by ScanAnswer, with the same
// parse options as ParseAnswer, so that both accept the same bodies. The member is read here
// and dropped: it is built on the stack, without a heap allocation per key.
std::optional<ReadAnswer> ScanAnswerUsage(std::string&& body, UsageReader read_usage,
                                          const json::parse_options& options) {
  unsigned char buffer[1024];
  json::monotonic_resource arena(buffer, sizeof(buffer));
  auto scanned = ScanAnswer(body, options, &arena);
  if (!scanned) return std::nullopt;
  const json::value* member = scanned->usage ? &*scanned->usage : nullptr;
  return ReadAnswer{.completion = {.body = std::move(body),
                                   .json = {},
                                   .usage = UsageOf(member, read_usage),
                                   .content_type = {}},
                    .error = scanned->error,
                    .choices = scanned->choices,
                    .content = scanned->content};
}

// A 2xx body that is no answer of the dialect (ReadAnswer's facts): the failure it stands for,
// or nullopt for an answer. Rare, so the error's DOM is built here when the answer has none.
std::optional<core::Error> NotAnAnswer(const ReadAnswer& read, const AnswerReading& reading,
                                       const std::string& provider,
                                       const core::SecretScrubber& secrets,
                                       const json::parse_options& options) {
  if (read.error) {
    const Completion& c = read.completion;
    const json::value* body = &c.json;  // the answer's DOM, or one parsed here, not a copy
    json::value parsed;
    if (body->is_null()) {
      boost::system::error_code ec;
      parsed = json::parse(c.body, ec, {}, options);
      body = &parsed;
    }
    const http::Headers no_headers;
    return UpstreamError(reading.failure_status(*body), no_headers, provider, ErrorMessageOf(*body),
                         c.body, secrets, ErrorParamOf(*body));
  }
  const bool choices = reading.array == AnswerReading::Array::kChoices;
  if (choices ? !read.choices : !read.content) {
    return MalformedUpstream(provider, choices ? "an answer without a choices array"
                                               : "an answer without a content array");
  }
  return std::nullopt;
}

// FetchJson (no `reading`, a DOM) and FetchWithUsage.
http::Task<core::Result<Completion>> Fetch(http::Client& client, http::ClientRequest request,
                                           const std::string& provider,
                                           const core::SecretScrubber& secrets,
                                           const AnswerReading* reading, bool needs_json,
                                           int64_t max_json_depth) {
  auto response = co_await client.Send(std::move(request));
  if (!response) co_return std::move(response).error();
  auto& res = **response;
  if (res.status() < 200 || res.status() >= 300) {
    core::Error error = co_await ReadUpstreamError(res, provider, secrets);
    co_return error;
  }
  core::BudgetShare hold(client.answer_budget());
  auto body = co_await res.ReadAll(kMaxResponseBytes, &hold);
  if (!body) co_return std::move(body).error();
  // The answer may echo the request (a Responses object echoes its tools and schemas).
  const json::parse_options options = core::EchoParseOptions(max_json_depth);
  const UsageReader read_usage = reading ? reading->read_usage : nullptr;
  std::optional<ReadAnswer> answer = needs_json
                                         ? ParseAnswer(std::move(*body), read_usage, options)
                                         : ScanAnswerUsage(std::move(*body), read_usage, options);
  if (!answer) co_return MalformedUpstream(provider, "malformed JSON");
  if (reading) {
    if (auto failure = NotAnAnswer(*answer, *reading, provider, secrets, options)) {
      co_return std::move(*failure);
    }
  }
  answer->completion.content_type = std::string(res.headers().Get("content-type"));
  answer->completion.held = std::move(hold);
  co_return std::move(answer->completion);
}

}  // namespace

// Plain functions over Fetch: no coroutine frame of their own.
http::Task<core::Result<Completion>> FetchJson(http::Client& client, http::ClientRequest request,
                                               const std::string& provider,
                                               const core::SecretScrubber& secrets,
                                               int64_t max_json_depth) {
  return Fetch(client, std::move(request), provider, secrets, nullptr, true, max_json_depth);
}

http::Task<core::Result<Completion>> FetchWithUsage(http::Client& client,
                                                    http::ClientRequest request,
                                                    const std::string& provider,
                                                    const core::SecretScrubber& secrets,
                                                    const AnswerReading& reading, bool needs_json,
                                                    int64_t max_json_depth) {
  return Fetch(client, std::move(request), provider, secrets, &reading, needs_json, max_json_depth);
}

http::Task<core::Result<std::unique_ptr<EventStream>>> OpenSseStream(
    http::Client& client, http::ClientRequest request, const std::string& provider,
    const core::SecretScrubber& secrets, SseDecoder decoder, std::string cut_short) {
  auto response = co_await client.Send(std::move(request));
  if (!response) co_return std::move(response).error();
  auto& res = **response;
  if (res.status() != 200) {
    core::Error error = co_await ReadUpstreamError(res, provider, secrets);
    co_return error;
  }
  if (res.headers().Get("content-type").find("text/event-stream") == std::string_view::npos) {
    co_return MalformedUpstream(provider, "a stream that is not text/event-stream");
  }
  co_return std::unique_ptr<EventStream>(std::make_unique<SseEventStream>(
      std::move(*response), provider, std::move(decoder), std::move(cut_short)));
}

SseEventStream::SseEventStream(std::unique_ptr<http::ClientResponse> response, std::string provider,
                               SseDecoder decoder, std::string cut_short)
    : reader_(std::move(response), provider),
      provider_(std::move(provider)),
      decoder_(std::move(decoder)),
      cut_short_(std::move(cut_short)) {}

http::Task<core::Result<std::optional<StreamEvent>>> SseEventStream::Next() {
  if (done_) co_return std::optional<StreamEvent>();
  auto sse = co_await reader_.Next();
  if (!sse) co_return std::move(sse).error();
  if (!*sse) co_return MalformedUpstream(provider_, cut_short_);
  co_return Decode(std::move(**sse));
}

std::optional<core::Result<std::optional<StreamEvent>>> SseEventStream::NextBuffered() {
  if (done_) return std::nullopt;  // Next says the stream ended; nothing to gain here
  auto sse = reader_.NextBuffered();
  if (!sse) return std::nullopt;
  return Decode(std::move(*sse));
}

core::Result<std::optional<StreamEvent>> SseEventStream::Decode(http::SseEvent sse) {
  auto event = decoder_(std::move(sse));
  if (!event) return std::move(event).error();
  done_ = event->terminal;
  return std::optional<StreamEvent>(std::move(*event));
}

http::Task<void> SseEventStream::Finish() {
  if (done_) co_await reader_.Finish();  // only a stream that ended cleanly is worth keeping
}

}  // namespace sy::providers::detail
