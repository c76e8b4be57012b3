// frontend::connection: the limits it applies (README "Limits"): topic
// length and levels for PUBLISH topics, will topics and SUBSCRIBE filters,
// and the CONNECT held while its source address is slowed down for failed
// logins (limits::gate, faked here). Client bytes are hand-written hex.
#include <boost/test/unit_test.hpp>
#include <vector>

#include "frontend/limits/gate.hpp"
#include "router/router_core.hpp"
#include "tests/component/connection_harness.hpp"

using namespace connection_test;
using frontend::limits::topic_use;

namespace {

// The frontend's side of the limits, recorded: login_allowed_at answers
// `allowed` (or now, if that is later).
struct fake_gate final : frontend::limits::gate {
    clock::time_point allowed{};
    int asked = 0;
    int failures = 0;
    std::vector<topic_use> refused;

    clock::time_point login_allowed_at(events::conn_id conn, clock::time_point now) override {
        BOOST_TEST(conn == test_conn);
        ++asked;
        return std::max(now, allowed);
    }
    void login_failed(events::conn_id conn, clock::time_point) override {
        BOOST_TEST(conn == test_conn);
        ++failures;
    }
    void topic_refused(topic_use use) override { refused.push_back(use); }
};

connection_settings limited(fake_gate& gate, std::size_t max_length, std::size_t max_levels) {
    connection_settings s;
    s.topic_limits = {max_length, max_levels};
    s.gate = &gate;
    return s;
}

// PUBLISH QoS 0 "abcde" (5 bytes, 1 level), no payload.
const std::string publish_5_bytes = bytes({
    0x30, 0x07,                          // PUBLISH QoS 0, remaining length 7
    0x00, 0x05, 'a', 'b', 'c', 'd', 'e'  // topic "abcde"
});
// PUBLISH QoS 0 "abcdef" (6 bytes), no payload.
const std::string publish_6_bytes = bytes({
    0x30, 0x08,                               // PUBLISH QoS 0, remaining length 8
    0x00, 0x06, 'a', 'b', 'c', 'd', 'e', 'f'  // topic "abcdef"
});
// PUBLISH QoS 0 "a/b" (2 levels), payload "p".
const std::string publish_2_levels = bytes({
    0x30, 0x06,                 // PUBLISH QoS 0, remaining length 6
    0x00, 0x03, 'a', '/', 'b',  // topic "a/b"
    'p',                        // payload
});
// PUBLISH QoS 1 "a//" (3 levels: empty ones count), id 5.
const std::string publish_3_levels = bytes({
    0x32, 0x07,                 // PUBLISH QoS 1, remaining length 7
    0x00, 0x03, 'a', '/', '/',  // topic "a//"
    0x00, 0x05,                 // packet id 5
});
// SUBSCRIBE id 11: "a/+" QoS 1 (2 levels), "b/c/#" QoS 0 (3 levels), "x" QoS 2.
const std::string subscribe_11 = bytes({
    0x82, 0x14,                             // SUBSCRIBE (flags 0010), remaining length 20
    0x00, 0x0b,                             // packet id 11
    0x00, 0x03, 'a', '/',  '+', 0x01,       // "a/+", QoS 1
    0x00, 0x05, 'b', '/',  'c', '/',  '#',  // "b/c/#"
    0x00,                                   // QoS 0
    0x00, 0x01, 'x', 0x02,                  // "x", QoS 2
});
// UNSUBSCRIBE id 12: "x/y/z" (3 levels).
const std::string unsubscribe_12 = bytes({
    0xa2, 0x09,                           // UNSUBSCRIBE (flags 0010), remaining length 9
    0x00, 0x0c,                           // packet id 12
    0x00, 0x05, 'x', '/', 'y', '/', 'z',  // "x/y/z"
});
// CONNECT "cw" with will topic "w/t" (3 bytes, 2 levels), user "u", password "p".
const std::string connect_with_will = bytes({
    0x10, 0x1f,                      // CONNECT, remaining length 31
    0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
    0x04,                            // protocol level 4
    0xce,                            // flags: username, password, will QoS 1, will, clean session
    0x00, 0x1e,                      // keep alive 30 s
    0x00, 0x02, 'c', 'w',            // client id "cw"
    0x00, 0x03, 'w', '/', 't',       // will topic "w/t"
    0x00, 0x04, 'g', 'o', 'n', 'e',  // will payload "gone"
    0x00, 0x01, 'u',                 // username "u"
    0x00, 0x01, 'p',                 // password "p"
});
// CONNECT "c", user "u", wrong password "x".
const std::string connect_bad_password = bytes({
    0x10, 0x13,                      // CONNECT, remaining length 19
    0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
    0x04,                            // protocol level 4
    0xc2,                            // flags: username, password, clean session
    0x00, 0x3c,                      // keep alive 60 s
    0x00, 0x01, 'c',                 // client id "c"
    0x00, 0x01, 'u',                 // username "u"
    0x00, 0x01, 'x',                 // password "x" (wrong)
});
// CONNECT "c" without user name or password.
const std::string connect_no_credentials = bytes({
    0x10, 0x0d,                      // CONNECT, remaining length 13
    0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
    0x04,                            // protocol level 4
    0x02,                            // flags: clean session
    0x00, 0x3c,                      // keep alive 60 s
    0x00, 0x01, 'c',                 // client id "c"
});

const std::string connack_bad_credentials = bytes({0x20, 0x02, 0x00, 0x04});  // CONNACK rc=4
const std::string connack_not_authorized = bytes({0x20, 0x02, 0x00, 0x05});   // CONNACK rc=5

}  // namespace

