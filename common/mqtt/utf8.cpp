#include "common/mqtt/utf8.hpp"

#include <cstddef>
#include <cstdint>

namespace mqtt {
namespace {

bool in(std::uint8_t b, std::uint8_t lo, std::uint8_t hi) {
    return b >= lo && b <= hi;
}

// Length of the well-formed sequence starting at s[i] (Unicode 15, table 3-7),
// or 0 if it is ill-formed. The ranges of the second byte exclude overlong
// forms (E0, F0), surrogates (ED) and code points above U+10FFFF (F4).
std::size_t sequence_length(std::string_view s, std::size_t i) {
    auto at = [&](std::size_t k) -> std::uint8_t {
        return i + k < s.size() ? static_cast<std::uint8_t>(s[i + k]) : 0;
    };
    const std::uint8_t b0 = at(0);
    auto tail = [&](std::size_t from, std::size_t to) {
        for (std::size_t k = from; k < to; ++k) {
            if (!in(at(k), 0x80, 0xbf)) return false;
        }
        return true;
    };
    if (in(b0, 0xc2, 0xdf)) return tail(1, 2) ? 2 : 0;
    if (b0 == 0xe0) return in(at(1), 0xa0, 0xbf) && tail(2, 3) ? 3 : 0;
    if (in(b0, 0xe1, 0xec) || in(b0, 0xee, 0xef)) return tail(1, 3) ? 3 : 0;
    if (b0 == 0xed) return in(at(1), 0x80, 0x9f) && tail(2, 3) ? 3 : 0;
    if (b0 == 0xf0) return in(at(1), 0x90, 0xbf) && tail(2, 4) ? 4 : 0;
    if (in(b0, 0xf1, 0xf3)) return tail(1, 4) ? 4 : 0;
    if (b0 == 0xf4) return in(at(1), 0x80, 0x8f) && tail(2, 4) ? 4 : 0;
    return 0;  // 80..C1 (continuation or overlong lead) and F5..FF
}

}  // namespace

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<std::uint8_t>(s[i]);
        if (b == 0) return false;  // U+0000 is forbidden in MQTT strings
        if (b < 0x80) {
            ++i;
            continue;
        }
        const std::size_t n = sequence_length(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

}  // namespace mqtt
