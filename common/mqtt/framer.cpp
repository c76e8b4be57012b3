#include "common/mqtt/framer.hpp"

#include "common/mqtt/error.hpp"

namespace mqtt {

std::size_t decode_remaining_length(std::string_view bytes, std::uint32_t& value,
                                    boost::system::error_code& ec) {
    ec.clear();
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        if (i >= bytes.size()) return 0;  // need more bytes
        const auto b = static_cast<std::uint8_t>(bytes[i]);
        v |= static_cast<std::uint32_t>(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
            value = v;
            return i + 1;
        }
    }
    // The 4th byte still has its continuation bit set: a 5th byte would follow.
    ec = errc::malformed_remaining_length;
    return 0;
}

void framer::feed(std::string_view bytes) {
    // Drop what has been consumed once it is at least half of the buffer, so a
    // long stream keeps the buffer bounded and each byte is moved O(1) times.
    if (read_pos_ == buffer_.size()) {
        buffer_.clear();
        read_pos_ = 0;
    } else if (read_pos_ > 0 && read_pos_ >= buffered()) {
        buffer_.erase(0, read_pos_);
        read_pos_ = 0;
    }
    buffer_.append(bytes);
}

namespace {

// Splits the first packet off `in` (see framer::next for the errors).
std::optional<raw_packet> take_packet(std::string_view& in, std::uint32_t max_packet_size,
                                      boost::system::error_code& ec) {
    ec.clear();
    if (in.empty()) return std::nullopt;

    const auto header = static_cast<std::uint8_t>(in[0]);
    const unsigned type = header >> 4;
    if (type == 0 || type == 15) {
        ec = errc::invalid_packet_type;
        return std::nullopt;
    }

    std::uint32_t remaining = 0;
    const std::size_t length_bytes = decode_remaining_length(in.substr(1), remaining, ec);
    if (ec || length_bytes == 0) return std::nullopt;

    // Checked before anything is allocated for the body.
    const std::size_t header_size = 1 + length_bytes;
    if (header_size + remaining > max_packet_size) {
        ec = errc::packet_too_large;
        return std::nullopt;
    }
    if (in.size() < header_size + remaining) return std::nullopt;

    raw_packet p;
    p.header = header;
    p.body.assign(in.substr(header_size, remaining));
    in.remove_prefix(header_size + remaining);
    return p;
}

}  // namespace

std::optional<raw_packet> framer::next(boost::system::error_code& ec) {
    std::string_view avail = std::string_view(buffer_).substr(read_pos_);
    const auto before = avail.size();
    auto p = take_packet(avail, max_packet_size_, ec);
    if (!p) return p;
    read_pos_ += static_cast<std::uint32_t>(before - avail.size());
    if (read_pos_ == buffer_.size()) {
        // Everything consumed: an idle connection keeps no buffer at all
        // (thousands of idle clients would each hold their last read's
        // capacity).
        std::string().swap(buffer_);
        read_pos_ = 0;
    }
    return p;
}

std::optional<raw_packet> framer::next_from(std::string_view& in,
                                            boost::system::error_code& ec) const {
    return take_packet(in, max_packet_size_, ec);
}

}  // namespace mqtt
