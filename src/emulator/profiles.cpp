#include "emulator/profiles.h"

#include <cmath>
#include <exception>
#include <string>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "core/file.h"

namespace sy::emulator {

namespace json = boost::json;

std::chrono::microseconds TokenTime(const Profile& profile, int64_t tokens, int slowdown) {
  if (profile.tokens_per_s <= 0 || tokens <= 0) return std::chrono::microseconds(0);
  double micros = static_cast<double>(tokens) * 1e6 / profile.tokens_per_s * slowdown;
  return std::chrono::microseconds(static_cast<int64_t>(std::llround(micros)));
}

std::chrono::microseconds FirstTokenTime(const Profile& profile, int slowdown) {
  return std::chrono::microseconds(profile.ttft_ms * 1000 * slowdown);
}

ProfileTable::ProfileTable() {
  struct Builtin {
    const char* model;
    int64_t ttft_ms;
    double tokens_per_s;
    bool reasoning;
  };
  static constexpr Builtin kBuiltins[] = {
      {"gpt-5.5", 120, 450, true},
      {"gpt-5.5-pro", 150, 300, true},
      {"claude-opus-4.7", 110, 320, true},
      {"claude-opus-4.8", 100, 350, true},
      {"claude-haiku-4.5", 40, 900, false},
      {"gemini-3.1-pro", 90, 500, false},
      {"grok-4", 100, 380, false},
      {"grok-4.1-fast", 30, 1000, false},
      {"mistral-large-3", 70, 450, false},
      {"mistral-small-4", 25, 950, false},
      {"deepseek-v4-pro", 130, 300, true},
      {"deepseek-v4-flash", 30, 800, false},
      {"llama-4-maverick", 45, 700, false},
      {"kimi-k2.6", 80, 420, false},
      {"instant", 0, 0, false},
  };
  for (const auto& b : kBuiltins) {
    profiles_[b.model] = Profile{b.ttft_ms, b.tokens_per_s, b.reasoning,
                                 BuiltinQuality(b.model).value_or(Quality{})};
  }
}

std::string CanonicalModelName(std::string_view model) {
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  constexpr size_t kDateLength = 9;  // "-20251001"
  if (model.size() > kDateLength && model[model.size() - kDateLength] == '-') {
    std::string_view date = model.substr(model.size() - kDateLength + 1);
    bool all_digits = true;
    for (char c : date) all_digits = all_digits && is_digit(c);
    if (all_digits) model.remove_suffix(kDateLength);
  }
  std::string out(model);
  for (size_t i = 1; i + 1 < out.size(); ++i) {
    if (out[i] == '-' && is_digit(out[i - 1]) && is_digit(out[i + 1])) out[i] = '.';
  }
  return out;
}

Profile ProfileTable::Get(std::string_view model) const {
  auto it = profiles_.find(model);
  if (it == profiles_.end()) it = profiles_.find(CanonicalModelName(model));
  return it == profiles_.end() ? default_ : it->second;
}

void ProfileTable::Put(std::string model, const Profile& profile) {
  profiles_[std::move(model)] = profile;
}

core::Result<Profile> ProfileFromJson(const json::object& fields, Profile base) {
  for (const auto& [key, value] : fields) {
    if (key == "ttft_ms") {
      if (!value.is_number() || value.to_number<double>() < 0) {
        return core::MakeError(core::Errc::kInvalidRequest, "ttft_ms: must be a number >= 0");
      }
      base.ttft_ms = static_cast<int64_t>(std::llround(value.to_number<double>()));
    } else if (key == "tokens_per_s") {
      if (!value.is_number() || value.to_number<double>() < 0) {
        return core::MakeError(core::Errc::kInvalidRequest, "tokens_per_s: must be a number >= 0");
      }
      base.tokens_per_s = value.to_number<double>();
    } else if (key == "reasoning") {
      if (!value.is_bool()) {
        return core::MakeError(core::Errc::kInvalidRequest, "reasoning: must be a boolean");
      }
      base.reasoning = value.get_bool();
    } else if (key == "quality") {
      if (!value.is_object()) {
        return core::MakeError(core::Errc::kInvalidRequest,
                               "quality: must be an object of task type to probability");
      }
      auto quality = QualityFromJson(value, base.quality);
      if (!quality) {
        return core::MakeError(core::Errc::kInvalidRequest, "quality." + quality.error().message);
      }
      base.quality = std::move(*quality);
    } else {
      return core::MakeError(core::Errc::kInvalidRequest,
                             std::string(key) +
                                 ": unknown field (want ttft_ms, tokens_per_s, "
                                 "reasoning, quality)");
    }
  }
  return base;
}

json::object ProfileToJson(const Profile& profile) {
  return json::object{{"ttft_ms", profile.ttft_ms},
                      {"tokens_per_s", profile.tokens_per_s},
                      {"reasoning", profile.reasoning},
                      {"quality", QualityToJson(profile.quality)}};
}

namespace {

// A YAML quality map, read as QualityFromJson reads JSON; errors name `where`.quality.<key>.
core::Result<Quality> QualityFromYaml(const YAML::Node& node, const Quality& base,
                                      const std::string& where) {
  if (!node.IsMap()) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           where + ".quality: must be a mapping of task type to probability");
  }
  json::object fields;
  for (const auto& item : node) {
    auto key = item.first.as<std::string>();
    double p = 0;
    if (!item.second.IsScalar() || !YAML::convert<double>::decode(item.second, p)) {
      return core::MakeError(core::Errc::kInvalidRequest,
                             where + ".quality." + key + ": must be a number in [0, 1]");
    }
    fields[key] = p;
  }
  auto quality = QualityFromJson(fields, base);
  if (!quality) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           where + ".quality." + quality.error().message);
  }
  return quality;
}

