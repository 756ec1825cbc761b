#include "limits/keys.h"

#include <set>

#include <gtest/gtest.h>

namespace sy::limits {
namespace {

std::string Hex(const KeyHash& h) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : h) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

TEST(KeysTest, NewKeysAreWellFormedAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string key = NewKey();
    EXPECT_EQ(key.size(), kKeyChars);
    EXPECT_TRUE(WellFormedKey(key)) << key;
    EXPECT_TRUE(seen.insert(key).second);
  }
}

TEST(KeysTest, WellFormedKeyRejectsNearMisses) {
  const std::string good = "sk-sy-" + std::string(40, 'A');
  EXPECT_TRUE(WellFormedKey(good));
  EXPECT_FALSE(WellFormedKey(""));
  EXPECT_FALSE(WellFormedKey(good.substr(0, 45)));
  EXPECT_FALSE(WellFormedKey(good + "A"));
  EXPECT_FALSE(WellFormedKey("sk-xx-" + std::string(40, 'A')));
  EXPECT_FALSE(WellFormedKey("sk-sy-" + std::string(39, 'A') + "-"));
  EXPECT_FALSE(WellFormedKey("sk-sy-" + std::string(39, 'A') + "\xc3"));
}

TEST(KeysTest, NewIdHasPrefixAndLength) {
  const std::string id = NewId("key_", 16);
  EXPECT_EQ(id.size(), 20u);
  EXPECT_EQ(id.substr(0, 4), "key_");
}

// RFC 4231 test case 2: HMAC-SHA256 with key "Jefe".
TEST(KeysTest, HashKeyIsHmacSha256UnderThePepper) {
  EXPECT_EQ(Hex(HashKey("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_NE(HashKey("pepper-a", "sk-sy-x"), HashKey("pepper-b", "sk-sy-x"));
}

TEST(KeysTest, KeyHasherEqualsHmacForShortExactAndLongPeppers) {
  for (const std::string& pepper :
       {std::string("Jefe"), std::string(64, 'p'), std::string(131, 'q'), std::string()}) {
    const KeyHasher hasher(pepper);
    for (const std::string& key : {std::string("what do ya want for nothing?"), NewKey(),
                                   std::string(200, 'k'), std::string()}) {
      EXPECT_EQ(hasher.Hash(key), HashKey(pepper, key)) << pepper.size() << "/" << key.size();
    }
  }
}

TEST(KeysTest, HashBytesRoundTrips) {
  const KeyHash h = HashKey("p", "k");
  EXPECT_EQ(HashFromBytes(HashBytes(h)), h);
  EXPECT_EQ(HashFromBytes("short"), KeyHash{});
}

TEST(KeysTest, SameSecretComparesWholeValues) {
  EXPECT_TRUE(SameSecret("p", "admin-token", "admin-token"));
  EXPECT_FALSE(SameSecret("p", "admin-toke", "admin-token"));
  EXPECT_FALSE(SameSecret("p", "admin-tokenX", "admin-token"));
  EXPECT_FALSE(SameSecret("p", "", ""));  // an unset token never matches
}

}  // namespace
}  // namespace sy::limits
