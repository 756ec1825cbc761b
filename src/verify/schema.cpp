#include "verify/schema.h"

// GCC 12 reports a false -Wmaybe-uninitialized inside libstdc++'s std::regex compiler (a
// std::function in a moved-from NFA state) at -O2; it is emitted after inlining, so a push/pop
// around the include cannot silence it.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cstdint>
#include <exception>
#include <map>
#include <regex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validation_visitor.hpp>

#include "core/error.h"
#include "core/saturating.h"
#include "core/text.h"
#include "verify/detail/draft7_metaschema.h"

namespace sy::verify {

namespace json = boost::json;
using Adapter = valijson::adapters::BoostJsonAdapter;
using RegexCache = std::unordered_map<std::string, std::regex>;

struct CompiledSchema::Impl {
  valijson::Schema schema;
  RegexCache regexes;  // every pattern of the schema, compiled in polynomial mode
  bool has_patterns = false;
  // The sum of PatternWeight over every pattern occurrence: matching a string of n bytes against
  // all of them takes the BFS matcher about n times this many steps (OnePassSearch).
  int64_t pattern_weight = 0;
};

CompiledSchema::CompiledSchema(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompiledSchema::~CompiledSchema() = default;

namespace {

constexpr int kMaxSchemaDepth = 64;
// Valijson's parser recurses once per $ref hop: a chain of about 20,000 overflowed a worker's
// stack. Real schemas use tens.
constexpr int kMaxRefs = 256;
// libstdc++'s regex compiler recurses once per term (a pattern of about 100 KB overflowed a
// worker's stack) and copies a repeated atom up to its count.
constexpr size_t kMaxPatternBytes = 1000;
constexpr int64_t kMaxPatternRepeat = 1000;
// Valijson and our walk hold a copy of a node's path per level it descends (its context, our
// path strings), and the walk keeps the paths of some nodes: a 7 MB schema of long keys nested 28
// deep took 580 MB. A schema's paths are bounded first (SurveyOf), an answer's longest path
// too. Real schemas' paths are tens of bytes.
constexpr size_t kMaxPathBytes = 4096;
constexpr size_t kMaxSchemaPathBytes = 4 << 20;  // every node's path, summed
// Valijson keeps every error it finds, each with its path: an invalid answer's errors are listed
// (for the message) only when it has at most this many values; the first pass keeps none.
constexpr size_t kMaxDetailedValues = 10'000;

// "<root>", "[properties]", "[age]" (Valijson's context) -> "/properties/age".
std::string PointerFromContext(const std::vector<std::string>& context) {
  std::string out;
  for (const auto& part : context) {
    if (part == "<root>") continue;
    std::string_view p = part;
    if (p.size() >= 2 && p.front() == '[' && p.back() == ']') p = p.substr(1, p.size() - 2);
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

std::string Escape(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// The values in `v` (itself included), counting no further than `most` + 1.
size_t CountValues(const json::value& v, size_t most, size_t counted = 0) {
  ++counted;
  if (const auto* a = v.if_array()) {
    for (const auto& item : *a) {
      if (counted > most) break;
      counted = CountValues(item, most, counted);
    }
  } else if (const auto* o = v.if_object()) {
    for (const auto& field : *o) {
      if (counted > most) break;
      counted = CountValues(field.value(), most, counted);
    }
  }
  return counted;
}

// One step of a path: an object's key, or an array's index.
struct Step {
  std::string_view key;
  size_t index = 0;
};

// "/a/0/b~1c": the JSON pointer of `chain`, "/" for the root.
std::string PathText(const std::vector<Step>& chain) {
  std::string path;
  for (const Step& step : chain) {
    path += '/';
    path += step.key.data() ? Escape(step.key) : std::to_string(step.index);
  }
  return path.empty() ? "/" : path;
}

// What one walk of a document finds, its paths kept as a chain of views and built only for what
// it reports: the sum of every value's path bytes; the first path longer than max_path_bytes
// (clipped for a message); with max_string_bytes, the path of the first string (a value or a
// key) longer than that.
struct Survey {
  size_t max_path_bytes = 0;
  size_t max_string_bytes = 0;  // 0: strings are not looked at
  size_t path_sum = 0;
  std::optional<std::string> long_path_at;
  std::optional<std::string> long_string_at;
};

void SurveyValue(const json::value& v, size_t path_bytes, Survey& survey,
                 std::vector<Step>& chain) {
  survey.path_sum += path_bytes;
  if (path_bytes > survey.max_path_bytes) {
    if (!survey.long_path_at) survey.long_path_at = core::ClipForEcho(PathText(chain), 120);
    return;  // what is below is longer still
  }
  const size_t max_string = survey.max_string_bytes;
  const auto long_string = [&](size_t bytes) {
    if (max_string != 0 && bytes > max_string && !survey.long_string_at) {
      survey.long_string_at = PathText(chain);
    }
  };
  if (const auto* s = v.if_string()) {
    long_string(s->size());
  } else if (const auto* a = v.if_array()) {
    for (size_t i = 0; i < a->size(); ++i) {
      chain.push_back({{}, i});
      SurveyValue((*a)[i], path_bytes + 1 + std::to_string(i).size(), survey, chain);
      chain.pop_back();
    }
  } else if (const auto* o = v.if_object()) {
    for (const auto& field : *o) {
      chain.push_back({field.key(), 0});
      long_string(field.key().size());
      SurveyValue(field.value(), path_bytes + 1 + field.key().size(), survey, chain);
      chain.pop_back();
    }
  }
}

Survey SurveyOf(const json::value& v, size_t max_path_bytes, size_t max_string_bytes = 0) {
  Survey survey;
  survey.max_path_bytes = max_path_bytes;
  survey.max_string_bytes = max_string_bytes;
  std::vector<Step> chain;
  SurveyValue(v, 0, survey, chain);
  return survey;
}

// Runs Valijson with our regex cache; returns the first error, or nullopt when valid.
std::optional<std::string> RunValijson(const valijson::Schema& schema, RegexCache& regexes,
                                       const json::value& instance) {
  const Adapter target(instance);
  valijson::ValidationResults results;
  try {
    // Without results Valijson stops at the first error and keeps none.
    valijson::ValidationVisitor<Adapter> first_error(target, std::vector<std::string>{"<root>"},
                                                     true, nullptr, regexes);
    if (first_error.validateSchema(schema)) return std::nullopt;
    if (CountValues(instance, kMaxDetailedValues) > kMaxDetailedValues) {
      return "/: does not match the schema (the place is not looked for in a document of more "
             "than " +
             std::to_string(kMaxDetailedValues) + " values)";
    }
    valijson::ValidationVisitor<Adapter> visitor(target, std::vector<std::string>{"<root>"}, true,
                                                 &results, regexes);
    if (visitor.validateSchema(schema)) return std::nullopt;
  } catch (const std::exception& e) {
    return "/: " + core::ClipForEcho(e.what(), kMaxSchemaMessageBytes);
  }
  valijson::ValidationResults::Error first;
  if (!results.popError(first)) return std::string("/: invalid");
  std::string out = PointerFromContext(first.context) + ": " + first.description;
  if (results.numErrors() > 0) out += " (and " + std::to_string(results.numErrors()) + " more)";
  return core::ClipForEcho(out, kMaxSchemaMessageBytes);
}

const valijson::Schema& MetaSchema() {
  static const auto* const meta = [] {
    auto* schema = new valijson::Schema;  // NOLINT: lives for the process, never destroyed
    const json::value doc = json::parse(detail::kDraft7MetaSchema);
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    parser.populateSchema(Adapter(doc), *schema);
    return schema;
  }();
  return *meta;
}

// What the walk over a client schema finds; `error` set means the schema is refused.
struct Walk {
  const json::value* root = nullptr;
  RegexCache regexes;
  int64_t pattern_weight = 0;  // CompiledSchema::Impl::pattern_weight
  int refs = 0;
  // Schema positions reached without descending into the instance: $ref, allOf, anyOf, oneOf,
  // not, if/then/else, dependencies. A cycle among them recurses forever in Valijson.
  std::map<std::string, std::vector<std::string>> same_instance;
  std::string error_path;
  std::string error;

  bool Fail(std::string path, std::string why) {
    if (error.empty()) {
      error_path = path.empty() ? "/" : std::move(path);
      error = std::move(why);
    }
    return false;
  }
};

bool WalkSchema(json::value& node, const std::string& path, int depth, Walk& walk);

// The states the compiled pattern may have, over-estimated: its bytes plus each counted
// repetition's counts ("{m}", "{m,}", "{m,n}": the compiler copies the atom that many times).
// -1 when a count exceeds kMaxPatternRepeat.
int64_t PatternWeight(std::string_view pattern) {
  int64_t weight = static_cast<int64_t>(pattern.size());
  int64_t count = 0;
  bool in_braces = false;
  for (const char c : pattern) {
    if (c == '{') {
      in_braces = true;
      count = 0;
    } else if (in_braces && c >= '0' && c <= '9') {
      count = count * 10 + (c - '0');
      if (count > kMaxPatternRepeat) return -1;
    } else if (in_braces) {
      weight += count;  // ',' ends the lower bound and '}' the count; anything else, no count
      count = 0;
      in_braces = c == ',';
    }
  }
  return weight;
}

// What Valijson's regex_search runs for `pattern` (the cache is keyed by the pattern itself): a
// search restarts the BFS matcher at every byte that does not start a match, a pass over the
// rest of the string each, so its cost grew with the string's length squared (a 601-byte pattern
// against 2,000 bytes: 24 s). Anchored at the first byte and led by a lazy run of anything, the
// regex finds a match wherever the pattern would, in one pass; the restarts fail at once at the
// '^' (not multiline: it holds only at the subject's start, the pattern's own '^' and '$' too).
// nosubs: no group is ever read, and the matcher copies every group with every live state.
std::string OnePassSearch(std::string_view pattern) {
  return "^[\\s\\S]*?(?:" + std::string(pattern) + ")";
}

// Each occurrence counts towards the work, the same pattern again too (allOf can repeat it).
bool AddPattern(const std::string& pattern, const std::string& path, Walk& walk) {
  if (pattern.size() > kMaxPatternBytes) {
    return walk.Fail(path, "pattern longer than " + std::to_string(kMaxPatternBytes) + " bytes");
  }
  const int64_t weight = PatternWeight(pattern);
  if (weight < 0) {
    return walk.Fail(path,
                     "pattern repeats more than " + std::to_string(kMaxPatternRepeat) + " times");
  }
  walk.pattern_weight = core::SaturatingAdd(walk.pattern_weight, weight);
  if (walk.regexes.count(pattern)) return true;
  constexpr auto kMode = std::regex::ECMAScript | std::regex_constants::__polynomial;
  try {
    (void)std::regex(pattern, kMode);  // its own syntax: the wrapping below could mend ")("
    walk.regexes.emplace(pattern, std::regex(OnePassSearch(pattern), kMode | std::regex::nosubs));
  } catch (const std::regex_error& e) {
    return walk.Fail(path, std::string("pattern does not compile: ") + e.what());
  }
  return true;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A local reference "#/definitions/a" -> "/definitions/a" (percent-decoded); nullopt otherwise.
std::optional<std::string> LocalPointer(std::string_view ref) {
  if (ref.empty() || ref.front() != '#') return std::nullopt;
  ref.remove_prefix(1);
  if (!ref.empty() && ref.front() != '/') return std::nullopt;  // "#anchor": not supported
  std::string out;
  for (size_t i = 0; i < ref.size(); ++i) {
    const int high = i + 2 < ref.size() && ref[i] == '%' ? HexDigit(ref[i + 1]) : -1;
    const int low = high >= 0 ? HexDigit(ref[i + 2]) : -1;
    if (low >= 0) {
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += ref[i];
    }
  }
  return out;
}

bool WalkRef(const json::value& ref, const std::string& path, Walk& walk) {
  const auto* text = ref.if_string();
  if (!text) return true;  // the meta-schema already refused a non-string $ref
  if (++walk.refs > kMaxRefs) {
    return walk.Fail(path + "/$ref", "more than " + std::to_string(kMaxRefs) + " $ref");
  }
  const auto pointer = LocalPointer(*text);
  if (!pointer) {
    return walk.Fail(path + "/$ref", "only local references (\"#/...\") are supported, not \"" +
                                         core::ClipForEcho(*text, 80) + "\"");
  }
  boost::system::error_code ec;
  if (!pointer->empty() && walk.root->find_pointer(*pointer, ec) == nullptr) {
    return walk.Fail(path + "/$ref", "reference \"" + core::ClipForEcho(*text, 80) +
                                         "\" does not resolve in this schema");
  }
  walk.same_instance[path].push_back(*pointer);
  return true;
}

bool WalkMap(json::value& node, const std::string& path, int depth, Walk& walk) {
  auto* map = node.if_object();
  if (!map) return true;
  for (auto& [key, sub] : *map) {
    if (!WalkSchema(sub, path + "/" + Escape(key), depth + 1, walk)) return false;
  }
  return true;
}

bool WalkArray(json::value& node, const std::string& path, int depth, Walk& walk,
               bool same_instance) {
  auto* items = node.if_array();
  if (!items) return WalkSchema(node, path, depth + 1, walk);
  for (size_t i = 0; i < items->size(); ++i) {
    const std::string sub = path + "/" + std::to_string(i);
    if (same_instance) walk.same_instance[path.substr(0, path.rfind('/'))].push_back(sub);
    if (!WalkSchema((*items)[i], sub, depth + 1, walk)) return false;
  }
  return true;
}

bool WalkSchema(json::value& node, const std::string& path, int depth, Walk& walk) {
  if (depth > kMaxSchemaDepth) return walk.Fail(path, "schema nested too deeply");
  auto* object = node.if_object();
  if (!object) return true;  // boolean schema
  object->erase("format");   // not asserted: see the header
  for (auto& [key, sub] : *object) {
    const std::string sub_path = path + "/" + Escape(key);
    bool ok = true;
    if (key == "$ref") {
      ok = WalkRef(sub, path, walk);
    } else if (key == "pattern") {
      if (const auto* p = sub.if_string()) ok = AddPattern(std::string(*p), sub_path, walk);
    } else if (key == "patternProperties") {
      // Valijson 1.0 compiles these itself, in std::regex's backtracking mode, for every object
      // it checks: exponential time on a hostile key, and recursion per byte of it.
      ok = walk.Fail(sub_path,
                     "patternProperties is not supported (its regexes would run unbounded); "
                     "use properties and additionalProperties");
    } else if (key == "properties" || key == "definitions") {
      ok = WalkMap(sub, sub_path, depth, walk);
    } else if (key == "dependencies") {
      if (auto* map = sub.if_object()) {
        for (auto& [name, dep] : *map) {
          const std::string dep_path = sub_path + "/" + Escape(name);
          if (dep.is_object() || dep.is_bool()) walk.same_instance[path].push_back(dep_path);
          ok = ok && WalkSchema(dep, dep_path, depth + 1, walk);
        }
      }
    } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
      ok = WalkArray(sub, sub_path, depth, walk, true);
    } else if (key == "not" || key == "if" || key == "then" || key == "else") {
      walk.same_instance[path].push_back(sub_path);
      ok = WalkSchema(sub, sub_path, depth + 1, walk);
    } else if (key == "items") {
      ok = WalkArray(sub, sub_path, depth, walk, false);
    } else if (key == "additionalItems" || key == "additionalProperties" || key == "contains" ||
               key == "propertyNames") {
      ok = WalkSchema(sub, sub_path, depth + 1, walk);
    }
    if (!ok) return false;
  }
  return true;
}

// Depth-first search for a cycle among same-instance edges; returns a node on it.
std::optional<std::string> FindCycle(const Walk& walk) {
  enum class Mark { kNone, kActive, kDone };
  std::map<std::string, Mark> marks;
  std::optional<std::string> found;
  auto visit = [&](auto&& self, const std::string& node) -> void {
    auto& mark = marks[node];
    if (mark == Mark::kDone || found) return;
    if (mark == Mark::kActive) {
      found = node;
      return;
    }
    mark = Mark::kActive;
    if (const auto it = walk.same_instance.find(node); it != walk.same_instance.end()) {
      for (const auto& next : it->second) self(self, next);
    }
    marks[node] = Mark::kDone;
  };
  for (const auto& entry : walk.same_instance) visit(visit, entry.first);
  return found;
}

core::Error SchemaError(std::string_view param, std::string_view path, std::string_view why) {
  return core::InvalidParam(std::string(param), std::string(param) + ": invalid JSON Schema at " +
                                                    core::ClipForEcho(path, 160) + ": " +
                                                    core::ClipForEcho(why, kMaxSchemaMessageBytes));
}

// Adds to `steps` what matching every string of `v` (values and keys: propertyNames matches
// keys) against every pattern occurrence may cost; false once it exceeds `max_steps`. Every
// pattern against every string over-estimates, as a string is matched only by the patterns at
// its place in the schema; it is what can be known without evaluating the schema.
bool WithinPatternSteps(const json::value& v, int64_t pattern_weight, int64_t max_steps,
                        int64_t& steps) {
  auto add = [&](size_t bytes) {
    steps = core::SaturatingAdd(
        steps, core::SaturatingMul(pattern_weight, static_cast<int64_t>(bytes) + 1));
    return steps <= max_steps;
  };
  if (const auto* s = v.if_string()) return add(s->size());
  if (const auto* a = v.if_array()) {
    for (const auto& item : *a) {
      if (!WithinPatternSteps(item, pattern_weight, max_steps, steps)) return false;
    }
  } else if (const auto* o = v.if_object()) {
    for (const auto& [key, sub] : *o) {
      if (!add(key.size()) || !WithinPatternSteps(sub, pattern_weight, max_steps, steps)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

core::Result<std::shared_ptr<const CompiledSchema>> CompileSchema(const json::value& schema,
                                                                  std::string_view param) {
  try {
    const Survey survey = SurveyOf(schema, kMaxPathBytes);
    if (survey.long_path_at) {
      return SchemaError(param, *survey.long_path_at,
                         "a path longer than " + std::to_string(kMaxPathBytes) + " bytes");
    }
    if (survey.path_sum > kMaxSchemaPathBytes) {
      return SchemaError(param, "/",
                         "too large to check: its paths add up to more than " +
                             std::to_string(kMaxSchemaPathBytes) + " bytes");
    }
    RegexCache no_patterns;
    if (auto why = RunValijson(MetaSchema(), no_patterns, schema)) {
      const auto colon = why->find(": ");
      return SchemaError(param, why->substr(0, colon), why->substr(colon + 2));
    }
    json::value stripped = schema;
    Walk walk;
    walk.root = &stripped;
    if (!WalkSchema(stripped, "", 0, walk)) return SchemaError(param, walk.error_path, walk.error);
    if (auto node = FindCycle(walk)) {
      return SchemaError(param, node->empty() ? "/" : *node,
                         "references loop back here without descending into the value");
    }
    auto impl = std::make_unique<CompiledSchema::Impl>();
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    parser.populateSchema(Adapter(stripped), impl->schema);
    impl->has_patterns = !walk.regexes.empty();
    impl->regexes = std::move(walk.regexes);
    impl->pattern_weight = walk.pattern_weight;
    return std::shared_ptr<const CompiledSchema>(std::make_shared<CompiledSchema>(std::move(impl)));
  } catch (const std::exception& e) {
    return SchemaError(param, "/", e.what());
  }
}

std::optional<std::string> Validate(const CompiledSchema& schema, const json::value& instance,
                                    int64_t max_pattern_steps) {
  const auto& impl = schema.impl();
  // One walk for both bounds; strings are bounded only where patterns match them.
  const Survey survey =
      SurveyOf(instance, kMaxPathBytes, impl.has_patterns ? kMaxPatternSubjectBytes : 0);
  if (survey.long_path_at) {
    return *survey.long_path_at + ": a path longer than " + std::to_string(kMaxPathBytes) +
           " bytes";
  }
  if (impl.has_patterns) {
    if (survey.long_string_at) {
      return *survey.long_string_at + ": string longer than " +
             std::to_string(kMaxPatternSubjectBytes) +
             " bytes, the limit when the schema has patterns";
    }
    int64_t steps = 0;
    if (!WithinPatternSteps(instance, impl.pattern_weight, max_pattern_steps, steps)) {
      return "/: the strings are too long to match against this schema's patterns in bounded "
             "time (" +
             std::to_string(max_pattern_steps) + " steps)";
    }
  }
  RegexCache regexes = impl.regexes;  // Valijson's visitor takes the cache by mutable reference
  return RunValijson(impl.schema, regexes, instance);
}

}  // namespace sy::verify
