// router_core sessions (MQTT 3.1.1 sections 3.1.2.4, 3.1.4, 3.2.2.2): CONNACK and
// session present, clean-session lifetime, persistent subscriptions, takeover,
// connections the core does not know, and clients on two frontends.
#include <boost/test/unit_test.hpp>

#include "tests/component/router_core_harness.hpp"

using namespace router_test;

BOOST_AUTO_TEST_SUITE(router_core_sessions)

BOOST_AUTO_TEST_CASE(session_present_reflects_clean_flag_and_existing_state) {
    fixture f;
    client a{f, "fe1", 1, "A"};

    // clean=1, no session: sp=0 (MQTT-3.2.2-1), and nothing outlives the connection.
    EXPECT_LINES(a.connect(true), {"fe1:1 connack sp=0 rc=0"});
    BOOST_TEST(f.core.session_count() == 1u);
    BOOST_TEST(f.core.online_count() == 1u);
    EXPECT_LINES(a.disconnect(), {});
    BOOST_TEST(f.core.session_count() == 0u);
    BOOST_TEST(f.core.online_count() == 0u);

    // clean=0, no session yet: sp=0 (MQTT-3.2.2-3).
    EXPECT_LINES(a.connect(false), {"fe1:1 connack sp=0 rc=0"});
    EXPECT_LINES(a.disconnect(), {});
    BOOST_TEST(f.core.session_count() == 1u);
    BOOST_TEST(f.core.online_count() == 0u);

    // clean=0 with the stored session: sp=1 (MQTT-3.2.2-2).
    EXPECT_LINES(a.connect(false), {"fe1:1 connack sp=1 rc=0"});
    EXPECT_LINES(a.disconnect(), {});

    // clean=1 discards the stored session: sp=0 (MQTT-3.1.2-6).
    EXPECT_LINES(a.connect(true), {"fe1:1 connack sp=0 rc=0"});
    BOOST_REQUIRE(f.core.find_session("A") != nullptr);
    BOOST_TEST(f.core.find_session("A")->clean);
    EXPECT_LINES(a.disconnect(), {});
    BOOST_TEST(f.core.session_count() == 0u);
    BOOST_TEST(f.core.find_session("A") == nullptr);
}

BOOST_AUTO_TEST_CASE(clean_session_state_is_discarded_at_disconnect) {
    fixture f;
    client a{f, "fe1", 1, "A"};
    client p{f, "fe1", 2, "P"};
    p.connect_ok();
    a.connect_ok(true);
    a.subscribe_ok(1, {{"t", 1}});
    BOOST_TEST(f.core.subscription_count() == 1u);

    EXPECT_LINES(a.disconnect(reason::connection_lost), {});
    BOOST_TEST(f.core.subscription_count() == 0u);
    BOOST_TEST(f.core.find_session("A") == nullptr);

    // Nothing is queued for the gone session, and a later clean=0 starts empty.
    EXPECT_LINES(p.publish("t", "m", 1, false, 5), {"fe1:2 puback id=5"});
    BOOST_TEST(f.core.counters().messages_queued == 0u);
    EXPECT_LINES(a.connect(false), {"fe1:1 connack sp=0 rc=0"});
    EXPECT_LINES(p.publish("t", "m", 1, false, 6), {"fe1:2 puback id=6"});
}

BOOST_AUTO_TEST_CASE(persistent_session_keeps_subscriptions_across_connections) {
    fixture f;
    client a{f, "fe1", 1, "A"};
    client p{f, "fe1", 2, "P"};
    p.connect_ok();
    a.connect_ok(false);
    a.subscribe_ok(1, {{"t/+", 1}, {"u", 0}});
    EXPECT_LINES(a.disconnect(), {});
    BOOST_TEST(f.core.subscription_count() == 2u);
    BOOST_REQUIRE(f.core.find_session("A") != nullptr);
    BOOST_TEST(f.core.find_session("A")->subscriptions.size() == 2u);

    // The client comes back on another connection id; it does not subscribe again.
    client a2{f, "fe1", 7, "A"};
    a2.connect_ok(false, true);
    EXPECT_LINES(p.publish("t/x", "one", 1, false, 3),
                 {"fe1:7 deliver t/x 'one' qos=1 retain=0 dup=0 id=1", "fe1:2 puback id=3"});
    EXPECT_LINES(p.publish("u", "two"), {"fe1:7 deliver u 'two' qos=0 retain=0 dup=0 id=0"});
}

