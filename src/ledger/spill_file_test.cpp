#include "ledger/spill_file.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>  // sigaction (POSIX)
#include <sys/resource.h>

#include "ledger/detail/test_util.h"

namespace sy::ledger {
namespace {

using test::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kHeader = SpillFile::kHeaderBytes;

// ---- Helpers ----

std::unique_ptr<SpillFile> MustOpen(const std::string& path, uint64_t max_bytes = 1 << 20) {
  auto file = SpillFile::Open({.path = path, .max_bytes = max_bytes});
  EXPECT_TRUE(file.has_value()) << (file ? "" : file.error().message);
  return file ? std::move(*file) : nullptr;
}

Record WithId(std::string id) {
  Record r;
  r.request_id = std::move(id);
  return r;
}

std::vector<Record> Ids(int from, int to) {
  std::vector<Record> out;
  for (int i = from; i < to; ++i) out.push_back(WithId("r-" + std::to_string(i)));
  return out;
}

size_t MustAppend(SpillFile& file, const std::vector<Record>& records) {
  auto n = file.Append(records);
  EXPECT_TRUE(n.has_value()) << (n ? "" : n.error().message);
  return n ? *n : 0;
}

std::vector<std::string> PeekIds(SpillFile& file, size_t max) {
  auto records = file.Peek(max);
  EXPECT_TRUE(records.has_value()) << (records ? "" : records.error().message);
  std::vector<std::string> ids;
  if (records) {
    for (const Record& r : *records) ids.push_back(r.request_id);
  }
  return ids;
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A new file each time: rewriting one truncated to zero makes ext4 flush it on close (slow).
void WriteBytes(const std::string& path, const std::string& bytes) {
  std::filesystem::remove(path);
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string Le(uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}

std::string Frame(const std::string& payload) {
  return Le(payload.size(), 4) + Le(Crc32(payload), 4) + payload;
}

Record FullRecord() {
  Record r;
  r.request_id = "req-01J\xC3\xA9";
  r.started_at_ms = 1'764'633'600'123;
  r.tenant = "acme";
  r.key_id = "key-7";
  r.task_id = "task-9";
  r.dialect = "anthropic";
  r.endpoint = "/v1/messages";
  r.requested_model = "economy";
  r.chosen_model = "claude-haiku";
  r.provider = "anthropic";
  for (int i = 0; i < 2; ++i) {
    Attempt a;
    a.model = "model-" + std::to_string(i);
    a.provider = "provider-" + std::to_string(i);
    a.deployment = "deploy-" + std::to_string(i);
    a.outcome = i == 0 ? "failed" : "ok";
    a.verdict = i == 0 ? "" : "rejected: json: bad";
    a.http_status = i == 0 ? 503 : 200;
    a.error_code = i == 0 ? "upstream_unavailable" : "";
    a.error_message = std::string("over\0loaded", 10);  // raw bytes, NUL included
    a.latency_ms = 40 + i;
    a.usage = {.input_tokens = 11 + i,
               .cached_input_tokens = 3,
               .cache_write_input_tokens = 2,
               .output_tokens = 7,
               .reasoning_tokens = 1,
               .reported = true,
               .estimated = i == 1};
    a.cost = core::Money::FromPico(i == 0 ? -5 : INT64_MAX);
    r.attempts.push_back(a);
  }
  r.usage = {.input_tokens = INT64_MAX,
             .cached_input_tokens = 5,
             .cache_write_input_tokens = 4,
             .output_tokens = 1'000'000,
             .reasoning_tokens = 9,
             .reported = true,
             .estimated = true};
  r.cost = core::Money::FromPico(INT64_MIN);
  r.price_list = "off-peak";
  r.stream = true;
  r.status = 429;
  r.error_code = "rate_limited";
  r.error_message = std::string(kMaxFieldBytes, 'x');
  r.route_reason = "alias economy";
  r.verify = "json";
  r.task_type = "extraction";
  r.profile = "auto";
  r.rule = "cheap-extraction";
  r.latency_ms = -1;
  r.ttft_ms = 0;
  r.shadow_of = "req-live-1";
  r.agreement = "json";
  return r;
}

void ExpectSameUsage(const core::Usage& want, const core::Usage& got) {
  EXPECT_EQ(want.input_tokens, got.input_tokens);
  EXPECT_EQ(want.cached_input_tokens, got.cached_input_tokens);
  EXPECT_EQ(want.cache_write_input_tokens, got.cache_write_input_tokens);
  EXPECT_EQ(want.output_tokens, got.output_tokens);
  EXPECT_EQ(want.reasoning_tokens, got.reasoning_tokens);
  EXPECT_EQ(want.reported, got.reported);
  EXPECT_EQ(want.estimated, got.estimated);
}

void ExpectSameRecord(const Record& want, const Record& got) {
  EXPECT_EQ(want.request_id, got.request_id);
  EXPECT_EQ(want.started_at_ms, got.started_at_ms);
  EXPECT_EQ(want.tenant, got.tenant);
  EXPECT_EQ(want.key_id, got.key_id);
  EXPECT_EQ(want.task_id, got.task_id);
  EXPECT_EQ(want.dialect, got.dialect);
  EXPECT_EQ(want.endpoint, got.endpoint);
  EXPECT_EQ(want.requested_model, got.requested_model);
  EXPECT_EQ(want.chosen_model, got.chosen_model);
  EXPECT_EQ(want.provider, got.provider);
  ASSERT_EQ(want.attempts.size(), got.attempts.size());
  for (size_t i = 0; i < want.attempts.size(); ++i) {
    SCOPED_TRACE("attempt " + std::to_string(i));
    const Attempt& w = want.attempts[i];
    const Attempt& g = got.attempts[i];
    EXPECT_EQ(w.model, g.model);
    EXPECT_EQ(w.provider, g.provider);
    EXPECT_EQ(w.deployment, g.deployment);
    EXPECT_EQ(w.outcome, g.outcome);
    EXPECT_EQ(w.verdict, g.verdict);
    EXPECT_EQ(w.http_status, g.http_status);
    EXPECT_EQ(w.error_code, g.error_code);
    EXPECT_EQ(w.error_message, g.error_message);
    EXPECT_EQ(w.latency_ms, g.latency_ms);
    ExpectSameUsage(w.usage, g.usage);
    EXPECT_EQ(w.cost.pico(), g.cost.pico());
  }
  ExpectSameUsage(want.usage, got.usage);
  EXPECT_EQ(want.cost.pico(), got.cost.pico());
  EXPECT_EQ(want.price_list, got.price_list);
  EXPECT_EQ(want.stream, got.stream);
  EXPECT_EQ(want.status, got.status);
  EXPECT_EQ(want.error_code, got.error_code);
  EXPECT_EQ(want.error_message, got.error_message);
  EXPECT_EQ(want.route_reason, got.route_reason);
  EXPECT_EQ(want.verify, got.verify);
  EXPECT_EQ(want.task_type, got.task_type);
  EXPECT_EQ(want.profile, got.profile);
  EXPECT_EQ(want.rule, got.rule);
  EXPECT_EQ(want.latency_ms, got.latency_ms);
  EXPECT_EQ(want.ttft_ms, got.ttft_ms);
  EXPECT_EQ(want.shadow_of, got.shadow_of);
  EXPECT_EQ(want.agreement, got.agreement);
}

class SpillFileTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string path_ = dir_.File("spill");
};

// ---- Tests ----

TEST_F(SpillFileTest, Crc32IsTheStandardOne) {
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);  // the CRC-32/ISO-HDLC check value
}

// A tripwire: a field added to Record or Attempt must be added to the spill encoding (and to
// ExpectSameRecord) before this size is updated.
TEST_F(SpillFileTest, RecordLayoutIsTheEncodedOne) {
  EXPECT_EQ(sizeof(Attempt), 296u);
  EXPECT_EQ(sizeof(Record), 728u);
}

TEST_F(SpillFileTest, RoundTripsEveryField) {
  struct Case {
    const char* name;
    Record record;
  };
  const Case cases[] = {{"full", FullRecord()}, {"default", Record{}}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::filesystem::remove(path_);
    {
      auto file = MustOpen(path_);
      ASSERT_EQ(MustAppend(*file, {c.record}), 1u);
      auto got = file->Peek(10);
      ASSERT_TRUE(got.has_value()) << got.error().message;
      ASSERT_EQ(got->size(), 1u);
      ExpectSameRecord(c.record, (*got)[0]);
    }
    auto reopened = MustOpen(path_);  // decoded from the file by a new process
    EXPECT_EQ(reopened->records(), 1u);
    auto got = reopened->Peek(10);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    ASSERT_EQ(got->size(), 1u);
    ExpectSameRecord(c.record, (*got)[0]);
  }
}

// A spill file written by a binary before shadow traffic (format version 1: no shadow_of and
// agreement at the end) is still replayed, those fields empty. The version-1 payload is the
// version-2 one of a record whose two new strings are empty (each a 0 length byte) without them.
TEST_F(SpillFileTest, DecodesVersionOnePayloads) {
  Record live = FullRecord();
  live.shadow_of.clear();
  live.agreement.clear();
  {
    auto file = MustOpen(path_);
    ASSERT_EQ(MustAppend(*file, {live}), 1u);
  }
  const std::string bytes = ReadBytes(path_);
  std::string payload = bytes.substr(kHeader + 8);
  ASSERT_EQ(payload[0], '\x02');
  ASSERT_EQ(payload.substr(payload.size() - 2), std::string(2, '\0'));
  payload[0] = '\x01';
  payload.resize(payload.size() - 2);
  WriteBytes(path_, bytes.substr(0, kHeader) + Frame(payload) + Frame(payload));

  auto file = MustOpen(path_);
  EXPECT_EQ(file->records(), 2u);
  EXPECT_EQ(file->dropped_bytes(), 0u);
  auto got = file->Peek(10);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  ASSERT_EQ(got->size(), 2u);
  ExpectSameRecord(live, (*got)[0]);
  ExpectSameRecord(live, (*got)[1]);
}

// Version 2 carries the shadow fields; a version-1 byte before a version-2 body is garbage
// (trailing bytes), not a record, and an unknown version is refused.
TEST_F(SpillFileTest, VersionTwoCarriesShadowFieldsAndOtherVersionsAreRefused) {
  Record shadow = WithId("req-shadow-1");
  shadow.shadow_of = "req-live-1";
  shadow.agreement = "differs";
  {
    auto file = MustOpen(path_);
    ASSERT_EQ(MustAppend(*file, {shadow}), 1u);
  }
  const std::string bytes = ReadBytes(path_);
  const std::string payload = bytes.substr(kHeader + 8);
  {
    auto file = MustOpen(path_);
    auto got = file->Peek(10);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    ASSERT_EQ(got->size(), 1u);
    ExpectSameRecord(shadow, (*got)[0]);
  }
  for (const char version : {'\x01', '\x03', '\x00'}) {
    SCOPED_TRACE(static_cast<int>(version));
    std::string bad = payload;
    bad[0] = version;
    WriteBytes(path_, bytes.substr(0, kHeader) + Frame(bad));
    auto file = MustOpen(path_);
    EXPECT_EQ(file->records(), 0u);
    EXPECT_EQ(file->dropped_bytes(), 8 + bad.size());
  }
}

TEST_F(SpillFileTest, KeepsOrderAcrossAppendPeekConsume) {
  auto file = MustOpen(path_);
  EXPECT_TRUE(file->empty());
  EXPECT_EQ(file->bytes(), kHeader);
  EXPECT_EQ(MustAppend(*file, Ids(0, 5)), 5u);
  EXPECT_EQ(MustAppend(*file, Ids(5, 10)), 5u);
  EXPECT_EQ(file->records(), 10u);

  EXPECT_THAT(PeekIds(*file, 3), ElementsAre("r-0", "r-1", "r-2"));
  EXPECT_THAT(PeekIds(*file, 3), ElementsAre("r-0", "r-1", "r-2"));  // Peek does not consume
  ASSERT_TRUE(file->Consume(2).has_value());
  EXPECT_EQ(file->records(), 8u);
  EXPECT_EQ(MustAppend(*file, Ids(10, 12)), 2u);

  const auto rest = PeekIds(*file, 100);
  ASSERT_EQ(rest.size(), 10u);
  for (size_t i = 0; i < rest.size(); ++i) EXPECT_EQ(rest[i], "r-" + std::to_string(i + 2));
  ASSERT_TRUE(file->Consume(10).has_value());
  EXPECT_TRUE(file->empty());
  EXPECT_TRUE(PeekIds(*file, 100).empty());
}

TEST_F(SpillFileTest, ConsumeMustFollowAPeek) {
  auto file = MustOpen(path_);
  MustAppend(*file, Ids(0, 4));
  ASSERT_EQ(PeekIds(*file, 2).size(), 2u);
  auto too_many = file->Consume(3);
  ASSERT_FALSE(too_many.has_value());
  EXPECT_EQ(too_many.error().code, core::Errc::kInternal);
  EXPECT_EQ(file->records(), 4u);
  ASSERT_TRUE(file->Consume(2).has_value());
  EXPECT_FALSE(file->Consume(1).has_value());  // no Peek since the last Consume
  EXPECT_THAT(PeekIds(*file, 10), ElementsAre("r-2", "r-3"));
}

TEST_F(SpillFileTest, ConsumePersistsAcrossReopen) {
  {
    auto file = MustOpen(path_);
    MustAppend(*file, Ids(0, 5));
    ASSERT_EQ(PeekIds(*file, 5).size(), 5u);
    ASSERT_TRUE(file->Consume(2).has_value());
  }
  auto file = MustOpen(path_);
  EXPECT_EQ(file->records(), 3u);
  EXPECT_EQ(file->dropped_bytes(), 0u);
  EXPECT_THAT(PeekIds(*file, 10), ElementsAre("r-2", "r-3", "r-4"));
}

TEST_F(SpillFileTest, ShrinksToItsHeaderWhenFullyConsumed) {
  auto file = MustOpen(path_);
  MustAppend(*file, Ids(0, 50));
  EXPECT_GT(std::filesystem::file_size(path_), kHeader);
  ASSERT_EQ(PeekIds(*file, 30).size(), 30u);
  ASSERT_TRUE(file->Consume(30).has_value());
  EXPECT_GT(std::filesystem::file_size(path_), kHeader);  // space comes back only when empty
  ASSERT_EQ(PeekIds(*file, 30).size(), 20u);
  ASSERT_TRUE(file->Consume(20).has_value());
  EXPECT_EQ(file->bytes(), kHeader);
  EXPECT_EQ(std::filesystem::file_size(path_), kHeader);

  MustAppend(*file, Ids(50, 51));  // usable again, and the header still says where to start
  file.reset();
  file = MustOpen(path_);
  EXPECT_THAT(PeekIds(*file, 10), ElementsAre("r-50"));
}

// A crash inside Consume after the truncation leaves the old head past the end: nothing is left.
TEST_F(SpillFileTest, HeadPastTheEndReadsAsEmpty) {
  WriteBytes(path_, "SYSPILL1" + Le(4096, 8));
  auto file = MustOpen(path_);
  EXPECT_TRUE(file->empty());
  EXPECT_EQ(file->bytes(), kHeader);
  EXPECT_EQ(MustAppend(*file, Ids(0, 1)), 1u);
  file.reset();
  EXPECT_THAT(PeekIds(*MustOpen(path_), 10), ElementsAre("r-0"));
}

TEST_F(SpillFileTest, AppendStopsAtMaxBytes) {
  uint64_t frame = 0;  // every Ids() record from 0 to 9 encodes to the same size
  {
    auto probe = MustOpen(dir_.File("probe"));
    MustAppend(*probe, Ids(0, 1));
    frame = probe->bytes() - kHeader;
  }
  const uint64_t max = kHeader + 3 * frame + frame / 2;
  auto file = MustOpen(path_, max);
  EXPECT_EQ(MustAppend(*file, Ids(0, 5)), 3u);
  EXPECT_LE(file->bytes(), max);
  EXPECT_LE(std::filesystem::file_size(path_), max);
  EXPECT_EQ(MustAppend(*file, Ids(5, 6)), 0u);
  EXPECT_EQ(file->records(), 3u);

  ASSERT_EQ(PeekIds(*file, 1).size(), 1u);
  ASSERT_TRUE(file->Consume(1).has_value());
  EXPECT_EQ(MustAppend(*file, Ids(5, 6)), 0u);  // a partial Consume reclaims nothing
  ASSERT_EQ(PeekIds(*file, 10).size(), 2u);
  ASSERT_TRUE(file->Consume(2).has_value());
  EXPECT_EQ(MustAppend(*file, Ids(5, 9)), 3u);
  EXPECT_THAT(PeekIds(*file, 10), ElementsAre("r-5", "r-6", "r-7"));
  EXPECT_LE(std::filesystem::file_size(path_), max);

  auto tiny = SpillFile::Open({.path = dir_.File("tiny"), .max_bytes = kHeader - 1});
  ASSERT_FALSE(tiny.has_value());
  EXPECT_EQ(tiny.error().code, core::Errc::kInvalidRequest);
}

TEST_F(SpillFileTest, OpenTruncatesATornOrCorruptTail) {
  struct Case {
    const char* name;
    void (*damage)(std::string& bytes, uint64_t last_frame);
    uint64_t want_records;
  };
  const Case cases[] = {
      {"three bytes chopped off", [](std::string& b, uint64_t) { b.resize(b.size() - 3); }, 2},
      {"cut inside the frame header",
       [](std::string& b, uint64_t last) { b.resize(b.size() - last + 5); }, 2},
      {"flipped byte mid last frame",
       [](std::string& b, uint64_t last) { b[b.size() - last / 2] ^= 0x40; }, 2},
      {"oversized length",
       [](std::string& b, uint64_t last) {
         b.replace(b.size() - last, 4, Le(SpillFile::kMaxFrameBytes + 1, 4));
       },
       2},
      {"garbage after the last frame", [](std::string& b, uint64_t) { b += "junk!"; }, 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::filesystem::remove(path_);
    uint64_t last_frame = 0;
    {
      auto file = MustOpen(path_);
      MustAppend(*file, Ids(0, 2));
      const uint64_t before = file->bytes();
      MustAppend(*file, Ids(2, 3));
      last_frame = file->bytes() - before;
    }
    std::string bytes = ReadBytes(path_);
    const uint64_t good_size = c.want_records == 3 ? bytes.size() : bytes.size() - last_frame;
    c.damage(bytes, last_frame);
    WriteBytes(path_, bytes);

    auto file = MustOpen(path_);
    EXPECT_EQ(file->records(), c.want_records);
    EXPECT_EQ(file->dropped_bytes(), bytes.size() - good_size);
    EXPECT_GT(file->dropped_bytes(), 0u);
    EXPECT_EQ(std::filesystem::file_size(path_), good_size);
    EXPECT_EQ(PeekIds(*file, 10).size(), c.want_records);
    MustAppend(*file, Ids(3, 4));  // appends after the cut are whole again
    file.reset();
    file = MustOpen(path_);
    EXPECT_EQ(file->records(), c.want_records + 1);
    EXPECT_EQ(file->dropped_bytes(), 0u);
  }
}

// A payload with a valid checksum can still be garbage: the decoder must refuse it, not crash.
TEST_F(SpillFileTest, UndecodablePayloadWithAValidChecksumIsDropped) {
  {
    auto file = MustOpen(path_);
    MustAppend(*file, {FullRecord()});
  }
  const std::string payload = ReadBytes(path_).substr(kHeader + 8);
  const std::string header = "SYSPILL1" + Le(kHeader, 8);
  const std::string bad = dir_.File("bad");

  std::vector<std::string> corrupt;
  for (size_t cut = 0; cut < payload.size(); ++cut) corrupt.push_back(payload.substr(0, cut));
  corrupt.push_back(payload + "x");                                   // trailing bytes
  corrupt.push_back(std::string(1, '\x03') + payload.substr(1));      // unknown version
  corrupt.push_back("\x01\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F");  // varint over 64 bits
  for (const std::string& p : corrupt) {
    WriteBytes(bad, header + Frame(p));
    auto file = MustOpen(bad);
    ASSERT_EQ(file->records(), 0u) << "payload of " << p.size() << " bytes";
    EXPECT_EQ(file->dropped_bytes(), 8 + p.size());
  }

  std::mt19937 rng(7);  // mutations: decoded or refused, never a crash
  for (int i = 0; i < 300; ++i) {
    std::string p = payload;
    for (int k = 0; k < 3; ++k) p[rng() % p.size()] = static_cast<char>(rng());
    WriteBytes(bad, header + Frame(p));
    auto file = MustOpen(bad);
    ASSERT_LE(file->records(), 1u);
    if (file->records() == 1) {
      EXPECT_EQ(PeekIds(*file, 1).size(), 1u);
    }
  }
}

TEST_F(SpillFileTest, RefusesAFileThatIsNotOursAndLeavesItUntouched) {
  const std::string not_ours[] = {
      "hello, this is not a spill file\n",
      "abc",
      std::string("SQLite format 3\0", 16) + std::string(84, '\0'),
      "SYSPILL2" + Le(kHeader, 8) + "frames of a future format",
  };
  for (const std::string& bytes : not_ours) {
    SCOPED_TRACE(bytes.substr(0, 8));
    WriteBytes(path_, bytes);
    auto file = SpillFile::Open({.path = path_});
    ASSERT_FALSE(file.has_value());
    EXPECT_EQ(file.error().code, core::Errc::kInternal);
    EXPECT_THAT(file.error().message, HasSubstr(path_));
    EXPECT_EQ(ReadBytes(path_), bytes);
  }

  auto missing_dir = SpillFile::Open({.path = dir_.File("no/such/dir/spill")});
  ASSERT_FALSE(missing_dir.has_value());
  EXPECT_THAT(missing_dir.error().message, HasSubstr("no/such/dir/spill"));
}

// Two gateways given one spill_path would replay and truncate each other's records.
TEST_F(SpillFileTest, OneFileBelongsToOneOpenerAtATime) {
  auto first = SpillFile::Open({.path = path_});
  ASSERT_TRUE(first.has_value());
  auto second = SpillFile::Open({.path = path_});
  ASSERT_FALSE(second.has_value());
  EXPECT_THAT(second.error().message, HasSubstr("in use by another process"));
  first->reset();
  EXPECT_TRUE(SpillFile::Open({.path = path_}).has_value());  // released with the file
}

// A crash while creating the file leaves a prefix of the header: that file is ours and empty.
TEST_F(SpillFileTest, AcceptsATornHeader) {
  for (const std::string& bytes : {std::string(), std::string("SYSP"), "SYSPILL1" + Le(16, 2)}) {
    SCOPED_TRACE(bytes.size());
    WriteBytes(path_, bytes);
    auto file = MustOpen(path_);
    EXPECT_TRUE(file->empty());
    EXPECT_EQ(std::filesystem::file_size(path_), kHeader);
  }
}

TEST_F(SpillFileTest, NewFileIsOwnerOnly) {
  MustOpen(path_);
  const auto perms = std::filesystem::status(path_).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

// A failed write (here: the file size limit, as a full disk would) appends nothing.
TEST_F(SpillFileTest, WriteErrorLeavesTheFileAsItWas) {
  auto file = MustOpen(path_);
  MustAppend(*file, Ids(0, 2));
  const uint64_t before = file->bytes();

  struct sigaction ignore {};
  struct sigaction old_action {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGXFSZ, &ignore, &old_action), 0);  // EFBIG instead of a signal
  rlimit old_limit{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit limit = old_limit;
  limit.rlim_cur = before + 20;  // the write of the batch is cut short, then fails
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  auto appended = file->Append(Ids(2, 6));
  setrlimit(RLIMIT_FSIZE, &old_limit);
  sigaction(SIGXFSZ, &old_action, nullptr);

  ASSERT_FALSE(appended.has_value());
  EXPECT_EQ(appended.error().code, core::Errc::kInternal);
  EXPECT_THAT(appended.error().message, HasSubstr(path_));
  EXPECT_EQ(file->bytes(), before);
  EXPECT_EQ(std::filesystem::file_size(path_), before);
  EXPECT_EQ(MustAppend(*file, Ids(2, 3)), 1u);
  EXPECT_THAT(PeekIds(*file, 10), ElementsAre("r-0", "r-1", "r-2"));
}

TEST_F(SpillFileTest, ConcurrentAppendersAndOneReader) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  auto file = MustOpen(path_, uint64_t{1} << 30);
  std::atomic<int> finished{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&file, &finished, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto n =
            file->Append(std::vector<Record>{WithId(std::to_string(t) + ":" + std::to_string(i))});
        EXPECT_TRUE(n.has_value() && *n == 1);
      }
      finished.fetch_add(1);
    });
  }

  // Each writer's records must come out once each, in its order: the next one expected is next[t].
  // A lambda, so that a failed ASSERT still joins the writers below.
  std::vector<int> next(kThreads, 0);
  auto drain = [&] {
    for (;;) {
      const bool done = finished.load() == kThreads;  // read before the Peek that finds nothing
      auto batch = file->Peek(64);
      ASSERT_TRUE(batch.has_value()) << batch.error().message;
      if (batch->empty()) {
        if (done) return;
        std::this_thread::yield();
        continue;
      }
      for (const Record& r : *batch) {
        const size_t colon = r.request_id.find(':');
        const auto t = static_cast<size_t>(std::stoi(r.request_id.substr(0, colon)));
        ASSERT_EQ(std::stoi(r.request_id.substr(colon + 1)), next[t]) << r.request_id;
        ++next[t];
      }
      ASSERT_TRUE(file->Consume(batch->size()).has_value());
    }
  };
  drain();
  for (std::thread& w : writers) w.join();
  EXPECT_THAT(next, ElementsAre(kPerThread, kPerThread, kPerThread, kPerThread));
  EXPECT_EQ(file->bytes(), kHeader);
}

}  // namespace
}  // namespace sy::ledger
