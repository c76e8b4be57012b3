// The messages this router routed recently, in the order it routed them.
//
// Session handover needs it: a session that arrives from another router
// carries, per origin, the highest stamp that router had routed ("seen").
// Each origin's messages reach every router in one FIFO with increasing
// stamps, so what the session still lacks is exactly this router's recent
// messages with a higher stamp than `seen` for their origin; replay() offers
// them. The history is bounded by age and count; when it no longer reaches
// back far enough for an origin, replay() says so (a gap the caller logs).
//
// Owned by router_core on the router thread; no locking.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/events/events.hpp"
#include "router/message.hpp"

namespace router {

class message_history {
  public:
    using clock = std::chrono::steady_clock;

    message_history(std::chrono::milliseconds max_age, std::size_t max_count)
        : max_age_(max_age), max_count_(max_count) {}

    // Records a message routed at `now` and drops what is too old.
    void add(const message_ptr& msg, clock::time_point now);
    void expire(clock::time_point now);

    // The highest stamp routed so far from each origin.
    std::vector<events::high_water> seen() const;
    std::uint64_t seen(const std::string& origin) const {
        auto it = seen_.find(origin);
        return it == seen_.end() ? 0 : it->second;
    }

    // Calls visit for every recorded message newer than `seen` for its origin
    // (every message of an origin absent from `seen`), oldest first. Returns
    // false if, for some origin in `seen`, messages newer than its stamp were
    // already dropped from the history (they cannot be replayed).
    bool replay(const std::vector<events::high_water>& seen,
                const std::function<void(const message_ptr&)>& visit) const;

    std::size_t size() const { return entries_.size(); }

  private:
    struct entry {
        message_ptr msg;
        clock::time_point at;
    };
    void drop_front();

    std::chrono::milliseconds max_age_;
    std::size_t max_count_;
    std::deque<entry> entries_;
    std::unordered_map<std::string, std::uint64_t> seen_;     // per origin: highest routed
    std::unordered_map<std::string, std::uint64_t> dropped_;  // per origin: highest dropped
};

}  // namespace router
