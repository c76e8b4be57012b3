// The UTF-8 validator used for every MQTT string (3.1.1 section 1.5.3).
#include <boost/test/unit_test.hpp>
#include <string>

#include "common/mqtt/utf8.hpp"
#include "tests/unit/codec_test_util.hpp"

using codec_test::bytes;
using codec_test::hex;
using mqtt::valid_utf8;

BOOST_AUTO_TEST_SUITE(codec_utf8)

BOOST_AUTO_TEST_CASE(accepts_well_formed) {
    const std::string good[] = {
        "",
        "plain/ascii topic",
        bytes({0x01, 0x1f, 0x7f}),        // control characters: allowed (SHOULD NOT only)
        bytes({0xc2, 0x80}),              // U+0080, smallest 2-byte
        bytes({0xdf, 0xbf}),              // U+07FF, largest 2-byte
        bytes({0xe0, 0xa0, 0x80}),        // U+0800, smallest 3-byte
        bytes({0xed, 0x9f, 0xbf}),        // U+D7FF, just below the surrogates
        bytes({0xee, 0x80, 0x80}),        // U+E000, just above the surrogates
        bytes({0xef, 0xbf, 0xbf}),        // U+FFFF, a non-character: allowed
        bytes({0xef, 0xbb, 0xbf}),        // U+FEFF (BOM): allowed, kept as is
        bytes({0xf0, 0x90, 0x80, 0x80}),  // U+10000, smallest 4-byte
        bytes({0xf0, 0x9f, 0x98, 0x80}),  // U+1F600
        bytes({0xf4, 0x8f, 0xbf, 0xbf}),  // U+10FFFF, the largest code point
        "a" + bytes({0xc3, 0xa9}) + "b",  // "aéb"
    };
    for (const auto& s : good) {
        BOOST_TEST(valid_utf8(s), "rejected " << hex(s));
    }
}

BOOST_AUTO_TEST_CASE(rejects_ill_formed) {
    const std::string bad[] = {
        bytes({0x00}),                          // U+0000
        bytes({0x61, 0x00, 0x62}),              // U+0000 inside
        bytes({0xc0, 0x80}),                    // overlong U+0000
        bytes({0xc1, 0xbf}),                    // overlong U+007F
        bytes({0xe0, 0x80, 0x80}),              // overlong U+0000, 3 bytes
        bytes({0xe0, 0x9f, 0xbf}),              // overlong U+07FF
        bytes({0xf0, 0x80, 0x80, 0x80}),        // overlong, 4 bytes
        bytes({0xf0, 0x8f, 0xbf, 0xbf}),        // overlong U+FFFF
        bytes({0xed, 0xa0, 0x80}),              // U+D800, first surrogate
        bytes({0xed, 0xbf, 0xbf}),              // U+DFFF, last surrogate
        bytes({0xf4, 0x90, 0x80, 0x80}),        // U+110000
        bytes({0xf5, 0x80, 0x80, 0x80}),        // lead byte beyond U+10FFFF
        bytes({0xf8, 0x88, 0x80, 0x80, 0x80}),  // 5-byte form
        bytes({0xff}),                          // never valid
        bytes({0x80}),                          // lone continuation byte
        bytes({0x61, 0xbf}),                    // continuation after ASCII
        bytes({0xe2, 0x82}),                    // cut 3-byte sequence at the end
        bytes({0xe2, 0x28, 0xa1}),              // bad second byte
        bytes({0xf0, 0x9f, 0x98}),              // cut 4-byte sequence
        bytes({0xc3, 0x61}),                    // lead byte followed by ASCII
    };
    for (const auto& s : bad) {
        BOOST_TEST(!valid_utf8(s), "accepted " << hex(s));
    }
}

BOOST_AUTO_TEST_SUITE_END()
