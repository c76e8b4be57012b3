// router_core with peer routers: accepted messages are forwarded to the peers
// (outgoing with an empty frontend), peers' messages are delivered to the
// sessions this router owns, and retained updates converge by (stamp, origin).
#include <boost/test/unit_test.hpp>

#include "tests/component/router_core_harness.hpp"

using namespace router_test;

namespace {

router::router_settings clustered(const std::string& id) {
    router::router_settings s;
    s.router_id = id;
    s.has_peers = true;
    return s;
}

// The stamp of the only route_publish in `out`.
std::uint64_t stamp_of(const std::vector<router::router_core::outgoing>& out) {
    for (const auto& o : out)
        if (const auto* r = std::get_if<events::route_publish>(&o.event)) return r->stamp;
    BOOST_FAIL("no route_publish");
    return 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(router_core_cluster)

BOOST_AUTO_TEST_CASE(accepted_publish_and_will_are_forwarded_to_peers_once) {
    fixture f(clustered("r1"));
    client p{f, "fe1", 1, "P"};
    p.connect_ok(true, false, events::will{"w/p", "bye", 1, false});
    std::vector<router::router_core::outgoing> up;
    f.core.peer_up("r2", up);
    // QoS 0: to every live peer; QoS 1/2 through each peer's outbox, and the
    // acknowledgement waits for the peer's (router_core_forwarding).
    EXPECT_LINES(p.publish("z", "0", 0), {":0 route_publish r1 z '0' qos=0 retain=0"});
    EXPECT_LINES(p.publish("a", "x", 1, false, 5),
                 {"peer r2:0 route_publish r1 a 'x' qos=1 retain=0"});
    // QoS 2: forwarded once; the re-sent duplicate is acknowledged only (in
    // order, after the first).
    EXPECT_LINES(p.publish("b", "y", 2, false, 6),
                 {"peer r2:0 route_publish r1 b 'y' qos=2 retain=0"});
    EXPECT_LINES(p.publish("b", "y", 2, false, 6, true), {});
    EXPECT_LINES(f.handle("router/r2", events::route_ack{"r2", f.core.hlc(), false}),
                 {"fe1:1 puback id=5", "fe1:1 pubrec id=6", "fe1:1 pubrec id=6"});
    EXPECT_LINES(p.disconnect(reason::connection_lost),
                 {"peer r2:0 route_publish r1 w/p 'bye' qos=1 retain=0"});
}

BOOST_AUTO_TEST_CASE(peer_messages_reach_local_sessions_and_own_echo_is_ignored) {
    fixture f(clustered("r1"));
    client s{f, "fe1", 1, "S"};
    s.connect_ok();
    EXPECT_LINES(s.subscribe(1, {{"t/#", 1}}), {"fe1:1 suback id=1 [1]"});
    // A peer's message is delivered, not forwarded again, not acknowledged.
    EXPECT_LINES(f.handle("router/r2", events::route_publish{"r2", 10, "t/x", "hi", 2, false}),
                 {"fe1:1 deliver t/x 'hi' qos=1 retain=0 dup=0 id=1"});
    // Our own message coming back through the mesh is ignored.
    EXPECT_LINES(f.handle("router/r1", events::route_publish{"r1", 11, "t/x", "me", 1, false}), {});
}

BOOST_AUTO_TEST_CASE(retained_updates_converge_whatever_the_arrival_order) {
    // Two routers see the same two concurrent updates in opposite orders.
    fixture a(clustered("ra"));
    fixture b(clustered("rb"));
    const events::route_publish older{"rx", 100, "cfg", "old", 0, true};
    const events::route_publish newer{"ry", 200, "cfg", "new", 0, true};
    a.handle("router/rx", older);
    a.handle("router/ry", newer);
    b.handle("router/ry", newer);
    b.handle("router/rx", older);  // arrives late: must not win
    for (auto* f : {&a, &b}) {
        client s{*f, "fe1", 1, "S"};
        s.connect_ok();
        EXPECT_LINES(
            s.subscribe(1, {{"cfg", 0}}),
            {"fe1:1 suback id=1 [0]", "fe1:1 deliver cfg 'new' qos=0 retain=1 dup=0 id=0"});
    }
    // Equal stamps: the higher origin wins on both. A late older delete does not apply.
    a.handle("router/rz", events::route_publish{"rz", 300, "cfg", "z", 0, true});
    a.handle("router/rb", events::route_publish{"rb", 300, "cfg", "b", 0, true});
    a.handle("router/rq", events::route_publish{"rq", 250, "cfg", "", 0, true});
    client s{a, "fe1", 2, "S2"};
    s.connect_ok();
    EXPECT_LINES(s.subscribe(1, {{"cfg", 0}}),
                 {"fe1:2 suback id=1 [0]", "fe1:2 deliver cfg 'z' qos=0 retain=1 dup=0 id=0"});
    // A newer delete removes it.
    a.handle("router/rq", events::route_publish{"rq", 400, "cfg", "", 0, true});
    BOOST_TEST(a.core.retained_count() == 0u);
}

BOOST_AUTO_TEST_CASE(local_stamps_increase_past_what_peers_sent) {
    fixture f(clustered("r1"));
    client p{f, "fe1", 1, "P"};
    client s{f, "fe1", 2, "S"};
    p.connect_ok();
    s.connect_ok();
    std::vector<router::router_core::outgoing> up;
    f.core.peer_up("r2", up);
    const auto far_future = std::uint64_t{1} << 62;
    f.handle("router/r2", events::route_publish{"r2", far_future, "cfg", "peer", 0, true});
    const auto out =
        f.handle_raw("fe1", events::client_publish{1, "cfg", "mine", 0, true, false, 0});
    BOOST_TEST(stamp_of(out) > far_future);  // hybrid logical clock: causally after
    EXPECT_LINES(s.subscribe(1, {{"cfg", 0}}),
                 {"fe1:2 suback id=1 [0]", "fe1:2 deliver cfg 'mine' qos=0 retain=1 dup=0 id=0"});
}

BOOST_AUTO_TEST_SUITE_END()
