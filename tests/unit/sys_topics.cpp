// $SYS values: a router's share, cluster totals over peers' shares, and the
// Mosquitto topic names they are published under.
#include "router/sys_topics.hpp"

#include <boost/test/unit_test.hpp>
#include <map>

namespace {

std::map<std::string, std::string> as_map(
    const std::vector<std::pair<std::string, std::string>>& messages) {
    return {messages.begin(), messages.end()};
}

std::uint64_t get(const router::stat_values& v, const std::string& name) {
    for (const auto& [n, x] : v)
        if (n == name) return x;
    BOOST_FAIL("no value " << name);
    return 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sys_topics)

BOOST_AUTO_TEST_CASE(own_share_from_counters_and_gauges) {
    router::router_counters c;
    c.messages_received = 10;
    c.messages_delivered = 25;
    c.dropped_queue_full = 2;
    c.dropped_qos0_offline = 3;
    router::router_gauges g;
    g.sessions_online = 4;
    g.sessions_offline = 1;
    g.inflight = 6;
    g.queued = 7;
    g.subscriptions = 9;
    g.retained = 11;
    const auto v = router::own_sys_values(c, g);
    BOOST_TEST(get(v, "clients.connected") == 4u);
    BOOST_TEST(get(v, "clients.disconnected") == 1u);
    BOOST_TEST(get(v, "clients.total") == 5u);
    BOOST_TEST(get(v, "messages.received") == 10u);
    BOOST_TEST(get(v, "messages.sent") == 25u);
    BOOST_TEST(get(v, "messages.dropped") == 5u);
    BOOST_TEST(get(v, "messages.stored") == 13u);
    BOOST_TEST(get(v, "subscriptions") == 9u);
    BOOST_TEST(get(v, "retained") == 11u);
}

BOOST_AUTO_TEST_CASE(totals_sum_peers_but_not_the_replicated_retained_set) {
    router::sys_totals t;
    const router::stat_values own = {{"clients.connected", 2}, {"retained", 5}};
    t.set_peer({"r2", 1, {{"clients.connected", 3}, {"retained", 7}}});
    t.set_peer({"r3", 1, {{"clients.connected", 4}, {"retained", 6}}});
    auto sum = t.totals(own);
    BOOST_TEST(get(sum, "clients.connected") == 9u);
    BOOST_TEST(get(sum, "retained") == 7u);  // the largest copy, not 18
    BOOST_TEST(t.routers() == 3u);

    t.set_peer({"r2", 2, {{"clients.connected", 1}, {"retained", 7}}});  // latest share wins
    BOOST_TEST(get(t.totals(own), "clients.connected") == 7u);
    t.forget_peer("r3");
    BOOST_TEST(get(t.totals(own), "clients.connected") == 3u);
    BOOST_TEST(t.routers() == 2u);
}

BOOST_AUTO_TEST_CASE(mosquitto_names) {
    const router::stat_values totals = {
        {"clients.connected", 3},   {"clients.disconnected", 1}, {"clients.total", 4},
        {"messages.received", 100}, {"messages.sent", 250},      {"messages.dropped", 2},
        {"messages.stored", 5},     {"subscriptions", 8},        {"retained", 6}};
    const auto m = as_map(router::sys_messages(totals, std::chrono::seconds(42), "0.1.0", 2));
    BOOST_TEST(m.at("$SYS/broker/version") == "iot-mqtt-server 0.1.0");
    BOOST_TEST(m.at("$SYS/broker/uptime") == "42 seconds");
    BOOST_TEST(m.at("$SYS/broker/clients/connected") == "3");
    BOOST_TEST(m.at("$SYS/broker/clients/disconnected") == "1");
    BOOST_TEST(m.at("$SYS/broker/clients/total") == "4");
    BOOST_TEST(m.at("$SYS/broker/messages/received") == "100");
    BOOST_TEST(m.at("$SYS/broker/messages/sent") == "250");
    BOOST_TEST(m.at("$SYS/broker/publish/messages/dropped") == "2");
    BOOST_TEST(m.at("$SYS/broker/messages/stored") == "11");  // queued/in flight + retained
    BOOST_TEST(m.at("$SYS/broker/retained messages/count") == "6");
    BOOST_TEST(m.at("$SYS/broker/subscriptions/count") == "8");
    BOOST_TEST(m.at("$SYS/broker/cluster/routers") == "2");
}

BOOST_AUTO_TEST_SUITE_END()
