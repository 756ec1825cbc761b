#include "providers/detail/answer_scan.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value_stack.hpp>

namespace sy::providers::detail {
namespace {

namespace json = boost::json;

// `key` == `name`, with the length known where it is compiled: a compare of a word or two
// instead of a call to memcmp. A chunk has a dozen keys, each compared a few times.
template <std::size_t N>
bool Is(std::string_view key, const char (&name)[N]) {
  return key.size() == N - 1 && std::memcmp(key.data(), name, N - 1) == 0;
}

// A key or string value that came in parts (when it holds escapes or crosses the parser's
// buffer), put together. No text the scan looks for is longer than the buffer or empty: a
// longer one is read as "", which matches none.
class ShortText {
 public:
  bool empty() const { return size_ == 0 && !too_long_; }
  void Append(std::string_view part) {
    if (part.size() > sizeof(bytes_) - size_) {
      too_long_ = true;
      return;
    }
    std::memcpy(bytes_ + size_, part.data(), part.size());
    size_ += part.size();
  }
  // The whole text, given its last part; then ready for the next.
  std::string_view Take(std::string_view last) {
    Append(last);
    const std::string_view key = too_long_ ? std::string_view() : std::string_view(bytes_, size_);
    size_ = 0;
    too_long_ = false;
    return key;
  }

 private:
  char bytes_[48];  // the longest: "response.reasoning_summary_text.delta" (37)
  std::size_t size_ = 0;
  bool too_long_ = false;
};

// Follows a chunk's choices[].delta.{content, tool_calls[].function.arguments} through the
// parser's events and adds up what they generated, as ScannedChunk states. Each open container
// down to a function object (7 deep) has a frame; a value, when complete, is handed to its
// parent: an object keeps it in the slot of the key it came under (a later repeat replaces it),
// an array adds it up.
class ChunkReader {
 public:
  core::Generated Result() const { return result_; }

  void Key(std::string_view key) {
    if (Frame* f = Top()) f->slot = SlotOf(f->kind, key);
  }
  void Open(bool array) {
    const Kind kind = ChildKind(array);
    ++depth_;
    if (depth_ <= kTracked) frames_[depth_ - 1] = Frame{.kind = kind};
  }
  void Close() {
    const core::Generated value =
        depth_ <= kTracked ? ValueOf(frames_[depth_ - 1]) : core::Generated{};
    --depth_;
    Deliver(value, false);
  }
  void StringPart(std::string_view) {}
  void String(std::string_view, std::size_t size) {
    const Frame* f = Top();
    core::Generated value;
    if (f && f->kind == Kind::kDelta && f->slot == kContent) value = {size, size > 0};
    if (f && f->kind == Kind::kFunction && f->slot == kArguments) value = {size, false};
    Deliver(value, false);
  }
  void Scalar(bool null) { Deliver({}, null); }

 private:
  enum class Kind : std::uint8_t {
    kOther,
    kRoot,
    kChoices,
    kChoice,
    kDelta,
    kToolCalls,
    kToolCall,
    kFunction
  };
  // The slots an object keeps. A delta keeps two; every other followed object one.
  static constexpr std::uint8_t kChoicesSlot = 0, kDeltaSlot = 0, kContent = 0, kToolCallsSlot = 1,
                                kFunctionSlot = 0, kArguments = 0, kNoSlot = 2;
  struct Frame {
    Kind kind = Kind::kOther;
    std::uint8_t slot = kNoSlot;  // where the member being read goes (objects)
    std::array<core::Generated, 2> slots{};
    core::Generated sum{};  // what the elements added up to (arrays)
  };
  static constexpr std::size_t kTracked = 8;  // the root object is 1 deep, a function object 7

  static std::uint8_t SlotOf(Kind kind, std::string_view key) {
    switch (kind) {
      case Kind::kRoot:
        return Is(key, "choices") ? kChoicesSlot : kNoSlot;
      case Kind::kChoice:
        return Is(key, "delta") ? kDeltaSlot : kNoSlot;
      case Kind::kDelta:
        if (Is(key, "content")) return kContent;
        return Is(key, "tool_calls") ? kToolCallsSlot : kNoSlot;
      case Kind::kToolCall:
        return Is(key, "function") ? kFunctionSlot : kNoSlot;
      case Kind::kFunction:
        return Is(key, "arguments") ? kArguments : kNoSlot;
      default:
        return kNoSlot;
    }
  }

