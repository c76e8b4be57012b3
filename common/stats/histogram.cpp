#include "common/stats/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace stats {

void histogram::record(std::uint64_t microseconds) {
    const auto it = std::lower_bound(bounds_us.begin(), bounds_us.end(), microseconds);
    ++counts_[static_cast<std::size_t>(it - bounds_us.begin())];
    ++count_;
    sum_ += microseconds;
    max_ = std::max(max_, microseconds);
}

std::uint64_t histogram::percentile(double p) const {
    return stats::percentile(bounds_us, counts_, max_, p);
}

std::uint64_t percentile(std::span<const std::uint64_t> bounds,
                         std::span<const std::uint64_t> counts, std::uint64_t max, double p) {
    std::uint64_t total = 0;
    for (auto c : counts) total += c;
    if (total == 0) return 0;
    p = std::clamp(p, 0.0, 1.0);
    // The rank of the sample asked for, 1-based: the smallest n with n >= p * total.
    const auto rank = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(total))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        seen += counts[i];
        // The bucket's upper bound, or the largest sample if that is smaller
        // (both bound the sample from above); the overflow bucket: the largest.
        if (seen >= rank) return i < bounds.size() ? std::min(bounds[i], max) : max;
    }
    return max;
}

}  // namespace stats
