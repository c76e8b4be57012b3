// The router's subscription index: topic filter -> subscribers (with QoS).
//
// A tree of filter levels. Each node has a map of literal child levels plus
// dedicated '+' and '#' child slots; subscriptions live on the node their
// filter ends at. Filters whose first level starts with '$' live under a
// separate root, and a topic starting with '$' is matched only against that
// root, so leading wildcards ("#", "+/x") never match "$SYS/...".
// Nodes left empty by unsubscribe() are pruned at once.
//
// Owned by the router thread only: not thread-safe, and match() reuses a
// scratch stack kept in the object (so even const calls must not race).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace router {

using subscriber_id = std::uint64_t;

class subscription_tree {
  public:
    subscription_tree();
    ~subscription_tree();
    subscription_tree(const subscription_tree&) = delete;
    subscription_tree& operator=(const subscription_tree&) = delete;

    // Adds or replaces (same filter, same subscriber: new qos). Returns true if
    // it was new. `filter` must be valid (mqtt::topic::valid_filter).
    bool subscribe(std::string_view filter, subscriber_id who, std::uint8_t qos);

    // Returns true if the subscription existed. Prunes nodes left empty.
    bool unsubscribe(std::string_view filter, subscriber_id who);

    // Every subscriber with at least one filter matching `topic`, ONCE, with the
    // highest QoS among its matching subscriptions. `out` is cleared first; its
    // order is unspecified. `topic` must be a valid topic name.
    void match(std::string_view topic,
               std::vector<std::pair<subscriber_id, std::uint8_t>>& out) const;

    // Number of (filter, subscriber) subscriptions.
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

  private:
    struct node;
    // One pending step of match(): continue at `at` with the topic from `pos`
    // (pos == npos: the topic has no more levels).
    struct frame {
        const node* at;
        std::size_t pos;
    };

    node& root_for(std::string_view topic_or_filter) const;

    std::unique_ptr<node> root_;
    std::unique_ptr<node> dollar_root_;
    std::size_t size_ = 0;
    mutable std::vector<frame> stack_;
};

}  // namespace router
