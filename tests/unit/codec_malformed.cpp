// Every rule the decoder enforces: a packet breaking it is rejected (nullopt)
// with the exact errc. One broken field per case; the rest is well-formed.
#include <boost/test/unit_test.hpp>
#include <random>

#include "tests/unit/codec_test_util.hpp"

using codec_test::bytes;
using codec_test::check_rejects;
using codec_test::with_header;
using mqtt::errc;

BOOST_AUTO_TEST_SUITE(codec_malformed)

// ---- fixed header ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(fixed_header_flags) {
    check_rejects(bytes({0x60,          // PUBREL, flags 0000 instead of 0010
                         0x02,          // remaining length 2
                         0x00, 0x01}),  // packet id 1
                  errc::invalid_fixed_header_flags);
    check_rejects(bytes({0x61,          // PUBREL, flags 0001 instead of 0010
                         0x02,          // remaining length 2
                         0x00, 0x01}),  // packet id 1
                  errc::invalid_fixed_header_flags);
    check_rejects(bytes({0x80,              // SUBSCRIBE, flags 0000 instead of 0010
                         0x06,              // remaining length 6
                         0x00, 0x01,        // packet id 1
                         0x00, 0x01, 0x61,  // filter "a"
                         0x00}),            // QoS 0
                  errc::invalid_fixed_header_flags);
    check_rejects(bytes({0xa0,                // UNSUBSCRIBE, flags 0000 instead of 0010
                         0x05,                // remaining length 5
                         0x00, 0x01,          // packet id 1
                         0x00, 0x01, 0x61}),  // filter "a"
                  errc::invalid_fixed_header_flags);
    check_rejects(bytes({0x42,          // PUBACK, flags 0010
                         0x02,          // remaining length 2
                         0x00, 0x01}),  // packet id 1
                  errc::invalid_fixed_header_flags);
    check_rejects(bytes({0x58,          // PUBREC, flags 1000
                         0x02,          // remaining length 2
                         0x00, 0x01}),  // packet id 1
                  errc::invalid_fixed_header_flags);
    check_rejects(bytes({0x74,          // PUBCOMP, flags 0100
                         0x02,          // remaining length 2
                         0x00, 0x01}),  // packet id 1
                  errc::invalid_fixed_header_flags);
    check_rejects(bytes({0xb2,          // UNSUBACK, flags 0010
                         0x02,          // remaining length 2
                         0x00, 0x01}),  // packet id 1
                  errc::invalid_fixed_header_flags);
    check_rejects(bytes({0x92,        // SUBACK, flags 0010
                         0x03,        // remaining length 3
                         0x00, 0x01,  // packet id 1
                         0x00}),      // return code 0
                  errc::invalid_fixed_header_flags);
    check_rejects(bytes({0x28,    // CONNACK, flags 1000
                         0x02,    // remaining length 2
                         0x00,    // acknowledge flags
                         0x00}),  // return code 0
                  errc::invalid_fixed_header_flags);
    check_rejects(bytes({0x11,    // CONNECT, flags 0001 (checked before the body)
                         0x00}),  // remaining length 0
                  errc::invalid_fixed_header_flags);
    check_rejects(bytes({0xc1,    // PINGREQ, flags 0001
                         0x00}),  // remaining length 0
                  errc::invalid_fixed_header_flags);
    check_rejects(bytes({0xd2,    // PINGRESP, flags 0010
                         0x00}),  // remaining length 0
                  errc::invalid_fixed_header_flags);
    check_rejects(bytes({0xef,    // DISCONNECT, flags 1111
                         0x00}),  // remaining length 0
                  errc::invalid_fixed_header_flags);
}

BOOST_AUTO_TEST_CASE(reserved_packet_types) {
    boost::system::error_code ec;
    for (std::uint8_t header : {0x00, 0x02, 0xf0, 0xff}) {
        mqtt::raw_packet raw{header, ""};
        BOOST_TEST(!mqtt::decode(raw, ec).has_value());
        BOOST_TEST(ec == errc::invalid_packet_type);
    }
}

// ---- PUBLISH -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(publish_qos3) {
    check_rejects(bytes({0x36,              // PUBLISH, QoS 3
                         0x05,              // remaining length 5
                         0x00, 0x01, 0x74,  // topic "t"
                         0x00, 0x01}),      // packet id 1
                  errc::invalid_qos);
}

