// Session handover between router_core instances (router/handover.cpp), sans
// I/O: a few cores wired by hand through router_core_network.hpp's in-test
// network.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "common/cluster/rendezvous.hpp"
#include "tests/component/router_core_network.hpp"

using namespace router_test;
using namespace std::chrono_literals;
namespace {

// The session "X" offline at core `at` (subscribed to t/# at `qos`), with one
// queued QoS 1 message "t/q" 'queued' published by P at core `publisher_at`.
void offline_session_with_queued_message(network& net, const std::string& at,
                                         const std::string& publisher_at, std::uint8_t qos = 1) {
    net_client x{net, at, "fe1", 1, "X"};
    net_client p{net, publisher_at, "fe9", 1, "P"};
    x.connect_ok(false);
    p.connect_ok(true);
    x.subscribe(1, {{"t/#", qos}});
    x.disconnect();
    p.publish("t/q", "queued", 1, 1);
    net.run();
    p.disconnect();
    EXPECT_LINES(net.take(),
                 {x.at("suback id=1 [" + std::to_string(qos) + "]"), p.at("puback id=1")});
    BOOST_REQUIRE(net.core(at).find_session("X") != nullptr);
    BOOST_REQUIRE_EQUAL(net.core(at).find_session("X")->queue.size(), 1u);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(router_core_handover)

BOOST_AUTO_TEST_CASE(connect_elsewhere_moves_an_offline_session_with_its_qos_state) {
    network net{"a", "b", "c"};
    net_client x{net, "a", "fe1", 1, "X"};
    net_client p{net, "c", "fe3", 1, "P"};
    net_client s{net, "b", "fe2", 2, "S"};  // sees what X publishes
    x.connect_ok(false);
    p.connect_ok(true);
    s.connect_ok(true);
    x.subscribe(1, {{"t/#", 2}});
    s.subscribe(1, {{"in/#", 2}});
    EXPECT_LINES(net.take(), {x.at("suback id=1 [2]"), s.at("suback id=1 [2]")});

    // At A: t/1 in flight awaiting PUBCOMP, t/2 awaiting PUBACK, X's own
    // QoS 2 PUBLISH id 9 awaiting PUBREL, then (offline) t/3 queued.
    p.publish("t/1", "one", 2, 1);
    net.run();
    x.ack(ack_kind::pubrec, 1);
    p.publish("t/2", "two", 1, 2);
    net.run();
    x.publish("in/x", "dup-me", 2, 9);
    net.run();
    x.disconnect();
    p.publish("t/3", "three", 1, 3);
    net.run();
    EXPECT_LINES(net.take(),
                 {x.at("deliver t/1 'one' qos=2 retain=0 dup=0 id=1"), p.at("pubrec id=1"),
                  x.at("pubrel id=1"), x.at("deliver t/2 'two' qos=1 retain=0 dup=0 id=2"),
                  p.at("puback id=2"), s.at("deliver in/x 'dup-me' qos=2 retain=0 dup=0 id=1"),
                  x.at("pubrec id=9"), p.at("puback id=3")});

    // X connects at B: B asks A and C (its request 2: S's CONNECT was 1) and
    // answers nothing yet.
    net_client x2{net, "b", "fe2", 5, "X"};
    x2.connect(false);
    EXPECT_LINES(net.take(), {});
    EXPECT_LINES(net.in_transit_lines(), {"b>a session_fetch 2 X", "b>c session_fetch 2 X"});

    // A gives the session up: it no longer has it.
    BOOST_REQUIRE(net.deliver("b", "a"));
    EXPECT_LINES(
        net.in_transit_lines(),
        {"b>c session_fetch 2 X", "a>b session_state 2 X found=1 subs=1 inflight=2 queue=1"});
    const auto& state = std::get<events::session_state>(net.wire().back().event);
    BOOST_TEST(state.inbound_qos2 == std::vector<std::uint16_t>{9},
               boost::test_tools::per_element());
    BOOST_TEST(state.inflight[0].state == 2);
    BOOST_TEST(!state.inflight[0].message.has_value());
    BOOST_TEST(state.inflight[1].state == 0);
    BOOST_TEST(net.core("a").find_session("X") == nullptr);
    BOOST_TEST(net.core("a").session_count() == 0u);
    BOOST_TEST(net.core("a").subscription_count() == 0u);

    // C has none; then B answers: session present, the window re-sent in
    // order (PUBREL, DUP PUBLISH), then the queue.
    net.run();
    EXPECT_LINES(net.take(), {x2.at("connack sp=1 rc=0"), x2.at("pubrel id=1"),
                              x2.at("deliver t/2 'two' qos=1 retain=0 dup=1 id=2"),
                              x2.at("deliver t/3 'three' qos=1 retain=0 dup=0 id=3")});
    BOOST_TEST(net.core("b").counters().sessions_fetched == 1u);
    BOOST_TEST(net.core("a").counters().sessions_handed_out == 1u);

    // X re-sends its QoS 2 PUBLISH id 9: acknowledged, not routed again.
    x2.publish("in/x", "dup-me", 2, 9, true);
    EXPECT_LINES(net.take(), {x2.at("pubrec id=9")});
    EXPECT_LINES(net.in_transit_lines(), {});
    BOOST_TEST(net.core("b").counters().duplicate_qos2 == 1u);
    x2.ack(ack_kind::pubrel, 9);
    x2.ack(ack_kind::pubcomp, 1);
    x2.ack(ack_kind::puback, 2);
    x2.ack(ack_kind::puback, 3);
    EXPECT_LINES(net.take(), {x2.at("pubcomp id=9")});

    // The subscription moved too: a new message reaches X at B only.
    p.publish("t/4", "four", 1, 4);
    net.run();
    EXPECT_LINES(net.take(),
                 {x2.at("deliver t/4 'four' qos=1 retain=0 dup=0 id=4"), p.at("puback id=4")});
}

BOOST_AUTO_TEST_CASE(connect_elsewhere_takes_over_an_online_client_and_fires_its_will_once) {
    network net{"a", "b", "c"};
    net_client x{net, "a", "fe1", 1, "X"};
    net_client p{net, "c", "fe3", 1, "P"};
    net_client w{net, "c", "fe3", 2, "W"};
    x.connect_ok(false, false, events::will{"will/x", "gone", 1, false});
    p.connect_ok(true);
    w.connect_ok(true);
    x.subscribe(1, {{"t/#", 1}});
    w.subscribe(1, {{"will/#", 0}});
    p.publish("t/1", "one", 1, 1);
    net.run();
    EXPECT_LINES(net.take(),
                 {x.at("suback id=1 [1]"), w.at("suback id=1 [0]"),
                  x.at("deliver t/1 'one' qos=1 retain=0 dup=0 id=1"), p.at("puback id=1")});

    net_client x2{net, "b", "fe2", 5, "X"};
    x2.connect(false);
    net.run();
    EXPECT_LINES(net.take(), {x.at("close_connection taken_over"),
                              w.at("deliver will/x 'gone' qos=0 retain=0 dup=0 id=0"),
                              x2.at("connack sp=1 rc=0"),
                              x2.at("deliver t/1 'one' qos=1 retain=0 dup=1 id=1")});
    const auto& a = net.core("a");
    BOOST_TEST(a.counters().wills_published == 1u);
    BOOST_TEST(a.counters().sessions_taken_over == 1u);
    BOOST_TEST(a.session_count() == 0u);

    // The old connection's late events change nothing; its end fires no second will.
    x.publish("t/late", "z", 1, 7);
    x.disconnect(reason::taken_over);
    net.run();
    EXPECT_LINES(net.take(), {});
    BOOST_TEST(a.counters().wills_published == 1u);
    BOOST_TEST(a.online_count() == 0u);
    BOOST_TEST(net.core("b").online_count() == 1u);
}

BOOST_AUTO_TEST_CASE(events_sent_while_the_fetch_is_pending_apply_after_the_connack_in_order) {
    network net{"a", "b", "c"};
    offline_session_with_queued_message(net, "a", "c");
    net_client x2{net, "b", "fe2", 5, "X"};
    x2.connect(false);
    x2.subscribe(3, {{"u/#", 1}});
    x2.publish("u/self", "me", 1, 4);  // reaches X itself only if SUBSCRIBE came first
    EXPECT_LINES(net.take(), {});
    EXPECT_LINES(net.in_transit_lines(), {"b>a session_fetch 1 X", "b>c session_fetch 1 X"});
    net.run();
    EXPECT_LINES(net.take(),
                 {x2.at("connack sp=1 rc=0"),
                  x2.at("deliver t/q 'queued' qos=1 retain=0 dup=0 id=1"), x2.at("suback id=3 [1]"),
                  x2.at("deliver u/self 'me' qos=1 retain=0 dup=0 id=2"), x2.at("puback id=4")});
    BOOST_TEST(net.core("b").counters().messages_received == 1u);
}

BOOST_AUTO_TEST_CASE(a_second_connect_while_fetching_takes_over_the_first_after_it_completes) {
    network net{"a", "b", "c"};
    offline_session_with_queued_message(net, "a", "c");
    net_client x2{net, "b", "fe2", 5, "X"};
    net_client x3{net, "b", "fe2", 6, "X"};
    x2.connect(false);
    x3.connect(false);  // waits behind the first fetch; no second fetch
    EXPECT_LINES(net.in_transit_lines(), {"b>a session_fetch 1 X", "b>c session_fetch 1 X"});
    net.run();
    EXPECT_LINES(net.take(), {x2.at("connack sp=1 rc=0"),
                              x2.at("deliver t/q 'queued' qos=1 retain=0 dup=0 id=1"),
                              x2.at("close_connection taken_over"), x3.at("connack sp=1 rc=0"),
                              x3.at("deliver t/q 'queued' qos=1 retain=0 dup=1 id=1")});
}

BOOST_AUTO_TEST_CASE(a_clean_connect_elsewhere_discards_the_session_everywhere) {
    network net{"a", "b", "c"};
    offline_session_with_queued_message(net, "a", "c");
    net_client x2{net, "b", "fe2", 5, "X"};
    x2.connect(true);
    net.run();
    EXPECT_LINES(net.take(), {x2.at("connack sp=0 rc=0")});  // MQTT-3.1.2-6
    BOOST_TEST(net.core("a").session_count() == 0u);
    BOOST_TEST_REQUIRE(net.core("b").find_session("X") != nullptr);
    BOOST_TEST(net.core("b").find_session("X")->subscriptions.empty());
    x2.disconnect();
    BOOST_TEST(net.core("b").session_count() == 0u);
}

BOOST_AUTO_TEST_CASE(a_silent_peer_delays_the_connect_until_the_fetch_times_out) {
    network net{"a", "b", "c"};
    const auto t0 = router_core::clock::now();
    net.tick("b", t0);
    net_client x2{net, "b", "fe2", 5, "X"};
    x2.connect(false);
    net.run("b", "c");  // C never answers
    EXPECT_LINES(net.take(), {});
    net.tick("b", t0 + 4999ms);
    EXPECT_LINES(net.take(), {});
    net.tick("b", t0 + 5000ms);
    EXPECT_LINES(net.take(), {x2.at("connack sp=0 rc=0")});
    x2.subscribe(1, {{"t", 0}});
    EXPECT_LINES(net.take(), {x2.at("suback id=1 [0]")});
}

BOOST_AUTO_TEST_CASE(an_answer_after_the_timeout_is_merged_not_lost) {
    network net{"a", "b", "c"};
    offline_session_with_queued_message(net, "c", "a");
    const auto t0 = router_core::clock::now();
    net.tick("b", t0);
    net_client x2{net, "b", "fe2", 5, "X"};
    x2.connect(false);
    net.run("b", "c");
    net.tick("b", t0 + 5s);
    EXPECT_LINES(net.take(), {x2.at("connack sp=0 rc=0")});
    // C finally gets the fetch and gives its session up: B adds it to X's.
    net.run();
    EXPECT_LINES(net.take(), {x2.at("deliver t/q 'queued' qos=1 retain=0 dup=0 id=1")});
    BOOST_TEST(net.core("c").session_count() == 0u);
    BOOST_TEST(net.core("b").counters().session_conflicts == 1u);
    net_client p{net, "a", "fe1", 2, "P"};
    p.connect_ok(true);
    p.publish("t/new", "n", 1, 2);
    net.run();
    EXPECT_LINES(net.take(),
                 {x2.at("deliver t/new 'n' qos=1 retain=0 dup=0 id=2"), p.at("puback id=2")});
}

BOOST_AUTO_TEST_CASE(peer_down_of_the_awaited_peer_completes_the_connect_at_once) {
    network net{"a", "b", "c"};
    net_client x2{net, "b", "fe2", 5, "X"};
    x2.connect(false);
    net.run("", "", "session_fetch");  // nobody answers yet
    net.down("b", "a");
    EXPECT_LINES(net.take(), {});  // still waiting for C
    net.down("b", "c");
    EXPECT_LINES(net.take(), {x2.at("connack sp=0 rc=0")});
    // With no live peer left, a CONNECT is answered at once.
    net_client y{net, "b", "fe2", 6, "Y"};
    y.connect(false);
    EXPECT_LINES(net.take(), {y.at("connack sp=0 rc=0")});
}

BOOST_AUTO_TEST_CASE(messages_routed_before_the_session_arrived_are_replayed_once) {
    network net{"a", "b", "c"};
    offline_session_with_queued_message(net, "a", "c");  // A queued t/q
    net_client p{net, "c", "fe3", 1, "P"};
    p.connect_ok(true);

    net_client x2{net, "b", "fe2", 5, "X"};
    x2.connect(false);
    BOOST_REQUIRE(net.deliver("b", "a"));  // A answers (not delivered yet)
    BOOST_REQUIRE(net.deliver("b", "c"));  // C answers none (not delivered yet)
    // C accepts t/1 after A answered; B routes it before A's answer arrives.
    p.publish("t/1", "late", 1, 1);
    BOOST_REQUIRE(net.deliver("c", "a", "route_publish"));
    BOOST_REQUIRE(net.deliver("c", "b", "route_publish"));
    EXPECT_LINES(net.take(), {});  // PUBACK once A and B acknowledged t/1
    net.run();
    EXPECT_LINES(
        net.take(),
        {x2.at("connack sp=1 rc=0"), x2.at("deliver t/q 'queued' qos=1 retain=0 dup=0 id=1"),
         x2.at("deliver t/1 'late' qos=1 retain=0 dup=0 id=2"), p.at("puback id=1")});
    BOOST_TEST(net.core("b").counters().handover_gaps == 0u);
    BOOST_TEST(net.core("a").counters().messages_delivered == 0u);

    p.publish("t/2", "next", 1, 2);
    net.run();
    EXPECT_LINES(net.take(),
                 {x2.at("deliver t/2 'next' qos=1 retain=0 dup=0 id=3"), p.at("puback id=2")});
}

// KNOWN BUG (reported to the lead; router/ is not ours to fix): a message
// the old owner had already put in the session can reach the new owner on
// the publisher's link AFTER the session did (the answer travels on another
// link). The new owner then routes it into the session a second time: for
// QoS 2 that breaks exactly once. Correct: messages of origin o with a stamp
// <= the session's seen[o] are not delivered to that session again.
BOOST_AUTO_TEST_CASE(a_message_the_session_already_had_is_not_delivered_again_when_it_arrives_late,
                     *boost::unit_test::description("KNOWN BUG: fails until router/ is fixed")) {
    network net{"a", "b", "c"};
    net_client x{net, "a", "fe1", 1, "X"};
    net_client p{net, "c", "fe3", 1, "P"};
    x.connect_ok(false);
    p.connect_ok(true);
    x.subscribe(1, {{"t/#", 2}});
    x.disconnect();
    p.publish("t/0", "once", 2, 1);
    BOOST_REQUIRE(net.deliver("c", "a", "route_publish"));  // A queues it; B's copy lags
    EXPECT_LINES(net.take(), {x.at("suback id=1 [2]")});    // PUBREC: B has not acknowledged

    net_client x2{net, "b", "fe2", 5, "X"};
    x2.connect(false);
    net.run("c", "b", "route_publish");  // the fetch completes before t/0 reaches B
    EXPECT_LINES(net.take(), {x2.at("connack sp=1 rc=0"),
                              x2.at("deliver t/0 'once' qos=2 retain=0 dup=0 id=1")});
    net.run();  // now t/0 reaches B: acknowledged, not delivered again
    EXPECT_LINES(net.take(), {p.at("pubrec id=1")});
}

BOOST_AUTO_TEST_CASE(leave_closes_connections_without_wills_and_pushes_persistent_sessions) {
    network net{"a", "b", "c"};
    net_client o{net, "a", "fe1", 1, "O"};  // persistent, online, with a will
    net_client f{net, "a", "fe1", 2, "F"};  // persistent, offline
    net_client k{net, "a", "fe1", 3, "K"};  // clean, online
    net_client w{net, "c", "fe3", 1, "W"};
    net_client p{net, "c", "fe3", 2, "P"};
    o.connect_ok(false, false, events::will{"will/o", "bye", 0, false});
    f.connect_ok(false);
    k.connect_ok(true);
    w.connect_ok(true);
    p.connect_ok(true);
    o.subscribe(1, {{"t/#", 1}});
    f.subscribe(1, {{"f/#", 1}});
    f.disconnect();
    k.subscribe(1, {{"k", 0}});
    w.subscribe(1, {{"will/#", 0}});
    p.publish("t/1", "one", 1, 1);  // O leaves it unacknowledged
    net.run();
    net.take();

    const std::set<std::string> live{"b", "c"};
    const std::string owner_o = *cluster::rendezvous_owner("O", live);
    const std::string owner_f = *cluster::rendezvous_owner("F", live);
    net.leave("a");
    EXPECT_LINES_ANY_ORDER(net.take(), {o.at("close_connection server_shutdown"),
                                        k.at("close_connection server_shutdown")});
    EXPECT_LINES_ANY_ORDER(
        net.in_transit_lines(),
        {"a>" + owner_o + " session_state 0 O found=1 subs=1 inflight=1 queue=0",
         "a>" + owner_f + " session_state 0 F found=1 subs=1 inflight=0 queue=0"});
    auto& a = net.core("a");
    BOOST_TEST(a.session_count() == 0u);
    BOOST_TEST(a.subscription_count() == 0u);
    BOOST_TEST(a.counters().wills_published == 0u);
    BOOST_TEST(a.counters().sessions_pushed == 2u);
    BOOST_TEST(a.unacknowledged_pushes() == 2u);

    // Each owner adopts its session and acknowledges.
    BOOST_REQUIRE(net.deliver("a", "", "session_state"));
    BOOST_REQUIRE(net.deliver("", "a", "session_state_ack"));
    BOOST_TEST(a.unacknowledged_pushes() == 1u);
    net.run();
    BOOST_TEST(a.unacknowledged_pushes() == 0u);
    BOOST_TEST_REQUIRE(net.core(owner_o).find_session("O") != nullptr);
    BOOST_TEST(!net.core(owner_o).find_session("O")->online());
    BOOST_TEST(net.core(owner_o).find_session("O")->inflight.size() == 1u);
    BOOST_TEST_REQUIRE(net.core(owner_f).find_session("F") != nullptr);
    BOOST_TEST(net.core(owner_f).find_session("F")->subscriptions.count("f/#") == 1u);
    BOOST_TEST(net.core("b").find_session("K") == nullptr);
    BOOST_TEST(net.core("c").find_session("K") == nullptr);

    // The frontend reports the closed connections: still no will.
    o.disconnect(reason::server_shutdown);
    k.disconnect(reason::server_shutdown);
    net.run();
    EXPECT_LINES(net.take(), {});
    BOOST_TEST(a.counters().wills_published == 0u);

    // A CONNECT at the leaving router is refused at once.
    net_client n{net, "a", "fe1", 9, "N"};
    n.connect(false);
    EXPECT_LINES(net.take(), {n.at("connack sp=0 rc=3")});
    EXPECT_LINES(net.in_transit_lines(), {});
    BOOST_TEST(a.counters().connects_refused == 1u);

    // A fetch for a pushed client is answered with where it went.
    net.handle("a", "router/b", events::session_fetch{77, "F", "b"});
    EXPECT_LINES(net.in_transit_lines(),
                 {"a>b session_state 77 F found=0 subs=0 inflight=0 queue=0 pushed_to=" + owner_f});
}

// KNOWN BUG (reported to the lead): the leaving router's "pushed_to" answer
// leaves `sender` empty, so the requester cannot strike the leaving router
// off the peers it waits for: a client reconnecting at a router that is not
// its session's new owner waits for the fetch timeout. Correct: the answer
// names its sender and the CONNECT completes once the owner answered.
BOOST_AUTO_TEST_CASE(a_pushed_to_answer_names_its_sender_and_does_not_hold_up_the_connect,
                     *boost::unit_test::description("KNOWN BUG: fails until router/ is fixed")) {
    network net{"a", "b", "c"};
    net_client f{net, "a", "fe1", 2, "F"};
    f.connect_ok(false);
    f.subscribe(1, {{"f/#", 1}});
    f.disconnect();
    net.take();
    const std::set<std::string> live{"b", "c"};
    const std::string owner = *cluster::rendezvous_owner("F", live);
    const std::string other = owner == "b" ? "c" : "b";
    net.leave("a");
    net.run();
    BOOST_TEST_REQUIRE(net.core("a").unacknowledged_pushes() == 0u);

    net.handle("a", "router/" + other, events::session_fetch{77, "F", other});
    BOOST_TEST_REQUIRE(net.wire().size() == 1u);
    const auto& answer = std::get<events::session_state>(net.wire().front().event);
    BOOST_TEST(answer.pushed_to == owner);
    BOOST_TEST(answer.sender == "a");
    net.drop("a", other);

    net_client f2{net, other, "fe4", 1, "F"};
    f2.connect(false);
    net.run();
    EXPECT_LINES(net.take(), {f2.at("connack sp=1 rc=0")});
    BOOST_TEST(net.core(owner).find_session("F") == nullptr);
    BOOST_TEST(net.core(other).find_session("F") != nullptr);
}

// KNOWN BUG (reported to the lead): the usual order after a graceful leave is
// push first, reconnect second. The new owner's CONNECT then fetches from the
// leaving router too, which answers "pushed to you"; the owner keeps waiting
// for a push it already received, so the CONNECT hangs until the fetch times
// out or the leaving router is gone. Correct: CONNACK at once, session present.
BOOST_AUTO_TEST_CASE(reconnect_at_the_new_owner_after_the_push_is_not_held_up,
                     *boost::unit_test::description("KNOWN BUG: fails until router/ is fixed")) {
    network net{"a", "b", "c"};
    net_client o{net, "a", "fe1", 1, "O"};
    o.connect_ok(false);
    o.subscribe(1, {{"t/#", 1}});
    net.take();
    const std::set<std::string> live{"b", "c"};
    const std::string owner = *cluster::rendezvous_owner("O", live);
    net.leave("a");
    net.run();  // the push and its acknowledgement
    EXPECT_LINES(net.take(), {o.at("close_connection server_shutdown")});
    BOOST_TEST_REQUIRE(net.core("a").unacknowledged_pushes() == 0u);

    net_client o2{net, owner, "fe2", 1, "O"};
    o2.connect(false);
    net.run();
    EXPECT_LINES(net.take(), {o2.at("connack sp=1 rc=0")});
}

// KNOWN BUG (reported to the lead): a CONNECT still fetching when leave() runs
// is refused (right), but the session its fetch collected is installed at
// the leaving router after the pushes went out, and is lost with it.
// Correct: that session is pushed on to its owner like the others.
BOOST_AUTO_TEST_CASE(a_session_fetched_while_leaving_is_pushed_on_not_lost,
                     *boost::unit_test::description("KNOWN BUG: fails until router/ is fixed")) {
    network net{"a", "b", "c"};
    net_client y{net, "b", "fe2", 1, "Y"};
    y.connect_ok(false);
    y.subscribe(1, {{"y/#", 1}});
    y.disconnect();
    net.take();

    net_client y2{net, "a", "fe1", 1, "Y"};
    y2.connect(false);  // fetching from B and C
    net.leave("a");
    net.run();
    EXPECT_LINES(net.take(), {y2.at("connack sp=0 rc=3")});
    BOOST_TEST(net.core("b").find_session("Y") == nullptr);  // B gave it to A
    BOOST_TEST(net.core("a").session_count() == 0u);
    const std::set<std::string> live{"b", "c"};
    const std::string owner = *cluster::rendezvous_owner("Y", live);
    BOOST_TEST(net.core(owner).find_session("Y") != nullptr);
    BOOST_TEST(net.core("a").unacknowledged_pushes() == 0u);
}

BOOST_AUTO_TEST_CASE(with_a_store_a_session_pushed_to_a_router_that_leaves_too_is_kept) {
    // The whole cluster stops at once (docker-compose down): b gets a's push
    // after it started leaving itself, and nobody is left to take it.
    network net{"a", "b"};
    net.core("a").enable_journal();
    net.core("b").enable_journal();
    net_client f{net, "a", "fe1", 1, "F"};
    f.connect_ok(false);
    f.subscribe(1, {{"f/#", 1}});
    f.disconnect();
    net.run();
    net.take();
    net.leave("a");
    net.core("b").peer_leaving("a");
    net.leave("b");
    net.run();
    // b keeps it (in memory and in its journal, i.e. its store) and acknowledges;
    // a then erases its copy.
    BOOST_TEST_REQUIRE(net.core("b").find_session("F") != nullptr);
    BOOST_TEST(net.core("b").find_session("F")->subscriptions.size() == 1u);
    BOOST_TEST(!net.core("b").journal_of().empty());
    BOOST_TEST(net.core("a").unacknowledged_pushes() == 0u);
}

BOOST_AUTO_TEST_CASE(two_routers_connecting_the_same_client_the_greater_id_wins) {
    for (const bool b_first : {true, false}) {
        BOOST_TEST_CONTEXT("b_first=" << b_first) {
            network net{"a", "b", "c"};
            offline_session_with_queued_message(net, "a", "a");
            net_client xb{net, "b", "fe2", 5, "X"};
            net_client xc{net, "c", "fe3", 5, "X"};
            if (b_first) {
                xb.connect(false);
                xc.connect(false);
            } else {
                xc.connect(false);
                xb.connect(false);
            }
            xb.subscribe(7, {{"lost/#", 1}});  // the losing connection's events are dropped
            EXPECT_LINES_ANY_ORDER(net.in_transit_lines(),
                                   {"b>a session_fetch 1 X", "b>c session_fetch 1 X",
                                    "c>a session_fetch 1 X", "c>b session_fetch 1 X"});
            // Both fetches reach everyone before any answer does.
            while (net.deliver("", "", "session_fetch")) {
            }
            net.run();
            EXPECT_LINES_ANY_ORDER(net.take(),
                                   {xb.at("connack sp=0 rc=3"), xc.at("connack sp=1 rc=0"),
                                    xc.at("deliver t/q 'queued' qos=1 retain=0 dup=0 id=1")});
            BOOST_TEST(net.core("a").find_session("X") == nullptr);
            BOOST_TEST(net.core("b").find_session("X") == nullptr);
            BOOST_TEST_REQUIRE(net.core("c").find_session("X") != nullptr);
            BOOST_TEST(net.core("c").find_session("X")->online());
            BOOST_TEST(net.core("b").counters().connects_refused == 1u);
            BOOST_TEST(net.core("b").subscription_count() == 0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(retained_set_is_copied_in_batches_with_tombstones) {
    network net{"a"};
    auto& a = net.core("a");
    std::uint64_t stamp = 100;
    for (int i = 0; i < 1000; ++i)
        net.handle("a", "router/z",
                   events::route_publish{"z", ++stamp, "r/" + std::to_string(i),
                                         "v" + std::to_string(i), 1, true});
    net.handle("a", "router/z", events::route_publish{"z", ++stamp, "gone", "x", 0, true});
    net.handle("a", "router/z", events::route_publish{"z", ++stamp, "gone", "", 0, true});
    BOOST_TEST(a.retained_count() == 1000u);
    net.take();  // route_acks to z, which is not linked

    std::vector<router_core::outgoing> out;
    a.handle("router/x", events::retained_sync_request{"x"}, out);
    BOOST_TEST_REQUIRE(out.size() == 3u);
    std::map<std::string, events::stored_message> got;
    for (std::size_t i = 0; i < out.size(); ++i) {
        BOOST_TEST(out[i].to == "router/x");
        BOOST_TEST((out[i].where == destination::socket));
        const auto& batch = std::get<events::retained_sync>(out[i].event);
        BOOST_TEST(batch.sender == "a");
        BOOST_TEST(batch.last == (i == 2));
        BOOST_TEST(batch.messages.size() == (i == 2 ? 1u : 500u));
        for (const auto& m : batch.messages) BOOST_TEST(got.emplace(m.topic, m).second, m.topic);
    }
    BOOST_TEST_REQUIRE(got.size() == 1001u);
    BOOST_TEST(got.at("gone").payload.empty());  // the tombstone travels
    BOOST_TEST(got.at("gone").stamp == stamp);
    BOOST_TEST(got.at("r/7").payload == "v7");
    BOOST_TEST(got.at("r/7").origin == "z");
    BOOST_TEST(got.at("r/7").retain);
    BOOST_TEST(got.at("r/7").qos == 1);

    // A fresh router asks its peer as soon as it is up, and converges.
    auto& d = net.add("d");
    net.up("d", "a");
    BOOST_TEST(d.syncing_retained());
    BOOST_TEST(!d.retained_synced());
    EXPECT_LINES(net.in_transit_lines(), {"d>a retained_sync_request"});
    BOOST_REQUIRE(net.deliver("d", "a"));
    EXPECT_LINES(net.in_transit_lines(),
                 {"a>d retained_sync n=500 last=0", "a>d retained_sync n=500 last=0",
                  "a>d retained_sync n=1 last=1"});
    net.run();
    BOOST_TEST(d.retained_synced());
    BOOST_TEST(!d.syncing_retained());
    BOOST_TEST(d.retained_count() == a.retained_count());
    // The tombstone keeps an older update from reviving the topic.
    net.handle("d", "router/z", events::route_publish{"z", 150, "gone", "old", 0, true});
    BOOST_TEST(d.retained_count() == 1000u);
    net.take();  // its route_ack to z, which is not linked
    net_client s{net, "d", "fe1", 1, "S"};
    s.connect_ok(true);
    s.subscribe(1, {{"r/7", 1}, {"gone", 0}});
    EXPECT_LINES(net.take(),
                 {s.at("suback id=1 [1,0]"), s.at("deliver r/7 'v7' qos=1 retain=1 dup=0 id=1")});
}

BOOST_AUTO_TEST_CASE(retained_copy_asks_another_peer_when_the_first_dies) {
    network net{"a", "b"};
    net.handle("b", "router/z", events::route_publish{"z", 5, "r", "v", 0, true});
    net.run();  // B forwards nothing (a peer's message); A has none
    BOOST_TEST(net.core("a").retained_count() == 0u);
    auto& d = net.add("d");
    net.up("d", "a");
    net.up("d", "b");
    EXPECT_LINES(net.in_transit_lines(), {"d>a retained_sync_request"});
    net.drop("d", "a");  // A dies before answering
    net.down("d", "a");
    EXPECT_LINES(net.in_transit_lines(), {"d>b retained_sync_request"});
    BOOST_TEST(!d.retained_synced());
    net.run();
    BOOST_TEST(d.retained_synced());
    BOOST_TEST(d.retained_count() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
