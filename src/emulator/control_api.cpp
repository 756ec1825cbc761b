#include "emulator/control_api.h"

#include <string>

#include <boost/json.hpp>

namespace sy::emulator {

namespace json = boost::json;

namespace {

// "%2F" -> "/": model names arrive URL-encoded in /_emulator/profiles/{model}.
std::string PercentDecode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Reply ControlError(int status, std::string_view message) {
  return JsonReply(status, json::object{{"error", {{"message", message}}}});
}

Reply NoContent() {
  Reply reply;
  reply.status = 204;
  return reply;
}

json::array FaultsJson(const std::vector<Fault>& faults) {
  json::array list;
  for (const auto& fault : faults) list.push_back(FaultToJson(fault));
  return list;
}

Reply Faults(const HttpRequest& request, State& state) {
  if (request.method == "DELETE") {
    state.ClearFaults();
    return NoContent();
  }
  if (request.method == "GET") {
    return JsonReply(200, json::object{{"faults", FaultsJson(state.ListFaults())}});
  }
  if (request.method != "POST") return ControlError(405, "use GET, POST or DELETE");
  boost::system::error_code ec;
  json::value body = json::parse(request.body, ec);
  if (ec) return ControlError(400, "body is not valid JSON");
  auto faults = ParseFaults(body);
  if (!faults) return ControlError(400, faults.error().message);
  return JsonReply(201, json::object{{"faults", FaultsJson(state.AddFaults(std::move(*faults)))}});
}

Reply Profiles(const HttpRequest& request, std::string_view encoded_model, State& state) {
  std::string model = PercentDecode(encoded_model);
  if (model.empty()) return ControlError(404, "use /_emulator/profiles/{model}");
  if (request.method == "GET") return JsonReply(200, ProfileToJson(state.GetProfile(model)));
  if (request.method != "PUT") return ControlError(405, "use GET or PUT");
  boost::system::error_code ec;
  json::value body = json::parse(request.body, ec);
  if (ec || !body.is_object()) return ControlError(400, "body must be a JSON object");
  auto profile = ProfileFromJson(body.get_object(), state.GetProfile(model));
  if (!profile) return ControlError(400, profile.error().message);
  state.PutProfile(model, *profile);
  json::object out = ProfileToJson(*profile);
  out["model"] = model;
  return JsonReply(200, out);
}

}  // namespace

Reply HandleControl(const HttpRequest& request, State& state) {
  std::string_view path = request.Path();
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  constexpr std::string_view kPrefix = "/_emulator/";
  std::string_view rest = path.size() > kPrefix.size() ? path.substr(kPrefix.size()) : "";
  if (rest == "health") return JsonReply(200, json::object{{"status", "ok"}});
  if (rest == "faults") return Faults(request, state);
  if (rest == "requests") {
    if (request.method == "DELETE") {
      state.ClearRequests();
      return NoContent();
    }
    if (request.method == "GET") return JsonReply(200, state.RequestsJson());
    return ControlError(405, "use GET or DELETE");
  }
  if (rest == "cache") {
    if (request.method != "DELETE") return ControlError(405, "use DELETE");
    state.ClearCaches();
    return NoContent();
  }
  if (rest == "eval") {
    if (request.method == "DELETE") {
      state.ClearAnswerCounts();
      return NoContent();
    }
    if (request.method == "GET") return JsonReply(200, state.EvalJson());
    return ControlError(405, "use GET or DELETE");
  }
  constexpr std::string_view kProfiles = "profiles/";
  if (rest.substr(0, kProfiles.size()) == kProfiles) {
    return Profiles(request, rest.substr(kProfiles.size()), state);
  }
  return ControlError(404, "unknown control endpoint " + std::string(path));
}

}  // namespace sy::emulator
