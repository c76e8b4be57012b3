// Acknowledged forwarding between router_core instances (router/forwarding.cpp),
// through router_core_network.hpp's in-test network: a client's PUBACK waits
// for every live peer's route_ack, in order; a dead peer releases it and its
// outbox keeps the messages for when it returns; a peer drops duplicates and
// asks for a resend when a message is missing; outboxes are bounded.
#include <boost/test/unit_test.hpp>

#include "tests/component/router_core_network.hpp"

using namespace router_test;

namespace {

// The route_publish events in transit from `sender` to `to`.
std::vector<const events::route_publish*> publishes(const network& net, const std::string& sender,
                                                    const std::string& to) {
    std::vector<const events::route_publish*> out;
    for (const auto& t : net.wire())
        if (t.sender == sender && t.to == to)
            if (const auto* r = std::get_if<events::route_publish>(&t.event)) out.push_back(r);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(router_core_forwarding)

BOOST_AUTO_TEST_CASE(a_client_ack_waits_for_every_live_peer) {
    network net{"a", "b", "c"};
    net_client p{net, "a", "fe1", 1, "P"};
    net_client s{net, "b", "fe2", 1, "S"};
    p.connect_ok(true);
    s.connect_ok(true);
    s.subscribe(1, {{"t", 1}});
    net.run();
    EXPECT_LINES(net.take(), {s.at("suback id=1 [1]")});

    p.publish("t", "x", 1, 7);
    EXPECT_LINES(net.take(), {});  // durable here, not yet at b and c
    EXPECT_LINES(net.in_transit_lines(), {"a>b route_publish a t 'x' qos=1 retain=0",
                                          "a>c route_publish a t 'x' qos=1 retain=0"});
    BOOST_REQUIRE(net.deliver("a", "b"));
    EXPECT_LINES(net.take(), {s.at("deliver t 'x' qos=1 retain=0 dup=0 id=1")});
    EXPECT_LINES(net.in_transit_lines(),
                 {"a>c route_publish a t 'x' qos=1 retain=0", "b>a route_ack b"});
    BOOST_REQUIRE(net.deliver("b", "a"));
    EXPECT_LINES(net.take(), {});  // c has not acknowledged yet
    BOOST_TEST(net.core("a").gauges().held_acks == 1u);
    net.run();
    EXPECT_LINES(net.take(), {p.at("puback id=7")});
    BOOST_TEST(net.core("a").gauges().held_acks == 0u);
    BOOST_TEST(net.core("a").gauges().outbox == 0u);  // both acknowledged it
    BOOST_TEST(net.core("a").counters().acks_held == 1u);

    // QoS 0 goes to every peer unacknowledged; nothing is kept for it.
    p.publish("t", "zero", 0);
    EXPECT_LINES(net.in_transit_lines(), {"a>b route_publish a t 'zero' qos=0 retain=0",
                                          "a>c route_publish a t 'zero' qos=0 retain=0"});
    net.run();
    EXPECT_LINES(net.in_transit_lines(), {});
    BOOST_TEST(net.core("a").gauges().outbox == 0u);
}

BOOST_AUTO_TEST_CASE(held_acks_keep_their_order_and_a_dead_peer_releases_them) {
    network net{"a", "b"};
    net_client p{net, "a", "fe1", 1, "P"};
    p.connect_ok(true);
    p.publish("t/1", "one", 1, 1);
    p.publish("t/2", "two", 2, 2);
    p.publish("t/1", "one", 2, 2, true);  // re-sent QoS 2: its PUBREC waits behind
    EXPECT_LINES(net.take(), {});
    // b dies before it acknowledged anything: a's outbox keeps both for it.
    net.drop("a", "b");
    net.down("a", "b");
    EXPECT_LINES(net.take(), {p.at("puback id=1"), p.at("pubrec id=2"), p.at("pubrec id=2")});
    BOOST_TEST(net.core("a").gauges().outbox == 2u);
    // Meanwhile nothing waits for b: acknowledged at once, kept for b.
    p.publish("t/3", "three", 1, 3);
    EXPECT_LINES(net.take(), {p.at("puback id=3")});
    BOOST_TEST(net.core("a").gauges().outbox == 3u);
    EXPECT_LINES(net.in_transit_lines(), {});
}

BOOST_AUTO_TEST_CASE(a_peer_that_returns_gets_its_outbox_and_drops_duplicates) {
    network net{"a", "b"};
    net_client p{net, "a", "fe1", 1, "P"};
    net_client s{net, "b", "fe2", 1, "S"};
    p.connect_ok(true);
    s.connect_ok(false);
    s.subscribe(1, {{"t/#", 1}});
    net.run();
    net.take();
    p.publish("t/1", "one", 1, 1);
    net.run();  // delivered and acknowledged
    EXPECT_LINES(net.take(),
                 {s.at("deliver t/1 'one' qos=1 retain=0 dup=0 id=1"), p.at("puback id=1")});

    // The link breaks without b dying: t/2 is lost on the way; a sees b go.
    p.publish("t/2", "two", 1, 2);
    net.drop("a", "b");
    net.down("a", "b");
    p.publish("t/3", "three", 1, 3);
    EXPECT_LINES(net.take(), {p.at("puback id=2"), p.at("puback id=3")});
    // b answers again: a sends what b did not acknowledge, in order.
    net.up("a", "b");
    const auto resent = publishes(net, "a", "b");
    BOOST_REQUIRE(resent.size() == 2u);
    BOOST_TEST(resent[0]->topic == "t/2");
    BOOST_TEST(resent[1]->prev == resent[0]->stamp);  // chained
    net.run();
    EXPECT_LINES(net.take(), {s.at("deliver t/2 'two' qos=1 retain=0 dup=0 id=2"),
                              s.at("deliver t/3 'three' qos=1 retain=0 dup=0 id=3")});
    BOOST_TEST(net.core("a").gauges().outbox == 0u);
    BOOST_TEST(net.core("a").counters().forward_resent == 2u);

    // The same message once more (e.g. sent again while b's ack crossed it):
    // acknowledged, not delivered again.
    events::route_publish again{"a", 1, "t/1", "one", 1, false};
    net.handle("b", "router/a", again);
    EXPECT_LINES(net.take(), {});
    BOOST_TEST(net.core("b").counters().forward_duplicates == 1u);
    EXPECT_LINES(net.in_transit_lines(), {"b>a route_ack b"});
}

BOOST_AUTO_TEST_CASE(a_gap_asks_for_a_resend) {
    network net{"a", "b"};
    net_client p{net, "a", "fe1", 1, "P"};
    net_client s{net, "b", "fe2", 1, "S"};
    p.connect_ok(true);
    s.connect_ok(true);
    s.subscribe(1, {{"t/#", 1}});
    net.run();
    net.take();
    p.publish("t/1", "one", 1, 1);
    p.publish("t/2", "two", 1, 2);
    p.publish("t/3", "three", 1, 3);
    // t/2 vanishes on the way (a pipe broke and reconnected); b sees t/3
    // right after t/1 and asks again from t/1 on.
    BOOST_REQUIRE(net.deliver("a", "b", "route_publish"));
    BOOST_REQUIRE(net.drop_first("a", "b", "route_publish"));
    BOOST_REQUIRE(net.deliver("a", "b", "route_publish"));
    EXPECT_LINES(net.take(), {s.at("deliver t/1 'one' qos=1 retain=0 dup=0 id=1")});
    EXPECT_LINES(net.in_transit_lines(), {"b>a route_ack b", "b>a route_ack b resend"});
    BOOST_TEST(net.core("b").counters().forward_gaps == 1u);
    net.run();
    // Every message once, in order; every PUBACK once b acknowledged it.
    EXPECT_LINES(net.take(),
                 {p.at("puback id=1"), s.at("deliver t/2 'two' qos=1 retain=0 dup=0 id=2"),
                  s.at("deliver t/3 'three' qos=1 retain=0 dup=0 id=3"), p.at("puback id=2"),
                  p.at("puback id=3")});
    BOOST_TEST(net.core("a").counters().forward_resent == 2u);
    BOOST_TEST(net.core("a").gauges().outbox == 0u);
}

BOOST_AUTO_TEST_CASE(retained_qos0_is_reliable_too) {
    network net{"a", "b"};
    net_client p{net, "a", "fe1", 1, "P"};
    p.connect_ok(true);
    net.down("a", "b");
    net.handle("a", "fe1", events::client_publish{1, "cfg", "v1", 0, true, false, 0});
    BOOST_TEST(net.core("a").gauges().outbox == 1u);
    net.up("a", "b");
    net.run();
    BOOST_TEST(net.core("b").retained_count() == 1u);
    BOOST_TEST(net.core("a").gauges().outbox == 0u);
}

BOOST_AUTO_TEST_CASE(a_dead_peers_outbox_is_bounded) {
    network small({"x", "y"}, [](router::router_settings& s) { s.max_forward_messages = 2; });
    net_client p{small, "x", "fe1", 1, "P"};
    p.connect_ok(true);
    small.down("x", "y");
    for (std::uint16_t id = 1; id <= 3; ++id) p.publish("t", std::to_string(id), 1, id);
    BOOST_TEST(small.core("x").gauges().outbox == 2u);
    BOOST_TEST(small.core("x").counters().forward_dropped == 1u);
    // y comes back: it gets what was kept, the first marked as unchained.
    small.up("x", "y");
    const auto resent = publishes(small, "x", "y");
    BOOST_REQUIRE(resent.size() == 2u);
    BOOST_TEST(resent[0]->payload == "2");
    BOOST_TEST(resent[0]->prev == 0u);
    small.run();
    BOOST_TEST(small.core("y").counters().forward_gaps == 0u);
    BOOST_TEST(small.core("x").gauges().outbox == 0u);
}

BOOST_AUTO_TEST_CASE(a_peer_that_left_is_forgotten) {
    network net{"a", "b"};
    net_client p{net, "a", "fe1", 1, "P"};
    p.connect_ok(true);
    net.core("a").peer_leaving("b");
    p.publish("t", "x", 1, 1);
    net.drop("a", "b");
    net.down("a", "b");  // gone after leaving: its sessions moved away
    EXPECT_LINES(net.take(), {p.at("puback id=1")});
    BOOST_TEST(net.core("a").gauges().outbox == 0u);
    p.publish("t", "y", 1, 2);
    EXPECT_LINES(net.take(), {p.at("puback id=2")});
    BOOST_TEST(net.core("a").gauges().outbox == 0u);  // nobody to keep it for
}

BOOST_AUTO_TEST_SUITE_END()
