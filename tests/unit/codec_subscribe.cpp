// SUBSCRIBE, SUBACK and UNSUBSCRIBE: wire bytes pinned by hand, decoded and
// encoded both ways.
#include <boost/test/unit_test.hpp>

#include "tests/unit/codec_test_util.hpp"

using codec_test::bytes;
using codec_test::check_round_trip;

BOOST_AUTO_TEST_SUITE(codec_subscribe)

BOOST_AUTO_TEST_CASE(subscribe_two_filters) {
    const std::string wire = bytes({
        0x82,              // SUBSCRIBE, flags 0010 (required)
        0x0c,              // remaining length 12
        0x00, 0x01,        // packet id 1
        0x00, 0x03,        // filter length 3
        0x61, 0x2f, 0x2b,  // "a/+"
        0x00,              // requested QoS 0
        0x00, 0x01,        // filter length 1
        0x23,              // "#"
        0x02,              // requested QoS 2
    });
    check_round_trip(wire, mqtt::subscribe{1, {{"a/+", 0}, {"#", 2}}});
}

BOOST_AUTO_TEST_CASE(subscribe_invalid_filter_is_left_to_the_router) {
    // "a/#/b" is not a valid filter, but the decoder only checks UTF-8: the
    // router answers it with SUBACK 0x80.
    const std::string wire = bytes({
        0x82,                          // SUBSCRIBE, flags 0010
        0x0a,                          // remaining length 10
        0x00, 0x02,                    // packet id 2
        0x00, 0x05,                    // filter length 5
        0x61, 0x2f, 0x23, 0x2f, 0x62,  // "a/#/b"
        0x01,                          // requested QoS 1
    });
    check_round_trip(wire, mqtt::subscribe{2, {{"a/#/b", 1}}});
}

BOOST_AUTO_TEST_CASE(suback_all_return_codes) {
    const std::string wire = bytes({
        0x90,        // SUBACK, flags 0000
        0x06,        // remaining length 6
        0x00, 0x01,  // packet id 1
        0x00,        // granted QoS 0
        0x01,        // granted QoS 1
        0x02,        // granted QoS 2
        0x80,        // failure
    });
    check_round_trip(wire, mqtt::suback{1, {0, 1, 2, mqtt::suback_failure}});
}

BOOST_AUTO_TEST_CASE(unsubscribe_two_filters) {
    const std::string wire = bytes({
        0xa2,              // UNSUBSCRIBE, flags 0010 (required)
        0x0a,              // remaining length 10
        0x01, 0x02,        // packet id 0x0102
        0x00, 0x03,        // filter length 3
        0x61, 0x2f, 0x2b,  // "a/+"
        0x00, 0x01,        // filter length 1
        0x23,              // "#"
    });
    check_round_trip(wire, mqtt::unsubscribe{0x0102, {"a/+", "#"}});
}

BOOST_AUTO_TEST_SUITE_END()
