// Shared by the events_* unit suites: field-by-field comparison of decoded
// events, and the client_publish envelopes pinned by hand. Test-only.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "common/events/events.hpp"
#include "wire_bytes.hpp"

namespace events_test {

using namespace events;

// Field-by-field views of each event, for comparison.
inline auto tie_of(const hello& e) {
    return std::tie(e.frontend_id, e.protocol_version, e.incarnation);
}
inline auto tie_of(const route_publish& e) {
    return std::tie(e.origin, e.stamp, e.topic, e.payload, e.qos, e.retain, e.received_us, e.prev);
}
inline auto tie_of(const route_ack& e) {
    return std::tie(e.router_id, e.stamp, e.resend);
}
inline auto tie_of(const router_hello& e) {
    return std::tie(e.router_id, e.incarnation);
}
inline auto tie_of(const will& e) {
    return std::tie(e.topic, e.payload, e.qos, e.retain);
}
inline auto tie_of(const client_connect& e) {
    static const will no_will{};
    const will& w = e.will_message ? *e.will_message : no_will;
    return std::make_tuple(e.conn, e.client_id, e.clean_session, e.protocol_level, e.keep_alive,
                           e.username, e.will_message.has_value(), tie_of(w));
}
inline auto tie_of(const client_publish& e) {
    return std::tie(e.conn, e.topic, e.payload, e.qos, e.retain, e.dup, e.packet_id, e.received_us);
}
inline auto tie_of(const deliver& e) {
    return std::tie(e.conn, e.topic, e.payload, e.qos, e.retain, e.dup, e.packet_id, e.received_us);
}
inline auto tie_of(const client_ack& e) {
    return std::tie(e.conn, e.kind, e.packet_id);
}
inline auto tie_of(const client_subscribe& e) {
    std::vector<std::pair<std::string, std::uint8_t>> subs;
    for (const auto& s : e.subscriptions) subs.emplace_back(s.filter, s.qos);
    return std::make_tuple(e.conn, e.packet_id, subs);
}
inline auto tie_of(const client_unsubscribe& e) {
    return std::tie(e.conn, e.packet_id, e.filters);
}
inline auto tie_of(const client_disconnect& e) {
    return std::tie(e.conn, e.reason);
}
inline auto tie_of(const connack& e) {
    return std::tie(e.conn, e.session_present, e.return_code, e.router_incarnation);
}
inline auto tie_of(const send_ack& e) {
    return std::tie(e.conn, e.kind, e.packet_id);
}
inline auto tie_of(const suback& e) {
    return std::tie(e.conn, e.packet_id, e.return_codes);
}
inline auto tie_of(const unsuback& e) {
    return std::tie(e.conn, e.packet_id);
}
inline auto tie_of(const close_connection& e) {
    return std::tie(e.conn, e.reason);
}

inline auto tie_of(const router_leaving& e) {
    return std::tie(e.router_id, e.incarnation);
}
inline auto tie_of(const stored_message& m) {
    return std::tie(m.topic, m.payload, m.qos, m.retain, m.stamp, m.origin);
}
inline auto tie_of(const session_fetch& e) {
    return std::tie(e.request, e.client_id, e.requester);
}
inline auto tie_of(const session_state& e) {
    std::vector<std::pair<std::string, std::uint8_t>> subs;
    for (const auto& s : e.subscriptions) subs.emplace_back(s.filter, s.qos);
    using stored_tuple = decltype(tie_of(stored_message{}));
    std::vector<std::tuple<
        std::uint16_t, std::uint8_t, std::uint8_t, bool, bool,
        std::tuple<std::string, std::string, std::uint8_t, bool, std::uint64_t, std::string>>>
        inflight;
    static const stored_message none{};
    for (const auto& f : e.inflight) {
        const auto& m = f.message ? *f.message : none;
        inflight.emplace_back(f.packet_id, f.state, f.qos, f.retain, f.message.has_value(),
                              stored_tuple(tie_of(m)));
    }
    std::vector<std::tuple<
        std::tuple<std::string, std::string, std::uint8_t, bool, std::uint64_t, std::string>,
        std::uint8_t, bool>>
        queue;
    for (const auto& q : e.queue) queue.emplace_back(tie_of(q.message), q.qos, q.retain);
    std::vector<std::pair<std::string, std::uint64_t>> seen;
    for (const auto& h : e.seen) seen.emplace_back(h.origin, h.stamp);
    return std::make_tuple(e.request, e.client_id, e.sender, e.found, subs, inflight, queue,
                           e.inbound_qos2, e.last_packet_id, seen, e.pushed_to);
}
inline auto tie_of(const session_state_ack& e) {
    return std::tie(e.client_id, e.sender);
}
inline auto tie_of(const retained_sync_request& e) {
    return std::tie(e.requester);
}
inline auto tie_of(const retained_sync& e) {
    std::vector<
        std::tuple<std::string, std::string, std::uint8_t, bool, std::uint64_t, std::string>>
        messages;
    for (const auto& m : e.messages) messages.emplace_back(tie_of(m));
    return std::make_tuple(e.sender, messages, e.last);
}

inline auto tie_of(const deliver_many& e) {
    std::vector<std::tuple<conn_id, std::uint8_t, std::uint16_t>> targets;
    for (const auto& t : e.targets) targets.emplace_back(t.conn, t.qos, t.packet_id);
    return std::make_tuple(e.topic, e.payload, e.retain, e.received_us, targets);
}

inline auto tie_of(const router_stats& e) {
    return std::tie(e.router_id, e.incarnation, e.values);
}

inline bool same(const event& a, const event& b) {
    if (a.index() != b.index()) return false;
    return std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            return tie_of(x) == tie_of(std::get<T>(b));
        },
        a);
}

