// Unit tests for frontend/limits/login_throttle (--failed-login-delay): the
// wait after failures doubles from 1 s to the cap, an address starts over
// after a quiet period, and the table of addresses stays bounded. Fake time.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>

#include "frontend/limits/login_throttle.hpp"

using namespace std::chrono_literals;
using frontend::limits::login_throttle;
using frontend::limits::login_throttle_settings;
using clock_type = std::chrono::steady_clock;

namespace {

const clock_type::time_point t0 = clock_type::time_point{} + 1000h;

login_throttle_settings with_cap(std::chrono::milliseconds cap, std::size_t max_addresses = 10) {
    return {1000ms, cap, max_addresses};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(limits_login_throttle)

BOOST_AUTO_TEST_CASE(delays_double_from_one_second_to_the_cap) {
    login_throttle t(with_cap(30s));
    const std::chrono::milliseconds want[] = {0ms,     1000ms,  2000ms,  4000ms, 8000ms,
                                              16000ms, 30000ms, 30000ms, 30000ms};
    for (unsigned n = 0; n < std::size(want); ++n)
        BOOST_TEST(t.delay_after(n).count() == want[n].count(), "after " << n << " failures");
    BOOST_TEST(t.delay_after(4'000'000'000u).count() == 30000);  // no overflow
    BOOST_TEST(t.quiet_period().count() == 60000);               // twice the cap, at least a minute
    BOOST_TEST(login_throttle(with_cap(600s)).quiet_period().count() == 1'200'000);
}

BOOST_AUTO_TEST_CASE(first_failure_answered_at_once_later_ones_wait_after_the_last) {
    login_throttle t(with_cap(30s));
    BOOST_TEST((t.allowed_at("a", t0) == t0));  // never failed
    BOOST_TEST(t.failed("a", t0) == 1u);
    BOOST_TEST((t.allowed_at("a", t0) == t0 + 1s));
    BOOST_TEST((t.allowed_at("a", t0 + 400ms) == t0 + 1s));
    BOOST_TEST((t.allowed_at("a", t0 + 5s) == t0 + 5s));  // waited long enough already
    BOOST_TEST((t.allowed_at("b", t0) == t0));            // other addresses: not slowed
    BOOST_TEST(t.failed("a", t0 + 1s) == 2u);
    BOOST_TEST((t.allowed_at("a", t0 + 1s) == t0 + 3s));
    BOOST_TEST(t.failed("a", t0 + 3s) == 3u);
    BOOST_TEST((t.allowed_at("a", t0 + 3s) == t0 + 7s));
}

BOOST_AUTO_TEST_CASE(parallel_failures_reach_the_cap_at_once) {
    // Ten CONNECTs held together and all refused at the same moment.
    login_throttle t(with_cap(30s));
    for (int i = 0; i < 10; ++i) t.failed("a", t0);
    BOOST_TEST((t.allowed_at("a", t0) == t0 + 30s));
}

BOOST_AUTO_TEST_CASE(a_quiet_period_starts_the_address_over) {
    login_throttle t(with_cap(30s));
    for (int i = 0; i < 6; ++i) t.failed("a", t0);
    BOOST_TEST((t.allowed_at("a", t0 + 59s) == t0 + 59s));  // past the 30 s wait
    BOOST_TEST(t.failed("a", t0 + 59s) == 7u);              // not quiet long enough
    BOOST_TEST(t.failed("a", t0 + 59s + 60s) == 1u);        // a minute without a failure
    BOOST_TEST((t.allowed_at("a", t0 + 119s) == t0 + 120s));
}

BOOST_AUTO_TEST_CASE(the_table_forgets_the_least_recently_failed_address) {
    login_throttle t(with_cap(30s, 3));
    t.failed("a", t0);
    t.failed("b", t0 + 1ms);
    t.failed("c", t0 + 2ms);
    t.failed("a", t0 + 3ms);  // a is now the most recent: b is the oldest
    t.failed("d", t0 + 4ms);
    BOOST_TEST(t.size() == 3u);
    BOOST_TEST((t.allowed_at("b", t0 + 5ms) == t0 + 5ms));  // forgotten
    BOOST_TEST((t.allowed_at("a", t0 + 5ms) > t0 + 5ms));
    BOOST_TEST((t.allowed_at("c", t0 + 5ms) > t0 + 5ms));
    BOOST_TEST((t.allowed_at("d", t0 + 5ms) > t0 + 5ms));
    for (int i = 0; i < 1000; ++i) t.failed("x" + std::to_string(i), t0 + 6ms);
    BOOST_TEST(t.size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_cap_of_zero_turns_it_off) {
    login_throttle t(with_cap(0s));
    BOOST_TEST(!t.enabled());
    for (int i = 0; i < 5; ++i) t.failed("a", t0);
    BOOST_TEST((t.allowed_at("a", t0) == t0));
    BOOST_TEST(t.size() == 0u);
    BOOST_TEST(t.delay_after(5).count() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
