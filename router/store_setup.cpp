#include "router/store_setup.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "store/db.hpp"
#include "store/sync_policy.hpp"

namespace router {

bool setup_store(router_loop& loop, const config::router_options& options, std::string& error) {
    if (options.data_dir.empty()) {
        spdlog::warn(
            "router: no --data-dir: persistent sessions, queued messages and retained "
            "messages live in memory only and are lost when the router stops");
        return true;
    }
    const auto sync = store::parse_sync_policy(options.sync);
    if (!sync) {
        error = "--sync: '" + options.sync + "' must be always, batch or none";
        return false;
    }
    boost::system::error_code ec;
    std::string message;
    auto db = store::db::open({options.data_dir, options.store_recover}, ec, message);
    if (!db) {
        error = message.empty() ? "store " + options.data_dir + ": " + ec.message() : message;
        return false;
    }
    if (!message.empty()) spdlog::warn("router: {}", message);  // what recovery did
    try {
        loop.attach_store(std::move(db), *sync);
    } catch (const std::exception& e) {
        error = e.what();
        return false;
    }
    return true;
}

}  // namespace router
