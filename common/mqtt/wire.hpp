// Internal helpers of the codec: a bounds-checked reader over a packet body
// and an appending writer, for the MQTT primitive types (u8, big-endian u16,
// u16 length-prefixed strings, the remaining-length varint).
//
// Used only by decoder.cpp and encoder.cpp. Pure code; safe from any thread.
#pragma once

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/mqtt/error.hpp"
#include "common/mqtt/utf8.hpp"

namespace mqtt::wire {

// Largest value the 4-byte remaining-length varint can hold.
inline constexpr std::uint32_t max_remaining_length = 268'435'455;

// CONNECT flags byte (3.1.1 section 3.1.2.3).
namespace connect_flag {
inline constexpr std::uint8_t reserved = 0x01;
inline constexpr std::uint8_t clean_session = 0x02;
inline constexpr std::uint8_t will = 0x04;
inline constexpr std::uint8_t will_qos_shift = 3;  // two bits
inline constexpr std::uint8_t will_retain = 0x20;
inline constexpr std::uint8_t password = 0x40;
inline constexpr std::uint8_t username = 0x80;
}  // namespace connect_flag

// PUBLISH fixed-header flags (3.1.1 section 3.3.1).
namespace publish_flag {
inline constexpr std::uint8_t retain = 0x01;
inline constexpr std::uint8_t qos_shift = 1;  // two bits
inline constexpr std::uint8_t dup = 0x08;
}  // namespace publish_flag

// Reads fields from the front of a body. Every read returns false and sets
// ec (truncated_packet, or invalid_utf8 for read_utf8) on failure; the reader
// does not advance then.
class reader {
  public:
    explicit reader(std::string_view bytes) : bytes_(bytes) {}

    std::size_t remaining() const { return bytes_.size() - pos_; }
    bool empty() const { return remaining() == 0; }

    bool read_u8(std::uint8_t& v, boost::system::error_code& ec) {
        if (remaining() < 1) return truncated(ec);
        v = static_cast<std::uint8_t>(bytes_[pos_++]);
        return true;
    }

    bool read_u16(std::uint16_t& v, boost::system::error_code& ec) {
        if (remaining() < 2) return truncated(ec);
        v = static_cast<std::uint16_t>(static_cast<std::uint8_t>(bytes_[pos_]) << 8 |
                                       static_cast<std::uint8_t>(bytes_[pos_ + 1]));
        pos_ += 2;
        return true;
    }

    // u16 length + that many bytes, taken as they are (binary data).
    bool read_binary(std::string& v, boost::system::error_code& ec) {
        if (remaining() < 2) return truncated(ec);
        const std::size_t n = static_cast<std::uint8_t>(bytes_[pos_]) << 8 |
                              static_cast<std::uint8_t>(bytes_[pos_ + 1]);
        if (remaining() - 2 < n) return truncated(ec);
        v.assign(bytes_.substr(pos_ + 2, n));
        pos_ += 2 + n;
        return true;
    }

    // u16 length + that many bytes, which must be well-formed UTF-8.
    bool read_utf8(std::string& v, boost::system::error_code& ec) {
        const std::size_t start = pos_;
        if (!read_binary(v, ec)) return false;
        if (!valid_utf8(v)) {
            pos_ = start;
            ec = errc::invalid_utf8;
            return false;
        }
        return true;
    }

    // Everything left (the PUBLISH payload).
    std::string_view read_rest() {
        auto rest = bytes_.substr(pos_);
        pos_ = bytes_.size();
        return rest;
    }

  private:
    static bool truncated(boost::system::error_code& ec) {
        ec = errc::truncated_packet;
        return false;
    }

    std::string_view bytes_;
    std::size_t pos_ = 0;
};

// Appends fields to a string; calls chain so encoders read like the spec's
// tables: w.u16(id).utf8(topic).bytes(payload).
class writer {
  public:
    explicit writer(std::string& out) : out_(out) {}

    writer& u8(std::uint8_t v) {
        out_.push_back(static_cast<char>(v));
        return *this;
    }
    writer& u16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v >> 8)).u8(v & 0xff); }
    // u16 length-prefixed string (UTF-8 text or binary data alike).
    writer& utf8(std::string_view s) {
        u16(static_cast<std::uint16_t>(s.size()));
        return bytes(s);
    }
    writer& binary(std::string_view s) { return utf8(s); }
    // Raw bytes, no prefix.
    writer& bytes(std::string_view s) {
        out_.append(s);
        return *this;
    }
    // The variable-length remaining-length integer (1..4 bytes).
    writer& varint(std::uint32_t v) {
        do {
            std::uint8_t b = v & 0x7f;
            v >>= 7;
            if (v != 0) b |= 0x80;
            u8(b);
        } while (v != 0);
        return *this;
    }

  private:
    std::string& out_;
};

}  // namespace mqtt::wire
