#include "emulator/bad_output.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "emulator/schema_gen.h"
#include "emulator/text_gen.h"

namespace sy::emulator {

namespace json = boost::json;

namespace {

// The schema at a "#/..." reference inside `root`, or nullptr.
const json::value* Resolve(const json::value& root, const json::value& schema) {
  const json::object* obj = schema.if_object();
  if (obj == nullptr) return nullptr;
  const json::value* ref = obj->if_contains("$ref");
  if (ref == nullptr || !ref->is_string()) return &schema;
  json::string_view pointer = ref->get_string();
  if (pointer.empty() || pointer.front() != '#') return nullptr;
  pointer.remove_prefix(1);
  boost::system::error_code ec;
  return root.find_pointer(pointer, ec);
}

bool Allows(const json::array& types, std::string_view type) {
  return std::any_of(types.begin(), types.end(),
                     [&](const json::value& t) { return t.is_string() && t.get_string() == type; });
}

// A value of a JSON type the schema's `type` does not allow; nullopt for an untyped schema or
// one that allows every type.
std::optional<json::value> WrongTypeValue(const json::value& schema) {
  const json::object* obj = schema.if_object();
  const json::value* type = obj != nullptr ? obj->if_contains("type") : nullptr;
  if (type == nullptr) return std::nullopt;
  json::array types = type->is_array() ? type->get_array() : json::array{*type};
  if (!Allows(types, "string")) return json::value("unexpected");
  if (!Allows(types, "integer") && !Allows(types, "number")) return json::value(42);
  if (!Allows(types, "boolean")) return json::value(true);
  if (!Allows(types, "object")) return json::value(json::object{{"unexpected", true}});
  if (!Allows(types, "array")) return json::value(json::array{"unexpected"});
  if (!Allows(types, "null")) return json::value(nullptr);
  return std::nullopt;
}

// Drops the first required property present in `value`, else gives the first property a wrong
// type; false when neither applies.
bool BreakObject(const json::value& root, const json::object& schema, json::object& value) {
  if (const json::value* required = schema.if_contains("required");
      required && required->is_array()) {
    for (const auto& name : required->get_array()) {
      if (name.is_string() && value.erase(name.get_string()) == 1) return true;
    }
  }
  const json::value* properties = schema.if_contains("properties");
  if (properties == nullptr || !properties->is_object() || properties->get_object().empty()) {
    return false;
  }
  const auto& [name, property] = *properties->get_object().begin();
  const json::value* resolved = Resolve(root, property);
  std::optional<json::value> wrong = resolved != nullptr ? WrongTypeValue(*resolved) : std::nullopt;
  if (!wrong) return false;
  value[name] = std::move(*wrong);
  return true;
}

// The schema-conforming JSON for `schema`, cut in half at a token boundary; kCutJsonText when
// that value is too short for a prefix that cannot parse (only a proper prefix of an object or
// array is sure not to).
std::string CutJson(const json::value& schema, uint64_t seed) {
  json::value valid = GenerateFromSchema(schema, seed);
  std::vector<std::string> pieces = SplitIntoPieces(json::serialize(valid));
  if ((!valid.is_object() && !valid.is_array()) || pieces.size() < 2) {
    return std::string(kCutJsonText);
  }
  pieces.resize(pieces.size() / 2);
  return JoinPieces(pieces);
}

std::string BrokenJson(const json::value& schema, uint64_t seed) {
  return json::serialize(BreakSchema(schema, GenerateFromSchema(schema, seed)));
}

// The text pieces of an answer without tool calls.
std::vector<std::string> TextPieces(BadOutput output, const GenerationRequest& request,
                                    uint64_t seed) {
  bool schema = request.format == OutputFormat::kJsonSchema;
  switch (output) {
    case BadOutput::kInvalidJson:
      return SplitIntoPieces(schema ? CutJson(request.schema, seed) : std::string(kCutJsonText));
    case BadOutput::kSchemaViolation:
      return SplitIntoPieces(schema ? BrokenJson(request.schema, seed)
                                    : std::string(kUnexpectedJsonText));
    case BadOutput::kEmpty:
      return {};
    case BadOutput::kRefusal:
      return SplitWords(kRefusalText);
    case BadOutput::kUngrounded:
      return SplitWords(kUngroundedText);
  }
  return {};
}

const json::value& ToolSchema(const GenerationRequest& request, const std::string& name) {
  static const json::value kAnyObject = json::object{{"type", "object"}};
  for (const auto& tool : request.tools) {
    if (tool.name == name) return tool.parameters;
  }
  return kAnyObject;
}

// Bad arguments for every tool call, cut by the token budget left after the text.
void BreakToolCalls(BadOutput output, const GenerationRequest& request, int64_t budget,
                    GeneratedChoice& choice) {
  budget -= static_cast<int64_t>(choice.text_pieces.size());
  for (auto& call : choice.tool_calls) {
    const json::value& schema = ToolSchema(request, call.name);
    call.arguments = output == BadOutput::kInvalidJson ? CutJson(schema, call.id_seed)
                                                       : BrokenJson(schema, call.id_seed);
    call.argument_pieces = SplitIntoPieces(call.arguments);
    if (static_cast<int64_t>(call.argument_pieces.size()) > budget) {
      call.argument_pieces.resize(static_cast<size_t>(std::max<int64_t>(budget, 0)));
      call.arguments = JoinPieces(call.argument_pieces);
      choice.finish = Finish::kLength;
    }
    budget -= static_cast<int64_t>(call.argument_pieces.size());
  }
}

void CountOutputTokens(GeneratedChoice& choice) {
  choice.output_tokens = choice.reasoning_tokens + static_cast<int64_t>(choice.text_pieces.size());
  for (const auto& call : choice.tool_calls) {
    choice.output_tokens += static_cast<int64_t>(call.argument_pieces.size());
  }
}

}  // namespace

json::value BreakSchema(const json::value& schema, json::value valid) {
  const json::value* root = Resolve(schema, schema);
  if (root != nullptr && root->is_object() && valid.is_object() &&
      BreakObject(schema, root->get_object(), valid.get_object())) {
    return valid;
  }
  if (root != nullptr) {
    if (std::optional<json::value> wrong = WrongTypeValue(*root)) return std::move(*wrong);
  }
  return json::object{{"unexpected", true}};
}

void ApplyBadOutput(BadOutput output, const GenerationRequest& request, GeneratedChoice& choice) {
  if (output == BadOutput::kEmpty) choice.reasoning_tokens = 0;
  int64_t budget = request.max_tokens ? *request.max_tokens - choice.reasoning_tokens : INT64_MAX;
  bool into_arguments = !choice.tool_calls.empty() && (output == BadOutput::kInvalidJson ||
                                                       output == BadOutput::kSchemaViolation);
  if (into_arguments) {
    BreakToolCalls(output, request, budget, choice);
  } else {
    choice.tool_calls.clear();
    Truncation cut = Truncate(TextPieces(output, request, choice.seed), request.stop, budget);
    choice.text_pieces = std::move(cut.pieces);
    choice.finish = cut.finish;
    choice.stop_sequence = std::move(cut.stop_sequence);
    if (output == BadOutput::kRefusal && choice.finish == Finish::kEndTurn) {
      choice.finish = Finish::kRefusal;
    }
  }
  CountOutputTokens(choice);
}

void ToolCallsToText(GeneratedChoice& choice) {
  for (auto& call : choice.tool_calls) {
    for (auto& piece : call.argument_pieces) choice.text_pieces.push_back(std::move(piece));
  }
  choice.tool_calls.clear();
  if (choice.finish == Finish::kToolCalls) choice.finish = Finish::kEndTurn;
}

}  // namespace sy::emulator
