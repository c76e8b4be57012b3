// One MQTT session as the router holds it: subscriptions, outbound QoS 1/2
// state (in-flight window and offline/overflow queue), inbound QoS 2 packet
// ids awaiting PUBREL, and the will of the current connection.
//
// The outbound side follows Mosquitto's explicit states: a message is either
// queued, or in flight awaiting PUBACK (QoS 1), PUBREC (QoS 2) or PUBCOMP
// (QoS 2 after PUBREL was sent). In-flight entries are kept in send order so
// a resumed session re-sends them in order.
//
// Owned by router_core on the router thread; no locking.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/events/events.hpp"
#include "common/util/intrusive_index.hpp"
#include "common/util/lazy_deque.hpp"
#include "common/util/lazy_map.hpp"
#include "router/message.hpp"
#include "router/packet_id_set.hpp"
#include "router/subscription_tree.hpp"

namespace acl {
class client_rules;
}

namespace router {

// Where a connected client lives: the frontend's ZeroMQ routing id and the
// frontend's connection id. The id is interned by router_core (one string
// per frontend, router_core::intern), so equal ids are equal pointers and a
// connection costs no copy of it.
struct conn_ref {
    const std::string* frontend = nullptr;
    events::conn_id conn = 0;
    bool operator==(const conn_ref&) const = default;
};

// A conn_ref or nothing, in the conn_ref's 16 bytes (std::optional adds 8):
// empty is a null frontend. The subset of std::optional's interface sessions use.
class optional_conn {
  public:
    optional_conn() = default;
    optional_conn& operator=(const conn_ref& c) {
        c_ = c;
        return *this;
    }
    bool has_value() const { return c_.frontend != nullptr; }
    explicit operator bool() const { return has_value(); }
    // Only when has_value().
    const conn_ref& operator*() const { return c_; }
    const conn_ref* operator->() const { return &c_; }
    void reset() { c_ = conn_ref{}; }

  private:
    conn_ref c_;
};

struct conn_ref_hash {
    std::size_t operator()(const conn_ref& c) const noexcept {
        return std::hash<const std::string*>{}(c.frontend) ^
               (std::hash<events::conn_id>{}(c.conn) * 31);
    }
};

enum class outbound_state : std::uint8_t {
    awaiting_puback,   // QoS 1 PUBLISH sent
    awaiting_pubrec,   // QoS 2 PUBLISH sent
    awaiting_pubcomp,  // QoS 2 PUBREC received, PUBREL sent
};

struct inflight_entry {
    std::uint16_t packet_id = 0;
    outbound_state state = outbound_state::awaiting_puback;
    std::uint8_t qos = 1;  // delivery QoS
    bool retain = false;
    message_ptr msg;        // released once PUBREC arrives (only PUBREL remains)
    std::uint64_t seq = 0;  // its key in the store (journal.hpp); 0 if not stored
};

struct queued_entry {
    message_ptr msg;
    std::uint8_t qos = 1;  // delivery QoS
    bool retain = false;
    std::uint64_t seq = 0;  // its key in the store (journal.hpp); 0 if not stored
};

struct acl_identity {
    std::string username;
    std::shared_ptr<const acl::client_rules> rules;
};

// Per origin router, the highest stamp routed into a session (session::floor()).
using floor_map = std::unordered_map<std::string, std::uint64_t>;

struct session {
    std::string client_id;
    subscriber_id id = 0;
    optional_conn conn;  // empty while the client is offline
    // These three allocate only once used (lazy_map.hpp, lazy_deque.hpp):
    // most sessions are idle, and most never subscribe.
    util::lazy_map<std::string, std::uint8_t> subscriptions;  // filter -> granted QoS
    util::lazy_deque<inflight_entry> inflight;                // in send order
    util::lazy_deque<queued_entry> queue;  // waiting for the window or for the client
    packet_id_set inbound_qos2;            // ids whose PUBREL has not arrived (packet_id_set.hpp)
    std::uint16_t last_packet_id = 0;
    bool clean = true;               // (here, beside last_packet_id: 8 bytes fewer than after id)
    bool connected_here = false;     // its client connected to this router (see acl)
    std::uint64_t next_seq = 1;      // of the next outbound entry written to the store
    std::uint64_t queued_bytes = 0;  // payload bytes in `queue`
    std::chrono::steady_clock::time_point offline_since{};  // when conn last went away
    std::uint64_t expiry_deadline_ms = 0;  // offline with --session-expiry: wall-clock ms, else 0
    // With --acl-file only (out of line: without one it is not needed, and
    // a session holds 8 bytes instead of 48): the username of its latest
    // CONNECT here ("" for none) and the rules resolved from it (acl.cpp).
    // Set once its client connected here (connected_here), not for a
    // session restored from the store, or moved here from a peer, until its
    // client connects.
    std::unique_ptr<acl_identity> acl;
    // What few sessions have, out of line together (one pointer, freed when
    // both are gone): a will (most clients have none) and a floor.
    struct rare_parts {
        std::optional<events::will> will;
        std::unique_ptr<floor_map> floor;
    };
    std::unique_ptr<rare_parts> rare_;  // use the accessors below (session.cpp)
    // session_table's links: by client_id, by id, and (while connected) by conn.
    util::index_hook by_client_id_link, by_id_link, by_conn_link;

    bool online() const { return conn.has_value(); }

    // The will of the current connection, or nullptr.
    const events::will* will() const { return rare_ && rare_->will ? &*rare_->will : nullptr; }
    void set_will(std::optional<events::will>&& w);
    // The will, taken (nullopt if none).
    std::optional<events::will> take_will();
    // After a move from another router: per origin, the highest stamp that
    // router had already routed into this session. Those messages may still
    // reach this router late; they are not delivered again. An entry goes
    // once a newer message of its origin passed. nullptr: none (most).
    floor_map* floor() { return rare_ ? rare_->floor.get() : nullptr; }
    floor_map& make_floor();
    void drop_floor();

    // The next packet id not used by an in-flight message (never 0).
    std::uint16_t next_packet_id();
    // The in-flight entry with this id, or inflight.end().
    util::lazy_deque<inflight_entry>::iterator find_inflight(std::uint16_t packet_id);
};

}  // namespace router
