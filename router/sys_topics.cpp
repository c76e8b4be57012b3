#include "router/sys_topics.hpp"

#include <algorithm>

namespace router {

namespace {

std::uint64_t value_of(const stat_values& v, std::string_view name) {
    for (const auto& [n, x] : v)
        if (n == name) return x;
    return 0;
}

}  // namespace

stat_values own_sys_values(const router_counters& c, const router_gauges& g) {
    const std::uint64_t dropped = c.dropped_queue_full + c.dropped_qos0_offline;
    return {
        {"clients.connected", g.sessions_online},
        {"clients.disconnected", g.sessions_offline},
        {"clients.total", g.sessions_online + g.sessions_offline},
        {"messages.received", c.messages_received},
        {"messages.sent", c.messages_delivered},
        {"messages.dropped", dropped},
        {"messages.stored", g.inflight + g.queued},
        {"subscriptions", g.subscriptions},
        {"retained", g.retained},
    };
}

void sys_totals::set_peer(const events::router_stats& s) {
    peers_[s.router_id] = s;
}

void sys_totals::forget_peer(const std::string& router_id) {
    peers_.erase(router_id);
}

stat_values sys_totals::totals(const stat_values& own) const {
    stat_values out = own;
    for (const auto& [id, peer] : peers_) {
        for (auto& [name, value] : out) {
            const auto theirs = value_of(peer.values, name);
            value = name == "retained" ? std::max(value, theirs) : value + theirs;
        }
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> sys_messages(const stat_values& t,
                                                              std::chrono::seconds uptime,
                                                              std::string_view version,
                                                              std::size_t routers) {
    auto n = [&](std::string_view name) { return std::to_string(value_of(t, name)); };
    const auto stored = std::to_string(value_of(t, "messages.stored") + value_of(t, "retained"));
    return {
        {"$SYS/broker/version", "iot-mqtt-server " + std::string(version)},
        {"$SYS/broker/uptime", std::to_string(uptime.count()) + " seconds"},
        {"$SYS/broker/clients/connected", n("clients.connected")},
        {"$SYS/broker/clients/disconnected", n("clients.disconnected")},
        {"$SYS/broker/clients/total", n("clients.total")},
        {"$SYS/broker/messages/received", n("messages.received")},
        {"$SYS/broker/messages/sent", n("messages.sent")},
        {"$SYS/broker/messages/stored", stored},
        {"$SYS/broker/store/messages/count", stored},
        {"$SYS/broker/publish/messages/received", n("messages.received")},
        {"$SYS/broker/publish/messages/sent", n("messages.sent")},
        {"$SYS/broker/publish/messages/dropped", n("messages.dropped")},
        {"$SYS/broker/retained messages/count", n("retained")},
        {"$SYS/broker/subscriptions/count", n("subscriptions")},
        {"$SYS/broker/cluster/routers", std::to_string(routers)},
    };
}

}  // namespace router
