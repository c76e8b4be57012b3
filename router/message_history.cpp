#include "router/message_history.hpp"

#include <algorithm>

namespace router {

void message_history::add(const message_ptr& msg, clock::time_point now) {
    auto& high = seen_[msg->origin];
    high = std::max(high, msg->stamp);
    if (max_count_ == 0) {
        auto& d = dropped_[msg->origin];
        d = std::max(d, msg->stamp);
        return;
    }
    entries_.push_back({msg, now});
    while (entries_.size() > max_count_) drop_front();
    expire(now);
}

void message_history::expire(clock::time_point now) {
    while (!entries_.empty() && now - entries_.front().at > max_age_) drop_front();
}

void message_history::drop_front() {
    const auto& m = *entries_.front().msg;
    auto& d = dropped_[m.origin];
    d = std::max(d, m.stamp);
    entries_.pop_front();
}

std::vector<events::high_water> message_history::seen() const {
    std::vector<events::high_water> out;
    out.reserve(seen_.size());
    for (const auto& [origin, stamp] : seen_) out.push_back({origin, stamp});
    return out;
}

bool message_history::replay(const std::vector<events::high_water>& seen,
                             const std::function<void(const message_ptr&)>& visit) const {
    std::unordered_map<std::string_view, std::uint64_t> from;
    for (const auto& h : seen) from[h.origin] = h.stamp;
    auto after = [&](const message& m) {
        auto it = from.find(m.origin);
        return it == from.end() ? 0 : it->second;
    };
    bool complete = true;
    for (const auto& [origin, stamp] : dropped_) {
        // Only origins the sender knew: one it never heard from is a router
        // that was gone before the sender started, nothing to miss.
        auto it = from.find(origin);
        if (it != from.end() && stamp > it->second) complete = false;
    }
    for (const auto& e : entries_)
        if (e.msg->stamp > after(*e.msg)) visit(e.msg);
    return complete;
}

}  // namespace router
