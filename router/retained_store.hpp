// Retained messages, one per topic (MQTT 3.1.1 section 3.3.1.3).
//
// A retained PUBLISH replaces the topic's message; one with an empty payload
// deletes it. Updates are ordered by (stamp, origin), last writer wins, so
// every router of a cluster converges on the same value; a deletion is kept
// as a tombstone so that an older update arriving later cannot revive it.
// New subscriptions read the messages matching their filter.
// In memory for now; the durable store (store/) will sit behind the same calls.
//
// Owned by router_core on the router thread; no locking.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "router/message.hpp"

namespace router {

class retained_store {
  public:
    // Tombstones are only needed when updates can arrive out of order, i.e.
    // when other routers forward theirs.
    explicit retained_store(bool keep_tombstones = false) : keep_tombstones_(keep_tombstones) {}

    // Stores (or, for an empty payload, deletes) the topic's retained message;
    // false if an entry with a higher (stamp, origin) stays.
    bool set(const message_ptr& msg);
    bool keeps_tombstones() const { return keep_tombstones_; }
    // A live (not deleted) retained message exists for this topic.
    bool has(const std::string& topic) const {
        auto it = messages_.find(topic);
        return it != messages_.end() && it->second->payload && !it->second->payload->empty();
    }
    // Calls visit for every retained message whose topic matches `filter`.
    void match(std::string_view filter, const std::function<void(const message_ptr&)>& visit) const;
    // Every entry, tombstones included (for copying the set to another router).
    template <typename F>
    void for_each(F&& visit) const {
        for (const auto& [topic, msg] : messages_) visit(msg);
    }
    // Retained messages (deletion tombstones not counted).
    std::size_t size() const { return messages_.size() - tombstones_; }

  private:
    std::unordered_map<std::string, message_ptr> messages_;  // including tombstones
    std::size_t tombstones_ = 0;
    bool keep_tombstones_;
};

}  // namespace router
