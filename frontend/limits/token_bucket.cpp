#include "frontend/limits/token_bucket.hpp"

#include <algorithm>

namespace frontend::limits {

token_bucket::token_bucket(std::uint32_t rate, clock::time_point now)
    : rate_(rate), credits_(std::int64_t{rate} * unit), last_(now) {}

void token_bucket::refill(clock::time_point now) {
    if (now <= last_) return;
    // 100 s refill at most any bucket from any debt; keeps the product in range.
    const auto ns =
        std::min<std::int64_t>(std::chrono::nanoseconds(now - last_).count(), 100 * unit);
    credits_ = std::min(credits_ + ns * rate_, rate_ * unit);
    last_ = now;
}

token_bucket::clock::time_point token_bucket::available_at(clock::time_point now) {
    if (rate_ == 0) return now;
    refill(now);
    if (credits_ >= unit) return now;
    const auto missing = unit - credits_;
    return now + std::chrono::nanoseconds((missing + rate_ - 1) / rate_);  // rounded up
}

void token_bucket::take(clock::time_point now) {
    if (rate_ == 0) return;
    refill(now);
    credits_ -= unit;
}

}  // namespace frontend::limits
