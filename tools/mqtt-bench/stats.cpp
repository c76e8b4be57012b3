#include "tools/mqtt-bench/stats.hpp"

namespace bench {

void worker_stats::merge(const worker_stats& o) {
    connect_attempts += o.connect_attempts;
    connected += o.connected;
    connect_failures += o.connect_failures;
    connections_lost += o.connections_lost;
    for (const auto& [k, v] : o.connect_errors) connect_errors[k] += v;
    for (const auto& [k, v] : o.lost_reasons) lost_reasons[k] += v;
    connect_time_ns.merge(o.connect_time_ns);
    sent += o.sent;
    sent_in_window += o.sent_in_window;
    acknowledged += o.acknowledged;
    not_sent += o.not_sent;
    received += o.received;
    received_in_window += o.received_in_window;
    duplicates += o.duplicates;
    reordered += o.reordered;
    foreign += o.foreign;
    misrouted += o.misrouted;
    latency_ns.merge(o.latency_ns);
}

}  // namespace bench
