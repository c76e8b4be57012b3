// router_core with an ACL (--acl-file, common/acl): a refused PUBLISH is
// acknowledged but neither routed nor retained (MQTT-3.3.5-2); refused
// SUBSCRIBE filters get 0x80 next to the granted ones; deliveries (live and
// retained on SUBSCRIBE) the client may not read are not made; wills are
// checked as their client's PUBLISH; a reload (set_acl) narrows what
// connected and offline sessions get; a session restored from the store is
// checked when its client connects; $SYS is read by rule, never written.
#include <boost/test/unit_test.hpp>

#include "common/acl/rules.hpp"
#include "router_core_harness.hpp"
#include "store/db.hpp"
#include "store_test_util.hpp"

namespace {

using namespace router_test;

std::shared_ptr<const acl::rules> rules(std::string_view text) {
    std::string error;
    auto r = acl::rules::parse(text, "test.acl", error);
    BOOST_TEST_REQUIRE(r.has_value(), error);
    return std::make_shared<const acl::rules>(std::move(*r));
}

// Who may do what in most tests.
constexpr std::string_view base_rules =
    "user alice\n"
    "topic readwrite a/#\n"
    "topic deny a/secret/#\n"
    "user root\n"
    "topic readwrite #\n"
    "topic read $SYS/#\n";

// One connection of a client with a username (the harness's client has none).
struct user {
    fixture& f;
    std::string frontend;
    events::conn_id conn;
    std::string client_id;
    std::string username;