  // The kind of a container opening inside the top frame.
  Kind ChildKind(bool array) const {
    if (depth_ == 0) return array ? Kind::kOther : Kind::kRoot;
    const Frame* f = Top();
    if (!f) return Kind::kOther;
    switch (f->kind) {
      case Kind::kRoot:
        return array && f->slot == kChoicesSlot ? Kind::kChoices : Kind::kOther;
      case Kind::kChoices:
        return array ? Kind::kOther : Kind::kChoice;
      case Kind::kChoice:
        return !array && f->slot == kDeltaSlot ? Kind::kDelta : Kind::kOther;
      case Kind::kDelta:
        return array && f->slot == kToolCallsSlot ? Kind::kToolCalls : Kind::kOther;
      case Kind::kToolCalls:
        return array ? Kind::kOther : Kind::kToolCall;
      case Kind::kToolCall:
        return !array && f->slot == kFunctionSlot ? Kind::kFunction : Kind::kOther;
      default:
        return Kind::kOther;
    }
  }

  static core::Generated ValueOf(const Frame& f) {
    switch (f.kind) {
      case Kind::kRoot:
      case Kind::kChoice:
      case Kind::kToolCall:
      case Kind::kFunction:
        return f.slots[0];
      case Kind::kDelta:
        return {f.slots[kContent].bytes + f.slots[kToolCallsSlot].bytes,
                f.slots[kContent].content || f.slots[kToolCallsSlot].content};
      case Kind::kChoices:
      case Kind::kToolCalls:
        return f.sum;
      default:
        return {};
    }
  }

  // A complete value, handed to the frame it is in.
  void Deliver(core::Generated value, bool null) {
    if (depth_ == 0) {
      result_ = value;
      return;
    }
    Frame* f = Top();
    if (!f) return;
    if (f->kind == Kind::kChoices || f->kind == Kind::kToolCalls) {
      f->sum.bytes += value.bytes;
      f->sum.content = f->sum.content || value.content;
    } else if (f->slot != kNoSlot) {
      // Any tool_calls but null carries content, arguments or not.
      if (f->kind == Kind::kDelta && f->slot == kToolCallsSlot) value.content = !null;
      f->slots[f->slot] = value;
    }
  }

  Frame* Top() { return depth_ >= 1 && depth_ <= kTracked ? &frames_[depth_ - 1] : nullptr; }
  const Frame* Top() const {
    return depth_ >= 1 && depth_ <= kTracked ? &frames_[depth_ - 1] : nullptr;
  }

  std::array<Frame, kTracked> frames_;  // [0, depth_) in use; each set when its container opens
  std::size_t depth_ = 0;               // open containers, followed or not
  core::Generated result_{};
};

// Reads a delta event, of either shape: whether its top-level "type" is the event's name, and
// the bytes it generated, as the DOM readings in providers/stream_generated.h do (the last of a
// repeated key counts; a member of another type adds nothing).
//  - Anthropic's content_block_delta: its `delta` object's "text", "partial_json" and
//    "thinking" strings.
//  - Responses' *.delta events: the `delta` string.
class DeltaReader {
 public:
  enum class Shape : std::uint8_t { kAnthropicObject, kResponsesString };

  DeltaReader(Shape shape, std::string_view type) : type_(type), shape_(shape) {}

  bool type_matches() const { return type_matches_; }
  std::size_t bytes() const { return bytes_; }

  void Key(std::string_view key) {
    if (depth_ == 1) {
      root_key_ = Is(key, "type")    ? RootKey::kType
                  : Is(key, "delta") ? RootKey::kDelta
                                     : RootKey::kOther;
    } else if (depth_ == 2 && in_delta_) {
      delta_key_ = Is(key, "text")           ? 0
                   : Is(key, "partial_json") ? 1
                   : Is(key, "thinking")     ? 2
                                             : kNone;
    }
  }
  void Open(bool array) {
    Value();  // a container: neither the type's string nor a counted string
    ++depth_;
    if (depth_ == 2) {
      in_delta_ = !array && root_key_ == RootKey::kDelta && shape_ == Shape::kAnthropicObject;
      delta_key_ = kNone;
      delta_ = {};
    }
  }
  void Close() {
    if (depth_ == 2 && in_delta_) bytes_ = delta_[0] + delta_[1] + delta_[2];
    if (depth_ == 2) in_delta_ = false;
    --depth_;
  }
  void StringPart(std::string_view part) {
    if (depth_ == 1 && root_key_ == RootKey::kType) value_.Append(part);
  }
  void String(std::string_view last, std::size_t size) {
    if (depth_ == 1 && root_key_ == RootKey::kType) {
      // Most strings come whole, in this one call.
      type_matches_ = (value_.empty() ? std::string_view(last) : value_.Take(last)) == type_;
    } else {
      Value(size);
    }
  }
  void Scalar(bool) { Value(); }

