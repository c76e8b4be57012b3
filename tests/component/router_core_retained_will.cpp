// router_core retained messages and wills (MQTT 3.1.1 sections 3.1.2.5, 3.3.1.3,
// 3.8.4): SUBACK codes, retained set/replace/delete, RETAIN on the wire, retained
// QoS, re-subscribe, '$' topics, and when (and how) a will is published.
#include <boost/test/unit_test.hpp>

#include "tests/component/router_core_harness.hpp"

using namespace router_test;

BOOST_AUTO_TEST_SUITE(router_core_retained_will)

BOOST_AUTO_TEST_CASE(invalid_filters_get_0x80_and_the_others_are_granted) {
    fixture f;
    client s{f, "fe1", 1, "S"};
    client p{f, "fe1", 2, "P"};
    s.connect_ok();
    p.connect_ok();
    EXPECT_LINES(p.publish("a/k", "kept", 0, true), {});

    // MQTT-3.9.3: one return code per filter, in order; 0x80 for each failure.
    EXPECT_LINES(s.subscribe(4, {{"a/#", 1},
                                 {"a/#/b", 1},
                                 {"", 0},
                                 {"x+", 2},
                                 {"+/y", 2},
                                 {"b#", 0},
                                 {std::string("n\0l", 3), 1}}),
                 {
                     "fe1:1 suback id=4 [1,128,128,128,2,128,128]",
                     "fe1:1 deliver a/k 'kept' qos=0 retain=1 dup=0 id=0",
                 });
    BOOST_TEST(f.core.subscription_count() == 2u);
    EXPECT_LINES(p.publish("q/y", "m", 2, false, 3),
                 {"fe1:1 deliver q/y 'm' qos=2 retain=0 dup=0 id=1", "fe1:2 pubrec id=3"});
    // Only failures: still a SUBACK, nothing subscribed.
    EXPECT_LINES(s.subscribe(5, {{"#/x", 0}}), {"fe1:1 suback id=5 [128]"});
    BOOST_TEST(f.core.subscription_count() == 2u);
}

BOOST_AUTO_TEST_CASE(retained_message_follows_the_suback_with_retain_1_live_ones_have_0) {
    fixture f;
    client live{f, "fe1", 1, "L"};
    client p{f, "fe1", 2, "P"};
    client late{f, "fe2", 3, "N"};
    live.connect_ok();
    p.connect_ok();
    late.connect_ok();
    live.subscribe_ok(1, {{"r/#", 1}});

    // MQTT-3.3.1-9: a live delivery has RETAIN=0 even if it was published retained.
    EXPECT_LINES(p.publish("r/a", "v1", 1, true, 3),
                 {"fe1:1 deliver r/a 'v1' qos=1 retain=0 dup=0 id=1", "fe1:2 puback id=3"});
    BOOST_TEST(f.core.retained_count() == 1u);
    // MQTT-3.3.1-6/8: a new subscription gets it with RETAIN=1, after the SUBACK.
    EXPECT_LINES(late.subscribe(7, {{"r/a", 1}}),
                 {
                     "fe2:3 suback id=7 [1]",
                     "fe2:3 deliver r/a 'v1' qos=1 retain=1 dup=0 id=1",
                 });
    // A publish without RETAIN leaves the stored message alone.
    EXPECT_LINES_ANY_ORDER(p.publish("r/a", "not kept", 0),
                           {
                               "fe1:1 deliver r/a 'not kept' qos=0 retain=0 dup=0 id=0",
                               "fe2:3 deliver r/a 'not kept' qos=0 retain=0 dup=0 id=0",
                           });
    client later{f, "fe1", 4, "M"};
    later.connect_ok();
    EXPECT_LINES(later.subscribe(1, {{"r/+", 2}}),
                 {
                     "fe1:4 suback id=1 [2]",
                     "fe1:4 deliver r/a 'v1' qos=1 retain=1 dup=0 id=1",
                 });
}

