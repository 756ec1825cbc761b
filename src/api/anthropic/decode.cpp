#include "api/anthropic/decode.h"

#include <algorithm>
#include <initializer_list>
#include <string>

#include "api/json.h"
#include "core/text.h"

namespace sy::api::anthropic {
namespace {

namespace json = boost::json;

using Values = std::initializer_list<std::string_view>;

constexpr bool kRequired = true;
constexpr bool kOptional = false;

core::Error Invalid(const std::string& path, std::string_view what) {
  return core::InvalidParam(path,
                            path.empty() ? std::string(what) : path + ": " + std::string(what));
}

std::string At(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string At(const std::string& path, std::size_t index) {
  return path + "." + std::to_string(index);
}

// The JSON shapes Anthropic's schema uses; each fails with Anthropic's (pydantic's) wording.
enum class Shape { kString, kInteger, kNumber, kBool, kList, kModel, kDict };

bool Fits(const json::value& v, Shape shape) {
  switch (shape) {
    case Shape::kString:
      return v.is_string();
    case Shape::kInteger:
      return v.is_int64() || v.is_uint64();
    case Shape::kNumber:
      return v.is_number();
    case Shape::kBool:
      return v.is_bool();
    case Shape::kList:
      return v.is_array();
    case Shape::kModel:
    case Shape::kDict:
      return v.is_object();
  }
  return false;
}

const char* Expected(Shape shape) {
  switch (shape) {
    case Shape::kString:
      return "Input should be a valid string";
    case Shape::kInteger:
      return "Input should be a valid integer";
    case Shape::kNumber:
      return "Input should be a valid number";
    case Shape::kBool:
      return "Input should be a valid boolean";
    case Shape::kList:
      return "Input should be a valid list";
    case Shape::kModel:  // an object with known fields (a block, a source, metadata)
      return "Input should be a valid dictionary or object to extract fields from";
    case Shape::kDict:  // a free-form object (tool_use.input)
      return "Input should be a valid dictionary";
  }
  return "Input is invalid";
}

constexpr std::string_view kStringOrBlocks =
    "Input should be a valid string or a list of content blocks";

// 'a', 'b' or 'c' (an enum's values) or 'a', 'b', 'c' (a tagged union's tags).
std::string Quoted(Values values, std::string_view last_separator) {
  std::string out;
  std::size_t i = 0;
  for (auto v : values) {
    if (i > 0) out += i + 1 == values.size() ? last_separator : ", ";
    out += "'" + std::string(v) + "'";
    ++i;
  }
  return out;
}

bool IsOneOf(std::string_view value, Values values) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// The client's tag is clipped (ClipForEcho): it comes back in the message.
core::Error TagMismatch(const std::string& path, std::string_view tag, Values tags) {
  return Invalid(path, "Input tag '" + core::ClipForEcho(tag) +
                           "' found using 'type' does not match any of the expected tags: " +
                           Quoted(tags, ", "));
}

// The field `key` of `obj` (at `path`) when it has `shape`; nullptr when it is optional and
// absent or null.
core::Result<const json::value*> Field(const json::object& obj, std::string_view key,
                                       const std::string& path, Shape shape, bool required) {
  const auto* v = obj.if_contains(key);
  if (!v && required) return Invalid(At(path, key), "Field required");
  if (!v || (v->is_null() && !required)) return nullptr;
  if (!Fits(*v, shape)) return Invalid(At(path, key), Expected(shape));
  return v;
}

core::Status Expect(const json::object& obj, std::string_view key, const std::string& path,
                    Shape shape, bool required) {
  auto field = Field(obj, key, path, shape, required);
  if (!field) return std::move(field).error();
  return {};
}

// A string field limited to `values`, Anthropic's wording for a Literal.
core::Result<std::string_view> Enum(const json::object& obj, std::string_view key,
                                    const std::string& path, Values values) {
  const auto* v = obj.if_contains(key);
  if (!v) return Invalid(At(path, key), "Field required");
  if (!v->is_string() || !IsOneOf(v->get_string(), values)) {
    return Invalid(At(path, key), "Input should be " + Quoted(values, " or "));
  }
  return std::string_view(v->get_string());
}

// Anthropic's integer parameters are 32-bit: larger values are refused here, not upstream.
constexpr int64_t kMaxInt32 = 2'147'483'647;

core::Status CheckInteger(const json::object& obj, std::string_view key, int64_t minimum,
                          bool required) {
  auto field = Field(obj, key, "", Shape::kInteger, required);
  if (!field) return std::move(field).error();
  const json::value* v = *field;
  if (v && v->is_int64() && v->get_int64() < minimum) {
    return Invalid(std::string(key),
                   "Input should be greater than or equal to " + std::to_string(minimum));
  }
  if (v && (v->is_uint64() || v->get_int64() > kMaxInt32)) {
    return Invalid(std::string(key), "Input should be less than or equal to 2147483647");
  }
  return {};
}

double AsDouble(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

core::Status CheckTemperature(const json::object& body) {
  auto field = Field(body, "temperature", "", Shape::kNumber, kOptional);
  if (!field) return std::move(field).error();
  if (!*field) return {};
  const double t = AsDouble(**field);
  if (t < 0) return Invalid("temperature", "Input should be greater than or equal to 0");
  if (t > 1) return Invalid("temperature", "Input should be less than or equal to 1");
  return {};
}

core::Status CheckBlocks(const json::array& blocks, const std::string& path);

core::Status CheckStringOrBlocks(const json::value& v, const std::string& path) {
  if (v.is_string()) return {};
  if (v.is_array()) return CheckBlocks(v.get_array(), path);
  return Invalid(path, kStringOrBlocks);
}

core::Status CheckImageSource(const json::object& block, const std::string& path) {
  auto source = Field(block, "source", path, Shape::kModel, kRequired);
  if (!source) return std::move(source).error();
  const auto& src = (*source)->get_object();
  const std::string at = At(path, "source");
  auto type = Field(src, "type", at, Shape::kString, kRequired);
  if (!type) return std::move(type).error();
  const std::string_view tag = (*type)->get_string();
  if (tag == "base64") {
    auto media =
        Enum(src, "media_type", at, {"image/jpeg", "image/png", "image/gif", "image/webp"});
    if (!media) return std::move(media).error();
    return Expect(src, "data", at, Shape::kString, kRequired);
  }
  if (tag == "url") return Expect(src, "url", at, Shape::kString, kRequired);
  if (tag == "file") return Expect(src, "file_id", at, Shape::kString, kRequired);
  return TagMismatch(At(at, "type"), tag, {"base64", "url", "file"});
}

core::Status CheckToolUse(const json::object& block, const std::string& path) {
  for (auto status : {Expect(block, "id", path, Shape::kString, kRequired),
                      Expect(block, "name", path, Shape::kString, kRequired),
                      Expect(block, "input", path, Shape::kDict, kRequired)}) {
    if (!status) return status;
  }
  return {};
}

core::Status CheckToolResult(const json::object& block, const std::string& path) {
  if (auto s = Expect(block, "tool_use_id", path, Shape::kString, kRequired); !s) return s;
  const auto* content = block.if_contains("content");
  if (content && !content->is_null()) {
    if (auto s = CheckStringOrBlocks(*content, At(path, "content")); !s) return s;
  }
  return Expect(block, "is_error", path, Shape::kBool, kOptional);
}

core::Status CheckBlock(const json::value& v, const std::string& path) {
  if (!v.is_object()) return Invalid(path, Expected(Shape::kModel));
  const auto& block = v.get_object();
  auto type = Field(block, "type", path, Shape::kString, kRequired);
  if (!type) return std::move(type).error();
  const std::string_view tag = (*type)->get_string();
  if (tag == "text") return Expect(block, "text", path, Shape::kString, kRequired);
  if (tag == "image") return CheckImageSource(block, path);
  if (tag == "tool_use") return CheckToolUse(block, path);
  if (tag == "tool_result") return CheckToolResult(block, path);
  return {};  // a block the translator does not read: the upstream judges it
}

core::Status CheckBlocks(const json::array& blocks, const std::string& path) {
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (auto s = CheckBlock(blocks[i], At(path, i)); !s) return s;
  }
  return {};
}

// A system prompt: a string or a list of text blocks.
core::Status CheckSystemContent(const json::value& system, const std::string& path) {
  if (system.is_string()) return {};
  if (!system.is_array()) {
    return Invalid(path, "Input should be a valid string or a list of text blocks");
  }
  const auto& blocks = system.get_array();
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const std::string at = At(path, i);
    if (!blocks[i].is_object()) return Invalid(at, Expected(Shape::kModel));
    const auto& block = blocks[i].get_object();
    if (auto type = Enum(block, "type", at, {"text"}); !type) return std::move(type).error();
    if (auto s = Expect(block, "text", at, Shape::kString, kRequired); !s) return s;
  }
  return {};
}

core::Status CheckSystem(const json::object& body) {
  const auto* system = body.if_contains("system");
  if (!system || system->is_null()) return {};
  return CheckSystemContent(*system, "system");
}

core::Status CheckMessage(const json::value& v, const std::string& path) {
  if (!v.is_object()) return Invalid(path, Expected(Shape::kModel));
  const auto& message = v.get_object();
  // Current Anthropic SDKs also type system-role turns inside `messages`.
  auto role = Enum(message, "role", path, {"user", "assistant", "system"});
  if (!role) return std::move(role).error();
  const auto* content = message.if_contains("content");
  if (!content) return Invalid(At(path, "content"), "Field required");
  if (*role == "system") return CheckSystemContent(*content, At(path, "content"));
  return CheckStringOrBlocks(*content, At(path, "content"));
}

core::Status CheckMessages(const json::object& body) {
  auto messages = Field(body, "messages", "", Shape::kList, kRequired);
  if (!messages) return std::move(messages).error();
  const auto& list = (*messages)->get_array();
  if (list.empty()) {
    return Invalid("messages", "List should have at least 1 item after validation, not 0");
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (auto s = CheckMessage(list[i], At("messages", i)); !s) return s;
  }
  return {};
}

core::Status CheckTool(const json::value& v, const std::string& path) {
  if (!v.is_object()) return Invalid(path, Expected(Shape::kModel));
  const auto& tool = v.get_object();
  if (auto s = Expect(tool, "name", path, Shape::kString, kRequired); !s) return s;
  auto type = Field(tool, "type", path, Shape::kString, kOptional);
  if (!type) return std::move(type).error();
  // A typed tool other than "custom" is a server tool (web_search_..., bash_...): Anthropic
  // defines its schema, so the upstream judges it.
  if (*type && (*type)->get_string() != "custom") return {};
  return Expect(tool, "input_schema", path, Shape::kModel, kRequired);
}

core::Status CheckTools(const json::object& body) {
  auto tools = Field(body, "tools", "", Shape::kList, kOptional);
  if (!tools) return std::move(tools).error();
  if (!*tools) return {};
  const auto& list = (*tools)->get_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (auto s = CheckTool(list[i], At("tools", i)); !s) return s;
  }
  return {};
}

core::Status CheckToolChoice(const json::object& body) {
  auto field = Field(body, "tool_choice", "", Shape::kModel, kOptional);
  if (!field) return std::move(field).error();
  if (!*field) return {};
  const auto& choice = (*field)->get_object();
  auto type = Field(choice, "type", "tool_choice", Shape::kString, kRequired);
  if (!type) return std::move(type).error();
  const std::string_view tag = (*type)->get_string();
  const Values tags = {"auto", "any", "tool", "none"};
  if (!IsOneOf(tag, tags)) return TagMismatch("tool_choice.type", tag, tags);
  if (tag == "tool") {
    if (auto s = Expect(choice, "name", "tool_choice", Shape::kString, kRequired); !s) return s;
  }
  return Expect(choice, "disable_parallel_tool_use", "tool_choice", Shape::kBool, kOptional);
}

core::Status CheckStopSequences(const json::object& body) {
  auto field = Field(body, "stop_sequences", "", Shape::kList, kOptional);
  if (!field) return std::move(field).error();
  if (!*field) return {};
  const auto& list = (*field)->get_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string()) return Invalid(At("stop_sequences", i), Expected(Shape::kString));
  }
  return {};
}

