// Damaged stores: a garbage CURRENT or MANIFEST, a table file with flipped
// bytes or cut short, a missing CURRENT, an undecodable record. Without
// recover, open fails with one line naming the path and leaves the files as
// they are; with recover, the directory is moved aside intact
// ("<path>.damaged-<UTC time>") and a fresh empty store opens. A store that
// cannot be renamed (e.g. a mount point) has its files moved into a
// "damaged-*" subdirectory instead.
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <functional>
#include <string>

#include "store/codec.hpp"
#include "store/db.hpp"
#include "tests/component/store_test_util.hpp"

using namespace store;
using store_test::files_where;
using store_test::one_line;
using store_test::open_ok;
using store_test::read_file;
using store_test::temp_dir;
using store_test::try_open;
using store_test::write_file;

namespace fs = std::filesystem;

namespace {

// A store holding a few sessions and messages, flushed to table files.
void make_store(const std::string& path) {
    auto db = open_ok(path);
    batch b;
    for (int i = 0; i < 200; ++i) {
        const std::string id = "client-" + std::to_string(i);
        session_record r;
        r.subscriptions = {{"t/" + id + "/#", 1}};
        b.put_session(id, r);
        events::stored_message m;
        m.topic = "t/" + id;
        m.payload = std::string(200, static_cast<char>('a' + i % 26));
        b.put_message(static_cast<std::uint64_t>(i + 1), m);
    }
    BOOST_REQUIRE(!db->commit(b, true));
    BOOST_REQUIRE(!db->flush());
}

std::vector<std::string> ssts(const std::string& path) {
    return files_where(path, [](const std::string& n) { return n.ends_with(".sst"); });
}

// The largest table file (the messages' one).
std::string largest_sst(const std::string& path) {
    std::string best;
    std::uintmax_t size = 0;
    for (const auto& f : ssts(path)) {
        if (fs::file_size(f) > size) {
            size = fs::file_size(f);
            best = f;
        }
    }
    BOOST_REQUIRE(!best.empty());
    return best;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// The whole scenario: damage a store, check that open refuses it without
// touching it, then that recover moves it aside intact and starts empty.
void check_damage(const std::function<void(const std::string&)>& damage, const std::string& says) {
    temp_dir dir;
    const std::string path = dir.store();
    make_store(path);
    damage(path);

    // Snapshot of the damaged directory (names and contents).
    std::map<std::string, std::string> before;
    for (const auto& e : fs::directory_iterator(path)) {
        if (e.path().filename() != "LOG" && !e.path().filename().string().starts_with("LOG.old")) {
            before[e.path().filename().string()] = read_file(e.path().string());
        }
    }

    auto r = try_open(path);
    BOOST_TEST_MESSAGE(r.message);
    BOOST_TEST(!r.db);
    BOOST_TEST(is_damage(r.ec), r.ec.message());
    BOOST_TEST(one_line(r.message), r.message);
    BOOST_TEST(r.message.starts_with("store " + path + ": "), r.message);
    BOOST_TEST(contains(r.message, says), r.message);
    BOOST_TEST(dir.entries("store.damaged").empty());
    for (const auto& [name, bytes] : before) {
        BOOST_TEST(read_file(path + "/" + name) == bytes, name << " changed by a failed open");
    }

    auto rec = try_open(path, true);
    BOOST_TEST_MESSAGE(rec.message);
    BOOST_REQUIRE_MESSAGE(rec.db, rec.message);
    BOOST_TEST(!rec.ec);
    BOOST_TEST(one_line(rec.message), rec.message);
    BOOST_TEST(contains(rec.message, says), rec.message);
    const auto aside = dir.entries("store.damaged-");
    BOOST_REQUIRE(aside.size() == 1u);
    BOOST_TEST(contains(rec.message, "moved aside to " + aside[0]), rec.message);
    // Name: <path>.damaged-YYYYMMDDTHHMMSSZ
    const std::string suffix = aside[0].substr(path.size() + std::string(".damaged-").size());
    BOOST_TEST(suffix.size() == 16u, suffix);
    BOOST_TEST(suffix[8] == 'T');
    BOOST_TEST(suffix.back() == 'Z');
    // Intact: every file as it was.
    for (const auto& [name, bytes] : before) {
        BOOST_TEST(read_file(aside[0] + "/" + name) == bytes, name << " not moved aside intact");
    }
    loaded_state s;
    BOOST_REQUIRE(!rec.db->load(s));
    BOOST_TEST(s.format == format_version);
    BOOST_TEST(s.sessions.empty());
    BOOST_TEST(s.messages.empty());
    rec.db.reset();

    // The fresh store is a normal store.
    auto again = try_open(path);
    BOOST_TEST(again.db != nullptr, again.message);
    BOOST_TEST(again.message.empty());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_recovery)

BOOST_AUTO_TEST_CASE(garbage_current) {
    check_damage([](const std::string& path) { write_file(path + "/CURRENT", "\x01\x02garbage"); },
                 "corrupt (");
}

BOOST_AUTO_TEST_CASE(garbage_manifest) {
    check_damage(
        [](const std::string& path) {
            const auto manifests =
                files_where(path, [](const std::string& n) { return n.starts_with("MANIFEST-"); });
            BOOST_REQUIRE(!manifests.empty());
            for (const auto& m : manifests) {
                write_file(m, std::string(fs::file_size(m), '\x5a'));
            }
        },
        "corrupt (");
}

BOOST_AUTO_TEST_CASE(missing_current) {
    check_damage([](const std::string& path) { fs::remove(path + "/CURRENT"); },
                 "corrupt (the CURRENT file is missing)");
}

BOOST_AUTO_TEST_CASE(flipped_bytes_in_a_table_file) {
    // Caught by the block checksums when open() reads every record.
    check_damage(
        [](const std::string& path) {
            const std::string sst = largest_sst(path);
            std::string bytes = read_file(sst);
            BOOST_REQUIRE(bytes.size() > 2000u);
            for (std::size_t i = 100; i < 164; ++i) bytes[i] = static_cast<char>(~bytes[i]);
            write_file(sst, bytes);
        },
        "corrupt (");
}

BOOST_AUTO_TEST_CASE(table_file_cut_short) {
    check_damage(
        [](const std::string& path) {
            const std::string sst = largest_sst(path);
            fs::resize_file(sst, fs::file_size(sst) / 2);
        },
        "corrupt (");
}

BOOST_AUTO_TEST_CASE(missing_table_file) {
    check_damage([](const std::string& path) { fs::remove(largest_sst(path)); }, "corrupt (");
}

BOOST_AUTO_TEST_CASE(undecodable_record) {
    check_damage(
        [](const std::string& path) {
            // A session value with an unknown record version.
            store_test::raw_put(path, "sessions", "client-7", "\x09garbage");
        },
        "not in this program's format (undecodable session record");
}

BOOST_AUTO_TEST_CASE(two_recoveries_get_two_names) {
    temp_dir dir;
    const std::string path = dir.store();
    for (int round = 0; round < 2; ++round) {
        make_store(path);
        write_file(path + "/CURRENT", "bad");
        auto rec = try_open(path, true);
        BOOST_REQUIRE_MESSAGE(rec.db, rec.message);
    }
    const auto aside = dir.entries("store.damaged-");
    BOOST_TEST(aside.size() == 2u);
    for (const auto& a : aside) BOOST_TEST(read_file(a + "/CURRENT") == "bad");
}

BOOST_AUTO_TEST_CASE(a_directory_that_cannot_be_renamed_keeps_its_place) {
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("skipped: needs root to run the open as another user");
        return;
    }
    // Stands for a mount point: "nobody" owns the store but may not rename it
    // in its parent.
    temp_dir dir;
    const std::string path = dir.store();
    make_store(path);
    write_file(path + "/CURRENT", "bad");
    for (const auto& e : fs::recursive_directory_iterator(path)) {
        BOOST_REQUIRE(::chown(e.path().c_str(), 65534, 65534) == 0);
    }
    BOOST_REQUIRE(::chown(path.c_str(), 65534, 65534) == 0);
    BOOST_REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    const std::string out = store_test::in_child([&] {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) return std::string("setuid failed");
        boost::system::error_code ec;
        std::string message;
        auto db = db::open({path, true}, ec, message);
        if (!db) return "failed: " + message;
        loaded_state s;
        if (db->load(s) || !s.sessions.empty()) return std::string("not empty");
        return message;
    });
    BOOST_TEST(contains(out, "moved aside to " + path + "/damaged-"), out);
    BOOST_TEST(dir.entries("store.damaged").empty());
    std::vector<std::string> sub;
    for (const auto& e : fs::directory_iterator(path)) {
        if (e.path().filename().string().starts_with("damaged-")) sub.push_back(e.path());
    }
    BOOST_REQUIRE(sub.size() == 1u);
    BOOST_TEST(read_file(sub[0] + "/CURRENT") == "bad");
    BOOST_TEST(!ssts(sub[0]).empty());
    // The fresh store next to it opens, and ignores the subdirectory.
    auto db = open_ok(path);
    loaded_state s;
    BOOST_REQUIRE(!db->load(s));
    BOOST_TEST(s.sessions.empty());
}