BOOST_AUTO_TEST_CASE(publish_dup_with_qos0) {
    check_rejects(bytes({0x38,                // PUBLISH, DUP, QoS 0
                         0x03,                // remaining length 3
                         0x00, 0x01, 0x74}),  // topic "t"
                  errc::invalid_fixed_header_flags);
}

BOOST_AUTO_TEST_CASE(publish_topic_not_utf8) {
    check_rejects(with_header(0x30, bytes({0x00, 0x01, 0xff})), errc::invalid_utf8);  // 0xff
    check_rejects(with_header(0x30, bytes({0x00, 0x02, 0x61, 0x00})),                 // "a" U+0000
                  errc::invalid_utf8);
    check_rejects(with_header(0x30, bytes({0x00, 0x02, 0xc0, 0xaf})),  // overlong "/"
                  errc::invalid_utf8);
    check_rejects(with_header(0x30, bytes({0x00, 0x03, 0xed, 0xa0, 0x80})),  // U+D800
                  errc::invalid_utf8);
    check_rejects(with_header(0x30, bytes({0x00, 0x04, 0xf4, 0x90, 0x80, 0x80})),  // U+110000
                  errc::invalid_utf8);
}

BOOST_AUTO_TEST_CASE(publish_topic_name_rules) {
    check_rejects(with_header(0x30, bytes({0x00, 0x03, 0x61, 0x2f, 0x2b})),  // "a/+"
                  errc::invalid_topic_name);
    check_rejects(with_header(0x30, bytes({0x00, 0x01, 0x23})),  // "#"
                  errc::invalid_topic_name);
    check_rejects(with_header(0x30, bytes({0x00, 0x00, 0x61})),  // "" then payload "a"
                  errc::invalid_topic_name);
}

BOOST_AUTO_TEST_CASE(publish_zero_packet_id) {
    check_rejects(bytes({0x32,              // PUBLISH, QoS 1
                         0x05,              // remaining length 5
                         0x00, 0x01, 0x74,  // topic "t"
                         0x00, 0x00}),      // packet id 0
                  errc::zero_packet_id);
    check_rejects(bytes({0x34,              // PUBLISH, QoS 2
                         0x05,              // remaining length 5
                         0x00, 0x01, 0x74,  // topic "t"
                         0x00, 0x00}),      // packet id 0
                  errc::zero_packet_id);
}

BOOST_AUTO_TEST_CASE(publish_truncated) {
    check_rejects(with_header(0x32, bytes({0x00, 0x01, 0x74})), errc::truncated_packet);  // no id
    check_rejects(with_header(0x32, bytes({0x00, 0x01, 0x74, 0x00})),  // half an id
                  errc::truncated_packet);
    check_rejects(with_header(0x30, bytes({0x00, 0x05, 0x74})),  // topic length 5, 1 byte
                  errc::truncated_packet);
    check_rejects(with_header(0x30, bytes({0x00})), errc::truncated_packet);  // half a length
    check_rejects(with_header(0x30, ""), errc::truncated_packet);             // empty body
}

// ---- CONNECT -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(connect_protocol_name) {
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x58,  // "MQTX"
                                           0x04,                                // level 4
                                           0x02,                                // clean session
                                           0x00, 0x3c,                          // keep alive 60
                                           0x00, 0x01, 0x61})),                 // client id "a"
                  errc::invalid_protocol_name);
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x6d, 0x71, 0x74, 0x74,  // "mqtt"
                                           0x04,                                // level 4
                                           0x02,                                // clean session
                                           0x00, 0x3c,                          // keep alive 60
                                           0x00, 0x01, 0x61})),                 // client id "a"
                  errc::invalid_protocol_name);
    check_rejects(with_header(0x10, bytes({0x00, 0x00,           // protocol name ""
                                           0x04,                 // level 4
                                           0x02,                 // clean session
                                           0x00, 0x3c,           // keep alive 60
                                           0x00, 0x01, 0x61})),  // client id "a"
                  errc::invalid_protocol_name);
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51})),  // "MQ" of 4 bytes
                  errc::truncated_packet);
}

