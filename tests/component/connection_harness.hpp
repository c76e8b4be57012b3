// Test support for the connection_* suites: a fake authenticator (user "u",
// password "p"), a harness owning one frontend::connection driven with fake
// time points, byte helpers, and the client packets several suites share,
// written by hand as annotated bytes (never produced by the encoder).
//
// Single-threaded test code.
#pragma once

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>

#include "common/events/events.hpp"
#include "frontend/connection.hpp"

// Printers so BOOST_TEST can show these enums (found by ADL).
namespace frontend {
inline std::ostream& boost_test_print_type(std::ostream& os, connection_state s) {
    static const char* const names[] = {"awaiting_connect", "awaiting_connack", "connected",
                                        "closing", "closed"};
    return os << names[static_cast<int>(s)];
}
}  // namespace frontend
namespace events {
inline std::ostream& boost_test_print_type(std::ostream& os, disconnect_reason r) {
    return os << "disconnect_reason(" << static_cast<int>(r) << ")";
}
}  // namespace events

namespace connection_test {

using namespace std::chrono_literals;
using frontend::clock;
using frontend::connection;
using frontend::connection_settings;
using frontend::connection_state;
using reason = events::disconnect_reason;

// ---- bytes --------------------------------------------------------------

// Wire bytes from a list of byte values (ints so that 'c' and 0xc2 mix).
inline std::string bytes(std::initializer_list<int> values) {
    std::string s;
    for (int v : values) s.push_back(static_cast<char>(static_cast<unsigned char>(v)));
    return s;
}

// "20 02 00 00": readable in failure messages.
inline std::string hex(std::string_view s) {
    std::string out;
    char buf[4];
    for (unsigned char c : s) {
        std::snprintf(buf, sizeof buf, out.empty() ? "%02x" : " %02x", c);
        out += buf;
    }
    return out;
}

// ---- fake authenticator ---------------------------------------------------

class fake_auth final : public frontend::auth::authenticator {
  public:
    frontend::auth::result check(std::optional<std::string_view> username,
                                 std::optional<std::string_view> password) const override {
        ++calls;
        if (!username || !password) return frontend::auth::result::missing_credentials;
        if (*username == "u" && *password == "p") return frontend::auth::result::accepted;
        return frontend::auth::result::bad_credentials;
    }
    mutable int calls = 0;
};

// ---- time ---------------------------------------------------------------

// An arbitrary fake "now" at which every harness is created.
inline const clock::time_point t0 = clock::time_point{} + 1000h;

// ---- client packets -------------------------------------------------------

// CONNECT "c", user "u", password "p", clean session, keep-alive 60 s.
inline const std::string connect_u_p = bytes({
    0x10, 0x13,                      // CONNECT, remaining length 19
    0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
    0x04,                            // protocol level 4 (3.1.1)
    0xc2,                            // flags: username, password, clean session
    0x00, 0x3c,                      // keep alive 60 s
    0x00, 0x01, 'c',                 // client id "c"
    0x00, 0x01, 'u',                 // username "u"
    0x00, 0x01, 'p',                 // password "p"
});

// connect_u_p with another keep-alive: bytes 10 and 11 are its MSB and LSB.
inline std::string connect_with_keep_alive(std::uint16_t seconds) {
    std::string p = connect_u_p;
    p[10] = static_cast<char>(seconds >> 8);
    p[11] = static_cast<char>(seconds & 0xff);
    return p;
}

inline const std::string pingreq = bytes({0xc0, 0x00});     // PINGREQ, remaining length 0
inline const std::string disconnect = bytes({0xe0, 0x00});  // DISCONNECT, remaining length 0

// SUBSCRIBE id 10: "a/+" QoS 1, "b/#" QoS 2.
inline const std::string subscribe_10 = bytes({
    0x82, 0x0e,                 // SUBSCRIBE (flags 0010), remaining length 14
    0x00, 0x0a,                 // packet id 10
    0x00, 0x03, 'a', '/', '+',  // filter "a/+"
    0x01,                       // requested QoS 1
    0x00, 0x03, 'b', '/', '#',  // filter "b/#"
    0x02,                       // requested QoS 2
});

// PUBLISH QoS 1, DUP, RETAIN, "a/b", id 7, payload "xyz".
inline const std::string publish_q1 = bytes({
    0x3b, 0x0a,                 // PUBLISH, flags dup=1 qos=1 retain=1, remaining length 10
    0x00, 0x03, 'a', '/', 'b',  // topic "a/b"
    0x00, 0x07,                 // packet id 7
    'x', 'y', 'z',              // payload "xyz"
});

// ---- expected server packets ------------------------------------------------

inline const std::string connack_accepted = bytes({0x20, 0x02, 0x00, 0x00});  // CONNACK sp=0 rc=0
inline const std::string pingresp = bytes({0xd0, 0x00});                      // PINGRESP

// ---- harness --------------------------------------------------------------

inline constexpr events::conn_id test_conn = 42;

struct harness {
    explicit harness(connection_settings s = {}, events::conn_id id = test_conn)
        : settings(std::move(s)), conn(std::make_unique<connection>(id, env, t0)) {}

