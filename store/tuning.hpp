// RocksDB options for the store's workload: small records written all the
// time, a message written once and deleted once every receiver has it, the
// whole store read once at startup. WAL always on, paranoid checks, bounded
// open files and memtables, no statistics dumps (the log goes through
// log_bridge.hpp, not into LOG files).
//
// Internal to store/. Pure functions; safe from any thread.
#pragma once

#include <rocksdb/options.h>

#include <string>

#include "store/column_family.hpp"

namespace store {

// `path` names the store in log lines.
rocksdb::DBOptions db_options(const std::string& path);
rocksdb::ColumnFamilyOptions family_options(family f);

}  // namespace store
