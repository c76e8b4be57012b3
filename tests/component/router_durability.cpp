// router_core with its journal committed to a real store (store::db in a
// temp dir) after every event, as the router loop does; then a second core,
// restored from the reopened store, must hold the same persistent sessions:
// subscriptions, queue, in-flight window in every QoS 2 state, inbound QoS 2
// ids, retained messages, and nothing of clean sessions. The restored core
// must then carry on (re-send with DUP, PUBREL, exactly-once) as if nothing
// happened, and ending a session or acknowledging messages must leave no
// records behind.
#include <boost/test/unit_test.hpp>

#include "common/util/wall_clock.hpp"
#include "router_core_harness.hpp"
#include "store/db.hpp"
#include "store_test_util.hpp"

namespace {

using namespace router_test;

// A core whose journal goes to a store after each event.
struct durable {
    explicit durable(const std::string& path, router::router_settings settings = {}) : f(settings) {
        boost::system::error_code ec;
        std::string message;
        db = store::db::open({path, false}, ec, message);
        BOOST_TEST_REQUIRE(db != nullptr, message);
        f.core.enable_journal();
        store::loaded_state state;
        BOOST_TEST_REQUIRE(!db->load(state));
        f.core.restore(std::move(state));
        commit();
    }
    void commit() {
        auto b = f.core.journal_of().take();
        BOOST_TEST_REQUIRE(!db->commit(b, true));
    }
    lines handle(const std::string& frontend, events::event e) {
        auto out = f.handle(frontend, std::move(e));
        commit();
        return out;
    }
    store::loaded_state load() {
        store::loaded_state state;
        BOOST_TEST_REQUIRE(!db->load(state));
        return state;
    }

    fixture f;
    std::unique_ptr<store::db> db;
};

// A client whose events go through durable::handle.
struct durable_client {
    durable& d;
    std::string frontend;
    events::conn_id conn;
    std::string client_id;

