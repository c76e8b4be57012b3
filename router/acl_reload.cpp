// router_loop's ACL file (--acl-file): loaded before run(), read again on
// request_reload() (SIGHUP) on the router thread.
#include <spdlog/spdlog.h>

#include "common/acl/rules.hpp"
#include "router/router_loop.hpp"

namespace router {

static_assert(std::atomic<bool>::is_always_lock_free, "request_reload() must be async-signal-safe");

namespace {

void log_loaded(const char* what, const std::string& path, const acl::rules& r) {
    spdlog::info("router: {} ACL file {}: {} rules ({} users, {} patterns)", what, path,
                 r.rule_count(), r.user_count(), r.pattern_count());
}

}  // namespace

bool router_loop::load_acl(const std::string& path, std::string& error) {
    acl_file_ = path;
    if (path.empty()) return true;
    auto rules = acl::load_file(path, error);
    if (!rules) return false;
    log_loaded("loaded", path, *rules);
    core_.set_acl(std::move(rules));
    return true;
}

void router_loop::reload_acl() {
    if (acl_file_.empty()) {
        spdlog::info("router: reload asked; no --acl-file, nothing to reload");
        return;
    }
    std::string error;
    auto rules = acl::load_file(acl_file_, error);
    if (!rules) {
        spdlog::error("router: ACL not reloaded, the rules in force stay: {}", error);
        return;
    }
    log_loaded("reloaded", acl_file_, *rules);
    core_.set_acl(std::move(rules));
}

}  // namespace router
