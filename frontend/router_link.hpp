// The frontend's link to the router tier: one ZeroMQ DEALER per router,
// driven by the frontend's Asio io_context: each socket's ZMQ_FD is watched by
// Asio, then ZMQ_EVENTS is drained, as libzmq requires for edge-triggered use.
// With the router on this thread (link_settings::router_on_this_thread,
// mqtt-broker) nothing is watched: that router's driver has the link read.
//
// Membership. The router set comes from --routers, where every entry may be a
// DNS name standing for several routers (cluster::endpoint_watcher resolves
// them again every discovery interval, on its own thread, and posts each new
// list here). Each endpoint gets a *slot*; slots are never erased nor
// reordered, so their indexes stay valid for frontend_server's owner table.
// An endpoint that leaves DNS is *retired* (no new owners; its socket closes
// once the router is not alive; sessions already on it stay until the router
// closes them or is deemed dead); one that comes back reuses its slot.
// Per slot the link keeps liveness: hello every heartbeat interval,
// router_hello back (with the router's id and incarnation). A router silent for
// the peer timeout, or answering with a new incarnation (restarted), is
// reported through on_lost so the frontend closes the clients it accepted.
// A router that announces router_leaving is excluded from ownership until it
// comes back as a new incarnation or is lost. Two slots that turn out to reach
// the same router (same id and incarnation: a name and an IP) are one: the
// second one's socket is closed while the first one lives.
//
// Ownership: a client's session belongs to the rendezvous winner
// (cluster::rendezvous_owner, shared with the routers) over the ROUTER IDS of
// the slots that are alive, not leaving and not retired.
//
// Batching: events for a router go in one ZeroMQ message per pass of the
// io_context (a posted flush), or sooner when the batch is full; a batch of
// nothing but deferrable acknowledgements waits for company (send()).
//
// Back-pressure: each DEALER's send high-water mark is the queue limit and
// sends never block. An event that would block waits in its slot's FIFO (sent,
// in order, before anything newer once ZMQ_EVENTS shows POLLOUT), and while any
// FIFO is non-empty the link is *paused* (on_pause(true)): the frontend stops
// reading from its clients until every FIFO is empty again (on_pause(false)).
// A lost or retired slot drops its FIFO. Heartbeat hellos never enter a
// non-empty FIFO, nor the FIFO of a router that is not alive.
//
// The routing id is frontend-id/incarnation/socket-number, so a restarted
// frontend (or a fresh socket) is a new peer even while an old pipe lingers.
//
// Owned by frontend_server; used only on the io_context's thread (the
// watcher's thread only posts to it).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "common/cluster/endpoint_resolver.hpp"
#include "common/events/events.hpp"

namespace frontend {

struct link_settings {
    std::chrono::milliseconds heartbeat_interval{1000};
    std::chrono::milliseconds peer_timeout{5000};
    std::chrono::milliseconds discovery_interval{5000};  // re-resolve router names this often
    std::size_t queue_limit = 10000;                     // ZMQ_SNDHWM of each DEALER, in events
    // How long a batch of deferrable acknowledgements waits (router_link::send).
    std::chrono::microseconds ack_delay{1000};
    // The only router runs on this io_context (mqtt-broker, router/io_driver.hpp
    // coupled mode): the link does not watch its sockets' ZMQ_FD. The router's
    // driver calls read_now() after each of its turns, and the link calls the
    // wake_router hook after every send that the after_flush hook does not
    // follow at once.
    bool router_on_this_thread = false;
};

class router_link {
  public:
    struct handlers {
        // An event from a router (router_hello and router_leaving are the link's own).
        std::function<void(events::event&&)> on_event;
        // Router slot `index` died (`survivor` 0) or restarted as incarnation
        // `survivor`: the sessions it accepted before must end.
        std::function<void(std::size_t index, const std::string& why, std::uint64_t survivor)>
            on_lost;
        // true: a FIFO filled, stop reading from clients; false: all drained.
        std::function<void(bool paused)> on_pause;
        // The set of possible owners may have changed (called from a posted
        // handler, never from inside send()).
        std::function<void()> on_membership;
    };

    // `routers`: the --routers specs (endpoints or DNS names). Throws
    // std::runtime_error when there is none.
    router_link(boost::asio::io_context& io, zmq::context_t& zctx, std::string frontend_id,
                std::vector<std::string> routers, link_settings settings, handlers h);
    ~router_link();
    router_link(const router_link&) = delete;
    router_link& operator=(const router_link&) = delete;

    // Resolves the routers (literal endpoints at once, names on the watcher's
    // thread), connects to each and starts the heartbeat.
    void start();
    void stop();

