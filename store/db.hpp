// The router's durable state on RocksDB: messages, persistent sessions with
// their outbound and inbound QoS state, retained messages and a few named
// counters (records.hpp). docs/store.md describes the layout and recovery.
//
// Usage: db::open at startup (which reads and checks every record), load()
// to get everything back, then commit() one batch per change or per group of
// changes; sync_policy.hpp says what each choice of `sync` risks. Nothing is
// thrown out of the library: every call returns an error_code of
// store_category() (error.hpp).
//
// A write failure (errc::no_space, errc::io_error) leaves what was committed
// before readable and the db open; further writes are refused until resume()
// succeeds (e.g. once space was freed) or the store is reopened.
//
// Owned by the router; one thread at a time (RocksDB runs its own background
// threads for flushes and compactions). The destructor syncs the log (unless
// a write failed) and closes the store.
#pragma once

#include <boost/system/error_code.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "store/batch.hpp"
#include "store/error.hpp"
#include "store/records.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Status;
}  // namespace rocksdb

namespace store {

struct family_handles;
namespace dir {
class store_lock;
}

struct options {
    // The store's directory; created (with its parents) when missing. It may
    // be a mount point: recovery then moves the damaged files into a
    // subdirectory instead of renaming the directory itself.
    std::string path;
    // A store that cannot be opened because it is damaged (errc::corruption,
    // errc::bad_format) is moved aside to "<path>.damaged-<UTC time>" (never
    // deleted) and a fresh empty store is created. Never applied to a store
    // in use by another process, written by a newer version, unreadable for
    // lack of permission, or a directory that does not look like a store.
    bool recover = false;
};

class db {
  public:
    // Opens (or creates) the store at opts.path and reads every record once,
    // so that a damaged record is found here rather than halfway through the
    // router's startup. On failure returns nullptr, sets ec and sets
    // `message` to one line naming the path and the problem, e.g.
    //   "store /var/lib/x: corrupt (Corruption: ...)"
    //   "store /var/lib/x: in use by another process (pid 1234)"
    // On success `message` is empty, or, after a recovery, says what was done
    // (ec is then clear: log it as a warning).
    static std::unique_ptr<db> open(const options& opts, boost::system::error_code& ec,
                                    std::string& message);

    ~db();
    db(const db&) = delete;
    db& operator=(const db&) = delete;

    // Applies the batch atomically (one log record): after a crash either all
    // of it is there or none. sync: fdatasync the log before returning. On
    // success the batch is cleared; on failure it is left as it was (to retry
    // after resume()). An empty batch with sync = true syncs the log.
    boost::system::error_code commit(batch& b, bool sync);

    // Makes every commit so far durable (sync = true: fdatasync of the log).
    // Commits always reach the OS; with sync = false this does nothing.
    boost::system::error_code flush_wal(bool sync);

    // Everything in the store. The first call after open() hands over what
    // open() read (unless a commit came in between); later calls read the
    // store again.
    boost::system::error_code load(loaded_state& out);

    // Writes the memtables to table files (and so lets old logs go).
    boost::system::error_code flush();

    // After a failed write (commit, flush_wal, flush), every write is refused
    // until resume() succeeds: it closes RocksDB (keeping the store locked)
    // and opens it again, so that writing starts on a new log file; what was
    // committed before the failure stays, the failed batch is not applied.
    // While the disk is still full it fails, or succeeds and the next commit
    // fails (writes stay refused if the reopen failed). Without an earlier failure,
    // asks RocksDB to clear a background error (a failed flush or compaction).
    boost::system::error_code resume();

    // Approximate bytes the store takes on disk (tables, logs, manifest);
    // 0 if the directory cannot be read.
    std::uint64_t disk_bytes() const;

    const std::string& path() const { return path_; }

    // One line about the last failed call ("store <path>: ..."), for logs.
    const std::string& last_error() const { return last_error_; }

  private:
    friend class opener;

    db(std::string path, std::string key, std::unique_ptr<rocksdb::DB> raw,
       std::unique_ptr<family_handles> h, std::unique_ptr<dir::store_lock> lock,
       loaded_state preloaded);
    boost::system::error_code fail(const boost::system::error_code& ec, const std::string& what);
    boost::system::error_code write_failed(const rocksdb::Status& s, const char* what);
    boost::system::error_code stopped();
    void close_rocksdb();  // the store's files stay locked (lock_)

    std::string path_;
    std::string key_;  // in the registry of open stores (directory.hpp)
    std::unique_ptr<rocksdb::DB> db_;
    std::unique_ptr<family_handles> handles_;
    std::unique_ptr<dir::store_lock> lock_;  // released after RocksDB closed
    std::optional<loaded_state> preloaded_;
    std::string last_error_;
    // Set by a failed write (commit, flush_wal, flush) until resume():
    // writes are refused without calling RocksDB.
    boost::system::error_code write_error_;
    std::string write_failure_;
};

}  // namespace store
