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
// With an ACL (set_acl, --acl-file) it also checks every PUBLISH, will,
// SUBSCRIBE filter and delivery against the client's rules (acl.cpp).
//
// In a cluster (router_settings::has_peers) it also forwards accepted
// messages to the peer routers, and moves sessions between routers: a CONNECT
// first fetches the client's session from every live peer (handover.cpp),
// and leave() pushes every persistent session to its new owner. Sessions
// that arrive are completed from the recent message history.
//
// Reliable messages (QoS 1/2, or retained) go to the peers through a
// per-peer outbox (forwarding.cpp), kept in the store until the peer
// acknowledges them (route_ack, sent by a peer after it committed them); a
// client's PUBACK/PUBREC waits until every live peer acknowledged its
// message (or died: its outbox then keeps the message for when it returns).
//
// Single-threaded: only the router thread (router_loop) calls it. Tests drive
// it directly or through router_loop over inproc://.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/acl/rules.hpp"
#include "common/events/events.hpp"
#include "router/journal.hpp"
#include "router/message.hpp"
#include "router/message_history.hpp"
#include "router/retained_store.hpp"
#include "router/session.hpp"
#include "router/session_table.hpp"
#include "router/subscription_tree.hpp"

namespace router {

struct router_settings {
    std::size_t max_queued_messages = 1000;  // per session, QoS 1/2 beyond the window
    std::size_t max_inflight_messages = 20;  // per session, unacknowledged QoS 1/2
    // Payload bytes queued per session and in all sessions; 0: no limit.
    std::uint64_t max_queued_bytes = 0;
    std::uint64_t max_queued_bytes_total = 0;
    // Retained topics kept (updates of a kept topic always pass); 0: no limit.
    std::size_t max_retained_messages = 0;
    // Filters one session may hold; a new one beyond it gets SUBACK 0x80
    // (a filter it holds may always be subscribed again); 0: no limit.
    std::size_t max_subscriptions_per_client = 10'000;
    // A persistent session offline this long is removed (memory and store);
    // 0: never. Counted from its disconnect; the deadline is stored, so it
    // goes on across restarts.
    std::chrono::seconds session_expiry{0};
    std::string router_id = "router";  // origin of the messages this router accepts
    std::uint64_t incarnation = 0;     // of this router process (told in connack)
    bool has_peers = false;            // other routers exist: forward accepted messages to them
    // How long a CONNECT waits for the peers' answers to its session fetch.
    std::chrono::milliseconds fetch_timeout{5000};
    // Recent routed messages kept to complete sessions that arrive from peers.
    std::chrono::milliseconds history_age{60000};
    std::size_t history_count = 200000;
    // Reliable messages kept per peer router until it acknowledges them (a
    // dead peer's outbox grows until it returns); beyond either bound the
    // oldest are dropped (counted). 0: no limit.
    std::size_t max_forward_messages = 100000;
    std::uint64_t max_forward_bytes = 256ull << 20;
};

struct router_counters {
    std::uint64_t messages_received = 0;      // PUBLISH events from clients (and wills)
    std::uint64_t messages_from_peers = 0;    // route_publish events from other routers
    std::uint64_t messages_delivered = 0;     // deliver events sent (first sends, not re-sends)
    std::uint64_t retained_delivered = 0;     // of those, retained messages sent on SUBSCRIBE
    std::uint64_t deliveries_matched = 0;     // deliveries due: matches, and retained on SUBSCRIBE
    std::uint64_t dropped_session_ended = 0;  // queued messages of clean sessions that ended
    std::uint64_t messages_queued = 0;        // put in a session queue
    std::uint64_t dropped_queue_full = 0;     // QoS 1/2 refused by a full session queue
    std::uint64_t dropped_qos0_offline = 0;   // QoS 0 for an offline session (not queued)
    std::uint64_t dropped_queue_bytes = 0;    // QoS 1/2 refused: the session's queued bytes
    std::uint64_t dropped_queue_total = 0;    // QoS 1/2 refused: all sessions' queued bytes
    std::uint64_t retained_refused = 0;       // new retained topics over the limit (not kept)
    std::uint64_t subscriptions_refused = 0;  // new filters over max_subscriptions_per_client
    std::uint64_t sessions_expired = 0;       // persistent sessions removed after the expiry
    std::uint64_t duplicate_qos2 = 0;         // inbound QoS 2 re-sends not routed again
    std::uint64_t wills_published = 0;
    std::uint64_t sessions_taken_over = 0;
    std::uint64_t sessions_fetched = 0;     // received from a peer (asked or pushed)
    std::uint64_t sessions_handed_out = 0;  // given to a peer that asked
    std::uint64_t sessions_pushed = 0;      // pushed to a peer by leave()
    std::uint64_t session_conflicts = 0;    // a session arrived while one existed here
    std::uint64_t handover_gaps = 0;        // arrived sessions the history could not complete
    std::uint64_t connects_refused = 0;     // CONNACK 3: leaving, or lost a contest
    // Acknowledged forwarding between routers (forwarding.cpp).
    std::uint64_t acks_held = 0;           // client PUBACK/PUBRECs that waited for peers
    std::uint64_t forward_resent = 0;      // outbox messages sent again (peer back, or gap)
    std::uint64_t forward_duplicates = 0;  // reliable messages from peers already committed
    std::uint64_t forward_gaps = 0;        // resends asked: a peer's chain had a gap
    std::uint64_t forward_dropped = 0;     // outbox messages dropped: over its bounds
    // Accepted here (clients' PUBLISHes and wills) and sent (first sends), by
    // QoS; bytes are payload bytes.
    std::uint64_t received_by_qos[3] = {0, 0, 0};
    std::uint64_t delivered_by_qos[3] = {0, 0, 0};
    std::uint64_t payload_bytes_received = 0;
    std::uint64_t payload_bytes_delivered = 0;
    std::uint64_t bytes_received_by_qos[3] = {0, 0, 0};
    std::uint64_t bytes_delivered_by_qos[3] = {0, 0, 0};
    // Access control (--acl-file, acl.cpp).
    std::uint64_t acl_publish_denied = 0;    // PUBLISHes and wills refused (acked, not routed)
    std::uint64_t acl_subscribe_denied = 0;  // SUBSCRIBE filters refused (0x80)
    std::uint64_t acl_deliver_denied = 0;    // deliveries refused by the read check (not matched)
    std::uint64_t dropped_acl = 0;           // queued deliveries no longer readable: dropped
};

// What the router holds now (for stats); computed on demand.
struct router_gauges {
    std::size_t sessions_online = 0;   // sessions with a live connection
    std::size_t sessions_offline = 0;  // persistent sessions without one
    std::size_t inflight = 0;          // unacknowledged outbound QoS 1/2, every session
    std::size_t queued = 0;            // waiting in session queues, every session
    std::uint64_t queued_bytes = 0;    // their payload bytes
    std::size_t subscriptions = 0;
    std::size_t retained = 0;
    std::size_t pending_connects = 0;  // CONNECTs waiting for peers' session answers
    std::size_t held_acks = 0;         // client acknowledgements waiting for peers
    std::size_t outbox = 0;            // messages not yet acknowledged by a peer, all peers
};

class router_core {
  public:
    using clock = std::chrono::steady_clock;
    enum class destination : std::uint8_t {
        socket,     // `to` is a ZeroMQ routing id on the router socket (a frontend, or
                    // the peer router whose request this answers)
        all_peers,  // every live peer router
        peer,       // `to` is a peer's router id
    };
    struct outgoing {
        std::string to;
        events::event event;
        destination where = destination::socket;
    };

