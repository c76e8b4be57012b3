// The router's stats socket (docs/stats.md): a router_loop on its own thread
// publishes snapshots on a PUB endpoint; the test SUBs to it, drives a known
// load with fake frontends over inproc:// and checks that the decoded
// counters and gauges add up. Also: stats over tcp:// on a system-chosen
// loopback port, and a stats endpoint that cannot be bound leaves the
// router serving without stats.
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "common/events/events.hpp"
#include "common/stats/snapshot.hpp"
#include "router/router_loop.hpp"
#include "tests/component/router_core_harness.hpp"
#include "tests/component/router_loop_harness.hpp"

using namespace std::chrono_literals;
using router_test::connect_event;
using router_test::fake_frontend;
using router_test::running_loop;

namespace {

std::string unique_stats_endpoint() {
    static std::atomic<int> n{0};
    return "inproc://router_stats_test-" + std::to_string(n++);
}

router::cluster_settings with_stats(std::string endpoint) {
    router::cluster_settings c;
    c.router_id = "r-stats";
    c.stats_endpoint = std::move(endpoint);
    c.stats_interval = 20ms;
    return c;
}

// A SUB socket on a stats endpoint; decodes what arrives.
class stats_reader {
  public:
    stats_reader(zmq::context_t& ctx, const std::string& endpoint)
        : socket_(ctx, zmq::socket_type::sub) {
        socket_.set(zmq::sockopt::linger, 0);
        socket_.set(zmq::sockopt::subscribe, "stats");
        socket_.connect(endpoint);
    }

    // The next snapshot within `timeout`, or nullopt.
    std::optional<stats::snapshot> next(std::chrono::milliseconds timeout = 2000ms) {
        zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
        zmq::message_t topic, body;
        if (!socket_.recv(topic, zmq::recv_flags::dontwait)) return std::nullopt;
        BOOST_TEST(topic.to_string_view() == "stats");
        BOOST_REQUIRE(topic.more());
        BOOST_REQUIRE(socket_.recv(body, zmq::recv_flags::none));
        BOOST_TEST(!body.more());
        boost::system::error_code ec;
        auto s = stats::decode(body.to_string_view(), ec);
        BOOST_REQUIRE_MESSAGE(s.has_value(), "undecodable snapshot: " << ec.message());
        return s;
    }

    // Snapshots until one satisfies `done` (within 3 s); fails the test otherwise.
    stats::snapshot until(const std::function<bool(const stats::snapshot&)>& done) {
        const auto deadline = std::chrono::steady_clock::now() + 3s;
        std::optional<stats::snapshot> last;
        while (std::chrono::steady_clock::now() < deadline) {
            auto s = next(200ms);
            if (!s) continue;
            if (last) {
                BOOST_TEST(s->sequence > last->sequence);
                BOOST_TEST(s->uptime_ms >= last->uptime_ms);
                BOOST_TEST(s->incarnation == last->incarnation);
            }
            last = std::move(s);
            if (done(*last)) return *last;
        }
        BOOST_FAIL("no snapshot reached the expected state");
        return {};
    }