BOOST_AUTO_TEST_CASE(retained_message_is_replaced_and_deleted_by_an_empty_payload) {
    fixture f;
    client live{f, "fe1", 1, "L"};
    client p{f, "fe1", 2, "P"};
    live.connect_ok();
    p.connect_ok();
    live.subscribe_ok(1, {{"r", 0}});

    EXPECT_LINES(p.publish("r", "v1", 1, true, 1),
                 {"fe1:1 deliver r 'v1' qos=0 retain=0 dup=0 id=0", "fe1:2 puback id=1"});
    EXPECT_LINES(p.publish("r", "v2", 0, true), {"fe1:1 deliver r 'v2' qos=0 retain=0 dup=0 id=0"});
    BOOST_TEST(f.core.retained_count() == 1u);
    client n1{f, "fe1", 3, "N1"};
    n1.connect_ok();
    // MQTT-3.3.1-5/7: the new message (even QoS 0) replaces the old one.
    EXPECT_LINES(n1.subscribe(1, {{"r", 2}}),
                 {"fe1:3 suback id=1 [2]", "fe1:3 deliver r 'v2' qos=0 retain=1 dup=0 id=0"});

    // MQTT-3.3.1-10/11: an empty retained payload is delivered as normal and
    // deletes the stored message.
    EXPECT_LINES_ANY_ORDER(p.publish("r", "", 1, true, 2),
                           {
                               "fe1:1 deliver r '' qos=0 retain=0 dup=0 id=0",
                               "fe1:3 deliver r '' qos=1 retain=0 dup=0 id=1",
                               "fe1:2 puback id=2",
                           });
    BOOST_TEST(f.core.retained_count() == 0u);
    client n2{f, "fe1", 4, "N2"};
    n2.connect_ok();
    EXPECT_LINES(n2.subscribe(1, {{"r", 2}, {"#", 0}}), {"fe1:4 suback id=1 [2,0]"});
    // Deleting what is not there is harmless.
    EXPECT_LINES(p.publish("nothing", "", 0, true),
                 {"fe1:4 deliver nothing '' qos=0 retain=0 dup=0 id=0"});
    BOOST_TEST(f.core.retained_count() == 0u);
}

BOOST_AUTO_TEST_CASE(retained_delivery_qos_is_the_minimum_of_stored_and_granted) {
    fixture f;
    client p{f, "fe1", 1, "P"};
    client s{f, "fe1", 2, "S"};
    p.connect_ok();
    s.connect_ok();
    EXPECT_LINES(p.publish("x/2", "two", 2, true, 1), {"fe1:1 pubrec id=1"});
    EXPECT_LINES(p.publish("x/1", "one", 1, true, 2), {"fe1:1 puback id=2"});
    EXPECT_LINES(p.publish("x/0", "zero", 0, true), {});
    BOOST_TEST(f.core.retained_count() == 3u);

    // Retained messages follow the filters' order in the SUBSCRIBE.
    EXPECT_LINES(s.subscribe(9, {{"x/2", 1}, {"x/1", 2}, {"x/0", 2}}),
                 {
                     "fe1:2 suback id=9 [1,2,2]",
                     "fe1:2 deliver x/2 'two' qos=1 retain=1 dup=0 id=1",
                     "fe1:2 deliver x/1 'one' qos=1 retain=1 dup=0 id=2",
                     "fe1:2 deliver x/0 'zero' qos=0 retain=1 dup=0 id=0",
                 });
    // A wildcard returns every matching topic (in any order) after the SUBACK.
    client w{f, "fe1", 3, "W"};
    w.connect_ok();
    const lines got = w.subscribe(1, {{"x/+", 0}});
    BOOST_REQUIRE_EQUAL(got.size(), 4u);
    BOOST_TEST(got[0] == "fe1:3 suback id=1 [0]");
    EXPECT_LINES_ANY_ORDER(lines(got.begin() + 1, got.end()),
                           {
                               "fe1:3 deliver x/0 'zero' qos=0 retain=1 dup=0 id=0",
                               "fe1:3 deliver x/1 'one' qos=0 retain=1 dup=0 id=0",
                               "fe1:3 deliver x/2 'two' qos=0 retain=1 dup=0 id=0",
                           });
}

BOOST_AUTO_TEST_CASE(resubscribe_replaces_the_qos_and_resends_retained) {
    fixture f;
    client p{f, "fe1", 1, "P"};
    client s{f, "fe1", 2, "S"};
    p.connect_ok();
    s.connect_ok();
    EXPECT_LINES(p.publish("r", "v", 2, true, 1), {"fe1:1 pubrec id=1"});

    EXPECT_LINES(s.subscribe(1, {{"r", 0}}),
                 {"fe1:2 suback id=1 [0]", "fe1:2 deliver r 'v' qos=0 retain=1 dup=0 id=0"});
    // MQTT-3.8.4-3: the same filter replaces the subscription, and the retained
    // message is sent again.
    EXPECT_LINES(s.subscribe(2, {{"r", 1}}),
                 {"fe1:2 suback id=2 [1]", "fe1:2 deliver r 'v' qos=1 retain=1 dup=0 id=1"});
    BOOST_TEST(f.core.subscription_count() == 1u);
    EXPECT_LINES(p.publish("r", "live", 2, false, 2),
                 {"fe1:2 deliver r 'live' qos=1 retain=0 dup=0 id=2", "fe1:1 pubrec id=2"});
    // Downgrades too.
    EXPECT_LINES(s.subscribe(3, {{"r", 0}}),
                 {"fe1:2 suback id=3 [0]", "fe1:2 deliver r 'v' qos=0 retain=1 dup=0 id=0"});
    EXPECT_LINES(p.publish("r", "live", 2, false, 3),
                 {"fe1:2 deliver r 'live' qos=0 retain=0 dup=0 id=0", "fe1:1 pubrec id=3"});
    BOOST_TEST(f.core.subscription_count() == 1u);
}

