// stats::prometheus::render (common/stats/prometheus.hpp), the body of
// `mqtt-stat --prometheus` GET /metrics: hand-built snapshots against the
// exact text exposition format (0.0.4) written out by hand, line by line.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "common/stats/prometheus.hpp"

using namespace std::chrono_literals;
using stats::prometheus::render;
using stats::prometheus::target;

namespace {

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
        out.push_back(text.substr(start, nl - start));
    if (start != text.size()) out.push_back(text.substr(start) + "  <-- no final newline");
    return out;
}

stats::snapshot router(const std::string& id, std::uint64_t messages_in) {
    stats::snapshot s;
    s.kind = stats::process_kind::router;
    s.id = id;
    s.incarnation = 7;
    s.sequence = 3;
    s.uptime_ms = 2500;
    s.counter("messages.in", messages_in);
    s.counter("messages.in.qos1", 50);
    s.gauge("sessions.online", 1);
    // Samples 5, 300, 700 and 3000000 us: buckets (..10] (10..1000] (1000..2500000] (2500000..)
    s.histograms.push_back(
        {"latency.delivery_us", {10, 1000, 2500000}, {1, 2, 0, 1}, 3001005, 3000000});
    return s;
}

stats::snapshot frontend() {
    stats::snapshot s;
    s.kind = stats::process_kind::frontend;
    s.id = "fe\"1\\2\n3";  // a quote, a backslash and a newline to escape
    s.uptime_ms = 42;
    s.counter("messages.in", 80);
    s.gauge("connections.current", 2);
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(stats_prometheus)

BOOST_AUTO_TEST_CASE(renders_families_labels_and_histograms_exactly) {
    const std::vector<target> targets = {
        {"tcp://127.0.0.1:7100", router("r1", 80), 500ms},
        {"tcp://[::1]:7100", router("r1", 79), 900ms},  // the same process, an older snapshot
        {"tcp://127.0.0.1:7101", frontend(), 100ms},
        {"tcp://127.0.0.1:7102", router("r2", 7), 3000ms},  // stale: mqtt_up 0 only
        {"ipc:///tmp/a\"b", std::nullopt, 0ms},             // never heard from
    };
    const std::string expected =
        R"(# HELP mqtt_up 1 if the stats endpoint sent a snapshot in the last 3 s, else 0.
# TYPE mqtt_up gauge
mqtt_up{kind="router",id="r1",endpoint="tcp://127.0.0.1:7100"} 1
mqtt_up{kind="router",id="r1",endpoint="tcp://[::1]:7100"} 1
mqtt_up{kind="frontend",id="fe\"1\\2\n3",endpoint="tcp://127.0.0.1:7101"} 1
mqtt_up{kind="router",id="r2",endpoint="tcp://127.0.0.1:7102"} 0
mqtt_up{kind="",id="",endpoint="ipc:///tmp/a\"b"} 0
# HELP mqtt_uptime_seconds Seconds since the process started.
# TYPE mqtt_uptime_seconds gauge
mqtt_uptime_seconds{kind="router",id="r1"} 2.5
mqtt_uptime_seconds{kind="frontend",id="fe\"1\\2\n3"} 0.042
# HELP mqtt_connections_current Stats gauge connections.current (docs/stats.md).
# TYPE mqtt_connections_current gauge
mqtt_connections_current{kind="frontend",id="fe\"1\\2\n3"} 2
# HELP mqtt_latency_delivery_seconds Stats histogram latency.delivery_us, in seconds (docs/stats.md).
# TYPE mqtt_latency_delivery_seconds histogram
mqtt_latency_delivery_seconds_bucket{kind="router",id="r1",le="0.00001"} 1
mqtt_latency_delivery_seconds_bucket{kind="router",id="r1",le="0.001"} 3
mqtt_latency_delivery_seconds_bucket{kind="router",id="r1",le="2.5"} 3
mqtt_latency_delivery_seconds_bucket{kind="router",id="r1",le="+Inf"} 4
mqtt_latency_delivery_seconds_sum{kind="router",id="r1"} 3.001005
mqtt_latency_delivery_seconds_count{kind="router",id="r1"} 4
# HELP mqtt_messages_in_qos1_total Stats counter messages.in.qos1 (docs/stats.md).
# TYPE mqtt_messages_in_qos1_total counter
mqtt_messages_in_qos1_total{kind="router",id="r1"} 50
# HELP mqtt_messages_in_total Stats counter messages.in (docs/stats.md).
# TYPE mqtt_messages_in_total counter
mqtt_messages_in_total{kind="router",id="r1"} 80
mqtt_messages_in_total{kind="frontend",id="fe\"1\\2\n3"} 80
# HELP mqtt_sessions_online Stats gauge sessions.online (docs/stats.md).
# TYPE mqtt_sessions_online gauge
mqtt_sessions_online{kind="router",id="r1"} 1
)";
    BOOST_TEST(lines(render(targets)) == lines(expected), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_freshest_endpoint_speaks_for_a_process) {
    // The same process twice; the second entry is the fresher: its values win.
    stats::snapshot a;
    a.id = "r1";
    a.uptime_ms = 1000;
    a.counter("messages.out", 1);
    stats::snapshot b = a;
    b.uptime_ms = 2000;
    b.counters[0].value = 2;
    const std::string expected =
        R"(# HELP mqtt_up 1 if the stats endpoint sent a snapshot in the last 1.5 s, else 0.
# TYPE mqtt_up gauge
mqtt_up{kind="router",id="r1",endpoint="tcp://10.0.0.1:7100"} 1
mqtt_up{kind="router",id="r1",endpoint="tcp://10.0.0.2:7100"} 1
# HELP mqtt_uptime_seconds Seconds since the process started.
# TYPE mqtt_uptime_seconds gauge
mqtt_uptime_seconds{kind="router",id="r1"} 2
# HELP mqtt_messages_out_total Stats counter messages.out (docs/stats.md).
# TYPE mqtt_messages_out_total counter
mqtt_messages_out_total{kind="router",id="r1"} 2
)";
    BOOST_TEST(lines(render({{"tcp://10.0.0.1:7100", a, 1200ms}, {"tcp://10.0.0.2:7100", b, 10ms}},
                            1500ms)) == lines(expected),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(collisions_and_bad_histograms_are_skipped_not_repeated) {
    stats::snapshot s;
    s.kind = stats::process_kind::broker;
    s.id = "b";
    s.uptime_ms = 1;
    s.counter("a", 1);
    s.counter("a", 2);      // the same name twice: the first only
    s.gauge("a.total", 3);  // mqtt_a_total is a counter already: skipped
    s.gauge("up", 4);       // mqtt_up is ours: skipped
    s.gauge("x-y z", 5);    // characters outside [a-zA-Z0-9_:] become '_'
    s.histograms.push_back({"bad_us", {10, 5}, {0, 0, 0}, 0, 0});  // bounds not increasing
    s.histograms.push_back({"short", {10}, {1}, 0, 0});            // counts too short
    s.histograms.push_back({"plain", {1}, {0, 0}, 0, 0});          // no _us suffix: kept as is
    const std::string expected =
        R"(# HELP mqtt_up 1 if the stats endpoint sent a snapshot in the last 3 s, else 0.
# TYPE mqtt_up gauge
mqtt_up{kind="broker",id="b",endpoint="tcp://h:1"} 1
# HELP mqtt_uptime_seconds Seconds since the process started.
# TYPE mqtt_uptime_seconds gauge
mqtt_uptime_seconds{kind="broker",id="b"} 0.001
# HELP mqtt_a_total Stats counter a (docs/stats.md).
# TYPE mqtt_a_total counter
mqtt_a_total{kind="broker",id="b"} 1
# HELP mqtt_plain_seconds Stats histogram plain, in seconds (docs/stats.md).
# TYPE mqtt_plain_seconds histogram
mqtt_plain_seconds_bucket{kind="broker",id="b",le="0.000001"} 0
mqtt_plain_seconds_bucket{kind="broker",id="b",le="+Inf"} 0
mqtt_plain_seconds_sum{kind="broker",id="b"} 0
mqtt_plain_seconds_count{kind="broker",id="b"} 0
# HELP mqtt_x_y_z Stats gauge x-y z (docs/stats.md).
# TYPE mqtt_x_y_z gauge
mqtt_x_y_z{kind="broker",id="b"} 5
)";
    BOOST_TEST(lines(render({{"tcp://h:1", s, 0ms}})) == lines(expected),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(nothing_to_say_is_an_empty_body) {
    BOOST_TEST(render({}) == "");
}

BOOST_AUTO_TEST_CASE(names_escapes_and_seconds) {
    using namespace stats::prometheus;
    BOOST_TEST(metric_name("messages.dropped.qos0_shed") == "messages_dropped_qos0_shed");
    BOOST_TEST(metric_name("a:b-c") == "a:b_c");
    BOOST_TEST(escape_label_value("a\\b\"c\nd\te") == "a\\\\b\\\"c\\nd\te");  // tab stays
    BOOST_TEST(seconds_of_us(0) == "0");
    BOOST_TEST(seconds_of_us(10) == "0.00001");
    BOOST_TEST(seconds_of_us(1'000'000) == "1");
    BOOST_TEST(seconds_of_us(2'500'000) == "2.5");
    BOOST_TEST(seconds_of_us(10'000'001) == "10.000001");
    BOOST_TEST(seconds_of_us(18446744073709551615ull) == "18446744073709.551615");
}

BOOST_AUTO_TEST_SUITE_END()
