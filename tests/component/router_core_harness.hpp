// Test support for the router_core_* suites: a fixture owning one
// router::router_core, a scripted `client` (one frontend connection) that sends
// events into it, and a printer that turns each outgoing event into one line so
// a test asserts the exact events, their order, fields and frontend at once:
//
//     "fe1:7 connack sp=0 rc=0"
//     "fe1:7 deliver a/b 'hi' qos=1 retain=0 dup=0 id=1"
//     "fe2:3 puback id=9"                 (every send_ack kind by name)
//     "fe1:7 suback id=5 [1,128]"
//     "fe1:7 unsuback id=5"
//     "fe1:7 close_connection taken_over"
//
// "fe1:7" is the frontend routing id the event goes to and the event's conn.
// Single-threaded test code.
#pragma once

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/events/events.hpp"
#include "router/router_core.hpp"

namespace router_test {

using lines = std::vector<std::string>;
using events::ack_kind;
using reason = events::disconnect_reason;

inline const char* name(ack_kind k) {
    switch (k) {
        case ack_kind::puback:
            return "puback";
        case ack_kind::pubrec:
            return "pubrec";
        case ack_kind::pubrel:
            return "pubrel";
        case ack_kind::pubcomp:
            return "pubcomp";
    }
    return "ack?";
}

inline const char* name(reason r) {
    switch (r) {
        case reason::graceful:
            return "graceful";
        case reason::connection_lost:
            return "connection_lost";
        case reason::keep_alive_timeout:
            return "keep_alive_timeout";
        case reason::protocol_error:
            return "protocol_error";
        case reason::taken_over:
            return "taken_over";
        case reason::server_shutdown:
            return "server_shutdown";
    }
    return "reason?";
}

// Bytes from a list of byte values (ints so that 'c' and 0xc2 mix).
inline std::string bytes(std::initializer_list<int> values) {
    std::string s;
    for (int v : values) s.push_back(static_cast<char>(static_cast<unsigned char>(v)));
    return s;
}

// Payload bytes, printable ASCII as is, others as \xNN.
inline std::string quoted(const std::string& s) {
    std::string out = "'";
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out + "'";
}

// One outgoing event as a line (see the top of this file).
inline std::string describe(const router::router_core::outgoing& o) {
    using destination = router::router_core::destination;
    std::string s = o.where == destination::all_peers ? std::string(":0 ")
                    : o.where == destination::peer
                        ? "peer " + o.to + ":0 "
                        : o.to + ":" + std::to_string(events::conn_of(o.event)) + " ";
    std::visit(
        [&](const auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, events::connack>) {
                s += "connack sp=" + std::to_string(e.session_present) +
                     " rc=" + std::to_string(e.return_code);
            } else if constexpr (std::is_same_v<T, events::deliver>) {
                s += "deliver " + e.topic + " " + quoted(e.payload) +
                     " qos=" + std::to_string(e.qos) + " retain=" + std::to_string(e.retain) +
                     " dup=" + std::to_string(e.dup) + " id=" + std::to_string(e.packet_id);
            } else if constexpr (std::is_same_v<T, events::send_ack>) {
                s += std::string(name(e.kind)) + " id=" + std::to_string(e.packet_id);
            } else if constexpr (std::is_same_v<T, events::suback>) {
                s += "suback id=" + std::to_string(e.packet_id) + " [";
                for (std::size_t i = 0; i < e.return_codes.size(); ++i) {
                    s += (i ? "," : "") + std::to_string(e.return_codes[i]);
                }
                s += "]";
            } else if constexpr (std::is_same_v<T, events::unsuback>) {
                s += "unsuback id=" + std::to_string(e.packet_id);
            } else if constexpr (std::is_same_v<T, events::close_connection>) {
                s += std::string("close_connection ") + name(e.reason);
            } else if constexpr (std::is_same_v<T, events::router_hello>) {
                s += "router_hello " + e.router_id;
            } else if constexpr (std::is_same_v<T, events::route_publish>) {
                s += "route_publish " + e.origin + " " + e.topic + " " + quoted(e.payload) +
                     " qos=" + std::to_string(e.qos) + " retain=" + std::to_string(e.retain);
            } else if constexpr (std::is_same_v<T, events::session_fetch>) {
                s += "session_fetch " + std::to_string(e.request) + " " + e.client_id;
            } else if constexpr (std::is_same_v<T, events::session_state>) {
                s += "session_state " + std::to_string(e.request) + " " + e.client_id +
                     " found=" + std::to_string(e.found) +
                     " subs=" + std::to_string(e.subscriptions.size()) +
                     " inflight=" + std::to_string(e.inflight.size()) +
                     " queue=" + std::to_string(e.queue.size());
                if (!e.pushed_to.empty()) s += " pushed_to=" + e.pushed_to;
            } else if constexpr (std::is_same_v<T, events::route_ack>) {
                s += "route_ack " + e.router_id + " " + std::to_string(e.stamp) +
                     (e.resend ? " resend" : "");
            } else if constexpr (std::is_same_v<T, events::session_state_ack>) {
                s += "session_state_ack " + e.client_id;
            } else {
                s += std::string("unexpected ") +
                     events::name_of(o.event);  // frontend->router kinds
            }
        },
        o.event);
    return s;
}

