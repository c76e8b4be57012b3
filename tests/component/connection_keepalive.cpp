// frontend::connection: keep-alive (MQTT-3.1.2-24: close after 1.5 x the
// keep-alive without a packet) and deadline(), driven with fake time points.
#include <boost/test/unit_test.hpp>

#include "tests/component/connection_harness.hpp"

using namespace connection_test;

BOOST_AUTO_TEST_SUITE(connection_keepalive)

BOOST_AUTO_TEST_CASE(closes_at_one_and_a_half_keep_alive) {
    const auto tc = t0 + 1s;  // CONNECT arrives a second after accept
    harness h;
    h.establish(connect_with_keep_alive(10), tc);
    BOOST_TEST((h.conn->deadline() == tc + 15s));
    // Just before 1.5 x 10 s: still open.
    auto out = h.timer(tc + 15s - 1ms);
    BOOST_TEST(!out.close);
    BOOST_TEST(out.events.empty());
    BOOST_TEST(h.conn->state() == connection_state::connected);
    // At 15 s: closed, and the router is told (its will gets published).
    out = h.timer(tc + 15s);
    expect_closed_with(out, reason::keep_alive_timeout);
    BOOST_TEST(h.conn->state() == connection_state::closing);
    BOOST_TEST(!h.conn->deadline().has_value());
    BOOST_TEST(out.close_reason == "keep-alive timeout");
}

BOOST_AUTO_TEST_CASE(late_timer_closes_too) {
    harness h;
    h.establish(connect_with_keep_alive(10));
    expect_closed_with(h.timer(t0 + 40s), reason::keep_alive_timeout);
    // A second expiry does nothing more.
    auto out = h.timer(t0 + 50s);
    BOOST_TEST(out.events.empty());
    BOOST_TEST(!out.close);
}

BOOST_AUTO_TEST_CASE(any_packet_resets_the_timer) {
    harness h;
    h.establish(connect_with_keep_alive(10));
    // PINGREQ at 10 s: answered, deadline moves to 25 s.
    auto out = h.feed(pingreq, t0 + 10s);
    BOOST_TEST(hex(out.bytes) == hex(pingresp));
    BOOST_TEST((h.conn->deadline() == t0 + 25s));
    BOOST_TEST(!h.timer(t0 + 15s).close);  // the old deadline no longer applies
    // PUBLISH at 24 s: deadline 39 s.
    out = h.feed(publish_q1, t0 + 24s);
    BOOST_TEST(out.events.size() == 1u);
    BOOST_TEST((h.conn->deadline() == t0 + 39s));
    BOOST_TEST(!h.timer(t0 + 39s - 1ms).close);
    expect_closed_with(h.timer(t0 + 39s), reason::keep_alive_timeout);
}

BOOST_AUTO_TEST_CASE(partial_packet_does_not_reset_the_timer) {
    harness h;
    h.establish(connect_with_keep_alive(10));
    h.feed(pingreq.substr(0, 1), t0 + 10s);  // first byte of PINGREQ only
    BOOST_TEST((h.conn->deadline() == t0 + 15s));
    // It completes at 14 s: that is when the packet was received.
    auto out = h.feed(pingreq.substr(1), t0 + 14s);
    BOOST_TEST(hex(out.bytes) == hex(pingresp));
    BOOST_TEST((h.conn->deadline() == t0 + 29s));
}

BOOST_AUTO_TEST_CASE(router_events_do_not_reset_the_timer) {
    // Only the client proves it is alive.
    harness h;
    h.establish(connect_with_keep_alive(10));
    h.router(events::deliver{test_conn, "t", "hi", 0, false, false, 0}, t0 + 14s);
    BOOST_TEST((h.conn->deadline() == t0 + 15s));
    expect_closed_with(h.timer(t0 + 15s), reason::keep_alive_timeout);
}

BOOST_AUTO_TEST_CASE(keep_alive_zero_disables_it) {
    // MQTT-3.1.2-10
    harness h;
    h.establish(connect_with_keep_alive(0));
    BOOST_TEST(!h.conn->deadline().has_value());
    auto out = h.timer(t0 + 24h * 365);
    BOOST_TEST(!out.close);
    BOOST_TEST(h.conn->state() == connection_state::connected);
}

BOOST_AUTO_TEST_CASE(keep_alive_one_second) {
    harness h;
    h.establish(connect_with_keep_alive(1));
    BOOST_TEST((h.conn->deadline() == t0 + 1500ms));
    BOOST_TEST(!h.timer(t0 + 1499ms).close);
    expect_closed_with(h.timer(t0 + 1500ms), reason::keep_alive_timeout);
}

BOOST_AUTO_TEST_CASE(maximum_keep_alive) {
    // 65535 s x 1.5 = 98302.5 s, no overflow or rounding.
    harness h;
    h.establish(connect_with_keep_alive(0xffff));
    BOOST_TEST((h.conn->deadline() == t0 + 98'302'500ms));
    BOOST_TEST(!h.timer(t0 + 98'302'499ms).close);
    expect_closed_with(h.timer(t0 + 98'302'500ms), reason::keep_alive_timeout);
}

BOOST_AUTO_TEST_CASE(keep_alive_runs_while_awaiting_connack) {
    connection_settings s;
    s.connect_timeout = 10s;
    harness h(s);
    h.feed(connect_with_keep_alive(2));
    BOOST_TEST(h.conn->state() == connection_state::awaiting_connack);
    // The earliest of keep-alive (3 s) and the connack deadline (10 s).
    BOOST_TEST((h.conn->deadline() == t0 + 3s));
    BOOST_TEST(!h.timer(t0 + 3s - 1ms).close);
    expect_closed_with(h.timer(t0 + 3s), reason::keep_alive_timeout);
}

BOOST_AUTO_TEST_CASE(connack_deadline_first_when_keep_alive_is_long) {
    connection_settings s;
    s.connect_timeout = 10s;
    harness h(s);
    h.feed(connect_with_keep_alive(60));
    BOOST_TEST((h.conn->deadline() == t0 + 10s));
    h.router(events::connack{test_conn, false, 0}, t0 + 1s);
    BOOST_TEST((h.conn->deadline() == t0 + 90s));  // from the CONNECT, not the connack
}

BOOST_AUTO_TEST_CASE(deadline_before_connect_is_the_connect_timeout) {
    connection_settings s;
    s.connect_timeout = 7s;
    harness h(s);
    BOOST_TEST((h.conn->deadline() == t0 + 7s));
    h.feed(std::string("\x10", 1), t0 + 1s);  // the first byte of a CONNECT, no more
    BOOST_TEST((h.conn->deadline() == t0 + 7s));
}

BOOST_AUTO_TEST_CASE(no_deadline_once_closed) {
    harness h;
    h.establish(connect_with_keep_alive(10));
    h.transport_closed();
    BOOST_TEST(!h.conn->deadline().has_value());
    BOOST_TEST(h.timer(t0 + 100s).events.empty());
}

BOOST_AUTO_TEST_SUITE_END()
