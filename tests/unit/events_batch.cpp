// Batches of inter-tier events: envelopes back to back (decode_batch), and
// the frontend's decode into kept slots (decode_batch_into).
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "common/events/events.hpp"
#include "events_test_util.hpp"
#include "wire_bytes.hpp"

using namespace events;

namespace {

using events_test::expect_error;
using events_test::publish_wire;
using events_test::publish_wire_v1;
using events_test::same;
using test_util::bytes_of;
using test_util::to_hex;

}  // namespace

BOOST_AUTO_TEST_SUITE(events_batch)

// Two envelopes back to back: router_hello{"r", 1} then send_ack{conn 2, puback, id 3}.
const std::uint8_t batch_wire[] = {
    0x93, 0x01, 0x0d,  // envelope, version 1, kind 13 = router_hello
    0x92,              //   body: fixarray(2)
    0xa1, 'r',         //     router_id "r"
    0x01,              //     incarnation 1
    0x93, 0x01, 0x09,  // envelope, version 1, kind 9 = send_ack
    0x93,              //   body: fixarray(3)
    0x02,              //     conn 2
    0x04,              //     kind 4 = puback
    0x03,              //     packet_id 3
};

BOOST_AUTO_TEST_CASE(a_batch_is_envelopes_back_to_back) {
    std::string built;
    encode_to(router_hello{"r", 1}, built);
    encode_to(send_ack{2, ack_kind::puback, 3}, built);
    BOOST_TEST(to_hex(built) == to_hex(bytes_of(batch_wire)));

    std::vector<event> got;
    boost::system::error_code ec;
    decode_batch(bytes_of(batch_wire), got, ec);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST_REQUIRE(got.size() == 2u);
    BOOST_TEST(same(got[0], router_hello{"r", 1}));
    BOOST_TEST(same(got[1], send_ack{2, ack_kind::puback, 3}));

    // decode() takes exactly one envelope: a batch is "trailing bytes" to it.
    expect_error(bytes_of(batch_wire), errc::malformed);

    // A truncated second envelope: the first is kept, the error reported.
    got.clear();
    const std::string cut = bytes_of(batch_wire).substr(0, sizeof(batch_wire) - 1);
    decode_batch(cut, got, ec);
    BOOST_TEST((ec == make_error_code(errc::malformed)));
    BOOST_TEST_REQUIRE(got.size() == 1u);
    BOOST_TEST(same(got[0], router_hello{"r", 1}));

    // An empty message holds no envelope: malformed, nothing decoded.
    got.clear();
    decode_batch("", got, ec);
    BOOST_TEST((ec == make_error_code(errc::malformed)));
    BOOST_TEST(got.empty());
}

BOOST_AUTO_TEST_CASE(decode_batch_into_reuses_slots_and_resets_fields) {
    // The frontend's receive path: a second batch decoded into the slots of
    // the first. The 7-field publish that lands where the 8-field one was
    // must not inherit its received_us, nor anything else.
    const client_publish full{7,    "a/b",  std::string("\x00\xff\x80", 3), 1, false,
                              true, 0x1234, 0x00060a2418202240ull};
    client_publish old = full;
    old.received_us = 0;
    std::vector<event> slots;
    boost::system::error_code ec;
    const std::string first = bytes_of(publish_wire) + bytes_of(batch_wire);
    BOOST_TEST(decode_batch_into(first, slots, ec) == 3u);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST_REQUIRE(slots.size() == 3u);
    BOOST_TEST(same(slots[0], full));
    BOOST_TEST(same(slots[1], router_hello{"r", 1}));
    BOOST_TEST(same(slots[2], send_ack{2, ack_kind::puback, 3}));

    // Fewer events this time: the count says how many, the slots stay.
    BOOST_TEST(decode_batch_into(bytes_of(publish_wire_v1), slots, ec) == 1u);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST_REQUIRE(slots.size() == 3u);
    BOOST_TEST(same(slots[0], old));

    // A bad envelope after a good one: the good one counts, ec says why.
    const std::string cut = bytes_of(publish_wire) + bytes_of(publish_wire_v1).substr(0, 6);
    BOOST_TEST(decode_batch_into(cut, slots, ec) == 1u);
    BOOST_TEST((ec == make_error_code(errc::malformed)));
    BOOST_TEST(same(slots[0], full));
    BOOST_TEST(decode_batch_into("", slots, ec) == 0u);
    BOOST_TEST((ec == make_error_code(errc::malformed)));
}

