// Opening a store: creation (with missing parent directories), a store in
// use in this or another process (refused, never "recovered"), a store
// written by a newer version, a directory that is not a store, a path
// without permission, and an interrupted creation. Every failure comes with
// one line naming the path.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <string>

#include "store/codec.hpp"
#include "store/db.hpp"
#include "tests/component/store_test_util.hpp"

using namespace store;
using store_test::in_child;
using store_test::one_line;
using store_test::open_ok;
using store_test::temp_dir;
using store_test::try_open;

namespace {

// A store with one session record, closed.
void make_store(const std::string& path) {
    auto db = open_ok(path);
    batch b;
    session_record r;
    r.subscriptions = {{"keep/me", 1}};
    b.put_session("c", r);
    BOOST_REQUIRE(!db->commit(b, true));
}

bool has_session_c(const std::string& path) {
    auto db = open_ok(path);
    loaded_state s;
    BOOST_REQUIRE(!db->load(s));
    return s.sessions.contains("c") && s.sessions.at("c").record.subscriptions.contains("keep/me");
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_open)

BOOST_AUTO_TEST_CASE(creates_the_directory_and_its_parents) {
    temp_dir dir;
    const std::string path = dir.path() + "/a/b/store/";  // trailing slash too
    auto r = try_open(path);
    BOOST_REQUIRE_MESSAGE(r.db, r.message);
    BOOST_TEST(r.message.empty());
    loaded_state s;
    BOOST_REQUIRE(!r.db->load(s));
    BOOST_TEST(s.format == format_version);
    BOOST_TEST(s.sessions.empty());
    BOOST_TEST(s.meta.empty());
    BOOST_TEST(std::filesystem::exists(dir.path() + "/a/b/store/CURRENT"));
    BOOST_TEST(r.db->disk_bytes() > 0u);
}

BOOST_AUTO_TEST_CASE(second_open_in_this_process_is_refused) {
    temp_dir dir;
    make_store(dir.store());
    auto first = open_ok(dir.store());
    for (bool recover : {false, true}) {
        // Same store through another spelling of its path.
        auto r = try_open(dir.path() + "/./store", recover);
        BOOST_TEST(!r.db);
        BOOST_TEST((r.ec == errc::busy));
        BOOST_TEST(one_line(r.message), r.message);
        BOOST_TEST(contains(r.message, "store " + dir.path() + "/./store: in use"), r.message);
    }
    BOOST_TEST(dir.entries("store.damaged").empty());
    // The first handle still works.
    batch b;
    b.put_meta("n", 1);
    BOOST_TEST(!first->commit(b, true));
    first.reset();
    BOOST_TEST(has_session_c(dir.store()));  // and once closed, the store opens again
}

BOOST_AUTO_TEST_CASE(store_held_by_another_process_is_refused_and_not_recovered) {
    temp_dir dir;
    make_store(dir.store());
    auto holder = open_ok(dir.store());
    const std::string path = dir.store();
    const std::string out = in_child([&] {
        boost::system::error_code ec;
        std::string message;
        auto db = db::open({path, true}, ec, message);
        if (db) return std::string("opened");
        return std::to_string(ec.value()) + "|" + message;
    });
    const std::string expected_line =
        "store " + path + ": in use by another process (pid " + std::to_string(::getpid()) + ")";
    BOOST_TEST(out == std::to_string(static_cast<int>(errc::busy)) + "|" + expected_line);
    BOOST_TEST(dir.entries("store.damaged").empty());
    holder.reset();
    BOOST_TEST(has_session_c(path));
}

BOOST_AUTO_TEST_CASE(damaged_store_held_by_another_process_is_left_alone) {
    temp_dir dir;
    make_store(dir.store());
    auto holder = open_ok(dir.store());
    // Damage it under the holder's feet: recovery must still not touch it.
    const std::string current = dir.store() + "/CURRENT";
    const std::string good_current = store_test::read_file(current);
    store_test::write_file(current, "garbage without newline");
    const std::string path = dir.store();
    const std::string out = in_child([&] {
        boost::system::error_code ec;
        std::string message;
        auto db = db::open({path, true}, ec, message);
        return db ? std::string("opened") : message;
    });
    BOOST_TEST(contains(out, "in use by another process"), out);
    BOOST_TEST(dir.entries("store.damaged").empty());
    BOOST_TEST(store_test::read_file(current) == "garbage without newline");
    store_test::write_file(current, good_current);
}

BOOST_AUTO_TEST_CASE(newer_format_is_refused_even_with_recover) {
    temp_dir dir;
    make_store(dir.store());
    // What a later build might leave: format 3 and a column family this build
    // does not know.
    store_test::raw_put(dir.store(), "default", std::string(codec::format_key),
                        codec::encode_u32(3));
    store_test::raw_put(dir.store(), "from_the_future", "k", "v");
    for (bool recover : {false, true}) {
        auto r = try_open(dir.store(), recover);
        BOOST_TEST(!r.db);
        BOOST_TEST((r.ec == errc::newer_format));
        BOOST_TEST(r.message == "store " + dir.store() +
                                    ": written by a newer version (format 3, this build reads 2)");
    }
    BOOST_TEST(dir.entries("store.damaged").empty());
    // Put back to format 2: the data is all there.
    store_test::raw_put(dir.store(), "default", std::string(codec::format_key),
                        codec::encode_u32(2));
    BOOST_TEST(has_session_c(dir.store()));
}

BOOST_AUTO_TEST_CASE(a_format_1_store_is_upgraded) {
    temp_dir dir;
    // What the previous build wrote: format 1, without the forward family.
    store_test::raw_create(dir.store(), first_format2_family);
    store_test::raw_put(dir.store(), "default", std::string(codec::format_key),
                        codec::encode_u32(1));
    session_record r;
    r.subscriptions = {{"keep/me", 1}};
    store_test::raw_put(dir.store(), "sessions", "c", codec::encode_session(r));
    {
        auto db = open_ok(dir.store());
        loaded_state s;
        BOOST_REQUIRE(!db->load(s));
        BOOST_TEST(s.format == 2u);
        BOOST_TEST(s.sessions.contains("c"));
        batch b;  // the new family is usable at once
        b.put_forward("r2", {7, 9});
        BOOST_REQUIRE(!db->commit(b, true));
    }
    auto db = open_ok(dir.store());
    loaded_state s;
    BOOST_REQUIRE(!db->load(s));
    BOOST_TEST(s.format == 2u);
    BOOST_REQUIRE(s.forward.contains("r2"));
    BOOST_TEST((s.forward.at("r2") == std::vector<forward_record>{{7, 9}}));
}

BOOST_AUTO_TEST_CASE(a_format_2_store_without_its_forward_family_is_refused) {
    temp_dir dir;
    make_store(dir.store());
    store_test::raw_drop_family(dir.store(), "forward");
    auto r = try_open(dir.store());
    BOOST_TEST(!r.db);
    BOOST_TEST((r.ec == errc::bad_format));
    BOOST_TEST(contains(r.message, "column family forward is missing"), r.message);
}

BOOST_AUTO_TEST_CASE(a_directory_of_other_files_is_left_alone) {
    temp_dir dir;
    std::filesystem::create_directories(dir.store());
    store_test::write_file(dir.store() + "/notes.txt", "mine");
    store_test::write_file(dir.store() + "/app.log", "also mine");
    for (bool recover : {false, true}) {
        auto r = try_open(dir.store(), recover);
        BOOST_TEST(!r.db);
        BOOST_TEST((r.ec == errc::not_a_store));
        BOOST_TEST(one_line(r.message));
        BOOST_TEST(contains(r.message, "store " + dir.store() + ": not a store"), r.message);
    }
    BOOST_TEST(dir.entries("store.damaged").empty());
    BOOST_TEST(store_test::read_file(dir.store() + "/notes.txt") == "mine");
    BOOST_TEST(!std::filesystem::exists(dir.store() + "/CURRENT"));

    // A plain file as the path.
    const std::string file = dir.path() + "/file";
    store_test::write_file(file, "x");
    auto r = try_open(file, true);
    BOOST_TEST(!r.db);
    BOOST_TEST((r.ec == errc::not_a_store));
    BOOST_TEST(r.message == "store " + file + ": not a store (not a directory)");
}

BOOST_AUTO_TEST_CASE(an_empty_path_is_refused) {
    auto r = try_open("");
    BOOST_TEST(!r.db);
    BOOST_TEST((r.ec == errc::invalid_argument));
    BOOST_TEST(one_line(r.message));
}

BOOST_AUTO_TEST_CASE(no_permission_is_reported_not_recovered) {
    temp_dir dir;
    make_store(dir.store());
    const std::string path = dir.store();
    std::string out;
    if (::geteuid() == 0) {
        // Root reads everything: try as "nobody" in a child.
        ::chmod(path.c_str(), 0700);
        out = in_child([&] {
            if (::setgid(65534) != 0 || ::setuid(65534) != 0) return std::string("setuid failed");
            boost::system::error_code ec;
            std::string message;
            auto db = db::open({path, true}, ec, message);
            if (db) return std::string("opened");
            return std::to_string(ec.value()) + "|" + message;
        });
    } else {
        ::chmod(path.c_str(), 0);
        auto r = try_open(path, true);
        out = std::to_string(r.ec.value()) + "|" + r.message;
        ::chmod(path.c_str(), 0700);
    }
    BOOST_TEST(out.starts_with(std::to_string(static_cast<int>(errc::permission_denied)) + "|"),
               out);
    BOOST_TEST(contains(out, "store " + path + ": permission denied"), out);
    BOOST_TEST(one_line(out));
    BOOST_TEST(dir.entries("store.damaged").empty());
    BOOST_TEST(has_session_c(path));

    // Nor can a store be created where the parent is not writable.
    if (::geteuid() == 0) {
        ::chmod(dir.path().c_str(), 0755);
        const std::string inside = dir.path() + "/new-store";
        out = in_child([&] {
            if (::setgid(65534) != 0 || ::setuid(65534) != 0) return std::string("setuid failed");
            boost::system::error_code ec;
            std::string message;
            auto db = db::open({inside}, ec, message);
            return db ? std::string("opened") : message;
        });
        BOOST_TEST(contains(out, "store " + inside + ": permission denied"), out);
        BOOST_TEST(!std::filesystem::exists(inside));
    }
}

BOOST_AUTO_TEST_CASE(creation_cut_short_is_completed) {
    temp_dir dir;
    // A crash after RocksDB created its side files but before any data file.
    std::filesystem::create_directories(dir.store());
    store_test::write_file(dir.store() + "/LOCK", "");
    store_test::write_file(dir.store() + "/LOG", "log line\n");
    {
        auto db = open_ok(dir.store());
        loaded_state s;
        BOOST_REQUIRE(!db->load(s));
        BOOST_TEST(s.format == format_version);
    }
    // A crash after the database was created but before the format version
    // was written: a RocksDB database with empty families and no version.
    temp_dir dir2;
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    BOOST_REQUIRE(rocksdb::DB::Open(o, dir2.store(), &raw).ok());
    delete raw;
    {
        auto db = open_ok(dir2.store());
        loaded_state s;
        BOOST_REQUIRE(!db->load(s));
        BOOST_TEST(s.format == format_version);
        BOOST_TEST(s.meta.empty());
    }
}

BOOST_AUTO_TEST_CASE(a_rocksdb_database_with_data_but_no_version_is_not_ours) {
    temp_dir dir;
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    BOOST_REQUIRE(rocksdb::DB::Open(o, dir.store(), &raw).ok());
    BOOST_REQUIRE(raw->Put(rocksdb::WriteOptions(), "someone", "else's").ok());
    delete raw;
    store_test::raw_put(dir.store(), "meta", "counter", codec::encode_u64(1));
    auto r = try_open(dir.store());
    BOOST_TEST(!r.db);
    BOOST_TEST((r.ec == errc::bad_format));
    BOOST_TEST(r.message ==
               "store " + dir.store() + ": not in this program's format (no format version)");
}

BOOST_AUTO_TEST_SUITE_END()
