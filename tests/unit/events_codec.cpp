// The inter-tier events codec: round trips, wire bytes pinned by hand, malformed input.
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/events/events.hpp"

using namespace events;
using namespace std::string_view_literals;

namespace {

template <std::size_t N>
std::string bytes_of(const std::uint8_t (&b)[N]) {
    return std::string(reinterpret_cast<const char*>(b), N);
}

std::string to_hex(std::string_view s) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += digits[c >> 4];
        out += digits[c & 15];
        out += ' ';
    }
    return out;
}

// Field-by-field views of each event, for comparison.
auto tie_of(const hello& e) {
    return std::tie(e.frontend_id, e.protocol_version, e.incarnation);
}
auto tie_of(const route_publish& e) {
    return std::tie(e.origin, e.stamp, e.topic, e.payload, e.qos, e.retain);
}
auto tie_of(const router_hello& e) {
    return std::tie(e.router_id, e.incarnation);
}
auto tie_of(const will& e) {
    return std::tie(e.topic, e.payload, e.qos, e.retain);
}
auto tie_of(const client_connect& e) {
    static const will no_will{};
    const will& w = e.will_message ? *e.will_message : no_will;
    return std::make_tuple(e.conn, e.client_id, e.clean_session, e.protocol_level, e.keep_alive,
                           e.username, e.will_message.has_value(), tie_of(w));
}
auto tie_of(const client_publish& e) {
    return std::tie(e.conn, e.topic, e.payload, e.qos, e.retain, e.dup, e.packet_id);
}
auto tie_of(const deliver& e) {
    return std::tie(e.conn, e.topic, e.payload, e.qos, e.retain, e.dup, e.packet_id);
}
auto tie_of(const client_ack& e) {
    return std::tie(e.conn, e.kind, e.packet_id);
}
auto tie_of(const client_subscribe& e) {
    std::vector<std::pair<std::string, std::uint8_t>> subs;
    for (const auto& s : e.subscriptions) subs.emplace_back(s.filter, s.qos);
    return std::make_tuple(e.conn, e.packet_id, subs);
}
auto tie_of(const client_unsubscribe& e) {
    return std::tie(e.conn, e.packet_id, e.filters);
}
auto tie_of(const client_disconnect& e) {
    return std::tie(e.conn, e.reason);
}
auto tie_of(const connack& e) {
    return std::tie(e.conn, e.session_present, e.return_code, e.router_incarnation);
}
auto tie_of(const send_ack& e) {
    return std::tie(e.conn, e.kind, e.packet_id);
}
auto tie_of(const suback& e) {
    return std::tie(e.conn, e.packet_id, e.return_codes);
}
auto tie_of(const unsuback& e) {
    return std::tie(e.conn, e.packet_id);
}
auto tie_of(const close_connection& e) {
    return std::tie(e.conn, e.reason);
}

auto tie_of(const router_leaving& e) {
    return std::tie(e.router_id, e.incarnation);
}
auto tie_of(const stored_message& m) {
    return std::tie(m.topic, m.payload, m.qos, m.retain, m.stamp, m.origin);
}
auto tie_of(const session_fetch& e) {
    return std::tie(e.request, e.client_id, e.requester);
}
auto tie_of(const session_state& e) {
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
auto tie_of(const session_state_ack& e) {
    return std::tie(e.client_id, e.sender);
}
auto tie_of(const retained_sync_request& e) {
    return std::tie(e.requester);
}
auto tie_of(const retained_sync& e) {
    std::vector<
        std::tuple<std::string, std::string, std::uint8_t, bool, std::uint64_t, std::string>>
        messages;
    for (const auto& m : e.messages) messages.emplace_back(tie_of(m));
    return std::make_tuple(e.sender, messages, e.last);
}

bool same(const event& a, const event& b) {
    if (a.index() != b.index()) return false;
    return std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            return tie_of(x) == tie_of(std::get<T>(b));
        },
        a);
}

std::string all_bytes() {
    std::string s;
    for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
    return s;
}