    // The resolved endpoint list: new endpoints get slots, missing ones are
    // retired, returning ones reuse theirs. What the watcher's callback posts;
    // public so tests can change the set as DNS would.
    void set_endpoints(const std::vector<std::string>& endpoints);

    // The slot that owns `client_id`'s session, or nullopt when no router can
    // take it now.
    std::optional<std::size_t> owner_of(std::string_view client_id) const;
    // True while owner_of() has no answer but may soon have one: the first
    // resolution has not arrived, or a slot has not yet answered its first
    // hello nor been silent for the peer timeout.
    bool owner_pending() const;

    // Sends one event to slot `index` (dropped if its socket is closed:
    // retired or duplicate). Never blocks, never drops otherwise. Events are
    // batched: those sent to a slot before the io_context gets back to the
    // link's posted flush (or until a batch is full) go in one ZeroMQ message.
    // A client's PUBACK or PUBCOMP with `may_wait` (its session has nothing
    // waiting in the router) may wait longer: see ack_batch_events (with a
    // router on this thread, only while batches flow: acks_may_wait).
    void send(std::size_t index, const events::event& e, bool may_wait = true);

    // Called after the posted flush sent a slot's light batch (no batch of
    // that slot filled up since the last posted flush, nothing backlogged;
    // never from inside send()), before the link reads that slot's socket
    // right there (with link_settings::router_on_this_thread the router's
    // driver has it read instead). For a router on the same thread
    // (mqtt-broker): it runs the router's turn at once, so the router's
    // answers are read in this same handler instead of two reactor turns
    // later (each turn being every client read that became ready
    // meanwhile). After a pass that filled a batch (under load) the router's
    // turn waits for the next pass instead (see the .cpp).
    void set_after_flush(std::function<void()> f) { after_flush_ = std::move(f); }
    // With link_settings::router_on_this_thread: asks for the router's turn
    // soon (io_driver::wake), after a send that after_flush does not follow.
    void set_wake_router(std::function<void()> f) { wake_router_ = std::move(f); }
    // With link_settings::router_on_this_thread: reads what the routers sent
    // (the router's driver calls it after every turn, with how many messages
    // the router sent: then the link does not ask the socket for more, which
    // would let the inproc pipe sleep; io_driver.hpp). Returns how many
    // ZeroMQ messages it read.
    static constexpr std::size_t no_limit = static_cast<std::size_t>(-1);
    std::size_t read_now(std::size_t limit = no_limit);
    // ZeroMQ messages sent to the routers so far (all slots).
    std::uint64_t messages_sent() const { return messages_sent_; }
    // A batch of nothing but final acknowledgements (a client's PUBACK or
    // PUBCOMP) of sessions with nothing waiting in the router waits about
    // link_settings::ack_delay for an event that cannot wait, or until
    // ack_batch_events of them, and goes with it (with a router on this
    // thread only while batches flow: acks_may_wait). (The router answers
    // such an ack only by moving a queued message into the window; a session
    // with a queue sends its acks at once: frontend_server knows which from
    // the deliveries.)
    static constexpr std::uint32_t ack_batch_events = 16;

    bool paused() const { return paused_; }
    std::size_t router_count() const { return routers_.size(); }
    const std::string& endpoint(std::size_t index) const { return routers_.at(index)->endpoint; }
    // The router id heard on slot `index` ("" before its first router_hello).
    const std::string& router_id(std::size_t index) const { return routers_.at(index)->router_id; }
    bool router_alive(std::size_t index) const { return routers_.at(index)->alive; }
    bool router_leaving(std::size_t index) const { return routers_.at(index)->leaving; }
    bool router_retired(std::size_t index) const { return routers_.at(index)->retired; }
    // False once slot `index` was deemed dead, until it answers again.
    bool router_available(std::size_t index) const { return !routers_.at(index)->lost; }
    // Events waiting in slot `index`'s FIFO (the ZeroMQ queue was full).
    std::size_t backlog(std::size_t index) const { return routers_.at(index)->backlog_events; }
    std::uint64_t malformed_events() const { return malformed_; }

  private:
    using clock = std::chrono::steady_clock;
    static constexpr std::size_t none = static_cast<std::size_t>(-1);