    lines connect(bool clean = true, std::optional<events::will> will = std::nullopt) {
        return f.handle(frontend, events::client_connect{conn, client_id, clean, 4, 60, username,
                                                         std::move(will)});
    }
    void connect_ok(bool clean = true, bool session_present = false,
                    std::optional<events::will> will = std::nullopt) {
        EXPECT_LINES(connect(clean, std::move(will)),
                     {at(std::string("connack sp=") + (session_present ? "1" : "0") + " rc=0")});
    }
    lines subscribe(std::uint16_t id, std::vector<events::subscription> subs) {
        return f.handle(frontend, events::client_subscribe{conn, id, std::move(subs)});
    }
    lines publish(const std::string& topic, const std::string& payload, std::uint8_t qos = 0,
                  bool retain = false, std::uint16_t id = 0) {
        return f.handle(frontend,
                        events::client_publish{conn, topic, payload, qos, retain, false, id});
    }
    lines ack(ack_kind kind, std::uint16_t id) {
        return f.handle(frontend, events::client_ack{conn, kind, id});
    }
    lines disconnect(reason r = reason::graceful) {
        return f.handle(frontend, events::client_disconnect{conn, r});
    }
    std::string at(const std::string& rest) const {
        return frontend + ":" + std::to_string(conn) + " " + rest;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(router_core_acl)

BOOST_AUTO_TEST_CASE(refused_publish_is_acknowledged_but_neither_routed_nor_retained) {
    fixture f;
    f.core.set_acl(rules(base_rules));
    user alice{f, "fe1", 1, "A", "alice"};
    user root{f, "fe1", 2, "R", "root"};
    alice.connect_ok();
    root.connect_ok();
    EXPECT_LINES(root.subscribe(1, {{"#", 2}}), {"fe1:2 suback id=1 [2]"});

    EXPECT_LINES(alice.publish("x/0", "no", 0), {});
    EXPECT_LINES(alice.publish("x/1", "no", 1, false, 5), {"fe1:1 puback id=5"});
    EXPECT_LINES(alice.publish("x/2", "no", 2, false, 6), {"fe1:1 pubrec id=6"});
    // No inbound QoS 2 state was kept, the flow completes all the same.
    EXPECT_LINES(alice.ack(ack_kind::pubrel, 6), {"fe1:1 pubcomp id=6"});
    EXPECT_LINES(alice.publish("x/r", "no", 1, true, 7), {"fe1:1 puback id=7"});
    EXPECT_LINES(alice.publish("a/secret/k", "no", 1, true, 8), {"fe1:1 puback id=8"});
    BOOST_TEST(f.core.retained_count() == 0u);
    BOOST_TEST(f.core.counters().acl_publish_denied == 5u);
    BOOST_TEST(f.core.counters().messages_received == 0u);

    // What the rules grant goes through as usual.
    EXPECT_LINES(alice.publish("a/1", "yes", 1, true, 9),
                 {"fe1:2 deliver a/1 'yes' qos=1 retain=0 dup=0 id=1", "fe1:1 puback id=9"});
    BOOST_TEST(f.core.retained_count() == 1u);
    BOOST_TEST(f.core.counters().messages_received == 1u);
    BOOST_TEST(f.core.counters().acl_publish_denied == 5u);
}

BOOST_AUTO_TEST_CASE(refused_filters_get_0x80_next_to_granted_ones) {
    fixture f;
    f.core.set_acl(rules(base_rules));
    user alice{f, "fe1", 1, "A", "alice"};
    user root{f, "fe1", 2, "R", "root"};
    alice.connect_ok();
    root.connect_ok();
    root.publish("a/k", "kept", 0, true);
    root.publish("b/k", "other", 0, true);

    // Covered by "a/#": granted; wider, elsewhere, or wholly denied: 0x80;
    // an invalid filter is 0x80 too (and not counted as an ACL refusal).
    EXPECT_LINES(
        alice.subscribe(
            3, {{"a/#", 1}, {"#", 0}, {"b/+", 2}, {"a/+/c", 2}, {"a/secret/#", 1}, {"a/#/x", 0}}),
        {
            "fe1:1 suback id=3 [1,128,128,2,128,128]",
            "fe1:1 deliver a/k 'kept' qos=0 retain=1 dup=0 id=0",
        });
    BOOST_TEST(f.core.subscription_count() == 2u);
    BOOST_TEST(f.core.counters().acl_subscribe_denied == 3u);
    // Nothing was subscribed for the refused ones.
    EXPECT_LINES(root.publish("b/x", "m", 1, false, 4), {"fe1:2 puback id=4"});
}

BOOST_AUTO_TEST_CASE(deliveries_the_client_may_not_read_are_not_made) {
    fixture f;
    f.core.set_acl(rules(base_rules));
    user alice{f, "fe1", 1, "A", "alice"};
    user root{f, "fe2", 2, "R", "root"};
    alice.connect_ok();
    root.connect_ok();
    // "a/+/#" is granted: the deny covers only part of it.
    EXPECT_LINES(alice.subscribe(1, {{"a/+/#", 1}}), {"fe1:1 suback id=1 [1]"});

    EXPECT_LINES(root.publish("a/secret/x", "hidden", 1, false, 2), {"fe2:2 puback id=2"});
    EXPECT_LINES(root.publish("a/open/x", "shown", 1, false, 3),
                 {"fe1:1 deliver a/open/x 'shown' qos=1 retain=0 dup=0 id=1", "fe2:2 puback id=3"});
    BOOST_TEST(f.core.counters().acl_deliver_denied == 1u);
    // A refused delivery is not due: deliveries.matched counts the one made.
    BOOST_TEST(f.core.counters().deliveries_matched == 1u);
}

BOOST_AUTO_TEST_CASE(retained_messages_sent_on_subscribe_are_checked_too) {
    fixture f;
    f.core.set_acl(rules(base_rules));
    user alice{f, "fe1", 1, "A", "alice"};
    user root{f, "fe1", 2, "R", "root"};
    alice.connect_ok();
    root.connect_ok();
    root.publish("a/secret/k", "hidden", 0, true);
    root.publish("a/open", "shown", 0, true);
    BOOST_TEST(f.core.retained_count() == 2u);
    EXPECT_LINES(alice.subscribe(1, {{"a/#", 0}}),
                 {
                     "fe1:1 suback id=1 [0]",
                     "fe1:1 deliver a/open 'shown' qos=0 retain=1 dup=0 id=0",
                 });
    BOOST_TEST(f.core.counters().acl_deliver_denied == 1u);
}

BOOST_AUTO_TEST_CASE(a_will_is_checked_as_its_clients_publish) {
    fixture f;
    f.core.set_acl(rules(base_rules));
    user root{f, "fe1", 9, "R", "root"};
    root.connect_ok();
    root.subscribe(1, {{"#", 0}});

    user denied{f, "fe1", 1, "A1", "alice"};
    denied.connect_ok(true, false, events::will{"x/will", "gone", 0, true});
    EXPECT_LINES(denied.disconnect(reason::connection_lost), {});
    BOOST_TEST(f.core.counters().acl_publish_denied == 1u);
    BOOST_TEST(f.core.counters().wills_published == 0u);
    BOOST_TEST(f.core.retained_count() == 0u);

    user allowed{f, "fe1", 2, "A2", "alice"};
    allowed.connect_ok(true, false, events::will{"a/will", "gone", 0, false});
    EXPECT_LINES(allowed.disconnect(reason::connection_lost),
                 {"fe1:9 deliver a/will 'gone' qos=0 retain=0 dup=0 id=0"});
    BOOST_TEST(f.core.counters().wills_published == 1u);
}

BOOST_AUTO_TEST_CASE(a_reload_narrows_what_connected_and_offline_sessions_get) {
    fixture f;
    f.core.set_acl(rules(base_rules));
    user alice{f, "fe1", 1, "A", "alice"};
    user away{f, "fe1", 2, "B", "alice"};  // persistent, offline
    user root{f, "fe2", 3, "R", "root"};
    alice.connect_ok();
    away.connect_ok(false);
    root.connect_ok();
    alice.subscribe(1, {{"a/#", 0}});
    away.subscribe(1, {{"a/#", 1}});
    away.disconnect();
    root.publish("a/keep", "k1", 1, false, 1);
    root.publish("a/drop", "d1", 1, false, 2);
    BOOST_TEST(f.core.find_session("B")->queue.size() == 2u);

    // Narrower: alice may read a/keep only.
    f.core.set_acl(rules("user alice\ntopic read a/keep\nuser root\ntopic readwrite #\n"));
    // The offline session's queue lost what it may no longer read...
    BOOST_TEST(f.core.find_session("B")->queue.size() == 1u);
    BOOST_TEST(f.core.counters().dropped_acl == 1u);
    // ...the connected one keeps its subscription, filtered at delivery.
    BOOST_TEST(f.core.subscription_count() == 2u);
    EXPECT_LINES(root.publish("a/drop", "d2", 0), {});
    EXPECT_LINES(root.publish("a/keep", "k2", 0),
                 {"fe1:1 deliver a/keep 'k2' qos=0 retain=0 dup=0 id=0"});
    // A new SUBSCRIBE follows the new rules; so does PUBLISH.
    EXPECT_LINES(alice.subscribe(2, {{"a/#", 0}, {"a/keep", 0}}), {"fe1:1 suback id=2 [128,0]"});
    EXPECT_LINES(alice.publish("a/keep", "w", 1, false, 7), {"fe1:1 puback id=7"});
    BOOST_TEST(f.core.counters().acl_publish_denied == 1u);

    // The offline session gets what is left when it returns.
    user back{f, "fe1", 4, "B", "alice"};
    EXPECT_LINES(back.connect(false), {"fe1:4 connack sp=1 rc=0",
                                       "fe1:4 deliver a/keep 'k1' qos=1 retain=0 dup=0 id=1"});

    // No rules at all: no checks.
    f.core.set_acl(nullptr);
    EXPECT_LINES_ANY_ORDER(root.publish("a/drop", "d3", 0),
                           {"fe1:1 deliver a/drop 'd3' qos=0 retain=0 dup=0 id=0",
                            "fe1:4 deliver a/drop 'd3' qos=0 retain=0 dup=0 id=0"});

    // Rules again: the connected clients are identified by the usernames
    // kept meanwhile, without reconnecting.
    f.core.set_acl(rules(base_rules));
    EXPECT_LINES(alice.publish("a/secret/x", "s", 1, false, 8), {"fe1:1 puback id=8"});
    BOOST_TEST(f.core.counters().acl_publish_denied == 2u);
    EXPECT_LINES(root.publish("a/secret/y", "z", 0), {});  // neither alice may read it
}

BOOST_AUTO_TEST_CASE(a_restored_session_is_checked_when_its_client_connects) {
    store_test::temp_dir dir;
    auto open = [&](router_test::fixture& f) {
        boost::system::error_code ec;
        std::string message;
        auto db = store::db::open({dir.store(), false}, ec, message);
        BOOST_TEST_REQUIRE(db != nullptr, message);
        f.core.enable_journal();
        store::loaded_state state;
        BOOST_TEST_REQUIRE(!db->load(state));
        f.core.restore(std::move(state));
        return db;
    };
    auto commit = [](router_test::fixture& f, store::db& db) {
        auto b = f.core.journal_of().take();
        BOOST_TEST_REQUIRE(!db.commit(b, true));
    };
    {
        fixture f;
        auto db = open(f);
        f.core.set_acl(rules(base_rules));
        user alice{f, "fe1", 1, "A", "alice"};
        alice.connect_ok(false);
        alice.subscribe(1, {{"a/#", 1}});
        alice.disconnect();
        commit(f, *db);
    }
    // After a restart: the session is back, its client unknown until it connects.
    fixture f;
    auto db = open(f);
    f.core.set_acl(rules(base_rules));
    user root{f, "fe2", 2, "R", "root"};
    root.connect_ok();
    root.publish("a/open", "shown", 1, false, 1);
    root.publish("a/secret/x", "hidden", 1, false, 2);
    commit(f, *db);
    // Queued unchecked: who the client is is not known yet.
    BOOST_TEST(f.core.find_session("A")->queue.size() == 2u);
    BOOST_TEST(f.core.counters().acl_deliver_denied == 0u);

    user alice{f, "fe1", 3, "A", "alice"};
    EXPECT_LINES(alice.connect(false), {"fe1:3 connack sp=1 rc=0",
                                        "fe1:3 deliver a/open 'shown' qos=1 retain=0 dup=0 id=1"});
    BOOST_TEST(f.core.counters().dropped_acl == 1u);
    commit(f, *db);
    // The dropped entry left the store, and its message with it.
    store::loaded_state state;
    BOOST_TEST_REQUIRE(!db->load(state));
    BOOST_TEST(state.sessions.at("A").outbound.size() == 1u);  // a/open, in flight
    BOOST_TEST(state.messages.size() == 1u);
}

BOOST_AUTO_TEST_CASE(sys_topics_are_read_by_rule_and_never_written) {
    fixture f;
    f.core.set_acl(rules(base_rules));
    user alice{f, "fe1", 1, "A", "alice"};
    user root{f, "fe1", 2, "R", "root"};
    alice.connect_ok();
    root.connect_ok();
    // The router's own $SYS messages are not subject to write checks.
    std::vector<router::router_core::outgoing> out;
    f.core.publish_local("$SYS/broker/uptime", "5", out);
    BOOST_TEST(f.core.retained_count() == 1u);

    EXPECT_LINES(alice.subscribe(1, {{"$SYS/#", 0}}), {"fe1:1 suback id=1 [128]"});
    EXPECT_LINES(root.subscribe(1, {{"$SYS/#", 0}}),
                 {
                     "fe1:2 suback id=1 [0]",
                     "fe1:2 deliver $SYS/broker/uptime '5' qos=0 retain=1 dup=0 id=0",
                 });
    // root may write "#", which names no '$' topic; and $SYS never.
    EXPECT_LINES(root.publish("$SYS/broker/uptime", "forged", 1, true, 3), {"fe1:2 puback id=3"});
    BOOST_TEST(f.core.counters().acl_publish_denied == 1u);
    out.clear();
    f.core.publish_local("$SYS/broker/uptime", "6", out);
    BOOST_TEST(out.size() == 1u);  // to root only
}

BOOST_AUTO_TEST_SUITE_END()
