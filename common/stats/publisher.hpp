// The --stats socket: a ZeroMQ PUB socket bound to an endpoint, on which a
// process sends one snapshot per call as two frames: the topic "stats" and
// the msgpack snapshot (snapshot.hpp, docs/stats.md). Subscribers SUB to the
// "stats" prefix.
//
// PUB never blocks the sender: a subscriber that does not keep up loses
// snapshots once its queue (send_queue snapshots) is full, and nobody
// listening costs nothing. That is the right trade for statistics: every
// snapshot carries totals since start, so a lost one loses nothing but time
// resolution.
//
// Header-only so that mqtt_common (pure code) does not link ZeroMQ; the tiers
// that include it do. Owned and used by one thread (the loop that publishes);
// the ZeroMQ context may be shared.
#pragma once

#include <string>
#include <string_view>
#include <zmq.hpp>

#include "common/stats/snapshot.hpp"

namespace stats {

inline constexpr std::string_view topic = "stats";

class publisher {
  public:
    static constexpr int send_queue = 16;

    // Binds at once; throws zmq::error_t if the endpoint cannot be bound.
    publisher(zmq::context_t& ctx, const std::string& endpoint)
        : socket_(ctx, zmq::socket_type::pub) {
        socket_.set(zmq::sockopt::sndhwm, send_queue);
        socket_.set(zmq::sockopt::linger, 0);
        socket_.bind(endpoint);
        endpoint_ = socket_.get(zmq::sockopt::last_endpoint);  // the port chosen for ":0"/"*"
    }

    // Sends one snapshot; returns false if it was dropped (never blocks).
    bool publish(const snapshot& s) {
        const std::string bytes = encode(s);
        try {
            if (!socket_.send(zmq::buffer(topic),
                              zmq::send_flags::sndmore | zmq::send_flags::dontwait))
                return false;
            return socket_.send(zmq::buffer(bytes), zmq::send_flags::dontwait).has_value();
        } catch (const zmq::error_t&) {
            return false;
        }
    }

    // The bound endpoint, with the port the system chose for tcp://HOST:0.
    const std::string& endpoint() const { return endpoint_; }

  private:
    zmq::socket_t socket_;
    std::string endpoint_;
};

}  // namespace stats
