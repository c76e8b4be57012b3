#include "common/mqtt/decoder.hpp"

#include "common/mqtt/error.hpp"
#include "common/mqtt/wire.hpp"
#include "common/topic/topic.hpp"

namespace mqtt {
namespace {

using boost::system::error_code;
using wire::reader;

std::nullopt_t fail(error_code& ec, errc e) {
    ec = e;
    return std::nullopt;
}

// The last step of every decoder: the body must hold nothing more.
std::optional<packet> finish(const reader& r, packet p, error_code& ec) {
    if (!r.empty()) return fail(ec, errc::trailing_bytes);
    return p;
}

// Fixed-header flags every type but PUBLISH must carry (3.1.1 table 2.2).
std::uint8_t required_flags(packet_type t) {
    switch (t) {
        case packet_type::pubrel:
        case packet_type::subscribe:
        case packet_type::unsubscribe:
            return 0b0010;
        default:
            return 0b0000;
    }
}

std::optional<packet> decode_connect(reader& r, error_code& ec) {
    namespace cf = wire::connect_flag;
    connect c;
    // Variable header: protocol name, protocol level, connect flags, keep alive.
    if (!r.read_binary(c.protocol_name, ec)) return std::nullopt;
    std::uint8_t expected_level = 0;
    if (c.protocol_name == "MQTT") {
        expected_level = protocol_level_3_1_1;
    } else if (c.protocol_name == "MQIsdp") {
        expected_level = protocol_level_3_1;
    } else {
        return fail(ec, errc::invalid_protocol_name);
    }
    if (!r.read_u8(c.protocol_level, ec)) return std::nullopt;
    if (c.protocol_level != expected_level) return fail(ec, errc::unsupported_protocol_level);

    std::uint8_t flags = 0;
    if (!r.read_u8(flags, ec)) return std::nullopt;
    const bool has_will = flags & cf::will;
    const std::uint8_t will_qos = (flags >> cf::will_qos_shift) & 0x03;
    const bool will_retain = flags & cf::will_retain;
    const bool has_username = flags & cf::username;
    const bool has_password = flags & cf::password;
    if (flags & cf::reserved) return fail(ec, errc::invalid_connect_flags);
    if (!has_will && (will_qos != 0 || will_retain)) return fail(ec, errc::invalid_connect_flags);
    if (will_qos == 3) return fail(ec, errc::invalid_qos);
    if (has_password && !has_username) return fail(ec, errc::invalid_connect_flags);
    c.clean_session = flags & cf::clean_session;
    if (!r.read_u16(c.keep_alive, ec)) return std::nullopt;

    // Payload: client id, [will topic, will message], [username], [password].
    if (!r.read_utf8(c.client_id, ec)) return std::nullopt;
    if (has_will) {
        will_message w;
        w.qos = will_qos;
        w.retain = will_retain;
        if (!r.read_utf8(w.topic, ec)) return std::nullopt;
        if (!topic::valid_name(w.topic)) return fail(ec, errc::invalid_topic_name);
        if (!r.read_binary(w.payload, ec)) return std::nullopt;
        c.will = std::move(w);
    }
    if (has_username) {
        if (!r.read_utf8(c.username.emplace(), ec)) return std::nullopt;
    }
    if (has_password) {
        if (!r.read_binary(c.password.emplace(), ec)) return std::nullopt;
    }
    return finish(r, std::move(c), ec);
}

std::optional<packet> decode_connack(reader& r, error_code& ec) {
    connack c;
    std::uint8_t ack_flags = 0;
    if (!r.read_u8(ack_flags, ec)) return std::nullopt;
    if (!r.read_u8(c.return_code, ec)) return std::nullopt;
    // Bits 7..1 of the acknowledge flags are reserved.
    if (ack_flags & 0xfe) return fail(ec, errc::invalid_connect_flags);
    c.session_present = ack_flags & 0x01;
    return finish(r, c, ec);
}

// `body`, when given, is the packet's body to take the payload from: its
// buffer becomes the payload's (the bytes before it are erased: a move within
// the buffer, no allocation).
std::optional<packet> decode_publish(std::uint8_t flags, reader& r, error_code& ec,
                                     std::string* body) {
    publish p;
    namespace pf = wire::publish_flag;
    p.dup = flags & pf::dup;
    p.qos = (flags >> pf::qos_shift) & 0x03;
    p.retain = flags & pf::retain;
    if (p.qos == 3) return fail(ec, errc::invalid_qos);
    if (p.dup && p.qos == 0) return fail(ec, errc::invalid_fixed_header_flags);

    // Variable header: topic name, [packet id]. Payload: the rest.
    if (!r.read_utf8(p.topic, ec)) return std::nullopt;
    if (!topic::valid_name(p.topic)) return fail(ec, errc::invalid_topic_name);
    if (p.qos > 0) {
        if (!r.read_u16(p.packet_id, ec)) return std::nullopt;
        if (p.packet_id == 0) return fail(ec, errc::zero_packet_id);
    }
    const auto rest = r.read_rest();
    if (body != nullptr) {
        const auto at = static_cast<std::size_t>(rest.data() - body->data());
        p.payload = std::move(*body);
        p.payload.erase(0, at);
    } else {
        p.payload.assign(rest);
    }
    return p;
}

// PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: a non-zero packet id, nothing else.
template <typename T>
std::optional<packet> decode_id_only(reader& r, error_code& ec) {
    T p;
    if (!r.read_u16(p.packet_id, ec)) return std::nullopt;
    if (!r.empty()) return fail(ec, errc::trailing_bytes);
    if (p.packet_id == 0) return fail(ec, errc::zero_packet_id);
    return p;
}

std::optional<packet> decode_subscribe(reader& r, error_code& ec) {
    subscribe s;
    if (!r.read_u16(s.packet_id, ec)) return std::nullopt;
    if (s.packet_id == 0) return fail(ec, errc::zero_packet_id);
    // Payload: (topic filter, requested QoS) pairs.
    while (!r.empty()) {
        subscription_request req;
        if (!r.read_utf8(req.filter, ec)) return std::nullopt;
        if (!r.read_u8(req.qos, ec)) return std::nullopt;
        if (req.qos & 0xfc) return fail(ec, errc::invalid_subscribe_options);
        if (req.qos == 3) return fail(ec, errc::invalid_qos);
        s.subscriptions.push_back(std::move(req));
    }
    if (s.subscriptions.empty()) return fail(ec, errc::empty_subscribe);
    return s;
}

std::optional<packet> decode_suback(reader& r, error_code& ec) {
    suback s;
    if (!r.read_u16(s.packet_id, ec)) return std::nullopt;
    if (s.packet_id == 0) return fail(ec, errc::zero_packet_id);
    // Payload: one return code per requested filter.
    while (!r.empty()) {
        std::uint8_t code = 0;
        if (!r.read_u8(code, ec)) return std::nullopt;
        if (code > 2 && code != suback_failure) return fail(ec, errc::invalid_qos);
        s.return_codes.push_back(code);
    }
    if (s.return_codes.empty()) return fail(ec, errc::truncated_packet);
    return s;
}

std::optional<packet> decode_unsubscribe(reader& r, error_code& ec) {
    unsubscribe u;
    if (!r.read_u16(u.packet_id, ec)) return std::nullopt;
    if (u.packet_id == 0) return fail(ec, errc::zero_packet_id);
    // Payload: topic filters.
    while (!r.empty()) {
        if (!r.read_utf8(u.filters.emplace_back(), ec)) return std::nullopt;
    }
    if (u.filters.empty()) return fail(ec, errc::empty_subscribe);
    return u;
}

std::optional<packet> decode_raw(const raw_packet& raw, std::string* body, error_code& ec) {
    ec.clear();
    const unsigned type = raw.header >> 4;
    const std::uint8_t flags = raw.header & 0x0f;
    if (type == 0 || type == 15) return fail(ec, errc::invalid_packet_type);
    const auto t = static_cast<packet_type>(type);
    if (t != packet_type::publish && flags != required_flags(t)) {
        return fail(ec, errc::invalid_fixed_header_flags);
    }

    reader r(raw.body);
    switch (t) {
        case packet_type::connect:
            return decode_connect(r, ec);
        case packet_type::connack:
            return decode_connack(r, ec);
        case packet_type::publish:
            return decode_publish(flags, r, ec, body);
        case packet_type::puback:
            return decode_id_only<puback>(r, ec);
        case packet_type::pubrec:
            return decode_id_only<pubrec>(r, ec);
        case packet_type::pubrel:
            return decode_id_only<pubrel>(r, ec);
        case packet_type::pubcomp:
            return decode_id_only<pubcomp>(r, ec);
        case packet_type::subscribe:
            return decode_subscribe(r, ec);
        case packet_type::suback:
            return decode_suback(r, ec);
        case packet_type::unsubscribe:
            return decode_unsubscribe(r, ec);
        case packet_type::unsuback:
            return decode_id_only<unsuback>(r, ec);
        case packet_type::pingreq:
            return finish(r, pingreq{}, ec);
        case packet_type::pingresp:
            return finish(r, pingresp{}, ec);
        case packet_type::disconnect:
            return finish(r, disconnect{}, ec);
    }
    return fail(ec, errc::invalid_packet_type);
}

}  // namespace

std::optional<packet> decode(const raw_packet& raw, error_code& ec) {
    return decode_raw(raw, nullptr, ec);
}

std::optional<packet> decode(raw_packet&& raw, error_code& ec) {
    return decode_raw(raw, &raw.body, ec);
}

}  // namespace mqtt
