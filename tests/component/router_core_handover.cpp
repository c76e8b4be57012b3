// Session handover between router_core instances (router/handover.cpp), sans
// I/O: a few cores wired by hand through a tiny in-test network.
//
// The network keeps every router->router event in one list, in the order the
// cores emitted them, and delivers them when the test says so (all of them,
// or one chosen by sender, receiver and kind), so a test builds the
// interleavings real links allow: each router pair has two independent
// links (each side's DEALER), so a peer's answer and that peer's forwarded
// messages may overtake each other.
//   - `peer` / `all_peers` events reach the named core(s) with
//     from = "router/<sender>" (its DEALER's routing id);
//   - `socket` events to "router/<id>" answer a peer's request: they reach
//     core <id> with from = "link/<sender>" (the link they come back on);
//   - other `socket` events go to frontends: collected as lines
//     "<core>> <frontend>:<conn> <event>" (router_core_harness.hpp's format).
// Single-threaded test code.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/cluster/rendezvous.hpp"
#include "tests/component/router_core_harness.hpp"

using namespace router_test;
using namespace std::chrono_literals;
using router::router_core;
using destination = router_core::destination;

namespace {

// A router->router event not delivered yet.
struct in_transit {
    std::string sender;  // router id
    std::string to;      // router id
    std::string from;    // the routing id the receiver sees
    events::event event;
};

// "b>a session_fetch 2 X": sender, receiver and the event.
std::string describe(const in_transit& t) {
    std::string s = t.sender + ">" + t.to + " ";
    if (const auto* r = std::get_if<events::retained_sync>(&t.event))
        return s + "retained_sync n=" + std::to_string(r->messages.size()) +
               " last=" + std::to_string(r->last);
    if (std::holds_alternative<events::retained_sync_request>(t.event))
        return s + "retained_sync_request";
    const auto line =
        router_test::describe(router_core::outgoing{"", t.event, destination::all_peers});
    return s + line.substr(line.find(' ') + 1);  // drop the harness's ":0 " prefix
}

class network {
  public:
    network(std::initializer_list<std::string> ids,
            const std::function<void(router::router_settings&)>& tweak = {}) {
        for (const auto& id : ids) add(id, tweak);
        for (const auto& x : ids)
            for (const auto& y : ids)
                if (x != y) up(x, y);
        run();  // the retained set copies (all empty)
        for (const auto& id : ids) {
            if (ids.size() == 1) core(id).mark_retained_synced();  // nobody to copy from
            BOOST_TEST_REQUIRE(core(id).retained_synced());
        }
    }

    router_core& add(const std::string& id,
                     const std::function<void(router::router_settings&)>& tweak = {}) {
        router::router_settings s;
        s.router_id = id;
        s.has_peers = true;
        if (tweak) tweak(s);
        return *(cores_[id] = std::make_unique<router_core>(s));
    }
    router_core& core(const std::string& id) { return *cores_.at(id); }

    // Membership as each router_loop would report it.
    void up(const std::string& x, const std::string& y) {
        links_.insert({x, y});
        call(x, [&](auto& out) { core(x).peer_up(y, out); });
    }
    void down(const std::string& x, const std::string& y) {
        links_.erase({x, y});
        call(x, [&](auto& out) { core(x).peer_down(y, out); });
    }
    void tick(const std::string& x, router_core::clock::time_point now) {
        call(x, [&](auto& out) { core(x).tick(now, out); });
    }
    void leave(const std::string& x) {
        call(x, [&](auto& out) { core(x).leave(out); });
    }
    // One event into core x, from routing id `from`.
    void handle(const std::string& x, const std::string& from, events::event e) {
        call(x, [&](auto& out) { core(x).handle(from, std::move(e), out); });
    }

    // Delivers the first event in transit that matches (empty = any); false if none.
    bool deliver(const std::string& sender, const std::string& to, const std::string& kind = "") {
        for (auto it = wire_.begin(); it != wire_.end(); ++it) {
            if (matches(*it, sender, to, kind)) {
                auto t = std::move(*it);
                wire_.erase(it);
                handle(t.to, t.from, std::move(t.event));
                return true;
            }
        }
        return false;
    }
    // Delivers everything, including what that causes, except the matching
    // events (sender/to/kind as for deliver; all empty = skip nothing).
    void run(const std::string& skip_sender = "", const std::string& skip_to = "",
             const std::string& skip_kind = "") {
        const bool skipping = !skip_sender.empty() || !skip_to.empty() || !skip_kind.empty();
        for (int guard = 0; guard < 100000; ++guard) {
            auto it = wire_.begin();
            while (it != wire_.end() && skipping && matches(*it, skip_sender, skip_to, skip_kind))
                ++it;
            if (it == wire_.end()) return;
            auto t = std::move(*it);
            wire_.erase(it);
            handle(t.to, t.from, std::move(t.event));
        }
        BOOST_FAIL("the routers keep talking");
    }
    // Forgets the matching events in transit (a link that lost them).
    void drop(const std::string& sender, const std::string& to) {
        std::erase_if(wire_, [&](const in_transit& t) { return matches(t, sender, to, ""); });
    }

    // The frontend lines collected since the last call.
    lines take() { return std::exchange(frontends_, {}); }
    // The router->router events in transit.
    lines in_transit_lines() const {
        lines l;
        for (const auto& t : wire_) l.push_back(describe(t));
        return l;
    }
    const std::deque<in_transit>& wire() const { return wire_; }