// One or more samples of every kind, including edge values.
std::vector<event> samples() {
    constexpr auto max64 = std::numeric_limits<std::uint64_t>::max();
    return {
        hello{"frontend-1", protocol_version, 42},
        hello{"", 0xffffffff, max64},
        client_connect{1, "client", true, 4, 60, "user", std::nullopt},
        client_connect{max64, "", false, 3, 65535, "",
                       will{"last/will", std::string("\0bye\xff", 5), 2, true}},
        client_publish{7, "a/b", all_bytes(), 1, false, true, 0x1234},
        client_publish{0x80, "t", "", 0, true, false, 0},
        client_publish{2, "big", std::string(70000, '\x01'), 2, false, false, 65535},
        client_ack{3, ack_kind::puback, 1},
        client_ack{3, ack_kind::pubcomp, 65535},
        client_subscribe{4, 10, {{"a/#", 0}, {"+/b", 1}, {"$SYS/#", 2}}},
        client_subscribe{4, 11, {}},
        client_unsubscribe{5, 12, {"a/#", "", "x"}},
        client_disconnect{6, disconnect_reason::graceful},
        client_disconnect{6, disconnect_reason::server_shutdown},
        connack{8, true, 0, 1},
        connack{8, false, 5, std::numeric_limits<std::uint64_t>::max()},
        deliver{9, "d/e", std::string("\x00\x01\x02", 3), 2, true, true, 300},
        send_ack{10, ack_kind::pubrec, 2},
        send_ack{10, ack_kind::pubrel, 3},
        suback{11, 13, {0, 1, 2, 0x80}},
        suback{11, 14, {}},
        unsuback{12, 15},
        close_connection{13, disconnect_reason::taken_over},
        router_hello{"router-1", 7},
        router_hello{"", max64},
        route_publish{"router-a", 1234567, "a/b", all_bytes(), 2, true},
        route_publish{"", max64, "t", "", 0, false},
        router_leaving{"router-2", 9},
        session_fetch{1, "client", "router-1"},
        session_state{2, "c", "r", false, {}, {}, {}, {}, 0, {}, "router-3"},
        session_state{0,
                      "client-7",
                      "router-1",
                      true,
                      {{"a/#", 1}, {"b/+", 2}},
                      {{1, 0, 1, false, stored_message{"a/x", "p", 1, false, 5, "r1"}},
                       {2, 2, 2, true, std::nullopt}},
                      {{stored_message{"b/y", all_bytes(), 2, true, max64, "r2"}, 2, true}},
                      {7, 65535},
                      2,
                      {{"r1", 5}, {"r2", max64}},
                      ""},
        session_state_ack{"client-7", "router-2"},
        retained_sync_request{"router-4"},
        retained_sync{"router-1", {}, true},
        retained_sync{
            "router-1",
            {stored_message{"t", "v", 1, true, 3, "r1"}, stored_message{"u", "", 0, true, 4, "r2"}},
            false},
    };
}

void expect_error(std::string_view bytes, errc expected) {
    boost::system::error_code ec;
    std::optional<event> e;
    BOOST_CHECK_NO_THROW(e = decode(bytes, ec));
    BOOST_TEST(!e.has_value(), to_hex(bytes));
    BOOST_TEST((ec == make_error_code(expected)), to_hex(bytes) << " -> " << ec.message());
}

// client_publish{conn 7, "a/b", 00 ff 80, qos 1, retain false, dup true, id 0x1234}
const std::uint8_t publish_wire[] = {
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

}  // namespace

BOOST_AUTO_TEST_SUITE(events_codec)

BOOST_AUTO_TEST_CASE(round_trip_every_kind) {
    const auto all = samples();
    std::vector<bool> seen(std::variant_size_v<event>, false);
    for (const auto& original : all) {
        seen[original.index()] = true;
        const std::string wire = encode(original);
        boost::system::error_code ec = make_error_code(errc::malformed);
        const auto decoded = decode(wire, ec);
        BOOST_TEST_REQUIRE(decoded.has_value(), name_of(original) << ": " << ec.message());
        BOOST_TEST(!ec);
        BOOST_TEST(same(*decoded, original), name_of(original));
        BOOST_TEST(conn_of(*decoded) == conn_of(original));
    }
    for (std::size_t kind = 0; kind < seen.size(); ++kind) BOOST_TEST(seen[kind], "kind " << kind);
}

