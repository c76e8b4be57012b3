#include "store/db.hpp"

#include <rocksdb/db.h>

#include <filesystem>
#include <vector>

#include "store/directory.hpp"
#include "store/handles.hpp"
#include "store/status.hpp"

namespace store {

db::db(std::string path, std::string key, std::unique_ptr<rocksdb::DB> raw,
       std::unique_ptr<family_handles> h, std::unique_ptr<dir::store_lock> lock,
       loaded_state preloaded)
    : path_(std::move(path)),
      key_(std::move(key)),
      db_(std::move(raw)),
      handles_(std::move(h)),
      lock_(std::move(lock)),
      preloaded_(std::move(preloaded)) {}

db::~db() {
    close_rocksdb();
    lock_.reset();
    dir::mark_closed(key_);
}

void db::close_rocksdb() {
    if (!db_) return;
    // Not after a failed log write: RocksDB must not touch that log file
    // again (a build with assertions aborts).
    if (!write_error_) (void)db_->FlushWAL(true);
    for (rocksdb::ColumnFamilyHandle* h : handles_->all) (void)db_->DestroyColumnFamilyHandle(h);
    (void)db_->Close();
    db_.reset();
    handles_.reset();
}

boost::system::error_code db::fail(const boost::system::error_code& ec, const std::string& what) {
    last_error_ = "store " + path_ + ": " + what;
    return ec;
}

boost::system::error_code db::stopped() {
    return fail(write_error_,
                "writes stopped by an earlier failure (" + write_failure_ + "); resume() first");
}

boost::system::error_code db::commit(batch& b, bool sync) {
    if (write_error_) return stopped();
    if (b.empty()) return sync ? flush_wal(true) : boost::system::error_code{};
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    const rocksdb::Status s = db_->Write(wo, b.rep_.get());
    if (!s.ok()) return write_failed(s, "commit failed: ");
    preloaded_.reset();  // stale now
    b.clear();
    return {};
}

boost::system::error_code db::write_failed(const rocksdb::Status& s, const char* what) {
    write_error_ = to_error(s);
    write_failure_ = describe(s);
    return fail(write_error_, what + write_failure_);
}

boost::system::error_code db::flush_wal(bool sync) {
    if (write_error_) return stopped();
    const rocksdb::Status s = db_->FlushWAL(sync);
    if (!s.ok()) return write_failed(s, "log sync failed: ");
    return {};
}

boost::system::error_code db::load(loaded_state& out) {
    if (!db_) return stopped();
    if (preloaded_) {
        out = std::move(*preloaded_);
        preloaded_.reset();
        return {};
    }
    std::string what;
    if (auto ec = read_all(*db_, *handles_, out, what)) return fail(ec, "load failed: " + what);
    return {};
}

boost::system::error_code db::flush() {
    if (write_error_) return stopped();
    std::vector<rocksdb::ColumnFamilyHandle*> families(handles_->ours.begin(),
                                                       handles_->ours.end());
    rocksdb::FlushOptions fo;
    fo.wait = true;
    const rocksdb::Status s = db_->Flush(fo, families);
    if (!s.ok()) return write_failed(s, "flush failed: ");
    return {};
}

std::uint64_t db::disk_bytes() const {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::uint64_t total = 0;
    for (const auto& entry : fs::directory_iterator(path_, ec)) {
        std::error_code size_ec;
        if (!entry.is_regular_file(size_ec)) continue;
        const std::uintmax_t size = entry.file_size(size_ec);
        if (!size_ec) total += size;
    }
    return ec ? 0 : total;
}

}  // namespace store
