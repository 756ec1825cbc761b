#include "cache/detail/entry_codec.h"

#include <string>

#include <gtest/gtest.h>

namespace sy::cache::detail {
namespace {

using namespace std::string_literals;

Entry Sample() {
  Entry e;
  e.stream = true;
  e.body = "data: {\"a\":1}\n\n\0binary\xff\0"s;
  e.model = "gpt-4o-mini";
  e.provider = "openai";
  e.stored_at_ms = 1'700'000'000'123;
  return e;
}

void ExpectSame(const Entry& a, const Entry& b) {
  EXPECT_EQ(a.stream, b.stream);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.provider, b.provider);
  EXPECT_EQ(a.stored_at_ms, b.stored_at_ms);
}

TEST(EntryCodecTest, RoundTrip) {
  const Entry e = Sample();
  const auto decoded = DecodeEntry(EncodeEntry(e));
  ASSERT_TRUE(decoded.has_value());
  ExpectSame(*decoded, e);
}

TEST(EntryCodecTest, RoundTripEmptyAndExtremes) {
  Entry e;
  e.stored_at_ms = -1;
  auto decoded = DecodeEntry(EncodeEntry(e));
  ASSERT_TRUE(decoded.has_value());
  ExpectSame(*decoded, e);
  e.stored_at_ms = INT64_MAX;
  decoded = DecodeEntry(EncodeEntry(e));
  ASSERT_TRUE(decoded.has_value());
  ExpectSame(*decoded, e);
}

// The bytes are pinned: entries written by one gateway version are read by the next.
TEST(EntryCodecTest, PinnedFormat) {
  Entry e;
  e.stream = false;
  e.body = "{}";
  e.model = "m";
  e.provider = "p";
  e.stored_at_ms = 0x0102030405060708;
  EXPECT_EQ(EncodeEntry(e),
            "\x01"                                           // format
            "\x01\0\0\0\0"s                                  // stream: false
            "\x02\0\0\0{}"s                                  // body
            "\x01\0\0\0m"s                                   // model
            "\x01\0\0\0p"s                                   // provider
            "\x08\0\0\0\x08\x07\x06\x05\x04\x03\x02\x01"s);  // stored_at_ms
}

TEST(EntryCodecTest, EveryTruncationIsRefused) {
  const std::string value = EncodeEntry(Sample());
  for (size_t n = 0; n < value.size(); ++n) {
    EXPECT_FALSE(DecodeEntry(std::string_view(value).substr(0, n)).has_value()) << n;
  }
}

TEST(EntryCodecTest, MalformedValuesAreRefused) {
  const std::string good = EncodeEntry(Sample());
  EXPECT_FALSE(DecodeEntry(good + "x").has_value()) << "trailing byte";
  std::string version = good;
  version[0] = '\x02';
  EXPECT_FALSE(DecodeEntry(version).has_value()) << "another version";
  std::string stream = good;
  stream[5] = '\x02';
  EXPECT_FALSE(DecodeEntry(stream).has_value()) << "stream flag not 0 or 1";
  std::string huge = good;
  huge[6 + 3] = '\x7f';  // the body's length, far beyond the value
  EXPECT_FALSE(DecodeEntry(huge).has_value()) << "length beyond the value";
  std::string all_ones = good;
  all_ones.replace(6, 4, "\xff\xff\xff\xff");
  EXPECT_FALSE(DecodeEntry(all_ones).has_value()) << "length 2^32 - 1";
  EXPECT_FALSE(DecodeEntry("").has_value());
  EXPECT_FALSE(DecodeEntry("{\"body\":\"json, not ours\"}").has_value());
  EXPECT_FALSE(DecodeEntry("\x01garbage").has_value());
}

TEST(EntryCodecTest, StoredAtMustBeEightBytes) {
  Entry e;
  std::string value = EncodeEntry(e);
  // Drop one byte of stored_at_ms and shorten its length to match: well-formed, wrong shape.
  value.pop_back();
  value[value.size() - 11] = '\x07';
  EXPECT_FALSE(DecodeEntry(value).has_value());
}

}  // namespace
}  // namespace sy::cache::detail
