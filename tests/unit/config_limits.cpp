// Unit tests for the limit options of common/config (README "Limits"):
// defaults, each option from the command line, the environment and a config
// file, the one-line errors, and the address ranges of --exempt-addresses.
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/config/address_range.hpp"
#include "common/config/options.hpp"
#include "tests/unit/config_test_support.hpp"

namespace fs = std::filesystem;
using config::program;

using config_test::fails;
using config_test::files;
using config_test::ok;
using config_test::run;

namespace {

// A valid broker command line plus `more`.
std::vector<std::string> broker_args(const files& f, std::vector<std::string> more = {}) {
    return config_test::tls_args(f, std::move(more));
}

std::vector<std::string> texts(const std::vector<config::address_range>& ranges) {
    std::vector<std::string> out;
    for (const auto& r : ranges) out.push_back(r.text);
    return out;
}

boost::asio::ip::address ip(const char* text) {
    return boost::asio::ip::make_address(text);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_limits)

BOOST_AUTO_TEST_CASE(defaults) {
    files f;
    const auto o = ok(run(program::broker, broker_args(f)));
    BOOST_TEST(o.frontend.max_connections == 100'000u);
    BOOST_TEST(o.frontend.max_connections_per_address == 1000u);
    BOOST_TEST(o.frontend.connection_rate == 0u);
    BOOST_TEST(o.frontend.failed_login_delay_s == 30u);
    BOOST_TEST(
        texts(o.frontend.exempt_addresses) == (std::vector<std::string>{"127.0.0.0/8", "::1/128"}),
        boost::test_tools::per_element());
    BOOST_TEST(o.frontend.max_topic_length == 65'535u);
    BOOST_TEST(o.frontend.max_topic_levels == 128u);
    BOOST_TEST(o.router.max_subscriptions_per_client == 10'000u);
    // The limits that were there before.
    BOOST_TEST(o.frontend.max_packet_size == 16u * 1024 * 1024);
    BOOST_TEST(o.frontend.max_connect_packet_size == 256u * 1024);
    BOOST_TEST(o.frontend.client_write_buffer == 256u * 1024);
    BOOST_TEST(o.frontend.client_write_timeout_s == 60u);
}

BOOST_AUTO_TEST_CASE(each_limit_from_the_command_line) {
    files f;
    const auto o =
        ok(run(program::broker,
               broker_args(f, {"--max-connections", "0", "--max-connections-per-address", "10",
                               "--connection-rate", "250", "--failed-login-delay", "0",
                               "--exempt-addresses", "10.0.0.0/8,2001:db8::/32",
                               "--exempt-addresses", "192.0.2.7", "--max-topic-length", "1024",
                               "--max-topic-levels", "8", "--max-subscriptions-per-client", "0"})));
    BOOST_TEST(o.frontend.max_connections == 0u);
    BOOST_TEST(o.frontend.max_connections_per_address == 10u);
    BOOST_TEST(o.frontend.connection_rate == 250u);
    BOOST_TEST(o.frontend.failed_login_delay_s == 0u);
    BOOST_TEST(texts(o.frontend.exempt_addresses) ==
                   (std::vector<std::string>{"10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"}),
               boost::test_tools::per_element());
    BOOST_TEST(o.frontend.max_topic_length == 1024u);
    BOOST_TEST(o.frontend.max_topic_levels == 8u);
    BOOST_TEST(o.router.max_subscriptions_per_client == 0u);
}

BOOST_AUTO_TEST_CASE(limits_from_the_environment_and_a_config_file) {
    files f;
    const auto conf = f.write("limits.conf",
                              "max-connections-per-address = 5\n"
                              "exempt-addresses = none\n"
                              "max-subscriptions-per-client = 7\n");
    auto o = ok(run(program::broker, broker_args(f, {"--config", conf}),
                    {"MQTT_CONNECTION_RATE=9", "MQTT_MAX_TOPIC_LEVELS=3"}));
    BOOST_TEST(o.frontend.max_connections_per_address == 5u);
    BOOST_TEST(o.frontend.exempt_addresses.empty());
    BOOST_TEST(o.router.max_subscriptions_per_client == 7u);
    BOOST_TEST(o.frontend.connection_rate == 9u);
    BOOST_TEST(o.frontend.max_topic_levels == 3u);
    // A router has the subscription limit, a frontend the others.
    o = ok(run(program::router, {"--max-subscriptions-per-client", "3"}));
    BOOST_TEST(o.router.max_subscriptions_per_client == 3u);
    fails(run(program::router, {"--max-connections", "3"}),
          "--max-connections: not an option of mqtt-router");
    fails(run(program::frontend, broker_args(f, {"--routers", "tcp://127.0.0.1:7000",
                                                 "--max-subscriptions-per-client", "3"})),
          "--max-subscriptions-per-client: not an option of mqtt-frontend");
}

BOOST_AUTO_TEST_CASE(one_line_errors_name_the_setting) {
    files f;
    const std::pair<std::vector<std::string>, std::string> rows[] = {
        {{"--max-connections", "x"}, "--max-connections: 'x' is not a number"},
        {{"--max-connections", "10000001"},
         "--max-connections: 10000001 is out of range (0..10000000)"},
        {{"--max-connections-per-address", "-1"},
         "--max-connections-per-address: '-1' is not a number"},
        {{"--connection-rate", "1000001"},
         "--connection-rate: 1000001 is out of range (0..1000000)"},
        {{"--failed-login-delay", "3601"}, "--failed-login-delay: 3601 is out of range (0..3600)"},
        {{"--max-topic-length", "0"}, "--max-topic-length: 0 is out of range (1..65535)"},
        {{"--max-topic-length", "65536"}, "--max-topic-length: 65536 is out of range (1..65535)"},
        {{"--max-topic-levels", "0"}, "--max-topic-levels: 0 is out of range (1..65535)"},
        {{"--max-subscriptions-per-client", "4294967296"},
         "--max-subscriptions-per-client: 4294967296 is out of range (0..4294967295)"},
        {{"--exempt-addresses", "localhost"},
         "--exempt-addresses localhost: not an IPv4 or IPv6 address or CIDR range"},
        {{"--exempt-addresses", "10.0.0.1/8"},
         "--exempt-addresses 10.0.0.1/8: host bits set after /8"},
        {{"--exempt-addresses", "10.0.0.0/33"},
         "--exempt-addresses 10.0.0.0/33: prefix must be 0..32"},
        {{"--exempt-addresses", "::1/129"}, "--exempt-addresses ::1/129: prefix must be 0..128"},
        {{"--exempt-addresses", "10.0.0.0/"}, "--exempt-addresses 10.0.0.0/: prefix must be 0..32"},
        {{"--exempt-addresses", "none,10.0.0.0/8"},
         "--exempt-addresses: 'none' cannot be combined with addresses"},
    };
    for (const auto& [args, expected] : rows) {
        BOOST_TEST_CONTEXT(expected) {
            fails(run(program::broker, broker_args(f, args)), expected);
        }
    }
    fails(run(program::broker, broker_args(f), {"MQTT_MAX_TOPIC_LEVELS=0"}),
          "MQTT_MAX_TOPIC_LEVELS: 0 is out of range (1..65535)");
}

BOOST_AUTO_TEST_CASE(help_lists_the_limits) {
    const auto help = run(program::broker, {"--help"}).message;
    for (const char* name :
         {"--max-connections", "--max-connections-per-address", "--connection-rate",
          "--failed-login-delay", "--exempt-addresses", "--max-topic-length", "--max-topic-levels",
          "--max-subscriptions-per-client", "--client-write-buffer", "--client-write-timeout"})
        BOOST_TEST(help.find(name) != std::string::npos, name);
}

BOOST_AUTO_TEST_CASE(address_ranges_contain_their_addresses) {
    std::string why;
    const auto lo = config::parse_address_range("127.0.0.0/8", why);
    BOOST_TEST_REQUIRE(lo.has_value());
    BOOST_TEST(lo->contains(ip("127.0.0.1")));
    BOOST_TEST(lo->contains(ip("127.255.255.254")));
    BOOST_TEST(lo->contains(ip("::ffff:127.0.0.2")));  // IPv4-mapped: a dual-stack listener
    BOOST_TEST(!lo->contains(ip("128.0.0.1")));
    BOOST_TEST(!lo->contains(ip("::1")));

    const auto one = config::parse_address_range("::1", why);
    BOOST_TEST_REQUIRE(one.has_value());
    BOOST_TEST(one->text == "::1/128");
    BOOST_TEST(one->contains(ip("::1")));
    BOOST_TEST(!one->contains(ip("::2")));
    BOOST_TEST(!one->contains(ip("127.0.0.1")));

    const auto net = config::parse_address_range("2001:db8:80::/41", why);
    BOOST_TEST_REQUIRE(net.has_value());
    BOOST_TEST(net->contains(ip("2001:db8:80::1")));
    BOOST_TEST(net->contains(ip("2001:db8:ff:ffff::1")));   // last of the /41
    BOOST_TEST(!net->contains(ip("2001:db8:100::1")));      // just after
    BOOST_TEST(!net->contains(ip("2001:db8:7f:ffff::1")));  // just before

    const auto all = config::parse_address_range("0.0.0.0/0", why);
    BOOST_TEST_REQUIRE(all.has_value());
    BOOST_TEST(all->contains(ip("203.0.113.9")));
    BOOST_TEST(!all->contains(ip("2001:db8::1")));  // an IPv4 range holds no IPv6 address

    // An IPv4-mapped range is the IPv4 range it stands for.
    const auto mapped = config::parse_address_range("::ffff:10.1.2.0/120", why);
    BOOST_TEST_REQUIRE(mapped.has_value());
    BOOST_TEST(mapped->text == "10.1.2.0/24");
    BOOST_TEST(mapped->contains(ip("10.1.2.200")));
    BOOST_TEST(!config::parse_address_range("::ffff:10.1.2.0/95", why).has_value());
    BOOST_TEST(why == "prefix must be 96..128");
}

BOOST_AUTO_TEST_SUITE_END()
