// db::open: the lock check, creating a new store, opening and checking an
// existing one, and moving a damaged store aside (options::recover).
#include <rocksdb/db.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "store/codec.hpp"
#include "store/db.hpp"
#include "store/directory.hpp"
#include "store/handles.hpp"
#include "store/status.hpp"
#include "store/tuning.hpp"

namespace store {
namespace {

using ec_t = boost::system::error_code;

// Why an attempt failed: a code and the text after "store <path>: ".
struct failure {
    ec_t ec;
    std::string problem;
};

failure from_status(const rocksdb::Status& s) {
    ec_t ec = to_error(s);
    const std::string text = describe(s);
    if (ec == errc::corruption) return {ec, "corrupt (" + text + ")"};
    if (ec == errc::permission_denied) return {ec, "permission denied (" + text + ")"};
    if (ec == errc::busy) return {ec, "in use (" + text + ")"};
    if (ec == errc::no_space) return {ec, "no space left (" + text + ")"};
    // At open, an invalid argument means options that do not fit the files
    // (comparator, table format): not a store laid out as this program does.
    if (ec == errc::invalid_argument) {
        return {errc::bad_format, "not in this program's format (" + text + ")"};
    }
    return {ec, "I/O error (" + text + ")"};
}

failure from_fs(const std::error_code& e, const std::string& doing) {
    const std::string text = doing + ": " + e.message();
    if (e == std::errc::permission_denied || e == std::errc::operation_not_permitted) {
        return {errc::permission_denied, "permission denied (" + text + ")"};
    }
    if (e == std::errc::no_space_on_device || e == std::errc::file_too_large) {
        return {errc::no_space, "no space left (" + text + ")"};
    }
    if (e == std::errc::read_only_file_system) return {errc::io_error, "read-only (" + text + ")"};
    return {errc::io_error, "I/O error (" + text + ")"};
}

failure bad_format(const std::string& detail) {
    return {errc::bad_format, "not in this program's format (" + detail + ")"};
}

std::string line(const std::string& path, const std::string& problem) {
    return one_line("store " + path + ": " + problem);
}

}  // namespace

class opener {
  public:
    opener(std::string path, std::string key) : path_(std::move(path)), key_(std::move(key)) {}

    // Opens or creates the store; nullptr and fail() set on failure. After a
    // failure the opener may still hold the store's lock (until destroyed).
    std::unique_ptr<db> attempt() {
        std::error_code fs_ec;
        const dir::kind kind = dir::inspect(path_, fs_ec);
        if (fs_ec) return failed(from_fs(fs_ec, "reading the directory"));
        switch (kind) {
            case dir::kind::not_a_directory:
                return failed({errc::not_a_store, "not a store (not a directory)"});
            case dir::kind::foreign:
                return failed({errc::not_a_store,
                               "not a store (the directory holds other files; left alone)"});
            case dir::kind::missing:
                std::filesystem::create_directories(path_, fs_ec);
                if (fs_ec) return failed(from_fs(fs_ec, "creating the directory"));
                dir::sync_directory(std::filesystem::path(key_).parent_path().string());
                [[fallthrough]];
            case dir::kind::empty:
                if (!lock()) return nullptr;
                return create();
            case dir::kind::store:
                if (!lock()) return nullptr;
                return open_existing();
        }
        return nullptr;
    }

    const failure& fail() const { return fail_; }

    // Opens a store that was open a moment ago (db::resume): no checks, no
    // read; the caller holds the lock.
    bool reopen() {
        std::vector<std::string> names;
        const rocksdb::Status ls =
            rocksdb::DB::ListColumnFamilies(db_options(path_), path_, &names);
        if (!ls.ok()) {
            fail_ = from_status(ls);
            return false;
        }
        auto families = our_families();
        const auto& ours = family_names();
        for (const auto& name : names) {
            if (std::find(ours.begin(), ours.end(), name) == ours.end()) {
                families.emplace_back(name, rocksdb::ColumnFamilyOptions());
            }
        }
        return open_raw(db_options(path_), families);
    }

    std::unique_ptr<rocksdb::DB> take_raw() { return std::move(raw_); }
    std::unique_ptr<family_handles> take_handles() { return std::move(handles_); }

  private:
    std::unique_ptr<db> failed(failure f) {
        fail_ = std::move(f);
        return nullptr;
    }

    bool lock() {
        std::error_code ec;
        pid_t holder = 0;
        if (lock_.acquire(path_, ec, holder)) return true;
        if (ec) {
            fail_ = from_fs(ec, "LOCK");
        } else {
            fail_ = {errc::busy,
                     holder > 0 ? "in use by another process (pid " + std::to_string(holder) + ")"
                                : "in use by another process"};
        }
        return false;
    }

    static std::vector<rocksdb::ColumnFamilyDescriptor> our_families() {
        std::vector<rocksdb::ColumnFamilyDescriptor> families;
        for (std::size_t i = 0; i < family_count; ++i) {
            families.emplace_back(family_names()[i], family_options(static_cast<family>(i)));
        }
        return families;
    }

