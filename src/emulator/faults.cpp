#include "emulator/faults.h"

#include <algorithm>

#include <boost/json.hpp>

#include "emulator/text_gen.h"

namespace sy::emulator {

namespace json = boost::json;

namespace {

core::Error Invalid(std::string message) {
  return core::MakeError(core::Errc::kInvalidRequest, std::move(message));
}

std::optional<int64_t> AsInt(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.get_uint64());
  }
  if (v.is_double() &&
      v.get_double() == static_cast<double>(static_cast<int64_t>(v.get_double()))) {
    return static_cast<int64_t>(v.get_double());
  }
  return std::nullopt;
}

constexpr BadOutput kBadOutputs[] = {BadOutput::kInvalidJson, BadOutput::kSchemaViolation,
                                     BadOutput::kEmpty, BadOutput::kRefusal,
                                     BadOutput::kUngrounded};

constexpr int kAllowedStatuses[] = {400, 401, 403, 404, 408, 413, 429, 500, 502, 503, 504, 529};

core::Result<Fault> ParseFault(const json::value& value, size_t index) {
  std::string where = "faults[" + std::to_string(index) + "]";
  const json::object* obj = value.if_object();
  if (obj == nullptr) return Invalid(where + ": must be an object");
  Fault fault;
  bool has_kind = false;
  bool has_output = false;
  for (const auto& [key, v] : *obj) {
    std::string field = where + "." + std::string(key);
    if (key == "model") {
      if (!v.is_string() || v.get_string().empty()) return Invalid(field + ": must be a string");
      fault.model = std::string(v.get_string());
    } else if (key == "status") {
      auto status = AsInt(v);
      if (!status || std::find(std::begin(kAllowedStatuses), std::end(kAllowedStatuses), *status) ==
                         std::end(kAllowedStatuses)) {
        return Invalid(field + ": must be one of 400 401 403 404 408 413 429 500 502 503 504 529");
      }
      fault.status = static_cast<int>(*status);
    } else if (key == "kind") {
      std::string_view kind = v.is_string() ? std::string_view(v.get_string()) : "";
      has_kind = true;
      if (kind == "timeout") {
        fault.kind = FaultKind::kTimeout;
      } else if (kind == "reset") {
        fault.kind = FaultKind::kReset;
      } else if (kind == "malformed") {
        fault.kind = FaultKind::kMalformed;
      } else if (kind == "slow") {
        fault.kind = FaultKind::kSlow;
      } else if (kind == "status") {
        fault.kind = FaultKind::kStatus;
      } else if (kind == "bad_output") {
        fault.kind = FaultKind::kBadOutput;
      } else {
        return Invalid(field + ": must be timeout, reset, malformed, slow, bad_output or status");
      }
    } else if (key == "output") {
      std::string_view name = v.is_string() ? std::string_view(v.get_string()) : "";
      auto it = std::find_if(std::begin(kBadOutputs), std::end(kBadOutputs),
                             [&](BadOutput o) { return BadOutputName(o) == name; });
      if (it == std::end(kBadOutputs)) {
        return Invalid(field +
                       ": must be invalid_json, schema_violation, empty, refusal or ungrounded");
      }
      fault.output = *it;
      has_output = true;
    } else if (key == "count") {
      auto count = AsInt(v);
      if (!count || *count < 1) return Invalid(field + ": must be an integer >= 1");
      fault.count = *count;
    } else if (key == "rate") {
      if (!v.is_number() || v.to_number<double>() <= 0 || v.to_number<double>() > 1) {
        return Invalid(field + ": must be a number in (0, 1]");
      }
      fault.rate = v.to_number<double>();
    } else if (key == "seed") {
      auto seed = AsInt(v);
      if (!seed) return Invalid(field + ": must be an integer");
      fault.seed = static_cast<uint64_t>(*seed);
    } else if (key == "retry_after_s") {
      auto seconds = AsInt(v);
      if (!seconds || *seconds < 0) return Invalid(field + ": must be an integer >= 0");
      fault.retry_after_s = *seconds;
    } else if (key == "after_tokens") {
      auto tokens = AsInt(v);
      if (!tokens || *tokens < 0) return Invalid(field + ": must be an integer >= 0");
      fault.after_tokens = *tokens;
    } else if (key == "message") {
      if (!v.is_string()) return Invalid(field + ": must be a string");
      fault.message = std::string(v.get_string());
    } else if (key == "param") {
      if (!v.is_string()) return Invalid(field + ": must be a string");
      fault.param = std::string(v.get_string());
    } else {
      return Invalid(field + ": unknown field");
    }
  }
  if (fault.kind == FaultKind::kStatus && fault.status == 0) {
    return Invalid(where + ": needs `status` (an HTTP status) or `kind`");
  }
  if (has_kind && fault.kind != FaultKind::kStatus && fault.status != 0) {
    return Invalid(where + ": give either `status` or `kind`, not both");
  }
  if (fault.kind == FaultKind::kBadOutput && !has_output) {
    return Invalid(where + ".output: required for kind bad_output");
  }
  if (fault.kind != FaultKind::kBadOutput && has_output) {
    return Invalid(where + ".output: only allowed with kind bad_output");
  }
  if (!fault.count && !fault.rate) fault.count = 1;
  fault.rng_state = fault.seed;
  return fault;
}

}  // namespace

