// Delivery accounting for one (publisher, subscriber) stream: fed the
// sequence numbers as they arrive, it counts unique, duplicated (seen
// before) and reordered (lower than the highest seen, and not a duplicate)
// messages; lost(expected) is what is missing at the end.
//
// Sequence numbers are dense from 0 (one publisher's), so "seen" is a bitmap:
// one bit per message up to the highest seen.
//
// Plain value type, not thread-safe: owned by its subscriber, on the
// subscriber's worker thread; read by the runner after the threads joined.
#pragma once

#include <cstdint>
#include <vector>

namespace bench {

class sequence_tracker {
  public:
    enum class outcome { in_order, reordered, duplicate };

    outcome record(std::uint64_t sequence);

    std::uint64_t unique() const { return unique_; }
    std::uint64_t duplicates() const { return duplicates_; }
    std::uint64_t reordered() const { return reordered_; }
    std::uint64_t received() const { return unique_ + duplicates_; }
    // The highest sequence seen + 1 (0 when nothing arrived).
    std::uint64_t span() const { return unique_ ? highest_ + 1 : 0; }

    // Messages of `expected` (those the publisher had acknowledged, or sent
    // at QoS 0) that never arrived: expected - unique, at least 0.
    std::uint64_t lost(std::uint64_t expected) const {
        return expected > unique_ ? expected - unique_ : 0;
    }

  private:
    std::vector<std::uint64_t> seen_;  // bit s set: sequence s arrived
    std::uint64_t highest_ = 0;
    std::uint64_t unique_ = 0;
    std::uint64_t duplicates_ = 0;
    std::uint64_t reordered_ = 0;
};

}  // namespace bench
