// What a Chat Completions stream chunk generated, read from its DOM: the reading that
// detail::ScanOpenAiChunk does without one (a decoded upstream chunk), and that the relay does
// for a chunk a translator built. The two must agree; answer_scan_test and the chunk_scan fuzz
// target hold them to it.
// Thread-safety: pure.
#pragma once

#include <boost/json/value.hpp>

#include "core/stream_event.h"

namespace sy::providers {

// Over `choices[]` (an array of objects), each choice's `delta` object adds its `content`
// string's bytes (content when not empty) and, when its `tool_calls` is not null, content and
// the bytes of each `tool_calls[].function.arguments` string. A member of another type adds
// nothing. {0, false} for anything but an object.
core::Generated ChunkGenerated(const boost::json::value& chunk);

}  // namespace sy::providers
