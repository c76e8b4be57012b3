// stats::sum, stats::rate and stats::to_json (common/stats/aggregate.hpp), the
// logic of mqtt-stat: totals by name over processes, rates between two
// snapshots of one incarnation, and the exact JSON text, written out by hand.
#include <boost/test/unit_test.hpp>

#include "common/stats/aggregate.hpp"

namespace {

stats::snapshot router_snap() {
    stats::snapshot s;
    s.kind = stats::process_kind::router;
    s.id = "r1";
    s.incarnation = 7;
    s.sequence = 3;
    s.uptime_ms = 2500;
    s.counter("messages.in", 10);
    s.counter("messages.out", 4);
    s.gauge("messages.queued", 2);
    return s;
}

stats::snapshot frontend_snap() {
    stats::snapshot s;
    s.kind = stats::process_kind::frontend;
    s.id = "f\"1";  // a quote to escape
    s.incarnation = 9;
    s.sequence = 1;
    s.uptime_ms = 1001;
    s.counter("messages.in", 5);
    s.gauge("connections.current", 3);
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(stats_aggregate)

BOOST_AUTO_TEST_CASE(sum_adds_by_name_and_skips_absent_names) {
    const auto t = stats::sum({router_snap(), frontend_snap()});
    BOOST_TEST(t.counters.size() == 2u);
    BOOST_TEST(t.counters.at("messages.in") == 15u);
    BOOST_TEST(t.counters.at("messages.out") == 4u);  // the frontend lacks it: adds nothing
    BOOST_TEST(t.gauges.at("messages.queued") == 2u);
    BOOST_TEST(t.gauges.at("connections.current") == 3u);
    BOOST_TEST(stats::sum({}).counters.empty());
}

BOOST_AUTO_TEST_CASE(rate_is_per_second_within_one_incarnation) {
    const auto a = router_snap();
    auto b = a;
    b.sequence = 4;
    b.uptime_ms = 3000;        // 0.5 s later
    b.counters[0].value = 20;  // messages.in +10
    BOOST_TEST(*stats::rate(a, b, "messages.in") == 20.0);
    BOOST_TEST(*stats::rate(a, b, "messages.out") == 0.0);
    BOOST_TEST(!stats::rate(a, b, "no.such.counter"));
    BOOST_TEST(!stats::rate(a, a, "messages.in"));  // no time passed
    auto restarted = b;
    restarted.incarnation = 8;
    BOOST_TEST(!stats::rate(a, restarted, "messages.in"));
}

BOOST_AUTO_TEST_CASE(json_text) {
    stats::snapshot r = router_snap();
    stats::histogram_data h;
    h.name = "latency.x_us";
    h.bounds = {10, 20};
    h.counts = {1, 1, 0};  // one sample <= 10, one in (10, 20]
    h.sum = 25;
    h.max = 18;
    r.histograms.push_back(h);
    const std::string expected =
        "{\"processes\":["
        "{\"kind\":\"router\",\"id\":\"r1\",\"uptime\":2.500,"
        "\"counters\":{\"messages.in\":10,\"messages.out\":4},"
        "\"gauges\":{\"messages.queued\":2},"
        "\"histograms\":{\"latency.x_us\":{\"p50\":10,\"p99\":18,\"count\":2}}},"
        "{\"kind\":\"frontend\",\"id\":\"f\\\"1\",\"uptime\":1.001,"
        "\"counters\":{\"messages.in\":5},"
        "\"gauges\":{\"connections.current\":3},"
        "\"histograms\":{}}],"
        "\"total\":{"
        "\"frontend\":{\"counters\":{\"messages.in\":5},\"gauges\":{\"connections.current\":3}},"
        "\"router\":{\"counters\":{\"messages.in\":10,\"messages.out\":4},"
        "\"gauges\":{\"messages.queued\":2}}}}";
    BOOST_TEST(stats::to_json({r, frontend_snap()}) == expected);
    BOOST_TEST(stats::to_json({}) == "{\"processes\":[],\"total\":{}}");
}

BOOST_AUTO_TEST_CASE(json_quote_escapes_controls) {
    BOOST_TEST(stats::json_quote("a\\b\n\x01") == "\"a\\\\b\\n\\u0001\"");
}

BOOST_AUTO_TEST_SUITE_END()
