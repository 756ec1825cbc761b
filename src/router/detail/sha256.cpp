#include "router/detail/sha256.h"

#include <cstdlib>

#include <openssl/evp.h>

namespace sy::router::detail {

std::array<uint8_t, 32> Sha256(std::string_view bytes) {
  std::array<uint8_t, 32> digest{};
  unsigned int length = 0;
  // EVP_Digest fails only when libcrypto cannot allocate: nothing here can recover from that.
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    std::abort();
  }
  return digest;
}

std::string Sha256Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(64);
  for (const uint8_t b : Sha256(bytes)) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 0xf]);
  }
  return hex;
}

}  // namespace sy::router::detail