BOOST_AUTO_TEST_CASE(connect_protocol_level) {
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x03,                                // level 3
                                           0x02,                                // clean session
                                           0x00, 0x3c,                          // keep alive 60
                                           0x00, 0x01, 0x61})),                 // client id "a"
                  errc::unsupported_protocol_level);
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x05,                                // level 5
                                           0x02,                                // clean session
                                           0x00, 0x3c,                          // keep alive 60
                                           0x00,           // 5.0 property length 0
                                           0x00, 0x00})),  // client id ""
                  errc::unsupported_protocol_level);
    check_rejects(with_header(0x10, bytes({0x00, 0x06, 0x4d, 0x51, 0x49,  // "MQI"
                                           0x73, 0x64, 0x70,              // "sdp"
                                           0x04,                          // level 4
                                           0x02,                          // clean session
                                           0x00, 0x3c,                    // keep alive 60
                                           0x00, 0x01, 0x61})),           // client id "a"
                  errc::unsupported_protocol_level);
}

BOOST_AUTO_TEST_CASE(connect_reserved_flag) {
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x03,        // flags: clean session + reserved bit 0
                                           0x00, 0x3c,  // keep alive 60
                                           0x00, 0x01, 0x61})),  // client id "a"
                  errc::invalid_connect_flags);
}

BOOST_AUTO_TEST_CASE(connect_will_fields_without_will_flag) {
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x0a,        // flags: will QoS 1, no will flag, clean
                                           0x00, 0x3c,  // keep alive 60
                                           0x00, 0x01, 0x61})),  // client id "a"
                  errc::invalid_connect_flags);
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x22,        // flags: will retain, no will flag, clean
                                           0x00, 0x3c,  // keep alive 60
                                           0x00, 0x01, 0x61})),  // client id "a"
                  errc::invalid_connect_flags);
}

BOOST_AUTO_TEST_CASE(connect_will_qos3) {
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x1e,        // flags: will QoS 3, will, clean session
                                           0x00, 0x3c,  // keep alive 60
                                           0x00, 0x01, 0x61,  // client id "a"
                                           0x00, 0x01, 0x74,  // will topic "t"
                                           0x00, 0x00})),     // will payload ""
                  errc::invalid_qos);
}

BOOST_AUTO_TEST_CASE(connect_password_without_username) {
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x42,                 // flags: password, clean
                                           0x00, 0x3c,           // keep alive 60
                                           0x00, 0x01, 0x61,     // client id "a"
                                           0x00, 0x01, 0x70})),  // password "p"
                  errc::invalid_connect_flags);
}

BOOST_AUTO_TEST_CASE(connect_strings_not_utf8) {
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x02,                                // clean session
                                           0x00, 0x3c,                          // keep alive 60
                                           0x00, 0x02, 0xc0, 0x80})),  // client id: overlong NUL
                  errc::invalid_utf8);
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x02,                                // clean session
                                           0x00, 0x3c,                          // keep alive 60
                                           0x00, 0x01, 0x00})),                 // client id: U+0000
                  errc::invalid_utf8);
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x06,              // flags: will, clean session
                                           0x00, 0x3c,        // keep alive 60
                                           0x00, 0x01, 0x61,  // client id "a"
                                           0x00, 0x01, 0xff,  // will topic: 0xff
                                           0x00, 0x00})),     // will payload ""
                  errc::invalid_utf8);
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x82,                 // flags: username, clean
                                           0x00, 0x3c,           // keep alive 60
                                           0x00, 0x01, 0x61,     // client id "a"
                                           0x00, 0x03,           // username length 3
                                           0xed, 0xbf, 0xbf})),  // username: U+DFFF
                  errc::invalid_utf8);
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x82,              // flags: username, clean
                                           0x00, 0x3c,        // keep alive 60
                                           0x00, 0x01, 0x61,  // client id "a"
                                           0x00, 0x02,        // username length 2
                                           0xe2, 0x82})),     // username: cut sequence
                  errc::invalid_utf8);
}

BOOST_AUTO_TEST_CASE(connect_will_topic_name_rules) {
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x06,              // flags: will, clean session
                                           0x00, 0x3c,        // keep alive 60
                                           0x00, 0x01, 0x61,  // client id "a"
                                           0x00, 0x03,        // will topic length 3
                                           0x61, 0x2f, 0x23,  // will topic "a/#"
                                           0x00, 0x00})),     // will payload ""
                  errc::invalid_topic_name);
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x06,              // flags: will, clean session
                                           0x00, 0x3c,        // keep alive 60
                                           0x00, 0x01, 0x61,  // client id "a"
                                           0x00, 0x00,        // will topic ""
                                           0x00, 0x00})),     // will payload ""
                  errc::invalid_topic_name);
}

