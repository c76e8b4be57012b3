// A full disk, made real two ways in a forked child: RLIMIT_FSIZE with
// SIGXFSZ ignored (needs no privilege: RocksDB's log write fails with EFBIG),
// and, where mounting is permitted, a small tmpfs filled up (ENOSPC). Both
// come back as no_space; the failed batch leaves nothing behind, reads still
// work, writes are refused until resume() succeeds once there is room, and a
// reopen finds every earlier commit (after a kill or after a clean close).
#include <signal.h>
#include <sys/resource.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "store/db.hpp"
#include "tests/component/store_test_util.hpp"

using namespace store;
using store_test::open_ok;
using store_test::temp_dir;
namespace fs = std::filesystem;

namespace {

events::stored_message message_of(std::string topic, std::string payload) {
    events::stored_message m;
    m.topic = std::move(topic);
    m.payload = std::move(payload);
    m.qos = 1;
    return m;
}

void fill(batch& b, const std::string& client_id, std::uint64_t id, std::size_t payload_bytes) {
    session_record r;
    r.subscriptions = {{client_id + "/#", 1}};
    b.put_session(client_id, r);
    b.put_message(id, message_of("t/" + client_id, std::string(payload_bytes, 'p')));
    outbound_record e;
    e.seq = 1;
    e.message_id = id;
    b.put_outbound(client_id, e);
    b.put_meta("next_message_id", id + 1);
}

// "key=value" lines from the child.
std::map<std::string, std::string> parse(const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const auto eq = line.find('=');
        if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return out;
}

bool set_file_size_limit(rlim_t bytes) {
    rlimit lim{};
    if (::getrlimit(RLIMIT_FSIZE, &lim) != 0) return false;
    lim.rlim_cur = bytes;
    return ::setrlimit(RLIMIT_FSIZE, &lim) == 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_disk_full)

BOOST_AUTO_TEST_CASE(a_failed_write_loses_nothing_committed_before) {
    temp_dir dir;
    const std::string path = dir.store();
    const std::string out = store_test::in_child([&] {
        std::ostringstream report;
        boost::system::error_code ec;
        std::string message;
        auto db = db::open({path}, ec, message);
        if (!db) return "open=" + message + "\n";

        batch a;
        fill(a, "before", 1, 1000);
        report << "commit_a=" << db->commit(a, true).message() << "\n";

        // No file of this process may grow past 64 KiB from now on.
        ::signal(SIGXFSZ, SIG_IGN);
        if (!set_file_size_limit(64 << 10)) return std::string("setrlimit failed\n");

        batch b;  // far larger than the limit: its log record cannot be written
        fill(b, "during", 2, 300 << 10);
        const auto ec_b = db->commit(b, true);
        report << "commit_b=" << (ec_b == errc::no_space ? "no_space" : ec_b.message()) << "\n";
        report << "commit_b_line=" << db->last_error() << "\n";
        report << "batch_b_kept=" << (b.empty() ? "no" : "yes") << "\n";

        // Reads still work: the earlier commit is there, nothing of b.
        loaded_state s;
        const auto ec_load = db->load(s);
        report << "load=" << (ec_load ? ec_load.message() : "ok") << "\n";
        report << "sessions=" << s.sessions.size() << "\n";
        report << "has_before=" << s.sessions.contains("before") << "\n";

        // Writes are refused until the error is cleared (without touching
        // the failed log file again).
        batch c;
        fill(c, "refused", 3, 10);
        report << "commit_c=" << (db->commit(c, true) ? "failed" : "ok") << "\n";
        report << "sync=" << (db->flush_wal(true) ? "failed" : "ok") << "\n";

        // Room again: resume, then write.
        if (!set_file_size_limit(RLIM_INFINITY)) return std::string("setrlimit failed\n");
        const auto ec_resume = db->resume();
        report << "resume=" << (ec_resume ? ec_resume.message() + ": " + db->last_error() : "ok")
               << "\n";
        batch d;
        fill(d, "after", 4, 1000);
        const auto ec_d = db->commit(d, true);
        report << "commit_d=" << (ec_d ? ec_d.message() : "ok") << "\n";
        (void)db.release();  // die without closing, like a killed process
        return report.str();
    });
    BOOST_TEST_MESSAGE(out);
    const auto r = parse(out);
    BOOST_TEST(r.count("open") == 0u, out);
    BOOST_TEST(r.at("commit_a") == "Success");
    BOOST_TEST(r.at("commit_b") == "no_space");
    BOOST_TEST(r.at("commit_b_line").starts_with("store " + path + ": commit failed: "));
    BOOST_TEST(r.at("commit_b_line").find("File too large") != std::string::npos);
    BOOST_TEST(r.at("batch_b_kept") == "yes");
    BOOST_TEST(r.at("load") == "ok");
    BOOST_TEST(r.at("sessions") == "1");
    BOOST_TEST(r.at("has_before") == "1");
    BOOST_TEST(r.at("commit_c") == "failed");
    BOOST_TEST(r.at("sync") == "failed");
    BOOST_TEST(r.at("resume") == "ok");
    BOOST_TEST(r.at("commit_d") == "ok");

    // A new process: every successful commit, nothing of the failed ones.
    auto db = open_ok(path);
    loaded_state s;
    BOOST_REQUIRE(!db->load(s));
    BOOST_TEST(s.sessions.contains("before"));
    BOOST_TEST(s.sessions.contains("after"));
    BOOST_TEST(!s.sessions.contains("during"));
    BOOST_TEST(!s.sessions.contains("refused"));
    BOOST_TEST(s.messages.size() == 2u);
    BOOST_TEST(s.messages.contains(1));
    BOOST_TEST(s.messages.contains(4));
    BOOST_TEST(s.meta.at("next_message_id") == 5u);
}

BOOST_AUTO_TEST_CASE(closing_after_a_failed_write_keeps_earlier_commits) {
    temp_dir dir;
    const std::string path = dir.store();
    const std::string out = store_test::in_child([&] {
        std::ostringstream report;
        boost::system::error_code ec;
        std::string message;
        auto db = db::open({path}, ec, message);
        if (!db) return "open=" + message + "\n";
        batch a;
        fill(a, "before", 1, 1000);
        report << "commit_a=" << (db->commit(a, false) ? "failed" : "ok") << "\n";
        ::signal(SIGXFSZ, SIG_IGN);
        if (!set_file_size_limit(64 << 10)) return std::string("setrlimit failed\n");
        batch b;
        fill(b, "during", 2, 300 << 10);
        report << "commit_b=" << (db->commit(b, false) ? "failed" : "ok") << "\n";
        db.reset();  // a clean close after the failure
        report << "closed=1\n";
        return report.str();
    });
    const auto r = parse(out);
    BOOST_TEST(r.count("open") == 0u, out);
    BOOST_TEST(r.at("commit_a") == "ok");
    BOOST_TEST(r.at("commit_b") == "failed");
    BOOST_TEST(r.at("closed") == "1");

    auto db = open_ok(path);
    loaded_state s;
    BOOST_REQUIRE(!db->load(s));
    BOOST_TEST(s.sessions.contains("before"));
    BOOST_TEST(!s.sessions.contains("during"));
    BOOST_TEST(s.messages.size() == 1u);
    // And it takes writes again.
    batch c;
    fill(c, "after", 3, 10);
    BOOST_TEST(!db->commit(c, true));
}

BOOST_AUTO_TEST_CASE(a_really_full_file_system) {
    temp_dir dir;
    store_test::tmpfs_mount mnt(dir.path() + "/mnt", "4m");
    if (!mnt.mounted()) {
        BOOST_TEST_MESSAGE("skipped: mounting a tmpfs is not permitted here");
        return;
    }
    const std::string path = mnt.path() + "/store";
    const std::string ballast = mnt.path() + "/ballast";
    const std::string out = store_test::in_child([&] {
        std::ostringstream report;
        boost::system::error_code ec;
        std::string message;
        auto db = db::open({path}, ec, message);
        if (!db) return "open=" + message + "\n";
        // Room to free later.
        store_test::write_file(ballast, std::string(512 << 10, 'b'));
        std::uint64_t id = 1;
        int ok = 0;
        boost::system::error_code failed;
        for (; id <= 100 && !failed; ++id) {
            batch b;
            fill(b, "c" + std::to_string(id), id, 256 << 10);
            failed = db->commit(b, true);
            if (!failed) ++ok;
        }
        report << "ok=" << ok << "\n";
        report << "failure=" << (failed == errc::no_space ? "no_space" : failed.message()) << "\n";
        report << "line=" << db->last_error() << "\n";
        loaded_state s;
        report << "load=" << (db->load(s) ? "failed" : "ok") << "\n";
        report << "sessions=" << s.sessions.size() << "\n";

        fs::remove(ballast);
        const auto ec_resume = db->resume();
        report << "resume=" << (ec_resume ? db->last_error() : "ok") << "\n";
        batch small;
        fill(small, "after", 1000, 10);
        const auto ec_small = db->commit(small, true);
        report << "after=" << (ec_small ? db->last_error() : "ok") << "\n";
        db.reset();
        return report.str();
    });
    BOOST_TEST_MESSAGE(out);
    const auto r = parse(out);
    BOOST_REQUIRE_MESSAGE(r.count("open") == 0u, out);
    const int ok = std::stoi(r.at("ok"));
    BOOST_TEST(ok >= 1);
    BOOST_TEST(r.at("failure") == "no_space");
    BOOST_TEST(r.at("line").find("store " + path + ": commit failed: ") == 0u, r.at("line"));
    BOOST_TEST(r.at("load") == "ok");
    BOOST_TEST(r.at("sessions") == std::to_string(ok));
    BOOST_TEST(r.at("resume") == "ok");
    BOOST_TEST(r.at("after") == "ok");

    auto db = open_ok(path);
    loaded_state s;
    BOOST_REQUIRE(!db->load(s));
    BOOST_TEST(s.sessions.size() == static_cast<std::size_t>(ok) + 1);
    BOOST_TEST(s.sessions.contains("after"));
    BOOST_TEST(!s.sessions.contains("c" + std::to_string(ok + 1)));  // the failed batch
    for (int i = 1; i <= ok; ++i) BOOST_TEST(s.sessions.contains("c" + std::to_string(i)));
}

BOOST_AUTO_TEST_SUITE_END()
