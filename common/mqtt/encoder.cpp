#include "common/mqtt/encoder.hpp"

#include "common/mqtt/wire.hpp"

namespace mqtt {
namespace {

using wire::writer;

std::uint8_t fixed_header(packet_type t, std::uint8_t flags = 0) {
    return static_cast<std::uint8_t>(static_cast<std::uint8_t>(t) << 4 | flags);
}

// Writes the fixed header, then the variable header and payload that
// `body` writes (into a scratch string first: the length comes before it).
template <typename Body>
void frame(std::string& out, std::uint8_t header, Body&& body) {
    std::string bytes;
    writer b(bytes);
    body(b);
    writer(out).u8(header).varint(static_cast<std::uint32_t>(bytes.size())).bytes(bytes);
}

void write(const connect& c, std::string& out) {
    namespace cf = wire::connect_flag;
    std::uint8_t flags = 0;
    if (c.clean_session) flags |= cf::clean_session;
    if (c.will) {
        flags |= cf::will | c.will->qos << cf::will_qos_shift;
        if (c.will->retain) flags |= cf::will_retain;
    }
    if (c.username) flags |= cf::username;
    if (c.password) flags |= cf::password;

    frame(out, fixed_header(packet_type::connect), [&](writer& w) {
        w.utf8(c.protocol_name).u8(c.protocol_level).u8(flags).u16(c.keep_alive);
        w.utf8(c.client_id);
        if (c.will) w.utf8(c.will->topic).binary(c.will->payload);
        if (c.username) w.utf8(*c.username);
        if (c.password) w.binary(*c.password);
    });
}

void write(const connack& c, std::string& out) {
    frame(out, fixed_header(packet_type::connack),
          [&](writer& w) { w.u8(c.session_present ? 0x01 : 0x00).u8(c.return_code); });
}

void write(const publish& p, std::string& out) {
    encode_publish({p.qos, p.dup, p.retain}, p.topic, p.packet_id, p.payload, out);
}

void write(const puback& p, std::string& out) {
    writer(out).u8(fixed_header(packet_type::puback)).varint(2).u16(p.packet_id);
}
void write(const pubrec& p, std::string& out) {
    writer(out).u8(fixed_header(packet_type::pubrec)).varint(2).u16(p.packet_id);
}
void write(const pubrel& p, std::string& out) {
    writer(out).u8(fixed_header(packet_type::pubrel, 0b0010)).varint(2).u16(p.packet_id);
}
void write(const pubcomp& p, std::string& out) {
    writer(out).u8(fixed_header(packet_type::pubcomp)).varint(2).u16(p.packet_id);
}

void write(const subscribe& s, std::string& out) {
    frame(out, fixed_header(packet_type::subscribe, 0b0010), [&](writer& w) {
        w.u16(s.packet_id);
        for (const auto& req : s.subscriptions) w.utf8(req.filter).u8(req.qos);
    });
}

void write(const suback& s, std::string& out) {
    frame(out, fixed_header(packet_type::suback), [&](writer& w) {
        w.u16(s.packet_id);
        for (std::uint8_t code : s.return_codes) w.u8(code);
    });
}

void write(const unsubscribe& u, std::string& out) {
    frame(out, fixed_header(packet_type::unsubscribe, 0b0010), [&](writer& w) {
        w.u16(u.packet_id);
        for (const auto& filter : u.filters) w.utf8(filter);
    });
}

void write(const unsuback& u, std::string& out) {
    writer(out).u8(fixed_header(packet_type::unsuback)).varint(2).u16(u.packet_id);
}

void write(const pingreq&, std::string& out) {
    writer(out).u8(fixed_header(packet_type::pingreq)).varint(0);
}
void write(const pingresp&, std::string& out) {
    writer(out).u8(fixed_header(packet_type::pingresp)).varint(0);
}
void write(const disconnect&, std::string& out) {
    writer(out).u8(fixed_header(packet_type::disconnect)).varint(0);
}

}  // namespace

void encode(const packet& p, std::string& out) {
    std::visit([&](const auto& v) { write(v, out); }, p);
}

// The hot path: the body is written straight into `out`, the payload copied once.
void encode_publish(publish_flags flags, std::string_view topic, std::uint16_t packet_id,
                    std::string_view payload, std::string& out) {
    namespace pf = wire::publish_flag;
    std::uint8_t bits = static_cast<std::uint8_t>(flags.qos << pf::qos_shift);
    if (flags.dup) bits |= pf::dup;
    if (flags.retain) bits |= pf::retain;
    const std::size_t remaining = 2 + topic.size() + (flags.qos > 0 ? 2 : 0) + payload.size();

    out.reserve(out.size() + 5 + remaining);
    writer w(out);
    w.u8(fixed_header(packet_type::publish, bits)).varint(static_cast<std::uint32_t>(remaining));
    w.utf8(topic);
    if (flags.qos > 0) w.u16(packet_id);
    w.bytes(payload);
}

}  // namespace mqtt