BOOST_AUTO_TEST_CASE(connect_trailing_bytes) {
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x02,                                // clean session
                                           0x00, 0x3c,                          // keep alive 60
                                           0x00, 0x01, 0x61,                    // client id "a"
                                           0x00})),                             // one byte too many
                  errc::trailing_bytes);
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x02,                                // clean session
                                           0x00, 0x3c,                          // keep alive 60
                                           0x00, 0x01, 0x61,                    // client id "a"
                                           0x00, 0x01, 0x75})),  // a username, flag not set
                  errc::trailing_bytes);
}

BOOST_AUTO_TEST_CASE(connect_truncated) {
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x02,                                // clean session
                                           0x00})),                             // half a keep alive
                  errc::truncated_packet);
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04})),                             // level 4, no flags
                  errc::truncated_packet);
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x82,                 // flags: username, clean
                                           0x00, 0x3c,           // keep alive 60
                                           0x00, 0x01, 0x61})),  // client id "a"; no username
                  errc::truncated_packet);
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0x06,              // flags: will, clean session
                                           0x00, 0x3c,        // keep alive 60
                                           0x00, 0x01, 0x61,  // client id "a"
                                           0x00, 0x01, 0x74,  // will topic "t"
                                           0x00, 0x05,        // will payload length 5
                                           0x6f, 0x66})),     // only 2 bytes of it
                  errc::truncated_packet);
    check_rejects(with_header(0x10, bytes({0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,  // "MQTT"
                                           0x04,                                // level 4
                                           0xc2,                 // flags: username, password, clean
                                           0x00, 0x3c,           // keep alive 60
                                           0x00, 0x01, 0x61,     // client id "a"
                                           0x00, 0x01, 0x75})),  // username "u"; no password
                  errc::truncated_packet);
}

// ---- CONNACK -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(connack_rules) {
    check_rejects(bytes({0x20, 0x02,  // CONNACK, remaining length 2
                         0x02,        // acknowledge flags: reserved bit 1
                         0x00}),      // return code 0
                  errc::invalid_connect_flags);
    check_rejects(bytes({0x20, 0x02,  // CONNACK, remaining length 2
                         0x80,        // acknowledge flags: reserved bit 7
                         0x00}),      // return code 0
                  errc::invalid_connect_flags);
    check_rejects(bytes({0x20, 0x03, 0x00, 0x00, 0x00}), errc::trailing_bytes);  // 3-byte body
    check_rejects(bytes({0x20, 0x01, 0x00}), errc::truncated_packet);            // 1-byte body
}

// ---- SUBSCRIBE / SUBACK / UNSUBSCRIBE ----------------------------------------

BOOST_AUTO_TEST_CASE(subscribe_rules) {
    check_rejects(with_header(0x82, bytes({0x00, 0x00,        // packet id 0
                                           0x00, 0x01, 0x61,  // filter "a"
                                           0x00})),           // QoS 0
                  errc::zero_packet_id);
    check_rejects(with_header(0x82, bytes({0x00, 0x01})),  // packet id 1, no filters
                  errc::empty_subscribe);
    check_rejects(with_header(0x82, bytes({0x00, 0x01,        // packet id 1
                                           0x00, 0x01, 0x61,  // filter "a"
                                           0x04})),           // QoS byte with bit 2 set
                  errc::invalid_subscribe_options);
    check_rejects(with_header(0x82, bytes({0x00, 0x01,        // packet id 1
                                           0x00, 0x01, 0x61,  // filter "a"
                                           0x81})),           // QoS byte with bit 7 set
                  errc::invalid_subscribe_options);
    check_rejects(with_header(0x82, bytes({0x00, 0x01,        // packet id 1
                                           0x00, 0x01, 0x61,  // filter "a"
                                           0x03})),           // QoS 3
                  errc::invalid_qos);
    check_rejects(with_header(0x82, bytes({0x00, 0x01,        // packet id 1
                                           0x00, 0x01, 0x61,  // filter "a"
                                           0x01,              // QoS 1
                                           0x00, 0x01, 0x62,  // filter "b"
                                           0x03})),           // QoS 3
                  errc::invalid_qos);
    check_rejects(with_header(0x82, bytes({0x00, 0x01,           // packet id 1
                                           0x00, 0x01, 0x61})),  // filter "a", no QoS byte
                  errc::truncated_packet);
    check_rejects(with_header(0x82, bytes({0x00, 0x01,        // packet id 1
                                           0x00, 0x01, 0xfe,  // filter: 0xfe
                                           0x00})),           // QoS 0
                  errc::invalid_utf8);
    check_rejects(with_header(0x82, ""), errc::truncated_packet);  // no packet id
}

