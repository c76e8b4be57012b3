// PUBLISH: wire bytes pinned by hand for each QoS and flag combination,
// decoded and encoded both ways.
#include <boost/test/unit_test.hpp>

#include "tests/unit/codec_test_util.hpp"

using codec_test::bytes;
using codec_test::check_encodes;
using codec_test::check_round_trip;
using codec_test::hex;

namespace {

mqtt::publish make_publish(std::string topic, std::string payload, std::uint8_t qos = 0,
                           std::uint16_t id = 0, bool retain = false, bool dup = false) {
    mqtt::publish p;
    p.topic = std::move(topic);
    p.payload = std::move(payload);
    p.qos = qos;
    p.packet_id = id;
    p.retain = retain;
    p.dup = dup;
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(codec_publish)

BOOST_AUTO_TEST_CASE(qos0_retain) {
    const std::string wire = bytes({
        0x31,              // PUBLISH, QoS 0, retain
        0x07,              // remaining length 7
        0x00, 0x03,        // topic length 3
        0x61, 0x2f, 0x62,  // "a/b"
        0x68, 0x69,        // payload "hi" (no packet id at QoS 0)
    });
    check_round_trip(wire, make_publish("a/b", "hi", 0, 0, true));
}

BOOST_AUTO_TEST_CASE(qos1_with_packet_id) {
    const std::string wire = bytes({
        0x32,              // PUBLISH, QoS 1
        0x08,              // remaining length 8
        0x00, 0x01,        // topic length 1
        0x74,              // "t"
        0x12, 0x34,        // packet id 0x1234
        0x78, 0x79, 0x7a,  // payload "xyz"
    });
    check_round_trip(wire, make_publish("t", "xyz", 1, 0x1234));
}

BOOST_AUTO_TEST_CASE(qos2_dup_retain_empty_payload) {
    const std::string wire = bytes({
        0x3d,              // PUBLISH, DUP, QoS 2, retain
        0x07,              // remaining length 7
        0x00, 0x03,        // topic length 3
        0x78, 0x2f, 0x79,  // "x/y"
        0xff, 0xff,        // packet id 65535; empty payload
    });
    check_round_trip(wire, make_publish("x/y", "", 2, 0xffff, true, true));
}

BOOST_AUTO_TEST_CASE(qos0_empty_payload) {
    const std::string wire = bytes({
        0x30,        // PUBLISH, QoS 0
        0x03,        // remaining length 3
        0x00, 0x01,  // topic length 1
        0x2f,        // "/" (a valid name: two empty levels)
    });
    check_round_trip(wire, make_publish("/", ""));
}

BOOST_AUTO_TEST_CASE(binary_payload_is_not_utf8_checked) {
    const std::string wire = bytes({
        0x30,                    // PUBLISH, QoS 0
        0x07,                    // remaining length 7
        0x00, 0x01,              // topic length 1
        0x74,                    // "t"
        0x00, 0xff, 0x00, 0xc0,  // payload: NUL, 0xff, NUL, lone lead byte
    });
    check_round_trip(wire, make_publish("t", bytes({0x00, 0xff, 0x00, 0xc0})));
}

BOOST_AUTO_TEST_CASE(utf8_topic) {
    const std::string wire = bytes({
        0x30,              // PUBLISH, QoS 0
        0x08,              // remaining length 8
        0x00, 0x06,        // topic length 6
        0xe2, 0x82, 0xac,  // "€" (U+20AC)
        0x2f,              // "/"
        0xc2, 0xb0,        // "°" (U+00B0); empty payload
    });
    check_round_trip(wire, make_publish("\xe2\x82\xac/\xc2\xb0", ""));
}

BOOST_AUTO_TEST_CASE(two_byte_remaining_length) {
    const std::string payload(200, 'x');
    const std::string wire = bytes({
                                 0x30,        // PUBLISH, QoS 0
                                 0xcb, 0x01,  // remaining length 203 = 0x4b + 1 * 128
                                 0x00, 0x01,  // topic length 1
                                 0x74,        // "t"
                             }) +
                             payload;  // 200 x "x"
    check_round_trip(wire, make_publish("t", payload));
}

BOOST_AUTO_TEST_CASE(three_byte_remaining_length) {
    const std::string payload(16381, 'p');
    const std::string wire = bytes({
                                 0x30,              // PUBLISH, QoS 0
                                 0x80, 0x80, 0x01,  // remaining length 16384 = 1 * 128^2
                                 0x00, 0x01,        // topic length 1
                                 0x74,              // "t"
                             }) +
                             payload;  // 16381 x "p"
    check_round_trip(wire, make_publish("t", payload));
}

BOOST_AUTO_TEST_CASE(qos0_packet_id_is_not_written) {
    const std::string wire = bytes({
        0x30,        // PUBLISH, QoS 0
        0x04,        // remaining length 4
        0x00, 0x01,  // topic length 1
        0x74,        // "t"
        0x21,        // payload "!" -- no packet id although the struct holds 7
    });
    check_encodes(make_publish("t", "!", 0, 7), wire);
}

BOOST_AUTO_TEST_CASE(encode_appends_to_existing_bytes) {
    std::string out = "prefix";
    mqtt::encode(make_publish("t", "", 1, 1), out);
    BOOST_TEST(hex(out) == hex("prefix" + bytes({
                                              0x32,        // PUBLISH, QoS 1
                                              0x05,        // remaining length 5
                                              0x00, 0x01,  // topic length 1
                                              0x74,        // "t"
                                              0x00, 0x01,  // packet id 1
                                          })));
}

BOOST_AUTO_TEST_CASE(encode_publish_from_parts) {
    // The frontend's delivery path: the same bytes as from a packet.
    std::string out = "p";
    mqtt::encode_publish({1, true, true}, "a/b", 0x0102, "xy", out);
    BOOST_TEST(hex(out) == hex("p" + bytes({
                                         0x3b,              // PUBLISH, DUP, QoS 1, retain
                                         0x09,              // remaining length 9
                                         0x00, 0x03,        // topic length 3
                                         0x61, 0x2f, 0x62,  // "a/b"
                                         0x01, 0x02,        // packet id 0x0102
                                         0x78, 0x79,        // payload "xy"
                                     })));
    out.clear();
    mqtt::encode_publish({0, false, false}, "t", 9, "", out);
    BOOST_TEST(hex(out) == hex(bytes({
                               0x30,        // PUBLISH, QoS 0
                               0x03,        // remaining length 3
                               0x00, 0x01,  // topic length 1
                               0x74,        // "t"; no packet id at QoS 0, empty payload
                           })));
}

BOOST_AUTO_TEST_SUITE_END()
