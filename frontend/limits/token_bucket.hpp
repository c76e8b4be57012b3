// A token bucket (--connection-rate): `rate` tokens a second, at most `rate`
// kept (the burst). Exact integer arithmetic on the caller's clock, so tests
// drive it with fake time points.
//
// Pure, not thread-safe: owned by connection_limiter (frontend io thread).
#pragma once

#include <chrono>
#include <cstdint>

namespace frontend::limits {

class token_bucket {
  public:
    using clock = std::chrono::steady_clock;

    // rate 0: unlimited (a token is always there). Starts full.
    token_bucket(std::uint32_t rate, clock::time_point now);

    // When a whole token is there (now, or the moment one will be).
    clock::time_point available_at(clock::time_point now);
    // Takes one token. The balance may go below zero (two listeners that
    // waited for the same token each take one); later waits pay that back.
    void take(clock::time_point now);
    bool unlimited() const { return rate_ == 0; }

  private:
    void refill(clock::time_point now);

    // One token is `unit` credits; a nanosecond adds `rate_` credits.
    static constexpr std::int64_t unit = 1'000'000'000;
    std::int64_t rate_;
    std::int64_t credits_;  // may be negative (see take())
    clock::time_point last_;
};

}  // namespace frontend::limits