// deliver{conn 5, "t", 100 x 'a', qos 1, retain false, dup false, id 7, received_us 9}:
// these bytes, 100 x 'a', then deliver_long_tail.
const std::uint8_t deliver_long_head[] = {
    0x93,        // envelope: fixarray(3)
    0x01,        //   protocol_version 1
    0x08,        //   kind 8 = deliver
    0x98,        //   body: fixarray(8)
    0x05,        //     conn 5
    0xa1, 't',   //     topic: fixstr(1) "t"
    0xc4, 0x64,  //     payload: bin8(100)
};
const std::uint8_t deliver_long_tail[] = {
    0x01,  //     qos 1
    0xc2,  //     retain false
    0xc2,  //     dup false
    0x07,  //     packet_id 7
    0x09,  //     received_us 9
};
// deliver{conn 6, "u", 40 x 'b', qos 0, retain true, dup false, id 0} in 7 fields
// (no received_us: it must read as 0, not as the slot's previous 9).
const std::uint8_t deliver_short_head[] = {
    0x93,        // envelope: fixarray(3)
    0x01,        //   protocol_version 1
    0x08,        //   kind 8 = deliver
    0x97,        //   body: fixarray(7)
    0x06,        //     conn 6
    0xa1, 'u',   //     topic: fixstr(1) "u"
    0xc4, 0x28,  //     payload: bin8(40)
};
const std::uint8_t deliver_short_tail[] = {
    0x00,  //     qos 0
    0xc3,  //     retain true
    0xc2,  //     dup false
    0x00,  //     packet_id 0
};

BOOST_AUTO_TEST_CASE(decode_batch_into_keeps_a_delivers_buffers) {
    const std::string long_wire =
        bytes_of(deliver_long_head) + std::string(100, 'a') + bytes_of(deliver_long_tail);
    const std::string short_wire =
        bytes_of(deliver_short_head) + std::string(40, 'b') + bytes_of(deliver_short_tail);
    const deliver long_one{5, "t", std::string(100, 'a'), 1, false, false, 7, 9};
    const deliver short_one{6, "u", std::string(40, 'b'), 0, true, false, 0, 0};
    std::vector<event> slots;
    boost::system::error_code ec;
    BOOST_TEST(decode_batch_into(long_wire, slots, ec) == 1u);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST_REQUIRE(same(slots[0], long_one));
    BOOST_TEST_REQUIRE(std::get<deliver>(slots[0]).payload.capacity() >= 100u);

    // The same kind again: decoded into the buffer the slot already had (a
    // fresh string for 40 bytes has room for 40).
    BOOST_TEST(decode_batch_into(short_wire, slots, ec) == 1u);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST_REQUIRE(same(slots[0], short_one));
    BOOST_TEST(std::get<deliver>(slots[0]).payload.capacity() >= 100u);

    // Another kind in that slot, then a deliver again: nothing of either leaks.
    BOOST_TEST(decode_batch_into(bytes_of(batch_wire), slots, ec) == 2u);
    BOOST_TEST_REQUIRE(same(slots[0], router_hello{"r", 1}));
    BOOST_TEST(same(slots[1], send_ack{2, ack_kind::puback, 3}));
    BOOST_TEST(decode_batch_into(long_wire + short_wire, slots, ec) == 2u);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(same(slots[0], long_one));
    BOOST_TEST(same(slots[1], short_one));
}

BOOST_AUTO_TEST_CASE(trim_for_reuse_keeps_small_deliver_buffers_only) {
    std::vector<event> slots;
    slots.emplace_back(deliver{1, "t", std::string(100, 'a'), 1, false, false, 7, 9});
    slots.emplace_back(
        deliver{2, std::string(5000, 't'), std::string(5000, 'p'), 1, false, false, 8, 9});
    slots.emplace_back(deliver_many{"t", std::string(300, 'x'), false, 0, {{1, 0, 0}}});
    slots.emplace_back(suback{3, 4, {0, 1}});
    // Past `written`: left as it is (readied by an earlier call).
    slots.emplace_back(deliver{5, "u", std::string(5000, 'q'), 0, false, false, 0, 0});
    for (std::size_t i = slots.size(); i < batch_max_events + 3; ++i)
        slots.emplace_back(send_ack{i, ack_kind::puback, 1});

    trim_for_reuse(slots, 4, 4096);
    BOOST_TEST(slots.size() == batch_max_events);  // no more slots than a batch holds
    BOOST_TEST_REQUIRE(std::holds_alternative<deliver>(slots[0]));
    BOOST_TEST(std::get<deliver>(slots[0]).payload.capacity() >= 100u);  // kept
    BOOST_TEST_REQUIRE(std::holds_alternative<deliver>(slots[1]));
    BOOST_TEST(std::get<deliver>(slots[1]).topic.capacity() < 4096u);  // let go
    BOOST_TEST(std::get<deliver>(slots[1]).payload.capacity() < 4096u);
    BOOST_TEST(same(slots[2], send_ack{}));  // other kinds let their buffers go
    BOOST_TEST(same(slots[3], send_ack{}));
    BOOST_TEST_REQUIRE(std::holds_alternative<deliver>(slots[4]));
    BOOST_TEST(std::get<deliver>(slots[4]).payload.size() == 5000u);  // untouched

    // `written` beyond the slots (a decode that stopped in the last one).
    trim_for_reuse(slots, batch_max_events + 1, 4096);
    BOOST_TEST(std::get<deliver>(slots[4]).payload.capacity() < 4096u);
}

BOOST_AUTO_TEST_SUITE_END()