    explicit router_core(router_settings settings)
        : settings_(std::move(settings)),
          retained_(settings_.has_peers),
          history_(settings_.history_age, settings_.has_peers ? settings_.history_count : 0) {}
    router_core(const router_core&) = delete;
    router_core& operator=(const router_core&) = delete;

    // Handles one event that arrived from routing id `from` (a frontend, or a
    // peer router); appends what must be sent to `out`.
    void handle(const std::string& from, events::event&& e, std::vector<outgoing>& out);

    // A frontend died or restarted: every connection it held ends as lost
    // (wills are published, clean sessions discarded, others go offline).
    void frontend_lost(const std::string& frontend, std::vector<outgoing>& out);
    // How many frontend ids are interned (for tests: they must not pile up).
    std::size_t interned_frontend_ids() const { return frontend_ids_.size(); }

    // ---- cluster membership (router_loop tells what it learns) ----
    // A peer router answers heartbeats (again).
    void peer_up(const std::string& router_id, std::vector<outgoing>& out);
    // A peer router is gone: fetches stop waiting for it.
    void peer_down(const std::string& router_id, std::vector<outgoing>& out);
    // A peer router is leaving: it is no longer a new owner for sessions.
    void peer_leaving(const std::string& router_id);
    // Time passes (the loop calls this often): fetches time out, history expires.
    void tick(clock::time_point now, std::vector<outgoing>& out);
    // This router stops gracefully: its clients' connections are closed
    // (without wills: their sessions live on) and every persistent session is
    // pushed to its owner among the live peers. New CONNECTs get CONNACK 3.
    void leave(std::vector<outgoing>& out);
    // The end of a loop turn, before the loop commits the journal: the
    // route_acks of what peers sent this turn, and the per-origin high-water
    // marks they vouch for (journaled), so they leave only after the commit.
    void end_turn(std::vector<outgoing>& out);
    // Publishes a retained message on this router only (not forwarded to
    // peers): the $SYS topics, which every router computes for itself.
    void publish_local(std::string topic, std::string payload, std::vector<outgoing>& out);
    // Pushed sessions whose receiver has not acknowledged them yet.
    std::size_t unacknowledged_pushes() const { return unacked_pushes_.size(); }
    // The retained set was copied from a peer (or there was none to copy from).
    bool retained_synced() const { return retained_synced_; }
    void mark_retained_synced() { retained_synced_ = true; }
    bool syncing_retained() const { return !sync_from_.empty(); }

