// The event decoder's msgpack cursor, on hand-written bytes: every form of
// each type it accepts (also those msgpack-c's packer never writes for our
// events, as another encoder might), the types it refuses, and that a read
// cut short anywhere fails and leaves the cursor where it was.
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/events/msgpack_reader.hpp"
#include "wire_bytes.hpp"

using events::msgpack_reader;
using test_util::bytes_of;

BOOST_AUTO_TEST_SUITE(events_msgpack_reader)

namespace {

std::uint64_t read_uint(const std::string& bytes, bool& ok) {
    msgpack_reader r(bytes, 0);
    std::uint64_t v = 0;
    ok = r.uint(v) && r.pos() == bytes.size();
    return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(unsigned_integers_in_every_width) {
    struct sample {
        std::string bytes;
        std::uint64_t value;
    };
    const std::uint8_t fixint[] = {0x7f};
    const std::uint8_t u8[] = {0xcc, 0xff};
    const std::uint8_t u16[] = {0xcd, 0x12, 0x34};
    const std::uint8_t u32[] = {0xce, 0x12, 0x34, 0x56, 0x78};
    const std::uint8_t u64[] = {0xcf, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    const std::uint8_t u64max[] = {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    // Signed forms holding a non-negative value (msgpack-c reads them so).
    const std::uint8_t i8[] = {0xd0, 0x7f};
    const std::uint8_t i16[] = {0xd1, 0x01, 0x00};
    const std::uint8_t i32[] = {0xd2, 0x00, 0x01, 0x00, 0x00};
    const std::uint8_t i64[] = {0xd3, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
    const sample samples[] = {
        {bytes_of(fixint), 0x7f},
        {bytes_of(u8), 0xff},
        {bytes_of(u16), 0x1234},
        {bytes_of(u32), 0x12345678},
        {bytes_of(u64), 0x0102030405060708},
        {bytes_of(u64max), 0xffffffffffffffff},
        {bytes_of(i8), 0x7f},
        {bytes_of(i16), 0x100},
        {bytes_of(i32), 0x10000},
        {bytes_of(i64), 0x100000000},
    };
    for (const auto& s : samples) {
        bool ok = false;
        const auto v = read_uint(s.bytes, ok);
        BOOST_TEST(ok, test_util::to_hex(s.bytes));
        BOOST_TEST(v == s.value, test_util::to_hex(s.bytes));
    }
}

BOOST_AUTO_TEST_CASE(negative_integers_and_other_types_are_not_unsigned) {
    const std::uint8_t refused[][3] = {
        {0xff, 0, 0},                                       // negative fixint -1
        {0xe0, 0, 0},                                       // negative fixint -32
        {0xd0, 0x80, 0},                                    // int8 -128
        {0xd1, 0xff, 0xff}, {0xc0, 0, 0},                   // nil
        {0xc3, 0, 0},                                       // true
        {0xa1, 'x', 0},     {0x91, 0x01, 0}, {0xca, 0, 0},  // float32 (and too short)
        {0xc1, 0, 0},                                       // never used
    };
    for (const auto& b : refused) {
        const std::string bytes(reinterpret_cast<const char*>(b), sizeof b);
        msgpack_reader r(bytes, 0);
        std::uint64_t v = 0;
        BOOST_TEST(!r.uint(v), test_util::to_hex(bytes));
        BOOST_TEST(r.pos() == 0u);
    }
}

BOOST_AUTO_TEST_CASE(strings_and_binaries_in_every_width) {
    const std::uint8_t fixstr[] = {0xa3, 'a', 'b', 'c'};
    const std::uint8_t str8[] = {0xd9, 0x03, 'a', 'b', 'c'};
    const std::uint8_t str16[] = {0xda, 0x00, 0x03, 'a', 'b', 'c'};
    const std::uint8_t str32[] = {0xdb, 0x00, 0x00, 0x00, 0x03, 'a', 'b', 'c'};
    for (const auto& bytes : {bytes_of(fixstr), bytes_of(str8), bytes_of(str16), bytes_of(str32)}) {
        msgpack_reader r(bytes, 0);
        std::string_view v;
        BOOST_TEST(r.str(v), test_util::to_hex(bytes));
        BOOST_TEST(v == "abc");
        BOOST_TEST(r.pos() == bytes.size());
        msgpack_reader as_bin(bytes, 0);
        BOOST_TEST(!as_bin.bin(v));  // a str is not a bin
    }
    const std::uint8_t bin8[] = {0xc4, 0x02, 0x00, 0xff};
    const std::uint8_t bin16[] = {0xc5, 0x00, 0x02, 0x00, 0xff};
    const std::uint8_t bin32[] = {0xc6, 0x00, 0x00, 0x00, 0x02, 0x00, 0xff};
    for (const auto& bytes : {bytes_of(bin8), bytes_of(bin16), bytes_of(bin32)}) {
        msgpack_reader r(bytes, 0);
        std::string_view v;
        BOOST_TEST(r.bin(v), test_util::to_hex(bytes));
        BOOST_TEST((v == std::string_view("\x00\xff", 2)));
        BOOST_TEST(r.pos() == bytes.size());
        msgpack_reader as_str(bytes, 0);
        BOOST_TEST(!as_str.str(v));  // a bin is not a str
    }
    const std::uint8_t empty[] = {0xa0};
    const std::string empty_str = bytes_of(empty);
    msgpack_reader r(empty_str, 0);
    std::string_view v = "x";
    BOOST_TEST(r.str(v));
    BOOST_TEST(v.empty());
}

BOOST_AUTO_TEST_CASE(arrays_booleans_and_nil) {
    const std::uint8_t bytes[] = {0x95,                    // fixarray of 5
                                  0xdc, 0x01, 0x00,        // array16 of 256
                                  0xdd, 0x00, 0x01, 0x00,  // array32 of 65536
                                  0x00, 0xc2, 0xc3, 0xc0};
    const std::string in = bytes_of(bytes);
    msgpack_reader r(in, 0);
    std::uint32_t n = 0;
    BOOST_TEST(r.array(n));
    BOOST_TEST(n == 5u);
    BOOST_TEST(r.array(n));
    BOOST_TEST(n == 256u);
    BOOST_TEST(r.array(n));
    BOOST_TEST(n == 65536u);
    bool b = true;
    BOOST_TEST(!r.nil());  // false is not nil, and stays to be read
    BOOST_TEST(r.boolean(b));
    BOOST_TEST(!b);
    BOOST_TEST(r.boolean(b));
    BOOST_TEST(b);
    BOOST_TEST(!r.boolean(b));  // nil is not a boolean
    BOOST_TEST(r.nil());
    BOOST_TEST(r.pos() == in.size());
    BOOST_TEST(!r.nil());  // the end
    BOOST_TEST(!r.array(n));
    const std::uint8_t map[] = {0x81, 0x00, 0x00};
    const std::string map_bytes = bytes_of(map);
    msgpack_reader m(map_bytes, 0);
    BOOST_TEST(!m.array(n));  // a map is not an array
}

BOOST_AUTO_TEST_CASE(a_read_cut_short_fails_and_leaves_the_cursor) {
    const std::uint8_t values[][9] = {
        {0xcf, 1, 2, 3, 4, 5, 6, 7, 8},
        {0xd3, 0, 1, 2, 3, 4, 5, 6, 7},
        {0xdb, 0, 0, 0, 3, 'a', 'b', 'c'},
        {0xd9, 3, 'a', 'b', 'c'},
        {0xa3, 'a', 'b', 'c'},
        {0xc6, 0, 0, 0, 2, 'x', 'y'},
        {0xdd, 0, 0, 0, 1},
    };
    const std::size_t sizes[] = {9, 9, 8, 5, 4, 7, 5};
    for (std::size_t i = 0; i < std::size(sizes); ++i) {
        const std::string whole(reinterpret_cast<const char*>(values[i]), sizes[i]);
        for (std::size_t cut = 0; cut < whole.size(); ++cut) {
            // Two bytes before, so the cursor does not start at 0.
            const std::string in = "\xc0\xc0" + whole.substr(0, cut);
            msgpack_reader r(in, 2);
            std::uint64_t u = 0;
            std::uint32_t n = 0;
            std::string_view v;
            BOOST_TEST(!r.uint(u));
            BOOST_TEST(!r.str(v));
            BOOST_TEST(!r.bin(v));
            BOOST_TEST(!r.array(n));
            BOOST_TEST(r.pos() == 2u, test_util::to_hex(in));
        }
    }
    // A length beyond the input, however large, is refused without reading.
    const std::uint8_t huge[] = {0xdb, 0xff, 0xff, 0xff, 0xff, 'a'};
    const std::string huge_bytes = bytes_of(huge);
    msgpack_reader r(huge_bytes, 0);
    std::string_view v;
    BOOST_TEST(!r.str(v));
    BOOST_TEST(r.pos() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
