// The stats snapshot codec (common/stats/snapshot.hpp, docs/stats.md): wire
// bytes pinned by hand, round trips, and malformed input (decode never throws).
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/stats/snapshot.hpp"
#include "wire_bytes.hpp"

using namespace stats;

namespace {

using test_util::bytes_of;
using test_util::to_hex;

// Samples 5, 10 and 60 us in buckets (..10], (10..100], (100..): counts 2, 1, 0.
snapshot small() {
    snapshot s;
    s.kind = process_kind::router;
    s.id = "r1";
    s.incarnation = 7;
    s.sequence = 3;
    s.uptime_ms = 1500;
    s.counter("m.in", 5);
    s.gauge("g", 300);
    s.histograms.push_back({"h", {10, 100}, {2, 1, 0}, 75, 60});
    return s;
}

// The bytes of small(), by hand.
const std::uint8_t small_wire[] = {
    0x89,                                                                     // map of 9
    0xa6, 's',  'c',  'h',  'e',  'm',  'a', 0x01,                            // "schema": 1
    0xa4, 'k',  'i',  'n',  'd',                                              // "kind":
    0xa6, 'r',  'o',  'u',  't',  'e',  'r',                                  //   "router"
    0xa2, 'i',  'd',  0xa2, 'r',  '1',                                        // "id": "r1"
    0xab, 'i',  'n',  'c',  'a',  'r',  'n', 'a',  't', 'i', 'o', 'n', 0x07,  // "incarnation": 7
    0xa3, 's',  'e',  'q',  0x03,                                             // "seq": 3
    0xa9, 'u',  'p',  't',  'i',  'm',  'e', '_',  'm', 's',                  // "uptime_ms":
    0xcd, 0x05, 0xdc,                                                         //   uint16 1500
    0xa8, 'c',  'o',  'u',  'n',  't',  'e', 'r',  's',                       // "counters":
    0x81,                                                                     //   map of 1
    0xa4, 'm',  '.',  'i',  'n',  0x05,                                       //   "m.in": 5
    0xa6, 'g',  'a',  'u',  'g',  'e',  's',                                  // "gauges":
    0x81,                                                                     //   map of 1
    0xa1, 'g',  0xcd, 0x01, 0x2c,                                             //   "g": uint16 300
    0xaa, 'h',  'i',  's',  't',  'o',  'g', 'r',  'a', 'm', 's',             // "histograms":
    0x81,                                                                     //   map of 1
    0xa1, 'h',                                                                //   "h":
    0x86,                                                                     //     map of 6
    0xa6, 'b',  'o',  'u',  'n',  'd',  's',                                  //     "bounds":
    0x92, 0x0a, 0x64,                                                         //       [10, 100]
    0xa6, 'c',  'o',  'u',  'n',  't',  's',                                  //     "counts":
    0x93, 0x02, 0x01, 0x00,                                                   //       [2, 1, 0]
    0xa3, 's',  'u',  'm',  0x4b,                                             //     "sum": 75
    0xa3, 'm',  'a',  'x',  0x3c,                                             //     "max": 60
    0xa3, 'p',  '5',  '0',  0x0a,  //     "p50": 10 (2nd of 3 samples: bucket ..10)
    0xa3, 'p',  '9',  '9',  0x3c,  //     "p99": 60 (3rd: bucket ..100, max 60)
};

// A header with `extra` fields appended (the map count given by hand).
std::string header(std::uint8_t map_header, std::string_view extra = {}) {
    const std::uint8_t fields[] = {
        0xa6, 's', 'c', 'h',  'e',  'm',  'a', 0x01,                             // "schema": 1
        0xa4, 'k', 'i', 'n',  'd',  0xa6, 'b', 'r',  'o', 'k', 'e',  'r',        // "kind": "broker"
        0xa2, 'i', 'd', 0xa1, 'b',                                               // "id": "b"
        0xab, 'i', 'n', 'c',  'a',  'r',  'n', 'a',  't', 'i', 'o',  'n', 0x01,  // "incarnation": 1
        0xa3, 's', 'e', 'q',  0x01,                                              // "seq": 1
        0xa9, 'u', 'p', 't',  'i',  'm',  'e', '_',  'm', 's', 0x00,             // "uptime_ms": 0
    };
    return std::string(1, static_cast<char>(map_header)) + bytes_of(fields) + std::string(extra);
}

void fails(std::string_view bytes, errc expected) {
    boost::system::error_code ec;
    auto s = decode(bytes, ec);
    BOOST_TEST(!s.has_value());
    BOOST_TEST(ec == make_error_code(expected), "got " << ec.message() << " for " << to_hex(bytes));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(stats_codec)

BOOST_AUTO_TEST_CASE(encodes_a_small_snapshot_exactly) {
    BOOST_TEST(to_hex(encode(small())) == to_hex(bytes_of(small_wire)));
}

BOOST_AUTO_TEST_CASE(decodes_the_pinned_bytes) {
    boost::system::error_code ec;
    auto s = decode(bytes_of(small_wire), ec);
    BOOST_TEST_REQUIRE(s.has_value(), ec.message());
    BOOST_TEST(!ec.failed());
    BOOST_TEST(s->schema == 1u);
    BOOST_TEST(name_of(s->kind) == "router");
    BOOST_TEST(s->id == "r1");
    BOOST_TEST(s->incarnation == 7u);
    BOOST_TEST(s->sequence == 3u);
    BOOST_TEST(s->uptime_ms == 1500u);
    BOOST_TEST_REQUIRE(s->find_counter("m.in"));
    BOOST_TEST(*s->find_counter("m.in") == 5u);
    BOOST_TEST(*s->find_gauge("g") == 300u);
    BOOST_TEST(!s->find_counter("g"));  // counters and gauges are apart
    const auto* h = s->find_histogram("h");
    BOOST_TEST_REQUIRE(h);
    BOOST_TEST(h->count() == 3u);
    BOOST_TEST(h->percentile(0.5) == 10u);
    BOOST_TEST(h->percentile(0.99) == 60u);
    BOOST_TEST((*s == small()));
}

BOOST_AUTO_TEST_CASE(round_trips_big_values_and_a_real_histogram) {
    snapshot s;
    s.kind = process_kind::frontend;
    s.id = "frontend-1";
    s.incarnation = 0xfedcba9876543210u;
    s.sequence = 1u << 20;
    s.uptime_ms = 86'400'000;
    s.counter("connections.total", 4'000'000'000u);
    s.counter("bytes.in", 0xffffffffffffffffu);
    s.gauge("connections.current", 0);
    histogram h;
    for (int i = 0; i < 100; ++i) h.record(static_cast<std::uint64_t>(i) * 1000);
    s.add_histogram("latency.delivery_us", h);
    boost::system::error_code ec;
    auto back = decode(encode(s), ec);
    BOOST_TEST_REQUIRE(back.has_value(), ec.message());
    BOOST_TEST((*back == s));
    BOOST_TEST(back->find_histogram("latency.delivery_us")->percentile(0.99) == h.percentile(0.99));
}

BOOST_AUTO_TEST_CASE(ignores_unknown_fields) {
    // A newer writer of the same schema added a field: still readable.
    const std::uint8_t extra[] = {0xa5, 'l',  'a',  't', 'e',
                                  'r',  0x92, 0x01, 0x02};  // "later": [1, 2]
    boost::system::error_code ec;
    auto s = decode(header(0x87, bytes_of(extra)), ec);
    BOOST_TEST_REQUIRE(s.has_value(), ec.message());
    BOOST_TEST(name_of(s->kind) == "broker");
    BOOST_TEST(s->counters.empty());
    BOOST_TEST(s->histograms.empty());
}

BOOST_AUTO_TEST_CASE(refuses_another_schema_version) {
    auto bytes = header(0x86);
    bytes[8] = 0x02;  // "schema": 2
    fails(bytes, errc::unsupported_schema);
}

// clang-format off
// The fields of a histogram named "h", after "histograms": {"h": ...
#define HISTOGRAMS_H 0xaa, 'h', 'i', 's', 't', 'o', 'g', 'r', 'a', 'm', 's', /* "histograms": */ \
                     0x81,                                                  /*   map of 1    */ \
                     0xa1, 'h'                                              /*   "h":        */
// clang-format on

BOOST_AUTO_TEST_CASE(refuses_missing_fields) {
    fails(header(0x85).substr(0, header(0x85).size() - 11), errc::missing_field);  // no uptime_ms
    const std::uint8_t no_schema[] = {0x81, 0xa2, 'i', 'd', 0xa1, 'b'};            // {"id": "b"}
    fails(bytes_of(no_schema), errc::missing_field);
    // clang-format off
    const std::uint8_t no_max[] = {
        HISTOGRAMS_H,
        0x83,                                                  // map of 3
        0xa6, 'b', 'o', 'u', 'n', 'd', 's', 0x91, 0x0a,        // "bounds": [10]
        0xa6, 'c', 'o', 'u', 'n', 't', 's', 0x92, 0x01, 0x00,  // "counts": [1, 0]
        0xa3, 's', 'u', 'm', 0x01,                             // "sum": 1; no "max"
    };
    // clang-format on
    fails(header(0x87, bytes_of(no_max)), errc::missing_field);
}

BOOST_AUTO_TEST_CASE(refuses_malformed_input) {
    fails("", errc::malformed);
    fails("\x92\x01\x02", errc::malformed);                               // an array, not a map
    fails("\xc1", errc::malformed);                                       // never-used msgpack byte
    fails(bytes_of(small_wire).substr(0, 40), errc::malformed);           // truncated
    fails(bytes_of(small_wire) + std::string(1, '\0'), errc::malformed);  // trailing byte
    // A map claiming 2^32-1 entries in 5 bytes must not allocate them.
    fails("\xdf\xff\xff\xff\xff", errc::malformed);
    auto bad_kind = header(0x86);
    bad_kind[15] = 'x';  // "kind": "xroker"
    fails(bad_kind, errc::malformed);
    // clang-format off
    const std::uint8_t text_schema[] = {
        0x81,                                  // map of 1
        0xa6, 's', 'c', 'h', 'e', 'm', 'a',    // "schema":
        0xa1, '1',                             //   "1", not a number
    };
    fails(bytes_of(text_schema), errc::malformed);
    const std::uint8_t negative[] = {
        0xa8, 'c', 'o', 'u', 'n', 't', 'e', 'r', 's',  // "counters":
        0x81,                                          //   map of 1
        0xa1, 'n', 0xff,                               //   "n": -1
    };
    fails(header(0x87, bytes_of(negative)), errc::malformed);
    const std::uint8_t short_counts[] = {
        HISTOGRAMS_H,
        0x84,                                                  // map of 4
        0xa6, 'b', 'o', 'u', 'n', 'd', 's', 0x92, 0x0a, 0x64,  // "bounds": [10, 100]
        0xa6, 'c', 'o', 'u', 'n', 't', 's', 0x92, 0x01, 0x00,  // "counts": [1, 0]: one short
        0xa3, 's', 'u', 'm', 0x01,                             // "sum": 1
        0xa3, 'm', 'a', 'x', 0x01,                             // "max": 1
    };
    fails(header(0x87, bytes_of(short_counts)), errc::malformed);
    const std::uint8_t unordered[] = {
        HISTOGRAMS_H,
        0x84,                                                        // map of 4
        0xa6, 'b', 'o', 'u', 'n', 'd', 's', 0x92, 0x64, 0x0a,        // "bounds": [100, 10]
        0xa6, 'c', 'o', 'u', 'n', 't', 's', 0x93, 0x01, 0x00, 0x00,  // "counts": [1, 0, 0]
        0xa3, 's', 'u', 'm', 0x01,                                   // "sum": 1
        0xa3, 'm', 'a', 'x', 0x01,                                   // "max": 1
    };
    // clang-format on
    fails(header(0x87, bytes_of(unordered)), errc::malformed);
}

BOOST_AUTO_TEST_SUITE_END()
