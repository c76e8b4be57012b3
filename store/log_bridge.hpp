// RocksDB's informational log, sent to the process log (spdlog) instead of
// LOG files in the store directory: warnings and errors as such, the rest at
// debug level. Nothing grows in the store directory, and a full disk cannot
// break the logging (RocksDB's own file logger may abort a build with
// assertions once a write to LOG failed).
//
// Internal to store/. Called from RocksDB's threads; spdlog's default logger
// is thread-safe.
#pragma once

#include <memory>
#include <string>

namespace rocksdb {
class Logger;
}

namespace store {

// `path` prefixes every line ("store <path>: ...").
std::shared_ptr<rocksdb::Logger> make_log_bridge(const std::string& path);

}  // namespace store
