#include "store/tuning.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/table_properties_collectors.h>

#include <algorithm>
#include <memory>

#include "store/log_bridge.hpp"

namespace store {
namespace {

bool supported(rocksdb::CompressionType type) {
    const auto all = rocksdb::GetSupportedCompressions();
    return std::find(all.begin(), all.end(), type) != all.end();
}

// LZ4 (cheap, often worth it even on already compressed payloads), else
// Snappy, else none; ZSTD for the last level, which holds most of the data.
rocksdb::CompressionType fast_compression() {
    if (supported(rocksdb::kLZ4Compression)) return rocksdb::kLZ4Compression;
    if (supported(rocksdb::kSnappyCompression)) return rocksdb::kSnappyCompression;
    return rocksdb::kNoCompression;
}

rocksdb::CompressionType strong_compression() {
    if (supported(rocksdb::kZSTD)) return rocksdb::kZSTD;
    return fast_compression();
}

// The store reads tables at startup only: one small cache for every family.
std::shared_ptr<rocksdb::Cache> shared_cache() {
    static const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(8 << 20);
    return cache;
}

}  // namespace

rocksdb::DBOptions db_options(const std::string& path) {
    rocksdb::DBOptions o;
    o.info_log = make_log_bridge(path);
    o.create_if_missing = false;  // the opener decides when a store is created
    o.create_missing_column_families = false;
    o.paranoid_checks = true;
    // Replay the log up to the last intact record: after an OS crash the
    // store comes back as of its last complete commit instead of failing.
    o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
    o.max_open_files = 256;
    o.max_background_jobs = 2;
    o.max_total_wal_size = 64 << 20;    // flush families that pin old logs
    o.db_write_buffer_size = 64 << 20;  // all memtables together
    o.max_manifest_file_size = 64 << 20;
    // The opener sets info_log (log_bridge.hpp): no LOG files. Should a
    // file logger ever be used, these bound it to 3 files of 1 MiB.
    o.keep_log_file_num = 3;
    o.max_log_file_size = 1 << 20;
    o.stats_dump_period_sec = 0;  // no statistics dumps into the log
    o.stats_persist_period_sec = 0;
    o.recycle_log_file_num = 0;
    return o;
}

rocksdb::ColumnFamilyOptions family_options(family f) {
    rocksdb::ColumnFamilyOptions o;
    const bool small = f == family::base || f == family::meta || f == family::inbound;
    o.write_buffer_size = small ? (1 << 20) : (8 << 20);
    o.max_write_buffer_number = 3;
    o.level_compaction_dynamic_level_bytes = true;
    o.compression = fast_compression();
    o.bottommost_compression = strong_compression();

    rocksdb::BlockBasedTableOptions table;
    table.block_cache = shared_cache();
    table.block_size = 16 << 10;
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

    // Queues churn: a message or an entry is usually deleted soon after it
    // was written. Compact table files dense in deletions early.
    if (f == family::messages || f == family::outbound || f == family::inbound) {
        o.table_properties_collector_factories.push_back(
            rocksdb::NewCompactOnDeletionCollectorFactory(128, 64));
    }
    return o;
}

}  // namespace store
