// The stats endpoints mqtt-stat listens to: one ZeroMQ SUB socket per
// resolved endpoint (so that the silent ones can be named), with the last two
// snapshots each gave and when the last one arrived.
//
// The set can change while running (set_endpoints: a re-resolved DNS name):
// endpoints still listed keep their socket and snapshots, new ones get a
// socket, the others are closed. Owned and used by one thread (the one that
// runs mqtt-stat's mode); the ZeroMQ context must outlive it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/stats/snapshot.hpp"

namespace mqtt_stat {

using clock_type = std::chrono::steady_clock;

struct source {
    std::string endpoint;
    zmq::socket_t socket;
    std::optional<stats::snapshot> previous;  // the one before `latest` (for rates)
    std::optional<stats::snapshot> latest;
    clock_type::time_point received{};  // when `latest` arrived
};

class source_set {
  public:
    explicit source_set(zmq::context_t& ctx) : ctx_(ctx) {}

    // Makes the set exactly `endpoints`, in that order. An endpoint ZeroMQ
    // refuses is left out and named in `error` (one line; empty when none).
    void set_endpoints(const std::vector<std::string>& endpoints, std::string& error);

    // Waits up to `timeout` (0: not at all) for snapshots and reads every one
    // that is there. Undecodable ones are reported on stderr and skipped. A
    // signal interrupting the wait just returns.
    void receive(std::chrono::milliseconds timeout);

    std::vector<source>& all() { return sources_; }
    const std::vector<source>& all() const { return sources_; }

    // The latest snapshot of every source that has one, in order.
    std::vector<stats::snapshot> latest() const;

  private:
    zmq::context_t& ctx_;
    std::vector<source> sources_;
};

}  // namespace mqtt_stat