BOOST_AUTO_TEST_CASE(a_mount_point_keeps_its_place) {
    temp_dir dir;
    store_test::tmpfs_mount mnt(dir.path() + "/volume", "16m");
    if (!mnt.mounted()) {
        BOOST_TEST_MESSAGE("skipped: mounting a tmpfs is not permitted here");
        return;
    }
    // The store is the mount point itself, as with a container volume.
    const std::string path = mnt.path();
    make_store(path);
    write_file(path + "/CURRENT", "bad");
    auto rec = try_open(path, true);
    BOOST_REQUIRE_MESSAGE(rec.db, rec.message);
    BOOST_TEST(contains(rec.message, "moved aside to " + path + "/damaged-"), rec.message);
    BOOST_TEST(dir.entries("volume.damaged").empty());
    std::vector<std::string> sub;
    for (const auto& e : fs::directory_iterator(path)) {
        if (e.path().filename().string().starts_with("damaged-")) sub.push_back(e.path());
    }
    BOOST_REQUIRE(sub.size() == 1u);
    BOOST_TEST(read_file(sub[0] + "/CURRENT") == "bad");
    BOOST_TEST(!ssts(sub[0]).empty());
    rec.db.reset();
    auto db = open_ok(path);
    loaded_state s;
    BOOST_REQUIRE(!db->load(s));
    BOOST_TEST(s.sessions.empty());
}

BOOST_AUTO_TEST_SUITE_END()
