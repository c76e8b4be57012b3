// $SYS topics: the broker's numbers as retained messages under $SYS/broker/,
// with Mosquitto's names where one exists, as cluster-wide totals.
//
// Each router computes its own share (own_sys_values), sends it to its peers
// (events::router_stats) every $SYS interval, keeps the latest share of each
// live peer (sys_totals), and publishes the sums locally (retained, not
// forwarded: every router publishes the same totals for its own subscribers).
// "retained" is not summed (every router holds the whole retained set).
//
// Owned by router_loop on the router thread; pure code.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/events/events.hpp"
#include "router/router_core.hpp"

namespace router {

using stat_values = std::vector<std::pair<std::string, std::uint64_t>>;

// This router's share: clients.connected, clients.disconnected, clients.total,
// messages.received, messages.sent, messages.dropped, messages.stored,
// subscriptions, retained.
stat_values own_sys_values(const router_counters& c, const router_gauges& g);

class sys_totals {
  public:
    void set_peer(const events::router_stats& s);
    void forget_peer(const std::string& router_id);
    // own + every peer's latest share.
    stat_values totals(const stat_values& own) const;
    std::size_t routers() const { return peers_.size() + 1; }

  private:
    std::map<std::string, events::router_stats> peers_;
};

// The $SYS messages (topic, payload) for the totals.
std::vector<std::pair<std::string, std::string>> sys_messages(const stat_values& totals,
                                                              std::chrono::seconds uptime,
                                                              std::string_view version,
                                                              std::size_t routers);

}  // namespace router
