// Internal to router: SHA-256 (OpenSSL's libcrypto), for the model file's checksum and the
// training data's digest.
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sy::router::detail {

std::array<uint8_t, 32> Sha256(std::string_view bytes);

// Lower-case hex of Sha256(bytes).
std::string Sha256Hex(std::string_view bytes);

}  // namespace sy::router::detail