BOOST_AUTO_TEST_CASE(retained_messages_wait_behind_a_full_window_with_retain_1) {
    router::router_settings settings;
    settings.max_inflight_messages = 1;
    fixture f(settings);
    client p{f, "fe1", 1, "P"};
    client s{f, "fe1", 2, "S"};
    p.connect_ok();
    s.connect_ok();
    EXPECT_LINES(p.publish("r/1", "a", 1, true, 1), {"fe1:1 puback id=1"});
    EXPECT_LINES(p.publish("r/2", "b", 1, true, 2), {"fe1:1 puback id=2"});
    EXPECT_LINES(s.subscribe(1, {{"r/1", 1}, {"r/2", 1}}),
                 {"fe1:2 suback id=1 [1,1]", "fe1:2 deliver r/1 'a' qos=1 retain=1 dup=0 id=1"});
    EXPECT_LINES(s.puback(1), {"fe1:2 deliver r/2 'b' qos=1 retain=1 dup=0 id=2"});
}

BOOST_AUTO_TEST_CASE(dollar_topics_are_not_matched_by_leading_wildcards) {
    fixture f;
    client p{f, "fe1", 1, "P"};
    client all{f, "fe1", 2, "A"};
    client sys{f, "fe1", 3, "S"};
    p.connect_ok();
    all.connect_ok();
    sys.connect_ok();
    EXPECT_LINES(p.publish("$SYS/uptime", "5", 0, true), {});
    // MQTT-4.7.2-1: "#" and "+/..." never match a topic starting with '$'.
    EXPECT_LINES(all.subscribe(1, {{"#", 0}, {"+/uptime", 0}}), {"fe1:2 suback id=1 [0,0]"});
    EXPECT_LINES(
        sys.subscribe(1, {{"$SYS/#", 0}}),
        {"fe1:3 suback id=1 [0]", "fe1:3 deliver $SYS/uptime '5' qos=0 retain=1 dup=0 id=0"});
    EXPECT_LINES(p.publish("$SYS/uptime", "6"),
                 {"fe1:3 deliver $SYS/uptime '6' qos=0 retain=0 dup=0 id=0"});
}

