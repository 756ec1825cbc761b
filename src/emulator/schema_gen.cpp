#include "emulator/schema_gen.h"

#include <cmath>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "emulator/text_gen.h"

namespace sy::emulator {

namespace json = boost::json;

namespace {

constexpr int kMaxDepth = 16;

std::optional<double> NumberField(const json::object& schema, std::string_view key) {
  const json::value* v = schema.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double()) return v->get_double();
  return std::nullopt;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

class Generator {
 public:
  Generator(const json::value& root, uint64_t seed) : root_(root), rng_(seed) {}

  json::value Generate(const json::value& schema, std::string_view name, int64_t index, int depth) {
    if (depth > kMaxDepth || !schema.is_object()) return json::value(SampleString(name, index));
    const json::object& obj = schema.get_object();
    if (const json::value* ref = obj.if_contains("$ref"); ref != nullptr && ref->is_string()) {
      return Generate(Resolve(ref->get_string()), name, index, depth + 1);
    }
    if (const json::value* c = obj.if_contains("const")) return *c;
    if (const json::value* e = obj.if_contains("enum"); e != nullptr && e->is_array()) {
      const json::array& values = e->get_array();
      if (!values.empty()) {
        return values[(rng_.Below(values.size()) + static_cast<uint64_t>(index)) % values.size()];
      }
    }
    for (std::string_view key : {"anyOf", "oneOf"}) {
      if (const json::value* alts = obj.if_contains(key); alts != nullptr && alts->is_array()) {
        const json::array& list = alts->get_array();
        for (const auto& alt : list) {
          if (!IsNullOnly(alt)) return Generate(alt, name, index, depth + 1);
        }
        if (!list.empty()) return Generate(list.front(), name, index, depth + 1);
      }
    }
    if (const json::value* all = obj.if_contains("allOf"); all != nullptr && all->is_array()) {
      return Generate(MergeAllOf(obj, all->get_array()), name, index, depth + 1);
    }
    std::string type = TypeOf(obj);
    if (type == "object") return GenerateObject(obj, depth);
    if (type == "array") return GenerateArray(obj, name, depth);
    if (type == "integer") return GenerateInteger(obj);
    if (type == "number") return GenerateNumber(obj);
    if (type == "boolean") return json::value(rng_.Below(4) != 0);
    if (type == "null") return json::value(nullptr);
    return json::value(GenerateString(obj, name, index));
  }

 private:
  const json::value& Resolve(json::string_view ref) {
    static const json::value kEmpty = json::object{};
    if (ref.empty() || ref.front() != '#') return kEmpty;
    ref.remove_prefix(1);
    boost::system::error_code ec;
    const json::value* target = root_.find_pointer(ref, ec);
    return target != nullptr ? *target : kEmpty;
  }

  static bool IsNullOnly(const json::value& schema) {
    const json::object* obj = schema.if_object();
    if (obj == nullptr) return false;
    const json::value* type = obj->if_contains("type");
    return type != nullptr && type->is_string() && type->get_string() == "null";
  }

  static json::value MergeAllOf(const json::object& outer, const json::array& parts) {
    json::object merged = outer;
    merged.erase("allOf");
    json::object properties;
    json::array required;
    if (const json::value* p = outer.if_contains("properties"); p != nullptr && p->is_object()) {
      properties = p->get_object();
    }
    for (const auto& part : parts) {
      const json::object* obj = part.if_object();
      if (obj == nullptr) continue;
      for (const auto& [key, value] : *obj) {
        if (key == "properties" && value.is_object()) {
          for (const auto& [prop, prop_schema] : value.get_object()) properties[prop] = prop_schema;
        } else if (key == "required" && value.is_array()) {
          for (const auto& r : value.get_array()) required.push_back(r);
        } else if (!merged.contains(key)) {
          merged[key] = value;
        }
      }
    }
    if (!properties.empty()) merged["properties"] = std::move(properties);
    if (!required.empty()) merged["required"] = std::move(required);
    return merged;
  }

