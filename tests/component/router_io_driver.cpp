// router::io_driver: the router_loop run by an Asio io_context (mqtt-broker's
// default) instead of run() on a thread of its own. The io_context runs on a
// thread of the test; DEALERs on the test's thread play the frontends.
// Covers: a round trip (the ZMQ_FD wake-up), timed work with no input at
// all (the timer), a burst of more messages than one turn reads (the re-post
// after a turn, since ZMQ_FD is edge-triggered and no new edge comes),
// stop: the driver stops turning and the loop stays usable, and a frontend's
// router_link on the same io_context (mqtt-broker) that runs the router's
// turn from its flush (after_flush -> run_now) and so reads the answer in
// the handler that sent the request; and the coupled mode mqtt-broker runs
// (neither side watches its ZMQ_FD): answers within the flush, a full batch
// routed on a wake, a lone ack that waits only while batches flow, a wrong
// count mended by the once-a-second read to the end, many messages both
// ways without loss, and the turn's
// read limit and read_to_end() that decide what it reads and whether the
// driver turns again at once.
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "common/events/events.hpp"
#include "frontend/router_link.hpp"
#include "router/io_driver.hpp"
#include "router/router_loop.hpp"
#include "tests/component/router_core_harness.hpp"
#include "tests/component/router_loop_harness.hpp"

using namespace std::chrono_literals;
using router_test::connect_event;
using router_test::fake_frontend;
using router_test::hello_and_connect;
using router_test::quiet_period;
using router_test::unique_loop_endpoint;

