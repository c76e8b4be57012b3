// A random 64-bit number naming one process start ("incarnation"), so peers
// can tell a restarted frontend or router from the one they knew.
//
// Pure function; safe from any thread.
#pragma once

#include <cstdint>
#include <random>

namespace util {

inline std::uint64_t new_incarnation() {
    std::random_device rd;
    std::uint64_t v = 0;
    while (v == 0) v = rd() | (std::uint64_t{rd()} << 32);  // 0 means "unknown" to peers
    return v;
}

}  // namespace util
