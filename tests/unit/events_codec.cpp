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
#include "events_test_util.hpp"
#include "wire_bytes.hpp"

using namespace events;
using namespace std::string_view_literals;

namespace {

using events_test::expect_error;
using events_test::publish_wire;
using events_test::publish_wire_v1;
using events_test::same;
using test_util::bytes_of;
using test_util::to_hex;

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
        client_publish{7, "a/b", all_bytes(), 1, false, true, 0x1234, 1700000000123456},
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
        deliver{9, "d/e", std::string("\x00\x01\x02", 3), 2, true, true, 300, max64},
        send_ack{10, ack_kind::pubrec, 2},
        send_ack{10, ack_kind::pubrel, 3},
        suback{11, 13, {0, 1, 2, 0x80}},
        suback{11, 14, {}},
        unsuback{12, 15},
        close_connection{13, disconnect_reason::taken_over},
        router_hello{"router-1", 7},
        router_hello{"", max64},
        route_publish{"router-a", 1234567, "a/b", all_bytes(), 2, true, 42},
        route_publish{"router-a", 1234568, "a/b", "x", 1, false, 0, 1234567},
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
        router_stats{"router-1", 5, {{"clients.connected", 3}, {"messages.received", max64}}},
        router_stats{"", 0, {}},
        route_ack{"router-2", 1234567, false},
        route_ack{"", max64, true},
        deliver_many{"a/b", std::string("\x00\x01", 2), false, 42, {{1, 0, 0}, {max64, 2, 65535}}},
        deliver_many{"", "", true, 0, {}},
    };
}

// Replaces `old` at `at` with `replacement` in a copy of `wire`, checking that
// `old` is what is there (so a wrong offset fails loudly rather than testing
// something else). Chain calls from the highest offset down.
std::string patched(std::string wire, std::size_t at, std::initializer_list<std::uint8_t> old,
                    std::initializer_list<std::uint8_t> replacement) {
    const std::string was(old.begin(), old.end());
    BOOST_TEST_REQUIRE(wire.substr(at, was.size()) == was, "patch at " << at);
    wire.replace(at, was.size(), std::string(replacement.begin(), replacement.end()));
    return wire;
}

// session_fetch{request 300, client_id "cl", requester "rb"}
const std::uint8_t session_fetch_wire[] = {
    0x93,              // [0]  envelope: fixarray(3)
    0x01,              // [1]    protocol_version 1
    0x10,              // [2]    kind 16 = session_fetch
    0x93,              // [3]    body: fixarray(3)
    0xcd, 0x01, 0x2c,  // [4]      request: uint16 300
    0xa2, 'c',  'l',   // [7]      client_id: fixstr(2) "cl"
    0xa2, 'r',  'b',   // [10]     requester: fixstr(2) "rb"
};

