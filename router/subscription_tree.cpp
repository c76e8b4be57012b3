// See subscription_tree.hpp. Router thread only.
#include "router/subscription_tree.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <unordered_map>

namespace router {
namespace {

// Not noexcept on purpose: libstdc++ caches hash codes unless the hash is
// both "fast" (any custom hash is) and noexcept. Cached, a lookup compares
// hashes before strings and never rehashes the keys it walks past in a
// bucket (8 bytes more per node).
struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

constexpr auto npos = std::string_view::npos;

// Splits one level off `s` at `pos`; returns it and advances `pos` (npos after
// the last level).
std::string_view next_level(std::string_view s, std::size_t& pos) {
    const auto slash = s.find('/', pos);
    std::string_view level;
    if (slash == npos) {
        level = s.substr(pos);
        pos = npos;
    } else {
        level = s.substr(pos, slash - pos);
        pos = slash + 1;
    }
    return level;
}

}  // namespace

struct subscription_tree::node {
    std::unordered_map<std::string, std::unique_ptr<node>, string_hash, std::equal_to<>> children;
    std::unique_ptr<node> plus;
    std::unique_ptr<node> pound;
    std::unordered_map<subscriber_id, std::uint8_t> subscribers;

    bool empty() const { return subscribers.empty() && children.empty() && !plus && !pound; }

    // The child slot for one filter level, or nullptr if there is none.
    std::unique_ptr<node>* find(std::string_view level) {
        if (level == "+") return &plus;
        if (level == "#") return &pound;
        const auto it = children.find(level);
        return it == children.end() ? nullptr : &it->second;
    }

    node& get_or_add(std::string_view level) {
        if (level == "+" || level == "#") {
            auto& slot = level == "+" ? plus : pound;
            if (!slot) slot = std::make_unique<node>();
            return *slot;
        }
        auto it = children.find(level);
        if (it == children.end()) {
            it = children.emplace(std::string(level), std::make_unique<node>()).first;
        }
        return *it->second;
    }

    // Removes the child slot for `level` (which must exist).
    void erase(std::string_view level) {
        if (level == "+") {
            plus.reset();
        } else if (level == "#") {
            pound.reset();
        } else {
            children.erase(children.find(level));
        }
    }
};

namespace {

// Tears a subtree down without recursion, so a very deep filter cannot
// exhaust the stack in the destructor chain.
template <typename Node>
void destroy(std::unique_ptr<Node> top) {
    std::vector<std::unique_ptr<Node>> work;
    work.push_back(std::move(top));
    while (!work.empty()) {
        auto n = std::move(work.back());
        work.pop_back();
        if (!n) continue;
        for (auto& [level, child] : n->children) work.push_back(std::move(child));
        work.push_back(std::move(n->plus));
        work.push_back(std::move(n->pound));
    }
}

}  // namespace

subscription_tree::subscription_tree()
    : root_(std::make_unique<node>()), dollar_root_(std::make_unique<node>()) {}

subscription_tree::~subscription_tree() {
    destroy(std::move(root_));
    destroy(std::move(dollar_root_));
}

subscription_tree::node& subscription_tree::root_for(std::string_view s) const {
    return !s.empty() && s.front() == '$' ? *dollar_root_ : *root_;
}

bool subscription_tree::subscribe(std::string_view filter, subscriber_id who, std::uint8_t qos) {
    node* at = &root_for(filter);
    std::size_t pos = 0;
    while (pos != npos) at = &at->get_or_add(next_level(filter, pos));
    const bool added = at->subscribers.insert_or_assign(who, qos).second;
    if (added) ++size_;
    return added;
}

bool subscription_tree::unsubscribe(std::string_view filter, subscriber_id who) {
    struct step {
        node* parent;
        std::string_view level;
    };
    std::vector<step> path;
    node* at = &root_for(filter);
    std::size_t pos = 0;
    while (pos != npos) {
        const auto level = next_level(filter, pos);
        auto* slot = at->find(level);
        if (slot == nullptr || !*slot) return false;
        path.push_back({at, level});
        at = slot->get();
    }
    if (at->subscribers.erase(who) == 0) return false;
    --size_;
    // Prune from the leaf up while nodes are left empty.
    for (auto it = path.rbegin(); it != path.rend(); ++it) {
        auto* slot = it->parent->find(it->level);
        if (!(*slot)->empty()) break;
        it->parent->erase(it->level);
    }
    return true;
}

void subscription_tree::match(std::string_view topic,
                              std::vector<std::pair<subscriber_id, std::uint8_t>>& out) const {
    out.clear();
    std::size_t contributing_nodes = 0;
    auto collect = [&](const node& n) {
        if (n.subscribers.empty()) return;
        ++contributing_nodes;
        for (const auto& [who, qos] : n.subscribers) out.emplace_back(who, qos);
    };

    stack_.clear();
    stack_.push_back({&root_for(topic), 0});
    while (!stack_.empty()) {
        const frame f = stack_.back();
        stack_.pop_back();
        if (f.pos == npos) {
            collect(*f.at);
            // "a/#" also matches "a" (the parent level).
            if (f.at->pound) collect(*f.at->pound);
            continue;
        }
        std::size_t next = f.pos;
        const auto level = next_level(topic, next);
        // '#' matches this level and everything below it.
        if (f.at->pound) collect(*f.at->pound);
        if (f.at->plus) stack_.push_back({f.at->plus.get(), next});
        if (const auto it = f.at->children.find(level); it != f.at->children.end()) {
            stack_.push_back({it->second.get(), next});
        }
    }

    // One node holds each subscriber at most once; only overlaps across nodes
    // need merging (keep the highest QoS).
    if (contributing_nodes > 1) {
        std::sort(out.begin(), out.end());  // by id, then QoS ascending
        std::size_t kept = 0;
        for (const auto& entry : out) {
            if (kept > 0 && out[kept - 1].first == entry.first) {
                out[kept - 1].second = entry.second;
            } else {
                out[kept++] = entry;
            }
        }
        out.resize(kept);
    }
}

}  // namespace router