BOOST_AUTO_TEST_CASE(takeover_closes_the_old_connection_fires_its_will_and_serves_the_new_one) {
    fixture f;
    client w{f, "fe1", 1, "W"};  // watches A's will topic
    client p{f, "fe1", 2, "P"};
    client a1{f, "fe1", 3, "A"};
    client a2{f, "fe2", 5, "A"};  // same client id, another frontend
    w.connect_ok();
    w.subscribe_ok(1, {{"will/a", 1}});
    p.connect_ok();
    a1.connect_ok(false, false, events::will{"will/a", "gone", 1, false});
    a1.subscribe_ok(2, {{"x", 0}});

    // MQTT-3.1.4-2: the existing client is disconnected (on its own frontend),
    // its will is published, and the new connection resumes the session.
    EXPECT_LINES(a2.connect(false), {
                                        "fe1:3 close_connection taken_over",
                                        "fe1:1 deliver will/a 'gone' qos=1 retain=0 dup=0 id=1",
                                        "fe2:5 connack sp=1 rc=0",
                                    });
    BOOST_TEST(f.core.counters().sessions_taken_over == 1u);
    BOOST_TEST(f.core.counters().wills_published == 1u);
    BOOST_TEST(f.core.session_count() == 3u);

    // The old connection is now a stranger: its requests and its (late)
    // client_disconnect do nothing, in particular no second will.
    EXPECT_LINES(a1.subscribe(9, {{"y", 1}}), {});
    EXPECT_LINES(a1.puback(1), {});
    EXPECT_LINES(a1.disconnect(reason::taken_over), {});
    BOOST_TEST(f.core.counters().wills_published == 1u);
    BOOST_TEST(f.core.online_count() == 3u);  // W, P and A on fe2
    BOOST_REQUIRE(f.core.find_session("A") != nullptr);
    BOOST_TEST(f.core.find_session("A")->subscriptions.count("y") == 0u);

    // The new connection works in both directions with the kept subscription.
    EXPECT_LINES(p.publish("x", "to-a"), {"fe2:5 deliver x 'to-a' qos=0 retain=0 dup=0 id=0"});
    EXPECT_LINES(a2.publish("will/a", "from-a", 1, false, 4),
                 {"fe1:1 deliver will/a 'from-a' qos=1 retain=0 dup=0 id=2", "fe2:5 puback id=4"});
    // The new connection had no will: a graceful end and a lost one publish nothing.
    EXPECT_LINES(a2.disconnect(reason::connection_lost), {});
    BOOST_TEST(f.core.counters().wills_published == 1u);
}

BOOST_AUTO_TEST_CASE(takeover_of_a_clean_session_by_a_persistent_connect_starts_fresh) {
    fixture f;
    client p{f, "fe1", 1, "P"};
    client a1{f, "fe1", 2, "A"};
    client a2{f, "fe1", 3, "A"};
    p.connect_ok();
    a1.connect_ok(true);
    a1.subscribe_ok(1, {{"x", 1}});

    // The clean session ends with its connection: nothing to resume (sp=0).
    EXPECT_LINES(a2.connect(false),
                 {"fe1:2 close_connection taken_over", "fe1:3 connack sp=0 rc=0"});
    BOOST_TEST(f.core.subscription_count() == 0u);
    BOOST_REQUIRE(f.core.find_session("A") != nullptr);
    BOOST_TEST(!f.core.find_session("A")->clean);
    EXPECT_LINES(p.publish("x", "m", 1, false, 8), {"fe1:1 puback id=8"});

    // The old connection's late disconnect must not destroy the new session.
    EXPECT_LINES(a1.disconnect(reason::taken_over), {});
    BOOST_REQUIRE(f.core.find_session("A") != nullptr);
    a2.subscribe_ok(2, {{"x", 1}});
    EXPECT_LINES(p.publish("x", "m", 1, false, 9),
                 {"fe1:3 deliver x 'm' qos=1 retain=0 dup=0 id=1", "fe1:1 puback id=9"});
    EXPECT_LINES(a2.disconnect(), {});
    BOOST_TEST(f.core.session_count() == 2u);  // P, and A's persistent session
}

BOOST_AUTO_TEST_CASE(takeover_by_a_clean_connect_discards_the_persistent_session) {
    fixture f;
    client a1{f, "fe1", 1, "A"};
    client a2{f, "fe1", 2, "A"};
    a1.connect_ok(false);
    a1.subscribe_ok(1, {{"x", 1}, {"y/#", 2}});
    EXPECT_LINES(a2.connect(true),
                 {"fe1:1 close_connection taken_over", "fe1:2 connack sp=0 rc=0"});
    BOOST_TEST(f.core.subscription_count() == 0u);
    BOOST_REQUIRE(f.core.find_session("A") != nullptr);
    BOOST_TEST(f.core.find_session("A")->subscriptions.empty());
    EXPECT_LINES(a2.disconnect(), {});
    BOOST_TEST(f.core.session_count() == 0u);
}