  private:
    static bool matches(const in_transit& t, const std::string& sender, const std::string& to,
                        const std::string& kind) {
        return (sender.empty() || t.sender == sender) && (to.empty() || t.to == to) &&
               (kind.empty() || kind == events::name_of(t.event));
    }

    template <typename F>
    void call(const std::string& x, F&& f) {
        std::vector<router_core::outgoing> out;
        f(out);
        for (auto& o : out) route(x, std::move(o));
    }

    void route(const std::string& sender, router_core::outgoing&& o) {
        switch (o.where) {
            case destination::all_peers:
                for (const auto& [id, c] : cores_)
                    if (links_.contains({sender, id}))
                        wire_.push_back({sender, id, "router/" + sender, o.event});
                return;
            case destination::peer:
                if (links_.contains({sender, o.to}))
                    wire_.push_back({sender, o.to, "router/" + sender, std::move(o.event)});
                else
                    frontends_.push_back(sender + "> not connected to " + o.to + ": " +
                                         events::name_of(o.event));
                return;
            case destination::socket:
                if (o.to.starts_with("router/") && cores_.contains(o.to.substr(7))) {
                    wire_.push_back({sender, o.to.substr(7), "link/" + sender, std::move(o.event)});
                    return;
                }
                frontends_.push_back(sender + "> " + router_test::describe(o));
                return;
        }
    }

    std::map<std::string, std::unique_ptr<router_core>> cores_;
    std::set<std::pair<std::string, std::string>> links_;  // x deems y live
    std::deque<in_transit> wire_;
    lines frontends_;
};

// One client connection on one frontend of one router.
struct net_client {
    network& net;
    std::string core;
    std::string frontend;
    events::conn_id conn;
    std::string client_id;

    void connect(bool clean, std::optional<events::will> will = std::nullopt) {
        net.handle(core, frontend,
                   events::client_connect{conn, client_id, clean, 4, 60, "", std::move(will)});
    }
    void subscribe(std::uint16_t id, std::vector<events::subscription> subs) {
        net.handle(core, frontend, events::client_subscribe{conn, id, std::move(subs)});
    }
    void publish(const std::string& topic, const std::string& payload, std::uint8_t qos = 0,
                 std::uint16_t id = 0, bool dup = false) {
        net.handle(core, frontend,
                   events::client_publish{conn, topic, payload, qos, false, dup, id});
    }
    void ack(ack_kind k, std::uint16_t id) {
        net.handle(core, frontend, events::client_ack{conn, k, id});
    }
    void disconnect(reason r = reason::graceful) {
        net.handle(core, frontend, events::client_disconnect{conn, r});
    }
    // "b> fe2:5 " + rest: an expected frontend line for this connection.
    std::string at(const std::string& rest) const {
        return core + "> " + frontend + ":" + std::to_string(conn) + " " + rest;
    }
    // Connects (running the fetch to completion) and requires CONNACK rc=0.
    void connect_ok(bool clean, bool session_present = false,
                    std::optional<events::will> will = std::nullopt) {
        connect(clean, std::move(will));
        net.run();
        const lines got = net.take();
        const lines want{at(std::string("connack sp=") + (session_present ? "1" : "0") + " rc=0")};
        BOOST_REQUIRE_EQUAL_COLLECTIONS(got.begin(), got.end(), want.begin(), want.end());
    }
};

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
                 {p.at("pubrec id=1"), x.at("deliver t/1 'one' qos=2 retain=0 dup=0 id=1"),
                  x.at("pubrel id=1"), p.at("puback id=2"),
                  x.at("deliver t/2 'two' qos=1 retain=0 dup=0 id=2"), x.at("pubrec id=9"),
                  s.at("deliver in/x 'dup-me' qos=2 retain=0 dup=0 id=1"), p.at("puback id=3")});

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
                 {p.at("puback id=4"), x2.at("deliver t/4 'four' qos=1 retain=0 dup=0 id=4")});
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
    EXPECT_LINES(net.take(), {x.at("suback id=1 [1]"), w.at("suback id=1 [0]"), p.at("puback id=1"),
                              x.at("deliver t/1 'one' qos=1 retain=0 dup=0 id=1")});

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
                 {p.at("puback id=2"), x2.at("deliver t/new 'n' qos=1 retain=0 dup=0 id=2")});
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
    EXPECT_LINES(net.take(), {p.at("puback id=1")});
    net.run();
    EXPECT_LINES(net.take(), {x2.at("connack sp=1 rc=0"),
                              x2.at("deliver t/q 'queued' qos=1 retain=0 dup=0 id=1"),
                              x2.at("deliver t/1 'late' qos=1 retain=0 dup=0 id=2")});
    BOOST_TEST(net.core("b").counters().handover_gaps == 0u);
    BOOST_TEST(net.core("a").counters().messages_delivered == 0u);

    p.publish("t/2", "next", 1, 2);
    net.run();
    EXPECT_LINES(net.take(),
                 {p.at("puback id=2"), x2.at("deliver t/2 'next' qos=1 retain=0 dup=0 id=3")});
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
    EXPECT_LINES(net.take(), {x.at("suback id=1 [2]"), p.at("pubrec id=1")});

    net_client x2{net, "b", "fe2", 5, "X"};
    x2.connect(false);
    net.run("c", "b", "route_publish");  // the fetch completes before t/0 reaches B
    EXPECT_LINES(net.take(), {x2.at("connack sp=1 rc=0"),
                              x2.at("deliver t/0 'once' qos=2 retain=0 dup=0 id=1")});
    net.run();  // now t/0 reaches B
    EXPECT_LINES(net.take(), {});
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
