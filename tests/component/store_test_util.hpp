// Helpers of the store tests: a temporary directory removed at the end, a
// function run in a forked child (another process, for lock and permission
// tests) with a timeout, and raw access to a store's files.
#pragma once

#include <fcntl.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "store/column_family.hpp"
#include "store/db.hpp"

namespace store_test {

namespace fs = std::filesystem;

// A fresh directory under /tmp; the store goes to dir.store() (one level
// down, so that "<store>.damaged-*" siblings are removed too).
class temp_dir {
  public:
    temp_dir() {
        char pattern[] = "/tmp/store_test-XXXXXX";
        const char* made = ::mkdtemp(pattern);
        BOOST_REQUIRE(made != nullptr);
        path_ = made;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::string& path() const { return path_; }
    std::string store() const { return path_ + "/store"; }

    // Entries of path() whose names start with `prefix`.
    std::vector<std::string> entries(const std::string& prefix) const {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(path_)) {
            const std::string name = e.path().filename().string();
            if (name.starts_with(prefix)) out.push_back(e.path().string());
        }
        return out;
    }

  private:
    std::string path_;
};

inline std::unique_ptr<store::db> open_ok(const std::string& path, bool recover = false) {
    boost::system::error_code ec;
    std::string message;
    auto db = store::db::open({path, recover}, ec, message);
    BOOST_REQUIRE_MESSAGE(db != nullptr, "open failed: " << ec.message() << ": " << message);
    BOOST_TEST(!ec);
    return db;
}

struct open_result {
    std::unique_ptr<store::db> db;
    boost::system::error_code ec;
    std::string message;
};

inline open_result try_open(const std::string& path, bool recover = false) {
    open_result r;
    r.db = store::db::open({path, recover}, r.ec, r.message);
    return r;
}

// Runs fn in a forked child and returns the text it returned. The child
// never returns into the test framework: it leaves with _exit (without
// closing what it opened, like a killed process). Fails the test if the
// child does not finish within `timeout`, or dies by a signal other than a
// SIGKILL it sent itself (`killed_ok`).
inline std::string in_child(const std::function<std::string()>& fn, bool killed_ok = false,
                            std::chrono::seconds timeout = std::chrono::seconds(60)) {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    std::cout.flush();  // or the child would print the parent's pending output
    std::cerr.flush();
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        // The child must not run the test framework's signal handlers.
        for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, SIG_DFL);
        ::close(fds[0]);
        std::string out;
        try {
            out = fn();
        } catch (const std::exception& e) {
            out = std::string("child threw: ") + e.what();
        }
        const char* p = out.data();
        std::size_t left = out.size();
        while (left > 0) {
            const ssize_t n = ::write(fds[1], p, left);
            if (n <= 0) break;
            p += n;
            left -= static_cast<std::size_t>(n);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buf[4096];
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    int status = 0;
    bool exited = false;
    while (!exited) {
        ssize_t n;
        while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
            out.append(buf, static_cast<std::size_t>(n));
        const pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            exited = true;
        } else if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            BOOST_FAIL("child did not finish in time; output so far: " << out);
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    BOOST_REQUIRE_MESSAGE(WIFEXITED(status) || (killed_ok && killed),
                          "child died, status " << status << ": " << out);
    return out;
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
    BOOST_REQUIRE(out.good());
}

// Files of a store directory whose names match `pred`.
inline std::vector<std::string> files_where(const std::string& dir,
                                            const std::function<bool(const std::string&)>& pred) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.is_regular_file() && pred(e.path().filename().string())) out.push_back(e.path());
    }
    return out;
}

// Writes one record straight into a closed store with RocksDB, bypassing
// the store library (to fake other versions and damaged records). Creates
// the column family if the store has none of that name.
inline void raw_put(const std::string& path, const std::string& family, const std::string& key,
                    const std::string& value) {
    std::vector<std::string> names;
    BOOST_REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DBOptions o;
    o.create_missing_column_families = true;
    if (std::find(names.begin(), names.end(), family) == names.end()) {
        families.emplace_back(family, rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    const rocksdb::Status s = rocksdb::DB::Open(o, path, families, &handles, &raw);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    rocksdb::ColumnFamilyHandle* target = nullptr;
    for (auto* h : handles) {
        if (h->GetName() == family) target = h;
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    BOOST_TEST(raw->Put(wo, target, key, value).ok());
    for (auto* h : handles) BOOST_TEST(raw->DestroyColumnFamilyHandle(h).ok());
    BOOST_TEST(raw->Close().ok());
    delete raw;
}

// Creates a store with RocksDB directly, with only the first `families` of
// the store's column families, in id order (as an older format had them).
inline void raw_create(const std::string& path, std::size_t families) {
    rocksdb::DBOptions o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (std::size_t i = 0; i < families; ++i)
        descriptors.emplace_back(store::family_names()[i], rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    const rocksdb::Status s = rocksdb::DB::Open(o, path, descriptors, &handles, &raw);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    for (auto* h : handles) BOOST_TEST(raw->DestroyColumnFamilyHandle(h).ok());
    BOOST_TEST(raw->Close().ok());
    delete raw;
}

// Drops one column family of a closed store.
inline void raw_drop_family(const std::string& path, const std::string& family) {
    std::vector<std::string> names;
    BOOST_REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    const rocksdb::Status s =
        rocksdb::DB::Open(rocksdb::DBOptions(), path, families, &handles, &raw);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    for (auto* h : handles) {
        if (h->GetName() == family) BOOST_TEST(raw->DropColumnFamily(h).ok());
    }
    for (auto* h : handles) BOOST_TEST(raw->DestroyColumnFamilyHandle(h).ok());
    BOOST_TEST(raw->Close().ok());
    delete raw;
}

// A small tmpfs mounted on a new directory for the test's duration (for a
// real ENOSPC, and a real mount point); mounted() is false where mounting is
// not permitted (not root, or no CAP_SYS_ADMIN in a container).
class tmpfs_mount {
  public:
    tmpfs_mount(const std::string& path, const std::string& size) : path_(path) {
        fs::create_directories(path_);
        const std::string cmd =
            "mount -t tmpfs -o size=" + size + " tmpfs '" + path_ + "' 2>/dev/null";
        mounted_ = ::geteuid() == 0 && std::system(cmd.c_str()) == 0;
    }
    ~tmpfs_mount() {
        if (mounted_) (void)std::system(("umount '" + path_ + "'").c_str());
    }
    tmpfs_mount(const tmpfs_mount&) = delete;
    tmpfs_mount& operator=(const tmpfs_mount&) = delete;

    bool mounted() const { return mounted_; }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
    bool mounted_ = false;
};

inline bool one_line(const std::string& s) {
    return !s.empty() && s.find('\n') == std::string::npos && s.find('\r') == std::string::npos;
}

}  // namespace store_test
