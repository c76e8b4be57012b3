// CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK, PINGREQ, PINGRESP and
// DISCONNECT: wire bytes pinned by hand, decoded and encoded both ways.
#include <boost/test/unit_test.hpp>

#include "tests/unit/codec_test_util.hpp"

using codec_test::bytes;
using codec_test::check_round_trip;

BOOST_AUTO_TEST_SUITE(codec_acks)

BOOST_AUTO_TEST_CASE(connack_accepted_session_present) {
    const std::string wire = bytes({
        0x20,  // CONNACK, flags 0000
        0x02,  // remaining length 2
        0x01,  // acknowledge flags: session present
        0x00,  // return code 0: accepted
    });
    check_round_trip(wire, mqtt::connack{true, 0});
}

BOOST_AUTO_TEST_CASE(connack_not_authorized) {
    const std::string wire = bytes({
        0x20,  // CONNACK, flags 0000
        0x02,  // remaining length 2
        0x00,  // acknowledge flags: no session
        0x05,  // return code 5: not authorized
    });
    check_round_trip(
        wire,
        mqtt::connack{false, static_cast<std::uint8_t>(mqtt::connect_return_code::not_authorized)});
}

BOOST_AUTO_TEST_CASE(puback) {
    const std::string wire = bytes({
        0x40,        // PUBACK, flags 0000
        0x02,        // remaining length 2
        0x00, 0x0a,  // packet id 10
    });
    check_round_trip(wire, mqtt::puback{10});
}

BOOST_AUTO_TEST_CASE(pubrec) {
    const std::string wire = bytes({
        0x50,        // PUBREC, flags 0000
        0x02,        // remaining length 2
        0x01, 0x00,  // packet id 256
    });
    check_round_trip(wire, mqtt::pubrec{256});
}

BOOST_AUTO_TEST_CASE(pubrel) {
    const std::string wire = bytes({
        0x62,        // PUBREL, flags 0010 (required)
        0x02,        // remaining length 2
        0xab, 0xcd,  // packet id 0xabcd
    });
    check_round_trip(wire, mqtt::pubrel{0xabcd});
}

BOOST_AUTO_TEST_CASE(pubcomp) {
    const std::string wire = bytes({
        0x70,        // PUBCOMP, flags 0000
        0x02,        // remaining length 2
        0xff, 0xff,  // packet id 65535
    });
    check_round_trip(wire, mqtt::pubcomp{65535});
}

BOOST_AUTO_TEST_CASE(unsuback) {
    const std::string wire = bytes({
        0xb0,        // UNSUBACK, flags 0000
        0x02,        // remaining length 2
        0x00, 0x01,  // packet id 1
    });
    check_round_trip(wire, mqtt::unsuback{1});
}

BOOST_AUTO_TEST_CASE(pingreq) {
    const std::string wire = bytes({
        0xc0,  // PINGREQ, flags 0000
        0x00,  // remaining length 0
    });
    check_round_trip(wire, mqtt::pingreq{});
}

BOOST_AUTO_TEST_CASE(pingresp) {
    const std::string wire = bytes({
        0xd0,  // PINGRESP, flags 0000
        0x00,  // remaining length 0
    });
    check_round_trip(wire, mqtt::pingresp{});
}

BOOST_AUTO_TEST_CASE(disconnect) {
    const std::string wire = bytes({
        0xe0,  // DISCONNECT, flags 0000
        0x00,  // remaining length 0
    });
    check_round_trip(wire, mqtt::disconnect{});
}

BOOST_AUTO_TEST_SUITE_END()