  static std::string TypeOf(const json::object& obj) {
    const json::value* type = obj.if_contains("type");
    if (type != nullptr && type->is_string()) return std::string(type->get_string());
    if (type != nullptr && type->is_array()) {
      std::string first;
      for (const auto& t : type->get_array()) {
        if (!t.is_string()) continue;
        if (first.empty()) first = std::string(t.get_string());
        if (t.get_string() != "null") return std::string(t.get_string());
      }
      if (!first.empty()) return first;
    }
    if (obj.contains("properties")) return "object";
    if (obj.contains("items")) return "array";
    return "string";
  }

  json::value GenerateObject(const json::object& obj, int depth) {
    json::object out;
    if (const json::value* p = obj.if_contains("properties"); p != nullptr && p->is_object()) {
      for (const auto& [key, prop_schema] : p->get_object()) {
        out[key] = Generate(prop_schema, key, 0, depth + 1);
      }
    }
    // A required name without a property schema still has to be present.
    if (const json::value* r = obj.if_contains("required"); r != nullptr && r->is_array()) {
      for (const auto& name : r->get_array()) {
        if (name.is_string() && !out.contains(name.get_string())) {
          out[name.get_string()] = SampleString(name.get_string(), 0);
        }
      }
    }
    return out;
  }

  json::value GenerateArray(const json::object& obj, std::string_view name, int depth) {
    int64_t min_items = static_cast<int64_t>(NumberField(obj, "minItems").value_or(0));
    std::optional<double> max_items = NumberField(obj, "maxItems");
    int64_t count = std::max<int64_t>(min_items, 2);
    if (max_items) count = std::min(count, static_cast<int64_t>(*max_items));
    static const json::value kAny = json::object{};
    const json::value* items = obj.if_contains("items");
    const json::value& item_schema = (items != nullptr && items->is_object()) ? *items : kAny;
    if (const json::object* item_obj = item_schema.if_object()) {
      const json::value* e = item_obj->if_contains("enum");
      if (e != nullptr && e->is_array() && !e->get_array().empty()) {
        // Distinct enum members, so uniqueItems holds.
        const json::array& values = e->get_array();
        count = std::min(count, static_cast<int64_t>(values.size()));
        uint64_t base = rng_.Below(values.size());
        json::array out;
        for (int64_t i = 0; i < count; ++i) {
          out.push_back(values[(base + static_cast<uint64_t>(i)) % values.size()]);
        }
        return out;
      }
    }
    json::array out;
    for (int64_t i = 0; i < count; ++i) out.push_back(Generate(item_schema, name, i, depth + 1));
    return out;
  }

  json::value GenerateInteger(const json::object& obj) {
    std::optional<double> lo = NumberField(obj, "minimum");
    std::optional<double> hi = NumberField(obj, "maximum");
    if (auto x = NumberField(obj, "exclusiveMinimum")) lo = std::floor(*x) + 1;
    if (auto x = NumberField(obj, "exclusiveMaximum")) hi = std::ceil(*x) - 1;
    auto low = static_cast<int64_t>(std::ceil(lo.value_or(1)));
    int64_t value = low + static_cast<int64_t>(rng_.Below(20));
    if (hi) {
      auto high = static_cast<int64_t>(std::floor(*hi));
      if (!lo) low = std::min<int64_t>(1, high);
      value = high >= low ? low + static_cast<int64_t>(rng_.Below(static_cast<uint64_t>(
                                      std::min<int64_t>(high - low, 1000) + 1)))
                          : low;
    }
    if (auto m = NumberField(obj, "multipleOf"); m && *m >= 1) {
      auto step = static_cast<int64_t>(*m);
      int64_t rounded = ((value + step - 1) / step) * step;
      if (!hi || static_cast<double>(rounded) <= *hi) value = rounded;
    }
    return value;
  }