BOOST_AUTO_TEST_CASE(takeover_between_persistent_connections_resends_in_flight) {
    fixture f;
    client p{f, "fe1", 1, "P"};
    client a1{f, "fe1", 2, "A"};
    client a2{f, "fe2", 2, "A"};  // same conn number, other frontend: another connection
    p.connect_ok();
    a1.connect_ok(false);
    a1.subscribe_ok(1, {{"x", 1}});
    EXPECT_LINES(p.publish("x", "m1", 1, false, 4),
                 {"fe1:2 deliver x 'm1' qos=1 retain=0 dup=0 id=1", "fe1:1 puback id=4"});

    EXPECT_LINES(a2.connect(false), {
                                        "fe1:2 close_connection taken_over",
                                        "fe2:2 connack sp=1 rc=0",
                                        "fe2:2 deliver x 'm1' qos=1 retain=0 dup=1 id=1",
                                    });
    // A PUBACK still arriving from the old connection does not complete it...
    EXPECT_LINES(a1.puback(1), {});
    BOOST_TEST(f.core.find_session("A")->inflight.size() == 1u);
    // ...the new connection's does.
    EXPECT_LINES(a2.puback(1), {});
    BOOST_TEST(f.core.find_session("A")->inflight.empty());
}

BOOST_AUTO_TEST_CASE(publish_arriving_from_a_taken_over_connection_is_not_routed) {
    fixture f;
    client s{f, "fe1", 1, "S"};
    client a1{f, "fe1", 2, "A"};
    client a2{f, "fe2", 3, "A"};
    s.connect_ok();
    s.subscribe_ok(1, {{"t", 2}});
    a1.connect_ok(false);
    EXPECT_LINES(a2.connect(false),
                 {"fe1:2 close_connection taken_over", "fe2:3 connack sp=1 rc=0"});

    // The old connection's frontend forwarded a QoS 2 PUBLISH before it saw the
    // close. It is not acknowledged, so the client sends it again on its new
    // connection; routing both would deliver it twice (MQTT-4.3.3-2).
    EXPECT_LINES(a1.publish("t", "once", 2, false, 5), {});
    EXPECT_LINES(a1.publish("t", "q1", 1, false, 6), {});
    EXPECT_LINES(a1.publish("t", "q0", 0, true), {});
    EXPECT_LINES(a2.publish("t", "once", 2, false, 5, true),
                 {"fe1:1 deliver t 'once' qos=2 retain=0 dup=0 id=1", "fe2:3 pubrec id=5"});
    EXPECT_LINES(a2.publish("t", "once", 2, false, 5, true), {"fe2:3 pubrec id=5"});
    EXPECT_LINES(a2.pubrel(5), {"fe2:3 pubcomp id=5"});
    BOOST_TEST(f.core.retained_count() == 0u);
    BOOST_TEST(f.core.counters().messages_received == 2u);  // a2's two PUBLISH events
    BOOST_TEST(f.core.counters().duplicate_qos2 == 1u);
}

BOOST_AUTO_TEST_CASE(events_for_unknown_connections_are_ignored) {
    fixture f;
    client ghost{f, "fe1", 9, "G"};  // never connected
    EXPECT_LINES(ghost.publish("t", "m", 1, false, 1), {});
    EXPECT_LINES(ghost.publish("t", "m", 2, false, 2), {});
    EXPECT_LINES(ghost.subscribe(3, {{"t", 1}}), {});
    EXPECT_LINES(ghost.unsubscribe(4, {"t"}), {});
    EXPECT_LINES(ghost.pubrel(2), {});
    EXPECT_LINES(ghost.disconnect(reason::connection_lost), {});
    EXPECT_LINES(f.handle("fe1", events::hello{"frontend-1", events::protocol_version}), {});
    BOOST_TEST(f.core.session_count() == 0u);
    BOOST_TEST(f.core.subscription_count() == 0u);
    BOOST_TEST(f.core.counters().messages_received == 0u);

    // A second client_connect on a live connection is ignored (no second CONNACK).
    client a{f, "fe1", 1, "A"};
    a.connect_ok(false);
    EXPECT_LINES(a.connect(false), {});
    BOOST_TEST(f.core.session_count() == 1u);
    BOOST_TEST(f.core.counters().sessions_taken_over == 0u);
}

