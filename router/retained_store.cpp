#include "router/retained_store.hpp"

#include <tuple>

#include "common/topic/topic.hpp"

namespace router {

bool retained_store::set(const message_ptr& msg) {
    // Last writer wins by (stamp, origin), so routers that see concurrent
    // updates in different orders converge. A deletion (empty payload) stays
    // as a tombstone so an older update arriving later cannot revive the topic.
    auto [it, inserted] = messages_.try_emplace(msg->topic, msg);
    if (!inserted) {
        const auto& old = *it->second;
        if (std::tie(msg->stamp, msg->origin) < std::tie(old.stamp, old.origin)) return false;
        if (!old.payload || old.payload->empty()) --tombstones_;
        it->second = msg;
    }
    if (!msg->payload || msg->payload->empty()) {
        if (keep_tombstones_)
            ++tombstones_;
        else
            messages_.erase(it);
    }
    return true;
}

void retained_store::match(std::string_view filter,
                           const std::function<void(const message_ptr&)>& visit) const {
    // A filter without wildcards names one topic.
    if (filter.find_first_of("+#") == std::string_view::npos) {
        auto it = messages_.find(std::string(filter));
        if (it != messages_.end() && !it->second->payload->empty()) visit(it->second);
        return;
    }
    for (const auto& [topic, msg] : messages_)
        if (!msg->payload->empty() && mqtt::topic::matches(filter, topic)) visit(msg);
}

}  // namespace router
