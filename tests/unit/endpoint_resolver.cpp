// Unit tests for common/cluster/endpoint_resolver: turning --routers specs
// into the endpoints to connect to (DNS names expanded to one endpoint per
// address, literals passed through) and the watcher thread that reports the
// list and stops promptly. Only loopback names (/etc/hosts) and `.invalid`
// names (RFC 6761: never resolve) are looked up.
#include "common/cluster/endpoint_resolver.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using strings = std::vector<std::string>;

namespace {

// Collects what a watcher reports, from the watcher's thread.
struct reports {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<strings> lists;

    void add(const strings& l) {
        {
            std::lock_guard lock(mutex);
            lists.push_back(l);
        }
        changed.notify_all();
    }
    bool wait_for_count(std::size_t n, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, timeout, [&] { return lists.size() >= n; });
    }
    std::vector<strings> snapshot() {
        std::lock_guard lock(mutex);
        return lists;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(endpoint_resolver)

BOOST_AUTO_TEST_CASE(localhost_becomes_its_addresses_with_the_port) {
    std::string error = "stale";
    const auto out = cluster::resolve_endpoints({"tcp://localhost:7000"}, error);
    BOOST_TEST(error.empty());
    BOOST_TEST_REQUIRE(!out.empty());
    // 127.0.0.1 always; [::1] too where /etc/hosts lists it for localhost.
    BOOST_TEST((std::find(out.begin(), out.end(), "tcp://127.0.0.1:7000") != out.end()));
    for (const auto& e : out) {
        BOOST_TEST_CONTEXT(e) {
            BOOST_TEST((e == "tcp://127.0.0.1:7000" || e == "tcp://[::1]:7000"));
        }
    }
    BOOST_TEST(std::is_sorted(out.begin(), out.end()));
}

BOOST_AUTO_TEST_CASE(numeric_hosts_pass_through_unchanged) {
    std::string error;
    const strings specs = {"tcp://10.1.2.3:7000", "tcp://[::1]:7001", "tcp://[fe80::1%lo]:7002",
                           "tcp://[2001:db8::5]:7003"};
    const auto out = cluster::resolve_endpoints(specs, error);
    BOOST_TEST(error.empty());
    const strings expected = {"tcp://10.1.2.3:7000", "tcp://[2001:db8::5]:7003", "tcp://[::1]:7001",
                              "tcp://[fe80::1%lo]:7002"};  // sorted
    BOOST_TEST(out == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(inproc_and_ipc_pass_through_sorted_without_duplicates) {
    std::string error;
    const auto out =
        cluster::resolve_endpoints({"inproc://router", "ipc:///run/r.sock", "tcp://127.0.0.1:1",
                                    "inproc://router", "tcp://localhost:1"},
                                   error);
    BOOST_TEST(error.empty());
    // localhost:1 resolves to 127.0.0.1:1 (and perhaps [::1]:1): one entry each.
    BOOST_TEST(std::count(out.begin(), out.end(), "tcp://127.0.0.1:1") == 1);
    BOOST_TEST(std::count(out.begin(), out.end(), "inproc://router") == 1);
    BOOST_TEST(std::count(out.begin(), out.end(), "ipc:///run/r.sock") == 1);
    BOOST_TEST(std::is_sorted(out.begin(), out.end()));
    BOOST_TEST((std::adjacent_find(out.begin(), out.end()) == out.end()));
}

BOOST_AUTO_TEST_CASE(an_unresolvable_name_contributes_nothing_and_is_named) {
    std::string error;
    const auto out = cluster::resolve_endpoints(
        {"tcp://no-such-router.invalid:7000", "tcp://127.0.0.1:7000"}, error);
    const strings expected = {"tcp://127.0.0.1:7000"};  // the others still resolve
    BOOST_TEST(out == expected, boost::test_tools::per_element());
    BOOST_TEST(error.starts_with(
        "cannot resolve 'no-such-router.invalid' in tcp://no-such-router.invalid:7000: "));
    BOOST_TEST(error.find('\n') == std::string::npos);

    // Two failures: one line naming both. A later success clears the error.
    cluster::resolve_endpoints({"tcp://a.invalid:1", "tcp://b.invalid:2"}, error);
    BOOST_TEST(error.find("'a.invalid'") != std::string::npos);
    BOOST_TEST(error.find("; cannot resolve 'b.invalid'") != std::string::npos);
    BOOST_TEST(error.find('\n') == std::string::npos);
    cluster::resolve_endpoints({"inproc://x"}, error);
    BOOST_TEST(error.empty());
}

BOOST_AUTO_TEST_CASE(which_specs_need_dns) {
    for (const char* literal :
         {"inproc://router", "ipc:///tmp/r", "tcp://127.0.0.1:7000", "tcp://[::1]:7000",
          "tcp://*:7000", "tcp://nonsense", "udp://router:7000"})
        BOOST_TEST(cluster::is_literal_endpoint(literal), literal);
    for (const char* name : {"tcp://router:7000", "tcp://localhost:1", "tcp://r.example.com:7000"})
        BOOST_TEST(!cluster::is_literal_endpoint(name), name);
}

BOOST_AUTO_TEST_CASE(watcher_reports_the_initial_list_once_and_stops_promptly) {
    reports got;
    cluster::endpoint_watcher watcher({"tcp://localhost:7000", "inproc://r"}, 20ms,
                                      [&](const strings& l) { got.add(l); });
    watcher.start();
    BOOST_TEST_REQUIRE(got.wait_for_count(1, 5s));
    std::this_thread::sleep_for(200ms);  // ten more rounds, same answer: no new report
    const auto lists = got.snapshot();
    BOOST_TEST_REQUIRE(lists.size() == 1u);
    BOOST_TEST((std::find(lists[0].begin(), lists[0].end(), "inproc://r") != lists[0].end()));
    BOOST_TEST(
        (std::find(lists[0].begin(), lists[0].end(), "tcp://127.0.0.1:7000") != lists[0].end()));

    const auto before = std::chrono::steady_clock::now();
    watcher.stop();
    BOOST_TEST((std::chrono::steady_clock::now() - before < 500ms));
    watcher.stop();  // idempotent
}

BOOST_AUTO_TEST_CASE(watcher_reports_an_empty_start_and_wakes_from_a_long_interval) {
    reports got;
    auto watcher = std::make_unique<cluster::endpoint_watcher>(
        strings{"tcp://no-such-router.invalid:7000"}, std::chrono::hours(1),
        [&](const strings& l) { got.add(l); });
    watcher->start();
    BOOST_TEST_REQUIRE(got.wait_for_count(1, 10s));
    BOOST_TEST(got.snapshot().at(0).empty());
    // Asleep for an hour: the destructor wakes and joins it at once.
    const auto before = std::chrono::steady_clock::now();
    watcher.reset();
    BOOST_TEST((std::chrono::steady_clock::now() - before < 500ms));
    BOOST_TEST(got.snapshot().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
