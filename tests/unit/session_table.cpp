// router::session_table: sessions found by client id, subscriber id and live
// connection; a detached (taken over) connection stays known until its end
// is reported; removing a session forgets its links.
#include "router/session_table.hpp"

#include <boost/test/unit_test.hpp>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::unique_ptr<router::session> make(std::string client_id, router::subscriber_id id) {
    auto s = std::make_unique<router::session>();
    s->client_id = std::move(client_id);
    s->id = id;
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(session_table)

BOOST_AUTO_TEST_CASE(finds_a_session_by_each_key) {
    router::session_table t;
    const std::string fe = "frontend-1";
    auto& a = t.add(make("a-client-id-longer-than-fifteen", 1));
    auto& b = t.add(make("b", 2));
    BOOST_TEST(t.size() == 2u);
    BOOST_TEST(t.find("a-client-id-longer-than-fifteen") == &a);
    BOOST_TEST(t.find(router::subscriber_id{2}) == &b);
    BOOST_TEST(!t.find("c"));
    BOOST_TEST(!t.find(router::subscriber_id{3}));

    const router::conn_ref c{&fe, 7};
    BOOST_TEST(!t.knows(c));
    t.connect(a, c);
    BOOST_TEST(a.online());
    BOOST_TEST(t.find(c) == &a);
    BOOST_TEST(t.knows(c));
    BOOST_TEST(t.connections() == 1u);
    BOOST_TEST(!t.find(router::conn_ref{&fe, 8}));
}

BOOST_AUTO_TEST_CASE(a_detached_connection_is_known_until_it_ends) {
    router::session_table t;
    const std::string fe = "frontend-1";
    auto& a = t.add(make("a", 1));
    const router::conn_ref old_conn{&fe, 1}, new_conn{&fe, 2};
    t.connect(a, old_conn);
    t.detach(a);  // taken over
    BOOST_TEST(!a.online());
    BOOST_TEST(!t.find(old_conn));
    BOOST_TEST(t.knows(old_conn));
    t.connect(a, new_conn);
    BOOST_TEST(t.connections() == 2u);

    BOOST_TEST(!t.disconnect(old_conn));  // its late end: no session, forgotten
    BOOST_TEST(!t.knows(old_conn));
    BOOST_TEST(a.online());
    BOOST_TEST(t.disconnect(new_conn) == &a);
    BOOST_TEST(!a.online());
    BOOST_TEST(t.connections() == 0u);
    BOOST_TEST(!t.disconnect(new_conn));  // unknown now
}

BOOST_AUTO_TEST_CASE(remove_forgets_every_link_and_iteration_sees_all) {
    router::session_table t;
    const std::string fe = "frontend-1";
    for (int i = 0; i < 100; ++i) t.add(make("client-" + std::to_string(i), i + 1));
    t.connect(*t.find("client-5"), router::conn_ref{&fe, 5});
    std::set<std::string> ids;
    t.for_each([&](router::session& s) { ids.insert(s.client_id); });
    BOOST_TEST(ids.size() == 100u);

    std::vector<router::session*> odd;
    t.for_each([&](router::session& s) {
        if (s.id % 2 == 0) odd.push_back(&s);  // client-1, client-3, ...
    });
    for (auto* s : odd) t.remove(*s);
    BOOST_TEST(t.size() == 50u);
    BOOST_TEST(!t.find("client-5"));
    BOOST_TEST(!t.find(router::conn_ref{&fe, 5}));  // removed while connected
    BOOST_TEST(t.connections() == 0u);
    BOOST_TEST(t.find("client-4"));
    BOOST_TEST(!t.find(router::subscriber_id{6}));
    // The rest go with the table.
}

BOOST_AUTO_TEST_CASE(a_duplicate_or_a_connected_session_is_refused_and_nothing_changes) {
    router::session_table t;
    const std::string fe = "frontend-1";
    auto& a = t.add(make("a", 1));
    BOOST_CHECK_THROW(t.add(make("a", 2)), std::logic_error);  // same client id
    BOOST_CHECK_THROW(t.add(make("b", 1)), std::logic_error);  // same subscriber id
    BOOST_TEST(t.size() == 1u);
    BOOST_TEST(!t.find(router::subscriber_id{2}));
    BOOST_TEST(!t.find("b"));
    t.connect(a, router::conn_ref{&fe, 1});
    BOOST_CHECK_THROW(t.connect(a, router::conn_ref{&fe, 2}), std::logic_error);
    auto& b = t.add(make("b", 2));
    BOOST_CHECK_THROW(t.connect(b, router::conn_ref{&fe, 1}), std::logic_error);  // a's
    BOOST_TEST(!b.online());
    BOOST_TEST(t.find(router::conn_ref{&fe, 1}) == &a);
}

BOOST_AUTO_TEST_CASE(removing_a_session_leaves_its_detached_connection_known) {
    // A clean session taken over: its old connection is detached, then the
    // session ends; the old connection's late end is still recognised.
    router::session_table t;
    const std::string fe = "frontend-1";
    auto& a = t.add(make("a", 1));
    const router::conn_ref old_conn{&fe, 1};
    t.connect(a, old_conn);
    t.detach(a);
    t.remove(a);
    BOOST_TEST(t.size() == 0u);
    BOOST_TEST(t.knows(old_conn));
    BOOST_TEST(!t.disconnect(old_conn));
    BOOST_TEST(!t.knows(old_conn));
}

BOOST_AUTO_TEST_CASE(a_session_holds_a_will_and_a_floor_at_once) {
    router::session s;
    BOOST_TEST(!s.will());
    BOOST_TEST(!s.floor());
    s.set_will(events::will{"w/t", "gone", 1, true});
    s.make_floor()["r2"] = 7;
    BOOST_REQUIRE(s.will());
    BOOST_TEST(s.will()->topic == "w/t");
    BOOST_REQUIRE(s.floor());
    BOOST_TEST(s.floor()->at("r2") == 7u);

    auto w = s.take_will();  // the floor stays
    BOOST_REQUIRE(w.has_value());
    BOOST_TEST(w->payload == "gone");
    BOOST_TEST(!s.will());
    BOOST_TEST(!s.take_will().has_value());
    BOOST_REQUIRE(s.floor());
    s.drop_floor();
    BOOST_TEST(!s.floor());
    BOOST_TEST(!s.rare_);  // both gone: the out-of-line block is freed

    s.set_will(events::will{"w/t", "again", 0, false});
    s.set_will(std::nullopt);  // discarded (DISCONNECT)
    BOOST_TEST(!s.will());
    BOOST_TEST(!s.rare_);
}

BOOST_AUTO_TEST_SUITE_END()
