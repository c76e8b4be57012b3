// The store's on-disk encodings (docs/store.md), pinned by hand-written hex:
// keys of every column family, and the values of messages, sessions,
// outbound entries, meta values and the format version. Also: decoders
// refuse what the encoders never write, and one client id's key range never
// covers another's.
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>

#include "store/codec.hpp"
#include "wire_bytes.hpp"

using namespace store;
using test_util::bytes_of;
using test_util::to_hex;

namespace {

events::stored_message sample_message() {
    events::stored_message m;
    m.topic = "t/1";
    m.payload = "hi";
    m.qos = 1;
    m.retain = true;
    m.stamp = 0x0102030405060708;
    m.origin = "r1";
    return m;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_codec)

BOOST_AUTO_TEST_CASE(message_key_is_big_endian_id) {
    const std::uint8_t expected[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02};  // id 258
    BOOST_TEST(to_hex(codec::message_key(258)) == to_hex(bytes_of(expected)));
    std::uint64_t id = 0;
    BOOST_TEST(codec::decode_message_key(bytes_of(expected), id));
    BOOST_TEST(id == 258u);
    BOOST_TEST(!codec::decode_message_key(std::string(7, '\0'), id));
}

BOOST_AUTO_TEST_CASE(outbound_key_layout) {
    const std::uint8_t expected[] = {
        0x00, 0x00, 0x00, 0x02,                          // client id length 2
        'a',  'b',                                       // client id
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x05,  // seq 261
    };
    BOOST_TEST(to_hex(codec::outbound_key("ab", 261)) == to_hex(bytes_of(expected)));
    std::string client_id;
    std::uint64_t seq = 0;
    BOOST_TEST(codec::decode_outbound_key(bytes_of(expected), client_id, seq));
    BOOST_TEST(client_id == "ab");
    BOOST_TEST(seq == 261u);
    // One byte short, one byte too many.
    BOOST_TEST(!codec::decode_outbound_key(bytes_of(expected).substr(0, 13), client_id, seq));
    BOOST_TEST(!codec::decode_outbound_key(bytes_of(expected) + "x", client_id, seq));
}

BOOST_AUTO_TEST_CASE(forward_key_layout) {
    const std::uint8_t expected[] = {
        0x00, 0x00, 0x00, 0x03,                          // peer router id length 3
        'r',  't',  '2',                                 // peer router id
        0x01, 0x8c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,  // stamp
    };
    BOOST_TEST(to_hex(codec::forward_key("rt2", 0x018c'0000'0000'002a)) ==
               to_hex(bytes_of(expected)));
    std::string peer;
    std::uint64_t stamp = 0;
    BOOST_TEST(codec::decode_forward_key(bytes_of(expected), peer, stamp));
    BOOST_TEST(peer == "rt2");
    BOOST_TEST(stamp == 0x018c'0000'0000'002au);
    BOOST_TEST(!codec::decode_forward_key(bytes_of(expected).substr(0, 14), peer, stamp));
}

BOOST_AUTO_TEST_CASE(inbound_key_layout) {
    const std::uint8_t expected[] = {
        0x00, 0x00, 0x00, 0x01,  // client id length 1
        'a',                     // client id
        0x12, 0x34,              // packet id 0x1234
    };
    BOOST_TEST(to_hex(codec::inbound_key("a", 0x1234)) == to_hex(bytes_of(expected)));
    std::string client_id;
    std::uint16_t packet_id = 0;
    BOOST_TEST(codec::decode_inbound_key(bytes_of(expected), client_id, packet_id));
    BOOST_TEST(client_id == "a");
    BOOST_TEST(packet_id == 0x1234);
}

BOOST_AUTO_TEST_CASE(empty_client_id_has_a_prefix_too) {
    const std::uint8_t expected[] = {
        0x00, 0x00, 0x00, 0x00,  // client id length 0
        0x00, 0x07,              // packet id 7
    };
    BOOST_TEST(to_hex(codec::inbound_key("", 7)) == to_hex(bytes_of(expected)));
}

BOOST_AUTO_TEST_CASE(prefix_end_bounds_exactly_one_client) {
    const std::uint8_t a_end[] = {0x00, 0x00, 0x00, 0x01, 'b'};  // "a" prefix, last byte + 1
    BOOST_TEST(to_hex(codec::prefix_end(codec::client_prefix("a"))) == to_hex(bytes_of(a_end)));
    // A trailing 0xff is dropped and the byte before it incremented.
    const std::uint8_t ff_end[] = {0x00, 0x00, 0x00, 0x02};
    BOOST_TEST(to_hex(codec::prefix_end(codec::client_prefix("\xff"))) == to_hex(bytes_of(ff_end)));

    // Every key of "a" is inside [prefix, end); keys of "ab", "a\x01", "" and
    // "b" are outside it.
    const std::string begin = codec::client_prefix("a");
    const std::string end = codec::prefix_end(begin);
    for (std::uint64_t seq : {std::uint64_t{0}, std::uint64_t{1}, ~std::uint64_t{0}}) {
        const std::string k = codec::outbound_key("a", seq);
        BOOST_TEST((begin <= k && k < end));
    }
    for (const char* other : {"ab", "a\x01", "", "b", "\xff"}) {
        for (std::uint64_t seq : {std::uint64_t{0}, ~std::uint64_t{0}}) {
            const std::string k = codec::outbound_key(other, seq);
            BOOST_TEST(!(begin <= k && k < end), "key of " << to_hex(other) << " in a's range");
        }
        const std::string k = codec::inbound_key(other, 0xffff);
        BOOST_TEST(!(begin <= k && k < end));
    }
}

BOOST_AUTO_TEST_CASE(message_value_layout) {
    const std::uint8_t expected[] = {
        0x01,                                            // record version 1
        0x05,                                            // flags: qos 1 (bits 0-1), retain (bit 2)
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  // stamp
        0x00, 0x00, 0x00, 0x03,                          // topic length 3
        't',  '/',  '1',                                 // topic
        0x00, 0x00, 0x00, 0x02,                          // origin length 2
        'r',  '1',                                       // origin
        'h',  'i',                                       // payload: the rest of the value
    };
    BOOST_TEST(to_hex(codec::encode_message(sample_message())) == to_hex(bytes_of(expected)));
    BOOST_TEST(to_hex(codec::message_head(sample_message())) ==
               to_hex(bytes_of(expected).substr(0, 23)));

    events::stored_message m;
    BOOST_REQUIRE(codec::decode_message(bytes_of(expected), m));
    BOOST_TEST(m.topic == "t/1");
    BOOST_TEST(m.payload == "hi");
    BOOST_TEST(m.qos == 1);
    BOOST_TEST(m.retain);
    BOOST_TEST(m.stamp == 0x0102030405060708u);
    BOOST_TEST(m.origin == "r1");
}

BOOST_AUTO_TEST_CASE(message_with_empty_payload_is_kept_as_is) {
    events::stored_message tombstone = sample_message();
    tombstone.payload.clear();
    events::stored_message m;
    m.payload = "stale";
    BOOST_REQUIRE(codec::decode_message(codec::encode_message(tombstone), m));
    BOOST_TEST(m.payload.empty());
    BOOST_TEST(m.stamp == tombstone.stamp);
}

BOOST_AUTO_TEST_CASE(message_decoder_refuses_bad_values) {
    const std::string good = codec::encode_message(sample_message());
    events::stored_message m;
    std::string v = good;
    v[0] = 0x02;  // unknown record version
    BOOST_TEST(!codec::decode_message(v, m));
    v = good;
    v[1] = 0x03;  // qos 3
    BOOST_TEST(!codec::decode_message(v, m));
    v = good;
    v[1] = 0x08;  // reserved flag bit
    BOOST_TEST(!codec::decode_message(v, m));
    BOOST_TEST(!codec::decode_message(good.substr(0, 20), m));  // origin cut short
    v = good;
    v[13] = 0x7f;  // topic length beyond the value
    BOOST_TEST(!codec::decode_message(v, m));
    BOOST_TEST(!codec::decode_message("", m));
}

BOOST_AUTO_TEST_CASE(session_value_layout) {
    session_record s;
    s.subscriptions = {{"a/#", 2}, {"b", 0}};
    s.last_packet_id = 0x0102;
    s.expiry_ms = 0x0000018c00000001;
    const std::uint8_t expected[] = {
        0x01,                                            // record version 1
        0x01, 0x02,                                      // last packet id
        0x00, 0x00, 0x01, 0x8c, 0x00, 0x00, 0x00, 0x01,  // expiry, ms since epoch
        0x00, 0x00, 0x00, 0x02,                          // 2 subscriptions, in filter order
        0x02,                                            // qos 2
        0x00, 0x00, 0x00, 0x03, 'a',  '/',  '#',         // filter "a/#"
        0x00,                                            // qos 0
        0x00, 0x00, 0x00, 0x01, 'b',                     // filter "b"
    };
    BOOST_TEST(to_hex(codec::encode_session(s)) == to_hex(bytes_of(expected)));
    session_record back;
    BOOST_REQUIRE(codec::decode_session(bytes_of(expected), back));
    BOOST_TEST((back == s));
}

BOOST_AUTO_TEST_CASE(session_decoder_refuses_bad_values) {
    session_record s;
    s.subscriptions = {{"x", 1}};
    const std::string good = codec::encode_session(s);
    session_record back;
    BOOST_TEST(codec::decode_session(good, back));
    BOOST_TEST(!codec::decode_session(good + "z", back));  // trailing byte
    std::string v = good;
    v[15] = 0x03;  // qos 3
    BOOST_TEST(!codec::decode_session(v, back));
    v = good;
    v[14] = 0x02;  // claims 2 subscriptions, holds 1
    BOOST_TEST(!codec::decode_session(v, back));
    // The same filter twice.
    const std::uint8_t twice[] = {
        0x01, 0x00, 0x00,                                // version, last packet id
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // no expiry
        0x00, 0x00, 0x00, 0x02,                          // 2 subscriptions
        0x01, 0x00, 0x00, 0x00, 0x01, 'x',               // qos 1 "x"
        0x01, 0x00, 0x00, 0x00, 0x01, 'x',               // qos 1 "x" again
    };
    BOOST_TEST(!codec::decode_session(bytes_of(twice), back));
}

BOOST_AUTO_TEST_CASE(outbound_value_layout) {
    outbound_record e;
    e.seq = 99;  // in the key, not in the value
    e.state = outbound_state::awaiting_pubrec;
    e.packet_id = 0x0a0b;
    e.qos = 2;
    e.retain = false;
    e.message_id = 7;
    const std::uint8_t expected[] = {
        0x01,                                            // record version 1
        0x02,                                            // state: awaiting PUBREC
        0x0a, 0x0b,                                      // packet id
        0x02,                                            // flags: qos 2, no retain
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,  // message id
    };
    BOOST_TEST(to_hex(codec::encode_outbound(e)) == to_hex(bytes_of(expected)));
    outbound_record back;
    back.seq = 99;
    BOOST_REQUIRE(codec::decode_outbound(bytes_of(expected), back));
    BOOST_TEST((back == e));

    std::string v = bytes_of(expected);
    v[1] = 0x04;  // no such state
    BOOST_TEST(!codec::decode_outbound(v, back));
    BOOST_TEST(!codec::decode_outbound(bytes_of(expected).substr(0, 12), back));
}

BOOST_AUTO_TEST_CASE(queued_retained_entry_flags) {
    outbound_record e;
    e.state = outbound_state::queued;
    e.qos = 1;
    e.retain = true;
    e.message_id = 1;
    const std::uint8_t expected[] = {
        0x01,                                            // record version 1
        0x00,                                            // state: queued
        0x00, 0x00,                                      // packet id 0 while queued
        0x05,                                            // flags: qos 1, retain
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  // message id 1
    };
    BOOST_TEST(to_hex(codec::encode_outbound(e)) == to_hex(bytes_of(expected)));
}

BOOST_AUTO_TEST_CASE(meta_and_format_values) {
    const std::uint8_t meta[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00};  // 65536
    BOOST_TEST(to_hex(codec::encode_u64(65536)) == to_hex(bytes_of(meta)));
    std::uint64_t v = 0;
    BOOST_TEST(codec::decode_u64(bytes_of(meta), v));
    BOOST_TEST(v == 65536u);
    BOOST_TEST(!codec::decode_u64(bytes_of(meta).substr(1), v));

    const std::uint8_t format[] = {0x00, 0x00, 0x00, 0x02};  // format version 2
    BOOST_TEST(to_hex(codec::encode_u32(format_version)) == to_hex(bytes_of(format)));
    BOOST_TEST(codec::format_key == "format_version");
}

BOOST_AUTO_TEST_SUITE_END()
