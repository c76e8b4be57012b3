// Unit tests for frontend/limits: the token bucket of --connection-rate, the
// connection_limiter (--max-connections, --max-connections-per-address) and
// the address keys they count by, driven with fake time points.
#include <boost/asio/ip/address.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>

#include "frontend/limits/address_key.hpp"
#include "frontend/limits/connection_limiter.hpp"
#include "frontend/limits/token_bucket.hpp"

using namespace std::chrono_literals;
using frontend::limits::admission;
using frontend::limits::admission_ticket;
using frontend::limits::connection_limiter;
using frontend::limits::token_bucket;
using clock_type = std::chrono::steady_clock;

namespace {

// An arbitrary fake "now".
const clock_type::time_point t0 = clock_type::time_point{} + 1000h;

std::string key(const char* address) {
    return frontend::limits::address_key(boost::asio::ip::make_address(address));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(limits_admission)

BOOST_AUTO_TEST_CASE(bucket_allows_a_burst_then_one_token_per_interval) {
    token_bucket b(5, t0);  // 5 a second: one every 200 ms, burst 5
    for (int i = 0; i < 5; ++i) {
        BOOST_TEST((b.available_at(t0) == t0));
        b.take(t0);
    }
    BOOST_TEST((b.available_at(t0) == t0 + 200ms));
    BOOST_TEST((b.available_at(t0 + 199ms) == t0 + 200ms));
    BOOST_TEST((b.available_at(t0 + 200ms) == t0 + 200ms));
    b.take(t0 + 200ms);
    BOOST_TEST((b.available_at(t0 + 200ms) == t0 + 400ms));
    // A long pause refills the burst, never more.
    BOOST_TEST((b.available_at(t0 + 1h) == t0 + 1h));
    for (int i = 0; i < 5; ++i) b.take(t0 + 1h);
    BOOST_TEST((b.available_at(t0 + 1h) == t0 + 1h + 200ms));
}

BOOST_AUTO_TEST_CASE(bucket_debt_is_paid_back_by_a_longer_wait) {
    token_bucket b(2, t0);  // one every 500 ms
    b.take(t0);
    b.take(t0);
    b.take(t0);  // a second listener took the same token: 1 in debt
    BOOST_TEST((b.available_at(t0) == t0 + 1000ms));
    // An odd rate rounds the wait up, never down.
    token_bucket odd(3, t0);
    for (int i = 0; i < 3; ++i) odd.take(t0);
    BOOST_TEST((odd.available_at(t0) == t0 + std::chrono::nanoseconds(333'333'334)));
}

BOOST_AUTO_TEST_CASE(bucket_of_rate_zero_is_unlimited) {
    token_bucket b(0, t0);
    BOOST_TEST(b.unlimited());
    for (int i = 0; i < 100'000; ++i) b.take(t0);
    BOOST_TEST((b.available_at(t0) == t0));
}

BOOST_AUTO_TEST_CASE(total_limit_counts_every_connection_until_released) {
    connection_limiter l({2, 0, 0}, t0);
    admission_ticket t1, t2, t3;
    BOOST_TEST((l.admit(key("192.0.2.1"), t0, t1) == admission::admitted));
    BOOST_TEST((l.admit("", t0, t2) == admission::admitted));  // exempt: in the total too
    BOOST_TEST((l.admit(key("192.0.2.2"), t0, t3) == admission::over_total));
    BOOST_TEST(t1.held());
    BOOST_TEST(t2.held());
    BOOST_TEST(!t3.held());  // refused: nothing to give back
    BOOST_TEST(l.connections() == 2u);
    l.release(t2);
    BOOST_TEST(!t2.held());
    l.release(t2);  // emptied: releasing again changes nothing
    l.release(t3);  // never held: nothing
    BOOST_TEST(l.connections() == 1u);
    BOOST_TEST((l.admit(key("192.0.2.2"), t0, t3) == admission::admitted));
}

BOOST_AUTO_TEST_CASE(per_address_limit_counts_each_address_alone) {
    connection_limiter l({0, 2, 0}, t0);
    const auto a = key("192.0.2.1"), b = key("192.0.2.2");
    admission_ticket t[20];
    BOOST_TEST((l.admit(a, t0, t[1]) == admission::admitted));
    BOOST_TEST((l.admit(a, t0, t[2]) == admission::admitted));
    BOOST_TEST((l.admit(a, t0, t[3]) == admission::over_address));
    BOOST_TEST((l.admit(b, t0, t[4]) == admission::admitted));  // another address is not affected
    BOOST_TEST(l.connections_from(a) == 2u);
    BOOST_TEST(l.connections_from(b) == 1u);
    // Exempt connections (empty key) are never refused for their address.
    for (int i = 10; i < 20; ++i) BOOST_TEST((l.admit("", t0, t[i]) == admission::admitted));
    BOOST_TEST(l.connections() == 13u);
    l.release(t[1]);
    BOOST_TEST((l.admit(a, t0, t[5]) == admission::admitted));
    BOOST_TEST(*t[5].key() == a);  // the ticket names its address key
    BOOST_TEST(t[10].key()->empty());
    BOOST_TEST(t[3].key() == nullptr);  // refused: never counted
    // An address's entry goes with its last connection: memory follows live connections.
    l.release(t[2]);
    l.release(t[5]);
    l.release(t[4]);
    BOOST_TEST(l.addresses() == 0u);
    BOOST_TEST(l.connections() == 10u);  // the exempt ones
    for (int i = 10; i < 20; ++i) l.release(t[i]);
    BOOST_TEST(l.connections() == 0u);
}

BOOST_AUTO_TEST_CASE(only_admitted_connections_take_a_rate_token) {
    connection_limiter l({0, 1, 2}, t0);  // 2 a second, one per address
    const auto a = key("192.0.2.1");
    admission_ticket first, refused, second;
    BOOST_TEST((l.next_accept(t0) == t0));
    BOOST_TEST((l.admit(a, t0, first) == admission::admitted));
    for (int i = 0; i < 10; ++i)  // refused ones are cheap: they cost no token
        BOOST_TEST((l.admit(a, t0, refused) == admission::over_address));
    BOOST_TEST((l.next_accept(t0) == t0));
    BOOST_TEST((l.admit(key("192.0.2.2"), t0, second) == admission::admitted));
    BOOST_TEST((l.next_accept(t0) == t0 + 500ms));
}

BOOST_AUTO_TEST_CASE(address_keys_ipv4_as_is_ipv6_by_its_64) {
    BOOST_TEST(key("192.0.2.7") == "192.0.2.7");
    BOOST_TEST(key("::ffff:192.0.2.7") == "192.0.2.7");  // dual-stack listener, IPv4 client
    BOOST_TEST(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64");
    BOOST_TEST(key("2001:db8:1:2::1") == key("2001:db8:1:2:ffff::9"));
    BOOST_TEST(key("2001:db8:1:3::1") != key("2001:db8:1:2::1"));
    BOOST_TEST(key("::1") == "::/64");
}

BOOST_AUTO_TEST_SUITE_END()