// A small session_state: every list holds one entry, the window two (one
// with its message, one awaiting PUBCOMP without). The bracketed numbers are
// byte offsets, used by the malformed cases below.
const std::uint8_t session_state_wire[] = {
    0x93,                   // [0]  envelope: fixarray(3)
    0x01,                   // [1]    protocol_version 1
    0x11,                   // [2]    kind 17 = session_state
    0x9b,                   // [3]    body: fixarray(11)
    0x03,                   // [4]      request 3
    0xa1, 'c',              // [5]      client_id: fixstr(1) "c"
    0xa2, 'r',  'a',        // [7]      sender: fixstr(2) "ra"
    0xc3,                   // [10]     found true
    0x91,                   // [11]     subscriptions: fixarray(1)
    0x92,                   // [12]       fixarray(2)
    0xa3, 't',  '/',  '#',  // [13]         filter: fixstr(3) "t/#"
    0x01,                   // [17]         qos 1
    0x92,                   // [18]     inflight: fixarray(2)
    0x95,                   // [19]       fixarray(5)
    0x01,                   // [20]         packet_id 1
    0x00,                   // [21]         state 0 (awaiting PUBACK)
    0x01,                   // [22]         qos 1
    0xc2,                   // [23]         retain false
    0x96,                   // [24]         message: fixarray(6)
    0xa3, 't',  '/',  'a',  // [25]           topic: fixstr(3) "t/a"
    0xc4, 0x01, 'x',        // [29]           payload: bin8(1) "x"
    0x01,                   // [32]           qos 1
    0xc2,                   // [33]           retain false
    0xcd, 0x01, 0x02,       // [34]           stamp: uint16 0x0102
    0xa2, 'r',  'a',        // [37]           origin: fixstr(2) "ra"
    0x95,                   // [40]       fixarray(5)
    0xcd, 0x01, 0x00,       // [41]         packet_id: uint16 256
    0x02,                   // [44]         state 2 (awaiting PUBCOMP)
    0x02,                   // [45]         qos 2
    0xc3,                   // [46]         retain true
    0xc0,                   // [47]         message: nil
    0x91,                   // [48]     queue: fixarray(1)
    0x93,                   // [49]       fixarray(3)
    0x96,                   // [50]         message: fixarray(6)
    0xa3, 't',  '/',  'b',  // [51]           topic: fixstr(3) "t/b"
    0xc4, 0x00,             // [55]           payload: bin8(0)
    0x02,                   // [57]           qos 2
    0xc2,                   // [58]           retain false
    0x05,                   // [59]           stamp 5
    0xa2, 'r',  'c',        // [60]           origin: fixstr(2) "rc"
    0x01,                   // [63]         delivery qos 1
    0xc2,                   // [64]         retain false
    0x91,                   // [65]     inbound_qos2: fixarray(1)
    0x09,                   // [66]       packet id 9
    0xcd, 0x01, 0x00,       // [67]     last_packet_id: uint16 256
    0x91,                   // [70]     seen: fixarray(1)
    0x92,                   // [71]       fixarray(2)
    0xa2, 'r',  'a',        // [72]         origin: fixstr(2) "ra"
    0xcd, 0x01, 0x02,       // [75]         stamp: uint16 0x0102
    0xa0,                   // [78]     pushed_to: fixstr(0)
};

session_state small_session_state() {
    session_state s;
    s.request = 3;
    s.client_id = "c";
    s.sender = "ra";
    s.found = true;
    s.subscriptions = {{"t/#", 1}};
    s.inflight = {{1, 0, 1, false, stored_message{"t/a", "x", 1, false, 0x0102, "ra"}},
                  {256, 2, 2, true, std::nullopt}};
    s.queue = {{stored_message{"t/b", "", 2, false, 5, "rc"}, 1, false}};
    s.inbound_qos2 = {9};
    s.last_packet_id = 256;
    s.seen = {{"ra", 0x0102}};
    return s;
}

// retained_sync{sender "ra", one message, last true}
const std::uint8_t retained_sync_wire[] = {
    0x93,                          // [0]  envelope: fixarray(3)
    0x01,                          // [1]    protocol_version 1
    0x14,                          // [2]    kind 20 = retained_sync
    0x93,                          // [3]    body: fixarray(3)
    0xa2, 'r',  'a',               // [4]      sender: fixstr(2) "ra"
    0x91,                          // [7]      messages: fixarray(1)
    0x96,                          // [8]        fixarray(6)
    0xa3, 'r',  '/',  '1',         // [9]          topic: fixstr(3) "r/1"
    0xc4, 0x02, 'o',  'n',         // [13]         payload: bin8(2) "on"
    0x01,                          // [17]         qos 1
    0xc3,                          // [18]         retain true
    0xce, 0x00, 0x01, 0x00, 0x00,  // [19]         stamp: uint32 0x10000
    0xa2, 'r',  'b',               // [24]         origin: fixstr(2) "rb"
    0xc3,                          // [27]     last true
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
    const event e = client_publish{
        7, "a/b", std::string("\x00\xff\x80", 3), 1, false, true, 0x1234, 1700000000123456};
    const std::string wire = encode(e);
    BOOST_TEST(to_hex(wire) == to_hex(bytes_of(publish_wire)));
    BOOST_TEST(static_cast<std::uint8_t>(wire[9]) == 0xc4);  // payload is bin8, never str

    boost::system::error_code ec;
    const auto decoded = decode(bytes_of(publish_wire), ec);
    BOOST_TEST_REQUIRE(decoded.has_value());
    BOOST_TEST(same(*decoded, e));
}