BOOST_AUTO_TEST_SUITE(connection_limits)

// ---- topic limits ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(publish_topic_up_to_the_length_passes_longer_closes) {
    fake_gate gate;
    harness h(limited(gate, 5, 128));
    h.establish();
    auto out = h.feed(publish_5_bytes);
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    BOOST_TEST(as<events::client_publish>(out.events[0]).topic == "abcde");
    BOOST_TEST(gate.refused.empty());
    // No PUBACK can refuse a PUBLISH in 3.1.1: the connection is closed (the
    // router hears of a protocol error, so a will would fire).
    out = h.feed(publish_6_bytes);
    expect_closed_with(out, reason::protocol_error);
    BOOST_TEST(out.close_reason == "PUBLISH topic over the topic limits");
    BOOST_TEST(h.conn->refusal().empty());  // it had been accepted
    BOOST_TEST_REQUIRE(gate.refused.size() == 1u);
    BOOST_TEST((gate.refused[0] == topic_use::publish));
}

BOOST_AUTO_TEST_CASE(publish_topic_over_the_levels_closes_empty_levels_count) {
    fake_gate gate;
    harness h(limited(gate, 65535, 2));
    h.establish();
    auto out = h.feed(publish_2_levels);
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    BOOST_TEST(as<events::client_publish>(out.events[0]).topic == "a/b");
    out = h.feed(publish_3_levels);  // "a//" has three levels, no PUBACK
    expect_closed_with(out, reason::protocol_error);
}

BOOST_AUTO_TEST_CASE(subscribe_filter_over_the_limits_is_refused_alone) {
    fake_gate gate;
    harness h(limited(gate, 65535, 2));
    h.establish();
    auto out = h.feed(subscribe_11);
    BOOST_TEST(!out.close);
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    const auto& sub = as<events::client_subscribe>(out.events[0]);
    BOOST_TEST(sub.packet_id == 11u);
    BOOST_REQUIRE_EQUAL(sub.subscriptions.size(), 3u);
    // The refused filter stays in its place, emptied: the router answers
    // 0x80 for an empty filter (never valid), so the SUBACK keeps the order.
    BOOST_TEST(sub.subscriptions[0].filter == "a/+");
    BOOST_TEST(sub.subscriptions[1].filter == "");
    BOOST_TEST(sub.subscriptions[2].filter == "x");
    BOOST_TEST(sub.subscriptions[1].qos == 0u);
    BOOST_TEST_REQUIRE(gate.refused.size() == 1u);
    BOOST_TEST((gate.refused[0] == topic_use::subscribe));

    // The router does answer 0x80 for it, and adds nothing.
    router::router_core core(router::router_settings{});
    std::vector<router::router_core::outgoing> routed;
    core.handle("fe", events::client_connect{test_conn, "c", true, 4, 60, "u", std::nullopt},
                routed);
    routed.clear();
    core.handle("fe", events::event{sub}, routed);
    BOOST_REQUIRE_EQUAL(routed.size(), 1u);
    const auto& ack = as<events::suback>(routed[0].event);
    BOOST_TEST(ack.return_codes == (std::vector<std::uint8_t>{1, 0x80, 2}),
               boost::test_tools::per_element());
    BOOST_TEST(core.subscription_count() == 2u);
}