    // Durability (journal.hpp). With a store, enable_journal() before
    // anything else, then restore() what the store held; after each batch of
    // events the loop commits journal().take() before it sends their output.
    void enable_journal() { journal_.enable(); }
    // Rebuilds persistent sessions (offline), their queues, in-flight windows
    // and inbound QoS 2 ids, and the retained set from a loaded store; what
    // the store held that makes no sense (entries whose message is missing,
    // unreferenced messages) is repaired in the journal.
    void restore(store::loaded_state&& state);
    journal& journal_of() { return journal_; }
    std::uint64_t hlc() const { return hlc_; }

    // Access control (--acl-file; acl.cpp): the rules enforced from now on
    // (null: none, no checks). Sessions whose client connected here get
    // theirs resolved again, and their queues lose what they may no longer
    // read; other sessions get theirs when their client connects. A router
    // keeps usernames only once it has had an ACL (they cost every session
    // memory): a client that connected before the first set_acl with rules
    // is identified at its next CONNECT (mqtt-router and mqtt-broker load
    // --acl-file before any client connects).
    void set_acl(std::shared_ptr<const acl::rules> rules);
    const acl::rules* acl() const { return acl_.get(); }

    // Introspection (tests, stats).
    const router_counters& counters() const { return counters_; }
    std::size_t session_count() const { return sessions_.size(); }
    std::size_t online_count() const { return sessions_.connections(); }
    std::size_t retained_count() const { return retained_.size(); }
    std::size_t subscription_count() const { return tree_.size(); }
    const session* find_session(std::string_view client_id) const;
    // Walks every session: O(sessions), meant for once a second.
    router_gauges gauges() const;

  private:
    // A CONNECT waiting for the peers' answers to its session fetch.
    struct pending_connect {
        std::uint64_t request = 0;
        std::string frontend;
        events::client_connect connect;
        std::set<std::string> waiting;  // peers that have not answered
        std::optional<events::session_state> found;
        // Later events of this connection (and later CONNECTs with the same
        // client id), replayed in order once the fetch completes.
        std::vector<std::pair<std::string, events::event>> buffered;
        clock::time_point deadline;
        bool aborted = false;  // a peer with a higher id fetches the same client id
        struct answer {
            std::string to;
            std::uint64_t request = 0;
            std::string requester;  // router id
        };
        std::vector<answer> deferred;  // fetches to answer once this completes
    };

    void dispatch(const std::string& from, events::event&& e, bool fetch);
    void on_connect(const std::string& frontend, events::client_connect&& e, bool fetch = true);
    void connect_local(const std::string& frontend, events::client_connect&& e);
    void complete(std::uint64_t request);
    void on_session_fetch(const std::string& from, events::session_fetch&& f);
    void on_session_state(const std::string& from, events::session_state&& e);
    void on_retained_sync_request(const std::string& from, const events::retained_sync_request& r);
    void on_retained_sync(events::retained_sync&& e);
    // Gives the session up to a peer (`requester`): closes its connection (a
    // takeover, will included) and returns its state; found=false if there
    // is none (or it was clean). With a store the session stays there until
    // the requester acknowledges it (session_state_ack).
    events::session_state give_up(const std::string& client_id, const std::string& requester);
    // Tells the router that gave us a fetched session that we hold it.
    void acknowledge_fetched(const events::session_state& state);
    // Adopts a session from a peer (offline) and completes it from history.
    void install(events::session_state&& state);
    // install(), or while leaving, push_to_owner().
    void adopt(events::session_state&& state);
    // Sends the session to its owner among the live peers that are not leaving.
    void push_to_owner(events::session_state&& state);
    // What to answer a fetch: pushed_to if we pushed it away, else give_up().
    events::session_state answer_fetch(const std::string& client_id, const std::string& requester);
    void request_retained_sync();
    void on_publish(const conn_ref& from, events::client_publish&& e);
    void on_ack(const conn_ref& from, const events::client_ack& e);
    void on_subscribe(const conn_ref& from, events::client_subscribe&& e);
    void on_unsubscribe(const conn_ref& from, events::client_unsubscribe&& e);
    void on_disconnect(const conn_ref& from, const events::client_disconnect& e);
    void on_route_publish(const std::string& from, events::route_publish&& e);
    // Stamps a message this router accepted, retains and routes it locally,
    // and forwards it to the peer routers; returns its stamp.
    std::uint64_t accept(std::string topic, std::string payload, std::uint8_t qos, bool retain,
                         std::uint64_t received_us);

