#include "frontend/limits/connection_limiter.hpp"

#include <utility>

namespace frontend::limits {

connection_limiter::connection_limiter(connection_limits limits, clock::time_point now)
    : limits_(limits), bucket_(limits.rate, now) {}

admission connection_limiter::admit(events::conn_id id, std::string key, clock::time_point now) {
    if (limits_.max_connections != 0 && keys_.size() >= limits_.max_connections)
        return admission::over_total;
    if (!key.empty()) {
        auto& count = per_address_[key];
        // (count >= 1 here: a refusal never leaves an empty entry behind)
        if (limits_.max_per_address != 0 && count >= limits_.max_per_address)
            return admission::over_address;
        ++count;
    }
    keys_.emplace(id, std::move(key));
    bucket_.take(now);
    return admission::admitted;
}

void connection_limiter::release(events::conn_id id) {
    auto it = keys_.find(id);
    if (it == keys_.end()) return;
    if (!it->second.empty()) {
        auto a = per_address_.find(it->second);
        if (a != per_address_.end() && --a->second == 0) per_address_.erase(a);
    }
    keys_.erase(it);
}

const std::string* connection_limiter::key_of(events::conn_id id) const {
    auto it = keys_.find(id);
    return it == keys_.end() ? nullptr : &it->second;
}

std::size_t connection_limiter::connections_from(std::string_view key) const {
    auto it = per_address_.find(std::string(key));
    return it == per_address_.end() ? 0 : it->second;
}

}  // namespace frontend::limits
