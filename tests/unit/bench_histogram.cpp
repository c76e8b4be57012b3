// mqtt-bench's log-linear histogram (tools/mqtt-bench/histogram.hpp): bucket
// boundaries pinned by hand, the precision bound over the whole range, and
// percentiles, min/max/mean and merging on known data.
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <limits>

#include "tools/mqtt-bench/histogram.hpp"

using bench::log_histogram;

BOOST_AUTO_TEST_SUITE(bench_histogram)

BOOST_AUTO_TEST_CASE(values_below_256_have_a_bucket_each) {
    BOOST_TEST(log_histogram::index_of(0) == 0u);
    BOOST_TEST(log_histogram::index_of(1) == 1u);
    BOOST_TEST(log_histogram::index_of(255) == 255u);
    BOOST_TEST(log_histogram::lowest_in(200) == 200u);
    BOOST_TEST(log_histogram::highest_in(200) == 200u);
}

BOOST_AUTO_TEST_CASE(bucket_boundaries_above_256) {
    // 256..511: buckets of width 2 (indexes 256..383).
    BOOST_TEST(log_histogram::index_of(256) == 256u);
    BOOST_TEST(log_histogram::index_of(257) == 256u);
    BOOST_TEST(log_histogram::index_of(258) == 257u);
    BOOST_TEST(log_histogram::index_of(511) == 383u);
    BOOST_TEST(log_histogram::lowest_in(256) == 256u);
    BOOST_TEST(log_histogram::highest_in(256) == 257u);
    // 512..1023: width 4, from index 384.
    BOOST_TEST(log_histogram::index_of(512) == 384u);
    BOOST_TEST(log_histogram::index_of(515) == 384u);
    BOOST_TEST(log_histogram::index_of(516) == 385u);
    BOOST_TEST(log_histogram::highest_in(384) == 515u);
    // 1 s in ns (bit width 30, shift 22): 1e9 >> 22 = 238, index 256 + 21*128 + 110.
    BOOST_TEST(log_histogram::index_of(1'000'000'000) == 256u + 21 * 128 + 110);
    // The top bucket ends at the largest uint64.
    const auto top = std::numeric_limits<std::uint64_t>::max();
    BOOST_TEST(log_histogram::index_of(top) == log_histogram::bucket_count - 1);
    BOOST_TEST(log_histogram::highest_in(log_histogram::bucket_count - 1) == top);
}

BOOST_AUTO_TEST_CASE(buckets_tile_the_range_within_one_128th) {
    for (std::size_t i = 0; i + 1 < log_histogram::bucket_count; ++i) {
        const auto lo = log_histogram::lowest_in(i);
        const auto hi = log_histogram::highest_in(i);
        BOOST_TEST_REQUIRE(log_histogram::index_of(lo) == i);
        BOOST_TEST_REQUIRE(log_histogram::index_of(hi) == i);
        BOOST_TEST_REQUIRE(hi + 1 == log_histogram::lowest_in(i + 1));
        if (lo >= 256) BOOST_TEST_REQUIRE((hi - lo + 1) * 128 <= lo);
    }
}

BOOST_AUTO_TEST_CASE(empty_histogram_answers_zero) {
    log_histogram h;
    BOOST_TEST(h.count() == 0u);
    BOOST_TEST(h.value_at(50) == 0u);
    BOOST_TEST(h.value_at(100) == 0u);
    BOOST_TEST(h.min() == 0u);
    BOOST_TEST(h.max() == 0u);
    BOOST_TEST(h.mean() == 0.0);
}

BOOST_AUTO_TEST_CASE(small_values_are_exact) {
    log_histogram h;
    for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);
    BOOST_TEST(h.count() == 100u);
    BOOST_TEST(h.value_at(50) == 50u);
    BOOST_TEST(h.value_at(90) == 90u);
    BOOST_TEST(h.value_at(99) == 99u);
    BOOST_TEST(h.value_at(99.9) == 100u);  // ceil(99.9) = the 100th sample
    BOOST_TEST(h.value_at(100) == 100u);
    BOOST_TEST(h.min() == 1u);
    BOOST_TEST(h.max() == 100u);
    BOOST_TEST(h.mean() == 50.5);
}

BOOST_AUTO_TEST_CASE(large_values_within_one_bucket) {
    log_histogram h;
    for (std::uint64_t v = 1; v <= 100'000; ++v) h.record(v * 1000);  // 1 us .. 100 ms
    auto near = [](std::uint64_t got, double want) {
        return got >= want && got <= want * (1 + 1.0 / 128);
    };
    BOOST_TEST(near(h.value_at(50), 50'000'000.0));
    BOOST_TEST(near(h.value_at(90), 90'000'000.0));
    BOOST_TEST(near(h.value_at(99), 99'000'000.0));
    BOOST_TEST(near(h.value_at(99.9), 99'900'000.0));
    BOOST_TEST(h.max() == 100'000'000u);
    BOOST_TEST(h.min() == 1000u);
    BOOST_TEST(h.mean() == 50'000'500.0);
}

BOOST_AUTO_TEST_CASE(answers_are_clipped_to_the_largest_sample) {
    log_histogram h;
    h.record(1000);  // bucket 1000..1003
    BOOST_TEST(h.value_at(50) == 1000u);
    BOOST_TEST(h.value_at(99.9) == 1000u);
}

BOOST_AUTO_TEST_CASE(outlier_shows_only_in_the_tail) {
    log_histogram h;
    h.record(100, 999);       // 999 samples of 100 ns
    h.record(5'000'000'000);  // one stall of 5 s
    BOOST_TEST(h.count() == 1000u);
    BOOST_TEST(h.value_at(50) == 100u);
    BOOST_TEST(h.value_at(99.9) == 100u);  // the 999th sample
    BOOST_TEST(h.value_at(99.95) == 5'000'000'000u);
    BOOST_TEST(h.max() == 5'000'000'000u);
}

BOOST_AUTO_TEST_CASE(merge_equals_recording_into_one) {
    log_histogram a, b, all;
    for (std::uint64_t v = 0; v < 5000; ++v) {
        const std::uint64_t x = v * v * 37 + 11;
        (v % 3 ? a : b).record(x);
        all.record(x);
    }
    log_histogram empty;
    a.merge(empty);
    a.merge(b);
    BOOST_TEST(a.count() == all.count());
    BOOST_TEST(a.min() == all.min());
    BOOST_TEST(a.max() == all.max());
    BOOST_TEST(a.mean() == all.mean());
    for (double q : {1.0, 50.0, 90.0, 99.0, 99.9, 100.0})
        BOOST_TEST(a.value_at(q) == all.value_at(q));

    log_histogram fresh;
    fresh.merge(b);
    BOOST_TEST(fresh.min() == b.min());
    BOOST_TEST(fresh.count() == b.count());
}

BOOST_AUTO_TEST_SUITE_END()
