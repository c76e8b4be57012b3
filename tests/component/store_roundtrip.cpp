// The store keeps what the router writes: every record kind survives a close
// and a reopen field by field; erase_session removes exactly one session's
// records; batches apply all at once; a process killed right after a commit
// without sync (kill -9) loses nothing.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <string>

#include "store/db.hpp"
#include "tests/component/store_test_util.hpp"

using namespace store;
using store_test::open_ok;
using store_test::temp_dir;

namespace {

events::stored_message make_message(std::string topic, std::string payload, std::uint8_t qos,
                                    bool retain, std::uint64_t stamp, std::string origin) {
    events::stored_message m;
    m.topic = std::move(topic);
    m.payload = std::move(payload);
    m.qos = qos;
    m.retain = retain;
    m.stamp = stamp;
    m.origin = std::move(origin);
    return m;
}

void check_same(const events::stored_message& got, const events::stored_message& want) {
    BOOST_TEST(got.topic == want.topic);
    BOOST_TEST(got.payload == want.payload);
    BOOST_TEST(got.qos == want.qos);
    BOOST_TEST(got.retain == want.retain);
    BOOST_TEST(got.stamp == want.stamp);
    BOOST_TEST(got.origin == want.origin);
}

void check_same(const outbound_record& got, const outbound_record& want) {
    BOOST_TEST(got.seq == want.seq);
    BOOST_TEST(static_cast<int>(got.state) == static_cast<int>(want.state));
    BOOST_TEST(got.packet_id == want.packet_id);
    BOOST_TEST(got.qos == want.qos);
    BOOST_TEST(got.retain == want.retain);
    BOOST_TEST(got.message_id == want.message_id);
}

outbound_record entry(std::uint64_t seq, outbound_state state, std::uint16_t packet_id,
                      std::uint8_t qos, bool retain, std::uint64_t message_id) {
    outbound_record e;
    e.seq = seq;
    e.state = state;
    e.packet_id = packet_id;
    e.qos = qos;
    e.retain = retain;
    e.message_id = message_id;
    return e;
}

// One of everything, as a router would write it.
struct sample {
    events::stored_message binary = make_message("a/b", std::string("\0\x01\xff payload", 11), 2,
                                                 false, 0x0001'0000'0000'0001, "router-1");
    events::stored_message empty = make_message("e", "", 1, false, 5, "r2");
    events::stored_message big = make_message("big", std::string(100'000, 'x'), 1, true, 6, "");
    events::stored_message retained = make_message("r/t", "on", 1, true, 77, "router-1");
    events::stored_message tombstone = make_message("r/gone", "", 0, true, 78, "router-2");
    session_record c1;
    session_record c2;
    std::vector<outbound_record> c1_out;

    sample() {
        c1.subscriptions = {{"a/#", 2}, {"+/b", 1}, {"x", 0}};
        c1.last_packet_id = 65535;
        c1.expiry_ms = 1'700'000'000'123;
        c2.last_packet_id = 0;
        c1_out = {entry(1, outbound_state::awaiting_puback, 7, 1, false, 1),
                  entry(2, outbound_state::awaiting_pubrec, 8, 2, true, 2),
                  entry(3, outbound_state::awaiting_pubcomp, 9, 2, false, 0),
                  entry(1000, outbound_state::queued, 0, 1, false, 3)};
    }

    void write(batch& b) const {
        b.put_meta("next_message_id", 4);
        b.put_meta("hlc", 0xfedc'ba98'7654'3210);
        b.put_message(1, binary);
        b.put_message(2, empty);
        b.put_message(3, big);
        b.put_session("c1", c1);
        b.put_session("c2", c2);
        for (const auto& e : c1_out) b.put_outbound("c1", e);
        for (std::uint16_t id : {3, 65535, 1}) b.put_inbound("c1", id);
        b.put_retained(retained);
        b.put_retained(tombstone);
        b.put_forward("r2", {0x20, 1});
        b.put_forward("r2", {0x10, 3});
        b.put_forward("r", {0x30, 1});  // a prefix of "r2": its own range
        b.put_forward("r3", {0x40, 2});
        b.erase_forward("r3", 0x40);
    }

    void check(const loaded_state& s) const {
        BOOST_TEST(s.format == format_version);
        BOOST_TEST(s.meta.size() == 2u);
        BOOST_TEST(s.meta.at("next_message_id") == 4u);
        BOOST_TEST(s.meta.at("hlc") == 0xfedc'ba98'7654'3210u);

        BOOST_REQUIRE(s.messages.size() == 3u);
        check_same(s.messages.at(1), binary);
        check_same(s.messages.at(2), empty);
        check_same(s.messages.at(3), big);

        BOOST_REQUIRE(s.sessions.size() == 2u);
        const loaded_session& l1 = s.sessions.at("c1");
        BOOST_TEST(l1.has_record);
        BOOST_TEST(l1.record.subscriptions == c1.subscriptions);
        BOOST_TEST(l1.record.last_packet_id == 65535);
        BOOST_TEST(l1.record.expiry_ms == c1.expiry_ms);
        BOOST_REQUIRE(l1.outbound.size() == c1_out.size());
        for (std::size_t i = 0; i < c1_out.size(); ++i) check_same(l1.outbound[i], c1_out[i]);
        BOOST_TEST(l1.inbound_qos2 == (std::vector<std::uint16_t>{1, 3, 65535}),
                   boost::test_tools::per_element());

        const loaded_session& l2 = s.sessions.at("c2");
        BOOST_TEST(l2.has_record);
        BOOST_TEST(l2.record.subscriptions.empty());
        BOOST_TEST(l2.record.expiry_ms == 0u);
        BOOST_TEST(l2.outbound.empty());
        BOOST_TEST(l2.inbound_qos2.empty());

        BOOST_REQUIRE(s.retained.size() == 2u);
        check_same(s.retained.at("r/t"), retained);
        check_same(s.retained.at("r/gone"), tombstone);  // the deletion marker is kept

        BOOST_REQUIRE(s.forward.size() == 2u);  // r3's only entry was erased
        BOOST_TEST((s.forward.at("r2") == std::vector<forward_record>{{0x10, 3}, {0x20, 1}}));
        BOOST_TEST((s.forward.at("r") == std::vector<forward_record>{{0x30, 1}}));
    }
};

std::size_t outbound_count(const loaded_state& s, const std::string& client_id) {
    auto it = s.sessions.find(client_id);
    return it == s.sessions.end() ? 0 : it->second.outbound.size();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_roundtrip)

BOOST_AUTO_TEST_CASE(every_record_kind_survives_a_reopen) {
    temp_dir dir;
    const sample data;
    {
        auto db = open_ok(dir.store());
        loaded_state fresh;
        BOOST_REQUIRE(!db->load(fresh));
        BOOST_TEST(fresh.format == format_version);
        BOOST_TEST(fresh.sessions.empty());
        BOOST_TEST(fresh.messages.empty());

        batch b;
        data.write(b);
        BOOST_TEST(b.count() == 21u);
        BOOST_TEST(b.bytes() > 100'000u);  // the big payload, once
        BOOST_TEST(b.bytes() < 101'000u);
        BOOST_REQUIRE(!db->commit(b, true));
        BOOST_TEST(b.empty());  // cleared by a successful commit

        loaded_state now;  // read back before closing
        BOOST_REQUIRE(!db->load(now));
        data.check(now);
    }
    auto db = open_ok(dir.store());
    loaded_state first;  // handed over from open()
    BOOST_REQUIRE(!db->load(first));
    data.check(first);
    loaded_state second;  // read again
    BOOST_REQUIRE(!db->load(second));
    data.check(second);
}

BOOST_AUTO_TEST_CASE(records_survive_flush_to_table_files) {
    temp_dir dir;
    const sample data;
    {
        auto db = open_ok(dir.store());
        batch b;
        data.write(b);
        BOOST_REQUIRE(!db->commit(b, false));
        BOOST_REQUIRE(!db->flush());
        BOOST_TEST(!store_test::files_where(dir.store(), [](const std::string& n) {
                        return n.ends_with(".sst");
                    }).empty());
        BOOST_TEST(db->disk_bytes() > 0u);
    }
    auto db = open_ok(dir.store());
    loaded_state s;
    BOOST_REQUIRE(!db->load(s));
    data.check(s);
}

BOOST_AUTO_TEST_CASE(erase_session_removes_exactly_that_session) {
    temp_dir dir;
    // Client ids whose keys share bytes with "a"'s: each must survive its
    // erasure.
    const std::vector<std::string> ids{
        "a", "ab", std::string("a\x01", 2), std::string("a\0", 2), "", "b", "\xff", "ba"};
    auto db = open_ok(dir.store());
    {
        batch b;
        std::uint64_t msg = 1;
        for (const auto& id : ids) {
            session_record r;
            r.subscriptions = {{"t/" + id, 1}};
            b.put_session(id, r);
            b.put_message(msg, make_message("t", id, 1, false, msg, "o"));
            b.put_outbound(id, entry(1, outbound_state::queued, 0, 1, false, msg));
            b.put_outbound(
                id, entry(~std::uint64_t{0}, outbound_state::awaiting_puback, 2, 1, false, msg));
            b.put_inbound(id, 0);
            b.put_inbound(id, 0xffff);
            ++msg;
        }
        BOOST_REQUIRE(!db->commit(b, false));
    }
    {
        batch b;
        b.erase_session("a");
        b.erase_session("");
        BOOST_REQUIRE(!db->commit(b, false));
    }
    auto check = [&](const loaded_state& s) {
        BOOST_TEST(!s.sessions.contains("a"));
        BOOST_TEST(!s.sessions.contains(""));
        BOOST_TEST(s.sessions.size() == ids.size() - 2);
        for (const auto& id : ids) {
            if (id == "a" || id.empty()) continue;
            BOOST_REQUIRE_MESSAGE(s.sessions.contains(id),
                                  "session of " << id.size() << "-byte id lost");
            const loaded_session& l = s.sessions.at(id);
            BOOST_TEST(l.has_record);
            BOOST_TEST(l.record.subscriptions.at("t/" + id) == 1);
            BOOST_TEST(l.outbound.size() == 2u);
            BOOST_TEST(l.inbound_qos2.size() == 2u);
        }
        // The messages are the router's to erase; erase_session leaves them.
        BOOST_TEST(s.messages.size() == ids.size());
        BOOST_TEST(unreferenced_messages(s) == (std::vector<std::uint64_t>{1, 5}),
                   boost::test_tools::per_element());
    };
    loaded_state before_reopen;
    BOOST_REQUIRE(!db->load(before_reopen));
    BOOST_REQUIRE(!db->load(before_reopen));  // the second call reads the store
    check(before_reopen);

    db.reset();
    db = open_ok(dir.store());
    loaded_state after;
    BOOST_REQUIRE(!db->load(after));
    check(after);
}

BOOST_AUTO_TEST_CASE(erase_then_put_again) {
    temp_dir dir;
    auto db = open_ok(dir.store());
    session_record old_r;
    old_r.subscriptions = {{"old", 1}};
    {
        batch b;
        b.put_session("c", old_r);
        b.put_outbound("c", entry(1, outbound_state::queued, 0, 1, false, 1));
        b.put_outbound("c", entry(2, outbound_state::queued, 0, 1, false, 1));
        b.put_inbound("c", 10);
        BOOST_REQUIRE(!db->commit(b, false));
    }
    session_record new_r;
    new_r.subscriptions = {{"new", 2}};
    {
        // In one batch: the erasure applies first, the new records stay.
        batch b;
        b.erase_session("c");
        b.put_session("c", new_r);
        b.put_outbound("c", entry(2, outbound_state::awaiting_pubrec, 4, 2, false, 9));
        b.put_inbound("c", 11);
        BOOST_REQUIRE(!db->commit(b, false));
    }
    db.reset();
    db = open_ok(dir.store());
    loaded_state s;
    BOOST_REQUIRE(!db->load(s));
    BOOST_REQUIRE(s.sessions.contains("c"));
    const loaded_session& l = s.sessions.at("c");
    BOOST_TEST(l.record.subscriptions == new_r.subscriptions);
    BOOST_REQUIRE(l.outbound.size() == 1u);
    check_same(l.outbound[0], entry(2, outbound_state::awaiting_pubrec, 4, 2, false, 9));
    BOOST_TEST(l.inbound_qos2 == (std::vector<std::uint16_t>{11}),
               boost::test_tools::per_element());

    {
        // In separate batches: erased, then created anew.
        batch b;
        b.erase_session("c");
        BOOST_REQUIRE(!db->commit(b, false));
        BOOST_REQUIRE(!db->load(s));
        BOOST_TEST(!s.sessions.contains("c"));
        b.put_session("c", old_r);
        BOOST_REQUIRE(!db->commit(b, false));
    }
    db.reset();
    db = open_ok(dir.store());
    BOOST_REQUIRE(!db->load(s));
    BOOST_REQUIRE(s.sessions.contains("c"));
    BOOST_TEST(s.sessions.at("c").record.subscriptions == old_r.subscriptions);
    BOOST_TEST(s.sessions.at("c").outbound.empty());
    BOOST_TEST(s.sessions.at("c").inbound_qos2.empty());
}

BOOST_AUTO_TEST_CASE(single_erasures) {
    temp_dir dir;
    const sample data;
    auto db = open_ok(dir.store());
    batch b;
    data.write(b);
    BOOST_REQUIRE(!db->commit(b, false));

    b.erase_meta("hlc");
    b.erase_message(2);
    b.erase_outbound("c1", 2);
    b.erase_inbound("c1", 65535);
    b.erase_retained("r/gone");
    b.erase_outbound("c2", 1);  // nothing there: fine
    b.put_outbound("c1", entry(1, outbound_state::awaiting_puback, 7, 1, true, 1));  // replace
    BOOST_REQUIRE(!db->commit(b, true));
    db.reset();
    db = open_ok(dir.store());
    loaded_state s;
    BOOST_REQUIRE(!db->load(s));
    BOOST_TEST(!s.meta.contains("hlc"));
    BOOST_TEST(s.meta.contains("next_message_id"));
    BOOST_TEST(!s.messages.contains(2));
    BOOST_TEST(s.messages.size() == 2u);
    const loaded_session& l = s.sessions.at("c1");
    BOOST_REQUIRE(l.outbound.size() == 3u);
    check_same(l.outbound[0], entry(1, outbound_state::awaiting_puback, 7, 1, true, 1));
    BOOST_TEST(l.outbound[1].seq == 3u);
    BOOST_TEST(l.outbound[2].seq == 1000u);
    BOOST_TEST(l.inbound_qos2 == (std::vector<std::uint16_t>{1, 3}),
               boost::test_tools::per_element());
    BOOST_TEST(s.retained.size() == 1u);
    BOOST_TEST(s.retained.contains("r/t"));
}

BOOST_AUTO_TEST_CASE(a_committed_batch_is_visible_as_a_whole) {
    temp_dir dir;
    auto db = open_ok(dir.store());
    batch b;
    BOOST_TEST(b.empty());
    for (std::uint64_t i = 1; i <= 500; ++i) {
        const std::string id = "client-" + std::to_string(i % 50);
        b.put_message(i,
                      make_message("t/" + std::to_string(i), std::to_string(i), 1, false, i, "o"));
        b.put_outbound(id, entry(i, outbound_state::queued, 0, 1, false, i));
    }
    for (int c = 0; c < 50; ++c) b.put_session("client-" + std::to_string(c), session_record{});
    b.put_meta("next_message_id", 501);
    BOOST_TEST(b.count() == 1051u);
    BOOST_REQUIRE(!db->commit(b, false));
    BOOST_TEST(b.empty());

    loaded_state s;
    BOOST_REQUIRE(!db->load(s));
    BOOST_TEST(s.messages.size() == 500u);
    BOOST_TEST(s.sessions.size() == 50u);
    for (int c = 0; c < 50; ++c)
        BOOST_TEST(outbound_count(s, "client-" + std::to_string(c)) == 10u);
    BOOST_TEST(s.meta.at("next_message_id") == 501u);
    BOOST_TEST(unreferenced_messages(s).empty());
    BOOST_TEST(dangling_entries(s).empty());

    // Cleared, a batch can be reused; an empty commit (with sync) is a log sync.
    b.put_meta("x", 1);
    b.clear();
    BOOST_TEST(b.empty());
    BOOST_TEST(!db->commit(b, true));
    BOOST_TEST(!db->flush_wal(true));
    BOOST_TEST(!db->flush_wal(false));
}

BOOST_AUTO_TEST_CASE(erase_forward_peer_removes_exactly_that_peer) {
    temp_dir dir;
    auto db = open_ok(dir.store());
    batch b;
    for (std::uint64_t stamp : {std::uint64_t{1}, std::uint64_t{2}, ~std::uint64_t{0}}) {
        b.put_forward("r", {stamp, 1});
        b.put_forward("r2", {stamp, 2});
        b.put_forward("", {stamp, 3});
    }
    BOOST_REQUIRE(!db->commit(b, false));
    b.erase_forward_peer("r");
    BOOST_REQUIRE(!db->commit(b, false));
    loaded_state s;
    BOOST_REQUIRE(!db->load(s));
    BOOST_TEST(!s.forward.contains("r"));
    BOOST_TEST(s.forward.at("r2").size() == 3u);
    BOOST_TEST(s.forward.at("").size() == 3u);
}

BOOST_AUTO_TEST_CASE(load_reports_orphans_without_dropping_them) {
    temp_dir dir;
    auto db = open_ok(dir.store());
    batch b;
    b.put_message(1, make_message("t", "p", 1, false, 1, "o"));  // nobody refers to it
    b.put_outbound("ghost", entry(5, outbound_state::awaiting_puback, 1, 1, false, 2));  // no msg 2
    b.put_outbound("ghost", entry(6, outbound_state::awaiting_pubcomp, 2, 2, false, 0));
    b.put_inbound("ghost", 4);
    BOOST_REQUIRE(!db->commit(b, false));
    db.reset();
    db = open_ok(dir.store());
    loaded_state s;
    BOOST_REQUIRE(!db->load(s));
    BOOST_REQUIRE(s.sessions.contains("ghost"));
    BOOST_TEST(!s.sessions.at("ghost").has_record);  // entries without a session record
    BOOST_TEST(s.sessions.at("ghost").outbound.size() == 2u);
    BOOST_TEST(unreferenced_messages(s) == (std::vector<std::uint64_t>{1}),
               boost::test_tools::per_element());
    s.forward["peer"].push_back({5, 1});  // an outbox entry refers to it too
    BOOST_TEST(unreferenced_messages(s).empty());
    const auto dangling = dangling_entries(s);
    BOOST_REQUIRE(dangling.size() == 1u);  // seq 6 needs no message (only PUBREL remains)
    BOOST_TEST(dangling[0].first == "ghost");
    BOOST_TEST(dangling[0].second == 5u);
}

BOOST_AUTO_TEST_CASE(unsynced_commits_survive_kill_9) {
    temp_dir dir;
    const sample data;
    const std::string path = dir.store();
    // The child commits without sync and is killed at once: the log was
    // written to the OS, which keeps it.
    const std::string out = store_test::in_child(
        [&]() -> std::string {
            boost::system::error_code ec;
            std::string message;
            auto db = db::open({path}, ec, message);
            if (!db) return "open: " + message;
            batch b;
            data.write(b);
            if (auto e = db->commit(b, false)) return "commit: " + e.message();
            ::kill(::getpid(), SIGKILL);
            return "still alive";
        },
        true);
    BOOST_TEST(out.empty(), "child said: " << out);
    auto db = open_ok(path);
    loaded_state s;
    BOOST_REQUIRE(!db->load(s));
    data.check(s);
}

BOOST_AUTO_TEST_SUITE_END()