  json::value GenerateNumber(const json::object& obj) {
    std::optional<double> lo = NumberField(obj, "minimum");
    std::optional<double> hi = NumberField(obj, "maximum");
    if (auto x = NumberField(obj, "exclusiveMinimum")) lo = x;
    if (auto x = NumberField(obj, "exclusiveMaximum")) hi = x;
    double u = rng_.Uniform();
    double value = 1 + u * 99;
    if (lo && hi) {
      value = *lo + (*hi - *lo) * (0.25 + 0.5 * u);
    } else if (lo) {
      value = *lo + 1 + u * 10;
    } else if (hi) {
      value = *hi - 1 - u * 10;
    }
    double rounded = std::round(value * 100) / 100;
    if ((!lo || rounded > *lo) && (!hi || rounded < *hi)) value = rounded;
    return value;
  }

  std::string GenerateString(const json::object& obj, std::string_view name, int64_t index) {
    std::string value;
    const json::value* format = obj.if_contains("format");
    std::string_view fmt = (format != nullptr && format->is_string())
                               ? std::string_view(format->get_string())
                               : std::string_view();
    if (fmt == "date-time") {
      value = "2025-01-15T09:30:00Z";
    } else if (fmt == "date") {
      value = "2025-01-15";
    } else if (fmt == "time") {
      value = "09:30:00";
    } else if (fmt == "email") {
      value = "alex.morgan@example.com";
    } else if (fmt == "uri" || fmt == "url") {
      value = "https://example.com/resource";
    } else if (fmt == "uuid") {
      std::string h = HexId(rng_.Next(), 32);
      value = h.substr(0, 8) + "-" + h.substr(8, 4) + "-4" + h.substr(13, 3) + "-a" +
              h.substr(17, 3) + "-" + h.substr(20, 12);
    } else if (fmt == "ipv4") {
      value = "192.0.2." + std::to_string(1 + rng_.Below(250));
    } else if (fmt == "hostname") {
      value = "host.example.com";
    } else {
      value = SampleString(name, index);
    }
    auto min_length = static_cast<size_t>(NumberField(obj, "minLength").value_or(0));
    std::optional<double> max_length = NumberField(obj, "maxLength");
    while (value.size() < min_length) value += 'x';
    if (max_length && value.size() > static_cast<size_t>(*max_length)) {
      value.resize(static_cast<size_t>(*max_length));
    }
    return value;
  }

  std::string SampleString(std::string_view name, int64_t index) {
    std::string key = Lower(name);
    auto has = [&key](std::string_view word) { return key.find(word) != std::string::npos; };
    std::string value;
    if (has("email")) {
      value = "alex.morgan@example.com";
    } else if (has("url") || has("uri") || has("link")) {
      value = "https://example.com/resource";
    } else if (has("city")) {
      value = "Paris";
    } else if (has("location") || has("address")) {
      value = "San Francisco, CA";
    } else if (has("country")) {
      value = "France";
    } else if (has("unit")) {
      value = "celsius";
    } else if (has("currency")) {
      value = "USD";
    } else if (has("lang")) {
      value = "en";
    } else if (has("date")) {
      value = "2025-01-15";
    } else if (has("time")) {
      value = "2025-01-15T09:30:00Z";
    } else if (has("name")) {
      value = "Alex Morgan";
    } else if (has("title")) {
      value = "Quarterly report";
    } else if (key == "id" || has("_id")) {
      value = "id_" + HexId(rng_.Next(), 8);
    } else if (has("query") || has("search") || has("question")) {
      value = "latest emulator results";
    } else if (key.empty()) {
      value = "sample value";
    } else {
      value = JoinPieces(GenerateWordPieces(rng_.Next(), 4 + static_cast<int64_t>(rng_.Below(5))));
    }
    if (index > 0) value += " " + std::to_string(index + 1);
    return value;
  }

  const json::value& root_;
  Rng rng_;
};

}  // namespace

json::value GenerateFromSchema(const json::value& schema, uint64_t seed) {
  Generator generator(schema, seed);
  return generator.Generate(schema, "", 0, 0);
}

}  // namespace sy::emulator
