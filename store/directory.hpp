// File-system steps of opening a store, outside RocksDB: what a directory
// holds, who holds its lock, moving a damaged store aside, and the paths this
// process has open.
//
// Internal to store/. The open-path registry is guarded by open_mutex();
// the rest touches only the file system.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

namespace store::dir {

enum class kind {
    missing,          // no such path
    empty,            // nothing but RocksDB's side files (LOCK, LOG, IDENTITY, OPTIONS)
    store,            // holds RocksDB data files (CURRENT, MANIFEST-*, *.sst, *.log)
    foreign,          // holds other files and no RocksDB data file: not ours to touch
    not_a_directory,  // a file, a device, ...
};

// Looks at `path` without changing it. Entries named "damaged-*" (left by a
// recovery of a directory that could not be renamed) are ignored.
kind inspect(const std::string& path, std::error_code& ec);

// The fcntl write lock on "<path>/LOCK", the lock RocksDB itself takes, held
// by the opener from before the store is first read until it is closed, so
// that no other process opens the store in between (e.g. while a damaged
// store is moved aside). RocksDB's own lock on the same file in this process
// merges with it; RocksDB's unlock at close releases both.
class store_lock {
  public:
    store_lock() = default;
    ~store_lock() { release(); }
    store_lock(store_lock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    store_lock& operator=(store_lock&& o) noexcept {
        if (this != &o) {
            release();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }

    // Takes the lock, creating the LOCK file if needed. False if another
    // process holds it (`holder`: its pid, 0 if not known, e.g. another pid
    // namespace) or on error (ec set). Must not be called for a store this
    // process has open: closing the descriptor would drop this process's
    // lock on it.
    bool acquire(const std::string& path, std::error_code& ec, pid_t& holder);
    // Takes the lock again on the same file after RocksDB's close dropped it.
    bool relock(std::error_code& ec);
    void release();
    bool held() const { return fd_ >= 0; }

  private:
    int fd_ = -1;
};

// Moves a damaged store out of the way, never deleting anything: renames
// `path` to "<path>.damaged-<UTC time>" (with "-2", "-3", ... if taken); if
// the directory cannot be renamed (a mount point, no write access to its
// parent), moves its entries into "<path>/damaged-<UTC time>/" instead.
// Returns the new location.
std::string move_aside(const std::string& path, std::error_code& ec);

// fsync of a directory (so that a rename or a new entry in it is durable).
// Best effort.
void sync_directory(const std::string& path);

// "20250101T120000Z"
std::string utc_stamp();

// `path` without trailing slashes, absolute and with symlinks resolved
// where they exist: the key of the open-path registry.
std::string canonical(const std::string& path);

// Stores opened by this process (by canonical path), so that a second open
// of the same store in this process fails cleanly. Entries made before a
// fork() do not count in the child.
std::mutex& open_mutex();
bool is_open_here(const std::string& key);  // open_mutex() held
void mark_open(const std::string& key);     // open_mutex() held
void mark_closed(const std::string& key);   // takes open_mutex()

}  // namespace store::dir