namespace {

// A router_loop driven by an io_driver on an io_context thread. The
// destructor stops the driver on that thread, then the context.
class driven_loop {
  public:
    explicit driven_loop(zmq::context_t& ctx, router::cluster_settings cluster = {})
        : endpoint_(unique_loop_endpoint()),
          loop_(ctx, endpoint_, {}, std::move(cluster)),
          driver_(std::make_unique<router::io_driver>(io_, loop_)),
          guard_(io_.get_executor()) {
        driver_->start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~driven_loop() { stop(); }

    void stop() {
        if (!thread_.joinable()) return;
        std::promise<void> done;
        boost::asio::post(io_, [&] {
            driver_.reset();
            done.set_value();
        });
        done.get_future().wait();
        guard_.reset();
        io_.stop();
        thread_.join();
    }
    const std::string& endpoint() const { return endpoint_; }
    // Only once stop() has returned.
    router::router_loop& loop() { return loop_; }

  private:
    std::string endpoint_;
    router::router_loop loop_;
    boost::asio::io_context io_{1};
    std::unique_ptr<router::io_driver> driver_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    std::thread thread_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(router_io_driver)

BOOST_AUTO_TEST_CASE(a_round_trip_between_two_frontends) {
    zmq::context_t ctx(1);
    driven_loop router(ctx);
    {
        fake_frontend fa(ctx, router.endpoint(), "fe-a");
        fake_frontend fb(ctx, router.endpoint(), "fe-b");
        hello_and_connect(fa, "frontend-a", "A");
        hello_and_connect(fb, "frontend-b", "B");
        fa.send(events::client_subscribe{1, 10, {{"t/+", 1}}});
        EXPECT_LINES(fa.receive_exactly(1), {"fe-a:1 suback id=10 [1]"});
        fb.send(events::client_publish{1, "t/x", "hello", 1, false, false, 7});
        EXPECT_LINES(fa.receive_exactly(1),
                     {"fe-a:1 deliver t/x 'hello' qos=1 retain=0 dup=0 id=1"});
        EXPECT_LINES(fb.receive_exactly(1), {"fe-b:1 puback id=7"});
    }
    router.stop();
    BOOST_TEST(router.loop().core().counters().messages_received == 1u);
    BOOST_TEST(router.loop().core().counters().messages_delivered == 1u);
}

BOOST_AUTO_TEST_CASE(timed_work_runs_with_no_input_at_all) {
    zmq::context_t ctx(1);
    // The stats snapshot is timed work of the loop's turn: with no frontend
    // and no message, only the driver's timer runs those turns.
    std::atomic<int> snapshots{0};
    router::cluster_settings cluster;
    cluster.stats_interval = 20ms;
    cluster.stats_sink = [&](stats::snapshot&&) { ++snapshots; };
    driven_loop router(ctx, cluster);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (snapshots.load() < 5 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    BOOST_TEST(snapshots.load() >= 5);
}

BOOST_AUTO_TEST_CASE(a_burst_larger_than_one_turn_is_read_without_a_new_edge) {
    zmq::context_t ctx(1);
    driven_loop router(ctx);
    fake_frontend fa(ctx, router.endpoint(), "fe-a", 0);
    fa.send(events::hello{"frontend-a", events::protocol_version, 1});
    EXPECT_LINES(fa.receive_exactly(1), {"fe-a:0 router_hello router"});
    fa.send(connect_event(1, "A"));
    EXPECT_LINES(fa.receive_exactly(1), {"fe-a:1 connack sp=0 rc=0"});
    // 3000 single-event messages (a turn reads at most 1024), QoS 1 so that
    // every one is answered; sent in one go, then nothing more.
    constexpr int burst = 3000;
    for (int i = 1; i <= burst; ++i)
        fa.send(events::client_publish{1, "nobody/listens", "x", 1, false, false,
                                       static_cast<std::uint16_t>(i)});
    int acks = 0;
    while (acks < burst) {
        const auto got = fa.receive(2000ms);
        BOOST_REQUIRE_MESSAGE(got.has_value(), "only " << acks << " PUBACKs of " << burst);
        if (got->find(" puback id=") != std::string::npos) ++acks;
    }
    BOOST_TEST(!fa.receive(quiet_period).has_value());
}

namespace {

// mqtt-broker's shape on one io_context run by the test thread: a router
// driven by an io_driver and a frontend's router_link to it. Returns whether
// the connack answering a client_connect had arrived when a handler posted
// right after the send ran, that is, within the link's flush. `publishes`:
// QoS 0 PUBLISHes sent after the connect in the same batch.
bool connack_read_within_the_flush(bool kick, int publishes = 0) {
    zmq::context_t ctx(1);
    boost::asio::io_context io(1);
    const auto endpoint = unique_loop_endpoint();
    router::router_loop loop(ctx, endpoint, {}, {});
    router::io_driver driver(io, loop);
    int connacks = 0;
    frontend::router_link link(
        io, ctx, "fe", {endpoint}, {},
        {[&](events::event&& e) {
             if (std::holds_alternative<events::connack>(e)) ++connacks;
         },
         [](std::size_t, const std::string&, std::uint64_t) {}, [](bool) {}, [] {}});
    if (kick) link.set_after_flush([&] { driver.run_now(); });
    driver.start();
    link.start();
    const auto until = [&](auto done) {
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!done() && std::chrono::steady_clock::now() < deadline) io.run_for(10ms);
        return done();
    };
    BOOST_REQUIRE(until([&] { return link.owner_of("A").has_value(); }));  // router_hello came
    std::optional<bool> seen;  // connack there when the marker ran
    boost::asio::post(io, [&] {
        link.send(0, connect_event(1, "A"));  // posts the flush
        for (int i = 0; i < publishes; ++i)
            link.send(0, events::client_publish{1, "nobody/listens", "x", 0, false, false, 0});
        boost::asio::post(io, [&] { seen = connacks == 1; });
    });
    BOOST_REQUIRE(until([&] { return seen.has_value() && connacks == 1; }));
    driver.stop();
    link.stop();
    io.poll();
    return *seen;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_frontend_on_the_same_context_reads_the_answer_within_its_flush) {
    BOOST_TEST(connack_read_within_the_flush(true));
    // Without the hook the answer waits for the reactor to report the
    // router's ZMQ_FD, then the link's: after the marker.
    BOOST_TEST(!connack_read_within_the_flush(false));
}

BOOST_AUTO_TEST_CASE(after_a_batch_filled_up_the_turn_waits_for_the_reactor) {
    // Under load, running the router at every flush writes one packet per
    // system call (it halved saturated throughput): a pass that filled a
    // batch is a loaded one, and its turn waits for the next pass. Any
    // pass that did not takes the hop at once, however many events it had.
    constexpr int full = static_cast<int>(events::batch_max_events);
    BOOST_TEST(connack_read_within_the_flush(true, full - 2));   // full - 1 events in all
    BOOST_TEST(!connack_read_within_the_flush(true, full - 1));  // exactly full
    BOOST_TEST(!connack_read_within_the_flush(true, full + 8));  // full, then 9 more
}

namespace {

// mqtt-broker's default shape: the link and the driver coupled (the link is
// the router's only peer; neither watches its socket's ZMQ_FD). Run by the
// test thread; events from the router are counted by type.
struct coupled_pair {
    explicit coupled_pair(std::size_t queue_limit = 10000,
                          std::chrono::microseconds ack_delay = frontend::link_settings{}.ack_delay)
        : endpoint(unique_loop_endpoint()),
          loop(ctx, endpoint, {}, {}),
          link(io, ctx, "fe", {endpoint}, settings(queue_limit, ack_delay),
               {[this](events::event&& e) { on_event(std::move(e)); },
                [](std::size_t, const std::string&, std::uint64_t) {}, [](bool) {}, [] {}}),
          driver(io, loop,
                 {[this] { return link.messages_sent() - uncounted; },
                  [this](std::size_t messages) { return link.read_now(messages); }}) {
        link.set_after_flush([this] { driver.run_now(); });
        link.set_wake_router([this] { driver.wake(); });
        driver.start();
        link.start();
        BOOST_REQUIRE(until([&] { return link.owner_of("A").has_value(); }));
    }
    ~coupled_pair() {
        driver.stop();
        link.stop();
        io.poll();
    }
    static frontend::link_settings settings(std::size_t queue_limit,
                                            std::chrono::microseconds ack_delay) {
        frontend::link_settings s;
        s.queue_limit = queue_limit;
        s.ack_delay = ack_delay;
        // No heartbeats: the link's messages are the test's (hellos go on open).
        s.heartbeat_interval = std::chrono::hours(1);
        s.peer_timeout = std::chrono::hours(1);
        s.router_on_this_thread = true;
        return s;
    }
    void on_event(events::event&& e) {
        if (std::holds_alternative<events::connack>(e)) ++connacks;
        if (std::holds_alternative<events::suback>(e)) ++subacks;
        if (std::holds_alternative<events::send_ack>(e)) ++acks;
        if (std::holds_alternative<events::deliver>(e)) ++delivers;
        if (auto* m = std::get_if<events::deliver_many>(&e)) delivers += m->targets.size();
    }
    template <typename Done>
    bool until(Done done, std::chrono::milliseconds limit = 5s) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < deadline) io.run_for(5ms);
        return done();
    }
    // Sends from a handler, then whether `answered` held when a handler
    // posted right after the sends ran (within the link's flush).
    template <typename Send, typename Answered>
    bool answered_within_the_flush(Send send, Answered answered) {
        std::optional<bool> seen;
        boost::asio::post(io, [&] {
            send();
            boost::asio::post(io, [&] { seen = answered(); });
        });
        BOOST_REQUIRE(until([&] { return seen.has_value() && answered(); }));
        return *seen;
    }

    zmq::context_t ctx{1};
    boost::asio::io_context io{1};
    std::string endpoint;
    router::router_loop loop;
    frontend::router_link link;
    router::io_driver driver;
    int connacks = 0, subacks = 0, acks = 0;
    std::uint64_t uncounted = 0;  // messages of the link the driver is not told of
    std::size_t delivers = 0;
};

}  // namespace

BOOST_AUTO_TEST_CASE(coupled_a_light_batch_is_answered_within_its_flush) {
    coupled_pair p;
    BOOST_TEST(p.driver.coupled());
    BOOST_TEST(p.answered_within_the_flush([&] { p.link.send(0, connect_event(1, "A")); },
                                           [&] { return p.connacks == 1; }));
    BOOST_TEST(p.answered_within_the_flush(
        [&] {
            p.link.send(0, events::client_subscribe{1, 10, {{"t/+", 1}}});
        },
        [&] { return p.subacks == 1; }));
    // A QoS 1 PUBLISH: its PUBACK and its delivery (to the same client).
    BOOST_TEST(p.answered_within_the_flush(
        [&] {
            p.link.send(0, events::client_publish{1, "t/x", "hi", 1, false, false, 7});
        },
        [&] { return p.acks == 1 && p.delivers == 1; }));
}

BOOST_AUTO_TEST_CASE(coupled_a_full_batch_is_routed_on_a_wake) {
    // Nothing watches the router's socket: a batch that does not take the
    // hop at once (a full one) must wake the driver, or it would wait for
    // the router's timer.
    coupled_pair p;
    constexpr int full = static_cast<int>(events::batch_max_events);
    boost::asio::post(p.io, [&] {
        p.link.send(0, connect_event(1, "A"));
        for (int i = 0; i < full + 8; ++i)
            p.link.send(0, events::client_publish{1, "nobody", "x", 0, false, false, 0});
    });
    // Only handlers that are ready, never a wait: the router's timer (50 ms)
    // should not be what brings the answer (a few handlers do, on a wake).
    // On a machine so slow that 200 polls outlast 50 ms this passes anyway:
    // it cannot fail spuriously.
    for (int i = 0; i < 200 && p.connacks == 0; ++i) p.io.poll();
    BOOST_TEST(p.connacks == 1);
}

BOOST_AUTO_TEST_CASE(coupled_a_pass_below_a_full_batch_is_answered_within_its_flush) {
    // However many events a pass has, short of filling a batch, the turn
    // runs at the pass's flush.
    coupled_pair p;
    constexpr int full = static_cast<int>(events::batch_max_events);
    BOOST_TEST(p.answered_within_the_flush(
        [&] {
            p.link.send(0, connect_event(1, "A"));
            for (int i = 0; i < full - 2; ++i)  // full - 1 events in all
                p.link.send(0, events::client_publish{1, "nobody", "x", 0, false, false, 0});
        },
        [&] { return p.connacks == 1; }));
}

BOOST_AUTO_TEST_CASE(coupled_a_light_pass_after_a_full_one_is_answered_within_its_flush) {
    // The mark of a pass that filled a batch lasts only until that pass's
    // flush: the next light pass takes the hop at once again.
    coupled_pair p;
    p.link.send(0, connect_event(1, "A"));
    BOOST_REQUIRE(p.until([&] { return p.connacks == 1; }));
    constexpr int full = static_cast<int>(events::batch_max_events);
    const auto before = p.link.messages_sent();
    // The full pass's SUBACK waits for a woken turn.
    BOOST_TEST(!p.answered_within_the_flush(
        [&] {
            p.link.send(0, events::client_subscribe{1, 10, {{"t/+", 0}}});
            for (int i = 0; i < full + 8; ++i)
                p.link.send(0, events::client_publish{1, "nobody", "x", 0, false, false, 0});
        },
        [&] { return p.subacks == 1; }));
    BOOST_TEST(p.link.messages_sent() == before + 2);
    BOOST_TEST(p.answered_within_the_flush(
        [&] {
            p.link.send(0, events::client_subscribe{1, 11, {{"u/+", 0}}});
        },
        [&] { return p.subacks == 2; }));
}

BOOST_AUTO_TEST_CASE(coupled_a_lone_ack_waits_only_while_batches_flow) {
    // A client's PUBACK may wait for company (link_settings::ack_delay).
    // Coupled, its hop costs only the router's turn, so it waits only while
    // traffic makes company likely (router_link::acks_may_wait); on a quiet
    // link it goes at once.
    const auto ack_delay = 300ms;
    coupled_pair p(10000, ack_delay);
    p.link.send(0, connect_event(1, "A"));
    BOOST_REQUIRE(p.until([&] { return p.connacks == 1; }));
    // Sends from a handler, then whether the link's count of messages to
    // the router grew before a handler posted right after the send ran.
    // (Heartbeats are off: only batches count.)
    const auto sent_within_the_flush = [&](auto send) {
        const auto before = p.link.messages_sent();
        return p.answered_within_the_flush(
            send, [&p, before] { return p.link.messages_sent() > before; });
    };
    const auto ack = [&](std::uint16_t id) {
        return [&p, id] { p.link.send(0, events::client_ack{1, events::ack_kind::puback, id}); };
    };
    const auto publish = [&] {
        p.link.send(0, events::client_publish{1, "nobody", "x", 0, false, false, 0});
    };
    const auto deferred_until_the_timer = [&](std::uint16_t id) {
        const auto before = p.link.messages_sent();
        const auto sent_at = std::chrono::steady_clock::now();
        if (sent_within_the_flush(ack(id))) return false;
        BOOST_REQUIRE(p.until([&] { return p.link.messages_sent() > before; }));
        return std::chrono::steady_clock::now() - sent_at >= ack_delay;
    };

    // Quiet (no batch for 10 ack_delays): at once.
    std::this_thread::sleep_for(10 * ack_delay + 100ms);
    BOOST_TEST(sent_within_the_flush(ack(1)));
    // After a batch of two events (and ack_delay after the batch before
    // it): the ack waits for the timer.
    std::this_thread::sleep_for(ack_delay + 100ms);
    BOOST_TEST(sent_within_the_flush([&] {
        publish();
        publish();
    }));
    BOOST_TEST(deferred_until_the_timer(2));
    // That wait left the last two batches ack_delay apart; one more batch
    // of one event right away, and the two before the next ack are close.
    BOOST_TEST(sent_within_the_flush(publish));
    BOOST_TEST(deferred_until_the_timer(3));
}

BOOST_AUTO_TEST_CASE(coupled_a_wrong_count_is_mended_by_the_safety_net) {
    // Coupled, turns read what the counts say, and once a second a timer
    // turn reads both sockets to the end. Should a count ever be wrong, a
    // message waits for that turn, no longer: here the driver is told of
    // one message fewer than the link sent.
    coupled_pair p;
    p.uncounted = 1;
    const auto sent_at = std::chrono::steady_clock::now();
    BOOST_TEST(!p.answered_within_the_flush([&] { p.link.send(0, connect_event(1, "A")); },
                                            [&] { return p.connacks == 1; }));
    BOOST_TEST((std::chrono::steady_clock::now() - sent_at < 3s));
    // Counted from there on: the next answer comes within its flush again.
    BOOST_TEST(p.answered_within_the_flush(
        [&] {
            p.link.send(0, events::client_subscribe{1, 10, {{"t/+", 1}}});
        },
        [&] { return p.subacks == 1; }));
}

BOOST_AUTO_TEST_CASE(coupled_many_messages_both_ways_lose_nothing) {
    // 2,000 QoS 1 PUBLISHes from one client to itself in one handler: full
    // batches (routed on wakes), turns that read several messages, answers
    // read by count. Every PUBACK and every delivery arrives. (The inproc
    // pipes are unbounded, rcvhwm 0 on both ends, so neither side's FIFO
    // fills here; a small link queue limit is set all the same.)
    coupled_pair p(8);
    p.link.send(0, connect_event(1, "A"));
    BOOST_REQUIRE(p.until([&] { return p.connacks == 1; }));
    p.link.send(0, events::client_subscribe{1, 10, {{"t/+", 0}}});
    BOOST_REQUIRE(p.until([&] { return p.subacks == 1; }));
    constexpr int n = 2000;
    boost::asio::post(p.io, [&] {
        for (int i = 1; i <= n; ++i)
            p.link.send(0, events::client_publish{1, "t/x", "payload", 1, false, false,
                                                  static_cast<std::uint16_t>(i)});
    });
    BOOST_TEST(p.until([&] { return p.acks == n && p.delivers == static_cast<std::size_t>(n); }));
    BOOST_TEST(p.acks == n);
    BOOST_TEST(p.delivers == static_cast<std::size_t>(n));
}

BOOST_AUTO_TEST_CASE(a_turn_says_whether_it_read_the_socket_to_the_end) {
    // The coupled driver turns again at once only when a turn stopped at its
    // cap (1024 messages): nothing else can leave input behind.
    zmq::context_t ctx(1);
    const auto endpoint = unique_loop_endpoint();
    router::router_loop loop(ctx, endpoint, {}, {});
    fake_frontend fa(ctx, endpoint, "fe-a", 0);
    for (int i = 0; i < 1500; ++i)
        fa.send(events::hello{"frontend-a", events::protocol_version, 1});
    std::this_thread::sleep_for(100ms);  // the inproc pipe holds them all
    // Told of 10: reads those, never asks the socket for more.
    loop.set_read_limit(10);
    BOOST_REQUIRE(loop.turn());
    BOOST_TEST(loop.last_reads() == 10u);
    BOOST_TEST(loop.read_to_end());
    BOOST_TEST(!loop.take_socket_emptied());
    // Not told: the cap.
    BOOST_REQUIRE(loop.turn());
    BOOST_TEST(loop.last_reads() == 1024u);
    BOOST_TEST(!loop.read_to_end());
    BOOST_TEST(!loop.take_socket_emptied());
    // Told of more than there is: reads the rest, finds the socket empty.
    loop.set_read_limit(1000);
    BOOST_REQUIRE(loop.turn());
    BOOST_TEST(loop.last_reads() == 1500u - 10u - 1024u);
    BOOST_TEST(loop.read_to_end());
    BOOST_TEST(loop.take_socket_emptied());
    BOOST_TEST(!loop.take_socket_emptied());  // taken
}

BOOST_AUTO_TEST_CASE(a_router_with_peers_is_refused) {
    zmq::context_t ctx(1);
    boost::asio::io_context io;
    router::cluster_settings cluster;
    cluster.peers = {"tcp://127.0.0.1:1"};
    router::router_loop loop(ctx, unique_loop_endpoint(), {}, cluster);
    BOOST_CHECK_THROW(router::io_driver(io, loop), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
