// router_loop over a real ZeroMQ context: the loop runs on its own thread,
// bound to an inproc:// endpoint, and DEALER sockets play the frontends (each
// with its routing id). Covers a connect/subscribe/publish round trip between
// two frontends, malformed envelopes (dropped, counted, loop keeps serving),
// replies to a frontend that went away, and stop().
//
// Every wait is bounded by a poll timeout; the fixture stops and joins the loop
// thread and every socket is closed before the context (router_loop_harness.hpp).
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "common/events/events.hpp"
#include "router/router_loop.hpp"
#include "tests/component/router_core_harness.hpp"
#include "tests/component/router_loop_harness.hpp"

using namespace std::chrono_literals;
using router_test::connect_event;
using router_test::fake_frontend;
using router_test::hello_and_connect;
using router_test::lines;
using router_test::quiet_period;
using router_test::running_loop;

BOOST_AUTO_TEST_SUITE(router_loop_inproc)

BOOST_AUTO_TEST_CASE(connect_subscribe_publish_round_trip_between_two_frontends) {
    zmq::context_t ctx(1);
    running_loop router(ctx);
    {
        fake_frontend fa(ctx, router.endpoint(), "fe-a");
        fake_frontend fb(ctx, router.endpoint(), "fe-b");

        hello_and_connect(fa, "frontend-a", "A");
        hello_and_connect(fb, "frontend-b", "B");

        fa.send(events::client_subscribe{1, 10, {{"t/+", 1}, {"bad#", 0}}});
        EXPECT_LINES(fa.receive_exactly(1), {"fe-a:1 suback id=10 [1,128]"});

        // B's QoS 2 PUBLISH: the delivery goes to fe-a, the PUBREC back to fe-b.
        fb.send(events::client_publish{1, "t/x", std::string("p\0q", 3), 2, false, false, 7});
        EXPECT_LINES(fa.receive_exactly(1),
                     {"fe-a:1 deliver t/x 'p\\x00q' qos=1 retain=0 dup=0 id=1"});
        EXPECT_LINES(fb.receive_exactly(1), {"fe-b:1 pubrec id=7"});
        fb.send(events::client_ack{1, events::ack_kind::pubrel, 7});
        EXPECT_LINES(fb.receive_exactly(1), {"fe-b:1 pubcomp id=7"});
        fa.send(events::client_ack{1, events::ack_kind::puback, 1});
        fa.send(events::client_disconnect{1, events::disconnect_reason::graceful});
        // Events on one socket are handled in order: this round trip on fe-a proves
        // the PUBACK and the DISCONNECT were handled (another socket would not).
        fa.send(connect_event(2, "A2"));
        EXPECT_LINES(fa.receive_exactly(1), {"fe-a:2 connack sp=0 rc=0"});
        fb.send(events::client_publish{1, "t/y", "after", 1, false, false, 8});
        EXPECT_LINES(fb.receive_exactly(1), {"fe-b:1 puback id=8"});
        BOOST_TEST(!fa.receive(quiet_period).has_value());
    }
    router.stop();
    BOOST_TEST(router.error() == "");
    BOOST_TEST(router.loop().malformed_events() == 0u);
    const auto& core = router.loop().core();
    BOOST_TEST(core.counters().messages_received == 2u);
    BOOST_TEST(core.counters().messages_delivered == 1u);
    BOOST_TEST(core.online_count() == 2u);  // B and A2
    BOOST_TEST(core.session_count() == 2u);
    BOOST_REQUIRE(core.find_session("A") == nullptr);
    BOOST_REQUIRE(core.find_session("B") != nullptr);
}

