// The run: builds the clients of the scenario on the worker threads, then
// drives the phases from the calling thread and merges what the workers
// counted.
//
//   connect   clients start at --connect-rate (subscribers first); the phase
//             ends when all are ready or failed, bounded by the last start +
//             --connect-timeout
//   warmup    publishers send; nothing is measured
//   measure   --duration seconds: throughput and latency are taken here
//   drain     publishing has stopped; wait for acks and deliveries still
//             due, at most --drain seconds (ends early once all arrived)
//   storm     instead of warmup/measure/drain: hold the connections
//             --duration seconds
//
// Then every client DISCONNECTs (1 s grace) and the threads join. `stop`
// (SIGINT) ends any phase early; the result is reported all the same.
// Startup problems (an unresolvable host, an unreadable CA file) throw
// std::runtime_error.
#pragma once

#include <atomic>
#include <cstdint>

#include "tools/mqtt-bench/options.hpp"
#include "tools/mqtt-bench/stats.hpp"

namespace bench {

struct run_result {
    worker_stats totals;  // every worker's counters, merged
    std::uint64_t planned_clients = 0;
    std::uint64_t ready_publishers = 0, ready_subscribers = 0;  // when publishing began
    std::uint64_t held = 0;  // storm: connections up at the end of the hold
    // Delivery accounting over (publisher, subscriber) pairs of ready
    // subscribers: expected = acknowledged (QoS 0: sent) messages of the
    // publishers each subscriber should hear from.
    std::uint64_t expected = 0;
    std::uint64_t unique = 0;
    std::uint64_t lost = 0;
    std::uint64_t unexpected_extra = 0;  // unique deliveries beyond expected (unacknowledged sends)
    unsigned threads = 0;
    double connect_phase_s = 0;
    double measured_s = 0;  // the measured window as it ran (shorter if interrupted)
    double elapsed_s = 0;   // the whole run, wall clock
    double cpu_user_s = 0, cpu_sys_s = 0;
    bool interrupted = false;
    int exit_code = 0;  // 0, 1 (a connection failed or was lost, or none was ready), 130 (SIGINT)
};

run_result run_bench(const bench_options& o, const std::atomic<bool>& stop);

}  // namespace bench
