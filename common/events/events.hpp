// Events exchanged between the frontend and router tiers over ZeroMQ.
//
// Every ZeroMQ message carries one or more msgpack-encoded envelopes back to
// back (a batch: what a sender had for one peer in one turn):
//     [ protocol_version (uint), kind (uint), body (array) ] ...
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

#include <algorithm>
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

// A batch ends once it holds this many events or bytes (a single larger
// event travels alone). Queues between the tiers are bounded in ZeroMQ
// messages: hwm_for(events) messages hold about that many events.
inline constexpr std::size_t batch_max_events = 32;
inline constexpr std::size_t batch_max_bytes = 32 * 1024;
inline constexpr int hwm_for(std::size_t queue_limit_events) {
    return static_cast<int>(std::max<std::size_t>(queue_limit_events / batch_max_events, 4));
}

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
    // When the frontend read it: microseconds since the Unix epoch (wall
    // clock, so that another process can measure delivery latency); 0 unknown.
    std::uint64_t received_us = 0;
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
    // An empty filter stands for one the frontend refused (topic limits):
    // the router answers 0x80 for it, as for any invalid filter.
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
    // The client_publish's received_us when this is its first, unqueued
    // delivery (the frontend measures latency with it); else 0.
    std::uint64_t received_us = 0;
};

// One receiver of a deliver_many: the connection, the QoS it gets the
// message at and, for QoS 1/2, the packet id the router allocated for it.
struct delivery_target {
    conn_id conn = 0;
    std::uint8_t qos = 0;
    std::uint16_t packet_id = 0;
};

// One routed message for several clients of the same frontend (fan-out): the
// topic and payload travel once, and the frontend encodes the PUBLISH once
// per QoS. Always a first delivery (dup 0), straight from routing.
struct deliver_many {
    std::string topic;
    std::string payload;
    bool retain = false;
    std::uint64_t received_us = 0;  // as in deliver
    std::vector<delivery_target> targets;
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
    std::uint64_t received_us = 0;  // the client_publish's (0 for wills)
    // Reliable messages (QoS 1/2, or retained) form one chain per (origin,
    // receiver): `prev` is the stamp of the previous reliable message the
    // origin sent to this receiver, 0 when it does not know (a restart, or
    // messages it had to drop). A receiver whose last one is older than
    // `prev` missed something and asks for a resend (route_ack).
    std::uint64_t prev = 0;
};

// ---- membership and session handover ----------------------------------

// A router is stopping gracefully (SIGTERM): sent to every frontend and peer
// router before it closes its clients' connections and pushes their sessions
// to their new owners. Receivers stop choosing it as an owner at once.
struct router_leaving {
    std::string router_id;
    std::uint64_t incarnation = 0;
};

// An application message as routers keep it (in a session's queue or window,
// or retained). For a retained entry an empty payload is a deletion marker.
struct stored_message {
    std::string topic;
    std::string payload;
    std::uint8_t qos = 0;  // QoS it was published with
    bool retain = false;
    std::uint64_t stamp = 0;  // hybrid logical clock of `origin`
    std::string origin;
};

// One message of a session's in-flight window. `state`: 0 awaiting PUBACK,
// 1 awaiting PUBREC, 2 awaiting PUBCOMP (then `message` is absent).
struct inflight_message {
    std::uint16_t packet_id = 0;
    std::uint8_t state = 0;
    std::uint8_t qos = 1;  // delivery QoS
    bool retain = false;
    std::optional<stored_message> message;
};

struct queued_message {
    stored_message message;
    std::uint8_t qos = 1;  // delivery QoS
    bool retain = false;
};

// The highest stamp a router has routed from one origin (per-origin streams
// are FIFO with increasing stamps): the receiver of a session replays, from
// its recent history, what the sender had not yet seen.
struct high_water {
    std::string origin;
    std::uint64_t stamp = 0;
};

// A router got a CONNECT for `client_id` and asks every other live router
// to give up the session (closing its connection, if any) before answering.
struct session_fetch {
    std::uint64_t request = 0;  // the requester's id for this fetch
    std::string client_id;
    std::string requester;  // router id
};