BOOST_AUTO_TEST_CASE(pinned_client_publish_with_binary_payload) {
    const event e =
        client_publish{7, "a/b", std::string("\x00\xff\x80", 3), 1, false, true, 0x1234};
    const std::string wire = encode(e);
    BOOST_TEST(to_hex(wire) == to_hex(bytes_of(publish_wire)));
    BOOST_TEST(static_cast<std::uint8_t>(wire[9]) == 0xc4);  // payload is bin8, never str

    boost::system::error_code ec;
    const auto decoded = decode(bytes_of(publish_wire), ec);
    BOOST_TEST_REQUIRE(decoded.has_value());
    BOOST_TEST(same(*decoded, e));
}

BOOST_AUTO_TEST_CASE(pinned_suback) {
    const std::uint8_t wire[] = {
        0x93,                    // envelope: fixarray(3)
        0x01,                    //   protocol_version 1
        0x0a,                    //   kind 10 = suback
        0x93,                    //   body: fixarray(3)
        0xcf, 0x00, 0x00, 0x00,  //     conn: uint64 ...
        0x01, 0x00, 0x00, 0x00,  //
        0x00,                    //           0x1'0000'0000
        0x0a,                    //     packet_id 10
        0x93,                    //     return_codes: fixarray(3)
        0x00,                    //       granted QoS 0
        0x02,                    //       granted QoS 2
        0xcc, 0x80,              //       failure: uint8 0x80
    };
    const event e = suback{0x100000000ull, 10, {0, 2, 0x80}};
    BOOST_TEST(to_hex(encode(e)) == to_hex(bytes_of(wire)));

    boost::system::error_code ec;
    const auto decoded = decode(bytes_of(wire), ec);
    BOOST_TEST_REQUIRE(decoded.has_value());
    BOOST_TEST(same(*decoded, e));
    BOOST_TEST(conn_of(*decoded) == 0x100000000ull);
    BOOST_TEST(name_of(*decoded) == std::string("suback"));
}

BOOST_AUTO_TEST_CASE(pinned_client_connect_with_and_without_will) {
    const std::uint8_t without[] = {
        0x93,       // envelope: fixarray(3)
        0x01,       //   protocol_version 1
        0x01,       //   kind 1 = client_connect
        0x97,       //   body: fixarray(7)
        0x01,       //     conn 1
        0xa1, 'c',  //     client_id: fixstr(1) "c"
        0xc3,       //     clean_session true
        0x04,       //     protocol_level 4
        0x3c,       //     keep_alive 60
        0xa0,       //     username: fixstr(0)
        0xc0,       //     will_message: nil
    };
    const std::uint8_t with[] = {
        0x93,              // envelope: fixarray(3)
        0x01,              //   protocol_version 1
        0x01,              //   kind 1 = client_connect
        0x97,              //   body: fixarray(7)
        0x01,              //     conn 1
        0xa1, 'c',         //     client_id: fixstr(1) "c"
        0xc2,              //     clean_session false
        0x04,              //     protocol_level 4
        0xcd, 0x01, 0x2c,  //     keep_alive: uint16 300
        0xa1, 'u',         //     username: fixstr(1) "u"
        0x94,              //     will_message: fixarray(4)
        0xa1, 'w',         //       topic: fixstr(1) "w"
        0xc4, 0x01, 'x',   //       payload: bin8(1) "x"
        0x02,              //       qos 2
        0xc3,              //       retain true
    };
    const event a = client_connect{1, "c", true, 4, 60, "", std::nullopt};
    const event b = client_connect{1, "c", false, 4, 300, "u", will{"w", "x", 2, true}};
    BOOST_TEST(to_hex(encode(a)) == to_hex(bytes_of(without)));
    BOOST_TEST(to_hex(encode(b)) == to_hex(bytes_of(with)));
    boost::system::error_code ec;
    const auto da = decode(bytes_of(without), ec);
    const auto db = decode(bytes_of(with), ec);
    BOOST_TEST_REQUIRE((da && db));
    BOOST_TEST(same(*da, a));
    BOOST_TEST(same(*db, b));
}

