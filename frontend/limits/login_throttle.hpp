// The failed-login slowdown (--failed-login-delay): per source address key
// (address_key), how long its next CONNECTs wait before they are checked.
//
// After a failed login (CONNACK 4 or 5) from an address, a CONNECT from it
// is checked no earlier than first_delay after that failure; each further
// failure doubles the wait, up to max_delay. An address with no failure for
// quiet_period() starts over. A success does not reset it (an attacker with
// one valid account must not be able to clear its record). CONNECTs from an
// address that wait are all checked when the wait ends, so guesses from one
// address are bounded by its connections (--max-connections-per-address)
// per max_delay, however they are spread.
//
// Memory is bounded: at most max_addresses entries, the least recently
// failed one forgotten for a new one.
//
// Pure (the caller passes the time), not thread-safe: owned by
// frontend_limits on the frontend's io thread; tests drive it with fake time.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace frontend::limits {

struct login_throttle_settings {
    std::chrono::milliseconds first_delay{1000};
    std::chrono::milliseconds max_delay{30'000};  // 0: off (nothing ever waits)
    std::size_t max_addresses = 10'000;
};

class login_throttle {
  public:
    using clock = std::chrono::steady_clock;

    explicit login_throttle(login_throttle_settings s) : settings_(s) {}
    login_throttle(const login_throttle&) = delete;
    login_throttle& operator=(const login_throttle&) = delete;

    // When a CONNECT from `key` may be checked (<= now: at once).
    clock::time_point allowed_at(std::string_view key, clock::time_point now) const;
    // A CONNECT from `key` failed. Returns its failures in a row, this one
    // included (1 for a first failure, or one after a quiet period).
    unsigned failed(std::string_view key, clock::time_point now);

    // The wait after `failures` failures in a row: 0, 1 s, 2 s, 4 s, ... max.
    std::chrono::milliseconds delay_after(unsigned failures) const;
    // No failure for this long: the address starts over. Twice the
    // longest wait, at least a minute: waiting it out gains nothing.
    std::chrono::milliseconds quiet_period() const;
    bool enabled() const { return settings_.max_delay.count() > 0; }
    std::size_t size() const { return by_key_.size(); }

  private:
    struct entry {
        std::string key;
        unsigned failures = 0;
        clock::time_point last_failure{};
    };
    // Failures in a row still remembered at `now` (0 after a quiet period).
    unsigned current(const entry& e, clock::time_point now) const;

    login_throttle_settings settings_;
    std::list<entry> lru_;  // most recently failed first
    std::unordered_map<std::string_view, std::list<entry>::iterator> by_key_;  // views of lru_ keys
};

}  // namespace frontend::limits
