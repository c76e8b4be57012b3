#include "tools/mqtt-bench/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace bench {

// Index layout: [0, 256) one bucket per value; then for each shift e >= 1
// (values with bit width 8 + e) 128 buckets of width 2^e, holding
// (value >> e) in [128, 256).
std::size_t log_histogram::index_of(std::uint64_t value) {
    if (value < sub_bucket_count) return static_cast<std::size_t>(value);
    const unsigned shift = static_cast<unsigned>(std::bit_width(value)) - sub_bucket_bits;
    return static_cast<std::size_t>(sub_bucket_count + (shift - 1) * half_count +
                                    ((value >> shift) - half_count));
}

std::uint64_t log_histogram::lowest_in(std::size_t index) {
    if (index < sub_bucket_count) return index;
    const std::uint64_t above = index - sub_bucket_count;
    const unsigned shift = static_cast<unsigned>(above / half_count) + 1;
    return (half_count + above % half_count) << shift;
}

std::uint64_t log_histogram::highest_in(std::size_t index) {
    if (index < sub_bucket_count) return index;
    const unsigned shift = static_cast<unsigned>((index - sub_bucket_count) / half_count) + 1;
    return lowest_in(index) + ((std::uint64_t{1} << shift) - 1);
}

void log_histogram::record(std::uint64_t value, std::uint64_t times) {
    if (times == 0) return;
    counts_[index_of(value)] += times;
    min_ = count_ == 0 ? value : std::min(min_, value);
    max_ = std::max(max_, value);
    count_ += times;
    sum_ += static_cast<double>(value) * static_cast<double>(times);
}

void log_histogram::merge(const log_histogram& other) {
    if (other.count_ == 0) return;
    for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
    min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    count_ += other.count_;
    sum_ += other.sum_;
}

std::uint64_t log_histogram::value_at(double q) const {
    if (count_ == 0) return 0;
    if (q >= 100.0) return max_;
    // The rank ceil(q% of count); the tiny margin keeps 99.9% of 1000 at 999
    // despite 99.9 having no exact binary form.
    const double rank = std::max(q, 0.0) / 100.0 * static_cast<double>(count_);
    const double wanted = std::ceil(rank * (1 - 1e-12));
    const std::uint64_t target = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += counts_[i];
        if (seen >= target) return std::min(highest_in(i), max_);
    }
    return max_;
}

}  // namespace bench
