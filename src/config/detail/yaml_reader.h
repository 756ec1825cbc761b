// Internal to config/: reads yaml-cpp nodes into typed fields with path-qualified errors.
//
// A MapReader wraps one YAML map. On construction it rejects a node that is not a map, keys that
// are not strings, duplicate keys and keys outside the allowed set. Each field reader then copies
// one value into its destination; a missing or null value leaves the destination untouched (its
// default) unless the field is required. The reader keeps the first error and turns every later
// call into a no-op, so a section parser is a flat list of calls followed by status().
//
// Never throws: only Scalar(), IsX(), size(), iteration and const lookups are used on nodes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "core/error.h"
#include "core/money.h"
#include "core/result.h"

namespace sy::config::detail {

// "server" + "listen" -> "server.listen"; "" + "models" -> "models".
std::string JoinPath(std::string_view parent, std::string_view key);
// "aliases.economy" + 1 -> "aliases.economy[1]".
std::string IndexPath(std::string_view parent, size_t index);
// kInvalidRequest "<path>: <what>" with param = path.
core::Error PathError(std::string_view path, std::string_view what);
// User text for a message: quoted, cut at 60 characters, control bytes shown as '?'.
std::string Quote(std::string_view text);

// A yaml-cpp syntax error as "<source>:<line>:<column>: <what>" (kInvalidRequest).
core::Error SyntaxError(std::string_view source, const YAML::Exception& e);

// The YAML document in `yaml` (a null node when there is none), from an operator's file named
// `source`. Refuses a second document after "---": YAML::Load would read the first and drop
// the rest without a word. Refuses anchors and aliases (&name, *name): yaml-cpp shares an
// aliased node, so twelve lines of nested aliases make a tree of 9^12 paths that every walk
// over the document (such as the one that keeps substituted secrets out of error messages)
// would take hours to visit. Without them each node has one parent and every walk is linear in
// the file. Fails with kInvalidRequest "<source>:<line>:<column>: <what>" for those and for
// syntax errors. Never throws.
core::Result<YAML::Node> LoadDocument(std::string_view yaml, std::string_view source);

// Replaces ${NAME} with env(NAME) and "$$" with "$". Errors name `path`.
core::Result<std::string> SubstituteEnv(std::string_view text, std::string_view path,
                                        EnvLookup env);

// A decimal number between 0 and 1 ("0.86"); errors name `path`.
core::Result<double> ParseFraction(std::string_view text, std::string_view path);

enum class Need { kOptional, kRequired };

class MapReader {
 public:
  // `node` may be undefined or null (read as an empty map). `allowed` lists the valid keys.
  MapReader(const YAML::Node& node, std::string path,
            std::initializer_list<std::string_view> allowed, EnvLookup env);

  const std::string& path() const { return path_; }
  bool ok() const { return !error_.has_value(); }
  core::Status status() const;
  // Keeps `error` if it is the first.
  void Fail(core::Error error);

  void String(std::string_view key, std::string& out, Need need = Need::kOptional);
  void StringList(std::string_view key, std::vector<std::string>& out);
  void Bool(std::string_view key, bool& out);
  void Int(std::string_view key, int& out, Need need = Need::kOptional);
  void Int(std::string_view key, int64_t& out, Need need = Need::kOptional);
  void Millis(std::string_view key, std::chrono::milliseconds& out);
  // Optional values: left nullopt when absent or null.
  void Bool(std::string_view key, std::optional<bool>& out);
  void Int(std::string_view key, std::optional<int64_t>& out);
  void Int(std::string_view key, std::optional<int>& out);
  // A decimal number between 0 and 1 ("0.86"): quality figures, not money.
  void Fraction(std::string_view key, std::optional<double>& out);
  // A share of a whole, a decimal from 0 to 1 with at most six decimals ("0.25"), read exactly
  // as parts per million (never through a double: shares multiply money).
  void Share(std::string_view key, int64_t& ppm);
  // A non-negative decimal USD amount ("0.0001"), exact (core::Money::Parse).
  void Usd(std::string_view key, std::optional<core::Money>& out);
  void Price(std::string_view key, core::PricePerMTokens& out, Need need);
  void Price(std::string_view key, std::optional<core::PricePerMTokens>& out);
  // "HH:MM" (00:00 to 23:59) as minutes since midnight.
  void TimeOfDay(std::string_view key, int& minute, Need need);

  // A nested map: `read` fills fields from a MapReader over it (allowed keys as given).
  void Map(std::string_view key, std::initializer_list<std::string_view> allowed,
           const std::function<void(MapReader&)>& read, Need need = Need::kOptional);
  // A list of entries: `read(item, item_path)` runs for each, in order, until one fails.
  void List(std::string_view key,
            const std::function<core::Status(const YAML::Node&, const std::string&)>& read);
  // A map keyed by name (providers, models, aliases): `read(name, value, entry_path)` runs for
  // each entry in document order until one fails. Duplicate names are rejected.
  void Named(std::string_view key,
             const std::function<core::Status(const std::string&, const YAML::Node&,
                                              const std::string&)>& read);

 private:
  // The value under `key`, or nullopt when absent or null (an error when required).
  std::optional<YAML::Node> Get(std::string_view key, Need need);
  // The scalar text under `key` (nullopt when absent, null, or not a scalar; the latter fails).
  std::optional<std::string> ScalarText(std::string_view key, Need need, std::string_view want);
  std::optional<int64_t> ParseInt(std::string_view key, Need need);
  void CheckKeys(std::initializer_list<std::string_view> allowed);

  YAML::Node node_;
  std::string path_;
  EnvLookup env_;
  std::optional<core::Error> error_;
};

}  // namespace sy::config::detail
