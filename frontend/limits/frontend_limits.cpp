#include "frontend/limits/frontend_limits.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "frontend/limits/address_key.hpp"

namespace frontend::limits {

namespace {

constexpr std::chrono::seconds log_interval{10};

}  // namespace

bool frontend_limits::log_gate::due(clock::time_point now) {
    if (last && now - *last < log_interval) return false;
    last = now;
    return true;
}

frontend_limits::frontend_limits(const config::frontend_options& o, clock::time_point now)
    : max_connections_(o.max_connections),
      max_per_address_(o.max_connections_per_address),
      exempt_(o.exempt_addresses),
      limiter_({o.max_connections, o.max_connections_per_address, o.connection_rate}, now),
      throttle_(login_throttle_settings{std::chrono::milliseconds{1000},
                                        std::chrono::seconds{o.failed_login_delay_s}, 10'000}) {}

bool frontend_limits::exempt(const boost::asio::ip::address& a) const {
    return std::any_of(exempt_.begin(), exempt_.end(),
                       [&](const config::address_range& r) { return r.contains(a); });
}

bool frontend_limits::admit(const boost::asio::ip::address& peer, clock::time_point now,
                            admission_ticket& ticket) {
    const auto verdict =
        limiter_.admit(exempt(peer) ? std::string() : address_key(peer), now, ticket);
    if (verdict == admission::admitted) return true;
    const bool total = verdict == admission::over_total;
    ++(total ? counters_.refused_max_connections : counters_.refused_per_address);
    ++refusal_log_.since;
    if (refusal_log_.due(now)) {
        // Summaries only: a flood of refusals must not flood the log.
        spdlog::warn(
            "limits: {} connection(s) closed at accept since the last report; the latest, from "
            "{}, was over {} ({})",
            refusal_log_.since, address_key(peer),
            total ? "--max-connections" : "--max-connections-per-address",
            total ? max_connections_ : max_per_address_);
        refusal_log_.since = 0;
    }
    return false;
}

const std::string* frontend_limits::counted_key(events::conn_id conn) const {
    const admission_ticket* ticket = ticket_of_ ? ticket_of_(conn) : nullptr;
    const auto* key = ticket ? ticket->key() : nullptr;
    return key && !key->empty() ? key : nullptr;
}

frontend_limits::clock::time_point frontend_limits::login_allowed_at(events::conn_id conn,
                                                                     clock::time_point now) {
    const auto* key = counted_key(conn);
    if (!key) return now;
    const auto at = throttle_.allowed_at(*key, now);
    if (at > now) ++counters_.auth_delayed;
    return at;
}

void frontend_limits::login_failed(events::conn_id conn, clock::time_point now) {
    const auto* key = counted_key(conn);
    if (!key) return;
    const auto failures = throttle_.failed(*key, now);
    ++login_log_.since;
    if (failures < 2 || !login_log_.due(now)) return;
    // Neither user names nor passwords are logged: a user name field may
    // well hold a mistyped password.
    spdlog::warn(
        "limits: {} failed login(s) since the last report; {} has failed {} times in a row: its "
        "next CONNECTs wait {} ms",
        login_log_.since, *key, failures, throttle_.delay_after(failures).count());
    login_log_.since = 0;
}

void frontend_limits::topic_refused(topic_use use) {
    ++(use == topic_use::subscribe ? counters_.filters_refused : counters_.closed_topic_limit);
}

}  // namespace frontend::limits
