// A latency histogram with fixed, log-spaced buckets (1-2-5 per decade, from
// 10 us to 10 s, plus one bucket for everything slower): record() is O(log n)
// with no allocation, and percentiles are read from the bucket counts, so two
// processes' histograms (or two snapshots of one) can be compared and merged.
//
// percentile(p) answers the upper bound of the bucket holding the p-th
// sample (or the largest sample, if smaller): an over-estimate by at most one
// bucket step (x2.5). Beyond the last bound it answers the largest sample.
//
// Plain value type, not thread-safe: owned by one thread (the one that
// records), copied into a snapshot on that thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace stats {

class histogram {
  public:
    // Upper bounds of the buckets, inclusive, in microseconds.
    static constexpr std::array<std::uint64_t, 19> bounds_us = {
        10,      20,        50,        100,       200,       500,     1'000,
        2'000,   5'000,     10'000,    20'000,    50'000,    100'000, 200'000,
        500'000, 1'000'000, 2'000'000, 5'000'000, 10'000'000};
    static constexpr std::size_t bucket_count = bounds_us.size() + 1;  // + overflow

    void record(std::uint64_t microseconds);

    // The value below which a fraction p (0..1) of the samples lie (see
    // above); 0 when empty.
    std::uint64_t percentile(double p) const;

    std::uint64_t count() const { return count_; }
    std::uint64_t sum() const { return sum_; }  // of every sample, microseconds
    std::uint64_t max() const { return max_; }
    const std::array<std::uint64_t, bucket_count>& counts() const { return counts_; }

  private:
    std::array<std::uint64_t, bucket_count> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
};

// The same rule over any bounds and counts (counts.size() == bounds.size() + 1,
// the last one unbounded, answered as `max`): what readers of a snapshot use.
std::uint64_t percentile(std::span<const std::uint64_t> bounds,
                         std::span<const std::uint64_t> counts, std::uint64_t max, double p);

}  // namespace stats
