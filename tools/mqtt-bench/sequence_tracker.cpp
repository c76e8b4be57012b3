#include "tools/mqtt-bench/sequence_tracker.hpp"

namespace bench {

sequence_tracker::outcome sequence_tracker::record(std::uint64_t sequence) {
    const std::uint64_t word = sequence / 64;
    const std::uint64_t bit = std::uint64_t{1} << (sequence % 64);
    if (word >= seen_.size()) seen_.resize(word + 1 + seen_.size() / 2, 0);
    if (seen_[word] & bit) {
        ++duplicates_;
        return outcome::duplicate;
    }
    seen_[word] |= bit;
    const bool first = unique_ == 0;
    ++unique_;
    if (!first && sequence < highest_) {
        ++reordered_;
        return outcome::reordered;
    }
    highest_ = sequence;
    return outcome::in_order;
}

}  // namespace bench
