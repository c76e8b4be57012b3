// A cursor over msgpack bytes for the event decoder (events.cpp): reads, in
// place, the few types the events are made of (array headers, unsigned
// integers, booleans, nil, str and bin) and refuses everything else.
//
// Why not msgpack::unpack: it builds a tree of msgpack::object in a zone
// first, which cost about three times what the events' own fields cost to
// read (callgrind: 1,700 instructions per event routed, of which the tree
// took 1,200). The encoder stays msgpack-c's packer; the unit tests pin the
// bytes both ways and the fuzz target checks every decoded event re-encodes
// to what decodes again.
//
// Every read checks that its bytes are there first and leaves the cursor
// where it was when it fails, so a caller may try another type. Strings are
// views into the input: copy what must outlive it. Pure; no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace events {

class msgpack_reader {
  public:
    msgpack_reader(std::string_view in, std::size_t pos) : in_(in), pos_(pos) {}

    std::size_t pos() const { return pos_; }

    // fixarray, array 16, array 32.
    bool array(std::uint32_t& size) {
        const auto head = peek();
        if (head < 0) return false;
        if ((head & 0xf0) == 0x90) {
            size = static_cast<std::uint32_t>(head & 0x0f);
            ++pos_;
            return true;
        }
        if (head != 0xdc && head != 0xdd) return false;
        std::uint64_t v = 0;
        if (!fixed(head == 0xdc ? 2 : 4, v)) return false;
        size = static_cast<std::uint32_t>(v);
        return true;
    }

    // positive fixint, uint 8..64, and int 8..64 holding a value >= 0 (as
    // msgpack-c reads them: a non-negative int is a positive integer).
    bool uint(std::uint64_t& v) {
        const auto head = peek();
        if (head < 0) return false;
        if (head <= 0x7f) {
            v = static_cast<std::uint64_t>(head);
            ++pos_;
            return true;
        }
        if (head >= 0xcc && head <= 0xcf) return fixed(std::size_t{1} << (head - 0xcc), v);
        if (head >= 0xd0 && head <= 0xd3) {
            const std::size_t width = std::size_t{1} << (head - 0xd0);
            if (!have(1 + width)) return false;
            // The sign bit is the top bit of the first byte after the head.
            if (static_cast<unsigned char>(in_[pos_ + 1]) & 0x80) return false;
            return fixed(width, v);
        }
        return false;
    }

    bool boolean(bool& v) {
        const auto head = peek();
        if (head != 0xc2 && head != 0xc3) return false;
        v = head == 0xc3;
        ++pos_;
        return true;
    }

    // Consumes a nil; false (and nothing consumed) if the next is not nil.
    bool nil() {
        if (peek() != 0xc0) return false;
        ++pos_;
        return true;
    }

    // fixstr, str 8, str 16, str 32.
    bool str(std::string_view& out) {
        const auto head = peek();
        if (head < 0) return false;
        if ((head & 0xe0) == 0xa0) {
            ++pos_;
            if (take(static_cast<std::size_t>(head & 0x1f), out)) return true;
            --pos_;
            return false;
        }
        if (head < 0xd9 || head > 0xdb) return false;
        return sized(std::size_t{1} << (head - 0xd9), out);
    }

    // bin 8, bin 16, bin 32.
    bool bin(std::string_view& out) {
        const auto head = peek();
        if (head < 0xc4 || head > 0xc6) return false;
        return sized(std::size_t{1} << (head - 0xc4), out);
    }

  private:
    // The next byte (0..255), or -1 at the end.
    int peek() const { return pos_ < in_.size() ? static_cast<unsigned char>(in_[pos_]) : -1; }
    bool have(std::size_t n) const { return in_.size() - pos_ >= n; }

    // A head byte followed by a big-endian integer of `width` bytes.
    bool fixed(std::size_t width, std::uint64_t& v) {
        if (!have(1 + width)) return false;
        std::uint64_t x = 0;
        for (std::size_t i = 1; i <= width; ++i)
            x = (x << 8) | static_cast<unsigned char>(in_[pos_ + i]);
        v = x;
        pos_ += 1 + width;
        return true;
    }
    // A head byte, a length of `width` bytes, then that many bytes.
    bool sized(std::size_t width, std::string_view& out) {
        const auto start = pos_;
        std::uint64_t n = 0;
        if (!fixed(width, n)) return false;
        if (n <= in_.size() && take(static_cast<std::size_t>(n), out)) return true;
        pos_ = start;
        return false;
    }
    // `n` bytes at the cursor, if they are all there.
    bool take(std::size_t n, std::string_view& out) {
        if (!have(n)) return false;
        out = in_.substr(pos_, n);
        pos_ += n;
        return true;
    }

    std::string_view in_;
    std::size_t pos_;
};

}  // namespace events