BOOST_AUTO_TEST_CASE(malformed_envelopes_are_dropped_and_the_loop_keeps_serving) {
    zmq::context_t ctx(1);
    running_loop router(ctx);
    {
        fake_frontend fe(ctx, router.endpoint(), "fe-1");
        const std::string garbage = router_test::bytes({0xc1});  // msgpack "never used" byte
        const std::string empty;                                 // an empty frame
        const std::string wrong_version = router_test::bytes({
            0x93,  // array of 3: the envelope
            0x02,  // protocol version 2 (unknown)
            0x06,  // kind 6: client_disconnect
            0x92,  // body: array of 2
            0x01,  // conn 1
            0x00,  // reason graceful
        });
        const std::string unknown_kind = router_test::bytes({
            0x93,  // array of 3: the envelope
            0x01,  // protocol version 1
            0x63,  // kind 99 (no such event)
            0x90,  // body: empty array
        });
        const std::string short_body = router_test::bytes({
            0x93,  // array of 3: the envelope
            0x01,  // protocol version 1
            0x06,  // kind 6: client_disconnect
            0x91,  // body: array of 1 (needs 2: conn, reason)
            0x01,  // conn 1
        });
        for (const auto* bad : {&garbage, &empty, &wrong_version, &unknown_kind, &short_body}) {
            fe.send_raw(*bad);
        }
        // A valid envelope after them, hand-written: client_connect.
        fe.send_raw(router_test::bytes({
            0x93,       // array of 3: the envelope
            0x01,       // protocol version 1
            0x01,       // kind 1: client_connect
            0x97,       // body: array of 7
            0x05,       // conn 5
            0xa1, 'C',  // client id "C"
            0xc3,       // clean session true
            0x04,       // protocol level 4
            0x3c,       // keep alive 60
            0xa0,       // username ""
            0xc0,       // will: nil
        }));
        EXPECT_LINES(fe.receive_exactly(1), {"fe-1:5 connack sp=0 rc=0"});
        // Still serving after more junk.
        fe.send_raw(garbage);
        fe.send(events::client_subscribe{5, 2, {{"x", 0}}});
        EXPECT_LINES(fe.receive_exactly(1), {"fe-1:5 suback id=2 [0]"});
    }
    router.stop();
    BOOST_TEST(router.error() == "");
    BOOST_TEST(router.loop().malformed_events() == 6u);
    BOOST_TEST(router.loop().core().session_count() == 1u);
}

BOOST_AUTO_TEST_CASE(a_reply_to_a_frontend_that_left_does_not_stop_the_loop) {
    zmq::context_t ctx(1);
    running_loop router(ctx);
    {
        fake_frontend gone(ctx, router.endpoint(), "fe-gone");
        fake_frontend stays(ctx, router.endpoint(), "fe-stays");
        gone.send(connect_event(1, "G"));
        EXPECT_LINES(gone.receive_exactly(1), {"fe-gone:1 connack sp=0 rc=0"});
        gone.send(events::client_subscribe{1, 1, {{"t", 1}}});
        EXPECT_LINES(gone.receive_exactly(1), {"fe-gone:1 suback id=1 [1]"});
        gone.close();  // the router still believes G is online

        stays.send(connect_event(1, "S"));
        EXPECT_LINES(stays.receive_exactly(1), {"fe-stays:1 connack sp=0 rc=0"});
        for (std::uint16_t id = 1; id <= 3; ++id) {
            stays.send(events::client_publish{1, "t", "m", 1, false, false, id});
            EXPECT_LINES(stays.receive_exactly(1), {"fe-stays:1 puback id=" + std::to_string(id)});
        }
    }
    router.stop();
    BOOST_TEST(router.error() == "");
}

BOOST_AUTO_TEST_CASE(stop_ends_run_promptly) {
    zmq::context_t ctx(1);
    {
        // Idle loop.
        running_loop router(ctx);
        std::this_thread::sleep_for(50ms);  // let run() enter its poll
        const auto start = std::chrono::steady_clock::now();
        router.stop();
        const auto took = std::chrono::steady_clock::now() - start;
        BOOST_TEST(
            took < 1s, "stop() took "
                           << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                           << " ms");
        BOOST_TEST(router.error() == "");
    }
    {
        // A loop with a connected frontend and traffic in its queue.
        running_loop router(ctx);
        fake_frontend fe(ctx, router.endpoint(), "fe-1");
        fe.send(connect_event(1, "A"));
        EXPECT_LINES(fe.receive_exactly(1), {"fe-1:1 connack sp=0 rc=0"});
        for (std::uint16_t id = 1; id <= 100; ++id) {
            fe.send(events::client_publish{1, "t", "m", 1, false, false, id});
        }
        const auto start = std::chrono::steady_clock::now();
        router.stop();
        const auto took = std::chrono::steady_clock::now() - start;
        BOOST_TEST(took < 1s);
        BOOST_TEST(router.error() == "");
        fe.close();
    }
    // A loop stopped before its thread ever polled also returns.
    running_loop router(ctx);
    router.stop();
    BOOST_TEST(router.error() == "");
}