core::Result<std::vector<Fault>> ParseFaults(const json::value& body) {
  std::vector<Fault> faults;
  if (const json::array* list = body.if_array()) {
    for (size_t i = 0; i < list->size(); ++i) {
      auto fault = ParseFault((*list)[i], i);
      if (!fault) return fault.error();
      faults.push_back(std::move(*fault));
    }
    if (faults.empty()) return Invalid("faults: the list is empty");
    return faults;
  }
  auto fault = ParseFault(body, 0);
  if (!fault) return fault.error();
  faults.push_back(std::move(*fault));
  return faults;
}

std::string_view FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kStatus:
      return "status";
    case FaultKind::kTimeout:
      return "timeout";
    case FaultKind::kReset:
      return "reset";
    case FaultKind::kMalformed:
      return "malformed";
    case FaultKind::kSlow:
      return "slow";
    case FaultKind::kBadOutput:
      return "bad_output";
  }
  return "status";
}

std::string_view BadOutputName(BadOutput output) {
  switch (output) {
    case BadOutput::kInvalidJson:
      return "invalid_json";
    case BadOutput::kSchemaViolation:
      return "schema_violation";
    case BadOutput::kEmpty:
      return "empty";
    case BadOutput::kRefusal:
      return "refusal";
    case BadOutput::kUngrounded:
      return "ungrounded";
  }
  return "invalid_json";
}

json::object FaultToJson(const Fault& fault) {
  json::object out{{"id", fault.id}, {"model", fault.model}, {"kind", FaultKindName(fault.kind)}};
  if (fault.kind == FaultKind::kStatus) out["status"] = fault.status;
  if (fault.kind == FaultKind::kBadOutput) out["output"] = BadOutputName(fault.output);
  out["count"] = fault.count ? json::value(*fault.count) : json::value(nullptr);
  if (fault.rate) {
    out["rate"] = *fault.rate;
    out["seed"] = fault.seed;
  }
  if (fault.retry_after_s) out["retry_after_s"] = *fault.retry_after_s;
  if (fault.after_tokens) out["after_tokens"] = *fault.after_tokens;
  if (!fault.message.empty()) out["message"] = fault.message;
  if (!fault.param.empty()) out["param"] = fault.param;
  return out;
}

std::vector<Fault> FaultList::Add(std::vector<Fault> faults) {
  for (auto& fault : faults) {
    fault.id = next_id_++;
    faults_.push_back(fault);
  }
  return faults;
}

std::optional<Fault> FaultList::Take(std::string_view model) {
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->model != "*" && it->model != model) continue;
    if (it->rate) {
      Rng rng(it->rng_state);
      double draw = rng.Uniform();
      it->rng_state = rng.state();
      if (draw >= *it->rate) continue;
    }
    Fault struck = *it;
    if (it->count && --*it->count == 0) faults_.erase(it);
    return struck;
  }
  return std::nullopt;
}

namespace {

// How many leading events to send so that `tokens` generated tokens went out and nothing after
// them (all events when the stream has fewer tokens). With tokens == 0 the events before the
// first token (role chunk, message_start) are still sent.
size_t EventsThroughTokens(const std::vector<StreamEvent>& events, int64_t tokens) {
  int64_t sent = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (sent >= tokens && (sent > 0 || events[i].content_tokens > 0)) return i;
    sent += events[i].content_tokens;
  }
  return events.size();
}

int64_t TotalTokens(const std::vector<StreamEvent>& events) {
  int64_t total = 0;
  for (const auto& e : events) total += e.content_tokens;
  return total;
}

// The event's bytes cut in the middle of its data line, still terminated as an event, so an SSE
// parser delivers a data payload that is not valid JSON.
std::string BrokenEvent(const std::string& bytes) {
  size_t data = bytes.find("data: ");
  if (data == std::string::npos) return "data: {\"broken\n\n";
  size_t payload = data + 6;
  size_t end = bytes.find('\n', payload);
  if (end == std::string::npos) end = bytes.size();
  size_t cut = payload + std::max<size_t>(1, (end - payload) / 2);
  return bytes.substr(0, std::min(cut, end)) + "\n\n";
}

}  // namespace

void ApplyTransportFault(const Fault& fault, Reply& reply) {
  switch (fault.kind) {
    case FaultKind::kStatus:
    case FaultKind::kBadOutput:
      return;
    case FaultKind::kSlow:
      reply.delay *= kSlowdownFactor;
      for (auto& event : reply.events) event.delay *= kSlowdownFactor;
      return;
    case FaultKind::kTimeout:
    case FaultKind::kReset:
      reply.abort = fault.kind == FaultKind::kTimeout ? Abort::kHang : Abort::kReset;
      if (reply.stream && fault.after_tokens) {
        reply.events.resize(EventsThroughTokens(reply.events, *fault.after_tokens));
      } else {
        reply.send_head = false;
        reply.delay = std::chrono::microseconds(0);
        reply.events.clear();
        reply.body.clear();
      }
      // The head still says keep-alive, as a healthy answer would: clients (undici) treat a
      // reset after "connection: close" as the end of a complete body.
      return;
    case FaultKind::kMalformed:
      if (!reply.stream) {
        reply.body = reply.body.size() < 2 ? "{" : reply.body.substr(0, reply.body.size() / 2);
        return;
      }
      int64_t strike_at = fault.after_tokens ? *fault.after_tokens
                                             : std::max<int64_t>(1, TotalTokens(reply.events) / 2);
      size_t keep = EventsThroughTokens(reply.events, strike_at);
      std::string broken = keep < reply.events.size() ? BrokenEvent(reply.events[keep].bytes)
                                                      : std::string("data: {\"broken\n\n");
      reply.events.resize(keep);
      reply.events.push_back(StreamEvent{std::chrono::microseconds(0), std::move(broken), 0});
      return;
  }
}

}  // namespace sy::emulator
