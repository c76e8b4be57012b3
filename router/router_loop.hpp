// The router process's ZeroMQ loop: a ROUTER socket bound to an endpoint
// (tcp://... for mqtt-router, inproc://... inside mqtt-broker). Each message
// is [frontend routing id, event envelope]; events are decoded, handed to
// router_core, and its outgoing events are sent back to their frontends.
//
// run() executes on the router thread and owns the socket and the core;
// stop() may be called from any thread.
#pragma once

#include <atomic>
#include <string>

#include <zmq.hpp>

#include "router/router_core.hpp"

namespace router {

class router_loop {
public:
    // Binds immediately so that inproc:// peers may connect before run().
    router_loop(zmq::context_t& ctx, const std::string& endpoint, router_settings settings);

    void run();   // blocks until stop()
    void stop();  // thread-safe

    const router_core& core() const { return core_; }
    std::uint64_t malformed_events() const { return malformed_; }

private:
    void handle_message(zmq::message_t& identity, zmq::message_t& body);
    void flush();

    zmq::socket_t socket_;
    router_core core_;
    std::vector<router_core::outgoing> out_;
    std::atomic<bool> stopping_{false};
    std::uint64_t malformed_ = 0;
};

}  // namespace router
