// router_core: --max-subscriptions-per-client. A new filter beyond the limit
// gets SUBACK 0x80 and is not added (counted); a filter the session holds
// may always be subscribed again; room comes back with UNSUBSCRIBE; the
// empty filter a frontend sends for one over its topic limits gets 0x80.
#include <boost/test/unit_test.hpp>

#include "router_core_harness.hpp"

namespace {

using namespace router_test;

router::router_settings at_most(std::size_t n) {
    router::router_settings s;
    s.max_subscriptions_per_client = n;
    return s;
}

BOOST_AUTO_TEST_SUITE(router_core_subscription_limit)

BOOST_AUTO_TEST_CASE(filters_beyond_the_limit_get_0x80_and_are_not_added) {
    fixture f(at_most(2));
    client c{f, "fe1", 1, "C"};
    client pub{f, "fe1", 2, "P"};
    c.connect_ok();
    pub.connect_ok();
    pub.publish("r/3", "kept", 0, true);
    // Within one SUBSCRIBE: the first two fit, the third does not (and gets
    // no retained message); an invalid filter is 0x80 and not counted.
    EXPECT_LINES(c.subscribe(1, {{"r/1", 1}, {"a/#", 0}, {"r/3", 2}, {"a/#/x", 0}}),
                 {"fe1:1 suback id=1 [1,0,128,128]"});
    BOOST_TEST(f.core.counters().subscriptions_refused == 1u);
    BOOST_TEST(f.core.subscription_count() == 2u);
    // A filter held already may be subscribed again (its QoS replaced).
    EXPECT_LINES(c.subscribe(2, {{"a/#", 2}, {"b", 0}}), {"fe1:1 suback id=2 [2,128]"});
    BOOST_TEST(f.core.counters().subscriptions_refused == 2u);
    // Nothing is delivered for a refused filter.
    EXPECT_LINES(pub.publish("b", "m", 0), {});
    // UNSUBSCRIBE makes room.
    EXPECT_LINES(c.unsubscribe(3, {"r/1"}), {"fe1:1 unsuback id=3"});
    EXPECT_LINES(c.subscribe(4, {{"r/3", 1}}),
                 {"fe1:1 suback id=4 [1]", "fe1:1 deliver r/3 'kept' qos=0 retain=1 dup=0 id=0"});
    BOOST_TEST(f.core.subscription_count() == 2u);
}

BOOST_AUTO_TEST_CASE(the_limit_is_per_session_and_zero_means_none) {
    fixture f(at_most(1));
    client a{f, "fe1", 1, "A"};
    client b{f, "fe2", 1, "B"};
    a.connect_ok();
    b.connect_ok();
    a.subscribe_ok(1, {{"x", 0}});
    b.subscribe_ok(1, {{"x", 0}});  // B has its own budget
    EXPECT_LINES(a.subscribe(2, {{"y", 0}}), {"fe1:1 suback id=2 [128]"});

    fixture none(at_most(0));
    client c{none, "fe1", 1, "C"};
    c.connect_ok();
    std::vector<events::subscription> many;
    for (int i = 0; i < 500; ++i) many.push_back({"t/" + std::to_string(i), 0});
    auto got = c.subscribe(1, many);
    BOOST_REQUIRE_EQUAL(got.size(), 1u);
    BOOST_TEST(got[0].find("128") == std::string::npos);
    BOOST_TEST(none.core.subscription_count() == 500u);
}

BOOST_AUTO_TEST_CASE(a_persistent_session_keeps_its_count_across_reconnects) {
    fixture f(at_most(1));
    client c{f, "fe1", 1, "C"};
    c.connect_ok(false);
    c.subscribe_ok(1, {{"x", 1}});
    c.disconnect();
    client again{f, "fe1", 2, "C"};
    again.connect_ok(false, true);
    EXPECT_LINES(again.subscribe(2, {{"y", 1}}), {"fe1:2 suback id=2 [128]"});
}

BOOST_AUTO_TEST_CASE(an_empty_filter_from_the_frontend_gets_0x80) {
    // The frontend empties a filter over --max-topic-length/--max-topic-levels.
    fixture f;
    client c{f, "fe1", 1, "C"};
    c.connect_ok();
    EXPECT_LINES(c.subscribe(1, {{"a", 1}, {"", 1}, {"b", 2}}), {"fe1:1 suback id=1 [1,128,2]"});
    BOOST_TEST(f.core.subscription_count() == 2u);
    BOOST_TEST(f.core.counters().subscriptions_refused == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