    lines connect(bool clean) {
        return d.handle(frontend, events::client_connect{conn, client_id, clean, 4, 60, "", {}});
    }
    lines subscribe(std::uint16_t id, std::vector<events::subscription> subs) {
        return d.handle(frontend, events::client_subscribe{conn, id, std::move(subs)});
    }
    lines publish(const std::string& topic, const std::string& payload, std::uint8_t qos,
                  bool retain = false, std::uint16_t id = 0) {
        return d.handle(frontend,
                        events::client_publish{conn, topic, payload, qos, retain, false, id});
    }
    lines ack(ack_kind kind, std::uint16_t id) {
        return d.handle(frontend, events::client_ack{conn, kind, id});
    }
    lines disconnect() {
        return d.handle(frontend, events::client_disconnect{conn, reason::graceful});
    }
};

BOOST_AUTO_TEST_SUITE(router_durability)

BOOST_AUTO_TEST_CASE(sessions_queues_windows_and_retained_survive_a_restart) {
    store_test::temp_dir dir;
    {
        durable d(dir.store());
        durable_client sub{d, "fe1", 1, "sub"};
        durable_client pub{d, "fe1", 2, "pub"};
        durable_client clean{d, "fe1", 3, "clean"};
        sub.connect(false);
        sub.subscribe(1, {{"a/#", 2}, {"b", 1}});
        clean.connect(true);
        clean.subscribe(1, {{"a/#", 1}});
        pub.connect(false);
        // Window of the online subscriber: 3 messages, then states moved on.
        BOOST_TEST(
            sorted(pub.publish("a/1", "one", 2, false, 10)) ==
            sorted({"fe1:1 deliver a/1 'one' qos=2 retain=0 dup=0 id=1",
                    "fe1:3 deliver a/1 'one' qos=1 retain=0 dup=0 id=1", "fe1:2 pubrec id=10"}));
        pub.publish("a/2", "two", 1, false, 11);
        pub.publish("b", "three", 1, false, 12);
        sub.ack(ack_kind::pubrec, 1);  // message 1 now awaits PUBCOMP
        sub.ack(ack_kind::puback, 3);  // message 3 done
        // Offline: the rest queues.
        sub.disconnect();
        pub.publish("a/4", "four", 1, false, 13);
        pub.publish("a/5", "five", 2, true, 14);  // also retained
        pub.publish("r/x", "kept", 0, true);
        pub.publish("r/y", "gone", 0, true);
        pub.publish("r/y", "", 0, true);  // deletion
        // The publisher's inbound QoS 2 id 10 awaits PUBREL; 14 too.
        pub.d.handle("fe1", events::client_ack{2, ack_kind::pubrel, 14});

        const auto state = d.load();
        BOOST_TEST(state.sessions.size() == 2u);  // sub and pub, never "clean"
        BOOST_TEST(state.sessions.count("clean") == 0u);
        const auto& s = state.sessions.at("sub");
        BOOST_TEST(s.record.subscriptions.size() == 2u);
        BOOST_TEST(s.outbound.size() == 4u);  // pubcomp-wait 1, puback-wait 2, queued 4 and 5
        BOOST_TEST(state.sessions.at("pub").inbound_qos2 == (std::vector<std::uint16_t>{10}));
        BOOST_TEST(state.retained.size() == 2u);  // a/5 and r/x; r/y erased
        // Messages stored once each, as many as entries refer to: 2, 4, 5 (1 released).
        BOOST_TEST(state.messages.size() == 3u);
    }
    // "Restart": a new core from the reopened store.
    durable d(dir.store());
    BOOST_TEST_REQUIRE(d.f.core.find_session("sub") != nullptr);
    BOOST_TEST(d.f.core.find_session("clean") == nullptr);
    BOOST_TEST(d.f.core.retained_count() == 2u);
    durable_client sub{d, "fe2", 7, "sub"};
    // Resume: in-flight re-sent in order (PUBREL for 1, DUP PUBLISH for 2), then the queue.
    BOOST_TEST(sub.connect(false) == (lines{"fe2:7 connack sp=1 rc=0", "fe2:7 pubrel id=1",
                                            "fe2:7 deliver a/2 'two' qos=1 retain=0 dup=1 id=2",
                                            "fe2:7 deliver a/4 'four' qos=1 retain=0 dup=0 id=3",
                                            "fe2:7 deliver a/5 'five' qos=2 retain=0 dup=0 id=4"}));
    // The publisher's QoS 2 id 10 is still known: a re-send is not routed again.
    durable_client pub{d, "fe2", 8, "pub"};
    pub.connect(false);
    BOOST_TEST(pub.publish("a/1", "one", 2, false, 10) == (lines{"fe2:8 pubrec id=10"}));
    // Subscriptions came back: a new message is delivered.
    BOOST_TEST(pub.publish("b", "new", 1, false, 20) ==
               (lines{"fe2:7 deliver b 'new' qos=1 retain=0 dup=0 id=5", "fe2:8 puback id=20"}));
    // Finish everything: nothing of the flows stays on disk.
    sub.ack(ack_kind::pubcomp, 1);
    sub.ack(ack_kind::puback, 2);
    sub.ack(ack_kind::puback, 3);
    sub.ack(ack_kind::pubrec, 4);
    sub.ack(ack_kind::pubcomp, 4);
    sub.ack(ack_kind::puback, 5);
    pub.d.handle("fe2", events::client_ack{8, ack_kind::pubrel, 10});
    auto state = d.load();
    BOOST_TEST(state.sessions.at("sub").outbound.empty());
    BOOST_TEST(state.sessions.at("pub").inbound_qos2.empty());
    BOOST_TEST(state.messages.empty());
    // A clean CONNECT discards the persistent session, on disk too.
    durable_client again{d, "fe2", 9, "sub"};
    again.connect(true);
    state = d.load();
    BOOST_TEST(state.sessions.count("sub") == 0u);
}

BOOST_AUTO_TEST_CASE(session_expiry_goes_on_across_a_restart) {
    store_test::temp_dir dir;
    router::router_settings s;
    s.session_expiry = std::chrono::seconds(60);
    const auto wall_now =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    {
        durable d(dir.store(), s);
        durable_client c{d, "fe", 1, "E"};
        c.connect(false);
        c.subscribe(1, {{"t", 1}});
        c.disconnect();
        const auto record = d.load().sessions.at("E").record;
        // The deadline is in the store, about 60 s from now.
        BOOST_TEST(record.expiry_ms >= wall_now + 59'000);
        BOOST_TEST(record.expiry_ms <= wall_now + 70'000);
    }
    {
        // As if the router had been down for 50 s: 10 s are left.
        boost::system::error_code ec;
        std::string message;
        auto db = store::db::open({dir.store(), false}, ec, message);
        BOOST_TEST_REQUIRE(db != nullptr, message);
        store::loaded_state state;
        BOOST_TEST_REQUIRE(!db->load(state));
        auto record = state.sessions.at("E").record;
        // From the clock now, not the one read before the first phase (which may
        // have taken seconds on a loaded machine).
        record.expiry_ms = util::wall_clock_ms() + 10'000;
        store::batch b;
        b.put_session("E", record);
        BOOST_TEST_REQUIRE(!db->commit(b, true));
    }
    const auto now = std::chrono::steady_clock::now();
    durable d(dir.store(), s);
    BOOST_TEST_REQUIRE(d.f.core.find_session("E") != nullptr);
    std::vector<router::router_core::outgoing> out;
    d.f.core.tick(now + std::chrono::seconds(8), out);
    BOOST_TEST(d.f.core.find_session("E") != nullptr);
    d.f.core.tick(now + std::chrono::seconds(12), out);
    BOOST_TEST(d.f.core.find_session("E") == nullptr);  // not 60 s after the restart
    d.commit();
    BOOST_TEST(d.load().sessions.count("E") == 0u);  // gone from the store too
    // A client that comes back clears its deadline.
    durable_client back{d, "fe", 2, "F"};
    back.connect(false);
    back.disconnect();
    back.connect(false);
    BOOST_TEST(d.load().sessions.at("F").record.expiry_ms == 0u);
}

BOOST_AUTO_TEST_CASE(fan_out_stores_a_message_once) {
    store_test::temp_dir dir;
    durable d(dir.store());
    for (events::conn_id c = 1; c <= 20; ++c) {
        durable_client s{d, "fe", c, "s" + std::to_string(c)};
        s.connect(false);
        s.subscribe(1, {{"t", 1}});
        s.disconnect();
    }
    durable_client pub{d, "fe", 100, "p"};
    pub.connect(true);
    pub.publish("t", std::string(1000, 'x'), 1, false, 1);
    const auto state = d.load();
    BOOST_TEST(state.messages.size() == 1u);
    std::size_t entries = 0;
    for (const auto& [id, s] : state.sessions) entries += s.outbound.size();
    BOOST_TEST(entries == 20u);
}

BOOST_AUTO_TEST_CASE(outboxes_to_peers_survive_a_restart) {
    store_test::temp_dir dir;
    router::router_settings clustered;
    clustered.router_id = "a";
    clustered.has_peers = true;
    std::uint64_t stamp = 0;
    {
        durable d(dir.store(), clustered);
        durable_client p{d, "fe", 1, "p"};
        p.connect(true);
        std::vector<router::router_core::outgoing> out;
        d.f.core.peer_up("b", out);
        d.f.core.peer_down("b", out);  // known, and dead: its outbox keeps messages
        EXPECT_LINES(p.publish("t", "kept", 1, false, 1), {"fe:1 puback id=1"});
        EXPECT_LINES(p.publish("t", "gone", 0, false, 0),  // QoS 0: never kept
                     {":0 route_publish a t 'gone' qos=0 retain=0"});
        const auto state = d.load();
        BOOST_REQUIRE(state.forward.contains("b"));
        BOOST_REQUIRE(state.forward.at("b").size() == 1u);
        stamp = state.forward.at("b")[0].stamp;
        BOOST_TEST(state.messages.at(state.forward.at("b")[0].message_id).payload == "kept");
    }
    durable d(dir.store(), clustered);  // a restarted (kill -9 is the same: committed)
    BOOST_TEST(d.f.core.gauges().outbox == 1u);
    std::vector<router::router_core::outgoing> out;
    d.f.core.peer_up("b", out);       // b answers: it gets the outbox first
    BOOST_REQUIRE(out.size() == 2u);  // the retained copy request, and the message
    const auto* r = std::get_if<events::route_publish>(&out[1].event);
    BOOST_REQUIRE(r != nullptr);
    BOOST_TEST(r->payload == "kept");
    BOOST_TEST(r->stamp == stamp);
    BOOST_TEST(r->prev == 0u);  // a's restart lost where the chain stood
    out.clear();
    d.f.core.handle("router/b", events::route_ack{"b", stamp, false}, out);
    d.commit();
    BOOST_TEST(d.load().forward.empty());
    BOOST_TEST(d.load().messages.empty());
}

BOOST_AUTO_TEST_CASE(what_a_router_took_from_a_peer_is_not_taken_twice_after_a_restart) {
    store_test::temp_dir dir;
    router::router_settings clustered;
    clustered.router_id = "b";
    clustered.has_peers = true;
    const auto take = [](durable& d, events::route_publish e) {
        std::vector<router::router_core::outgoing> out;
        d.f.core.handle("router/a", std::move(e), out);
        d.f.core.end_turn(out);
        d.commit();
        lines l;
        for (const auto& o : out) l.push_back(describe(o));
        return l;
    };
    {
        durable d(dir.store(), clustered);
        durable_client s{d, "fe", 1, "s"};
        s.connect(false);
        s.subscribe(1, {{"t", 1}});
        s.disconnect();
        EXPECT_LINES(take(d, events::route_publish{"a", 10, "t", "one", 1, false, 0, 0}),
                     {"router/a:0 route_ack b 10"});
        BOOST_TEST(d.load().meta.at("hw/a") == 10u);
    }
    durable d(dir.store(), clustered);
    // a sends it again (it had not seen the ack): acknowledged, not queued twice.
    EXPECT_LINES(take(d, events::route_publish{"a", 10, "t", "one", 1, false, 0, 0}),
                 {"router/a:0 route_ack b 10"});
    BOOST_TEST(d.f.core.find_session("s")->queue.size() == 1u);
    // 20 follows 15, which never came: a gap; b asks for everything after 10.
    EXPECT_LINES(take(d, events::route_publish{"a", 20, "t", "three", 1, false, 0, 15}),
                 {"router/a:0 route_ack b 10 resend"});
    EXPECT_LINES(take(d, events::route_publish{"a", 15, "t", "two", 1, false, 0, 10}),
                 {"router/a:0 route_ack b 15"});
    EXPECT_LINES(take(d, events::route_publish{"a", 20, "t", "three", 1, false, 0, 15}),
                 {"router/a:0 route_ack b 20"});
    BOOST_TEST(d.f.core.find_session("s")->queue.size() == 3u);
    BOOST_TEST(d.f.core.counters().forward_duplicates == 1u);
    BOOST_TEST(d.f.core.counters().forward_gaps == 1u);
}

BOOST_AUTO_TEST_CASE(a_session_handed_out_on_a_fetch_stays_stored_until_acknowledged) {
    store_test::temp_dir dir;
    router::router_settings clustered;
    clustered.router_id = "a";
    clustered.has_peers = true;
    durable d(dir.store(), clustered);
    durable_client x{d, "fe", 1, "x"};
    x.connect(false);
    x.subscribe(1, {{"t", 1}});
    x.disconnect();
    std::vector<router::router_core::outgoing> out;
    d.f.core.peer_up("b", out);
    // b got x's CONNECT and fetches the session: a gives it up...
    d.handle("router/b", events::session_fetch{7, "x", "b"});
    BOOST_TEST(d.f.core.find_session("x") == nullptr);
    // ...but keeps it on disk until b committed it (b might die first).
    BOOST_TEST(d.load().sessions.contains("x"));
    d.handle("router/b", events::session_state_ack{"x", "c"});  // not from b: ignored
    BOOST_TEST(d.load().sessions.contains("x"));
    d.handle("router/b", events::session_state_ack{"x", "b"});
    BOOST_TEST(!d.load().sessions.contains("x"));
}

BOOST_AUTO_TEST_CASE(stale_records_are_repaired_on_restore) {
    store_test::temp_dir dir;
    {
        boost::system::error_code ec;
        std::string message;
        auto db = store::db::open({dir.store(), false}, ec, message);
        BOOST_TEST_REQUIRE(db != nullptr, message);
        store::batch b;
        b.put_message(7, {"orphan", "x", 1, false, 1, "r"});  // nobody refers
        b.put_outbound("nosession", {1, store::outbound_state::queued, 0, 1, false, 7});
        store::session_record rec;
        rec.subscriptions["t"] = 1;
        b.put_session("s", rec);
        b.put_outbound("s", {1, store::outbound_state::queued, 0, 1, false, 99});  // no message 99
        BOOST_TEST_REQUIRE(!db->commit(b, true));
    }
    durable d(dir.store());
    const auto* s = d.f.core.find_session("s");
    BOOST_TEST_REQUIRE(s != nullptr);
    BOOST_TEST(s->queue.empty());
    const auto state = d.load();
    BOOST_TEST(state.messages.empty());
    BOOST_TEST(state.sessions.count("nosession") == 0u);
    BOOST_TEST(state.sessions.at("s").outbound.empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
