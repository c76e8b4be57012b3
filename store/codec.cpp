#include "store/codec.hpp"

namespace store::codec {
namespace {

void put_be(std::string& out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_string(std::string& out, std::string_view s) {
    put_be(out, s.size(), 4);
    out.append(s);
}

// Reads fields front to back; any overrun makes ok() false for good.
class reader {
  public:
    explicit reader(std::string_view in) : in_(in) {}

    std::uint64_t be(int bytes) {
        if (!ok_ || in_.size() < static_cast<std::size_t>(bytes)) {
            ok_ = false;
            return 0;
        }
        std::uint64_t v = 0;
        for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in_[i]);
        in_.remove_prefix(bytes);
        return v;
    }

    std::string_view bytes(std::size_t n) {
        if (!ok_ || in_.size() < n) {
            ok_ = false;
            return {};
        }
        std::string_view s = in_.substr(0, n);
        in_.remove_prefix(n);
        return s;
    }

    std::string_view string() { return bytes(be(4)); }
    std::string_view rest() {
        std::string_view s = in_;
        in_ = {};
        return s;
    }

    bool ok() const { return ok_; }
    bool done() const { return ok_ && in_.empty(); }

  private:
    std::string_view in_;
    bool ok_ = true;
};

// qos in bits 0-1 (0..2), retain in bit 2, bits 3-7 reserved (0).
std::uint8_t flags_of(std::uint8_t qos, bool retain) {
    return static_cast<std::uint8_t>((qos & 0x03) | (retain ? 0x04 : 0));
}

bool read_flags(std::uint64_t flags, std::uint8_t& qos, bool& retain) {
    if ((flags & ~std::uint64_t{0x07}) != 0 || (flags & 0x03) == 3) return false;
    qos = static_cast<std::uint8_t>(flags & 0x03);
    retain = (flags & 0x04) != 0;
    return true;
}

}  // namespace

std::string message_key(std::uint64_t id) {
    std::string out;
    put_be(out, id, 8);
    return out;
}

bool decode_message_key(std::string_view key, std::uint64_t& id) {
    reader r(key);
    id = r.be(8);
    return r.done();
}

std::string client_prefix(std::string_view client_id) {
    std::string out;
    out.reserve(4 + client_id.size() + 8);
    put_string(out, client_id);
    return out;
}

std::string outbound_key(std::string_view client_id, std::uint64_t seq) {
    std::string out = client_prefix(client_id);
    put_be(out, seq, 8);
    return out;
}

bool decode_outbound_key(std::string_view key, std::string& client_id, std::uint64_t& seq) {
    reader r(key);
    client_id = r.string();
    seq = r.be(8);
    return r.done();
}

std::string inbound_key(std::string_view client_id, std::uint16_t packet_id) {
    std::string out = client_prefix(client_id);
    put_be(out, packet_id, 2);
    return out;
}

bool decode_inbound_key(std::string_view key, std::string& client_id, std::uint16_t& packet_id) {
    reader r(key);
    client_id = r.string();
    packet_id = static_cast<std::uint16_t>(r.be(2));
    return r.done();
}

std::string forward_key(std::string_view peer, std::uint64_t stamp) {
    std::string out = client_prefix(peer);
    put_be(out, stamp, 8);
    return out;
}

bool decode_forward_key(std::string_view key, std::string& peer, std::uint64_t& stamp) {
    return decode_outbound_key(key, peer, stamp);  // the same layout
}

std::string prefix_end(std::string_view prefix) {
    std::string end(prefix);
    while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
    if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
    return end;
}

std::string message_head(const events::stored_message& m) {
    std::string out;
    out.reserve(18 + m.topic.size() + m.origin.size());
    out.push_back(static_cast<char>(record_version));
    out.push_back(static_cast<char>(flags_of(m.qos, m.retain)));
    put_be(out, m.stamp, 8);
    put_string(out, m.topic);
    put_string(out, m.origin);
    return out;
}

std::string encode_message(const events::stored_message& m) {
    std::string out = message_head(m);
    out.append(m.payload);
    return out;
}

bool decode_message(std::string_view value, events::stored_message& m) {
    reader r(value);
    if (r.be(1) != record_version) return false;
    if (!read_flags(r.be(1), m.qos, m.retain)) return false;
    m.stamp = r.be(8);
    m.topic = r.string();
    m.origin = r.string();
    if (!r.ok()) return false;
    m.payload = r.rest();
    return true;
}

std::string encode_session(const session_record& s) {
    std::string out;
    out.push_back(static_cast<char>(record_version));
    put_be(out, s.last_packet_id, 2);
    put_be(out, s.expiry_ms, 8);
    put_be(out, s.subscriptions.size(), 4);
    for (const auto& [filter, qos] : s.subscriptions) {
        out.push_back(static_cast<char>(qos));
        put_string(out, filter);
    }
    return out;
}

bool decode_session(std::string_view value, session_record& s) {
    reader r(value);
    if (r.be(1) != record_version) return false;
    s.last_packet_id = static_cast<std::uint16_t>(r.be(2));
    s.expiry_ms = r.be(8);
    std::uint64_t count = r.be(4);
    s.subscriptions.clear();
    for (std::uint64_t i = 0; i < count && r.ok(); ++i) {
        std::uint64_t qos = r.be(1);
        std::string_view filter = r.string();
        if (!r.ok() || qos > 2) return false;
        if (!s.subscriptions.emplace(filter, static_cast<std::uint8_t>(qos)).second) return false;
    }
    return r.done();
}

std::string encode_outbound(const outbound_record& e) {
    std::string out;
    out.push_back(static_cast<char>(record_version));
    out.push_back(static_cast<char>(e.state));
    put_be(out, e.packet_id, 2);
    out.push_back(static_cast<char>(flags_of(e.qos, e.retain)));
    put_be(out, e.message_id, 8);
    return out;
}

bool decode_outbound(std::string_view value, outbound_record& e) {
    reader r(value);
    if (r.be(1) != record_version) return false;
    std::uint64_t state = r.be(1);
    if (state > static_cast<std::uint8_t>(outbound_state::awaiting_pubcomp)) return false;
    e.state = static_cast<outbound_state>(state);
    e.packet_id = static_cast<std::uint16_t>(r.be(2));
    if (!read_flags(r.be(1), e.qos, e.retain)) return false;
    e.message_id = r.be(8);
    return r.done();
}

std::string encode_u64(std::uint64_t v) {
    std::string out;
    put_be(out, v, 8);
    return out;
}

bool decode_u64(std::string_view value, std::uint64_t& v) {
    reader r(value);
    v = r.be(8);
    return r.done();
}

std::string encode_u32(std::uint32_t v) {
    std::string out;
    put_be(out, v, 4);
    return out;
}

bool decode_u32(std::string_view value, std::uint32_t& v) {
    reader r(value);
    v = static_cast<std::uint32_t>(r.be(4));
    return r.done();
}

}  // namespace store::codec
