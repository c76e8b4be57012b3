// Back-pressure from router_loop towards frontends (router_loop.hpp,
// "Back-pressure"): a loop with a small queue_limit on its own thread, fake
// frontends as DEALERs over inproc:// (router_loop_harness.hpp).
//
// A subscriber frontend that stops reading its DEALER: its QoS 1 deliveries
// wait in the router's backlog and all arrive, once each and in order, when it
// reads again; its QoS 0 deliveries are shed once its queue is full (every one
// not received is counted); and while its backlog is over the limit the loop
// reads its socket only one batch per heartbeat interval (a publisher's events
// lag), yet hellos are answered and no frontend is deemed dead. A frontend
// that disappears (DEALER closed, or hung with it open) has its backlog
// dropped, and the router serves the others at full speed again.
//
// Capacity: over inproc:// the queue towards a frontend holds the router's
// sndhwm (queue_limit) plus the DEALER's rcvhwm, and ZeroMQ credits reads in
// batches, so counts are asserted as bounds. Time is asserted only as bounds
// that follow from the pause itself (a paused loop reads at most one batch of
// 1024 events per heartbeat interval) or as generous ceilings.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>
#include <zmq.hpp>

#include "common/events/events.hpp"
#include "router/router_loop.hpp"
#include "tests/component/router_core_harness.hpp"
#include "tests/component/router_loop_harness.hpp"

using namespace std::chrono_literals;
using router_test::connect_event;
using router_test::fake_frontend;
using router_test::lines;
using router_test::running_loop;

namespace {

using clock_type = std::chrono::steady_clock;
using ms = std::chrono::milliseconds;

constexpr std::size_t queue_limit = 100;
constexpr int subscriber_rcvhwm = 10;
// What the subscriber's queue holds while it reads nothing: sndhwm + rcvhwm
// ZeroMQ messages, each a batch of at most events::batch_max_events events.
constexpr std::size_t queue_capacity =
    (static_cast<std::size_t>(events::hwm_for(queue_limit)) + subscriber_rcvhwm) *
    events::batch_max_events;
constexpr std::size_t read_batch = 1024;  // events router_loop reads per turn
constexpr ms peer_timeout{2000};

router::router_settings core_settings() {
    router::router_settings s;
    // A window wider than every burst: all QoS 1 deliveries go out at once, so
    // they wait in the loop's backlog rather than in the session's queue.
    s.max_inflight_messages = 20000;
    s.max_queued_messages = 20000;
    return s;
}

router::cluster_settings cluster(ms heartbeat) {
    router::cluster_settings c;
    c.router_id = "router";
    c.peer_timeout = peer_timeout;
    c.heartbeat_interval = heartbeat;
    c.queue_limit = queue_limit;
    return c;
}

ms elapsed_since(clock_type::time_point t) {
    return std::chrono::duration_cast<ms>(clock_type::now() - t);
}

events::hello hello_of(const fake_frontend& f) {
    return {"frontend-" + f.id(), events::protocol_version, 1};
}

// Hello, then a client connected as conn 1.
void hello_and_connect(fake_frontend& f, events::client_connect c) {
    f.send(hello_of(f));
    EXPECT_LINES(f.receive_exactly(1), {f.id() + ":0 router_hello router"});
    f.send(c);
    EXPECT_LINES(f.receive_exactly(1), {f.id() + ":1 connack sp=0 rc=0"});
}

// Frontends' heartbeats: each sends a hello every interval, as a real frontend
// does whether or not it reads its DEALER.
class hello_timer {
  public:
    hello_timer(ms interval, std::vector<fake_frontend*> fronts)
        : interval_(interval), fronts_(std::move(fronts)) {}
    void tick() {
        const auto now = clock_type::now();
        if (now < next_) return;
        next_ = now + interval_;
        for (auto* f : fronts_) f->send(hello_of(*f));
    }