    // DB::Open (read-write) with the given families, ours first; on success
    // fills raw_ and handles_ and checks the families' ids.
    bool open_raw(const rocksdb::DBOptions& o,
                  const std::vector<rocksdb::ColumnFamilyDescriptor>& families) {
        rocksdb::DB* raw = nullptr;
        std::vector<rocksdb::ColumnFamilyHandle*> hs;
        const rocksdb::Status s = rocksdb::DB::Open(o, path_, families, &hs, &raw);
        if (!s.ok()) {
            fail_ = from_status(s);
            return false;
        }
        raw_.reset(raw);
        handles_ = std::make_unique<family_handles>();
        handles_->all = hs;
        for (std::size_t i = 0; i < family_count; ++i) handles_->ours[i] = hs[i];
        for (std::size_t i = 0; i < family_count; ++i) {
            if (hs[i]->GetID() != i) {
                fail_ =
                    bad_format("column family " + family_names()[i] + " has id " +
                               std::to_string(hs[i]->GetID()) + ", expected " + std::to_string(i));
                close_raw();
                return false;
            }
        }
        return true;
    }

    void close_raw() {
        if (!raw_) return;
        for (auto* h : handles_->all) (void)raw_->DestroyColumnFamilyHandle(h);
        (void)raw_->Close();
        raw_.reset();
        handles_.reset();
    }

    // Writes the format version (synced): the last step of creating a store.
    bool write_format() {
        rocksdb::WriteBatch wb;
        (void)wb.Put((*handles_)[family::base], codec::format_key,
                     codec::encode_u32(format_version));
        rocksdb::WriteOptions wo;
        wo.sync = true;
        const rocksdb::Status s = raw_->Write(wo, &wb);
        if (!s.ok()) {
            fail_ = from_status(s);
            close_raw();
            return false;
        }
        return true;
    }

    std::unique_ptr<db> create() {
        rocksdb::DBOptions o = db_options(path_);
        o.create_if_missing = true;
        o.create_missing_column_families = true;
        if (!open_raw(o, our_families())) return nullptr;
        if (!write_format()) return nullptr;
        loaded_state state;
        state.format = format_version;
        return finish(std::move(state));
    }

    // Reads and checks everything through a read-only open, which writes
    // nothing: a store found damaged is left exactly as it was. Only then
    // opens it for writing.
    std::unique_ptr<db> open_existing() {
        namespace fs = std::filesystem;
        std::error_code fs_ec;
        if (!fs::exists(fs::path(path_) / "CURRENT", fs_ec)) {
            return failed({errc::corruption, "corrupt (the CURRENT file is missing)"});
        }
        std::vector<std::string> names;
        const rocksdb::Status ls =
            rocksdb::DB::ListColumnFamilies(db_options(path_), path_, &names);
        if (!ls.ok()) {
            failure f = from_status(ls);
            // CURRENT names a MANIFEST that is not there, or holds garbage.
            if (ls.IsPathNotFound() || ls.IsInvalidArgument()) {
                f = {errc::corruption, "corrupt (" + describe(ls) + ")"};
            }
            return failed(std::move(f));
        }
        const auto& ours = family_names();
        std::vector<rocksdb::ColumnFamilyDescriptor> present;  // ours that exist, in id order
        std::vector<std::string> missing;
        for (std::size_t i = 0; i < family_count; ++i) {
            if (std::find(names.begin(), names.end(), ours[i]) != names.end()) {
                present.emplace_back(ours[i], family_options(static_cast<family>(i)));
            } else {
                missing.push_back(ours[i]);
            }
        }
        std::vector<rocksdb::ColumnFamilyDescriptor> unknown;
        for (const auto& name : names) {
            if (std::find(ours.begin(), ours.end(), name) == ours.end()) {
                unknown.emplace_back(name, rocksdb::ColumnFamilyOptions());
            }
        }

        loaded_state state;
        if (!read_only_pass(present, unknown, state)) return nullptr;
        // A format 1 store lacks the families format 2 added: upgraded below.
        const bool upgrade = state.format == 1 &&
                             missing.size() == family_count - first_format2_family &&
                             missing.front() == ours[first_format2_family];
        if (state.format != 0 && !missing.empty() && !upgrade) {
            return failed(bad_format("column family " + missing.front() + " is missing"));
        }
        const bool empty = state.meta.empty() && state.messages.empty() && state.sessions.empty() &&
                           state.retained.empty() && state.forward.empty();
        if (state.format == 0 && !empty) return failed(bad_format("no format version"));

        auto families = our_families();
        families.insert(families.end(), unknown.begin(), unknown.end());
        rocksdb::DBOptions o = db_options(path_);
        // Only for a creation that stopped before all families existed (no
        // format version, nothing stored), or an upgrade: checked above.
        o.create_missing_column_families = true;
        if (!open_raw(o, families)) return nullptr;
        if (state.format == 0 || upgrade) {
            if (upgrade)
                spdlog::info("store: {} upgraded from format 1 to {}", path_, format_version);
            if (!write_format()) return nullptr;
            state.format = format_version;
        }
        return finish(std::move(state));
    }

