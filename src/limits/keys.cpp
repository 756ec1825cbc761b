#include "limits/keys.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace sy::limits {
namespace {

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool IsBase62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// Appends `n` uniformly distributed base62 characters. Bytes of 248 and above are dropped
// (248 = 4 * 62), so every character is equally likely.
void AppendBase62(std::string& out, size_t n) {
  unsigned char buffer[64];
  while (n > 0) {
    if (RAND_bytes(buffer, sizeof buffer) != 1) {
      std::fprintf(stderr, "switchyard: fatal: the CSPRNG failed while making a key\n");
      std::abort();
    }
    for (unsigned char b : buffer) {
      if (n == 0) break;
      if (b >= 248) continue;
      out.push_back(kBase62[b % 62]);
      --n;
    }
  }
}

}  // namespace

bool WellFormedKey(std::string_view key) {
  return key.size() == kKeyChars && key.starts_with(kKeyPrefix) &&
         std::all_of(key.begin() + kKeyPrefix.size(), key.end(), IsBase62);
}

std::string NewKey() {
  std::string key(kKeyPrefix);
  AppendBase62(key, kKeySecretChars);
  return key;
}

std::string NewId(std::string_view prefix, size_t chars) {
  std::string id(prefix);
  AppendBase62(id, chars);
  return id;
}

KeyHash HashKey(std::string_view pepper, std::string_view key) {
  KeyHash out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), pepper.data(), static_cast<int>(pepper.size()),
       reinterpret_cast<const unsigned char*>(key.data()), key.size(), out.data(), &length);
  return out;
}

namespace {

constexpr size_t kBlockBytes = 64;  // SHA-256's block: HMAC's pad length

using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

MdCtx NewCtx() { return MdCtx(EVP_MD_CTX_new(), &EVP_MD_CTX_free); }

// A digest context that has absorbed the pepper XOR `pad` (RFC 2104).
MdCtx Padded(std::string_view pepper, unsigned char pad) {
  unsigned char block[kBlockBytes] = {};
  if (pepper.size() > kBlockBytes) {
    unsigned int length = 0;  // a longer key is hashed first
    EVP_Digest(pepper.data(), pepper.size(), block, &length, EVP_sha256(), nullptr);
  } else {
    std::memcpy(block, pepper.data(), pepper.size());
  }
  for (auto& b : block) b = static_cast<unsigned char>(b ^ pad);
  MdCtx ctx = NewCtx();
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx.get(), block, sizeof block);
  return ctx;
}

}  // namespace

struct KeyHasher::Pads {
  MdCtx inner = NewCtx();
  MdCtx outer = NewCtx();
};

KeyHasher::KeyHasher(std::string_view pepper) : pads_(std::make_unique<Pads>()) {
  pads_->inner = Padded(pepper, 0x36);
  pads_->outer = Padded(pepper, 0x5c);
}

KeyHasher::~KeyHasher() = default;

KeyHash KeyHasher::Hash(std::string_view key) const {
  // One scratch context per thread, reused: copying a prepared context into it allocates nothing
  // once it holds SHA-256 state.
  thread_local MdCtx scratch = NewCtx();
  KeyHash inner{};
  KeyHash out{};
  unsigned int length = 0;
  EVP_MD_CTX_copy_ex(scratch.get(), pads_->inner.get());
  EVP_DigestUpdate(scratch.get(), key.data(), key.size());
  EVP_DigestFinal_ex(scratch.get(), inner.data(), &length);
  EVP_MD_CTX_copy_ex(scratch.get(), pads_->outer.get());
  EVP_DigestUpdate(scratch.get(), inner.data(), inner.size());
  EVP_DigestFinal_ex(scratch.get(), out.data(), &length);
  return out;
}

size_t KeyHashHash::operator()(const KeyHash& h) const noexcept {
  size_t out = 0;
  std::memcpy(&out, h.data(), sizeof out);
  return out;
}

std::string HashBytes(const KeyHash& hash) {
  return std::string(reinterpret_cast<const char*>(hash.data()), hash.size());
}

KeyHash HashFromBytes(std::string_view bytes) {
  KeyHash out{};
  if (bytes.size() == out.size()) std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

bool SameSecret(std::string_view pepper, std::string_view presented, std::string_view expected) {
  const KeyHash a = HashKey(pepper, presented);
  const KeyHash b = HashKey(pepper, expected);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0 && !expected.empty();
}

}  // namespace sy::limits
