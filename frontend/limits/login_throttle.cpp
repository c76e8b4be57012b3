#include "frontend/limits/login_throttle.hpp"

#include <algorithm>

namespace frontend::limits {

using std::chrono::milliseconds;

milliseconds login_throttle::delay_after(unsigned failures) const {
    if (failures == 0 || !enabled()) return milliseconds{0};
    // first_delay * 2^(failures - 1), without overflowing the shift.
    const unsigned doublings = std::min(failures - 1, 30u);
    const auto d = settings_.first_delay * (std::int64_t{1} << doublings);
    return std::min(d, settings_.max_delay);
}

milliseconds login_throttle::quiet_period() const {
    return std::max(milliseconds{60'000}, 2 * settings_.max_delay);
}

unsigned login_throttle::current(const entry& e, clock::time_point now) const {
    return now - e.last_failure >= quiet_period() ? 0 : e.failures;
}

login_throttle::clock::time_point login_throttle::allowed_at(std::string_view key,
                                                             clock::time_point now) const {
    if (!enabled()) return now;
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return now;
    const auto& e = *it->second;
    return std::max(now, e.last_failure + delay_after(current(e, now)));
}

unsigned login_throttle::failed(std::string_view key, clock::time_point now) {
    if (!enabled()) return 0;
    auto it = by_key_.find(key);
    if (it != by_key_.end()) {
        auto e = it->second;
        e->failures = current(*e, now) + 1;
        e->last_failure = now;
        lru_.splice(lru_.begin(), lru_, e);  // iterators (and the key's view) stay valid
        return e->failures;
    }
    if (settings_.max_addresses == 0) return 1;
    if (by_key_.size() >= settings_.max_addresses) {  // forget the least recently failed
        by_key_.erase(lru_.back().key);
        lru_.pop_back();
    }
    lru_.push_front(entry{std::string(key), 1, now});
    by_key_.emplace(lru_.front().key, lru_.begin());
    return 1;
}

}  // namespace frontend::limits
