#include "router/retained_store.hpp"

#include "common/topic/topic.hpp"

namespace router {

void retained_store::set(const message_ptr& msg) {
    if (!msg->payload || msg->payload->empty()) {
        messages_.erase(msg->topic);
        return;
    }
    messages_[msg->topic] = msg;
}

void retained_store::match(std::string_view filter,
                           const std::function<void(const message_ptr&)>& visit) const {
    // A filter without wildcards names one topic.
    if (filter.find_first_of("+#") == std::string_view::npos) {
        if (auto it = messages_.find(std::string(filter)); it != messages_.end()) visit(it->second);
        return;
    }
    for (const auto& [topic, msg] : messages_)
        if (mqtt::topic::matches(filter, topic)) visit(msg);
}

}  // namespace router
