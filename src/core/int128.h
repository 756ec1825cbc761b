// 128-bit integers, for exact sums and products of int64 amounts (pico-dollars, token counts)
// that may pass the int64 range on the way to a result that fits, or does not. A GCC and Clang
// extension; __extension__ keeps -Wpedantic quiet.
#pragma once

namespace sy::core {

__extension__ using Int128 = __int128;
__extension__ using UInt128 = unsigned __int128;

}  // namespace sy::core
