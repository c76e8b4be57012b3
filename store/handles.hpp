// The column family handles of an open store, and reading every record.
//
// Internal to store/. Used by the thread that owns the db.
#pragma once

#include <array>
#include <boost/system/error_code.hpp>
#include <string>
#include <vector>

#include "store/column_family.hpp"
#include "store/db.hpp"
#include "store/records.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace store {

struct family_handles {
    std::array<rocksdb::ColumnFamilyHandle*, family_count> ours{};  // by family id
    std::vector<rocksdb::ColumnFamilyHandle*> all;  // ours and any unknown ones, to destroy

    rocksdb::ColumnFamilyHandle* operator[](family f) const {
        return ours[static_cast<std::size_t>(f)];
    }
};

// Reads every record into `out` (replacing its contents). A missing format
// version reads as 0; a null handle counts as an empty family. On failure returns the error and
// sets `what` to a short description (no path).
boost::system::error_code read_all(rocksdb::DB& raw, const family_handles& h, loaded_state& out,
                                   std::string& what);

}  // namespace store
