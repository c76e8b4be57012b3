// Test support for suites that wire several router_core instances together
// by hand (router_core_handover, router_core_forwarding), sans I/O.
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
// Like router_loop, every call into a core ends its turn (end_turn: the
// route_acks of what peers sent). Single-threaded test code.
#pragma once

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/component/router_core_harness.hpp"

namespace router_test {

using router::router_core;
using destination = router_core::destination;

// A router->router event not delivered yet.
struct in_transit {
    std::string sender;  // router id
    std::string to;      // router id
    std::string from;    // the routing id the receiver sees
    events::event event;
};

// "b>a session_fetch 2 X": sender, receiver and the event.
inline std::string describe(const in_transit& t) {
    std::string s = t.sender + ">" + t.to + " ";
    if (const auto* r = std::get_if<events::retained_sync>(&t.event))
        return s + "retained_sync n=" + std::to_string(r->messages.size()) +
               " last=" + std::to_string(r->last);
    if (std::holds_alternative<events::retained_sync_request>(t.event))
        return s + "retained_sync_request";
    if (const auto* a = std::get_if<events::route_ack>(&t.event))  // stamps vary: not shown
        return s + "route_ack " + a->router_id + (a->resend ? " resend" : "");
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

    // Forgets the first matching event in transit; false if none.
    bool drop_first(const std::string& sender, const std::string& to, const std::string& kind) {
        for (auto it = wire_.begin(); it != wire_.end(); ++it) {
            if (matches(*it, sender, to, kind)) {
                wire_.erase(it);
                return true;
            }
        }
        return false;
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
        core(x).end_turn(out);
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
                for (const auto& x : router_test::expand(std::move(o)))
                    frontends_.push_back(sender + "> " + router_test::describe(x));
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

}  // namespace router_test
