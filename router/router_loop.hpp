// The router process's ZeroMQ loop: a ROUTER socket bound to an endpoint
// (tcp://... for mqtt-router, inproc://... inside mqtt-broker). Frontends'
// DEALERs connect to it; so do the other routers' DEALERs. Each message is
// [routing id, event envelope]; events are decoded and handed to
// router_core, whose outgoing events go back out on this socket (to a
// frontend, or answering a peer's request) or on a peer link.
//
// Peer links: one DEALER per router endpoint (--routers; the list may name
// this router too, and may change: set_endpoints). Over each, a router_hello
// every heartbeat interval; the peer answers with its own, which tells its
// id and incarnation (an answer with our own id and incarnation is this
// router: that link is never used). A link silent for the peer timeout is a
// dead peer. Accepted messages go to every live peer in one FIFO per pair,
// keeping each publisher's order; session fetches/pushes and the retained
// copy use the same links.
//
// Readiness: a router of a cluster answers frontends' hellos (and so gets
// clients) only once it copied the retained set from a peer, or found none
// within the peer timeout.
//
// Back-pressure: the queue towards each frontend is bounded (queue_limit).
// When it is full, events wait in that frontend's backlog here, in order,
// QoS 0 live deliveries to it are shed (counted; retained ones sent on
// SUBSCRIBE wait like the rest), and while a backlog holds more
// than queue_limit events the loop stops reading its socket (so frontends'
// queues fill and they stop reading their clients), except for one batch per
// heartbeat interval, which keeps heartbeats flowing. Links between routers
// are never paused on (two routers waiting on each other would deadlock);
// they are unbounded.
//
// Graceful stop (leave()): router_leaving to every frontend and peer, then
// router_core::leave() pushes the sessions; run() returns once every push is
// acknowledged (or after twice the peer timeout), after a second
// router_leaving to the peers: "gone", so their fetches stop waiting for it.
// stop() ends at once.
//
// Durability (attach_store): the core journals every change of its durable
// state; the loop commits the journal before it sends the output of the
// events that caused it (so PUBACK/PUBREC, SUBACK and CONNACK follow the
// commit), synced per --sync: `always` after every event, `batch` once per
// loop turn (group commit: one sync for all the events read in a turn),
// `none` not at all. A failed commit keeps its batch to retry next turn (in
// order, after store::db::resume()) and withholds the turn's acknowledgements
// (PUBACK/PUBREC/PUBCOMP, SUBACK, UNSUBACK, CONNACK, session_state_ack): MQTT
// 3.1.1 clients re-send on their next connection, a pushing router keeps the
// session; the latest withheld route_ack per peer goes out once the store
// writes again. While the store fails, unwritten batches stay in memory; past
// 64 MiB of them the loop pauses reading frontends as under back-pressure
// (one batch per heartbeat interval), so their clients stop being read.
//
// Stats (docs/stats.md): with cluster_settings::stats_endpoint set, a PUB
// socket bound there gets a snapshot (stats_report.hpp) every stats_interval,
// sent from run(). A stats endpoint that cannot be bound is logged and
// stats stay off: statistics never keep a router from serving.
//
// run() executes on the router thread and owns the sockets and the core;
// stop(), leave() and set_endpoints() may be called from any thread. Instead
// of run(), a caller may drive the loop itself (io_driver.hpp: mqtt-broker
// runs it on its frontend's io_context): wait as next_wait() says for
// socket_fd() to become readable, call turn(), and call it again at once
// while input_pending() (ZMQ_FD is edge-triggered). All of these then run on
// that one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "common/stats/publisher.hpp"
#include "router/router_core.hpp"
#include "router/sys_topics.hpp"
#include "store/db.hpp"
#include "store/sync_policy.hpp"

namespace router {

// This router's place in the cluster.
struct cluster_settings {
    std::string router_id = "router";
    std::chrono::milliseconds peer_timeout{5000};  // a frontend or peer silent this long is dead
    std::chrono::milliseconds heartbeat_interval{1000};
    // Every router's endpoint (this one's may be among them). Non-empty makes
    // this router part of a cluster.
    std::vector<std::string> peers;
    // ZeroMQ high-water mark towards each frontend, in events (0: unbounded).
    std::size_t queue_limit = 10000;
    // PUB endpoint of the stats snapshots (empty: none), and how often.
    std::string stats_endpoint;
    std::chrono::milliseconds stats_interval{1000};
    stats::process_kind stats_kind = stats::process_kind::router;
    // Instead of a socket: each snapshot is handed to this (called on the
    // router thread; mqtt-broker combines it with its frontend's).
    std::function<void(stats::snapshot&&)> stats_sink;
    // $SYS topics (sys_topics.hpp) every this often; 0: none.
    std::chrono::seconds sys_interval{0};
};

struct loop_counters {
    std::uint64_t qos0_shed = 0;       // QoS 0 deliveries dropped: the frontend's queue was full
    std::uint64_t paused_reads = 0;    // loop turns that did not read (back-pressure)
    std::uint64_t backlog_events = 0;  // events that waited in a backlog
    std::uint64_t store_commits = 0;   // batches committed to the store
    std::uint64_t store_failures = 0;  // commits that failed (each retried)
    std::uint64_t acks_withheld = 0;   // PUBACK/PUBREC not sent: the store did not write
};

class router_loop {
  public:
    // Binds immediately so that inproc:// peers may connect before run().
    router_loop(zmq::context_t& ctx, const std::string& endpoint, router_settings settings,
                cluster_settings cluster = {});