// A frontend that stops sending (killed with -9): after the peer timeout the
// router ends its connections as lost, so their wills are published, once.
BOOST_AUTO_TEST_CASE(silent_frontend_is_deemed_dead_and_its_wills_fire) {
    zmq::context_t ctx(1);
    running_loop router(ctx, {}, {"router", std::chrono::milliseconds(800), {}});
    fake_frontend watcher(ctx, router.endpoint(), "fe-w");
    fake_frontend doomed(ctx, router.endpoint(), "fe-d");

    watcher.send(events::hello{"w", events::protocol_version, 1});
    EXPECT_LINES(watcher.receive_exactly(1), {"fe-w:0 router_hello router"});
    watcher.send(connect_event(1, "watcher"));
    EXPECT_LINES(watcher.receive_exactly(1), {"fe-w:1 connack sp=0 rc=0"});
    watcher.send(events::client_subscribe{1, 1, {{"wills/#", 1}}});
    EXPECT_LINES(watcher.receive_exactly(1), {"fe-w:1 suback id=1 [1]"});

    doomed.send(events::hello{"d", events::protocol_version, 1});
    EXPECT_LINES(doomed.receive_exactly(1), {"fe-d:0 router_hello router"});
    auto c = connect_event(1, "device");
    c.will_message = events::will{"wills/device", "gone", 1, false};
    doomed.send(c);
    EXPECT_LINES(doomed.receive_exactly(1), {"fe-d:1 connack sp=0 rc=0"});

    // The watcher keeps its heartbeat going; the doomed frontend goes silent.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(4000);
    std::vector<std::string> got;
    while (std::chrono::steady_clock::now() < until && got.empty()) {
        watcher.send(events::hello{"w", events::protocol_version, 1});
        while (auto line = watcher.receive(std::chrono::milliseconds(100)))
            if (line->find("router_hello") == std::string::npos) got.push_back(*line);
    }
    BOOST_REQUIRE_EQUAL(got.size(), 1u);
    BOOST_TEST(got[0] == "fe-w:1 deliver wills/device 'gone' qos=1 retain=0 dup=0 id=1");
    router.stop();
    BOOST_TEST(router.loop().core().online_count() == 1u);  // the watcher only
}

// A frontend that restarts under the same routing id (new incarnation): its
// old connections end at once, without waiting for the timeout.
BOOST_AUTO_TEST_CASE(restarted_frontend_loses_its_old_connections) {
    zmq::context_t ctx(1);
    running_loop router(ctx);
    fake_frontend fe(ctx, router.endpoint(), "fe");
    fe.send(events::hello{"f", events::protocol_version, 1});
    EXPECT_LINES(fe.receive_exactly(1), {"fe:0 router_hello router"});
    fe.send(connect_event(1, "a"));
    EXPECT_LINES(fe.receive_exactly(1), {"fe:1 connack sp=0 rc=0"});
    fe.send(events::client_subscribe{1, 1, {{"x", 0}}});
    EXPECT_LINES(fe.receive_exactly(1), {"fe:1 suback id=1 [0]"});

    fe.send(events::hello{"f", events::protocol_version, 2});  // new process
    EXPECT_LINES(fe.receive_exactly(1), {"fe:0 router_hello router"});
    // The old conn 1 is gone: a publish to its subscription reaches nobody.
    fe.send(connect_event(2, "b"));
    EXPECT_LINES(fe.receive_exactly(1), {"fe:2 connack sp=0 rc=0"});
    fe.send(events::client_publish{2, "x", "hi", 0, false, false, 0});
    EXPECT_LINES(fe.receive_exactly(0), {});
    router.stop();
    BOOST_TEST(router.loop().core().online_count() == 1u);
    BOOST_TEST(router.loop().core().session_count() == 1u);  // a's clean session discarded
}

// A peer of another protocol version is refused (no answer, nothing
// handled) while peers of this version are served.
BOOST_AUTO_TEST_CASE(peer_of_another_protocol_version_is_refused) {
    zmq::context_t ctx(1);
    running_loop router(ctx);
    fake_frontend future(ctx, router.endpoint(), "fe-v2");
    fake_frontend current(ctx, router.endpoint(), "fe-v1");
    // [2, 0, ["f", 2, 1]]: a version-2 hello.
    const std::string v2_hello("\x93\x02\x00\x93\xa1\x66\x02\x01", 8);
    for (int i = 0; i < 3; ++i) future.send_raw(v2_hello);
    EXPECT_LINES(future.receive_exactly(0), {});
    current.send(events::hello{"f1", events::protocol_version, 1});
    EXPECT_LINES(current.receive_exactly(1), {"fe-v1:0 router_hello router"});
    router.stop();
    BOOST_TEST(router.loop().malformed_events() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