BOOST_AUTO_TEST_CASE(malformed_envelopes) {
    expect_error(""sv, errc::malformed);
    expect_error("\x01"sv, errc::malformed);                          // fixint, not an array
    expect_error("\x80"sv, errc::malformed);                          // empty map
    expect_error("\xa1x"sv, errc::malformed);                         // str
    expect_error("\x90"sv, errc::malformed);                          // empty array
    expect_error("\x92\x01\x02"sv, errc::malformed);                  // envelope of arity 2
    expect_error("\x94\x01\x0b\x92\x01\x02\xc0"sv, errc::malformed);  // envelope of arity 4
    expect_error(
        "\x93\xa1"
        "1\x0b\x92\x01\x02"sv,
        errc::malformed);                                         // version as str
    expect_error("\x93\xff\x0b\x92\x01\x02"sv, errc::malformed);  // version -1
    expect_error(
        "\x93\x01\xa1"
        "b\x92\x01\x02"sv,
        errc::malformed);                                             // kind as str
    expect_error("\x93\x01\x0b\x01"sv, errc::malformed);              // body not an array
    expect_error("\x93\x01\x0b\x91\x01"sv, errc::malformed);          // unsuback with 1 field
    expect_error("\x93\x01\x0b\x93\x01\x02\x03"sv, errc::malformed);  // unsuback with 3 fields
    expect_error("\x93\x01\x0b\x92\x01\x02\x00"sv, errc::malformed);  // trailing
    expect_error("\xdd\xff\xff\xff\xff"sv, errc::malformed);  // array32 of 4G elements, no data
    expect_error(std::string(64, '\x91'), errc::malformed);   // nesting bomb
}

BOOST_AUTO_TEST_CASE(version_and_kind) {
    // A future version: refused whatever its shape.
    expect_error("\x93\x02\x0b\x92\x01\x02"sv, errc::version_mismatch);
    expect_error("\x91\x02"sv, errc::version_mismatch);
    expect_error("\x93\x00\x0b\x92\x01\x02"sv, errc::version_mismatch);
    expect_error("\x93\x01\x63\x90"sv, errc::unknown_kind);          // kind 99
    expect_error("\x93\x01\x15\x92\x01\x02"sv, errc::unknown_kind);  // kind 21: one past the last
    expect_error("\x93\x01\xcf\xff\xff\xff\xff\xff\xff\xff\xff\x90"sv, errc::unknown_kind);
    // The same bytes with a known kind decode fine.
    boost::system::error_code ec;
    BOOST_TEST(decode("\x93\x01\x0b\x92\x01\x02", ec).has_value());
}

BOOST_AUTO_TEST_CASE(wrong_field_types) {
    auto mutated = [](std::size_t at, std::initializer_list<std::uint8_t> replacement,
                      std::size_t remove) {
        std::string s = bytes_of(publish_wire);
        s.replace(at, remove, std::string(replacement.begin(), replacement.end()));
        return s;
    };
    // Layout of publish_wire: [0..3] envelope+body headers, [4] conn, [5..8] topic,
    // [9..13] payload, [14] qos, [15] retain, [16] dup, [17..19] packet_id.
    expect_error(mutated(9, {0xa3}, 2), errc::malformed);        // payload as str
    expect_error(mutated(5, {0xc4, 0x03}, 1), errc::malformed);  // topic as bin
    expect_error(mutated(4, {0xff}, 1), errc::malformed);        // conn -1
    expect_error(mutated(4, {0xc3}, 1), errc::malformed);        // conn as bool
    expect_error(mutated(14, {0x03}, 1), errc::malformed);       // qos 3
    expect_error(mutated(14, {0xc3}, 1), errc::malformed);       // qos as bool
    expect_error(mutated(15, {0x01}, 1), errc::malformed);       // retain as int
    expect_error(mutated(17, {0xce, 0x00, 0x01, 0x00, 0x00}, 3), errc::malformed);  // id 65536
    expect_error(mutated(17, {0xc0}, 3), errc::malformed);                          // id nil
    expect_error(mutated(17, {0xcb, 0, 0, 0, 0, 0, 0, 0, 0}, 3), errc::malformed);  // id float

    // Enums out of range.
    expect_error("\x93\x01\x03\x93\x01\x08\x01"sv, errc::malformed);  // client_ack kind 8
    expect_error("\x93\x01\x03\x93\x01\x03\x01"sv, errc::malformed);  // client_ack kind 3
    expect_error("\x93\x01\x06\x92\x01\x06"sv, errc::malformed);      // disconnect reason 6
    expect_error("\x93\x01\x0c\x92\x01\x7f"sv, errc::malformed);      // close reason 127
    // Nested elements of the wrong shape.
    expect_error("\x93\x01\x04\x93\x01\x01\x91\x92\xa1#\x03"sv, errc::malformed);  // sub qos 3
    expect_error("\x93\x01\x04\x93\x01\x01\x91\x91\xa1#"sv, errc::malformed);      // sub arity 1
    expect_error("\x93\x01\x05\x93\x01\x01\x91\x01"sv, errc::malformed);  // unsubscribe filter int
    expect_error("\x93\x01\x0a\x93\x01\x01\x91\xcd\x01\x00"sv, errc::malformed);  // suback rc 256
    expect_error("\x93\x01\x0a\x93\x01\x01\xc4\x01\x00"sv, errc::malformed);  // return codes as bin
    // client_connect will neither nil nor a will array.
    expect_error(
        "\x93\x01\x01\x97\x01\xa1"
        "c\xc3\x04\x3c\xa0\x01"sv,
        errc::malformed);
    expect_error(
        "\x93\x01\x01\x97\x01\xa1"
        "c\xc3\x04\x3c\xa0\x93\xa1w\xc4\x01x\x02"sv,
        errc::malformed);
}