// client_publish{conn 7, "a/b", 00 ff 80, qos 1, retain false, dup true, id 0x1234,
//                received_us 1700000000123456}
inline constexpr std::uint8_t publish_wire[] = {
    0x93,                          // envelope: fixarray(3)
    0x01,                          //   protocol_version 1
    0x02,                          //   kind 2 = client_publish
    0x98,                          //   body: fixarray(8)
    0x07,                          //     conn 7
    0xa3, 'a',  '/',  'b',         //     topic: fixstr(3) "a/b"
    0xc4, 0x03, 0x00, 0xff, 0x80,  //     payload: bin8(3) 00 ff 80
    0x01,                          //     qos 1
    0xc2,                          //     retain false
    0xc3,                          //     dup true
    0xcd, 0x12, 0x34,              //     packet_id: uint16 0x1234
    0xcf, 0x00, 0x06, 0x0a, 0x24,  //     received_us: uint64
    0x18, 0x20, 0x22, 0x40,        //       0x00060a2418202240
};

// The same publish as written before received_us was appended: 7 fields.
inline constexpr std::uint8_t publish_wire_v1[] = {
    0x93,                          // envelope: fixarray(3)
    0x01,                          //   protocol_version 1
    0x02,                          //   kind 2 = client_publish
    0x97,                          //   body: fixarray(7)
    0x07,                          //     conn 7
    0xa3, 'a',  '/',  'b',         //     topic: fixstr(3) "a/b"
    0xc4, 0x03, 0x00, 0xff, 0x80,  //     payload: bin8(3) 00 ff 80
    0x01,                          //     qos 1
    0xc2,                          //     retain false
    0xc3,                          //     dup true
    0xcd, 0x12, 0x34,              //     packet_id: uint16 0x1234
};

// `bytes` does not decode, and ec says `expected`; nothing throws.
inline void expect_error(std::string_view bytes, errc expected) {
    boost::system::error_code ec;
    std::optional<event> e;
    BOOST_CHECK_NO_THROW(e = decode(bytes, ec));
    BOOST_TEST(!e.has_value(), test_util::to_hex(bytes));
    BOOST_TEST((ec == make_error_code(expected)), test_util::to_hex(bytes)
                                                      << " -> " << ec.message());
}

}  // namespace events_test
