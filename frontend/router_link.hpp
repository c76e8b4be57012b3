// The frontend's link to the router tier: one ZeroMQ DEALER per router,
// driven by the frontend's Asio io_context (each socket's ZMQ_FD is watched by
// Asio, then ZMQ_EVENTS is drained, as libzmq requires for edge-triggered use).
//
// Each session belongs to one router, its owner, chosen by rendezvous hashing
// of the client id over the configured router endpoints, so every frontend
// sends a client's events to the same router. Per router the link keeps
// liveness: hello every heartbeat interval, router_hello back; a router silent
// for the peer timeout, or answering with a new incarnation (restarted), is
// reported through on_lost so the frontend closes the clients it owned.
//
// The routing id is frontend-id/incarnation, so a restarted frontend is a new
// peer even while its old pipe lingers.
//
// Owned by frontend_server; used only on the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "common/events/events.hpp"

namespace frontend {

struct link_settings {
    std::chrono::milliseconds heartbeat_interval{1000};
    std::chrono::milliseconds peer_timeout{5000};
};

class router_link {
  public:
    using event_handler = std::function<void(events::event&&)>;
    // Router `index` died (`survivor` 0) or restarted as incarnation
    // `survivor`: the sessions it accepted before must end.
    using lost_handler =
        std::function<void(std::size_t index, const std::string& why, std::uint64_t survivor)>;

    router_link(boost::asio::io_context& io, zmq::context_t& zctx, std::string frontend_id,
                std::vector<std::string> endpoints, link_settings settings, event_handler on_event,
                lost_handler on_lost);
    ~router_link();
    router_link(const router_link&) = delete;
    router_link& operator=(const router_link&) = delete;

    // Connects to every router and starts the heartbeat.
    void start();
    // The router that owns `client_id`'s session.
    std::size_t owner_of(std::string_view client_id) const;
    // Sends one event to router `index` (never drops: queues are unbounded for now).
    void send(std::size_t index, const events::event& e);
    void stop();

    std::size_t router_count() const { return routers_.size(); }
    bool router_alive(std::size_t index) const { return routers_.at(index)->alive; }
    // False once router `index` was deemed dead, until it answers again.
    bool router_available(std::size_t index) const { return !routers_.at(index)->lost; }
    std::uint64_t malformed_events() const { return malformed_; }

  private:
    using clock = std::chrono::steady_clock;

    struct router {
        router(boost::asio::io_context& io, zmq::context_t& zctx, std::string endpoint)
            : endpoint(std::move(endpoint)), socket(zctx, zmq::socket_type::dealer), fd(io) {}
        std::string endpoint;
        zmq::socket_t socket;
        boost::asio::posix::stream_descriptor fd;
        bool drain_scheduled = false;
        bool alive = false;
        bool lost = false;              // was alive, then went silent
        bool version_mismatch = false;  // logged once
        unsigned generation = 0;        // sockets opened so far
        std::uint64_t incarnation = 0;  // 0: never heard from
        clock::time_point last_seen;
    };

    // (Re)creates r's DEALER, dropping anything still queued in the old one.
    void open_socket(router& r);
    void wait_readable(router& r);
    void drain(router& r);
    void schedule_drain(router& r);
    void heartbeat();
    void on_router_hello(router& r, const events::router_hello& h);
    std::string routing_id() const;

    boost::asio::io_context& io_;
    std::string frontend_id_;
    link_settings settings_;
    event_handler on_event_;
    lost_handler on_lost_;
    zmq::context_t& zctx_;
    boost::asio::steady_timer heartbeat_timer_;
    std::uint64_t incarnation_;
    std::vector<std::unique_ptr<router>> routers_;  // in --routers order
    bool stopped_ = false;
    std::uint64_t malformed_ = 0;
};

}  // namespace frontend