// A session moving between routers: the answer to session_fetch (`request`
// echoed; `found` false when the sender has none), or pushed unasked
// (`request` 0) by a leaving router to the session's new owner.
struct session_state {
    std::uint64_t request = 0;
    std::string client_id;
    std::string sender;  // router id
    bool found = false;
    std::vector<subscription> subscriptions;
    std::vector<inflight_message> inflight;  // in send order
    std::vector<queued_message> queue;
    std::vector<std::uint16_t> inbound_qos2;  // ids whose PUBREL has not arrived
    std::uint16_t last_packet_id = 0;
    std::vector<high_water> seen;  // what the sender had routed, per origin
    std::string pushed_to;         // not found here: already pushed to this router
};

// The receiver of a pushed session_state took it over.
struct session_state_ack {
    std::string client_id;
    std::string sender;  // router id of the new owner
};

// A router that starts (or restarts) asks one live peer for its retained set.
struct retained_sync_request {
    std::string requester;
};

// Part of a retained set, in answer to retained_sync_request; `last` ends it.
struct retained_sync {
    std::string sender;
    std::vector<stored_message> messages;
    bool last = false;
};

// A router made every reliable route_publish of `origin` up to `stamp`
// durable (committed to its store, or processed when it has none): sent to
// the origin after the commit. Cumulative. The origin then releases the
// PUBACK/PUBREC it held for those messages and forgets them from its outbox
// for this router. `resend`: the receiver found a gap (a `prev` newer than
// `stamp`) and asks the origin to send again everything after `stamp`.
struct route_ack {
    std::string router_id;  // the receiver that acknowledges
    std::uint64_t stamp = 0;
    bool resend = false;
};

// ---- statistics between routers ---------------------------------------

// A router's own totals (named counters and gauges, e.g. "clients.connected"),
// sent to every peer each $SYS interval, so that each router can publish
// cluster-wide $SYS totals.
struct router_stats {
    std::string router_id;
    std::uint64_t incarnation = 0;
    std::vector<std::pair<std::string, std::uint64_t>> values;
};

// The kind number on the wire is the alternative's index: append only.
using event =
    std::variant<hello, client_connect, client_publish, client_ack, client_subscribe,
                 client_unsubscribe, client_disconnect, connack, deliver, send_ack, suback,
                 unsuback, close_connection, router_hello, route_publish, router_leaving,
                 session_fetch, session_state, session_state_ack, retained_sync_request,
                 retained_sync, router_stats, route_ack, deliver_many>;

// Encodes one event into a self-describing envelope.
std::string encode(const event& e);
// Appends the envelope of `e` to `out` (building a batch).
void encode_to(const event& e, std::string& out);

// Decodes a message that holds exactly one envelope. On malformed input or an
// unknown version/kind returns nullopt and sets ec (errc below); never throws.
std::optional<event> decode(std::string_view bytes, boost::system::error_code& ec);

// Decodes a batch: every envelope in `bytes`, appended to `out` in order.
// Stops at the first bad envelope (ec set; those before it are kept; the
// rest of the message is dropped). Never throws.
void decode_batch(std::string_view bytes, std::vector<event>& out, boost::system::error_code& ec);
// The same into the first elements of `slots` (grown as needed), and returns
// how many it decoded; elements after those are left-overs, not events. A
// deliver or client_publish decoded where the same kind was keeps the
// buffers of its strings (no allocation per event on a hot link).
std::size_t decode_batch_into(std::string_view bytes, std::vector<event>& slots,
                              boost::system::error_code& ec);
// Readies slots for the next decode_batch_into after one that wrote the
// first `written` of them (its count, plus one for the slot a malformed
// envelope stopped in): at most batch_max_events slots stay; of those
// written, a deliver keeps the buffers of its topic and payload up to
// `max_string_bytes` each (a string keeps the largest capacity it ever had),
// any other kind becomes an empty send_ack (a deliver_many's or a suback's
// buffers are let go). Slots after `written` were readied before and are left
// alone, so the kept buffers stay within batch_max_events * 2 * max_string_bytes.
void trim_for_reuse(std::vector<event>& slots, std::size_t written, std::size_t max_string_bytes);

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

// The connection an event is about (0 for the events that name no connection).
conn_id conn_of(const event& e);
const char* name_of(const event& e);

}  // namespace events

namespace boost::system {
template <>
struct is_error_code_enum<events::errc> : std::true_type {};
}  // namespace boost::system