// A deliver_many as the deliver events it stands for (one per target, in
// order), so that tests read every delivery the same way; others as they are.
inline std::vector<router::router_core::outgoing> expand(router::router_core::outgoing&& o) {
    std::vector<router::router_core::outgoing> v;
    if (auto* many = std::get_if<events::deliver_many>(&o.event)) {
        for (const auto& t : many->targets)
            v.push_back({o.to,
                         events::deliver{t.conn, many->topic, many->payload, t.qos, many->retain,
                                         false, t.packet_id, many->received_us},
                         o.where});
    } else {
        v.push_back(std::move(o));
    }
    return v;
}

inline std::string join(const lines& l) {
    std::string s = "\n";
    for (const auto& x : l) s += "  " + x + "\n";
    return s;
}

inline lines sorted(lines l) {
    std::sort(l.begin(), l.end());
    return l;
}

// Owns the core under test.
struct fixture {
    explicit fixture(router::router_settings s = {}) : core(s) {}

    // Hands one event to the core; returns what it emitted, in order.
    std::vector<router::router_core::outgoing> handle_raw(const std::string& frontend,
                                                          events::event e) {
        std::vector<router::router_core::outgoing> out;
        core.handle(frontend, std::move(e), out);
        return out;
    }
    lines handle(const std::string& frontend, events::event e) {
        lines l;
        for (auto& o : handle_raw(frontend, std::move(e)))
            for (const auto& x : expand(std::move(o))) l.push_back(describe(x));
        return l;
    }

    router::router_core core;
};

// One client connection on one frontend. Every call returns the core's output.
struct client {
    fixture& f;
    std::string frontend;
    events::conn_id conn;
    std::string client_id;

    lines connect(bool clean = true, std::optional<events::will> will = std::nullopt) {
        return f.handle(frontend,
                        events::client_connect{conn, client_id, clean, 4, 60, "", std::move(will)});
    }
    lines subscribe(std::uint16_t packet_id, std::vector<events::subscription> subs) {
        return f.handle(frontend, events::client_subscribe{conn, packet_id, std::move(subs)});
    }
    lines unsubscribe(std::uint16_t packet_id, std::vector<std::string> filters) {
        return f.handle(frontend, events::client_unsubscribe{conn, packet_id, std::move(filters)});
    }
    lines publish(const std::string& topic, const std::string& payload, std::uint8_t qos = 0,
                  bool retain = false, std::uint16_t packet_id = 0, bool dup = false) {
        return f.handle(frontend,
                        events::client_publish{conn, topic, payload, qos, retain, dup, packet_id});
    }
    lines ack(ack_kind kind, std::uint16_t packet_id) {
        return f.handle(frontend, events::client_ack{conn, kind, packet_id});
    }
    lines puback(std::uint16_t id) { return ack(ack_kind::puback, id); }
    lines pubrec(std::uint16_t id) { return ack(ack_kind::pubrec, id); }
    lines pubrel(std::uint16_t id) { return ack(ack_kind::pubrel, id); }
    lines pubcomp(std::uint16_t id) { return ack(ack_kind::pubcomp, id); }
    lines disconnect(reason r = reason::graceful) {
        return f.handle(frontend, events::client_disconnect{conn, r});
    }

    // "fe1:7 " + rest: an expected line for this connection.
    std::string at(const std::string& rest) const {
        return frontend + ":" + std::to_string(conn) + " " + rest;
    }
    // Connects and requires "connack sp=<session_present> rc=0" alone.
    void connect_ok(bool clean = true, bool session_present = false,
                    std::optional<events::will> will = std::nullopt) {
        const lines got = connect(clean, std::move(will));
        const lines want{at(std::string("connack sp=") + (session_present ? "1" : "0") + " rc=0")};
        BOOST_REQUIRE_EQUAL_COLLECTIONS(got.begin(), got.end(), want.begin(), want.end());
    }
    // Subscribes and requires a suback granting every requested QoS (no retained).
    void subscribe_ok(std::uint16_t packet_id, std::vector<events::subscription> subs) {
        std::string codes;
        for (const auto& s : subs) codes += (codes.empty() ? "" : ",") + std::to_string(s.qos);
        const lines got = subscribe(packet_id, std::move(subs));
        const lines want{at("suback id=" + std::to_string(packet_id) + " [" + codes + "]")};
        BOOST_REQUIRE_EQUAL_COLLECTIONS(got.begin(), got.end(), want.begin(), want.end());
    }
};

}  // namespace router_test

// Asserts the exact output: both lists are joined one line per event, so a
// failure prints everything that was emitted next to what was expected.
#define EXPECT_LINES(got, ...) \
    BOOST_TEST(::router_test::join(got) == ::router_test::join(::router_test::lines __VA_ARGS__))

// The same events in any order (deliveries to different sessions follow the
// subscription index's unspecified order).
#define EXPECT_LINES_ANY_ORDER(got, ...)                          \
    BOOST_TEST(::router_test::join(::router_test::sorted(got)) == \
               ::router_test::join(::router_test::sorted(::router_test::lines __VA_ARGS__)))