    bool read_only_pass(const std::vector<rocksdb::ColumnFamilyDescriptor>& present,
                        const std::vector<rocksdb::ColumnFamilyDescriptor>& unknown,
                        loaded_state& state) {
        auto families = present;
        families.insert(families.end(), unknown.begin(), unknown.end());
        rocksdb::DB* raw = nullptr;
        std::vector<rocksdb::ColumnFamilyHandle*> hs;
        const rocksdb::Status s =
            rocksdb::DB::OpenForReadOnly(db_options(path_), path_, families, &hs, &raw);
        if (!s.ok()) {
            fail_ = from_status(s);
            return false;
        }
        std::unique_ptr<rocksdb::DB> ro(raw);
        family_handles h;
        h.all = hs;
        for (auto* handle : hs) {
            const auto& ours = family_names();
            const auto it = std::find(ours.begin(), ours.end(), handle->GetName());
            if (it != ours.end()) h.ours[static_cast<std::size_t>(it - ours.begin())] = handle;
        }
        const auto close = [&] {
            for (auto* handle : hs) (void)ro->DestroyColumnFamilyHandle(handle);
            (void)ro->Close();
        };

        // The format version first: a newer store is refused before its
        // records are decoded.
        if (h[family::base] != nullptr) {
            std::string value;
            std::uint32_t format = 0;
            const rocksdb::Status g =
                ro->Get(rocksdb::ReadOptions(), h[family::base], codec::format_key, &value);
            if (g.ok() && codec::decode_u32(value, format) && format > format_version) {
                close();
                fail_ = {errc::newer_format, "written by a newer version (format " +
                                                 std::to_string(format) + ", this build reads " +
                                                 std::to_string(format_version) + ")"};
                return false;
            }
        }
        std::string what;
        const ec_t ec = read_all(*ro, h, state, what);
        close();
        if (!ec) return true;
        if (ec == errc::corruption) {
            fail_ = {ec, "corrupt (" + what + ")"};
        } else if (ec == errc::bad_format) {
            fail_ = bad_format(what);
        } else {
            fail_ = {ec, what};
        }
        return false;
    }

    std::unique_ptr<db> finish(loaded_state state) {
        return std::unique_ptr<db>(new db(path_, key_, std::move(raw_), std::move(handles_),
                                          std::make_unique<dir::store_lock>(std::move(lock_)),
                                          std::move(state)));
    }

    std::string path_;
    std::string key_;
    dir::store_lock lock_;
    std::unique_ptr<rocksdb::DB> raw_;
    std::unique_ptr<family_handles> handles_;
    failure fail_;
};

std::unique_ptr<db> db::open(const options& opts, boost::system::error_code& ec,
                             std::string& message) {
    ec.clear();
    message.clear();
    if (opts.path.empty()) {
        ec = errc::invalid_argument;
        message = "store: no path given";
        return nullptr;
    }
    const std::string& path = opts.path;
    const std::string key = dir::canonical(path);
    std::lock_guard lock(dir::open_mutex());
    if (dir::is_open_here(key)) {
        ec = errc::busy;
        message = line(path, "in use (already open in this process)");
        return nullptr;
    }

    opener first(path, key);
    if (auto d = first.attempt()) {
        dir::mark_open(key);
        return d;
    }
    const failure& why = first.fail();
    if (!opts.recover || !is_damage(why.ec)) {
        ec = why.ec;
        message = line(path, why.problem);
        return nullptr;
    }

    // Recovery. `first` still holds the store's lock: nobody opens it while
    // it is moved aside.
    std::error_code fs_ec;
    const std::string aside = dir::move_aside(path, fs_ec);
    if (fs_ec) {
        ec = why.ec;
        message = line(path, why.problem + "; could not move it aside to " + aside + " (" +
                                 fs_ec.message() + ")");
        return nullptr;
    }
    opener fresh(path, key);
    auto d = fresh.attempt();
    if (!d) {
        ec = fresh.fail().ec;
        message = line(path, why.problem + "; moved aside to " + aside +
                                 ", but a fresh store failed: " + fresh.fail().problem);
        return nullptr;
    }
    dir::mark_open(key);
    message = line(path, why.problem + "; moved aside to " + aside + ", started an empty store");
    return d;
}

boost::system::error_code db::resume() {
    if (db_ && !write_error_) {
        const rocksdb::Status s = db_->Resume();
        if (!s.ok()) return fail(to_error(s), "resume failed: " + describe(s));
        return {};
    }
    close_rocksdb();
    std::error_code lock_ec;
    if (!lock_->relock(lock_ec)) {
        return fail(errc::busy, "resume failed: the store's lock was taken meanwhile (" +
                                    lock_ec.message() + ")");
    }
    opener again(path_, key_);
    if (!again.reopen()) {
        return fail(again.fail().ec, "resume failed: " + again.fail().problem);
    }
    db_ = again.take_raw();
    handles_ = again.take_handles();
    write_error_.clear();
    write_failure_.clear();
    preloaded_.reset();
    return {};
}

}  // namespace store
