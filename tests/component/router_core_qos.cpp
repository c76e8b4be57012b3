// router_core QoS (MQTT 3.1.1 sections 3.3.1.2, 4.3, 4.4, 4.6): acknowledgements to
// publishers, inbound QoS 2 exactly once, delivery QoS, overlapping subscriptions,
// the outbound QoS 1/2 flows, offline queueing and its bound, the in-flight
// window, re-sending on resume, and packet id allocation.
#include <boost/test/unit_test.hpp>
#include <set>

#include "tests/component/router_core_harness.hpp"

using namespace router_test;

namespace {

// Publishes `n` QoS 1 messages "<prefix>1".."<prefix>n" on `topic` from `p`.
void publish_numbered(client& p, const std::string& topic, const std::string& prefix, int n) {
    for (int i = 1; i <= n; ++i) p.publish(topic, prefix + std::to_string(i), 1, false, 100);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(router_core_qos)

BOOST_AUTO_TEST_CASE(publisher_gets_the_ack_its_qos_asks_for) {
    fixture f;
    client p{f, "fe1", 1, "P"};
    p.connect_ok();
    EXPECT_LINES(p.publish("t", "q0"), {});                                  // QoS 0: none
    EXPECT_LINES(p.publish("t", "q1", 1, false, 7), {"fe1:1 puback id=7"});  // MQTT-4.3.2-2
    EXPECT_LINES(p.publish("t", "q2", 2, false, 8), {"fe1:1 pubrec id=8"});  // MQTT-4.3.3-2
    EXPECT_LINES(p.pubrel(8), {"fe1:1 pubcomp id=8"});
    BOOST_TEST(f.core.counters().messages_received == 3u);
}

BOOST_AUTO_TEST_CASE(inbound_qos2_is_routed_exactly_once_per_packet_id) {
    fixture f;
    client s{f, "fe1", 1, "S"};
    client p{f, "fe1", 2, "P"};
    s.connect_ok();
    p.connect_ok();
    s.subscribe_ok(1, {{"t", 2}});

    EXPECT_LINES(p.publish("t", "m", 2, false, 5),
                 {"fe1:1 deliver t 'm' qos=2 retain=0 dup=0 id=1", "fe1:2 pubrec id=5"});
    // MQTT-4.3.3-2: until PUBREL, a re-send with the same id is acknowledged
    // again but not delivered onwards again.
    EXPECT_LINES(p.publish("t", "m", 2, false, 5, true), {"fe1:2 pubrec id=5"});
    EXPECT_LINES(p.publish("t", "m", 2, false, 5, false), {"fe1:2 pubrec id=5"});
    BOOST_TEST(f.core.counters().duplicate_qos2 == 2u);
    // Another id meanwhile is a different message.
    EXPECT_LINES(p.publish("t", "n", 2, false, 6),
                 {"fe1:1 deliver t 'n' qos=2 retain=0 dup=0 id=2", "fe1:2 pubrec id=6"});

    EXPECT_LINES(p.pubrel(5), {"fe1:2 pubcomp id=5"});
    // After PUBREL the id is free: the same id is a new message.
    EXPECT_LINES(p.publish("t", "m again", 2, false, 5),
                 {"fe1:1 deliver t 'm again' qos=2 retain=0 dup=0 id=3", "fe1:2 pubrec id=5"});
    // A QoS 1 PUBLISH reusing an id that awaits PUBREL is not a QoS 2 duplicate.
    EXPECT_LINES(p.publish("t", "q1", 1, false, 6),
                 {"fe1:1 deliver t 'q1' qos=1 retain=0 dup=0 id=4", "fe1:2 puback id=6"});
}

BOOST_AUTO_TEST_CASE(inbound_qos2_state_survives_reconnect_of_a_persistent_publisher) {
    fixture f;
    client s{f, "fe1", 1, "S"};
    client p1{f, "fe1", 2, "P"};
    client p2{f, "fe1", 3, "P"};
    s.connect_ok();
    s.subscribe_ok(1, {{"t", 2}});
    p1.connect_ok(false);
    EXPECT_LINES(p1.publish("t", "m", 2, false, 5),
                 {"fe1:1 deliver t 'm' qos=2 retain=0 dup=0 id=1", "fe1:2 pubrec id=5"});
    EXPECT_LINES(p1.disconnect(reason::connection_lost), {});

    // The publisher re-sends the PUBLISH (DUP=1) on its new connection.
    p2.connect_ok(false, true);
    EXPECT_LINES(p2.publish("t", "m", 2, false, 5, true), {"fe1:3 pubrec id=5"});
    EXPECT_LINES(p2.pubrel(5), {"fe1:3 pubcomp id=5"});
    // PUBREL for an id the router never saw (or already released) still gets PUBCOMP.
    EXPECT_LINES(p2.pubrel(5), {"fe1:3 pubcomp id=5"});
    EXPECT_LINES(p2.pubrel(999), {"fe1:3 pubcomp id=999"});
}

BOOST_AUTO_TEST_CASE(delivery_qos_is_the_minimum_of_publish_and_subscription) {
    fixture f;
    client s0{f, "fe1", 10, "S0"};
    client s1{f, "fe1", 11, "S1"};
    client s2{f, "fe1", 12, "S2"};
    client p{f, "fe1", 1, "P"};
    for (auto* s : {&s0, &s1, &s2}) s->connect_ok();
    p.connect_ok();
    s0.subscribe_ok(1, {{"t", 0}});
    s1.subscribe_ok(1, {{"t", 1}});
    s2.subscribe_ok(1, {{"t", 2}});

    // MQTT-3.3.5-1 / 3.8.4-6. Deliveries to different sessions come in any order;
    // the publisher's ack comes last.
    auto got = p.publish("t", "p0");
    EXPECT_LINES_ANY_ORDER(got, {
                                    "fe1:10 deliver t 'p0' qos=0 retain=0 dup=0 id=0",
                                    "fe1:11 deliver t 'p0' qos=0 retain=0 dup=0 id=0",
                                    "fe1:12 deliver t 'p0' qos=0 retain=0 dup=0 id=0",
                                });
    got = p.publish("t", "p1", 1, false, 3);
    BOOST_TEST(got.back() == "fe1:1 puback id=3");
    EXPECT_LINES_ANY_ORDER(got, {
                                    "fe1:10 deliver t 'p1' qos=0 retain=0 dup=0 id=0",
                                    "fe1:11 deliver t 'p1' qos=1 retain=0 dup=0 id=1",
                                    "fe1:12 deliver t 'p1' qos=1 retain=0 dup=0 id=1",
                                    "fe1:1 puback id=3",
                                });
    got = p.publish("t", "p2", 2, false, 4);
    BOOST_TEST(got.back() == "fe1:1 pubrec id=4");
    EXPECT_LINES_ANY_ORDER(got, {
                                    "fe1:10 deliver t 'p2' qos=0 retain=0 dup=0 id=0",
                                    "fe1:11 deliver t 'p2' qos=1 retain=0 dup=0 id=2",
                                    "fe1:12 deliver t 'p2' qos=2 retain=0 dup=0 id=2",
                                    "fe1:1 pubrec id=4",
                                });
}

BOOST_AUTO_TEST_CASE(overlapping_subscriptions_deliver_one_copy_at_the_highest_qos) {
    fixture f;
    client s{f, "fe1", 1, "S"};
    client p{f, "fe1", 2, "P"};
    s.connect_ok();
    p.connect_ok();
    s.subscribe_ok(1, {{"a/+", 0}, {"a/#", 2}, {"a/b", 1}, {"#", 0}});

    EXPECT_LINES(p.publish("a/b", "m", 2, false, 3),
                 {"fe1:1 deliver a/b 'm' qos=2 retain=0 dup=0 id=1", "fe1:2 pubrec id=3"});
    EXPECT_LINES(p.publish("a/c", "n", 1, false, 4),
                 {"fe1:1 deliver a/c 'n' qos=1 retain=0 dup=0 id=2", "fe1:2 puback id=4"});
    // Without the QoS 2 filter the best remaining match is a/b at QoS 1.
    EXPECT_LINES(s.unsubscribe(2, {"a/#"}), {"fe1:1 unsuback id=2"});
    EXPECT_LINES(p.publish("a/b", "o", 2, false, 5),
                 {"fe1:1 deliver a/b 'o' qos=1 retain=0 dup=0 id=3", "fe1:2 pubrec id=5"});
    EXPECT_LINES(p.publish("z", "p", 2, false, 6),
                 {"fe1:1 deliver z 'p' qos=0 retain=0 dup=0 id=0", "fe1:2 pubrec id=6"});
}

BOOST_AUTO_TEST_CASE(outbound_qos1_completes_on_puback_only) {
    fixture f;
    client s{f, "fe1", 1, "S"};
    client p{f, "fe1", 2, "P"};
    s.connect_ok();
    p.connect_ok();
    s.subscribe_ok(1, {{"t", 1}});
    const router::session* sess = f.core.find_session("S");
    BOOST_REQUIRE(sess != nullptr);
    // An idle session allocates no in-flight window or queue (memory per
    // idle connection, issue 6).
    BOOST_TEST(!sess->inflight.allocated());
    BOOST_TEST(!sess->queue.allocated());
    EXPECT_LINES(p.publish("t", "m", 1, false, 3),
                 {"fe1:1 deliver t 'm' qos=1 retain=0 dup=0 id=1", "fe1:2 puback id=3"});
    BOOST_REQUIRE_EQUAL(sess->inflight.size(), 1u);
    BOOST_TEST(sess->inflight[0].packet_id == 1u);

    // Acks of the wrong kind or for unknown ids change nothing.
    EXPECT_LINES(s.pubcomp(1), {});
    EXPECT_LINES(s.pubrec(1), {});
    EXPECT_LINES(s.puback(2), {});
    BOOST_TEST(sess->inflight.size() == 1u);
    BOOST_TEST((sess->inflight[0].state == router::outbound_state::awaiting_puback));

    EXPECT_LINES(s.puback(1), {});
    BOOST_TEST(sess->inflight.empty());
    EXPECT_LINES(s.puback(1), {});  // a late duplicate
}

BOOST_AUTO_TEST_CASE(outbound_qos2_pubrec_pubrel_pubcomp) {
    fixture f;
    client s{f, "fe1", 1, "S"};
    client p{f, "fe1", 2, "P"};
    s.connect_ok();
    p.connect_ok();
    s.subscribe_ok(1, {{"t", 2}});
    EXPECT_LINES(p.publish("t", "m", 2, false, 3),
                 {"fe1:1 deliver t 'm' qos=2 retain=0 dup=0 id=1", "fe1:2 pubrec id=3"});
    const router::session* sess = f.core.find_session("S");
    BOOST_REQUIRE(sess != nullptr);

    EXPECT_LINES(s.pubcomp(1), {});  // too early: still awaiting PUBREC
    EXPECT_LINES(s.puback(1), {});   // wrong kind for QoS 2
    BOOST_REQUIRE_EQUAL(sess->inflight.size(), 1u);
    BOOST_TEST((sess->inflight[0].state == router::outbound_state::awaiting_pubrec));

    // MQTT-4.3.3-1: PUBREC -> PUBREL with the same id; the payload is released.
    EXPECT_LINES(s.pubrec(1), {"fe1:1 pubrel id=1"});
    BOOST_REQUIRE_EQUAL(sess->inflight.size(), 1u);
    BOOST_TEST((sess->inflight[0].state == router::outbound_state::awaiting_pubcomp));
    BOOST_TEST(!sess->inflight[0].msg);
    // A re-sent PUBREC is answered with PUBREL again.
    EXPECT_LINES(s.pubrec(1), {"fe1:1 pubrel id=1"});

    EXPECT_LINES(s.pubcomp(1), {});
    BOOST_TEST(sess->inflight.empty());
    EXPECT_LINES(s.pubcomp(1), {});
    EXPECT_LINES(s.pubrec(1), {});  // unknown id now
}

BOOST_AUTO_TEST_CASE(offline_persistent_session_queues_qos1_and_qos2_but_not_qos0) {
    fixture f;
    client s{f, "fe1", 1, "S"};
    client p{f, "fe1", 2, "P"};
    p.connect_ok();
    s.connect_ok(false);
    s.subscribe_ok(1, {{"t", 2}});
    EXPECT_LINES(s.disconnect(), {});

    EXPECT_LINES(p.publish("t", "a0"), {});
    EXPECT_LINES(p.publish("t", "b1", 1, false, 3), {"fe1:2 puback id=3"});
    EXPECT_LINES(p.publish("t", "c2", 2, false, 4), {"fe1:2 pubrec id=4"});
    EXPECT_LINES(p.publish("t", "d1", 1, false, 5), {"fe1:2 puback id=5"});
    BOOST_TEST(f.core.counters().dropped_qos0_offline == 1u);
    BOOST_TEST(f.core.counters().messages_queued == 3u);
    BOOST_TEST(f.core.find_session("S")->queue.size() == 3u);

    // Queued messages are first sends (DUP=0), in order, with the delivery QoS.
    EXPECT_LINES(s.connect(false), {
                                       "fe1:1 connack sp=1 rc=0",
                                       "fe1:1 deliver t 'b1' qos=1 retain=0 dup=0 id=1",
                                       "fe1:1 deliver t 'c2' qos=2 retain=0 dup=0 id=2",
                                       "fe1:1 deliver t 'd1' qos=1 retain=0 dup=0 id=3",
                                   });
    BOOST_TEST(f.core.find_session("S")->queue.empty());
}

BOOST_AUTO_TEST_CASE(queue_is_bounded_offline_and_behind_a_full_window) {
    router::router_settings settings;
    settings.max_queued_messages = 2;
    settings.max_inflight_messages = 1;
    fixture f(settings);
    client s{f, "fe1", 1, "S"};
    client p{f, "fe1", 2, "P"};
    p.connect_ok();
    s.connect_ok(false);
    s.subscribe_ok(1, {{"t", 1}});
    EXPECT_LINES(s.disconnect(), {});

    publish_numbered(p, "t", "m", 4);
    BOOST_TEST(f.core.counters().messages_queued == 2u);
    BOOST_TEST(f.core.counters().dropped_queue_full == 2u);

    // The oldest messages were kept; only one fits the window.
    EXPECT_LINES(s.connect(false), {
                                       "fe1:1 connack sp=1 rc=0",
                                       "fe1:1 deliver t 'm1' qos=1 retain=0 dup=0 id=1",
                                   });
    // Online with a full window: one more queues (m2 still queued + n1), then drops.
    publish_numbered(p, "t", "n", 2);
    BOOST_TEST(f.core.find_session("S")->queue.size() == 2u);
    BOOST_TEST(f.core.counters().dropped_queue_full == 3u);
    EXPECT_LINES(s.puback(1), {"fe1:1 deliver t 'm2' qos=1 retain=0 dup=0 id=2"});
    EXPECT_LINES(s.puback(2), {"fe1:1 deliver t 'n1' qos=1 retain=0 dup=0 id=3"});
    EXPECT_LINES(s.puback(3), {});
}

BOOST_AUTO_TEST_CASE(in_flight_window_is_refilled_on_puback_and_pubcomp) {
    router::router_settings settings;
    settings.max_inflight_messages = 2;
    fixture f(settings);
    client s{f, "fe1", 1, "S"};
    client p{f, "fe1", 2, "P"};
    s.connect_ok();
    p.connect_ok();
    s.subscribe_ok(1, {{"q1", 1}, {"q2", 2}, {"q0", 0}});

    EXPECT_LINES(p.publish("q1", "a", 1, false, 1),
                 {"fe1:1 deliver q1 'a' qos=1 retain=0 dup=0 id=1", "fe1:2 puback id=1"});
    EXPECT_LINES(p.publish("q2", "b", 2, false, 2),
                 {"fe1:1 deliver q2 'b' qos=2 retain=0 dup=0 id=2", "fe1:2 pubrec id=2"});
    // The window is full: QoS 1/2 wait in order...
    EXPECT_LINES(p.publish("q1", "c", 1, false, 3), {"fe1:2 puback id=3"});
    EXPECT_LINES(p.publish("q2", "d", 2, false, 4), {"fe1:2 pubrec id=4"});
    EXPECT_LINES(p.publish("q1", "e", 1, false, 5), {"fe1:2 puback id=5"});
    // ...while QoS 0 is not held by the window.
    EXPECT_LINES(p.publish("q0", "z"), {"fe1:1 deliver q0 'z' qos=0 retain=0 dup=0 id=0"});
    BOOST_TEST(f.core.find_session("S")->queue.size() == 3u);

    // PUBREC keeps the QoS 2 entry in flight: nothing moves.
    EXPECT_LINES(s.pubrec(2), {"fe1:1 pubrel id=2"});
    // PUBACK frees a slot: the oldest queued message goes out.
    EXPECT_LINES(s.puback(1), {"fe1:1 deliver q1 'c' qos=1 retain=0 dup=0 id=3"});
    // PUBCOMP frees a slot too.
    EXPECT_LINES(s.pubcomp(2), {"fe1:1 deliver q2 'd' qos=2 retain=0 dup=0 id=4"});
    EXPECT_LINES(s.puback(3), {"fe1:1 deliver q1 'e' qos=1 retain=0 dup=0 id=5"});
    BOOST_TEST(f.core.find_session("S")->queue.empty());
    // New messages flow straight through once there is room.
    EXPECT_LINES(s.puback(5), {});
    EXPECT_LINES(p.publish("q1", "f", 1, false, 6),
                 {"fe1:1 deliver q1 'f' qos=1 retain=0 dup=0 id=6", "fe1:2 puback id=6"});
}

BOOST_AUTO_TEST_CASE(resume_resends_in_flight_with_dup_in_order_then_drains_the_queue) {
    router::router_settings settings;
    settings.max_inflight_messages = 4;
    fixture f(settings);
    client s1{f, "fe1", 1, "S"};
    client p{f, "fe1", 2, "P"};
    p.connect_ok();
    s1.connect_ok(false);
    s1.subscribe_ok(1, {{"u", 1}, {"t", 2}});

    EXPECT_LINES(p.publish("u", "m1", 1, false, 1),
                 {"fe1:1 deliver u 'm1' qos=1 retain=0 dup=0 id=1", "fe1:2 puback id=1"});
    EXPECT_LINES(p.publish("t", "m2", 2, false, 2),
                 {"fe1:1 deliver t 'm2' qos=2 retain=0 dup=0 id=2", "fe1:2 pubrec id=2"});
    EXPECT_LINES(p.publish("t", "m3", 2, false, 3),
                 {"fe1:1 deliver t 'm3' qos=2 retain=0 dup=0 id=3", "fe1:2 pubrec id=3"});
    EXPECT_LINES(p.publish("u", "m4", 1, false, 4),
                 {"fe1:1 deliver u 'm4' qos=1 retain=0 dup=0 id=4", "fe1:2 puback id=4"});
    EXPECT_LINES(s1.pubrec(3), {"fe1:1 pubrel id=3"});  // m3 now awaits PUBCOMP
    EXPECT_LINES(s1.puback(4), {});                     // m4 done
    EXPECT_LINES(s1.disconnect(reason::connection_lost), {});

    // Offline: two more are queued.
    EXPECT_LINES(p.publish("t", "m5", 2, false, 5), {"fe1:2 pubrec id=5"});
    EXPECT_LINES(p.publish("u", "m6", 1, false, 6), {"fe1:2 puback id=6"});

    // MQTT-4.4.0-1: PUBLISH re-sent with DUP=1 and PUBREL re-sent, in the
    // original order, then the queue fills the window with fresh ids.
    client s2{f, "fe1", 3, "S"};
    EXPECT_LINES(s2.connect(false), {
                                        "fe1:3 connack sp=1 rc=0",
                                        "fe1:3 deliver u 'm1' qos=1 retain=0 dup=1 id=1",
                                        "fe1:3 deliver t 'm2' qos=2 retain=0 dup=1 id=2",
                                        "fe1:3 pubrel id=3",
                                        "fe1:3 deliver t 'm5' qos=2 retain=0 dup=0 id=5",
                                    });
    // The window (4) is full; m6 waits.
    BOOST_TEST(f.core.find_session("S")->queue.size() == 1u);
    EXPECT_LINES(s2.pubcomp(3), {"fe1:3 deliver u 'm6' qos=1 retain=0 dup=0 id=6"});
    EXPECT_LINES(s2.puback(1), {});
    EXPECT_LINES(s2.pubrec(2), {"fe1:3 pubrel id=2"});
    EXPECT_LINES(s2.pubcomp(2), {});
    EXPECT_LINES(s2.pubrec(5), {"fe1:3 pubrel id=5"});
    EXPECT_LINES(s2.pubcomp(5), {});
    EXPECT_LINES(s2.puback(6), {});
    BOOST_TEST(f.core.find_session("S")->inflight.empty());

    // A second resume with nothing pending sends only the CONNACK.
    EXPECT_LINES(s2.disconnect(), {});
    EXPECT_LINES(s1.connect(false), {"fe1:1 connack sp=1 rc=0"});
}

BOOST_AUTO_TEST_CASE(packet_ids_are_never_zero_and_never_reused_while_in_flight) {
    router::router_settings settings;
    settings.max_inflight_messages = 3;
    fixture f(settings);
    client s{f, "fe1", 1, "S"};
    client p{f, "fe1", 2, "P"};
    s.connect_ok();
    p.connect_ok();
    s.subscribe_ok(1, {{"q1", 1}, {"q2", 2}});

    // Two entries stay in flight for the whole test: id 1 awaiting PUBACK and
    // id 2 awaiting PUBCOMP. The third slot cycles through the id space.
    EXPECT_LINES(p.publish("q1", "held1", 1, false, 1),
                 {"fe1:1 deliver q1 'held1' qos=1 retain=0 dup=0 id=1", "fe1:2 puback id=1"});
    EXPECT_LINES(p.publish("q2", "held2", 2, false, 2),
                 {"fe1:1 deliver q2 'held2' qos=2 retain=0 dup=0 id=2", "fe1:2 pubrec id=2"});
    EXPECT_LINES(s.pubrec(2), {"fe1:1 pubrel id=2"});

    std::uint16_t expected = 3;
    int checked = 0;
    int wrapped = 0;
    for (int i = 0; i < 2 * 65535 + 10; ++i) {
        const auto out =
            f.handle_raw("fe1", events::client_publish{2, "q1", "x", 1, false, false, 9});
        BOOST_REQUIRE_EQUAL(out.size(), 2u);  // deliver, puback
        const auto* d = std::get_if<events::deliver>(&out[0].event);
        BOOST_REQUIRE(d != nullptr);
        // 0 is never used; 1 and 2 are skipped while in flight (MQTT-2.3.1-2/4).
        if (d->packet_id != expected) {
            BOOST_REQUIRE_MESSAGE(
                false, "message " << i << ": id " << d->packet_id << ", expected " << expected);
        }
        ++checked;
        BOOST_REQUIRE(
            f.handle("fe1", events::client_ack{1, ack_kind::puback, d->packet_id}).empty());
        if (expected == 65535) {
            expected = 3;
            ++wrapped;
        } else {
            ++expected;
        }
    }
    BOOST_TEST(checked == 2 * 65535 + 10);
    BOOST_TEST(wrapped == 2);

    // The held entries are intact and complete normally.
    const router::session* sess = f.core.find_session("S");
    BOOST_REQUIRE_EQUAL(sess->inflight.size(), 2u);
    EXPECT_LINES(s.puback(1), {});
    EXPECT_LINES(s.pubcomp(2), {});
    BOOST_TEST(sess->inflight.empty());
    // With nothing in flight the sequence just continues (and still skips 0).
    std::set<std::uint16_t> seen;
    for (int i = 0; i < 3; ++i) {
        const auto out =
            f.handle_raw("fe1", events::client_publish{2, "q1", "y", 1, false, false, 9});
        seen.insert(std::get<events::deliver>(out.at(0).event).packet_id);
    }
    BOOST_TEST((seen == std::set<std::uint16_t>{expected, std::uint16_t(expected + 1),
                                                std::uint16_t(expected + 2)}));
    BOOST_TEST(!seen.contains(0));
}

BOOST_AUTO_TEST_SUITE_END()
