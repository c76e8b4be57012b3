// Helpers shared by the libFuzzer targets in tests/fuzz: an invariant check
// that prints what broke (with the bytes involved, as hex) and aborts, so
// libFuzzer records the input as a crash; and a forgiving byte reader for
// inputs that carry their own little op language.
//
// Single-threaded fuzz code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace fuzz {

// "20 02 00 00" (at most the first 256 bytes, then "...").
inline std::string hex(std::string_view s) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    const std::size_t n = s.size() < 256 ? s.size() : 256;
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (i) out += ' ';
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    if (n < s.size()) out += " ...";
    return out;
}

[[noreturn]] inline void fail(const char* file, int line, const char* what,
                              const std::string& detail) {
    std::fprintf(stderr, "\nfuzz invariant broken at %s:%d: %s\n%s\n", file, line, what,
                 detail.c_str());
    std::abort();
}

// Reads fixed-size fields from the front of the input; reads past the end
// give zeros (and exhausted() turns true), so every input is a valid program.
class byte_reader {
  public:
    byte_reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

    bool exhausted() const { return pos_ >= size_; }
    std::size_t remaining() const { return exhausted() ? 0 : size_ - pos_; }

    std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : (pos_++, 0); }
    std::uint16_t u16() {
        const std::uint16_t hi = u8();
        return static_cast<std::uint16_t>(hi << 8 | u8());
    }
    // Up to n bytes (fewer at the end of the input).
    std::string_view bytes(std::size_t n) {
        if (exhausted()) return {};
        if (n > size_ - pos_) n = size_ - pos_;
        std::string_view s(reinterpret_cast<const char*>(data_ + pos_), n);
        pos_ += n;
        return s;
    }

  private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

}  // namespace fuzz

// FUZZ_CHECK(cond, detail): detail is a std::string built only on failure.
#define FUZZ_CHECK(cond, detail)                                        \
    do {                                                                \
        if (!(cond)) ::fuzz::fail(__FILE__, __LINE__, #cond, (detail)); \
    } while (0)