BOOST_AUTO_TEST_CASE(unsubscribe_stops_delivery_and_is_always_acknowledged) {
    fixture f;
    client a{f, "fe1", 1, "A"};
    client p{f, "fe1", 2, "P"};
    a.connect_ok();
    p.connect_ok();
    a.subscribe_ok(1, {{"a/+", 1}, {"b", 0}});

    // MQTT-3.10.4-4/5: UNSUBACK even for a filter that matches no subscription.
    EXPECT_LINES(a.unsubscribe(3, {"a/+", "nope"}), {"fe1:1 unsuback id=3"});
    EXPECT_LINES(a.unsubscribe(4, {"a/+"}), {"fe1:1 unsuback id=4"});
    BOOST_TEST(f.core.subscription_count() == 1u);
    EXPECT_LINES(p.publish("a/x", "m", 1, false, 5), {"fe1:2 puback id=5"});
    EXPECT_LINES(p.publish("b", "m"), {"fe1:1 deliver b 'm' qos=0 retain=0 dup=0 id=0"});
}

BOOST_AUTO_TEST_CASE(clients_on_two_frontends_exchange_messages) {
    fixture f;
    // Both frontends number their connections from 1: routing ids keep them apart.
    client a{f, "frontend-a", 1, "A"};
    client b{f, "frontend-b", 1, "B"};
    a.connect_ok();
    b.connect_ok();
    BOOST_TEST(f.core.online_count() == 2u);
    a.subscribe_ok(1, {{"to-a", 2}});
    b.subscribe_ok(1, {{"to-b", 2}});

    EXPECT_LINES(b.publish("to-a", "hi a", 1, false, 9), {
                                                             "frontend-a:1 deliver to-a 'hi a' "
                                                             "qos=1 retain=0 dup=0 id=1",
                                                             "frontend-b:1 puback id=9",
                                                         });
    EXPECT_LINES(a.publish("to-b", "hi b", 2, false, 9), {
                                                             "frontend-b:1 deliver to-b 'hi b' "
                                                             "qos=2 retain=0 dup=0 id=1",
                                                             "frontend-a:1 pubrec id=9",
                                                         });
    // Acks are matched per frontend: B's PUBREC completes B's delivery only.
    EXPECT_LINES(b.pubrec(1), {"frontend-b:1 pubrel id=1"});
    EXPECT_LINES(a.pubrel(9), {"frontend-a:1 pubcomp id=9"});
    EXPECT_LINES(b.pubcomp(1), {});
    BOOST_TEST(f.core.find_session("A")->inflight.size() == 1u);
    EXPECT_LINES(a.puback(1), {});
    BOOST_TEST(f.core.find_session("A")->inflight.empty());
    BOOST_TEST(f.core.find_session("B")->inflight.empty());

    // A's connection ends; B's connection 1 on the other frontend is unaffected.
    EXPECT_LINES(a.disconnect(), {});
    BOOST_TEST(f.core.online_count() == 1u);
    EXPECT_LINES(b.publish("to-a", "late"), {});
    EXPECT_LINES(b.publish("to-b", "self"),
                 {"frontend-b:1 deliver to-b 'self' qos=0 retain=0 dup=0 id=0"});
}

BOOST_AUTO_TEST_CASE(frontend_ids_of_lost_frontends_are_forgotten) {
    // Connections point to one interned copy of their frontend's routing id;
    // a frontend that restarts comes back under a new one, and the old ids
    // must not pile up in a long-running router.
    fixture f;
    std::vector<router::router_core::outgoing> out;
    for (int restart = 0; restart < 50; ++restart) {
        const std::string fe = "fe/" + std::to_string(restart);
        client c{f, fe, 1, "C" + std::to_string(restart % 2)};
        c.connect_ok();
        f.core.frontend_lost(fe, out);
    }
    BOOST_TEST(f.core.interned_frontend_ids() == 0u);
    // A live frontend's id stays while its connections use it, and works.
    client a{f, "fe/live", 1, "A"};
    client b{f, "fe/live", 2, "B"};
    a.connect_ok();
    b.connect_ok();
    b.subscribe_ok(1, {{"t", 0}});
    client gone{f, "fe/gone", 1, "G"};
    gone.connect_ok();
    f.core.frontend_lost("fe/gone", out);
    BOOST_TEST(f.core.interned_frontend_ids() == 1u);
    EXPECT_LINES(a.publish("t", "still routed"),
                 {"fe/live:2 deliver t 'still routed' qos=0 retain=0 dup=0 id=0"});
}

BOOST_AUTO_TEST_SUITE_END()
