#include "frontend/limits/connection_limiter.hpp"

#include <utility>

namespace frontend::limits {

connection_limiter::connection_limiter(connection_limits limits, clock::time_point now)
    : limits_(limits), bucket_(limits.rate, now) {}

namespace {
const std::string exempt_key;
}  // namespace

admission connection_limiter::admit(std::string key, clock::time_point now,
                                    admission_ticket& ticket) {
    if (limits_.max_connections != 0 && connections_ >= limits_.max_connections)
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
    ticket.key_ = stored;
    ++connections_;
    bucket_.take(now);
    return admission::admitted;
}

void connection_limiter::release(admission_ticket& ticket) {
    if (!ticket.key_) return;
    if (!ticket.key_->empty()) {
        auto a = per_address_.find(*ticket.key_);
        if (a != per_address_.end() && --a->second == 0) per_address_.erase(a);
    }
    ticket.key_ = nullptr;
    --connections_;
}

std::size_t connection_limiter::connections_from(std::string_view key) const {
    auto it = per_address_.find(std::string(key));
    return it == per_address_.end() ? 0 : it->second;
}

}  // namespace frontend::limits
