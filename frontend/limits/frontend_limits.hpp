// The limits one frontend process applies to its clients (README "Limits"),
// built from its options: admission at accept (connection_limiter: counts
// and rate), the failed-login slowdown (login_throttle), the exempt source
// addresses (--exempt-addresses: the per-address limits skip them), and the
// counters and rate-limited log lines of what was refused.
//
// Owned by frontend_server; the listeners call next_accept()/admit(),
// frontend_server::unregister_session() calls release(), and connections
// reach it as their limits::gate. All on the frontend's io thread; not
// thread-safe.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/config/options.hpp"
#include "frontend/limits/connection_limiter.hpp"
#include "frontend/limits/gate.hpp"
#include "frontend/limits/login_throttle.hpp"

namespace frontend::limits {

// docs/stats.md, frontend names.
struct limit_counters {
    std::uint64_t refused_max_connections = 0;  // closed at accept: --max-connections
    std::uint64_t refused_per_address = 0;      // closed at accept: --max-connections-per-address
    std::uint64_t rate_delayed = 0;             // accepts that waited for --connection-rate
    std::uint64_t auth_delayed = 0;             // CONNECTs held by the failed-login slowdown
    std::uint64_t closed_topic_limit = 0;       // PUBLISH or will topic over the topic limits
    std::uint64_t filters_refused = 0;          // SUBSCRIBE filters over them (0x80)
};

class frontend_limits final : public gate {
  public:
    frontend_limits(const config::frontend_options& o, clock::time_point now);

    // The accept loop: when it may take the next connection (<= now: at
    // once); count_rate_delay() when it waits for that.
    clock::time_point next_accept(clock::time_point now) { return limiter_.next_accept(now); }
    void count_rate_delay() { ++counters_.rate_delayed; }
    // A socket accepted from `peer`: true if admitted (`ticket` held, and
    // counted until release(ticket)); false: over a limit, counted and logged
    // (at most one line per 10 s), and the caller closes it.
    bool admit(const boost::asio::ip::address& peer, clock::time_point now,
               admission_ticket& ticket);
    void release(admission_ticket& ticket) { limiter_.release(ticket); }
    // How the gate finds the ticket of a connection (frontend_server keeps
    // them); nullptr: none. Until set, no address is known to the
    // failed-login slowdown.
    void set_ticket_lookup(std::function<const admission_ticket*(events::conn_id)> lookup) {
        ticket_of_ = std::move(lookup);
    }

    // gate
    clock::time_point login_allowed_at(events::conn_id conn, clock::time_point now) override;
    void login_failed(events::conn_id conn, clock::time_point now) override;
    void topic_refused(topic_use use) override;

    const limit_counters& counters() const { return counters_; }
    std::size_t connections() const { return limiter_.connections(); }

  private:
    bool exempt(const boost::asio::ip::address& a) const;
    // The address key of `conn` when the per-address limits apply to it.
    const std::string* counted_key(events::conn_id conn) const;
    // At most one log line per interval for each kind of event.
    struct log_gate {
        std::optional<clock::time_point> last;  // of the last line
        std::uint64_t since = 0;                // events since then (the caller counts)
        bool due(clock::time_point now);        // true: log now (and remember it)
    };

    std::size_t max_connections_, max_per_address_;
    std::vector<config::address_range> exempt_;
    connection_limiter limiter_;
    login_throttle throttle_;
    limit_counters counters_;
    log_gate refusal_log_, login_log_;
    std::function<const admission_ticket*(events::conn_id)> ticket_of_;
};

}  // namespace frontend::limits