    // ---- acknowledged forwarding (forwarding.cpp) ----
    // The unacknowledged reliable messages for one peer, and the chain state.
    struct peer_outbox {
        std::deque<message_ptr> entries;    // ascending stamp
        std::uint64_t bytes = 0;            // their payload bytes
        std::uint64_t acked = 0;            // the highest stamp the peer acknowledged
        std::uint64_t last_sent = 0;        // `prev` of the next send; 0: unknown
        clock::time_point waiting_since{};  // since when the oldest entry waits (or progress)
    };
    // A client acknowledgement waiting for peers to acknowledge `stamp`.
    struct held_ack {
        conn_ref to;
        events::send_ack ack;
        std::uint64_t stamp = 0;
        std::set<std::string> waiting;  // live peers that have not acknowledged it
    };
    // Sends m to the peers: reliable ones through every known peer's outbox.
    void forward(const message_ptr& m);
    void send_forward(const std::string& peer, peer_outbox& ob, const message_ptr& m);
    // Sends `to` its acknowledgement of the message stamped `stamp` once
    // every live peer has acknowledged that stamp (in order: held ones first).
    void acknowledge(const conn_ref& to, events::send_ack ack, std::uint64_t stamp);
    void release_held_acks();
    void on_route_ack(const events::route_ack& a);
    // Sends the outbox again, after `acked` (a peer that came back or found a gap).
    void resend_outbox(const std::string& peer, peer_outbox& ob, std::uint64_t acked);
    void trim_outbox(const std::string& peer, peer_outbox& ob, std::uint64_t acked);
    // A peer that left gracefully: nothing of its outbox is needed any more.
    void forget_outbox(const std::string& peer);
    // False (and asks for a resend) if e is a duplicate or follows a gap.
    // Acknowledgements go back to `from`, the pipe it came on (the origin's
    // link to us works even while ours to it is not up yet).
    bool take_forwarded(const std::string& from, const events::route_publish& e);
    // Sends the outbox again to live peers that acknowledged nothing for a
    // while (an acknowledgement lost with a broken pipe).
    void nudge_outboxes();
    std::uint64_t next_stamp();

    // The session a live connection belongs to (nullptr if unknown or taken over).
    session* session_of(const conn_ref& c);
    void forget_unused_frontend_ids();
    // The interned copy of a frontend id (see conn_ref). Events come in
    // batches from one frontend: the last answer is tried first.
    const std::string* intern(const std::string& frontend) {
        if (last_interned_ == nullptr || *last_interned_ != frontend)
            last_interned_ = &*frontend_ids_.insert(frontend).first;
        return last_interned_;
    }
    // Routes a message to every matching subscriber (live deliveries: RETAIN 0).
    void route(const message_ptr& msg);
    // Emits what route() collected: one event per receiving frontend.
    void emit_fanout(const message_ptr& msg);
    // Delivers to one session at `qos`: sends, queues or drops.
    void deliver(session& s, const message_ptr& msg, std::uint8_t qos, bool retain);
    // Sends one PUBLISH to the session's connection, entering it in flight if QoS > 0.
    // `received_us`: the message's, for a first unqueued delivery (latency),
    // else 0. `seq`: the queued entry's store key when it comes from the queue.
    void send_publish(session& s, const message_ptr& msg, std::uint8_t qos, bool retain,
                      std::uint64_t received_us, std::uint64_t seq);
    // Retains m if it is the topic's newest, and journals that.
    void keep_retained(const message_ptr& m);
    // Moves queued messages into the in-flight window while there is room.
    void pump(session& s);
    // Re-sends the in-flight window (DUP=1, PUBREL) after a session resumed.
    void resend_inflight(session& s);
    void publish_will(session& s);
    // Forgets a session (moved away, or ended); its state goes with it, from
    // the store too unless `keep_in_store` (pushed, until its receiver acks).
    void destroy_session(session& s, bool keep_in_store = false);
    // A clean session ends: its queued messages are dropped (and counted).
    void end_session(session& s);
    // The client went away: the expiry clock starts (and is journaled).
    void went_offline(session& s);
    // Recomputes s.queued_bytes after its queue was replaced; keeps the total.
    void recount_queue(session& s);
    // Removes persistent sessions offline for longer than the expiry.
    void expire_sessions();
    void emit(const conn_ref& to, events::event e);