  private:
    ms interval_;
    std::vector<fake_frontend*> fronts_;
    clock_type::time_point next_ = clock_type::now();
};

bool is_router_hello(const events::event& e) {
    return std::holds_alternative<events::router_hello>(e);
}

// Reads `f` until `n` PUBACKs arrived or `limit` passed, keeping `beat` going;
// returns their packet ids in arrival order. Other events but router_hellos go
// to `other` as lines.
std::vector<std::uint16_t> collect_pubacks(fake_frontend& f, std::size_t n, hello_timer& beat,
                                           ms limit, lines& other) {
    std::vector<std::uint16_t> ids;
    const auto deadline = clock_type::now() + limit;
    while (ids.size() < n && clock_type::now() < deadline) {
        beat.tick();
        auto e = f.receive_event(20ms);
        if (!e) continue;
        const auto* ack = std::get_if<events::send_ack>(&*e);
        if (ack && ack->kind == events::ack_kind::puback)
            ids.push_back(ack->packet_id);
        else if (!is_router_hello(*e))
            other.push_back(router_test::describe({f.id(), std::move(*e)}));
    }
    return ids;
}

// True if `ids` is exactly first, first + 1, ..., first + n - 1.
bool consecutive(const std::vector<std::uint16_t>& ids, std::uint16_t first, std::size_t n) {
    if (ids.size() != n) return false;
    for (std::size_t i = 0; i < n; ++i)
        if (ids[i] != static_cast<std::uint16_t>(first + i)) return false;
    return true;
}

// Round trips of `f`'s hello, one per heartbeat interval, until `done()`
// (checked between round trips) or `limit`: each answer must come well within
// the peer timeout. Other events go to `on_other`.
struct round_trips {
    std::vector<ms> latencies;
    bool all_answered = true;
    ms median() const {
        auto v = latencies;
        std::sort(v.begin(), v.end());
        return v.empty() ? ms::max() : v[v.size() / 2];
    }
    ms max() const {
        return latencies.empty() ? ms::max()
                                 : *std::max_element(latencies.begin(), latencies.end());
    }
};

round_trips hello_round_trips(fake_frontend& f, ms heartbeat, hello_timer& beat,
                              const std::function<bool()>& done, ms limit,
                              const std::function<void(events::event&&)>& on_other) {
    round_trips r;
    const auto deadline = clock_type::now() + limit;
    while (!done() && clock_type::now() < deadline) {
        const auto sent = clock_type::now();
        f.send(hello_of(f));
        bool answered = false;
        while (!answered && elapsed_since(sent) < peer_timeout / 2) {
            beat.tick();
            auto e = f.receive_event(10ms);
            if (!e) continue;
            if (is_router_hello(*e)) {
                answered = true;
                r.latencies.push_back(elapsed_since(sent));
            } else {
                on_other(std::move(*e));
            }
        }
        if (!answered) {
            r.all_answered = false;  // a late answer would pass for the next one's
            break;
        }
        while (elapsed_since(sent) < heartbeat) {  // the frontend's pace
            beat.tick();
            if (auto e = f.receive_event(10ms)) on_other(std::move(*e));
        }
    }
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(router_loop_backpressure)

// A subscriber on frontend A stops reading; a publisher on frontend B sends
// QoS 1 and QoS 0 messages, interleaved, many times the queue limit.
BOOST_AUTO_TEST_CASE(stalled_subscriber_gets_all_qos1_in_order_and_loses_only_counted_qos0) {
    constexpr ms heartbeat{100};
    constexpr std::size_t pairs = 2000;  // of each QoS: ~20 times the queue limit
    zmq::context_t ctx(1);
    running_loop router(ctx, core_settings(), cluster(heartbeat));
    fake_frontend a(ctx, router.endpoint(), "fe-a", subscriber_rcvhwm);
    fake_frontend b(ctx, router.endpoint(), "fe-b", 0);  // unbounded: B's acks never wait

    hello_and_connect(a, connect_event(1, "sub"));
    a.send(events::client_subscribe{1, 1, {{"t/1", 1}, {"t/0", 0}}});
    EXPECT_LINES(a.receive_exactly(1), {"fe-a:1 suback id=1 [1,0]"});
    hello_and_connect(b, connect_event(1, "pub"));
    hello_timer a_beat(heartbeat, {&a});  // A keeps its heartbeat but reads nothing

    // B publishes; payloads are the message's index.
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < pairs; ++i) {
        const auto id = static_cast<std::uint16_t>(i + 1);
        b.send(events::client_publish{1, "t/1", std::to_string(i), 1, false, false, id});
        b.send(events::client_publish{1, "t/0", std::to_string(i), 0, false, false, 0});
    }
    lines b_other;
    const auto acked = collect_pubacks(b, pairs, a_beat, 10s, b_other);
    const auto took = elapsed_since(start);
    BOOST_TEST_MESSAGE("B's " << 2 * pairs << " events were consumed in " << took.count() << " ms");
    BOOST_REQUIRE_MESSAGE(consecutive(acked, 1, pairs),
                          "B got " << acked.size() << " of " << pairs << " PUBACKs in order");
    EXPECT_LINES(b_other, {});
    // A's backlog passed the limit after a few hundred of B's events (A's queue
    // holds ~110, and one turn reads up to 1024 more); from then on the loop read
    // at most 1024 of B's events per heartbeat interval: the rest, over 2000 of
    // them, took at least two more intervals.
    BOOST_TEST(took >= 2 * heartbeat);

    // Still paused (A's backlog is ~1900 over the limit): for longer than the
    // peer timeout, B's hellos are answered within a couple of intervals.
    lines unexpected;
    const auto trips = hello_round_trips(
        b, heartbeat, a_beat, [] { return false; }, peer_timeout + 500ms,
        [&](events::event&& e) {
            unexpected.push_back(router_test::describe({"fe-b", e}));
        });
    BOOST_TEST_MESSAGE("hello round trips while paused: " << trips.latencies.size() << ", median "
                                                          << trips.median().count() << " ms, max "
                                                          << trips.max().count() << " ms");
    BOOST_TEST(trips.all_answered);
    BOOST_TEST(trips.latencies.size() >= 5u);
    BOOST_TEST(trips.median() <= 3 * heartbeat);
    BOOST_TEST(trips.max() < peer_timeout / 2);
    EXPECT_LINES(unexpected, {});
    // B was not deemed dead: its connection still publishes.
    b.send(events::client_publish{1, "elsewhere", "x", 1, false, false, pairs + 1});
    const auto late = collect_pubacks(b, 1, a_beat, router_test::reply_timeout, b_other);
    BOOST_TEST(consecutive(late, pairs + 1, 1));
    EXPECT_LINES(b_other, {});

    // A reads everything, acknowledging each QoS 1 delivery as it comes.
    std::vector<std::size_t> q1, q0;
    lines a_other;
    const auto take = [&](events::event&& e) {
        const auto* d = std::get_if<events::deliver>(&e);
        if (d && d->topic == "t/1" && d->qos == 1 && !d->dup) {
            q1.push_back(std::stoul(d->payload));
            a.send(events::client_ack{1, events::ack_kind::puback, d->packet_id});
        } else if (d && d->topic == "t/0" && d->qos == 0) {
            q0.push_back(std::stoul(d->payload));
        } else if (!is_router_hello(e)) {
            a_other.push_back(router_test::describe({"fe-a", std::move(e)}));
        }
    };
    while (q1.size() < pairs) {
        a_beat.tick();
        auto e = a.receive_event(router_test::reply_timeout);
        if (!e) break;
        take(std::move(*e));
    }
    // Anything after the last QoS 1, then a round trip on A's socket (handled
    // in order): every PUBACK above was handled.
    a.send(events::client_unsubscribe{1, 2, {"none"}});
    bool unsubscribed = false;
    while (!unsubscribed) {
        auto e = a.receive_event(router_test::reply_timeout);
        if (!e) break;
        const auto* u = std::get_if<events::unsuback>(&*e);
        if (u && u->packet_id == 2)
            unsubscribed = true;
        else
            take(std::move(*e));
    }
    BOOST_TEST(unsubscribed);
    router.stop();

    BOOST_TEST(router.error() == "");
    BOOST_TEST(router.loop().malformed_events() == 0u);
    EXPECT_LINES(a_other, {});
    // Every QoS 1 delivery, exactly once each, in publish order.
    BOOST_REQUIRE_EQUAL(q1.size(), pairs);
    for (std::size_t i = 0; i < pairs; ++i) BOOST_TEST_REQUIRE(q1[i] == i);
    // QoS 0: a subset in order; only what fit in A's queue before it filled.
    BOOST_TEST(std::is_sorted(q0.begin(), q0.end()));
    BOOST_TEST((std::adjacent_find(q0.begin(), q0.end()) == q0.end()));
    BOOST_TEST((q0.empty() || q0.back() < pairs));
    BOOST_TEST(q0.size() >= 1u);  // the first found the queue empty
    BOOST_TEST(q0.size() <= queue_capacity);
    const auto& counters = router.loop().counters();
    BOOST_TEST_MESSAGE("received QoS 0: " << q0.size() << ", shed: " << counters.qos0_shed
                                          << ", paused reads: " << counters.paused_reads
                                          << ", backlogged events: " << counters.backlog_events);
    BOOST_TEST(counters.qos0_shed == pairs - q0.size());
    BOOST_TEST(counters.paused_reads > 0u);
    // Every QoS 1 delivery that did not fit in A's queue waited in the backlog.
    BOOST_TEST(counters.backlog_events >= pairs - queue_capacity);
    const auto& core = router.loop().core();
    BOOST_TEST(core.counters().messages_received == 2 * pairs + 1);
    BOOST_TEST(core.counters().dropped_queue_full == 0u);
    BOOST_TEST(core.online_count() == 2u);  // neither frontend was deemed dead
    const auto* sub = core.find_session("sub");
    BOOST_REQUIRE(sub != nullptr);
    BOOST_TEST(sub->inflight.empty());
    BOOST_TEST(sub->queue.empty());
}

namespace {

// Frontend A's subscriber stalls with a backlog far over the limit, then A
// disappears: its DEALER closed, or (a hung process) open but silent. B
// watches A's will: the sign that A was deemed dead.
void disappearing_frontend(bool close_dealer) {
    constexpr ms heartbeat{400};                   // long: a paused loop is slow beyond doubt
    constexpr std::size_t stalled = 600;           // ~5 times the queue limit
    constexpr std::size_t burst = 8 * read_batch;  // 8 turns' worth of events
    zmq::context_t ctx(1);
    running_loop router(ctx, core_settings(), cluster(heartbeat));
    fake_frontend a(ctx, router.endpoint(), "fe-a", subscriber_rcvhwm);
    fake_frontend b(ctx, router.endpoint(), "fe-b", 0);

    auto c = connect_event(1, "sub");
    c.will_message = events::will{"wills/sub", "gone", 0, false};
    hello_and_connect(a, c);
    const auto a_last_sent = clock_type::now();  // A's last event: the subscribe
    a.send(events::client_subscribe{1, 1, {{"t/1", 1}}});
    EXPECT_LINES(a.receive_exactly(1), {"fe-a:1 suback id=1 [1]"});
    hello_and_connect(b, connect_event(1, "pub"));
    b.send(events::client_subscribe{1, 1, {{"wills/#", 0}}});
    EXPECT_LINES(b.receive_exactly(1), {"fe-b:1 suback id=1 [0]"});

    hello_timer no_beat(heartbeat, {});
    lines b_other;
    for (std::size_t i = 0; i < stalled; ++i)
        b.send(events::client_publish{1, "t/1", "m", 1, false, false,
                                      static_cast<std::uint16_t>(i + 1)});
    BOOST_REQUIRE(consecutive(collect_pubacks(b, stalled, no_beat, 10s, b_other), 1, stalled));
    EXPECT_LINES(b_other, {});

    // Every delivery to A is out: ~500 wait in the backlog, and the loop pauses.
    const auto gone_at = clock_type::now();
    if (close_dealer) a.close();

    // B keeps its heartbeat, answered all along, until A's will arrives.
    lines wills, unexpected;
    const auto trips = hello_round_trips(
        b, heartbeat, no_beat, [&] { return !wills.empty(); }, peer_timeout + 3s,
        [&](events::event&& e) {
            auto line = router_test::describe({"fe-b", e});
            (std::holds_alternative<events::deliver>(e) ? wills : unexpected).push_back(line);
        });
    BOOST_TEST_MESSAGE("A deemed dead after " << elapsed_since(gone_at).count() << " ms; hello "
                                              << "round trips meanwhile: " << trips.latencies.size()
                                              << ", median " << trips.median().count()
                                              << " ms, max " << trips.max().count() << " ms");
    BOOST_TEST(trips.all_answered);
    BOOST_TEST(trips.median() <= 3 * heartbeat);
    BOOST_TEST(trips.max() < peer_timeout / 2);
    EXPECT_LINES(unexpected, {});
    EXPECT_LINES(wills, {"fe-b:1 deliver wills/sub 'gone' qos=0 retain=0 dup=0 id=0"});
    BOOST_TEST(elapsed_since(a_last_sent) > peer_timeout);

    // A's backlog is gone: B's burst to the same topic is served without
    // pausing. A paused loop would read its 8 batches over at least 7 heartbeat
    // intervals (2800 ms); an unpaused one needs ~100 ms (~600 ms on two busy cores).
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < burst; ++i)
        b.send(events::client_publish{1, "t/1", "m", 1, false, false,
                                      static_cast<std::uint16_t>(stalled + 1 + i)});
    const auto acked = collect_pubacks(b, burst, no_beat, 10s, b_other);
    const auto took = elapsed_since(start);
    BOOST_TEST_MESSAGE("B's burst of " << burst << " after A was gone: " << took.count() << " ms");
    BOOST_TEST(consecutive(acked, stalled + 1, burst));
    EXPECT_LINES(b_other, {});
    BOOST_TEST(took < 7 * heartbeat);
    router.stop();

    BOOST_TEST(router.error() == "");
    BOOST_TEST(router.loop().counters().paused_reads > 0u);
    const auto& core = router.loop().core();
    BOOST_TEST(core.online_count() == 1u);  // B only
    BOOST_TEST(core.session_count() == 1u);
    BOOST_TEST((core.find_session("sub") == nullptr));  // clean session ended with A
    BOOST_TEST(core.counters().wills_published == 1u);
    BOOST_TEST(core.counters().messages_received == stalled + burst + 1);  // + the will
    BOOST_TEST(core.counters().messages_delivered == stalled + 1);  // the burst reached nobody
}

}  // namespace

BOOST_AUTO_TEST_CASE(closed_frontend_has_its_backlog_dropped) {
    disappearing_frontend(true);
}

BOOST_AUTO_TEST_CASE(hung_frontend_has_its_backlog_dropped_after_the_peer_timeout) {
    disappearing_frontend(false);
}

BOOST_AUTO_TEST_SUITE_END()