    void run();  // blocks until stop(), or until leave() completed
    // One pass of run(): timers, peer links, what the socket holds (up to
    // 1024 messages), the commit and the flush. Never blocks; false once the
    // loop has ended (stop(), or leave() completed).
    bool turn();
    struct wait_plan {
        bool read;                          // wait for the socket (false: paused by back-pressure)
        std::chrono::milliseconds timeout;  // call turn() after this at the latest
    };
    wait_plan next_wait() const;
    // The socket's ZMQ_FD (readable when ZMQ_EVENTS may have changed), and
    // whether messages wait on it now. That is known without asking libzmq
    // (a ZMQ_EVENTS query costs two system calls) when the turn's last
    // receive found the socket empty and nothing was sent on it since: that
    // receive took every command libzmq had for the socket, so the next one
    // makes ZMQ_FD readable.
    int socket_fd() const;
    bool input_pending() const;
    // For a driver whose frontend is the socket's only peer, on the same
    // thread (io_driver's coupled mode): whether the last turn read all there
    // was, or all it was told of (false: it stopped at its cap, or was
    // paused), and whether replies wait for a frontend to make room.
    bool read_to_end() const { return read_to_end_; }
    bool backlogged() const { return backlog_total_ > 0; }
    // The same driver knows how many messages its frontend sent: the next
    // turn reads at most `messages` and then stops without a receive that
    // finds the socket empty. Such a receive lets the inproc pipe sleep, and
    // the frontend's next send must wake it with a command: an eventfd write,
    // and here a poll, a read and another poll. Read that way, the pipe
    // stays awake between turns. Applies to the next turn only.
    void set_read_limit(std::size_t messages) { read_limit_ = messages; }
    // Messages the last turn read, and whether one of its receives found the
    // socket empty (then there was less than announced: nothing is left).
    std::size_t last_reads() const { return last_reads_; }
    bool take_socket_emptied() { return std::exchange(socket_emptied_, false); }
    // Messages sent on the socket so far (to every frontend).
    std::uint64_t messages_sent() const { return messages_sent_; }
    bool has_peers() const { return !peers_.empty() || !cluster_.peers.empty(); }
    void stop();   // thread-safe: ends run() at once
    void leave();  // thread-safe: hand the sessions over, then end run()
    // Thread-safe: the peer endpoints now (e.g. after re-resolving a DNS name).
    void set_endpoints(std::vector<std::string> endpoints);
    // Before run(): keep the durable state in `db`, starting from what it
    // holds. Throws std::runtime_error (one line) if it cannot be read.
    void attach_store(std::unique_ptr<store::db> db, store::sync_policy sync);
    // Access control (--acl-file, common/acl; acl_reload.cpp). Before run():
    // loads FILE and enforces it; false with `error` (one line naming the
    // file and line) if it does not load. An empty path: no ACL, no checks.
    bool load_acl(const std::string& path, std::string& error);
    // Async-signal-safe (SIGHUP): the loop reads the ACL file again at its
    // next turn; a file that does not load logs one error and the rules in
    // force stay. Connections are kept either way.
    void request_reload() { reload_requested_.store(true, std::memory_order_relaxed); }

    const router_core& core() const { return core_; }
    std::uint64_t malformed_events() const { return malformed_; }
    bool ready() const { return ready_.load(); }
    const loop_counters& counters() const { return counters_; }
    // The bound stats endpoint (the port chosen for tcp://HOST:*), or empty.
    // Fixed at construction: safe from any thread.
    std::string stats_endpoint() const { return stats_ ? stats_->endpoint() : std::string(); }

  private:
    using clock = std::chrono::steady_clock;
    struct frontend_peer {
        std::string frontend_id;
        std::uint64_t incarnation = 0;
        clock::time_point last_seen;
    };
    struct peer_link {
        peer_link(zmq::context_t& ctx, std::string endpoint)
            : endpoint(std::move(endpoint)), socket(ctx, zmq::socket_type::dealer) {}
        std::string endpoint;
        zmq::socket_t socket;
        std::string router_id;  // from its answer
        std::uint64_t incarnation = 0;
        bool alive = false;
        bool self = false;     // the answer came from this router
        bool retired = false;  // no longer among the endpoints
        bool duplicate_logged = false;
        clock::time_point last_seen;
        unsigned generation = 0;
    };