    // ---- access control (acl.cpp); called only while acl_ is set ----
    // Each returns false (and counts it) when the rules refuse.
    bool acl_may_publish(const session& s, std::string_view topic);
    bool acl_may_subscribe(const session& s, std::string_view filter);
    bool acl_may_deliver(const session& s, const message& m);
    // A refused PUBLISH: not routed, not retained, acknowledged as usual.
    void acl_refuse(const conn_ref& from, const events::client_publish& e);
    // The client connected (s.acl->username set): resolves its rules and drops
    // what its queue may not hold (a session restored from the store, or
    // one offline across a reload).
    void acl_identify(session& s);
    void acl_filter_queue(session& s);

    router_settings settings_;
    router_counters counters_;
    std::shared_ptr<const acl::rules> acl_;  // --acl-file; null: no checks
    // Every frontend id (ZeroMQ routing id) in use, once: conn_refs point
    // into it (node addresses are stable). A restarted or reconnected
    // frontend comes with a new routing id; frontend_lost() drops the ids no
    // conn_ref points to any more (forget_unused_frontend_ids).
    std::unordered_set<std::string> frontend_ids_;
    const std::string* last_interned_ = nullptr;  // in frontend_ids_, or nullptr
    // Every session, by client id, subscriber id and live connection.
    session_table sessions_;
    subscription_tree tree_;
    retained_store retained_;
    journal journal_;
    std::uint64_t queued_bytes_total_ = 0;  // every session's queued_bytes
    clock::time_point next_expiry_check_{};
    subscriber_id next_id_ = 1;
    std::uint64_t hlc_ = 0;                 // hybrid logical clock: ms << 16 | counter
    std::vector<outgoing>* out_ = nullptr;  // valid during handle()
    std::vector<std::pair<subscriber_id, std::uint8_t>> match_scratch_;
    // route()'s first deliveries, sent as one deliver_many per frontend.
    struct fanout_entry {
        const std::string* frontend;  // the receiving connection's (interned)
        events::delivery_target target;
    };
    std::vector<fanout_entry> fanout_;
    bool collecting_ = false;

    // Cluster state.
    clock::time_point now_ = clock::now();
    message_history history_;
    std::set<std::string> peers_;    // live peer routers (fetch targets)
    std::set<std::string> leaving_;  // live peers that are leaving (not new owners)
    std::unordered_map<std::uint64_t, pending_connect> pending_;                // by request
    std::unordered_map<conn_ref, std::uint64_t, conn_ref_hash> pending_conns_;  // -> request
    std::unordered_map<std::string, std::uint64_t> pending_clients_;            // -> request
    std::uint64_t next_request_ = 1;
    bool leaving_self_ = false;
    std::unordered_map<std::string, std::string> pushed_;  // client id -> new owner
    // Sessions pushed away, or handed out on a fetch with a store: client id
    // -> new owner; in our store until it acknowledges.
    std::unordered_map<std::string, std::string> unacked_pushes_;
    bool retained_synced_ = false;
    std::string sync_from_;  // peer asked for its retained set

    // Acknowledged forwarding state (forwarding.cpp).
    std::map<std::string, peer_outbox> outboxes_;  // by peer router id: every peer known
    std::deque<held_ack> held_acks_;
    // Per origin: the highest reliable stamp taken (journaled as hw/<origin>).
    std::unordered_map<std::string, std::uint64_t> taken_hw_;
    struct ack_due {
        std::string to;  // routing id the origin's messages came from
        std::uint64_t stamp = 0;
    };
    std::map<std::string, ack_due> acks_due_;                          // per origin, this turn
    std::unordered_map<std::string, clock::time_point> resend_asked_;  // per origin in a gap
};

}  // namespace router
