// Events exchanged between the frontend and router tiers over ZeroMQ.
//
// Every ZeroMQ message carries one msgpack-encoded envelope:
//     [ protocol_version (uint), kind (uint), body (array) ]
// A receiver refuses an envelope whose version it does not know.
// docs/wire-protocol.md documents each event and its fields.
//
// Connections are named by `conn` (a 64-bit id unique within one frontend);
// a router addresses a frontend by the ZeroMQ routing identity it heard the
// frontend's events from, so every router->frontend event is meant for the
// frontend that receives it and `conn` picks the client there.
//
// Pure data + codec; safe from any thread.
#pragma once

#include <boost/system/error_code.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace events {

inline constexpr std::uint32_t protocol_version = 1;

using conn_id = std::uint64_t;

// ---- frontend -> router -------------------------------------------------

// First event a frontend sends to a router, repeated every heartbeat
// interval. `incarnation` is random per frontend process start: a router that
// sees it change knows the frontend restarted and its old connections are gone.
struct hello {
    std::string frontend_id;
    std::uint32_t protocol_version = events::protocol_version;
    std::uint64_t incarnation = 0;
};

struct will {
    std::string topic;
    std::string payload;
    std::uint8_t qos = 0;
    bool retain = false;
};

// A client passed CONNECT validation and authentication.
struct client_connect {
    conn_id conn = 0;
    std::string client_id;
    bool clean_session = true;
    std::uint8_t protocol_level = 4;
    std::uint16_t keep_alive = 0;
    std::string username;
    std::optional<will> will_message;
};

// A PUBLISH received from a client (topic already validated).
struct client_publish {
    conn_id conn = 0;
    std::string topic;
    std::string payload;
    std::uint8_t qos = 0;
    bool retain = false;
    bool dup = false;
    std::uint16_t packet_id = 0;
};

// Acknowledgement packet types, shared by both directions.
enum class ack_kind : std::uint8_t { puback = 4, pubrec = 5, pubrel = 6, pubcomp = 7 };

// PUBACK/PUBREC/PUBREL/PUBCOMP received from a client.
struct client_ack {
    conn_id conn = 0;
    ack_kind kind = ack_kind::puback;
    std::uint16_t packet_id = 0;
};

struct subscription {
    std::string filter;
    std::uint8_t qos = 0;
};

struct client_subscribe {
    conn_id conn = 0;
    std::uint16_t packet_id = 0;
    std::vector<subscription> subscriptions;
};

struct client_unsubscribe {
    conn_id conn = 0;
    std::uint16_t packet_id = 0;
    std::vector<std::string> filters;
};

// Why a connection ended; everything but `graceful` publishes the will.
enum class disconnect_reason : std::uint8_t {
    graceful = 0,        // client sent DISCONNECT
    connection_lost,     // socket error or peer closed without DISCONNECT
    keep_alive_timeout,  // 1.5 x keep-alive without a packet
    protocol_error,      // client broke the protocol
    taken_over,          // router asked us to close it (another connection took the id)
    server_shutdown,     // the frontend is stopping
};

struct client_disconnect {
    conn_id conn = 0;
    disconnect_reason reason = disconnect_reason::connection_lost;
};

// ---- router -> frontend -------------------------------------------------

struct connack {
    conn_id conn = 0;
    bool session_present = false;
    std::uint8_t return_code = 0;
    // The answering router's incarnation: a frontend that later learns the
    // router restarted closes only the sessions accepted by older ones.
    std::uint64_t router_incarnation = 0;
};

// A PUBLISH the frontend must write to a client.
struct deliver {
    conn_id conn = 0;
    std::string topic;
    std::string payload;
    std::uint8_t qos = 0;
    bool retain = false;
    bool dup = false;
    std::uint16_t packet_id = 0;
};

// An acknowledgement the frontend must write to a client.
struct send_ack {
    conn_id conn = 0;
    ack_kind kind = ack_kind::puback;
    std::uint16_t packet_id = 0;
};

struct suback {
    conn_id conn = 0;
    std::uint16_t packet_id = 0;
    std::vector<std::uint8_t> return_codes;
};

struct unsuback {
    conn_id conn = 0;
    std::uint16_t packet_id = 0;
};

// The router wants this connection closed (session taken over elsewhere).
struct close_connection {
    conn_id conn = 0;
    disconnect_reason reason = disconnect_reason::taken_over;
};

// A router's answer to every hello: its heartbeat. A frontend that sees
// `incarnation` change knows the router restarted and lost its sessions'
// connections; one that hears nothing for the peer timeout deems it dead.
struct router_hello {
    std::string router_id;
    std::uint64_t incarnation = 0;
};

// The kind number on the wire is the index of the alternative below, so this
// order is part of the protocol: append new events at the end only.
// ---- router -> router ---------------------------------------------------

// A message accepted by the router that owns its publisher's session (after
// QoS 2 de-duplication), or a will, forwarded to every other router so each
// delivers it to the sessions it owns. `stamp` (a hybrid logical clock of
// the origin) orders retained updates: the highest (stamp, origin) wins.
struct route_publish {
    std::string origin;  // router id of the sender
    std::uint64_t stamp = 0;
    std::string topic;
    std::string payload;
    std::uint8_t qos = 0;
    bool retain = false;
};

// The kind number on the wire is the alternative's index: append only.
using event = std::variant<hello, client_connect, client_publish, client_ack, client_subscribe,
                           client_unsubscribe, client_disconnect, connack, deliver, send_ack,
                           suback, unsuback, close_connection, router_hello, route_publish>;

// Encodes one event into a self-describing envelope.
std::string encode(const event& e);

// Decodes an envelope. On malformed input or an unknown version/kind returns
// nullopt and sets ec (errc below); never throws.
std::optional<event> decode(std::string_view bytes, boost::system::error_code& ec);

enum class errc {
    ok = 0,
    malformed = 1,     // not a msgpack envelope of the expected shape
    version_mismatch,  // envelope version != protocol_version
    unknown_kind,      // kind not known to this version
};
const boost::system::error_category& events_category();
inline boost::system::error_code make_error_code(errc e) {
    return {static_cast<int>(e), events_category()};
}

// The connection an event is about (0 for hello, router_hello, route_publish).
conn_id conn_of(const event& e);
const char* name_of(const event& e);

}  // namespace events

namespace boost::system {
template <>
struct is_error_code_enum<events::errc> : std::true_type {};
}  // namespace boost::system