    connection::output feed(std::string_view b, clock::time_point now = t0) {
        conn->on_bytes(b, now);
        return conn->take_output();
    }
    connection::output router(const events::event& e, clock::time_point now = t0) {
        conn->on_router_event(e, now);
        return conn->take_output();
    }
    connection::output timer(clock::time_point now) {
        conn->on_timer(now);
        return conn->take_output();
    }
    connection::output transport_closed() {
        conn->on_transport_closed();
        return conn->take_output();
    }
    connection::output shutdown() {
        conn->on_shutdown();
        return conn->take_output();
    }

    // CONNECT accepted by the frontend and the router (CONNACK 0 checked).
    void establish(const std::string& connect = connect_u_p, clock::time_point now = t0) {
        auto out = feed(connect, now);
        BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
        BOOST_REQUIRE(std::holds_alternative<events::client_connect>(out.events[0]));
        out = router(events::connack{conn->id(), false, 0}, now);
        BOOST_REQUIRE_EQUAL(hex(out.bytes), hex(connack_accepted));
        BOOST_REQUIRE(conn->state() == connection_state::connected);
    }

    fake_auth auth;
    connection_settings settings;
    connection::output output;  // what conn's calls produce, until taken
    connection::environment env{settings, auth, output};
    std::unique_ptr<connection> conn;
};

// ---- event assertions -----------------------------------------------------

template <class T>
const T& as(const events::event& e) {
    const T* p = std::get_if<T>(&e);
    BOOST_REQUIRE_MESSAGE(p, "unexpected event alternative #" << e.index());
    return *p;
}

inline int count_disconnects(const connection::output& out) {
    int n = 0;
    for (const auto& e : out.events) n += std::holds_alternative<events::client_disconnect>(e);
    return n;
}

// The output closes the connection and forwards exactly client_disconnect{r}.
inline void expect_closed_with(const connection::output& out, reason r,
                               const std::string& bytes_hex = "") {
    BOOST_TEST(out.close);
    BOOST_TEST(hex(out.bytes) == bytes_hex);
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    const auto& d = as<events::client_disconnect>(out.events[0]);
    BOOST_TEST(d.conn == test_conn);
    BOOST_TEST(static_cast<int>(d.reason) == static_cast<int>(r));
}

// The output closes the connection, forwarding nothing (the router never knew it).
inline void expect_closed_silently(const connection::output& out,
                                   const std::string& bytes_hex = "") {
    BOOST_TEST(out.close);
    BOOST_TEST(hex(out.bytes) == bytes_hex);
    BOOST_TEST(out.events.empty());
}

}  // namespace connection_test
