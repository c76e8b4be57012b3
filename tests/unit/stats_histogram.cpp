// stats::histogram: bucket placement (bounds inclusive) and percentiles read
// from the bucket counts.
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <vector>

#include "common/stats/histogram.hpp"

using stats::histogram;

BOOST_AUTO_TEST_SUITE(stats_histogram)

BOOST_AUTO_TEST_CASE(bounds_are_log_spaced_and_increasing) {
    const auto& b = histogram::bounds_us;
    BOOST_TEST(b.front() == 10u);
    BOOST_TEST(b.back() == 10'000'000u);
    for (std::size_t i = 1; i < b.size(); ++i) {
        BOOST_TEST(b[i] > b[i - 1]);
        BOOST_TEST(b[i] <= b[i - 1] * 5 / 2);  // 1-2-5: at most x2.5 per step
    }
}

BOOST_AUTO_TEST_CASE(records_into_inclusive_buckets) {
    histogram h;
    h.record(0);           // bucket 0 (..10]
    h.record(10);          // bucket 0: bounds are inclusive
    h.record(11);          // bucket 1 (10..20]
    h.record(1'000);       // bucket 6 (500..1000]
    h.record(10'000'000);  // bucket 18, the last bound
    h.record(10'000'001);  // overflow
    h.record(99'000'000);  // overflow
    const auto& c = h.counts();
    BOOST_TEST(c[0] == 2u);
    BOOST_TEST(c[1] == 1u);
    BOOST_TEST(c[6] == 1u);
    BOOST_TEST(c[18] == 1u);
    BOOST_TEST(c[19] == 2u);
    BOOST_TEST(h.count() == 7u);
    BOOST_TEST(h.sum() == 0u + 10 + 11 + 1'000 + 10'000'000 + 10'000'001 + 99'000'000);
    BOOST_TEST(h.max() == 99'000'000u);
}

BOOST_AUTO_TEST_CASE(empty_percentiles_are_zero) {
    histogram h;
    BOOST_TEST(h.percentile(0.5) == 0u);
    BOOST_TEST(h.percentile(0.99) == 0u);
}

BOOST_AUTO_TEST_CASE(percentiles_answer_the_bucket_upper_bound) {
    histogram h;
    // 90 samples of 150 us (bucket (100..200]), 9 of 3 ms ((2000..5000]),
    // 1 of 40 ms ((20000..50000]).
    for (int i = 0; i < 90; ++i) h.record(150);
    for (int i = 0; i < 9; ++i) h.record(3'000);
    h.record(40'000);
    BOOST_TEST(h.percentile(0.5) == 200u);     // rank 50 of 100
    BOOST_TEST(h.percentile(0.9) == 200u);     // rank 90: still the first group
    BOOST_TEST(h.percentile(0.91) == 5'000u);  // rank 91
    BOOST_TEST(h.percentile(0.99) == 5'000u);  // rank 99
    BOOST_TEST(h.percentile(1.0) == 40'000u);  // rank 100: the largest sample is below the bound
    BOOST_TEST(h.percentile(0.0) == 200u);     // rank 1
}

BOOST_AUTO_TEST_CASE(small_samples_answer_the_largest_sample) {
    histogram h;
    h.record(3);
    h.record(4);
    BOOST_TEST(h.percentile(0.5) == 4u);  // bucket (..10], but nothing above 4 was seen
}

BOOST_AUTO_TEST_CASE(overflow_answers_the_largest_sample) {
    histogram h;
    h.record(5);
    h.record(30'000'000);
    h.record(20'000'000);
    BOOST_TEST(h.percentile(0.5) == 30'000'000u);  // rank 2 is in the overflow bucket
    BOOST_TEST(h.percentile(0.99) == 30'000'000u);
}

BOOST_AUTO_TEST_CASE(free_function_reads_any_bounds) {
    const std::vector<std::uint64_t> bounds = {1, 4, 16};
    const std::vector<std::uint64_t> counts = {0, 3, 1, 1};  // 5 samples, max 100
    BOOST_TEST(stats::percentile(bounds, counts, 100, 0.5) == 4u);
    BOOST_TEST(stats::percentile(bounds, counts, 100, 0.8) == 16u);
    BOOST_TEST(stats::percentile(bounds, counts, 100, 0.99) == 100u);
}

BOOST_AUTO_TEST_SUITE_END()