 private:
  enum class RootKey : std::uint8_t { kOther, kType, kDelta };
  static constexpr std::uint8_t kNone = 3;

  // A value under the current key, other than the type's string: `size` when it is a string
  // (0 otherwise) replaces what an earlier member of that name said.
  void Value(std::size_t size = 0) {
    if (depth_ == 1 && root_key_ == RootKey::kType) type_matches_ = false;
    if (depth_ == 1 && root_key_ == RootKey::kDelta) {
      bytes_ = shape_ == Shape::kResponsesString ? size : 0;  // an object's is set when it closes
    }
    if (depth_ == 2 && in_delta_ && delta_key_ != kNone) delta_[delta_key_] = size;
  }

  std::string_view type_;               // the event's name
  ShortText value_;                     // the "type" string, when it comes in parts
  std::array<std::size_t, 3> delta_{};  // text, partial_json, thinking
  std::size_t bytes_ = 0;
  std::size_t depth_ = 0;
  RootKey root_key_ = RootKey::kOther;
  std::uint8_t delta_key_ = kNone;
  Shape shape_;
  bool in_delta_ = false;
  bool type_matches_ = false;
};

// For a complete answer: follows nothing.
struct NoReader {
  void Key(std::string_view) {}
  void Open(bool) {}
  void Close() {}
  void StringPart(std::string_view) {}
  void String(std::string_view, std::size_t) {}
  void Scalar(bool) {}
};

// A basic_parser handler that drops every event except those of the top-level "usage" member's
// value, which it hands to a value_stack: the building block json::parse's own handler uses,
// so the value comes out as json::parse would build it. It notes whether the top-level "error"
// member is not null and whether "choices" and "content" are arrays, and hands a Reader
// (ChunkReader, DeltaReader) the events of the structure it follows.
template <typename Reader>
class AnswerHandler {
 public:
  // The limits json::parse's handler sets: an answer too large for a DOM fails here too.
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  AnswerHandler(json::storage_ptr sp, Reader& reader)
      : stack_({}, temp_, sizeof(temp_)), sp_(std::move(sp)), reader_(reader) {}

  bool object() const { return object_; }
  bool error() const { return error_; }
  bool choices() const { return choices_; }
  bool content() const { return content_; }
  std::optional<json::value> TakeUsage() { return std::move(usage_); }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }

  bool on_object_begin(json::error_code&) {
    if (depth_ == 0) object_ = true;
    OpenContainer(false);
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code&) {
    --depth_;
    reader_.Close();
    if (capturing_) {
      stack_.push_object(n);
      CloseContainer();
    }
    return true;
  }
  bool on_array_begin(json::error_code&) {
    OpenContainer(true);
    return true;
  }
  bool on_array_end(std::size_t n, json::error_code&) {
    --depth_;
    reader_.Close();
    if (capturing_) {
      stack_.push_array(n);
      CloseContainer();
    }
    return true;
  }

  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    if (capturing_) {
      stack_.push_chars(s);
    } else {
      key_parts_.Append(s);
    }
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    if (capturing_) {
      stack_.push_key(s);
      return true;
    }
    // Most keys come whole, in this one call.
    const std::string_view key = key_parts_.empty() ? std::string_view(s) : key_parts_.Take(s);
    if (depth_ == 1) {
      pending_usage_ = Is(key, "usage");
      pending_error_ = Is(key, "error");
      pending_choices_ = Is(key, "choices");
      pending_content_ = Is(key, "content");
    }
    reader_.Key(key);
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    reader_.StringPart(s);
    BeginValue(false);
    if (capturing_) stack_.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t n, json::error_code&) {
    reader_.String(s, n);
    return Scalar(false, [&] { stack_.push_string(s); });
  }

  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    return ReaderScalar(false, [&] { stack_.push_int64(i); });
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    return ReaderScalar(false, [&] { stack_.push_uint64(u); });
  }
  bool on_double(double d, json::string_view, json::error_code&) {
    return ReaderScalar(false, [&] { stack_.push_double(d); });
  }
  bool on_bool(bool b, json::error_code&) {
    return ReaderScalar(false, [&] { stack_.push_bool(b); });
  }
  bool on_null(json::error_code&) {
    return ReaderScalar(true, [&] { stack_.push_null(); });
  }

  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  template <typename Push>
  bool ReaderScalar(bool null, Push push) {
    reader_.Scalar(null);
    return Scalar(null, push);
  }

  // A scalar (or a string's last part): pushed when it is, or is inside, the captured value.
  template <typename Push>
  bool Scalar(bool null, Push push) {
    BeginValue(null);
    if (capturing_) {
      push();
      Leave();
    }
    return true;
  }

  // The first event of a value. After a top-level "usage" key it starts the value's capture;
  // after a top-level "error" key it says whether the error is there, after "choices" or
  // "content" whether it is an array.
  void BeginValue(bool null, bool array = false) {
    if (pending_error_) {
      pending_error_ = false;
      error_ = !null;
    }
    if (pending_choices_) {
      pending_choices_ = false;
      choices_ = array;
    }
    if (pending_content_) {
      pending_content_ = false;
      content_ = array;
    }
    if (!pending_usage_) return;
    pending_usage_ = false;
    capturing_ = true;
    stack_.reset(sp_);
  }
  // After the captured value's last event: kept, replacing an earlier "usage" as json::parse
  // keeps the last of a repeated key.
  void Leave() {
    if (nesting_ != 0) return;
    usage_ = stack_.release();
    capturing_ = false;
  }

  void OpenContainer(bool array) {
    BeginValue(false, array);
    reader_.Open(array);
    if (capturing_) ++nesting_;
    ++depth_;
  }
  void CloseContainer() {
    --nesting_;
    Leave();
  }

  // A usage block fits here: the value_stack then allocates only the value it returns. Raw
  // storage for it, not zeroed.
  unsigned char temp_[512];
  json::value_stack stack_;
  json::storage_ptr sp_;  // the usage value's
  Reader& reader_;
  ShortText key_parts_;
  std::optional<json::value> usage_{};
  std::size_t depth_ = 0;       // containers open around the current event
  std::size_t nesting_ = 0;     // ... of them inside the captured value
  bool pending_usage_ = false;  // the last top-level key was "usage": its value comes next
  bool pending_error_ = false;  // ... "error"
  bool pending_choices_ = false;
  bool pending_content_ = false;
  bool capturing_ = false;
  bool error_ = false;
  bool choices_ = false;
  bool content_ = false;
  bool object_ = false;  // the document is an object
};

