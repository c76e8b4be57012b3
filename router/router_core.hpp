// The router's decision logic, sans I/O: it consumes events from frontends and
// produces the events to send back (to the frontend that holds each receiver).
//
// It owns every session (by client id), the subscription index, the retained
// store and the connection map (frontend routing id + conn id -> session).
// Rules implemented here: CONNECT/session takeover and session-present,
// clean-session lifetime, QoS 1/2 state in both directions (inbound QoS 2
// exactly once), the in-flight window and the bounded queue, delivery QoS =
// min(publish, subscription), one copy per client for overlapping
// subscriptions (at the highest matching QoS), retained messages, and wills.
//
// Single-threaded: only the router thread (router_loop) calls it. Tests drive
// it directly or through router_loop over inproc://.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/events/events.hpp"
#include "router/message.hpp"
#include "router/retained_store.hpp"
#include "router/session.hpp"
#include "router/subscription_tree.hpp"

namespace router {

struct router_settings {
    std::size_t max_queued_messages = 1000;  // per session, QoS 1/2 beyond the window
    std::size_t max_inflight_messages = 20;  // per session, unacknowledged QoS 1/2
    std::string router_id = "router";        // origin of the messages this router accepts
    std::uint64_t incarnation = 0;           // of this router process (told in connack)
    bool has_peers = false;  // other routers exist: forward accepted messages to them
};

struct router_counters {
    std::uint64_t messages_received = 0;     // PUBLISH events from clients (and wills)
    std::uint64_t messages_delivered = 0;    // deliver events sent (first sends, not re-sends)
    std::uint64_t messages_queued = 0;       // put in a session queue
    std::uint64_t dropped_queue_full = 0;    // QoS 1/2 refused by a full session queue
    std::uint64_t dropped_qos0_offline = 0;  // QoS 0 for an offline session (not queued)
    std::uint64_t duplicate_qos2 = 0;        // inbound QoS 2 re-sends not routed again
    std::uint64_t wills_published = 0;
    std::uint64_t sessions_taken_over = 0;
};

class router_core {
  public:
    struct outgoing {
        std::string frontend;  // ZeroMQ routing id of the frontend; empty: every peer router
        events::event event;
    };

    explicit router_core(router_settings settings)
        : settings_(std::move(settings)), retained_(settings_.has_peers) {}
    router_core(const router_core&) = delete;
    router_core& operator=(const router_core&) = delete;

    // Handles one event from `frontend`; appends what must be sent to `out`.
    void handle(const std::string& frontend, events::event&& e, std::vector<outgoing>& out);

    // A frontend died or restarted: every connection it held ends as lost
    // (wills are published, clean sessions discarded, others go offline).
    void frontend_lost(const std::string& frontend, std::vector<outgoing>& out);

    // Introspection (tests, stats).
    const router_counters& counters() const { return counters_; }
    std::size_t session_count() const { return sessions_.size(); }
    std::size_t online_count() const { return conns_.size(); }
    std::size_t retained_count() const { return retained_.size(); }
    std::size_t subscription_count() const { return tree_.size(); }
    const session* find_session(std::string_view client_id) const;

  private:
    void on_connect(const std::string& frontend, events::client_connect&& e);
    void on_publish(const conn_ref& from, events::client_publish&& e);
    void on_ack(const conn_ref& from, const events::client_ack& e);
    void on_subscribe(const conn_ref& from, events::client_subscribe&& e);
    void on_unsubscribe(const conn_ref& from, events::client_unsubscribe&& e);
    void on_disconnect(const conn_ref& from, const events::client_disconnect& e);
    void on_route_publish(events::route_publish&& e);
    // Stamps a message this router accepted, retains and routes it locally,
    // and forwards it to the peer routers.
    void accept(std::string topic, std::string payload, std::uint8_t qos, bool retain);
    std::uint64_t next_stamp();

    // The session a live connection belongs to (nullptr if unknown or taken over).
    session* session_of(const conn_ref& c);
    // Routes a message to every matching subscriber (live deliveries: RETAIN 0).
    void route(const message_ptr& msg);
    // Delivers to one session at `qos`: sends, queues or drops.
    void deliver(session& s, const message_ptr& msg, std::uint8_t qos, bool retain);
    // Sends one PUBLISH to the session's connection, entering it in flight if QoS > 0.
    void send_publish(session& s, const message_ptr& msg, std::uint8_t qos, bool retain);
    // Moves queued messages into the in-flight window while there is room.
    void pump(session& s);
    // Re-sends the in-flight window (DUP=1, PUBREL) after a session resumed.
    void resend_inflight(session& s);
    void publish_will(session& s);
    void destroy_session(session& s);
    void emit(const conn_ref& to, events::event e);

    router_settings settings_;
    router_counters counters_;
    std::unordered_map<std::string, std::unique_ptr<session>> sessions_;  // by client id
    std::unordered_map<subscriber_id, session*> by_id_;
    // Live connections. A connection whose session was taken over maps to
    // nullptr until its frontend reports it closed.
    std::unordered_map<conn_ref, session*, conn_ref_hash> conns_;
    subscription_tree tree_;
    retained_store retained_;
    subscriber_id next_id_ = 1;
    std::uint64_t hlc_ = 0;                 // hybrid logical clock: ms << 16 | counter
    std::vector<outgoing>* out_ = nullptr;  // valid during handle()
    std::vector<std::pair<subscriber_id, std::uint8_t>> match_scratch_;
};

}  // namespace router