  private:
    zmq::socket_t socket_;
};

std::uint64_t counter(const stats::snapshot& s, std::string_view name) {
    const auto* v = s.find_counter(name);
    BOOST_TEST_REQUIRE(v != nullptr, "no counter " << name);
    return *v;
}

std::uint64_t gauge(const stats::snapshot& s, std::string_view name) {
    const auto* v = s.find_gauge(name);
    BOOST_TEST_REQUIRE(v != nullptr, "no gauge " << name);
    return *v;
}

events::client_connect persistent(events::conn_id conn, std::string client_id) {
    return {conn, std::move(client_id), false, 4, 60, "", std::nullopt};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(router_stats)

BOOST_AUTO_TEST_CASE(counters_and_gauges_add_up_under_a_known_load) {
    zmq::context_t ctx(1);
    const auto endpoint = unique_stats_endpoint();
    running_loop router(ctx, {}, with_stats(endpoint));
    stats_reader reader(ctx, endpoint);
    {
        // Before any load: a router snapshot with every count at zero.
        const auto first = reader.until([](const stats::snapshot&) { return true; });
        BOOST_TEST(first.schema == stats::schema_version);
        BOOST_TEST(stats::name_of(first.kind) == "router");
        BOOST_TEST(first.id == "r-stats");
        BOOST_TEST(first.sequence >= 1u);
        for (const auto& c : first.counters) BOOST_TEST(c.value == 0u, c.name);
        BOOST_TEST(gauge(first, "ready") == 1u);
        BOOST_TEST(gauge(first, "sessions.online") == 0u);

        fake_frontend fa(ctx, router.endpoint(), "fe-a");  // subscriber A
        fake_frontend fb(ctx, router.endpoint(), "fe-b");  // publisher B
        fa.send(events::hello{"frontend-a", events::protocol_version, 1});
        fb.send(events::hello{"frontend-b", events::protocol_version, 1});
        BOOST_TEST(fa.receive_exactly(1).size() == 1u);  // router_hello
        BOOST_TEST(fb.receive_exactly(1).size() == 1u);
        fa.send(persistent(1, "A"));
        BOOST_TEST(fa.receive_exactly(1).size() == 1u);  // connack
        fb.send(connect_event(1, "B"));
        BOOST_TEST(fb.receive_exactly(1).size() == 1u);
        fa.send(events::client_subscribe{1, 1, {{"t/#", 1}}});
        BOOST_TEST(fa.receive_exactly(1).size() == 1u);  // suback
        fb.send(events::client_subscribe{1, 1, {{"t/+", 0}}});
        BOOST_TEST(fb.receive_exactly(1).size() == 1u);

        // Online A gets t/1 (QoS 0), t/2 and t/3 (QoS 1, left unacknowledged);
        // B gets all three at QoS 0. B's acks: PUBACK, PUBREC, then PUBCOMP.
        fb.send(events::client_publish{1, "t/1", "abc", 0, false, false, 0});
        fb.send(events::client_publish{1, "t/2", "defg", 1, true, false, 2});
        fb.send(events::client_publish{1, "t/3", "hi", 2, false, false, 3});
        BOOST_TEST(fa.receive_exactly(3).size() == 3u);
        BOOST_TEST(fb.receive_exactly(5).size() == 5u);  // 3 deliveries, puback, pubrec
        fb.send(events::client_ack{1, events::ack_kind::pubrel, 3});
        BOOST_TEST(fb.receive_exactly(1).size() == 1u);  // pubcomp

        // A goes offline (its session stays): t/4 is queued for it, t/5
        // (QoS 0) dropped for it; B gets both.
        fa.send(events::client_disconnect{1, events::disconnect_reason::graceful});
        fa.send(events::hello{"frontend-a", events::protocol_version, 1});
        BOOST_TEST(fa.receive_exactly(1).size() == 1u);  // the DISCONNECT was handled
        fb.send(events::client_publish{1, "t/4", "jklmn", 1, false, false, 4});
        fb.send(events::client_publish{1, "t/5", "o", 0, false, false, 0});
        BOOST_TEST(fb.receive_exactly(3).size() == 3u);  // 2 deliveries, puback

        const auto s = reader.until([](const stats::snapshot& s) {
            const auto* in = s.find_counter("messages.in");
            const auto* out = s.find_counter("messages.out");
            return in && out && *in == 5 && *out == 8;
        });
        BOOST_TEST(counter(s, "messages.in.qos0") == 2u);   // t/1, t/5
        BOOST_TEST(counter(s, "messages.in.qos1") == 2u);   // t/2, t/4
        BOOST_TEST(counter(s, "messages.in.qos2") == 1u);   // t/3
        BOOST_TEST(counter(s, "bytes.in") == 15u);          // 3 + 4 + 2 + 5 + 1
        BOOST_TEST(counter(s, "messages.out.qos0") == 6u);  // A: t/1; B: t/1..t/5
        BOOST_TEST(counter(s, "messages.out.qos1") == 2u);  // A: t/2, t/3 (min(2, 1))
        BOOST_TEST(counter(s, "messages.out.qos2") == 0u);
        BOOST_TEST(counter(s, "bytes.out") == 24u);  // A: 3 + 4 + 2; B: 15
        BOOST_TEST(counter(s, "messages.enqueued") == 1u);
        BOOST_TEST(counter(s, "messages.dropped.qos0_offline") == 1u);
        BOOST_TEST(counter(s, "messages.dropped.queue_full") == 0u);
        BOOST_TEST(counter(s, "messages.dropped.qos0_shed") == 0u);
        BOOST_TEST(counter(s, "messages.from_peers") == 0u);
        BOOST_TEST(counter(s, "events.malformed") == 0u);
        BOOST_TEST(gauge(s, "sessions.online") == 1u);   // B
        BOOST_TEST(gauge(s, "sessions.offline") == 1u);  // A
        BOOST_TEST(gauge(s, "subscriptions") == 2u);
        BOOST_TEST(gauge(s, "retained") == 1u);           // t/2
        BOOST_TEST(gauge(s, "messages.inflight") == 2u);  // A's t/2, t/3
        BOOST_TEST(gauge(s, "messages.queued") == 1u);    // A's t/4
        BOOST_TEST(gauge(s, "frontends") == 2u);
        BOOST_TEST(gauge(s, "queues.backlog") == 0u);
        BOOST_TEST(gauge(s, "peers") == 0u);
        BOOST_TEST(s.incarnation == first.incarnation);
        BOOST_TEST(s.sequence > first.sequence);

        // A resumes: the queued message and the in-flight ones are re-sent;
        // once acknowledged, nothing is in flight or queued.
        fa.send(persistent(2, "A"));
        // connack, re-sent t/2 and t/3, then t/4 from the queue
        BOOST_TEST(fa.receive_exactly(4).size() == 4u);
        fa.send(events::client_ack{2, events::ack_kind::puback, 1});
        fa.send(events::client_ack{2, events::ack_kind::puback, 2});
        fa.send(events::client_ack{2, events::ack_kind::puback, 3});
        const auto after = reader.until([](const stats::snapshot& s) {
            const auto* inflight = s.find_gauge("messages.inflight");
            const auto* online = s.find_gauge("sessions.online");
            return inflight && online && *inflight == 0 && *online == 2;
        });
        BOOST_TEST(gauge(after, "sessions.offline") == 0u);
        BOOST_TEST(gauge(after, "messages.queued") == 0u);
        BOOST_TEST(counter(after, "messages.out") == 9u);  // + t/4 (re-sends not counted)
    }
    router.stop();
    BOOST_TEST(router.error() == "");
}

BOOST_AUTO_TEST_CASE(publishes_over_tcp_on_a_chosen_loopback_port) {
    zmq::context_t ctx(1);
    running_loop router(ctx, {}, with_stats("tcp://127.0.0.1:*"));
    // Fixed at construction: safe to read while the loop runs.
    const auto endpoint = router.loop().stats_endpoint();
    BOOST_TEST_REQUIRE(endpoint.starts_with("tcp://127.0.0.1:"));
    BOOST_TEST(endpoint != "tcp://127.0.0.1:0");
    stats_reader reader(ctx, endpoint);
    const auto s = reader.until([](const stats::snapshot&) { return true; });
    BOOST_TEST(s.id == "r-stats");
    router.stop();
}

BOOST_AUTO_TEST_CASE(an_unbindable_stats_endpoint_leaves_the_router_serving) {
    zmq::context_t ctx(1);
    const auto endpoint = unique_stats_endpoint();
    running_loop first(ctx, {}, with_stats(endpoint));
    running_loop second(ctx, {}, with_stats(endpoint));  // the same endpoint: taken
    BOOST_TEST(first.loop().stats_endpoint() == endpoint);
    BOOST_TEST(second.loop().stats_endpoint() == "");
    {
        fake_frontend fe(ctx, second.endpoint(), "fe-1");
        fe.send(events::hello{"frontend-1", events::protocol_version, 1});
        fe.send(connect_event(1, "C"));
        EXPECT_LINES(fe.receive_exactly(2),
                     {"fe-1:0 router_hello r-stats", "fe-1:1 connack sp=0 rc=0"});
    }
    second.stop();
    first.stop();
    BOOST_TEST(second.error() == "");
}

BOOST_AUTO_TEST_CASE(no_stats_endpoint_means_no_socket) {
    zmq::context_t ctx(1);
    running_loop router(ctx);
    BOOST_TEST(router.loop().stats_endpoint() == "");
    router.stop();
}

BOOST_AUTO_TEST_SUITE_END()
