// router_core's bounds on memory and disk: queued payload bytes per session
// and in all sessions, the number of retained topics, and the expiry of
// offline persistent sessions; each refusal counted.
#include <boost/test/unit_test.hpp>

#include "router_core_harness.hpp"

namespace {

using namespace router_test;

router::router_settings with(void (*set)(router::router_settings&)) {
    router::router_settings s;
    set(s);
    return s;
}

BOOST_AUTO_TEST_SUITE(router_core_limits)

BOOST_AUTO_TEST_CASE(queued_bytes_per_session_are_bounded) {
    fixture f(with([](router::router_settings& s) { s.max_queued_bytes = 10; }));
    client sub{f, "fe1", 1, "S"};
    client pub{f, "fe1", 2, "P"};
    sub.connect_ok(false);
    sub.subscribe_ok(1, {{"t", 1}});
    sub.disconnect();
    pub.connect_ok();
    pub.publish("t", "12345", 1, false, 1);  // 5 bytes queued
    pub.publish("t", "12345", 1, false, 2);  // 10
    pub.publish("t", "1", 1, false, 3);      // 11 > 10: dropped
    pub.publish("t", "", 1, false, 4);       // 0 bytes still fit
    BOOST_TEST(f.core.counters().dropped_queue_bytes == 1u);
    BOOST_TEST(f.core.gauges().queued == 3u);
    BOOST_TEST(f.core.gauges().queued_bytes == 10u);
    // The queue drains on reconnect and frees its bytes.
    client back{f, "fe1", 3, "S"};
    back.connect(false);
    BOOST_TEST(f.core.gauges().queued_bytes == 0u);
}

BOOST_AUTO_TEST_CASE(queued_bytes_of_all_sessions_are_bounded) {
    fixture f(with([](router::router_settings& s) { s.max_queued_bytes_total = 8; }));
    client a{f, "fe1", 1, "A"};
    client b{f, "fe1", 2, "B"};
    client pub{f, "fe1", 3, "P"};
    for (client* c : {&a, &b}) {
        c->connect_ok(false);
        c->subscribe_ok(1, {{"t", 1}});
        c->disconnect();
    }
    pub.connect_ok();
    pub.publish("t", "1234", 1, false, 1);  // 4 + 4 = 8: both queued
    pub.publish("t", "x", 1, false, 2);     // over the total for both
    BOOST_TEST(f.core.counters().dropped_queue_total == 2u);
    BOOST_TEST(f.core.gauges().queued_bytes == 8u);
    // A clean reconnect of A discards its queue and frees its share.
    client a2{f, "fe1", 4, "A"};
    a2.connect(true);
    BOOST_TEST(f.core.gauges().queued_bytes == 4u);
    pub.publish("t", "yz", 1, false, 3);  // B: 4 + 2 = 6 <= 8
    BOOST_TEST(f.core.gauges().queued_bytes == 6u);
}

BOOST_AUTO_TEST_CASE(retained_topics_are_bounded_but_updates_pass) {
    fixture f(with([](router::router_settings& s) { s.max_retained_messages = 2; }));
    client pub{f, "fe1", 1, "P"};
    pub.connect_ok();
    pub.publish("r/1", "a", 0, true);
    pub.publish("r/2", "b", 0, true);
    pub.publish("r/3", "c", 0, true);  // refused: a third topic
    pub.publish("r/1", "A", 0, true);  // an update of a kept topic
    BOOST_TEST(f.core.retained_count() == 2u);
    BOOST_TEST(f.core.counters().retained_refused == 1u);
    pub.publish("r/2", "", 0, true);  // deleting makes room
    pub.publish("r/3", "c", 0, true);
    BOOST_TEST(f.core.retained_count() == 2u);
    client sub{f, "fe1", 2, "S"};
    sub.connect_ok();
    EXPECT_LINES_ANY_ORDER(
        sub.subscribe(1, {{"r/#", 0}}),
        ({"fe1:2 suback id=1 [0]", "fe1:2 deliver r/1 'A' qos=0 retain=1 dup=0 id=0",
          "fe1:2 deliver r/3 'c' qos=0 retain=1 dup=0 id=0"}));
}

BOOST_AUTO_TEST_CASE(offline_persistent_sessions_expire) {
    fixture f(
        with([](router::router_settings& s) { s.session_expiry = std::chrono::seconds(60); }));
    client sub{f, "fe1", 1, "S"};
    client stay{f, "fe1", 2, "online"};
    client pub{f, "fe1", 3, "P"};
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<router::router_core::outgoing> out;
    f.core.tick(t0, out);
    sub.connect_ok(false);
    sub.subscribe_ok(1, {{"t", 1}});
    sub.disconnect();
    stay.connect_ok(false);
    pub.connect_ok();
    pub.publish("t", "queued", 1, false, 1);
    f.core.tick(t0 + std::chrono::seconds(59), out);
    BOOST_TEST(f.core.find_session("S") != nullptr);
    f.core.tick(t0 + std::chrono::seconds(61), out);
    BOOST_TEST(f.core.find_session("S") == nullptr);
    BOOST_TEST(f.core.find_session("online") != nullptr);  // online sessions never expire
    BOOST_TEST(f.core.counters().sessions_expired == 1u);
    BOOST_TEST(f.core.counters().dropped_session_ended == 1u);
    BOOST_TEST(f.core.gauges().queued_bytes == 0u);
    // Its subscription went with it.
    EXPECT_LINES(pub.publish("t", "x", 1, false, 2), ({"fe1:3 puback id=2"}));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
