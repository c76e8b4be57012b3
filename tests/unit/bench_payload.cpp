// mqtt-bench's payload header (tools/mqtt-bench/payload.hpp), pinned with
// hand-written bytes, and the delivery accounting of one (publisher,
// subscriber) stream (sequence_tracker.hpp) fed sequences by hand.
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>

#include "tests/unit/wire_bytes.hpp"
#include "tools/mqtt-bench/payload.hpp"
#include "tools/mqtt-bench/sequence_tracker.hpp"

using bench::payload_header;
using bench::sequence_tracker;
using test_util::bytes_of;
using test_util::to_hex;
using outcome = sequence_tracker::outcome;

namespace {

const std::uint8_t header_wire[] = {
    0x01,                                            // version 1
    0xde, 0xad, 0xbe, 0xef,                          // run tag 0xdeadbeef
    0x00, 0x00, 0x01, 0x02,                          // publisher 258
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05,  // sequence 2^32 + 5
    0x00, 0x00, 0x00, 0x02, 0x54, 0x0b, 0xe4, 0x07,  // send time 10'000'000'007 ns
};

const payload_header header_value{0xdeadbeef, 258, (std::uint64_t{1} << 32) + 5, 10'000'000'007};

}  // namespace

BOOST_AUTO_TEST_SUITE(bench_payload)

BOOST_AUTO_TEST_CASE(header_encodes_to_pinned_bytes) {
    std::string out;
    bench::encode_payload(header_value, 25, out);
    BOOST_TEST(to_hex(out) == to_hex(bytes_of(header_wire)));
}

BOOST_AUTO_TEST_CASE(filler_pads_to_the_payload_size) {
    std::string out = "previous contents";
    bench::encode_payload(header_value, 30, out);
    BOOST_TEST(out.size() == 30u);
    BOOST_TEST(out.substr(0, 25) == bytes_of(header_wire));
    BOOST_TEST(out.substr(25) == "xxxxx");  // filler
    // A size below the header still carries the whole header.
    bench::encode_payload(header_value, 3, out);
    BOOST_TEST(out == bytes_of(header_wire));
}

BOOST_AUTO_TEST_CASE(header_decodes_from_pinned_bytes) {
    payload_header h;
    std::string wire = bytes_of(header_wire) + "filler";
    BOOST_TEST(bench::decode_payload(wire, h));
    BOOST_TEST(h.run_tag == 0xdeadbeefu);
    BOOST_TEST(h.publisher == 258u);
    BOOST_TEST(h.sequence == (std::uint64_t{1} << 32) + 5);
    BOOST_TEST(h.send_ns == 10'000'000'007u);
}

BOOST_AUTO_TEST_CASE(short_or_foreign_payloads_are_refused) {
    payload_header h;
    const std::string wire = bytes_of(header_wire);
    BOOST_TEST(!bench::decode_payload(wire.substr(0, 24), h));  // one byte short
    BOOST_TEST(!bench::decode_payload("", h));
    std::string other_version = wire;
    other_version[0] = 0x02;  // version 2
    BOOST_TEST(!bench::decode_payload(other_version, h));
}

BOOST_AUTO_TEST_CASE(in_order_stream) {
    sequence_tracker t;
    for (std::uint64_t s = 0; s < 1000; ++s) BOOST_TEST_REQUIRE((t.record(s) == outcome::in_order));
    BOOST_TEST(t.unique() == 1000u);
    BOOST_TEST(t.duplicates() == 0u);
    BOOST_TEST(t.reordered() == 0u);
    BOOST_TEST(t.lost(1000) == 0u);
    BOOST_TEST(t.span() == 1000u);
}

BOOST_AUTO_TEST_CASE(loss_duplicates_and_reordering) {
    sequence_tracker t;
    BOOST_TEST((t.record(0) == outcome::in_order));
    BOOST_TEST((t.record(1) == outcome::in_order));
    BOOST_TEST((t.record(3) == outcome::in_order));   // 2 not yet: a gap, not a loss yet
    BOOST_TEST((t.record(2) == outcome::reordered));  // lower than 3, first time
    BOOST_TEST((t.record(2) == outcome::duplicate));  // seen before
    BOOST_TEST((t.record(3) == outcome::duplicate));
    BOOST_TEST((t.record(6) == outcome::in_order));
    BOOST_TEST((t.record(5) == outcome::reordered));
    // 0 1 2 3 5 6 arrived once; 4 and 7 never did.
    BOOST_TEST(t.unique() == 6u);
    BOOST_TEST(t.duplicates() == 2u);
    BOOST_TEST(t.reordered() == 2u);
    BOOST_TEST(t.received() == 8u);
    BOOST_TEST(t.lost(8) == 2u);
    BOOST_TEST(t.span() == 7u);
}

BOOST_AUTO_TEST_CASE(late_duplicate_of_an_early_message) {
    sequence_tracker t;
    for (std::uint64_t s = 0; s < 200; ++s) t.record(s);
    BOOST_TEST((t.record(5) == outcome::duplicate));  // not counted as reordered
    BOOST_TEST(t.reordered() == 0u);
    BOOST_TEST(t.duplicates() == 1u);
}

BOOST_AUTO_TEST_CASE(first_message_need_not_be_zero) {
    sequence_tracker t;
    BOOST_TEST((t.record(10) == outcome::in_order));
    BOOST_TEST((t.record(0) == outcome::reordered));
    BOOST_TEST(t.unique() == 2u);
    BOOST_TEST(t.lost(11) == 9u);
}

BOOST_AUTO_TEST_CASE(more_unique_than_expected_is_no_loss) {
    // Deliveries of sends whose acknowledgement never came back.
    sequence_tracker t;
    for (std::uint64_t s = 0; s < 10; ++s) t.record(s);
    BOOST_TEST(t.lost(8) == 0u);
    BOOST_TEST(t.lost(0) == 0u);
}

BOOST_AUTO_TEST_CASE(nothing_received) {
    sequence_tracker t;
    BOOST_TEST(t.lost(42) == 42u);
    BOOST_TEST(t.span() == 0u);
    BOOST_TEST(t.received() == 0u);
}

BOOST_AUTO_TEST_CASE(sparse_high_sequences) {
    sequence_tracker t;
    BOOST_TEST((t.record(1'000'000) == outcome::in_order));
    BOOST_TEST((t.record(999'999) == outcome::reordered));
    BOOST_TEST((t.record(1'000'000) == outcome::duplicate));
    BOOST_TEST((t.record(63) == outcome::reordered));
    BOOST_TEST((t.record(64) == outcome::reordered));
    BOOST_TEST((t.record(64) == outcome::duplicate));
    BOOST_TEST(t.unique() == 4u);
}

BOOST_AUTO_TEST_SUITE_END()