    struct router {
        router(boost::asio::io_context& io, zmq::context_t& zctx, std::string endpoint)
            : endpoint(std::move(endpoint)), socket(zctx, zmq::socket_type::dealer), fd(io) {}
        std::string endpoint;
        zmq::socket_t socket;
        boost::asio::posix::stream_descriptor fd;
        // Batches the DEALER refused (EAGAIN), in order, with their event counts.
        std::deque<std::pair<std::string, std::uint32_t>> backlog;
        std::size_t backlog_events = 0;
        std::string batch;  // events not sent yet (see send())
        std::uint32_t batch_events = 0;
        std::uint32_t batch_urgent = 0;  // of which not deferrable (see send())
        bool flush_scheduled = false;
        bool filled = false;  // a full batch went while the posted flush was pending
        bool open = false;    // socket connected (false: retired or duplicate)
        bool drain_scheduled = false;
        bool alive = false;               // answered hello within the peer timeout
        bool lost = false;                // was deemed dead, until it answers again
        bool leaving = false;             // sent router_leaving (this incarnation)
        bool retired = false;             // no longer in the resolved list
        bool version_mismatch = false;    // logged once
        std::size_t duplicate_of = none;  // slot that reaches the same router
        unsigned generation = 0;          // sockets opened so far for this slot
        std::string router_id;            // from router_hello
        std::uint64_t incarnation = 0;    // 0: never heard from
        clock::time_point last_seen;      // or when the socket was opened
    };

    std::size_t index_of(const router& r) const;
    // (Re)creates r's DEALER, dropping anything still queued in the old one.
    void open_socket(router& r);
    void close_socket(router& r);
    void wait_readable(router& r);
    // Reads slot r's socket (at most `limit` messages unless ZMQ_EVENTS is
    // asked, for a FIFO); returns the messages read.
    std::size_t drain(router& r, std::size_t limit = no_limit);
    void schedule_drain(router& r);
    // After a send: have the answer read (a drain, or with a router on this
    // thread, its turn, which reads it).
    void after_send(router& r);
    // With a router on this thread: its turn soon (the wake_router hook).
    void wake_router();
    // Sends what waits in r's FIFO while the DEALER takes it; returns how many.
    std::size_t flush_backlog(router& r);
    // Sends r's batch (or puts it in the FIFO), then schedules a drain
    // unless the caller drains at once itself.
    void flush_batch(router& r, bool then_drain = true);
    void schedule_flush(router& r);
    // Arms ack_timer_ (once) to flush batches that hold only deferrable acks.
    void defer_flush();
    // Whether a batch of deferrable acks waits (defer_flush) or goes now.
    bool acks_may_wait() const;
    void clear_queues(router& r);
    void receive(router& r, const zmq::message_t& msg);
    void update_pause();
    void heartbeat();
    void send_hello(router& r);
    // r went silent: report, drop its queues, reopen (or close when retired).
    void mark_lost(router& r, const std::string& why);
    // Slots that duplicated r take over again (r is gone).
    void release_duplicates_of(const router& r);
    void on_router_hello(router& r, const events::router_hello& h);
    void on_router_leaving(router& r, const events::router_leaving& l);
    void notify_membership();
    std::string routing_id() const;

    boost::asio::io_context& io_;
    std::string frontend_id_;
    std::vector<std::string> specs_;
    link_settings settings_;
    handlers handlers_;
    std::function<void()> after_flush_;
    std::function<void()> wake_router_;
    std::uint64_t messages_sent_ = 0;
    zmq::context_t& zctx_;
    boost::asio::steady_timer heartbeat_timer_;
    boost::asio::steady_timer ack_timer_;
    bool ack_timer_armed_ = false;
    // With a router on this thread (acks_may_wait): when flush_batch last
    // sent or queued a batch, when it did so before, and how many events
    // the last batch held.
    std::chrono::steady_clock::time_point last_flush_{};
    std::chrono::steady_clock::time_point flush_before_last_{};
    std::uint32_t last_batch_events_ = 0;
    std::uint64_t incarnation_;
    std::vector<std::unique_ptr<router>> routers_;  // slots, in order of discovery
    std::unique_ptr<cluster::endpoint_watcher> watcher_;
    // Expires with the link: handlers posted by the watcher check it.
    std::shared_ptr<int> alive_token_ = std::make_shared<int>(0);
    bool resolved_ = false;  // a first endpoint list arrived
    bool started_ = false;
    bool stopped_ = false;
    bool paused_ = false;
    bool membership_scheduled_ = false;
    unsigned sockets_opened_ = 0;  // numbers each DEALER's routing id
    std::uint64_t malformed_ = 0;
    std::vector<events::event> decoded_;  // receive()'s slots, reused
    // receive() keeps a slot's topic and payload buffers up to this size: at
    // most batch_max_events * 2 * 4 KiB (256 KiB) are kept.
    static constexpr std::size_t kept_slot_bytes = 4 * 1024;
};

}  // namespace frontend