core::Result<Profile> ProfileFromYaml(const YAML::Node& node, Profile base,
                                      const std::string& where) {
  if (!node.IsMap()) {
    return core::MakeError(core::Errc::kInvalidRequest, where + ": must be a mapping");
  }
  for (const auto& item : node) {
    auto key = item.first.as<std::string>();
    const YAML::Node& value = item.second;
    if (key == "ttft_ms") {
      base.ttft_ms = value.as<int64_t>();
      if (base.ttft_ms < 0) {
        return core::MakeError(core::Errc::kInvalidRequest, where + ".ttft_ms: must be >= 0");
      }
    } else if (key == "tokens_per_s") {
      base.tokens_per_s = value.as<double>();
      if (base.tokens_per_s < 0) {
        return core::MakeError(core::Errc::kInvalidRequest, where + ".tokens_per_s: must be >= 0");
      }
    } else if (key == "reasoning") {
      base.reasoning = value.as<bool>();
    } else if (key == "quality") {
      auto quality = QualityFromYaml(value, base.quality, where);
      if (!quality) return quality.error();
      base.quality = std::move(*quality);
    } else {
      return core::MakeError(core::Errc::kInvalidRequest, where + "." + key + ": unknown field");
    }
  }
  return base;
}

}  // namespace

core::Status ProfileTable::LoadFile(const std::string& path) {
  // A profile file is a few lines; the limit only keeps --config /dev/zero from filling memory.
  constexpr uint64_t kMaxFileBytes = 16 << 20;
  auto text = core::ReadRegularFile(path, kMaxFileBytes, "emulator config");
  if (!text) return std::move(text).error();
  ProfileTable updated = *this;
  try {
    YAML::Node root = YAML::Load(*text);
    if (root.IsNull()) return {};
    if (!root.IsMap()) {
      return core::MakeError(core::Errc::kInvalidRequest, path + ": top level must be a mapping");
    }
    for (const auto& item : root) {
      auto key = item.first.as<std::string>();
      if (key == "default") {
        auto p = ProfileFromYaml(item.second, updated.default_, path + ": default");
        if (!p) return p.error();
        updated.default_ = *p;
      } else if (key == "profiles") {
        if (!item.second.IsMap()) {
          return core::MakeError(core::Errc::kInvalidRequest,
                                 path + ": profiles: must be a mapping of model to profile");
        }
        for (const auto& entry : item.second) {
          auto model = entry.first.as<std::string>();
          auto p = ProfileFromYaml(entry.second, updated.Get(model), path + ": profiles." + model);
          if (!p) return p.error();
          updated.profiles_[model] = *p;
        }
      } else {
        return core::MakeError(core::Errc::kInvalidRequest,
                               path + ": " + key + ": unknown key (want default, profiles)");
      }
    }
  } catch (const std::exception& e) {
    return core::MakeError(core::Errc::kInvalidRequest, path + ": " + e.what());
  }
  *this = std::move(updated);
  return {};
}

}  // namespace sy::emulator