BOOST_AUTO_TEST_CASE(unsubscribe_filters_over_the_limits_are_passed_on) {
    // They can only name a subscription made before the limits were lowered.
    fake_gate gate;
    harness h(limited(gate, 65535, 2));
    h.establish();
    auto out = h.feed(unsubscribe_12);
    BOOST_TEST(!out.close);
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    const auto& unsub = as<events::client_unsubscribe>(out.events[0]);
    BOOST_TEST(unsub.filters == (std::vector<std::string>{"x/y/z"}),
               boost::test_tools::per_element());
    BOOST_TEST(gate.refused.empty());
}

BOOST_AUTO_TEST_CASE(will_topic_over_the_limits_closes_without_connack) {
    fake_gate gate;
    harness h(limited(gate, 2, 128));  // "w/t" is 3 bytes
    auto out = h.feed(connect_with_will);
    expect_closed_silently(out);  // no CONNACK code fits; the router never hears of it
    BOOST_TEST(h.auth.calls == 0);
    BOOST_TEST(h.conn->refusal() == "protocol_error");
    BOOST_TEST_REQUIRE(gate.refused.size() == 1u);
    BOOST_TEST((gate.refused[0] == topic_use::will));

    fake_gate levels_gate;
    harness by_levels(limited(levels_gate, 65535, 1));  // "w/t" has 2 levels
    expect_closed_silently(by_levels.feed(connect_with_will));

    fake_gate fits_gate;
    harness fits(limited(fits_gate, 3, 2));  // exactly at both limits
    fits.establish(connect_with_will);
}

// ---- failed-login slowdown ------------------------------------------------

BOOST_AUTO_TEST_CASE(failed_logins_are_reported_to_the_gate) {
    fake_gate gate;
    harness bad(limited(gate, 65535, 128));
    expect_closed_silently(bad.feed(connect_bad_password), hex(connack_bad_credentials));
    BOOST_TEST(gate.failures == 1);
    harness none(limited(gate, 65535, 128));
    expect_closed_silently(none.feed(connect_no_credentials), hex(connack_not_authorized));
    BOOST_TEST(gate.failures == 2);
    harness good(limited(gate, 65535, 128));
    good.establish();
    BOOST_TEST(gate.failures == 2);  // a success is no failure (and resets nothing)
    BOOST_TEST(gate.asked == 3);
}

BOOST_AUTO_TEST_CASE(held_connect_is_checked_when_its_time_comes_with_what_followed_it) {
    fake_gate gate;
    gate.allowed = t0 + 1s;
    harness h(limited(gate, 65535, 128));
    // CONNECT and a pipelined SUBSCRIBE: nothing is checked or answered yet.
    auto out = h.feed(connect_u_p + subscribe_10);
    BOOST_TEST(!out.close);
    BOOST_TEST(out.bytes.empty());
    BOOST_TEST(out.events.empty());
    BOOST_TEST(h.auth.calls == 0);
    BOOST_TEST(h.conn->state() == connection_state::awaiting_connect);
    BOOST_TEST((h.conn->deadline() == t0 + 1s));
    out = h.feed(pingreq, t0 + 500ms);  // more pipelined bytes wait too
    BOOST_TEST(out.bytes.empty());
    BOOST_TEST(out.events.empty());
    BOOST_TEST(h.timer(t0 + 999ms).events.empty());

    out = h.timer(t0 + 1s);
    BOOST_TEST(h.auth.calls == 1);
    BOOST_TEST(gate.asked == 1);  // a released CONNECT is not held again
    BOOST_REQUIRE_EQUAL(out.events.size(), 2u);
    BOOST_TEST(as<events::client_connect>(out.events[0]).client_id == "c");
    BOOST_TEST(as<events::client_subscribe>(out.events[1]).packet_id == 10u);
    BOOST_TEST(h.conn->state() == connection_state::awaiting_connack);
    // The router accepts: CONNACK, then the PINGRESP that waited for it.
    out = h.router(events::connack{test_conn, false, 0}, t0 + 1s);
    BOOST_TEST(hex(out.bytes) == hex(connack_accepted + pingresp));
}

