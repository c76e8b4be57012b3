// Errors of the durable store (store/), as a boost::system error category, so
// every store call returns an error_code and nothing throws out of the
// library. RocksDB statuses are mapped onto these codes (see status.hpp).
//
// Pure code, no state; safe from any thread.
#pragma once

#include <boost/system/error_code.hpp>

namespace store {

enum class errc {
    ok = 0,
    io_error = 1,       // a read or write failed (EIO and anything not listed below)
    no_space,           // no room to write: ENOSPC, EDQUOT, EFBIG (file size limit)
    corruption,         // checksum mismatch, damaged MANIFEST/CURRENT/table file
    busy,               // the store is open in another process (or already in this one)
    permission_denied,  // the path or a file in it cannot be read or written
    newer_format,       // written by a newer build (higher format version): refused
    bad_format,         // a RocksDB database, but not laid out as this program writes it
    not_a_store,        // the directory holds files that are not a store: left alone
    invalid_argument,   // e.g. an empty path
};

const boost::system::error_category& store_category();

inline boost::system::error_code make_error_code(errc e) {
    return {static_cast<int>(e), store_category()};
}

// Whether a store that failed to open with this code counts as damaged, i.e.
// may be moved aside by recovery (corruption, bad_format). Never busy,
// newer_format, not_a_store, permission or I/O errors.
bool is_damage(const boost::system::error_code& ec);

}  // namespace store

namespace boost::system {
template <>
struct is_error_code_enum<store::errc> : std::true_type {};
}  // namespace boost::system
