#include "store/log_bridge.hpp"

#include <rocksdb/env.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>

namespace store {
namespace {

class log_bridge final : public rocksdb::Logger {
  public:
    log_bridge(std::string path, rocksdb::InfoLogLevel level)
        : rocksdb::Logger(level), path_(std::move(path)) {}

    void Logv(const char* format, va_list ap) override {
        Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
    }

    void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
        if (level < GetInfoLogLevel()) return;
        const spdlog::level::level_enum to =
            level >= rocksdb::InfoLogLevel::ERROR_LEVEL  ? spdlog::level::err
            : level == rocksdb::InfoLogLevel::WARN_LEVEL ? spdlog::level::warn
                                                         : spdlog::level::debug;
        if (!spdlog::should_log(to)) return;
        char buf[1024];
        va_list copy;
        va_copy(copy, ap);
        const int n = std::vsnprintf(buf, sizeof buf, format, copy);
        va_end(copy);
        if (n < 0) return;
        std::string_view text(buf,
                              std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
        spdlog::log(to, "store {}: rocksdb: {}", path_, text);
    }

  private:
    std::string path_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> make_log_bridge(const std::string& path) {
    // RocksDB only formats what passes the level: informational lines only
    // when the process logs at debug level.
    const auto level = spdlog::should_log(spdlog::level::debug) ? rocksdb::InfoLogLevel::INFO_LEVEL
                                                                : rocksdb::InfoLogLevel::WARN_LEVEL;
    return std::make_shared<log_bridge>(path, level);
}

}  // namespace store
