// Incremental framer: splits a byte stream into MQTT control packets.
//
// Reads the fixed header (type/flags byte + variable-length "remaining
// length") and checks the length against the current limit *before* any
// buffer for the body is reserved. The limit can be lowered before a client
// has authenticated and raised afterwards.
//
// Owned by one connection; not thread-safe.
#pragma once

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mqtt {

// One complete packet as it came off the wire: first byte and body.
struct raw_packet {
    std::uint8_t header = 0;  // packet type (high nibble) and flags (low nibble)
    std::string body;         // the remaining-length bytes
};

class framer {
  public:
    // max_packet_size bounds the whole packet (fixed header + body). MQTT's
    // own bound (a 4-byte remaining length) is far below 4 GiB, so larger
    // values are kept as 4 GiB - 1: the same limit in effect.
    explicit framer(std::size_t max_packet_size) : max_packet_size_(clamp(max_packet_size)) {}

    void set_max_packet_size(std::size_t n) { max_packet_size_ = clamp(n); }
    std::size_t max_packet_size() const { return max_packet_size_; }

    // Appends bytes received from the peer.
    void feed(std::string_view bytes);

    // The next complete packet, or nullopt when more bytes are needed or on
    // error (ec set: malformed_remaining_length, packet_too_large,
    // invalid_packet_type). After an error the stream is unusable.
    std::optional<raw_packet> next(boost::system::error_code& ec);

    // The same, taken straight from bytes the caller holds, while nothing is
    // buffered (buffered() == 0): a read that brings whole packets is never
    // copied into the framer. Removes the packet's bytes from `in`; what is
    // left there (an unfinished packet) is the caller's to feed().
    std::optional<raw_packet> next_from(std::string_view& in, boost::system::error_code& ec) const;

    // Bytes buffered but not yet returned as a packet.
    std::size_t buffered() const { return buffer_.size() - read_pos_; }

  private:
    static std::uint32_t clamp(std::size_t n) {
        return n > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(n);
    }

    std::string buffer_;
    // 32 bits each (8 bytes fewer per connection): read_pos_ stays within
    // the buffer, which holds what one read brought and at most one
    // unfinished packet (no larger than max_packet_size_).
    std::uint32_t read_pos_ = 0;
    std::uint32_t max_packet_size_;
};

// Parses the remaining-length varint at the start of `bytes`. Returns the
// number of bytes it used (1..4), 0 if more bytes are needed, or sets ec.
std::size_t decode_remaining_length(std::string_view bytes, std::uint32_t& value,
                                    boost::system::error_code& ec);

}  // namespace mqtt
