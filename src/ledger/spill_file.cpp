#include "ledger/spill_file.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

namespace sy::ledger {
namespace {

constexpr std::string_view kMagic = "SYSPILL1";
constexpr uint64_t kFrameHeaderBytes = 8;  // u32 length, u32 checksum
// Version 2 appended shadow_of and agreement; version 1 payloads (spilled by an older binary)
// still decode, with those fields "".
constexpr uint8_t kFormatVersion = 2;
constexpr uint8_t kFormatVersionV1 = 1;

// ---- Checksum and fixed-width integers ----

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

void PutLe(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t GetLe(std::string_view in, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= uint64_t{static_cast<unsigned char>(in[static_cast<size_t>(i)])} << (8 * i);
  }
  return v;
}

std::string Header(uint64_t head) {
  std::string header(kMagic);
  PutLe(header, head, 8);
  return header;
}

// ---- Record payload ----

class Encoder {
 public:
  explicit Encoder(std::string& out) : out_(out) {}

  void Byte(uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void Varint(uint64_t v) {
    for (; v >= 0x80; v >>= 7) Byte(static_cast<uint8_t>(v | 0x80));
    Byte(static_cast<uint8_t>(v));
  }
  // Zigzag, so that small negative numbers stay short.
  void Int(int64_t v) { Varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void Bool(bool b) { Byte(b ? 1 : 0); }
  void Str(std::string_view s) {
    Varint(s.size());
    out_.append(s);
  }
  void Usage(const core::Usage& u) {
    Int(u.input_tokens);
    Int(u.cached_input_tokens);
    Int(u.cache_write_input_tokens);
    Int(u.output_tokens);
    Int(u.reasoning_tokens);
    Bool(u.reported);
    Bool(u.estimated);
  }

 private:
  std::string& out_;
};

// Every read is bounds-checked and fails (false) rather than reading past the payload: a payload
// with a valid checksum can still be garbage (a bug, or a file edited by hand).
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  size_t remaining() const { return in_.size(); }

  bool Byte(uint8_t& b) {
    if (in_.empty()) return false;
    b = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool Varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = 0;
      if (!Byte(b)) return false;
      if (shift == 63 && b > 1) return false;  // more than 64 bits
      v |= uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool Int(int64_t& v) {
    uint64_t u = 0;
    if (!Varint(u)) return false;
    v = static_cast<int64_t>((u >> 1) ^ (0 - (u & 1)));
    return true;
  }
  bool Int(int& v) {
    int64_t wide = 0;
    if (!Int(wide) || wide < std::numeric_limits<int>::min() ||
        wide > std::numeric_limits<int>::max()) {
      return false;
    }
    v = static_cast<int>(wide);
    return true;
  }
  bool Bool(bool& v) {
    uint8_t b = 0;
    if (!Byte(b) || b > 1) return false;
    v = b == 1;
    return true;
  }
  bool Str(std::string& s) {
    uint64_t n = 0;
    if (!Varint(n) || n > in_.size()) return false;
    s.assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool Money(core::Money& m) {
    int64_t pico = 0;
    if (!Int(pico)) return false;
    m = core::Money::FromPico(pico);
    return true;
  }
  bool Usage(core::Usage& u) {
    return Int(u.input_tokens) && Int(u.cached_input_tokens) && Int(u.cache_write_input_tokens) &&
           Int(u.output_tokens) && Int(u.reasoning_tokens) && Bool(u.reported) && Bool(u.estimated);
  }

 private:
  std::string_view in_;
};

void EncodeAttempt(Encoder& e, const Attempt& a) {
  e.Str(a.model);
  e.Str(a.provider);
  e.Str(a.deployment);
  e.Str(a.outcome);
  e.Str(a.verdict);
  e.Int(a.http_status);
  e.Str(a.error_code);
  e.Str(a.error_message);
  e.Int(a.latency_ms);
  e.Usage(a.usage);
  e.Int(a.cost.pico());
}

bool DecodeAttempt(Decoder& d, Attempt& a) {
  return d.Str(a.model) && d.Str(a.provider) && d.Str(a.deployment) && d.Str(a.outcome) &&
         d.Str(a.verdict) && d.Int(a.http_status) && d.Str(a.error_code) &&
         d.Str(a.error_message) && d.Int(a.latency_ms) && d.Usage(a.usage) && d.Money(a.cost);
}

// Appends one frame (length, checksum, payload) holding `r` to `out`.
void AppendFrame(const Record& r, std::string& out) {
  const size_t start = out.size();
  out.append(kFrameHeaderBytes, '\0');
  Encoder e(out);
  e.Byte(kFormatVersion);
  e.Str(r.request_id);
  e.Int(r.started_at_ms);
  e.Str(r.tenant);
  e.Str(r.key_id);
  e.Str(r.task_id);
  e.Str(r.dialect);
  e.Str(r.endpoint);
  e.Str(r.requested_model);
  e.Str(r.chosen_model);
  e.Str(r.provider);
  e.Varint(r.attempts.size());
  for (const Attempt& a : r.attempts) EncodeAttempt(e, a);
  e.Usage(r.usage);
  e.Int(r.cost.pico());
  e.Str(r.price_list);
  e.Bool(r.stream);
  e.Int(r.status);
  e.Str(r.error_code);
  e.Str(r.error_message);
  e.Str(r.route_reason);
  e.Str(r.verify);
  e.Str(r.task_type);
  e.Str(r.profile);
  e.Str(r.rule);
  e.Int(r.latency_ms);
  e.Bool(r.ttft_ms.has_value());
  if (r.ttft_ms) e.Int(*r.ttft_ms);
  e.Str(r.shadow_of);  // version 2
  e.Str(r.agreement);

  const std::string_view payload = std::string_view(out).substr(start + kFrameHeaderBytes);
  std::string header;
  PutLe(header, payload.size(), 4);
  PutLe(header, Crc32(payload), 4);
  out.replace(start, kFrameHeaderBytes, header);
}

bool DecodeRecordFields(Decoder& d, Record& r) {
  uint64_t attempts = 0;
  // Each attempt takes at least one byte: a count beyond the rest is garbage.
  if (!(d.Str(r.request_id) && d.Int(r.started_at_ms) && d.Str(r.tenant) && d.Str(r.key_id) &&
        d.Str(r.task_id) && d.Str(r.dialect) && d.Str(r.endpoint) && d.Str(r.requested_model) &&
        d.Str(r.chosen_model) && d.Str(r.provider) && d.Varint(attempts) &&
        attempts <= d.remaining())) {
    return false;
  }
  for (uint64_t i = 0; i < attempts; ++i) {
    Attempt a;
    if (!DecodeAttempt(d, a)) return false;
    r.attempts.push_back(std::move(a));
  }
  bool has_ttft = false;
  if (!(d.Usage(r.usage) && d.Money(r.cost) && d.Str(r.price_list) && d.Bool(r.stream) &&
        d.Int(r.status) && d.Str(r.error_code) && d.Str(r.error_message) && d.Str(r.route_reason) &&
        d.Str(r.verify) && d.Str(r.task_type) && d.Str(r.profile) && d.Str(r.rule) &&
        d.Int(r.latency_ms) && d.Bool(has_ttft))) {
    return false;
  }
  if (has_ttft) {
    int64_t ttft = 0;
    if (!d.Int(ttft)) return false;
    r.ttft_ms = ttft;
  }
  return true;
}

// nullopt when the payload is not a whole, well-formed record of a known version.
std::optional<Record> DecodeRecord(std::string_view payload) {
  Decoder d(payload);
  uint8_t version = 0;
  Record r;
  if (!d.Byte(version) || (version != kFormatVersion && version != kFormatVersionV1) ||
      !DecodeRecordFields(d, r)) {
    return std::nullopt;
  }
  if (version >= 2 && !(d.Str(r.shadow_of) && d.Str(r.agreement))) return std::nullopt;
  if (d.remaining() != 0) return std::nullopt;
  return r;
}

// ---- File I/O ----

core::Error SpillError(const std::string& path, std::string_view what) {
  return core::MakeError(core::Errc::kInternal, "spill file '" + path + "': " + std::string(what));
}

core::Error SysError(const std::string& path, std::string_view op, int err) {
  return SpillError(path, std::string(op) + ": " + std::generic_category().message(err));
}

// The POSIX calls on the spill file: retried on EINTR, completed across short transfers, errors
// naming the path.
class Io {
 public:
  Io(int fd, const std::string& path) : fd_(fd), path_(path) {}

  const std::string& path() const { return path_; }

  // Reads exactly n bytes; an early end of file is an error.
  core::Status ReadAt(uint64_t offset, size_t n, std::string& out) const {
    out.resize(n);
    for (size_t done = 0; done < n;) {
      const ssize_t got = ::pread(fd_, out.data() + done, n - done, Off(offset + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return SysError(path_, "read", errno);
      if (got == 0) return SpillError(path_, "read: unexpected end of file");
      done += static_cast<size_t>(got);
    }
    return {};
  }
  core::Status WriteAt(uint64_t offset, std::string_view data) const {
    for (size_t done = 0; done < data.size();) {
      const ssize_t put = ::pwrite(fd_, data.data() + done, data.size() - done, Off(offset + done));
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) return SysError(path_, "write", errno);
      done += static_cast<size_t>(put);
    }
    return {};
  }
  core::Status Truncate(uint64_t size) const {
    while (::ftruncate(fd_, Off(size)) != 0) {
      if (errno != EINTR) return SysError(path_, "truncate", errno);
    }
    return {};
  }

 private:
  static off_t Off(uint64_t offset) { return static_cast<off_t>(offset); }

  int fd_;
  const std::string& path_;
};

enum class FrameCheck { kOk, kBad };

// Reads the frame at `offset`, which must end by `end`, into `payload`. kBad when it is torn,
// oversized or fails its checksum; an I/O error is an error.
core::Result<FrameCheck> ReadFrame(const Io& io, uint64_t offset, uint64_t end,
                                   std::string& payload) {
  if (end - offset < kFrameHeaderBytes) return FrameCheck::kBad;
  std::string header;
  if (auto s = io.ReadAt(offset, kFrameHeaderBytes, header); !s) return std::move(s).error();
  const uint64_t length = GetLe(header, 4);
  if (length > SpillFile::kMaxFrameBytes || end - offset - kFrameHeaderBytes < length) {
    return FrameCheck::kBad;
  }
  if (auto s = io.ReadAt(offset + kFrameHeaderBytes, length, payload); !s) {
    return std::move(s).error();
  }
  if (Crc32(payload) != GetLe(std::string_view(header).substr(4), 4)) return FrameCheck::kBad;
  return FrameCheck::kOk;
}

// The head offset of an existing file, or kNoHeader for a file without frames whose header is
// missing or torn (a crash while creating it). Fails when the file is not a spill file.
constexpr uint64_t kNoHeader = 0;
core::Result<uint64_t> ReadHead(const Io& io, uint64_t size) {
  std::string header;
  if (auto s = io.ReadAt(0, std::min(size, SpillFile::kHeaderBytes), header); !s) {
    return std::move(s).error();
  }
  const size_t magic_bytes = std::min(header.size(), kMagic.size());
  if (header.substr(0, magic_bytes) != kMagic.substr(0, magic_bytes)) {
    return SpillError(io.path(), "not a spill file (bad magic); left untouched");
  }
  if (size < SpillFile::kHeaderBytes) return kNoHeader;
  // A head inside the header is corrupt: replaying from the first frame only repeats records
  // the ledger ignores by request id, whereas skipping could lose some.
  return std::max(GetLe(std::string_view(header).substr(8), 8), SpillFile::kHeaderBytes);
}

}  // namespace

uint32_t Crc32(std::string_view data) {
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : data) c = kCrcTable[(c ^ static_cast<unsigned char>(ch)) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

core::Result<std::unique_ptr<SpillFile>> SpillFile::Open(const Options& options) {
  if (options.max_bytes < kHeaderBytes) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           "spill file max_bytes must be at least " + std::to_string(kHeaderBytes));
  }
  int fd = -1;
  do {
    fd = ::open(options.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return SysError(options.path, "open", errno);
  std::unique_ptr<SpillFile> file(new SpillFile(fd, options.path, options.max_bytes));
  // Two processes appending to and consuming one spill would replay and truncate each other's
  // records: the file belongs to one SpillFile at a time (the lock goes with the descriptor).
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    return core::MakeError(core::Errc::kInternal,
                           "spill file '" + options.path +
                               "' is in use by another process (give each gateway its own "
                               "ledger.spill_path)");
  }
  if (auto s = file->Recover(); !s) return std::move(s).error();
  return file;
}

SpillFile::SpillFile(int fd, std::string path, uint64_t max_bytes)
    : fd_(fd), path_(std::move(path)), max_bytes_(max_bytes) {}

SpillFile::~SpillFile() { ::close(fd_); }

core::Status SpillFile::Recover() {
  std::lock_guard lock(mu_);
  const Io io(fd_, path_);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return SysError(path_, "fstat", errno);
  if (!S_ISREG(st.st_mode)) return SpillError(path_, "not a regular file");
  const auto size = static_cast<uint64_t>(st.st_size);
  auto head = ReadHead(io, size);
  if (!head) return std::move(head).error();

  // Count the frames from the head; the first one that does not check out starts the torn tail.
  uint64_t end = *head;
  uint64_t count = 0;
  if (*head != kNoHeader && *head <= size) {
    std::string payload;
    while (end < size) {
      auto check = ReadFrame(io, end, size, payload);
      if (!check) return std::move(check).error();
      if (*check == FrameCheck::kBad || !DecodeRecord(payload)) break;
      end += kFrameHeaderBytes + payload.size();
      ++count;
    }
    dropped_bytes_ = size - end;
  }
  if (count == 0) {
    // Nothing to replay (new, drained, or a head past the end: a crash inside Consume after the
    // truncation): start over from a bare header.
    if (auto s = io.Truncate(kHeaderBytes); !s) return s;
    if (auto s = io.WriteAt(0, Header(kHeaderBytes)); !s) return s;
    end = kHeaderBytes;
    *head = kHeaderBytes;
  } else if (end < size) {
    if (auto s = io.Truncate(end); !s) return s;
  }
  head_ = *head;
  size_ = end;
  records_ = count;
  return {};
}

core::Result<size_t> SpillFile::Append(std::span<const Record> records) {
  // Encoded outside the lock: a header (written too when the file has no frames, see Consume),
  // then the frames back to back, and where each frame ends relative to the first.
  std::string buf = Header(kHeaderBytes);
  std::vector<uint64_t> ends;
  ends.reserve(records.size());
  for (const Record& r : records) {
    AppendFrame(r, buf);
    ends.push_back(buf.size() - kHeaderBytes);
  }

  std::lock_guard lock(mu_);
  size_t n = 0;
  while (n < ends.size() && ends[n] <= max_bytes_ - std::min(max_bytes_, size_)) ++n;
  if (n == 0) return size_t{0};
  const Io io(fd_, path_);
  const std::string_view data(buf.data(), kHeaderBytes + ends[n - 1]);
  auto written =
      size_ == kHeaderBytes ? io.WriteAt(0, data) : io.WriteAt(size_, data.substr(kHeaderBytes));
  if (!written) {
    // Best effort: if even this fails, the garbage past size_ is overwritten by the next
    // Append, or cut away by the next Open's scan.
    static_cast<void>(io.Truncate(size_));
    return std::move(written).error();
  }
  size_ += ends[n - 1];
  records_ += n;
  return n;
}

core::Result<std::vector<Record>> SpillFile::Peek(size_t max_records) {
  // The frames are read under the lock (Append may be writing past them) and decoded outside.
  std::vector<std::string> payloads;
  {
    std::lock_guard lock(mu_);
    peeked_ends_.clear();
    const Io io(fd_, path_);
    std::vector<uint64_t> ends;
    uint64_t offset = head_;
    while (payloads.size() < max_records && offset < size_) {
      std::string payload;
      auto check = ReadFrame(io, offset, size_, payload);
      if (!check) return std::move(check).error();
      if (*check == FrameCheck::kBad) {
        return SpillError(path_, "corrupt frame at offset " + std::to_string(offset));
      }
      offset += kFrameHeaderBytes + payload.size();
      payloads.push_back(std::move(payload));
      ends.push_back(offset);
    }
    peeked_ends_ = std::move(ends);
  }

  std::vector<Record> out;
  out.reserve(payloads.size());
  for (const std::string& payload : payloads) {
    std::optional<Record> r = DecodeRecord(payload);
    if (!r) {
      std::lock_guard lock(mu_);
      peeked_ends_.clear();
      return SpillError(path_, "undecodable record " + std::to_string(out.size()) + " after head");
    }
    out.push_back(std::move(*r));
  }
  return out;
}

core::Status SpillFile::Consume(size_t n) {
  std::lock_guard lock(mu_);
  if (n > peeked_ends_.size()) {
    return SpillError(path_, "Consume(" + std::to_string(n) + ") after a Peek of " +
                                 std::to_string(peeked_ends_.size()));
  }
  if (n == 0) return {};
  const Io io(fd_, path_);
  if (n == records_) {
    if (auto s = io.Truncate(kHeaderBytes); !s) return s;
    // Best effort: a head left past the end reads as "nothing left" (Recover), and the next
    // Append rewrites the header with its first frames.
    static_cast<void>(io.WriteAt(0, Header(kHeaderBytes)));
    head_ = kHeaderBytes;
    size_ = kHeaderBytes;
  } else {
    const uint64_t head = peeked_ends_[n - 1];
    if (auto s = io.WriteAt(0, Header(head)); !s) return s;
    head_ = head;
  }
  records_ -= n;
  peeked_ends_.clear();
  return {};
}

uint64_t SpillFile::records() const {
  std::lock_guard lock(mu_);
  return records_;
}

uint64_t SpillFile::bytes() const {
  std::lock_guard lock(mu_);
  return size_;
}

bool SpillFile::empty() const { return records() == 0; }

uint64_t SpillFile::dropped_bytes() const { return dropped_bytes_; }

}  // namespace sy::ledger