core::Status CheckBody(const json::object& body) {
  for (auto status : {Expect(body, "model", "", Shape::kString, kRequired),
                      CheckInteger(body, "max_tokens", 1, kRequired), CheckMessages(body),
                      CheckSystem(body), CheckTools(body), CheckToolChoice(body),
                      CheckStopSequences(body), Expect(body, "stream", "", Shape::kBool, kOptional),
                      CheckTemperature(body), Expect(body, "top_p", "", Shape::kNumber, kOptional),
                      CheckInteger(body, "top_k", 0, kOptional),
                      Expect(body, "metadata", "", Shape::kModel, kOptional)}) {
    if (!status) return status;
  }
  return {};
}

// count_tokens takes the prompt of a Messages request, without the generation fields.
core::Status CheckCountBody(const json::object& body) {
  for (auto status : {Expect(body, "model", "", Shape::kString, kRequired), CheckMessages(body),
                      CheckSystem(body), CheckTools(body), CheckToolChoice(body)}) {
    if (!status) return status;
  }
  return {};
}

core::Status Decode(std::string_view body, int64_t max_depth, core::Request& out,
                    core::Status (*check)(const json::object&)) {
  auto parsed = ParseJson(body, max_depth, out.body.storage());  // same arena: moves, no copy
  if (!parsed) return std::move(parsed).error();
  if (!parsed->is_object()) return Invalid("", "The request body must be a JSON object.");
  auto& obj = parsed->get_object();
  if (auto s = check(obj); !s) return s;
  out.dialect = core::Dialect::kAnthropicMessages;
  out.max_json_depth = max_depth;
  out.model = std::string(obj.if_contains("model")->get_string());  // checked by CheckBody
  const auto* stream = obj.if_contains("stream");
  out.stream = stream && stream->is_bool() && stream->get_bool();
  out.include_usage = true;
  out.body = std::move(obj);
  return {};
}

}  // namespace

core::Status DecodeMessagesRequest(std::string_view body, int64_t max_depth, core::Request& out) {
  return Decode(body, max_depth, out, &CheckBody);
}

core::Status DecodeCountTokensRequest(std::string_view body, int64_t max_depth,
                                      core::Request& out) {
  return Decode(body, max_depth, out, &CheckCountBody);
}

}  // namespace sy::api::anthropic
