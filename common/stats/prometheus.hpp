// The Prometheus text exposition format (0.0.4) of the processes mqtt-stat
// reads: one pure function from "what each stats endpoint last said, and how
// long ago" to the body of GET /metrics. Naming rules: docs/stats.md,
// section "Prometheus".
//
//   mqtt_up{kind,id,endpoint}      gauge, one per endpoint: 1 if its last
//                                  snapshot is fresh (younger than stale_after)
//   mqtt_uptime_seconds{kind,id}   gauge
//   mqtt_<name>_total{kind,id}     a counter `name`, dots (and anything else
//                                  not [a-zA-Z0-9_:]) turned into underscores
//   mqtt_<name>{kind,id}           a gauge
//   mqtt_<name>_seconds_bucket{kind,id,le} / _sum / _count
//                                  a histogram (a trailing `_us` dropped),
//                                  cumulative buckets, microseconds -> seconds
//
// A process whose last snapshot is stale appears in mqtt_up (0) only. Two
// endpoints answering for one process (kind, id) — a name with an IPv4 and
// an IPv6 address — give one set of samples (the most recent snapshot). A
// family name claimed by an earlier family of another type is skipped, so the
// output never repeats a family nor a series. Families: mqtt_up,
// mqtt_uptime_seconds, then the others sorted by name; samples in the order of
// the targets given.
//
// Plain functions on values: no state, any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/stats/snapshot.hpp"

namespace stats::prometheus {

inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

// Snapshots come once a second: three missed ones make a process stale.
inline constexpr std::chrono::milliseconds default_stale_after{3000};

// One stats endpoint as a reader sees it.
struct target {
    std::string endpoint;              // e.g. tcp://10.0.0.5:7100
    std::optional<snapshot> latest;    // nullopt: nothing heard yet
    std::chrono::milliseconds age{0};  // since `latest` arrived
};

std::string render(const std::vector<target>& targets,
                   std::chrono::milliseconds stale_after = default_stale_after);

// "messages.in.qos1" -> "messages_in_qos1": every character outside
// [a-zA-Z0-9_:] becomes '_' (the caller adds the "mqtt_" prefix).
std::string metric_name(std::string_view stats_name);

// A label value escaped for the text format: \ -> \\, " -> \", newline -> \n.
std::string escape_label_value(std::string_view value);

// An integer number of microseconds as exact decimal seconds, without
// trailing zeros: 10 -> "0.00001", 2500000 -> "2.5", 0 -> "0".
std::string seconds_of_us(std::uint64_t microseconds);

}  // namespace stats::prometheus