BOOST_AUTO_TEST_CASE(unsubscribe_rules) {
    check_rejects(with_header(0xa2, bytes({0x00, 0x00,           // packet id 0
                                           0x00, 0x01, 0x61})),  // filter "a"
                  errc::zero_packet_id);
    check_rejects(with_header(0xa2, bytes({0x00, 0x01})),  // packet id 1, no filters
                  errc::empty_subscribe);
    check_rejects(with_header(0xa2, bytes({0x00, 0x01,           // packet id 1
                                           0x00, 0x05, 0x61})),  // filter length 5, 1 byte
                  errc::truncated_packet);
    check_rejects(with_header(0xa2, bytes({0x00, 0x01,                 // packet id 1
                                           0x00, 0x02, 0x61, 0x00})),  // filter "a" U+0000
                  errc::invalid_utf8);
}

BOOST_AUTO_TEST_CASE(suback_rules) {
    check_rejects(with_header(0x90, bytes({0x00, 0x01,  // packet id 1
                                           0x03})),     // return code 3
                  errc::invalid_qos);
    check_rejects(with_header(0x90, bytes({0x00, 0x01,  // packet id 1
                                           0x00,        // return code 0
                                           0x81})),     // return code 0x81
                  errc::invalid_qos);
    check_rejects(with_header(0x90, bytes({0x00, 0x01})),  // packet id 1, no return codes
                  errc::truncated_packet);
    check_rejects(with_header(0x90, bytes({0x00, 0x00,  // packet id 0
                                           0x00})),     // return code 0
                  errc::zero_packet_id);
}

// ---- packets with only a packet id, and empty packets -----------------------

BOOST_AUTO_TEST_CASE(packet_id_only_rules) {
    // PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK with their required flags.
    for (unsigned header : {0x40u, 0x50u, 0x62u, 0x70u, 0xb0u}) {
        BOOST_TEST_CONTEXT("header " << header) {
            check_rejects(with_header(header, bytes({0x00, 0x01, 0x00})),  // id 1 + 1 byte
                          errc::trailing_bytes);
            check_rejects(with_header(header, bytes({0x00})), errc::truncated_packet);  // 1 byte
            check_rejects(with_header(header, ""), errc::truncated_packet);  // empty body
            check_rejects(with_header(header, bytes({0x00, 0x00})),          // id 0
                          errc::zero_packet_id);
        }
    }
}

BOOST_AUTO_TEST_CASE(empty_packets_with_a_body) {
    check_rejects(bytes({0xc0, 0x01, 0x00}), errc::trailing_bytes);        // PINGREQ + 1 byte
    check_rejects(bytes({0xd0, 0x01, 0x00}), errc::trailing_bytes);        // PINGRESP + 1 byte
    check_rejects(bytes({0xe0, 0x02, 0x00, 0x00}), errc::trailing_bytes);  // DISCONNECT + 2
}

// ---- random input ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(random_bodies_decode_cleanly_or_round_trip) {
    // Random headers and short bodies over a small alphabet (so that many are
    // well-formed). Every packet the decoder accepts must encode back to the
    // very same bytes; every other one must fail with an error code set.
    std::mt19937 rng(20240601);
    const unsigned char alphabet[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x2f, 0x61, 0x80, 0xc3, 0xa9};
    std::size_t accepted = 0;
    for (int i = 0; i < 200000; ++i) {
        mqtt::raw_packet raw;
        raw.header = static_cast<std::uint8_t>(rng() & 0xff);
        const std::size_t n = rng() % 12;
        for (std::size_t k = 0; k < n; ++k) raw.body.push_back(alphabet[rng() % sizeof alphabet]);

        boost::system::error_code ec;
        auto p = mqtt::decode(raw, ec);
        if (!p) {
            BOOST_TEST_REQUIRE(ec.failed());
            continue;
        }
        ++accepted;
        BOOST_TEST_REQUIRE(!ec.failed());
        const std::string wire = bytes({raw.header, static_cast<unsigned>(n)}) + raw.body;
        BOOST_TEST_REQUIRE(codec_test::hex(mqtt::encode(*p)) == codec_test::hex(wire));
    }
    BOOST_TEST(accepted > 500u);  // 680 with this seed
}

BOOST_AUTO_TEST_SUITE_END()
