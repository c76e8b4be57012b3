// The frontend's link to the router tier: a ZeroMQ DEALER socket driven by the
// frontend's Asio io_context (the socket's ZMQ_FD is watched by Asio, then
// ZMQ_EVENTS is drained, as libzmq requires for edge-triggered use).
//
// The link's routing id is the frontend id, so a router addresses this
// frontend stably. For now a frontend talks to one router (the first
// endpoint); spreading sessions over several routers is the cluster issue's.
//
// Owned by frontend_server; used only on the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <string>
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
    // The router died (no heartbeat for the timeout) or restarted (new
    // incarnation): the connections it served must end so clients reconnect.
    using lost_handler = std::function<void(const std::string& why)>;

    router_link(boost::asio::io_context& io, zmq::context_t& zctx, std::string frontend_id,
                std::vector<std::string> endpoints, link_settings settings, event_handler on_event,
                lost_handler on_lost);
    ~router_link();
    router_link(const router_link&) = delete;
    router_link& operator=(const router_link&) = delete;

    // Connects and sends hello.
    void start();
    // Sends one event to the router (never drops: the send queue is unbounded for now).
    void send(const events::event& e);
    void stop();

    std::uint64_t malformed_events() const { return malformed_; }
    // True while the router answers heartbeats.
    bool router_alive() const { return router_alive_; }

  private:
    using clock = std::chrono::steady_clock;

    void wait_readable();
    void drain();
    void schedule_drain();
    void heartbeat();
    std::string routing_id() const;
    void on_router_hello(const events::router_hello& h);

    boost::asio::io_context& io_;
    zmq::socket_t socket_;
    boost::asio::posix::stream_descriptor fd_;
    std::string frontend_id_;
    std::vector<std::string> endpoints_;
    link_settings settings_;
    event_handler on_event_;
    lost_handler on_lost_;
    boost::asio::steady_timer heartbeat_timer_;
    std::uint64_t incarnation_;
    std::uint64_t router_incarnation_ = 0;  // 0: never heard from
    clock::time_point router_last_seen_;
    bool router_alive_ = false;
    bool drain_scheduled_ = false;
    bool stopped_ = false;
    std::uint64_t malformed_ = 0;
};

}  // namespace frontend