BOOST_AUTO_TEST_CASE(appended_field_is_optional_for_readers) {
    // A sender that predates received_us: the body has 7 fields, the value is 0.
    boost::system::error_code ec;
    const auto decoded = decode(bytes_of(publish_wire_v1), ec);
    BOOST_TEST_REQUIRE(decoded.has_value(), ec.message());
    const event expected =
        client_publish{7, "a/b", std::string("\x00\xff\x80", 3), 1, false, true, 0x1234, 0};
    BOOST_TEST(same(*decoded, expected));
    // Fewer than the original fields, or more than this version knows, are malformed.
    std::string six = bytes_of(publish_wire_v1);
    six[3] = '\x96';
    six.resize(six.size() - 3);  // without packet_id
    expect_error(six, errc::malformed);
    std::string nine = bytes_of(publish_wire);
    nine[3] = '\x99';
    nine += '\x00';
    expect_error(nine, errc::malformed);
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

BOOST_AUTO_TEST_CASE(pinned_session_fetch) {
    const event e = session_fetch{300, "cl", "rb"};
    BOOST_TEST(to_hex(encode(e)) == to_hex(bytes_of(session_fetch_wire)));
    boost::system::error_code ec;
    const auto decoded = decode(bytes_of(session_fetch_wire), ec);
    BOOST_TEST_REQUIRE(decoded.has_value(), ec.message());
    BOOST_TEST(same(*decoded, e));
    BOOST_TEST(name_of(*decoded) == std::string("session_fetch"));
    BOOST_TEST(conn_of(*decoded) == 0u);
}

BOOST_AUTO_TEST_CASE(pinned_session_state) {
    const event e = small_session_state();
    BOOST_TEST(to_hex(encode(e)) == to_hex(bytes_of(session_state_wire)));
    boost::system::error_code ec;
    const auto decoded = decode(bytes_of(session_state_wire), ec);
    BOOST_TEST_REQUIRE(decoded.has_value(), ec.message());
    BOOST_TEST(same(*decoded, e));
    const auto& s = std::get<session_state>(*decoded);
    BOOST_TEST_REQUIRE(s.inflight.size() == 2u);
    BOOST_TEST(s.inflight[0].message.has_value());
    BOOST_TEST(!s.inflight[1].message.has_value());  // nil, not an empty message
    BOOST_TEST(s.pushed_to.empty());
}

BOOST_AUTO_TEST_CASE(pinned_retained_sync) {
    const event e =
        retained_sync{"ra", {stored_message{"r/1", "on", 1, true, 0x10000, "rb"}}, true};
    BOOST_TEST(to_hex(encode(e)) == to_hex(bytes_of(retained_sync_wire)));
    boost::system::error_code ec;
    const auto decoded = decode(bytes_of(retained_sync_wire), ec);
    BOOST_TEST_REQUIRE(decoded.has_value(), ec.message());
    BOOST_TEST(same(*decoded, e));
}

BOOST_AUTO_TEST_CASE(malformed_session_fetch) {
    const std::string w = bytes_of(session_fetch_wire);
    // Arity 2 (requester missing) and 4 (a trailing nil).
    expect_error(patched(patched(w, 10, {0xa2, 'r', 'b'}, {}), 3, {0x93}, {0x92}), errc::malformed);
    expect_error(patched(w + '\xc0', 3, {0x93}, {0x94}), errc::malformed);
    expect_error(patched(w, 4, {0xcd, 0x01, 0x2c}, {0xa1, '1'}), errc::malformed);  // request str
    expect_error(patched(w, 4, {0xcd, 0x01, 0x2c}, {0xff}), errc::malformed);       // request -1
    expect_error(patched(w, 7, {0xa2}, {0xc4, 0x02}), errc::malformed);       // client_id as bin
    expect_error(patched(w, 10, {0xa2, 'r', 'b'}, {0xc0}), errc::malformed);  // requester nil
}

BOOST_AUTO_TEST_CASE(malformed_session_state) {
    const std::string w = bytes_of(session_state_wire);
    // Body arity 10 (pushed_to missing) and 12 (a trailing nil).
    expect_error(patched(patched(w, 78, {0xa0}, {}), 3, {0x9b}, {0x9a}), errc::malformed);
    expect_error(patched(w + '\xc0', 3, {0x9b}, {0x9c}), errc::malformed);
    expect_error(patched(w, 10, {0xc3}, {0x01}), errc::malformed);  // found as int
    // Subscriptions: qos 3; an entry of arity 1.
    expect_error(patched(w, 17, {0x01}, {0x03}), errc::malformed);
    expect_error(patched(patched(w, 17, {0x01}, {}), 12, {0x92}, {0x91}), errc::malformed);
    // In-flight: state 3 (with and without a message), qos 3, arity 4,
    // message neither nil nor an array, message of arity 5, message qos 3,
    // state 0 with no message is well-formed (the router drops it on import).
    expect_error(patched(w, 21, {0x00}, {0x03}), errc::malformed);
    expect_error(patched(w, 44, {0x02}, {0x03}), errc::malformed);
    expect_error(patched(w, 22, {0x01}, {0x03}), errc::malformed);
    expect_error(patched(patched(w, 47, {0xc0}, {}), 40, {0x95}, {0x94}), errc::malformed);
    expect_error(patched(w, 47, {0xc0}, {0xc2}), errc::malformed);
    expect_error(patched(patched(w, 37, {0xa2, 'r', 'a'}, {}), 24, {0x96}, {0x95}),
                 errc::malformed);
    expect_error(patched(w, 32, {0x01}, {0x03}), errc::malformed);
    // Queue: delivery qos 3, message qos 3, entry of arity 2.
    expect_error(patched(w, 63, {0x01}, {0x03}), errc::malformed);
    expect_error(patched(w, 57, {0x02}, {0x03}), errc::malformed);
    expect_error(patched(patched(w, 64, {0xc2}, {}), 49, {0x93}, {0x92}), errc::malformed);
    // Inbound QoS 2 ids: 0 is no packet id; 65536 does not fit; not an int.
    expect_error(patched(w, 66, {0x09}, {0x00}), errc::malformed);
    expect_error(patched(w, 66, {0x09}, {0xce, 0x00, 0x01, 0x00, 0x00}), errc::malformed);
    expect_error(patched(w, 66, {0x09}, {0xa1, '9'}), errc::malformed);
    // last_packet_id 65536; a seen entry of arity 1; pushed_to nil.
    expect_error(patched(w, 67, {0xcd, 0x01, 0x00}, {0xce, 0x00, 0x01, 0x00, 0x00}),
                 errc::malformed);
    expect_error(patched(patched(w, 75, {0xcd, 0x01, 0x02}, {}), 71, {0x92}, {0x91}),
                 errc::malformed);
    expect_error(patched(w, 78, {0xa0}, {0xc0}), errc::malformed);

    // The unmutated bytes, and a state-0 entry without its message, decode.
    boost::system::error_code ec;
    BOOST_TEST(decode(w, ec).has_value());
    const auto no_message = patched(
        w, 24,
        {0x96, 0xa3, 't', '/', 'a', 0xc4, 0x01, 'x', 0x01, 0xc2, 0xcd, 0x01, 0x02, 0xa2, 'r', 'a'},
        {0xc0});
    const auto d = decode(no_message, ec);
    BOOST_TEST_REQUIRE(d.has_value(), ec.message());
    BOOST_TEST(!std::get<session_state>(*d).inflight[0].message.has_value());
}

BOOST_AUTO_TEST_CASE(malformed_retained_sync) {
    const std::string w = bytes_of(retained_sync_wire);
    // Arity 2 (last missing) and 4.
    expect_error(patched(patched(w, 27, {0xc3}, {}), 3, {0x93}, {0x92}), errc::malformed);
    expect_error(patched(w + '\xc3', 3, {0x93}, {0x94}), errc::malformed);
    expect_error(patched(w, 17, {0x01}, {0x03}), errc::malformed);  // message qos 3
    expect_error(patched(patched(w, 24, {0xa2, 'r', 'b'}, {}), 8, {0x96}, {0x95}),
                 errc::malformed);                                  // message of arity 5
    expect_error(patched(w, 13, {0xc4}, {0xa2}), errc::malformed);  // payload as str
    expect_error(patched(w, 27, {0xc3}, {0x01}), errc::malformed);  // last as int
    expect_error(patched(patched(w, 8,
                                 {0x96, 0xa3, 'r', '/', '1', 0xc4, 0x02, 'o', 'n', 0x01, 0xc3, 0xce,
                                  0x00, 0x01, 0x00, 0x00, 0xa2, 'r', 'b'},
                                 {}),
                         7, {0x91}, {0xc0}),
                 errc::malformed);                                 // messages nil
    expect_error(patched(w, 7, {0x91}, {0x92}), errc::malformed);  // says 2 messages, has 1
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
    expect_error("\x93\x01\x18\x92\x01\x02"sv, errc::unknown_kind);  // kind 24: one past the last
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

// router_stats{"r1", incarnation 5, [["a", 3]]}
const std::uint8_t router_stats_wire[] = {
    0x93,              // envelope: fixarray(3)
    0x01,              //   protocol_version 1
    0x15,              //   kind 21 = router_stats
    0x93,              //   body: fixarray(3)
    0xa2, 0x72, 0x31,  //     router_id fixstr(2) "r1"
    0x05,              //     incarnation 5
    0x91,              //     values: fixarray(1)
    0x92,              //       fixarray(2)
    0xa1, 0x61,        //         name fixstr(1) "a"
    0x03,              //         value 3
};

BOOST_AUTO_TEST_CASE(router_stats_wire_form) {
    const router_stats expected{"r1", 5, {{"a", 3}}};
    BOOST_TEST(to_hex(encode(expected)) == to_hex(bytes_of(router_stats_wire)));
    boost::system::error_code ec;
    const auto e = decode(bytes_of(router_stats_wire), ec);
    BOOST_TEST_REQUIRE(e.has_value(), ec.message());
    BOOST_TEST(same(*e, expected));
    // A value that is not an unsigned integer is malformed.
    auto bad = bytes_of(router_stats_wire);
    bad[bad.size() - 1] = static_cast<char>(0xa1);  // value -> fixstr(1) header, truncated
    expect_error(bad, errc::malformed);
}

BOOST_AUTO_TEST_CASE(route_ack_wire_form) {
    const std::uint8_t wire[] = {
        0x93,              // envelope: fixarray(3)
        0x01,              //   protocol_version 1
        0x16,              //   kind 22 = route_ack
        0x93,              //   body: fixarray(3)
        0xa2, 'r',  '2',   //     router_id: fixstr(2) "r2"
        0xcd, 0x01, 0x00,  //     stamp: uint16 256
        0xc3,              //     resend true
    };
    const route_ack expected{"r2", 256, true};
    BOOST_TEST(to_hex(encode(expected)) == to_hex(bytes_of(wire)));
    boost::system::error_code ec;
    const auto e = decode(bytes_of(wire), ec);
    BOOST_TEST_REQUIRE(e.has_value(), ec.message());
    BOOST_TEST(same(*e, expected));
    BOOST_TEST(std::string(name_of(*e)) == "route_ack");
}

BOOST_AUTO_TEST_CASE(route_publish_prev_is_appended) {
    const std::uint8_t wire[] = {
        0x93,             // envelope: fixarray(3)
        0x01,             //   protocol_version 1
        0x0e,             //   kind 14 = route_publish
        0x98,             //   body: fixarray(8)
        0xa1, 'a',        //     origin "a"
        0x0a,             //     stamp 10
        0xa1, 't',        //     topic "t"
        0xc4, 0x01, 'p',  //     payload: bin8(1) "p"
        0x01,             //     qos 1
        0xc2,             //     retain false
        0x05,             //     received_us 5
        0x09,             //     prev 9
    };
    const route_publish expected{"a", 10, "t", "p", 1, false, 5, 9};
    BOOST_TEST(to_hex(encode(expected)) == to_hex(bytes_of(wire)));
    boost::system::error_code ec;
    auto e = decode(bytes_of(wire), ec);
    BOOST_TEST_REQUIRE(e.has_value(), ec.message());
    BOOST_TEST(same(*e, expected));
    // A sender that predates prev (7 fields): prev reads as 0 ("unknown").
    std::string seven = bytes_of(wire);
    seven[3] = '\x97';
    seven.pop_back();
    e = decode(seven, ec);
    BOOST_TEST_REQUIRE(e.has_value(), ec.message());
    BOOST_TEST(std::get<route_publish>(*e).prev == 0u);
    BOOST_TEST(std::get<route_publish>(*e).received_us == 5u);
}

// deliver_many{"t", "p", retain false, received_us 5, targets [conn 7 qos 0 id 0,
//               conn 300 qos 1 id 2]}
const std::uint8_t deliver_many_wire[] = {
    0x93,              // envelope: fixarray(3)
    0x01,              //   protocol_version 1
    0x17,              //   kind 23 = deliver_many
    0x95,              //   body: fixarray(5)
    0xa1, 't',         //     topic "t"
    0xc4, 0x01, 'p',   //     payload: bin8(1) "p"
    0xc2,              //     retain false
    0x05,              //     received_us 5
    0x92,              //     targets: fixarray(2)
    0x93,              //       fixarray(3)
    0x07,              //         conn 7
    0x00,              //         qos 0
    0x00,              //         packet_id 0
    0x93,              //       fixarray(3)
    0xcd, 0x01, 0x2c,  //         conn: uint16 300
    0x01,              //         qos 1
    0x02,              //         packet_id 2
};

BOOST_AUTO_TEST_CASE(pinned_deliver_many) {
    const deliver_many e{"t", "p", false, 5, {{7, 0, 0}, {300, 1, 2}}};
    BOOST_TEST(to_hex(encode(e)) == to_hex(bytes_of(deliver_many_wire)));
    boost::system::error_code ec;
    const auto d = decode(bytes_of(deliver_many_wire), ec);
    BOOST_TEST_REQUIRE(d.has_value(), ec.message());
    BOOST_TEST(same(*d, e));
    BOOST_TEST(conn_of(*d) == 0u);  // names no single connection
    // A target with QoS 3, or of two fields, is malformed.
    std::string bad = bytes_of(deliver_many_wire);
    bad[bad.size() - 2] = 0x03;
    expect_error(bad, errc::malformed);
    bad = bytes_of(deliver_many_wire);
    bad[12] = '\x92';  // the first target: fixarray(2)
    expect_error(bad, errc::malformed);
}

BOOST_AUTO_TEST_SUITE_END()
