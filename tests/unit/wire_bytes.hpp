// Helpers for tests that pin wire bytes: a hand-written byte array as a
// string, and bytes as spaced hex for readable failure messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace test_util {

template <std::size_t N>
std::string bytes_of(const std::uint8_t (&b)[N]) {
    return std::string(reinterpret_cast<const char*>(b), N);
}

inline std::string to_hex(std::string_view s) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += digits[c >> 4];
        out += digits[c & 15];
        out += ' ';
    }
    return out;
}

}  // namespace test_util
