// frontend::connection after CONNECT: packets -> events, router events ->
// packets, pipelining, stream splitting, closing and exactly-once
// client_disconnect. Client and expected server bytes are hand-written hex.
#include <boost/test/unit_test.hpp>

#include "tests/component/connection_harness.hpp"

using namespace connection_test;

namespace {

// PUBLISH QoS 0 "t", payload "hi".
const std::string publish_q0 = bytes({
    0x30, 0x05,       // PUBLISH, flags 0, remaining length 5
    0x00, 0x01, 't',  // topic "t"
    'h', 'i',         // payload "hi"
});

// PUBLISH QoS 2 "t", id 8, empty payload.
const std::string publish_q2 = bytes({
    0x34, 0x05,       // PUBLISH, flags qos=2, remaining length 5
    0x00, 0x01, 't',  // topic "t"
    0x00, 0x08,       // packet id 8
});

// UNSUBSCRIBE id 11: "a/+".
const std::string unsubscribe_11 = bytes({
    0xa2, 0x07,                 // UNSUBSCRIBE (flags 0010), remaining length 7
    0x00, 0x0b,                 // packet id 11
    0x00, 0x03, 'a', '/', '+',  // filter "a/+"
});

const std::string puback_7 = bytes({0x40, 0x02, 0x00, 0x07});   // PUBACK, rl 2, id 7
const std::string pubrec_8 = bytes({0x50, 0x02, 0x00, 0x08});   // PUBREC, rl 2, id 8
const std::string pubrel_8 = bytes({0x62, 0x02, 0x00, 0x08});   // PUBREL (flags 0010), rl 2, id 8
const std::string pubcomp_8 = bytes({0x70, 0x02, 0x00, 0x08});  // PUBCOMP, rl 2, id 8

// PUBLISH with QoS 3 (MQTT-3.3.1-4): a malformed packet.
const std::string publish_qos3 = bytes({
    0x36, 0x03,       // PUBLISH, flags qos=3, remaining length 3
    0x00, 0x01, 't',  // topic "t"
});

int reason_of(const events::event& e) {
    return static_cast<int>(as<events::client_disconnect>(e).reason);
}

// The events forwarded for connect_u_p + subscribe_10 + publish_q1 + pingreq.
void expect_pipelined_events(const std::vector<events::event>& ev) {
    BOOST_REQUIRE_EQUAL(ev.size(), 3u);
    BOOST_TEST(as<events::client_connect>(ev[0]).client_id == "c");
    BOOST_TEST(as<events::client_subscribe>(ev[1]).packet_id == 10);
    BOOST_TEST(as<events::client_subscribe>(ev[1]).subscriptions.size() == 2u);
    BOOST_TEST(as<events::client_publish>(ev[2]).payload == "xyz");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(connection_flows)

// ---- client packets -> router events ----------------------------------------------

BOOST_AUTO_TEST_CASE(publish_is_forwarded_with_all_fields) {
    harness h;
    h.establish();
    auto out = h.feed(publish_q0);
    BOOST_TEST(out.bytes.empty());  // the router acknowledges, not the frontend
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    {
        const auto& p = as<events::client_publish>(out.events[0]);
        BOOST_TEST(p.conn == test_conn);
        BOOST_TEST(p.topic == "t");
        BOOST_TEST(p.payload == "hi");
        BOOST_TEST(p.qos == 0);
        BOOST_TEST(!p.retain);
        BOOST_TEST(!p.dup);
        BOOST_TEST(p.packet_id == 0);
    }
    out = h.feed(publish_q1);
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    {
        const auto& p = as<events::client_publish>(out.events[0]);
        BOOST_TEST(p.topic == "a/b");
        BOOST_TEST(p.payload == "xyz");
        BOOST_TEST(p.qos == 1);
        BOOST_TEST(p.retain);
        BOOST_TEST(p.dup);
        BOOST_TEST(p.packet_id == 7);
    }
    out = h.feed(publish_q2);
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    {
        const auto& p = as<events::client_publish>(out.events[0]);
        BOOST_TEST(p.qos == 2);
        BOOST_TEST(p.packet_id == 8);
        BOOST_TEST(p.payload.empty());
    }
}

BOOST_AUTO_TEST_CASE(acks_are_forwarded) {
    harness h;
    h.establish();
    auto out = h.feed(puback_7 + pubrec_8 + pubrel_8 + pubcomp_8);
    BOOST_TEST(out.bytes.empty());
    BOOST_REQUIRE_EQUAL(out.events.size(), 4u);
    const events::ack_kind kinds[] = {events::ack_kind::puback, events::ack_kind::pubrec,
                                      events::ack_kind::pubrel, events::ack_kind::pubcomp};
    const std::uint16_t ids[] = {7, 8, 8, 8};
    for (std::size_t i = 0; i < 4; ++i) {
        const auto& a = as<events::client_ack>(out.events[i]);
        BOOST_TEST(a.conn == test_conn);
        BOOST_TEST(static_cast<int>(a.kind) == static_cast<int>(kinds[i]));
        BOOST_TEST(a.packet_id == ids[i]);
    }
}

BOOST_AUTO_TEST_CASE(subscribe_is_forwarded) {
    harness h;
    h.establish();
    auto out = h.feed(subscribe_10);
    BOOST_TEST(out.bytes.empty());
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    const auto& s = as<events::client_subscribe>(out.events[0]);
    BOOST_TEST(s.conn == test_conn);
    BOOST_TEST(s.packet_id == 10);
    BOOST_REQUIRE_EQUAL(s.subscriptions.size(), 2u);
    BOOST_TEST(s.subscriptions[0].filter == "a/+");
    BOOST_TEST(s.subscriptions[0].qos == 1);
    BOOST_TEST(s.subscriptions[1].filter == "b/#");
    BOOST_TEST(s.subscriptions[1].qos == 2);
}

BOOST_AUTO_TEST_CASE(unsubscribe_is_forwarded) {
    harness h;
    h.establish();
    auto out = h.feed(unsubscribe_11);
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    const auto& u = as<events::client_unsubscribe>(out.events[0]);
    BOOST_TEST(u.conn == test_conn);
    BOOST_TEST(u.packet_id == 11);
    BOOST_REQUIRE_EQUAL(u.filters.size(), 1u);
    BOOST_TEST(u.filters[0] == "a/+");
}

BOOST_AUTO_TEST_CASE(pingreq_is_answered_locally) {
    // MQTT-3.12.4-1
    harness h;
    h.establish();
    auto out = h.feed(pingreq);
    BOOST_TEST(hex(out.bytes) == hex(pingresp));
    BOOST_TEST(out.events.empty());
    BOOST_TEST(!out.close);
}

BOOST_AUTO_TEST_CASE(disconnect_is_graceful) {
    // MQTT-3.14.4-3: the will is discarded, which `graceful` tells the router.
    harness h;
    h.establish();
    // The PUBLISH after DISCONNECT in the same chunk is not processed.
    auto out = h.feed(disconnect + publish_q0);
    expect_closed_with(out, reason::graceful);
    BOOST_TEST(h.conn->state() == connection_state::closing);
    BOOST_TEST(h.feed(publish_q0).events.empty());
    BOOST_TEST(h.transport_closed().events.empty());
    BOOST_TEST(h.conn->state() == connection_state::closed);
}

BOOST_AUTO_TEST_CASE(server_only_packets_from_a_client_are_protocol_errors) {
    const std::string server_only[] = {
        bytes({0x20, 0x02, 0x00, 0x00}),        // CONNACK, rl 2, sp 0, rc 0
        bytes({0x90, 0x03, 0x00, 0x01, 0x00}),  // SUBACK, rl 3, id 1, granted QoS 0
        bytes({0xb0, 0x02, 0x00, 0x01}),        // UNSUBACK, rl 2, id 1
        bytes({0xd0, 0x00}),                    // PINGRESP, rl 0
    };
    for (const auto& p : server_only) {
        harness h;
        h.establish();
        expect_closed_with(h.feed(p), reason::protocol_error);
    }
}

BOOST_AUTO_TEST_CASE(malformed_packet_after_connect_is_a_protocol_error) {
    harness h;
    h.establish();
    expect_closed_with(h.feed(publish_qos3), reason::protocol_error);
}

BOOST_AUTO_TEST_CASE(framing_errors_after_connect_are_protocol_errors) {
    const std::string broken[] = {
        bytes({0x30, 0xff, 0xff, 0xff, 0xff, 0x01}),  // PUBLISH, 5-byte remaining length
        bytes({0x00, 0x00}),                          // reserved packet type 0
        bytes({0xf0, 0x00}),                          // reserved packet type 15
    };
    for (const auto& b : broken) {
        harness h;
        h.establish();
        expect_closed_with(h.feed(b), reason::protocol_error);
    }
}

// ---- router events -> client packets ------------------------------------------------

BOOST_AUTO_TEST_CASE(deliver_becomes_publish) {
    harness h;
    h.establish();
    auto out = h.router(events::deliver{test_conn, "t", "hi", 0, false, false, 0});
    BOOST_TEST(hex(out.bytes) == hex(bytes({
                                     0x30, 0x05,       // PUBLISH QoS 0, remaining length 5
                                     0x00, 0x01, 't',  // topic "t"
                                     'h', 'i',         // payload "hi"
                                 })));
    BOOST_TEST(out.events.empty());
    out = h.router(events::deliver{test_conn, "a/b", "xyz", 1, true, true, 7});
    BOOST_TEST(hex(out.bytes) == hex(bytes({
                                     0x3b, 0x0a,  // PUBLISH dup=1 qos=1 retain=1, rl 10
                                     0x00, 0x03, 'a', '/', 'b',  // topic "a/b"
                                     0x00, 0x07,                 // packet id 7
                                     'x', 'y', 'z',              // payload "xyz"
                                 })));
    out = h.router(events::deliver{test_conn, "t", "", 2, false, false, 0x1234});
    BOOST_TEST(hex(out.bytes) == hex(bytes({
                                     0x34, 0x05,       // PUBLISH qos=2, remaining length 5
                                     0x00, 0x01, 't',  // topic "t"
                                     0x12, 0x34,       // packet id 0x1234
                                 })));
}

BOOST_AUTO_TEST_CASE(send_ack_becomes_the_ack_packet) {
    harness h;
    h.establish();
    BOOST_TEST(hex(h.router(events::send_ack{test_conn, events::ack_kind::puback, 7}).bytes) ==
               hex(puback_7));
    BOOST_TEST(hex(h.router(events::send_ack{test_conn, events::ack_kind::pubrec, 8}).bytes) ==
               hex(pubrec_8));
    BOOST_TEST(hex(h.router(events::send_ack{test_conn, events::ack_kind::pubrel, 8}).bytes) ==
               hex(pubrel_8));
    BOOST_TEST(hex(h.router(events::send_ack{test_conn, events::ack_kind::pubcomp, 8}).bytes) ==
               hex(pubcomp_8));
}

BOOST_AUTO_TEST_CASE(suback_and_unsuback) {
    harness h;
    h.establish();
    auto out = h.router(events::suback{test_conn, 10, {0x01, 0x80}});
    BOOST_TEST(hex(out.bytes) == hex(bytes({
                                     0x90, 0x04,  // SUBACK, remaining length 4
                                     0x00, 0x0a,  // packet id 10
                                     0x01,        // granted QoS 1
                                     0x80,        // failure
                                 })));
    out = h.router(events::unsuback{test_conn, 11});
    BOOST_TEST(hex(out.bytes) == hex(bytes({
                                     0xb0, 0x02,  // UNSUBACK, remaining length 2
                                     0x00, 0x0b,  // packet id 11
                                 })));
}

BOOST_AUTO_TEST_CASE(router_events_before_connack_are_not_written) {
    // CONNACK is always the first packet the server sends (MQTT-3.2.0-1).
    harness h;
    h.feed(connect_u_p);
    auto out = h.router(events::deliver{test_conn, "t", "hi", 0, false, false, 0});
    BOOST_TEST(out.bytes.empty());
    BOOST_TEST(hex(h.router(events::connack{test_conn, false, 0}).bytes) == hex(connack_accepted));
}

BOOST_AUTO_TEST_CASE(takeover_closes_and_tells_the_router) {
    harness h;
    h.establish();
    auto out = h.router(events::close_connection{test_conn, reason::taken_over});
    expect_closed_with(out, reason::taken_over);
    BOOST_TEST(h.conn->state() == connection_state::closing);
    // Events after close are ignored; the transport closing adds nothing.
    out = h.router(events::deliver{test_conn, "t", "hi", 0, false, false, 0});
    BOOST_TEST(out.bytes.empty());
    BOOST_TEST(out.events.empty());
    BOOST_TEST(h.router(events::suback{test_conn, 10, {0x00}}).bytes.empty());
    BOOST_TEST(h.transport_closed().events.empty());
}

BOOST_AUTO_TEST_CASE(takeover_while_awaiting_connack) {
    harness h;
    h.feed(connect_u_p);
    expect_closed_with(h.router(events::close_connection{test_conn, reason::taken_over}),
                       reason::taken_over);
}

// ---- pipelining and stream splitting ------------------------------------------------

BOOST_AUTO_TEST_CASE(packets_pipelined_before_connack_are_forwarded_in_order) {
    harness h;
    auto out = h.feed(connect_u_p + subscribe_10 + publish_q1 + pingreq);
    expect_pipelined_events(out.events);
    BOOST_TEST(out.bytes.empty());  // not even the PINGRESP: CONNACK goes first
    BOOST_TEST(h.conn->state() == connection_state::awaiting_connack);
    out = h.router(events::connack{test_conn, false, 0});
    BOOST_TEST(hex(out.bytes) == hex(connack_accepted + pingresp));
}

BOOST_AUTO_TEST_CASE(pending_pingresp_dropped_when_router_refuses) {
    harness h;
    h.feed(connect_u_p + pingreq);
    auto out = h.router(events::connack{test_conn, false, 5});
    expect_closed_with(out, reason::protocol_error, "20 02 00 05");  // CONNACK rc 5 only
}

BOOST_AUTO_TEST_CASE(stream_split_in_three_at_every_pair_of_offsets) {
    const std::string stream = connect_u_p + subscribe_10 + publish_q1 + pingreq;
    for (std::size_t i = 0; i <= stream.size(); ++i) {
        for (std::size_t j = i; j <= stream.size(); ++j) {
            BOOST_TEST_CONTEXT("split at " << i << ", " << j) {
                harness h;
                std::vector<events::event> ev;
                for (auto part : {stream.substr(0, i), stream.substr(i, j - i), stream.substr(j)}) {
                    auto out = h.feed(part);
                    BOOST_REQUIRE(!out.close);
                    BOOST_REQUIRE(out.bytes.empty());
                    for (auto& e : out.events) ev.push_back(std::move(e));
                }
                expect_pipelined_events(ev);
                BOOST_TEST(hex(h.router(events::connack{test_conn, false, 0}).bytes) ==
                           hex(connack_accepted + pingresp));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(stream_fed_one_byte_at_a_time) {
    const std::string stream = connect_u_p + subscribe_10 + publish_q1;
    harness h;
    std::vector<events::event> ev;
    for (char c : stream) {
        auto out = h.feed(std::string_view(&c, 1));
        for (auto& e : out.events) ev.push_back(std::move(e));
    }
    expect_pipelined_events(ev);
    h.router(events::connack{test_conn, false, 0});
    std::string written;
    for (char c : pingreq + pingreq) written += h.feed(std::string_view(&c, 1)).bytes;
    BOOST_TEST(hex(written) == hex(pingresp + pingresp));
}

BOOST_AUTO_TEST_CASE(several_packets_in_one_chunk) {
    harness h;
    h.establish();
    auto out = h.feed(publish_q0 + pingreq + subscribe_10 + puback_7 + pingreq + unsubscribe_11);
    BOOST_TEST(hex(out.bytes) == hex(pingresp + pingresp));
    BOOST_REQUIRE_EQUAL(out.events.size(), 4u);
    as<events::client_publish>(out.events[0]);
    as<events::client_subscribe>(out.events[1]);
    as<events::client_ack>(out.events[2]);
    as<events::client_unsubscribe>(out.events[3]);
    BOOST_TEST(!out.close);
}

BOOST_AUTO_TEST_CASE(packets_after_a_protocol_error_in_the_same_chunk_are_dropped) {
    harness h;
    h.establish();
    auto out = h.feed(publish_q0 + publish_qos3 + subscribe_10 + pingreq);
    BOOST_TEST(out.bytes.empty());
    BOOST_REQUIRE_EQUAL(out.events.size(), 2u);
    as<events::client_publish>(out.events[0]);
    BOOST_TEST(reason_of(out.events[1]) == static_cast<int>(reason::protocol_error));
    BOOST_TEST(out.close);
}

// ---- closing and exactly-once client_disconnect ---------------------------------------

BOOST_AUTO_TEST_CASE(transport_closed_is_connection_lost) {
    harness h;
    h.establish();
    expect_closed_with(h.transport_closed(), reason::connection_lost);
    BOOST_TEST(h.conn->state() == connection_state::closed);
}

BOOST_AUTO_TEST_CASE(shutdown_is_server_shutdown) {
    harness h;
    h.establish();
    expect_closed_with(h.shutdown(), reason::server_shutdown);
    BOOST_TEST(h.conn->state() == connection_state::closing);
    BOOST_TEST(h.transport_closed().events.empty());
    BOOST_TEST(h.conn->state() == connection_state::closed);
}

BOOST_AUTO_TEST_CASE(transport_closed_while_awaiting_connack_tells_the_router) {
    harness h;
    h.feed(connect_u_p);
    expect_closed_with(h.transport_closed(), reason::connection_lost);
}

BOOST_AUTO_TEST_CASE(client_disconnect_is_forwarded_exactly_once) {
    harness h;
    h.establish();
    int total = count_disconnects(h.feed(publish_qos3));  // protocol error
    total += count_disconnects(h.feed(disconnect));
    total += count_disconnects(h.router(events::close_connection{test_conn, reason::taken_over}));
    total += count_disconnects(h.timer(t0 + 24h));
    total += count_disconnects(h.shutdown());
    total += count_disconnects(h.transport_closed());
    total += count_disconnects(h.transport_closed());
    BOOST_TEST(total == 1);
}

BOOST_AUTO_TEST_CASE(nothing_is_forwarded_for_a_client_that_never_connected) {
    {
        harness h;
        h.feed(connect_u_p.substr(0, 5));
        expect_closed_silently(h.transport_closed());
        BOOST_TEST(h.conn->state() == connection_state::closed);
    }
    {
        harness h;
        expect_closed_silently(h.shutdown());
    }
    {
        harness h;  // the router cannot address it, but a stray event changes nothing
        auto out = h.router(events::deliver{test_conn, "t", "hi", 0, false, false, 0});
        BOOST_TEST(out.bytes.empty());
        BOOST_TEST(out.events.empty());
        BOOST_TEST(h.conn->state() == connection_state::awaiting_connect);
    }
}

BOOST_AUTO_TEST_CASE(take_output_clears_the_output) {
    harness h;
    h.establish();
    h.conn->on_bytes(pingreq, t0);
    BOOST_TEST(hex(h.conn->peek_output().bytes) == hex(pingresp));
    auto out = h.conn->take_output();
    BOOST_TEST(hex(out.bytes) == hex(pingresp));
    BOOST_TEST(h.conn->peek_output().bytes.empty());
    BOOST_TEST(h.conn->peek_output().events.empty());
    BOOST_TEST(!h.conn->peek_output().close);
}

BOOST_AUTO_TEST_SUITE_END()
