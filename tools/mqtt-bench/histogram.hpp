// A log-linear histogram in the manner of HdrHistogram: values below 256 are
// counted exactly; above, each power-of-two range is split into 128 equal
// buckets, so a bucket is never wider than 1/128 (0.8 %) of its values.
// 7424 fixed buckets cover the whole uint64 range; record() is O(1) with no
// allocation. Used for latencies and connect times in nanoseconds.
//
// value_at(q) answers the highest value of the bucket holding the q-th
// percentile sample, clipped to the largest sample recorded (so an
// over-estimate by less than one bucket width); min, max and mean are exact.
//
// Plain value type, not thread-safe: each worker thread records into its own,
// and the runner merges them after the threads have joined.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bench {

class log_histogram {
  public:
    static constexpr unsigned sub_bucket_bits = 8;
    static constexpr std::uint64_t sub_bucket_count = 1u << sub_bucket_bits;  // 256
    static constexpr std::uint64_t half_count = sub_bucket_count / 2;         // 128
    static constexpr std::size_t bucket_count =
        sub_bucket_count + (64 - sub_bucket_bits) * half_count;  // 7424

    log_histogram() : counts_(bucket_count, 0) {}

    void record(std::uint64_t value, std::uint64_t times = 1);
    void merge(const log_histogram& other);

    std::uint64_t count() const { return count_; }
    std::uint64_t min() const { return count_ ? min_ : 0; }
    std::uint64_t max() const { return max_; }
    double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }

    // The value at percentile q (0..100]: the smallest bucket whose cumulative
    // count reaches ceil(q% of count), answered as its highest value (at most
    // max()). 0 when empty; q >= 100 answers max().
    std::uint64_t value_at(double q) const;

    // Bucket arithmetic, public for tests.
    static std::size_t index_of(std::uint64_t value);
    static std::uint64_t lowest_in(std::size_t index);
    static std::uint64_t highest_in(std::size_t index);

  private:
    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0;
    std::uint64_t min_ = 0;
    std::uint64_t max_ = 0;
    double sum_ = 0;
};

}  // namespace bench