// One pass of the parser over `body`, with `reader` following it; nullopt unless it is one JSON
// object.
template <typename Reader>
std::optional<ScannedAnswer> Scan(std::string_view body, const json::parse_options& options,
                                  json::storage_ptr sp, Reader& reader) {
  json::basic_parser<AnswerHandler<Reader>> parser(options, std::move(sp), reader);
  json::error_code ec;
  // As json::parse: the whole text is one document (more = false), then only whitespace.
  const std::size_t used = parser.write_some(false, body.data(), body.size(), ec);
  if (ec || used < body.size() || !parser.handler().object()) return std::nullopt;
  const auto& handler = parser.handler();
  return ScannedAnswer{.usage = parser.handler().TakeUsage(),
                       .error = handler.error(),
                       .choices = handler.choices(),
                       .content = handler.content()};
}

}  // namespace

std::optional<ScannedAnswer> ScanAnswer(std::string_view body,
                                        const boost::json::parse_options& options,
                                        boost::json::storage_ptr sp) {
  NoReader none;
  return Scan(body, options, std::move(sp), none);
}

std::optional<ScannedChunk> ScanOpenAiChunk(std::string_view data,
                                            const boost::json::parse_options& options,
                                            boost::json::storage_ptr sp) {
  ChunkReader chunk;
  auto answer = Scan(data, options, std::move(sp), chunk);
  if (!answer) return std::nullopt;
  return ScannedChunk{.answer = std::move(*answer), .generated = chunk.Result()};
}

namespace {

std::optional<ScannedDelta> ScanDelta(DeltaReader& delta, std::string_view data,
                                      const boost::json::parse_options& options) {
  // Its DOM is never needed (the decoders read no usage from a delta): a small arena takes any.
  unsigned char buffer[256];
  json::monotonic_resource arena(buffer, sizeof(buffer));
  if (!Scan(data, options, &arena, delta)) return std::nullopt;
  return ScannedDelta{.type_matches = delta.type_matches(), .bytes = delta.bytes()};
}

}  // namespace

std::optional<ScannedDelta> ScanAnthropicDelta(std::string_view data,
                                               const boost::json::parse_options& options) {
  DeltaReader delta(DeltaReader::Shape::kAnthropicObject, "content_block_delta");
  return ScanDelta(delta, data, options);
}

std::optional<ScannedDelta> ScanResponsesDelta(std::string_view data, std::string_view type,
                                               const boost::json::parse_options& options) {
  DeltaReader delta(DeltaReader::Shape::kResponsesString, type);
  return ScanDelta(delta, data, options);
}

}  // namespace sy::providers::detail