BOOST_AUTO_TEST_CASE(truncated_input_never_decodes) {
    for (const auto& e : samples()) {
        const std::string wire = encode(e);
        for (std::size_t n = 0; n < wire.size(); n += (n < 64 ? 1 : 997)) {
            expect_error(std::string_view(wire).substr(0, n), errc::malformed);
        }
    }
}

BOOST_AUTO_TEST_CASE(random_garbage_never_throws) {
    std::mt19937 rng(12345);
    const auto all = samples();
    boost::system::error_code ec;
    for (int round = 0; round < 20000; ++round) {
        std::string bytes;
        if (round % 2 == 0) {
            bytes.resize(rng() % 40);
            for (auto& c : bytes) c = static_cast<char>(rng());
        } else {
            bytes = encode(all[rng() % all.size()]);
            const int flips = 1 + rng() % 3;
            for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] = static_cast<char>(rng());
        }
        std::optional<event> e;
        BOOST_REQUIRE_NO_THROW(e = decode(bytes, ec));
        BOOST_TEST_REQUIRE(e.has_value() == !ec);
    }
}

BOOST_AUTO_TEST_CASE(conn_and_name_of) {
    BOOST_TEST(conn_of(hello{"f", protocol_version, 1}) == 0u);
    BOOST_TEST(conn_of(router_hello{"r", 1}) == 0u);
    deliver d;
    d.conn = 42;
    BOOST_TEST(conn_of(d) == 42u);
    BOOST_TEST(conn_of(close_connection{.conn = 43}) == 43u);
    BOOST_TEST(name_of(hello{}) == std::string("hello"));
    BOOST_TEST(name_of(client_connect{}) == std::string("client_connect"));
    BOOST_TEST(name_of(client_publish{}) == std::string("client_publish"));
    BOOST_TEST(name_of(client_ack{}) == std::string("client_ack"));
    BOOST_TEST(name_of(client_subscribe{}) == std::string("client_subscribe"));
    BOOST_TEST(name_of(client_unsubscribe{}) == std::string("client_unsubscribe"));
    BOOST_TEST(name_of(client_disconnect{}) == std::string("client_disconnect"));
    BOOST_TEST(name_of(connack{}) == std::string("connack"));
    BOOST_TEST(name_of(deliver{}) == std::string("deliver"));
    BOOST_TEST(name_of(send_ack{}) == std::string("send_ack"));
    BOOST_TEST(name_of(suback{}) == std::string("suback"));
    BOOST_TEST(name_of(unsuback{}) == std::string("unsuback"));
    BOOST_TEST(name_of(close_connection{}) == std::string("close_connection"));
}

BOOST_AUTO_TEST_CASE(error_category) {
    BOOST_TEST(events_category().name() == std::string("events"));
    const boost::system::error_code ec = errc::version_mismatch;
    BOOST_TEST(&ec.category() == &events_category());
    BOOST_TEST(ec.message() == "event protocol version mismatch");
    BOOST_TEST(make_error_code(errc::malformed).message() == "malformed event envelope");
    BOOST_TEST(make_error_code(errc::unknown_kind).message() == "unknown event kind");
}

BOOST_AUTO_TEST_SUITE_END()