BOOST_AUTO_TEST_CASE(will_is_published_for_every_non_graceful_end) {
    for (const reason r : {reason::connection_lost, reason::keep_alive_timeout,
                           reason::protocol_error, reason::taken_over, reason::server_shutdown}) {
        BOOST_TEST_CONTEXT("reason " << name(r)) {
            fixture f;
            client w{f, "fe1", 1, "W"};
            client a{f, "fe2", 2, "A"};
            w.connect_ok();
            w.subscribe_ok(1, {{"will/#", 2}});
            a.connect_ok(true, false, events::will{"will/a", "bye", 1, false});
            // MQTT-3.1.2-8.
            EXPECT_LINES(a.disconnect(r), {"fe1:1 deliver will/a 'bye' qos=1 retain=0 dup=0 id=1"});
            BOOST_TEST(f.core.counters().wills_published == 1u);
            BOOST_TEST(f.core.retained_count() == 0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(will_is_discarded_after_a_graceful_disconnect) {
    fixture f;
    client w{f, "fe1", 1, "W"};
    client a{f, "fe1", 2, "A"};
    w.connect_ok();
    w.subscribe_ok(1, {{"#", 2}});
    a.connect_ok(false, false, events::will{"will/a", "bye", 2, true});
    // MQTT-3.1.2-10 / 3.14.4-3.
    EXPECT_LINES(a.disconnect(reason::graceful), {});
    BOOST_TEST(f.core.counters().wills_published == 0u);
    // The next connection of the same session brings no will of its own.
    a.connect_ok(false, true);
    EXPECT_LINES(a.disconnect(reason::connection_lost), {});
    BOOST_TEST(f.core.counters().wills_published == 0u);
    BOOST_TEST(f.core.retained_count() == 0u);
}

BOOST_AUTO_TEST_CASE(will_of_a_persistent_session_belongs_to_one_connection) {
    fixture f;
    client w{f, "fe1", 1, "W"};
    client a{f, "fe1", 2, "A"};
    w.connect_ok();
    w.subscribe_ok(1, {{"will/a", 0}});
    a.connect_ok(false, false, events::will{"will/a", "first", 0, false});
    EXPECT_LINES(a.disconnect(reason::connection_lost),
                 {"fe1:1 deliver will/a 'first' qos=0 retain=0 dup=0 id=0"});
    // Published once: reconnecting without a will and losing it again sends nothing.
    a.connect_ok(false, true);
    EXPECT_LINES(a.disconnect(reason::connection_lost), {});
    // A new connection's will replaces nothing stale.
    a.connect_ok(false, true, events::will{"will/a", "second", 0, false});
    EXPECT_LINES(a.disconnect(reason::keep_alive_timeout),
                 {"fe1:1 deliver will/a 'second' qos=0 retain=0 dup=0 id=0"});
    BOOST_TEST(f.core.counters().wills_published == 2u);
}

BOOST_AUTO_TEST_CASE(will_qos_is_capped_by_each_subscription) {
    fixture f;
    client w0{f, "fe1", 10, "W0"};
    client w1{f, "fe1", 11, "W1"};
    client a{f, "fe1", 2, "A"};
    w0.connect_ok();
    w1.connect_ok();
    w0.subscribe_ok(1, {{"will/a", 0}});
    w1.subscribe_ok(1, {{"will/a", 1}});
    a.connect_ok(true, false, events::will{"will/a", "bye", 2, false});
    EXPECT_LINES_ANY_ORDER(a.disconnect(reason::connection_lost),
                           {
                               "fe1:10 deliver will/a 'bye' qos=0 retain=0 dup=0 id=0",
                               "fe1:11 deliver will/a 'bye' qos=1 retain=0 dup=0 id=1",
                           });
}

BOOST_AUTO_TEST_CASE(will_with_retain_is_stored_and_an_empty_one_deletes) {
    fixture f;
    client w{f, "fe1", 1, "W"};
    client a{f, "fe1", 2, "A"};
    client b{f, "fe1", 3, "B"};
    w.connect_ok();
    w.subscribe_ok(1, {{"status/+", 1}});

    // MQTT-3.1.2-17: Will Retain 1 publishes it as a retained message.
    a.connect_ok(true, false, events::will{"status/a", "offline", 1, true});
    EXPECT_LINES(
        a.publish("status/a", "online", 1, true, 1),
        {"fe1:1 deliver status/a 'online' qos=1 retain=0 dup=0 id=1", "fe1:2 puback id=1"});
    EXPECT_LINES(a.disconnect(reason::connection_lost),
                 {"fe1:1 deliver status/a 'offline' qos=1 retain=0 dup=0 id=2"});
    BOOST_TEST(f.core.retained_count() == 1u);
    b.connect_ok();
    EXPECT_LINES(b.subscribe(1, {{"status/a", 2}}),
                 {
                     "fe1:3 suback id=1 [2]",
                     "fe1:3 deliver status/a 'offline' qos=1 retain=1 dup=0 id=1",
                 });

    // A retained will with an empty payload deletes the topic's retained message.
    client c{f, "fe1", 4, "C"};
    c.connect_ok(true, false, events::will{"status/a", "", 0, true});
    EXPECT_LINES_ANY_ORDER(c.disconnect(reason::protocol_error),
                           {
                               "fe1:1 deliver status/a '' qos=0 retain=0 dup=0 id=0",
                               "fe1:3 deliver status/a '' qos=0 retain=0 dup=0 id=0",
                           });
    BOOST_TEST(f.core.retained_count() == 0u);
}

BOOST_AUTO_TEST_CASE(will_of_an_offline_subscriber_session_is_queued_for_it) {
    fixture f;
    client w{f, "fe1", 1, "W"};
    client a{f, "fe1", 2, "A"};
    w.connect_ok(false);
    w.subscribe_ok(1, {{"will/a", 1}});
    EXPECT_LINES(w.disconnect(), {});
    a.connect_ok(true, false, events::will{"will/a", "bye", 2, false});
    EXPECT_LINES(a.disconnect(reason::connection_lost), {});
    EXPECT_LINES(w.connect(false), {
                                       "fe1:1 connack sp=1 rc=0",
                                       "fe1:1 deliver will/a 'bye' qos=1 retain=0 dup=0 id=1",
                                   });
}

BOOST_AUTO_TEST_SUITE_END()
