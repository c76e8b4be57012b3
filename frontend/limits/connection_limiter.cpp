#include "frontend/limits/connection_limiter.hpp"

#include <utility>

namespace frontend::limits {

connection_limiter::connection_limiter(connection_limits limits, clock::time_point now)
    : limits_(limits), bucket_(limits.rate, now) {}

namespace {
const std::string exempt_key;
}  // namespace

admission connection_limiter::admit(events::conn_id id, std::string key, clock::time_point now) {
    if (limits_.max_connections != 0 && keys_.size() >= limits_.max_connections)
        return admission::over_total;
    const std::string* stored = &exempt_key;
    if (!key.empty()) {
        auto it = per_address_.try_emplace(std::move(key), 0).first;
        // (count >= 1 here unless just made: a refusal never leaves an empty entry behind)
        if (limits_.max_per_address != 0 && it->second >= limits_.max_per_address)
            return admission::over_address;
        ++it->second;
        stored = &it->first;
    }
    keys_.emplace(id, stored);
    bucket_.take(now);
    return admission::admitted;
}

void connection_limiter::release(events::conn_id id) {
    auto it = keys_.find(id);
    if (it == keys_.end()) return;
    if (!it->second->empty()) {
        auto a = per_address_.find(*it->second);
        if (a != per_address_.end() && --a->second == 0) per_address_.erase(a);
    }
    keys_.erase(it);
}

const std::string* connection_limiter::key_of(events::conn_id id) const {
    auto it = keys_.find(id);
    return it == keys_.end() ? nullptr : it->second;
}

std::size_t connection_limiter::connections_from(std::string_view key) const {
    auto it = per_address_.find(std::string(key));
    return it == per_address_.end() ? 0 : it->second;
}

}  // namespace frontend::limits
