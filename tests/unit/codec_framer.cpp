// The incremental framer and the remaining-length varint: arbitrary chunking,
// the 4-byte limit, and the size limit enforced from the fixed header alone.
#include <boost/test/unit_test.hpp>
#include <vector>

#include "tests/unit/codec_test_util.hpp"

using boost::system::error_code;
using codec_test::bytes;
using codec_test::hex;

namespace {

// Three packets back to back, 2 + 7 + 4 = 13 bytes.
const std::string three_packets = bytes({
    0xc0,        // PINGREQ
    0x00,        // remaining length 0
    0x32,        // PUBLISH, QoS 1
    0x05,        // remaining length 5
    0x00, 0x01,  // topic length 1
    0x74,        // "t"
    0x00, 0x07,  // packet id 7
    0x40,        // PUBACK
    0x02,        // remaining length 2
    0x00, 0x07,  // packet id 7
});

void check_three_packets(const std::vector<mqtt::raw_packet>& got) {
    BOOST_TEST_REQUIRE(got.size() == 3u);
    BOOST_TEST(got[0].header == 0xc0);
    BOOST_TEST(got[0].body.empty());
    BOOST_TEST(got[1].header == 0x32);
    BOOST_TEST(hex(got[1].body) == "00 01 74 00 07");
    BOOST_TEST(got[2].header == 0x40);
    BOOST_TEST(hex(got[2].body) == "00 07");
}

std::uint32_t varint(std::string_view b, std::size_t expected_used) {
    std::uint32_t v = 0xdeadbeef;
    error_code ec;
    const std::size_t used = mqtt::decode_remaining_length(b, v, ec);
    BOOST_TEST(!ec.failed(), ec.message());
    BOOST_TEST(used == expected_used);
    return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(codec_framer)

BOOST_AUTO_TEST_CASE(byte_at_a_time) {
    mqtt::framer f(1024);
    std::vector<mqtt::raw_packet> got;
    std::vector<std::size_t> completed_at;
    for (std::size_t i = 0; i < three_packets.size(); ++i) {
        f.feed(three_packets.substr(i, 1));
        error_code ec;
        while (auto p = f.next(ec)) {
            got.push_back(std::move(*p));
            completed_at.push_back(i);
        }
        BOOST_TEST_REQUIRE(!ec.failed(), ec.message());
    }
    check_three_packets(got);
    // Each packet comes out exactly when its last byte arrives.
    BOOST_TEST(completed_at == (std::vector<std::size_t>{1, 8, 12}),
               boost::test_tools::per_element());
    BOOST_TEST(f.buffered() == 0u);
}

BOOST_AUTO_TEST_CASE(several_packets_in_one_chunk) {
    mqtt::framer f(1024);
    f.feed(three_packets);
    BOOST_TEST(f.buffered() == 13u);
    std::vector<mqtt::raw_packet> got;
    error_code ec;
    while (auto p = f.next(ec)) got.push_back(std::move(*p));
    BOOST_TEST(!ec.failed());
    check_three_packets(got);
    BOOST_TEST(f.buffered() == 0u);
}

BOOST_AUTO_TEST_CASE(every_split_point) {
    for (std::size_t cut = 0; cut <= three_packets.size(); ++cut) {
        BOOST_TEST_CONTEXT("cut at " << cut) {
            mqtt::framer f(1024);
            std::vector<mqtt::raw_packet> got;
            error_code ec;
            f.feed(std::string_view(three_packets).substr(0, cut));
            while (auto p = f.next(ec)) got.push_back(std::move(*p));
            f.feed(std::string_view(three_packets).substr(cut));
            while (auto p = f.next(ec)) got.push_back(std::move(*p));
            BOOST_TEST(!ec.failed());
            check_three_packets(got);
        }
    }
}

BOOST_AUTO_TEST_CASE(long_stream_with_packets_straddling_chunks) {
    // 10000 copies of the three packets, fed in 7-byte chunks, so packets are
    // split at every offset and consumed bytes must be compacted away.
    std::string stream;
    for (int i = 0; i < 10000; ++i) stream += three_packets;
    mqtt::framer f(1024);
    std::size_t count = 0;
    std::size_t max_buffered = 0;
    for (std::size_t pos = 0; pos < stream.size(); pos += 7) {
        f.feed(std::string_view(stream).substr(pos, 7));
        max_buffered = std::max(max_buffered, f.buffered());
        error_code ec;
        while (auto p = f.next(ec)) {
            const std::uint8_t expected[] = {0xc0, 0x32, 0x40};
            BOOST_TEST_REQUIRE(p->header == expected[count % 3]);
            ++count;
        }
        BOOST_TEST_REQUIRE(!ec.failed());
    }
    BOOST_TEST(count == 30000u);
    BOOST_TEST(f.buffered() == 0u);
    BOOST_TEST(max_buffered < 14u);
}

BOOST_AUTO_TEST_CASE(remaining_length_boundaries) {
    BOOST_TEST(varint(bytes({0x00}), 1) == 0u);
    BOOST_TEST(varint(bytes({0x7f}), 1) == 127u);
    BOOST_TEST(varint(bytes({0x80, 0x01}), 2) == 128u);
    BOOST_TEST(varint(bytes({0xff, 0x7f}), 2) == 16383u);
    BOOST_TEST(varint(bytes({0x80, 0x80, 0x01}), 3) == 16384u);
    BOOST_TEST(varint(bytes({0xff, 0xff, 0x7f}), 3) == 2097151u);
    BOOST_TEST(varint(bytes({0x80, 0x80, 0x80, 0x01}), 4) == 2097152u);
    BOOST_TEST(varint(bytes({0xff, 0xff, 0xff, 0x7f}), 4) == 268435455u);
    // Bytes after the varint are not part of it.
    BOOST_TEST(varint(bytes({0x05, 0xff}), 1) == 5u);
}

BOOST_AUTO_TEST_CASE(remaining_length_non_minimal_is_accepted) {
    BOOST_TEST(varint(bytes({0x80, 0x00}), 2) == 0u);
    BOOST_TEST(varint(bytes({0x81, 0x80, 0x80, 0x00}), 4) == 1u);

    mqtt::framer f(16);
    f.feed(bytes({
        0xc0,        // PINGREQ
        0x80, 0x00,  // remaining length 0, in two bytes
    }));
    error_code ec;
    auto p = f.next(ec);
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(p->header == 0xc0);
    BOOST_TEST(p->body.empty());
}

BOOST_AUTO_TEST_CASE(remaining_length_needs_more_bytes) {
    std::uint32_t v = 0;
    error_code ec;
    BOOST_TEST(mqtt::decode_remaining_length("", v, ec) == 0u);
    BOOST_TEST(!ec.failed());
    BOOST_TEST(mqtt::decode_remaining_length(bytes({0xff, 0xff, 0xff}), v, ec) == 0u);
    BOOST_TEST(!ec.failed());
}

BOOST_AUTO_TEST_CASE(remaining_length_fifth_byte_is_malformed) {
    std::uint32_t v = 0;
    error_code ec;
    BOOST_TEST(mqtt::decode_remaining_length(bytes({0xff, 0xff, 0xff, 0xff, 0x01}), v, ec) == 0u);
    BOOST_TEST(ec == mqtt::errc::malformed_remaining_length);
    // Known as soon as the 4th byte shows its continuation bit.
    ec.clear();
    BOOST_TEST(mqtt::decode_remaining_length(bytes({0x80, 0x80, 0x80, 0x80}), v, ec) == 0u);
    BOOST_TEST(ec == mqtt::errc::malformed_remaining_length);

    mqtt::framer f(1024);
    f.feed(bytes({
        0x30,                    // PUBLISH
        0xff, 0xff, 0xff, 0xff,  // 4 length bytes, all with continuation bit
    }));
    BOOST_TEST(!f.next(ec).has_value());
    BOOST_TEST(ec == mqtt::errc::malformed_remaining_length);
}

BOOST_AUTO_TEST_CASE(largest_packet_waits_for_its_body) {
    mqtt::framer f(268435455u + 5);
    f.feed(bytes({
        0x30,                    // PUBLISH
        0xff, 0xff, 0xff, 0x7f,  // remaining length 268435455
        0x00, 0x01, 0x74,        // the first body bytes
    }));
    error_code ec;
    BOOST_TEST(!f.next(ec).has_value());
    BOOST_TEST(!ec.failed(), ec.message());
    BOOST_TEST(f.buffered() == 8u);
}

BOOST_AUTO_TEST_CASE(size_limit_hit_from_the_header_alone) {
    mqtt::framer f(1024);
    f.feed(bytes({
        0x30,                    // PUBLISH
        0xff, 0xff, 0xff, 0x7f,  // remaining length 268435455; no body sent
    }));
    error_code ec;
    BOOST_TEST(!f.next(ec).has_value());
    BOOST_TEST(ec == mqtt::errc::packet_too_large);
    // The stream stays failed.
    BOOST_TEST(!f.next(ec).has_value());
    BOOST_TEST(ec == mqtt::errc::packet_too_large);
}

BOOST_AUTO_TEST_CASE(size_limit_counts_the_fixed_header) {
    const std::string wire = bytes({
        0x30,        // PUBLISH, QoS 0
        0x04,        // remaining length 4: 6 bytes in all
        0x00, 0x01,  // topic length 1
        0x74,        // "t"
        0x21,        // payload "!"
    });
    error_code ec;
    mqtt::framer exact(6);
    exact.feed(wire);
    BOOST_TEST(exact.next(ec).has_value());
    BOOST_TEST(!ec.failed());

    mqtt::framer one_less(5);
    one_less.feed(wire.substr(0, 2));  // the fixed header is enough to refuse
    BOOST_TEST(!one_less.next(ec).has_value());
    BOOST_TEST(ec == mqtt::errc::packet_too_large);
}

BOOST_AUTO_TEST_CASE(lowering_and_raising_the_limit) {
    const std::string big = bytes({
                                0x30,        // PUBLISH, QoS 0
                                0x64,        // remaining length 100
                                0x00, 0x01,  // topic length 1
                                0x74,        // "t"
                            }) +
                            std::string(97, 'x');  // payload
    mqtt::framer f(1000);
    BOOST_TEST(f.max_packet_size() == 1000u);
    error_code ec;
    f.feed(big);
    BOOST_TEST(f.next(ec).has_value());

    f.set_max_packet_size(50);
    BOOST_TEST(f.max_packet_size() == 50u);
    f.feed(big.substr(0, 2));
    BOOST_TEST(!f.next(ec).has_value());
    BOOST_TEST(ec == mqtt::errc::packet_too_large);

    // Raised (after authentication, say) before the packet arrives.
    mqtt::framer g(50);
    g.set_max_packet_size(1000);
    g.feed(big);
    auto p = g.next(ec);
    BOOST_TEST(!ec.failed());
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(p->body.size() == 100u);
}

BOOST_AUTO_TEST_CASE(reserved_packet_types_on_the_first_byte) {
    for (unsigned first : {0x00u, 0x0fu, 0xf0u, 0xffu}) {
        BOOST_TEST_CONTEXT("first byte " << first) {
            mqtt::framer f(1024);
            f.feed(bytes({first}));  // nothing else yet
            error_code ec;
            BOOST_TEST(!f.next(ec).has_value());
            BOOST_TEST(ec == mqtt::errc::invalid_packet_type);
        }
    }
}

BOOST_AUTO_TEST_CASE(empty_framer_needs_more) {
    mqtt::framer f(1024);
    error_code ec = mqtt::errc::truncated_packet;
    BOOST_TEST(!f.next(ec).has_value());
    BOOST_TEST(!ec.failed());
    f.feed(bytes({0x30}));  // first byte only
    BOOST_TEST(!f.next(ec).has_value());
    BOOST_TEST(!ec.failed());
    BOOST_TEST(f.buffered() == 1u);
}

// next_from: whole packets straight from the caller's bytes, the unfinished
// tail left there for feed(), at every split point of the stream.
BOOST_AUTO_TEST_CASE(next_from_takes_whole_packets_and_leaves_the_tail) {
    for (std::size_t cut = 0; cut <= three_packets.size(); ++cut) {
        BOOST_TEST_CONTEXT("cut at " << cut) {
            mqtt::framer f(1024);
            std::vector<mqtt::raw_packet> got;
            error_code ec;
            std::string_view first = std::string_view(three_packets).substr(0, cut);
            while (auto p = f.next_from(first, ec)) got.push_back(std::move(*p));
            BOOST_TEST_REQUIRE(!ec.failed());
            // What is left is exactly the unfinished packet at the cut:
            // PINGREQ ends at 2, PUBLISH at 9, PUBACK at 13.
            const std::size_t whole = cut >= 13 ? 13 : cut >= 9 ? 9 : cut >= 2 ? 2 : 0;
            BOOST_TEST(first.size() == cut - whole);
            BOOST_TEST(got.size() == (whole == 13 ? 3u : whole == 9 ? 2u : whole == 2 ? 1u : 0u));
            BOOST_TEST(f.buffered() == 0u);  // nothing was copied in
            f.feed(first);
            f.feed(std::string_view(three_packets).substr(cut));
            while (auto p = f.next(ec)) got.push_back(std::move(*p));
            BOOST_TEST(!ec.failed());
            check_three_packets(got);
        }
    }
}

BOOST_AUTO_TEST_CASE(next_from_refuses_as_next_does) {
    const std::string too_large = bytes({
        0x30,  // PUBLISH, QoS 0
        0x04,  // remaining length 4: 6 bytes in all, one over the limit
    });
    mqtt::framer f(5);
    error_code ec;
    std::string_view in = too_large;
    BOOST_TEST(!f.next_from(in, ec).has_value());
    BOOST_TEST(ec == mqtt::errc::packet_too_large);
    BOOST_TEST(in.size() == 2u);  // nothing taken

    const std::string reserved = bytes({0xf0, 0x00});
    in = reserved;
    BOOST_TEST(!f.next_from(in, ec).has_value());
    BOOST_TEST(ec == mqtt::errc::invalid_packet_type);

    const std::string malformed = bytes({0x30, 0xff, 0xff, 0xff, 0xff});
    in = malformed;
    BOOST_TEST(!f.next_from(in, ec).has_value());
    BOOST_TEST(ec == mqtt::errc::malformed_remaining_length);

    // The limit in effect is the framer's current one.
    f.set_max_packet_size(6);
    const std::string fits = bytes({0x30, 0x04, 0x00, 0x01, 0x74, 0x21});
    in = fits;
    auto p = f.next_from(in, ec);
    BOOST_TEST(!ec.failed());
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(hex(p->body) == "00 01 74 21");
    BOOST_TEST(in.empty());
}

BOOST_AUTO_TEST_SUITE_END()