BOOST_AUTO_TEST_CASE(a_held_connect_outlasts_the_connect_timeout_and_keep_alive_starts_after) {
    fake_gate gate;
    gate.allowed = t0 + 30s;
    connection_settings s = limited(gate, 65535, 128);
    s.connect_timeout = 10s;
    harness h(s);
    h.feed(connect_u_p);  // keep-alive 60 s
    // It arrived in time: the connect deadline no longer applies.
    auto out = h.timer(t0 + 10s);
    BOOST_TEST(!out.close);
    BOOST_TEST((h.conn->deadline() == t0 + 30s));
    out = h.timer(t0 + 30s);
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    h.router(events::connack{test_conn, false, 0}, t0 + 30s);
    BOOST_TEST(h.conn->state() == connection_state::connected);
    // 1.5 x 60 s from the answer, not from the CONNECT (which would be at t0 + 90 s).
    BOOST_TEST((h.conn->deadline() == t0 + 30s + 90s));
    BOOST_TEST(!h.timer(t0 + 90s).close);
}

BOOST_AUTO_TEST_CASE(held_bad_login_is_refused_when_its_time_comes) {
    fake_gate gate;
    gate.allowed = t0 + 2s;
    harness h(limited(gate, 65535, 128));
    auto out = h.feed(connect_bad_password);
    BOOST_TEST(out.bytes.empty());
    BOOST_TEST(gate.failures == 0);
    out = h.timer(t0 + 2s);
    expect_closed_silently(out, hex(connack_bad_credentials));
    BOOST_TEST(gate.failures == 1);
    BOOST_TEST(h.conn->refusal() == "bad_credentials");
}

BOOST_AUTO_TEST_CASE(held_connect_bytes_are_bounded_by_the_pre_connect_limit) {
    fake_gate gate;
    gate.allowed = t0 + 5s;
    connection_settings s = limited(gate, 65535, 128);
    s.max_packet_size_before_connect = 64;
    harness h(s);
    h.feed(connect_u_p);
    std::string pings;
    for (int i = 0; i < 32; ++i) pings += pingreq;  // 64 bytes: still within
    BOOST_TEST(!h.feed(pings).close);
    expect_closed_silently(h.feed(pingreq));  // 66 > 64
    BOOST_TEST(h.conn->refusal() == "protocol_error");
    BOOST_TEST(h.auth.calls == 0);
}

BOOST_AUTO_TEST_CASE(a_client_that_leaves_while_held_is_forgotten) {
    fake_gate gate;
    gate.allowed = t0 + 5s;
    harness h(limited(gate, 65535, 128));
    h.feed(connect_u_p);
    auto out = h.transport_closed();
    BOOST_TEST(out.events.empty());  // the router never knew it
    BOOST_TEST(h.conn->state() == connection_state::closed);
    BOOST_TEST(h.timer(t0 + 5s).events.empty());
    BOOST_TEST(h.auth.calls == 0);
}

BOOST_AUTO_TEST_CASE(certificate_identities_are_never_held) {
    fake_gate gate;
    gate.allowed = t0 + 5s;
    harness h(limited(gate, 65535, 128));
    h.conn->set_peer_identity(std::string("device-7"));
    auto out = h.feed(connect_u_p);
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    BOOST_TEST(as<events::client_connect>(out.events[0]).username == "device-7");
    BOOST_TEST(gate.asked == 0);
}

BOOST_AUTO_TEST_SUITE_END()
