// Fills a stats snapshot (common/stats/snapshot.hpp) from what the router
// knows: router_core's counters and gauges and the loop's own (back-pressure,
// frontends, peers). The names and their meaning are documented in
// docs/stats.md; add names there when adding them here, never rename.
//
// Called by router_loop on the router thread, once per stats interval.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/stats/snapshot.hpp"
#include "router/router_core.hpp"

namespace router {

struct loop_counters;

// What router_loop tells about itself.
struct loop_facts {
    stats::process_kind kind = stats::process_kind::router;
    std::string_view router_id;
    std::uint64_t incarnation = 0;
    std::uint64_t sequence = 0;
    std::chrono::milliseconds uptime{0};
    const loop_counters* counters = nullptr;
    std::uint64_t malformed_events = 0;
    std::size_t frontends = 0;   // frontends heard from (hello) and not expired
    std::size_t live_peers = 0;  // peer routers answering heartbeats
    std::size_t backlog = 0;     // events waiting for full queues to frontends
    bool ready = false;
    bool leaving = false;
    // With a store: its approximate size on disk (and the store.* names appear).
    std::optional<std::uint64_t> store_bytes;
};

stats::snapshot make_snapshot(const router_core& core, const loop_facts& loop);

}  // namespace router
