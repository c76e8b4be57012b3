// What a run counts. worker_stats: plain counters and histograms, one per
// worker, touched only by that worker's thread and merged by the runner after
// the threads joined. run_shared: the few atomics the runner polls while the
// workers run (connect phase progress, the measured window, drain progress).
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <string>

#include "tools/mqtt-bench/histogram.hpp"

namespace bench {

struct worker_stats {
    // Connections.
    std::uint64_t connect_attempts = 0;
    std::uint64_t connected = 0;  // CONNACK 0 (and SUBACK, for subscribers)
    std::uint64_t connect_failures = 0;
    std::uint64_t connections_lost = 0;                   // closed after being up, not by us
    std::map<std::string, std::uint64_t> connect_errors;  // reason -> count
    std::map<std::string, std::uint64_t> lost_reasons;
    log_histogram connect_time_ns;  // TCP connect start to CONNACK

    // Publishers.
    std::uint64_t sent = 0;            // PUBLISH packets handed to the socket
    std::uint64_t sent_in_window = 0;  // of those, (scheduled) send time in the window
    std::uint64_t acknowledged = 0;    // PUBACK / PUBCOMP received (QoS 0: = sent)
    std::uint64_t not_sent = 0;        // open loop: scheduled before the end, never sent

    // Subscribers.
    std::uint64_t received = 0;            // deliveries of this run's messages, duplicates included
    std::uint64_t received_in_window = 0;  // receive time in the window
    std::uint64_t duplicates = 0;
    std::uint64_t reordered = 0;
    std::uint64_t foreign = 0;    // not a payload of this run (other run, malformed)
    std::uint64_t misrouted = 0;  // this run's, but from a publisher it should not get
    log_histogram latency_ns;     // of unique deliveries whose send time is in the window

    void merge(const worker_stats& o);
};

struct run_shared {
    static constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();

    std::atomic<std::uint64_t> settled{0};  // clients that are ready or have failed
    std::atomic<std::uint64_t> ready{0};
    // The measured window, clock.hpp nanoseconds; set before publishing starts.
    std::atomic<std::int64_t> window_start_ns{never};
    std::atomic<std::int64_t> window_end_ns{never};
    // Drain: deliveries subscribers should get (acknowledged sends x fan-out)
    // and unique deliveries they got; QoS > 0 sends awaiting their ack.
    std::atomic<std::uint64_t> expected_deliveries{0};
    std::atomic<std::uint64_t> unique_deliveries{0};
    std::atomic<std::int64_t> outstanding{0};

    bool in_window(std::int64_t t) const {
        return t >= window_start_ns.load(std::memory_order_relaxed) &&
               t < window_end_ns.load(std::memory_order_relaxed);
    }
};

}  // namespace bench
