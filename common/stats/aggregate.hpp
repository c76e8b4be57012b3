// What a stats reader (tools/mqtt-stat) computes from snapshots of several
// processes: the cluster totals (counters and gauges summed by name, per
// process kind: a router's messages.in and a frontend's count the same
// messages at two places, so they are never added together), the
// per-second rate of a counter between two snapshots of one process, and the
// one JSON document `mqtt-stat --json` prints. Pure functions on values; no
// shared state, any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/stats/snapshot.hpp"

namespace stats {

struct totals {
    std::map<std::string, std::uint64_t> counters;  // by name, summed over processes
    std::map<std::string, std::uint64_t> gauges;
};

// Sums every counter and gauge by name; a name absent from a process adds nothing.
totals sum(const std::vector<snapshot>& processes);
// The same per kind ("router", "frontend", "broker"): only kinds present.
std::map<std::string, totals> sum_by_kind(const std::vector<snapshot>& processes);

// Per-second rate of counter `name` from `before` to `after` (the same process):
// nullopt if the name is absent from either, the incarnations differ (the
// process restarted), or no time passed. A counter that went down counts as 0.
std::optional<double> rate(const snapshot& before, const snapshot& after, std::string_view name);

// {"processes": [{"kind", "id", "uptime" (seconds), "counters": {..}, "gauges": {..},
//   "histograms": {name: {"p50", "p99", "count"}}}, ...],
//  "total": {"<kind>": {"counters": {..}, "gauges": {..}}, ...}}
// on one line, keys in the snapshots' order (totals sorted by name).
std::string to_json(const std::vector<snapshot>& processes);

// `s` as a JSON string literal, with quotes.
std::string json_quote(std::string_view s);

}  // namespace stats
