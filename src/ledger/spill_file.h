// SpillFile: a bounded local file of ledger records, kept while the database is unreachable or the
// in-memory queue is full, and replayed oldest first when the database is back.
//
// Format (all integers little-endian):
//   header: 8-byte magic "SYSPILL1", u64 head offset (the first unconsumed frame; 16 when none
//           was consumed since the file was last emptied)
//   frames: u32 payload length, u32 CRC-32 of the payload (Crc32 below), payload
// A payload is at most kMaxFrameBytes. It encodes one Record: a format-version byte (2), then its
// fields (the order AppendFrame writes them; version 1's fields, then shadow_of and agreement):
// strings as a varint length and the bytes, integers (int, int64, Money as its pico count) as
// zigzag varints, bools as one byte 0 or 1, Usage as its five counts then reported and estimated,
// ttft_ms as a presence byte and, when present, the value, and the attempts as a varint count then
// each Attempt's fields in declaration order. Version 1 payloads (written before shadow traffic)
// end after ttft_ms and still decode, with shadow_of and agreement "".
// Frames are appended at the end; Consume only moves the head. Space is reclaimed when every
// record is consumed: the file is then truncated back to its header.
//
// Durability: nothing is fsynced. A record whose Append returned survives a process crash (it is
// in the page cache); a power loss may lose the last seconds of appends or head updates. A crash
// between the database commit and Consume replays at most that batch, which the ledger's writers
// ignore by request id. A crash mid-append leaves a torn tail, which Open truncates away.
//
// Thread-safety: every method may be called concurrently; one mutex serialises the file
// operations (records are encoded and decoded outside it). Peek and Consume are meant for one
// reader thread: Consume refers to that thread's last Peek.
// Ownership: owns its file descriptor; the file stays on disk after destruction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "ledger/record.h"

namespace sy::ledger {

class SpillFile {
 public:
  // Records are bounded (text fields <= kMaxFieldBytes), so a bigger frame can only be corruption.
  static constexpr uint32_t kMaxFrameBytes = uint32_t{1} << 20;
  static constexpr uint64_t kHeaderBytes = 16;

  struct Options {
    std::string path;  // created owner-only (0600) if missing; its directory must exist
    uint64_t max_bytes = uint64_t{1} << 30;  // bound on the file's size (header included)
  };

  // Opens or creates the file. An existing file's unconsumed records (a previous process's spill)
  // are kept and read back first. A torn or corrupt tail (a crash mid-append) is truncated away;
  // dropped_bytes() says how much. Fails with kInternal, the message naming the path, when the
  // file cannot be opened or created or is not a spill file (wrong magic); a file that is not ours
  // is never modified, or is held by another SpillFile (an exclusive flock: one process per
  // file). Fails with kInvalidRequest when max_bytes < kHeaderBytes.
  static core::Result<std::unique_ptr<SpillFile>> Open(const Options& options);

  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  // Appends records in order, each one whole or not at all. Returns how many of `records` were
  // appended: a prefix, shorter than records.size() only when the next one would take the file
  // past max_bytes. On an I/O error (disk full...) returns kInternal and truncates the file back
  // to its size before the call: none of `records` was appended.
  core::Result<size_t> Append(std::span<const Record> records);

  // Reads up to max_records records from the head (oldest unconsumed first) without consuming
  // them. Fails with kInternal on an I/O error or a frame that no longer checks out (the file was
  // changed under us).
  core::Result<std::vector<Record>> Peek(size_t max_records);

  // Consumes the first n unconsumed records and persists the new head in the header, so that a
  // restart does not replay them; once nothing is left, truncates the file back to its header.
  // REQUIRES: n <= the size of the last Peek's result, with no Consume in between (else
  // kInternal, nothing consumed). Fails with kInternal on an I/O error; the head is then not
  // moved.
  core::Status Consume(size_t n);

  uint64_t records() const;        // unconsumed
  uint64_t bytes() const;          // current file size
  bool empty() const;              // records() == 0
  uint64_t dropped_bytes() const;  // truncated away by Open (torn or corrupt tail)
  const std::string& path() const { return path_; }

 private:
  SpillFile(int fd, std::string path, uint64_t max_bytes);

  // Open's scan: counts the records from the head and truncates a torn or corrupt tail.
  core::Status Recover();

  const int fd_;
  const std::string path_;
  const uint64_t max_bytes_;
  uint64_t dropped_bytes_ = 0;  // set by Open only

  mutable std::mutex mu_;
  uint64_t head_ = kHeaderBytes;  // guarded by mu_
  uint64_t size_ = kHeaderBytes;  // guarded by mu_: end of the last whole frame
  uint64_t records_ = 0;          // guarded by mu_
  // Where each frame of the last Peek ends, for Consume; guarded by mu_.
  std::vector<uint64_t> peeked_ends_;
};

// The frame checksum: CRC-32 (ISO-HDLC, as zlib's crc32). Exposed for tests.
uint32_t Crc32(std::string_view data);

}  // namespace sy::ledger