    void open(peer_link& p);
    void apply_endpoints();
    void heartbeat(clock::time_point now);
    void handle_message(zmq::message_t& identity, zmq::message_t& body);
    void handle_event(const std::string& from, events::event&& e);
    void handle_peer_message(peer_link& p, zmq::message_t& body);
    // Decodes a message's batch of events into decoded_ (cleared first).
    void decode(const zmq::message_t& body, const std::string& from);
    void on_hello(const std::string& frontend, const events::hello& h);
    void on_peer_answer(peer_link& p, const events::router_hello& h);
    void peer_lost(peer_link& p, const char* why);
    bool other_live_link(const peer_link& p) const;
    // Ends the connections of frontends silent for longer than the timeout.
    void expire_frontends();
    void update_ready(clock::time_point now);
    void begin_leave();
    void flush();
    // Sends this router's $SYS share to the peers and publishes the totals.
    void publish_sys(clock::time_point now);
    // One ZeroMQ message being built for a routing id on the socket: events
    // in order, each marked sheddable (a live QoS 0 delivery) or not.
    struct batch {
        std::string to;
        std::string bytes;
        std::vector<std::pair<std::uint32_t, bool>> parts;  // (end offset, sheddable)
    };
    // Sends a batch to its routing id on the socket, or keeps it in its
    // backlog (without its sheddable events) when the queue there is full.
    void send_batch(batch& b);
    void flush_backlogs();
    void drop_backlog(const std::string& to);
    bool must_pause() const;
    void send_to_peer(peer_link& p, const std::string& bytes);
    void publish_stats(clock::time_point now);
    // Commits what the core journaled (see the top); false while the store
    // does not write.
    bool persist();
    void reload_acl();  // request_reload()'s work, on the router thread

    zmq::context_t& ctx_;
    std::uint64_t incarnation_;  // random per process; first, as core_ is told it
    zmq::socket_t socket_;
    router_core core_;
    std::vector<router_core::outgoing> out_;
    cluster_settings cluster_;
    std::vector<std::unique_ptr<peer_link>> peers_;
    std::unordered_map<std::string, frontend_peer> frontends_;  // by routing id
    std::unordered_set<std::string> leaving_peers_;  // "id/incarnation" that said router_leaving
    std::unordered_set<std::string> mismatched_;     // peers of another protocol version (logged)
    std::atomic<bool> stopping_{false};
    std::atomic<bool> leave_requested_{false};
    std::atomic<bool> ready_{false};
    std::atomic<bool> reload_requested_{false};
    std::string acl_file_;  // --acl-file; empty: none
    bool leaving_ = false;
    // The last receive on socket_ came back empty, and no send followed.
    bool input_drained_ = false;
    bool read_to_end_ = false;  // the last turn read all there was, or all announced
    static constexpr std::size_t no_read_limit = static_cast<std::size_t>(-1);
    std::size_t read_limit_ = no_read_limit;  // set_read_limit(), for the next turn
    std::size_t last_reads_ = 0;
    bool socket_emptied_ = false;
    std::uint64_t messages_sent_ = 0;
    clock::time_point started_ = clock::now();
    clock::time_point next_heartbeat_ = clock::now();
    clock::time_point leave_deadline_;
    std::mutex endpoints_mutex_;
    std::optional<std::vector<std::string>> new_endpoints_;  // guarded by endpoints_mutex_
    std::atomic<bool> endpoints_changed_{false};             // new_endpoints_ was set
    std::uint64_t malformed_ = 0;
    sys_totals sys_;  // the latest share of each live peer
    clock::time_point next_sys_ = clock::now();
    loop_counters counters_;
    struct backlog {
        std::deque<std::pair<std::string, std::uint32_t>> batches;  // (bytes, events)
        std::size_t events = 0;
    };
    std::unordered_map<std::string, backlog> backlogs_;  // by routing id
    std::size_t backlog_total_ = 0;                      // events, every backlog
    std::vector<batch> batches_;                         // flush()'s, kept from turn to turn
    std::size_t batches_used_ = 0;                       // of batches_, this turn's
    std::string from_;                                   // handle_message()'s, reused
    std::vector<std::pair<peer_link*, std::string>> peer_batches_;  // flush()'s, reused
    std::vector<events::event> decoded_;                            // decode()'s, reused
    clock::time_point last_read_ = clock::now();
    clock::time_point last_shed_log_{};
    std::optional<stats::publisher> stats_;
    clock::time_point next_stats_ = clock::now();
    std::uint64_t stats_sequence_ = 0;
    std::unique_ptr<store::db> store_;
    store::sync_policy sync_ = store::sync_policy::batch;
    std::deque<store::batch> unwritten_;  // failed commits, oldest first
    std::size_t unwritten_bytes_ = 0;
    // Beyond this many bytes of unwritten batches the loop reads frontends
    // only once per heartbeat interval (as under back-pressure).
    static constexpr std::size_t max_unwritten_bytes = 64u << 20;
    // The latest route_ack per origin (by the routing id it goes to) not
    // sent while the store failed.
    std::unordered_map<std::string, events::route_ack> withheld_route_acks_;
    std::uint64_t persisted_hlc_ = 0;
    bool store_failing_ = false;
    clock::time_point last_store_log_{};
    clock::time_point last_resume_{};
};

}  // namespace router
