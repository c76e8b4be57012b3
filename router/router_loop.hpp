// The router process's ZeroMQ loop: a ROUTER socket bound to an endpoint
// (tcp://... for mqtt-router, inproc://... inside mqtt-broker). Each message
// is [frontend routing id, event envelope]; events are decoded, handed to
// router_core, and its outgoing events are sent back to their frontends.
// Messages the core accepts are also sent to every peer router through one
// DEALER per peer (one FIFO per pair keeps each publisher's order); peers'
// route_publish events arrive on the ROUTER socket like frontend events.
//
// run() executes on the router thread and owns the socket and the core;
// stop() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>
#include <zmq.hpp>

#include "router/router_core.hpp"

namespace router {

// This router's place in the cluster.
struct cluster_settings {
    std::string router_id = "router";
    std::chrono::milliseconds peer_timeout{5000};  // a frontend silent this long is dead
    // Every router's endpoint (this one's may be among them): messages this
    // router accepts are forwarded to each, as route_publish.
    std::vector<std::string> peers;
};

class router_loop {
  public:
    // Binds immediately so that inproc:// peers may connect before run().
    router_loop(zmq::context_t& ctx, const std::string& endpoint, router_settings settings,
                cluster_settings cluster = {});

    void run();   // blocks until stop()
    void stop();  // thread-safe

    const router_core& core() const { return core_; }
    std::uint64_t malformed_events() const { return malformed_; }

  private:
    using clock = std::chrono::steady_clock;
    struct frontend_peer {
        std::string frontend_id;
        std::uint64_t incarnation = 0;
        clock::time_point last_seen;
    };

    void handle_message(zmq::message_t& identity, zmq::message_t& body);
    void on_hello(const std::string& frontend, const events::hello& h);
    // Ends the connections of frontends silent for longer than the timeout.
    void expire_frontends();
    void flush();

    std::uint64_t incarnation_;  // random per process; first, as core_ is told it
    zmq::socket_t socket_;
    router_core core_;
    std::vector<router_core::outgoing> out_;
    cluster_settings cluster_;
    std::vector<zmq::socket_t> peers_;                          // DEALERs to the other routers
    std::unordered_map<std::string, frontend_peer> frontends_;  // by routing id
    std::unordered_set<std::string> mismatched_;  // peers of another protocol version (logged)
    std::atomic<bool> stopping_{false};
    std::uint64_t malformed_ = 0;
};

}  // namespace router
