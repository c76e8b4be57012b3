// CONNECT: wire bytes pinned by hand, decoded and encoded both ways.
#include <boost/test/unit_test.hpp>

#include "tests/unit/codec_test_util.hpp"

using codec_test::bytes;
using codec_test::check_round_trip;

BOOST_AUTO_TEST_SUITE(codec_connect)

BOOST_AUTO_TEST_CASE(minimal_clean_session) {
    const std::string wire = bytes({
        0x10,                    // CONNECT, flags 0000
        0x0f,                    // remaining length 15
        0x00, 0x04,              // protocol name length 4
        0x4d, 0x51, 0x54, 0x54,  // "MQTT"
        0x04,                    // protocol level 4 (3.1.1)
        0x02,                    // connect flags: clean session
        0x00, 0x3c,              // keep alive 60 s
        0x00, 0x03,              // client id length 3
        0x61, 0x62, 0x63,        // "abc"
    });
    mqtt::connect c;
    c.clean_session = true;
    c.keep_alive = 60;
    c.client_id = "abc";
    check_round_trip(wire, c);
}

BOOST_AUTO_TEST_CASE(will_username_password) {
    const std::string wire = bytes({
        0x10,                                // CONNECT, flags 0000
        0x2c,                                // remaining length 44
        0x00, 0x04,                          // protocol name length 4
        0x4d, 0x51, 0x54, 0x54,              // "MQTT"
        0x04,                                // protocol level 4
        0xec,                                // flags: user, pass, will retain, will QoS 1, will
        0x01, 0x2c,                          // keep alive 300 s
        0x00, 0x05,                          // client id length 5
        0x64, 0x65, 0x76, 0x2d, 0x31,        // "dev-1"
        0x00, 0x08,                          // will topic length 8
        0x73, 0x74, 0x2f, 0x64, 0x65, 0x76,  // "st/dev"
        0x2d, 0x31,                          // "-1"
        0x00, 0x03,                          // will payload length 3
        0x6f, 0x66, 0x66,                    // "off"
        0x00, 0x05,                          // username length 5
        0x61, 0x6c, 0x69, 0x63, 0x65,        // "alice"
        0x00, 0x03,                          // password length 3
        0x00, 0xff, 0x01,                    // password: binary, not UTF-8
    });
    mqtt::connect c;
    c.clean_session = false;
    c.keep_alive = 300;
    c.client_id = "dev-1";
    c.will = mqtt::will_message{"st/dev-1", "off", 1, true};
    c.username = "alice";
    c.password = bytes({0x00, 0xff, 0x01});
    check_round_trip(wire, c);
}

BOOST_AUTO_TEST_CASE(will_qos2_username_only_utf8_client_id) {
    const std::string wire = bytes({
        0x10,                    // CONNECT, flags 0000
        0x18,                    // remaining length 24
        0x00, 0x04,              // protocol name length 4
        0x4d, 0x51, 0x54, 0x54,  // "MQTT"
        0x04,                    // protocol level 4
        0x96,                    // flags: username, will QoS 2, will, clean session
        0x00, 0x00,              // keep alive 0 (disabled)
        0x00, 0x02,              // client id length 2
        0xc3, 0xbc,              // "ü" (U+00FC)
        0x00, 0x03,              // will topic length 3
        0x61, 0x2f, 0x62,        // "a/b"
        0x00, 0x00,              // will payload length 0
        0x00, 0x01,              // username length 1
        0x75,                    // "u"
    });
    mqtt::connect c;
    c.clean_session = true;
    c.keep_alive = 0;
    c.client_id = "\xc3\xbc";
    c.will = mqtt::will_message{"a/b", "", 2, false};
    c.username = "u";
    check_round_trip(wire, c);
}

BOOST_AUTO_TEST_CASE(empty_client_id_persistent_session) {
    // The decoder accepts it; refusing it (CONNACK 2) is the connection's job.
    const std::string wire = bytes({
        0x10,                    // CONNECT, flags 0000
        0x0c,                    // remaining length 12
        0x00, 0x04,              // protocol name length 4
        0x4d, 0x51, 0x54, 0x54,  // "MQTT"
        0x04,                    // protocol level 4
        0x00,                    // connect flags: none
        0x00, 0x00,              // keep alive 0
        0x00, 0x00,              // client id length 0
    });
    mqtt::connect c;
    c.clean_session = false;
    check_round_trip(wire, c);
}

BOOST_AUTO_TEST_CASE(mqtt_3_1_mqisdp) {
    const std::string wire = bytes({
        0x10,                                // CONNECT, flags 0000
        0x10,                                // remaining length 16
        0x00, 0x06,                          // protocol name length 6
        0x4d, 0x51, 0x49, 0x73, 0x64, 0x70,  // "MQIsdp"
        0x03,                                // protocol level 3 (3.1)
        0x02,                                // connect flags: clean session
        0x00, 0x0a,                          // keep alive 10 s
        0x00, 0x02,                          // client id length 2
        0x69, 0x64,                          // "id"
    });
    mqtt::connect c;
    c.protocol_name = "MQIsdp";
    c.protocol_level = mqtt::protocol_level_3_1;
    c.clean_session = true;
    c.keep_alive = 10;
    c.client_id = "id";
    check_round_trip(wire, c);
}

BOOST_AUTO_TEST_CASE(username_with_empty_password) {
    const std::string wire = bytes({
        0x10,                    // CONNECT, flags 0000
        0x11,                    // remaining length 17
        0x00, 0x04,              // protocol name length 4
        0x4d, 0x51, 0x54, 0x54,  // "MQTT"
        0x04,                    // protocol level 4
        0xc2,                    // flags: username, password, clean session
        0xff, 0xff,              // keep alive 65535 s
        0x00, 0x00,              // client id length 0
        0x00, 0x01,              // username length 1
        0x78,                    // "x"
        0x00, 0x00,              // password length 0
    });
    mqtt::connect c;
    c.keep_alive = 65535;
    c.username = "x";
    c.password = "";
    check_round_trip(wire, c);
}

BOOST_AUTO_TEST_SUITE_END()
