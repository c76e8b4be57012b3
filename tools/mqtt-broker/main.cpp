// mqtt-broker: a frontend and a router in one process, connected by
// inproc:// ZeroMQ and the same msgpack events as the distributed mode (no
// shortcut path). The frontend runs on main; the router runs there too, on
// the frontend's io_context (router/io_driver.hpp), unless --router-thread
// gives it a thread of its own (by default: when its store syncs to disk).
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "common/config/options.hpp"
#include "common/stats/combine.hpp"
#include "frontend/net/tls_buffer_cache.hpp"
#include "frontend/router_link.hpp"
#include "frontend/run.hpp"
#include "router/from_options.hpp"
#include "router/io_driver.hpp"
#include "router/router_loop.hpp"
#include "router/store_setup.hpp"

int main(int argc, char** argv, char** envp) {
    // Before anything allocates through OpenSSL (net/tls_buffer_cache.hpp).
    const bool tls_cache = frontend::tls_buffer_cache::install();
    auto parsed = config::parse(config::program::broker, argc, argv, envp);
    if (!parsed.opts) {
        (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message << "\n";
        return parsed.exit_code;
    }
    auto options = *parsed.opts;
    spdlog::set_level(spdlog::level::from_str(options.common.log_level));
    if (!tls_cache)
        spdlog::debug("tls: OpenSSL allocated before main; record buffers are not cached");

    zmq::context_t zctx(1);
    const std::string endpoint = "inproc://router";
    router::cluster_settings cluster;
    cluster.router_id = options.router.router_id;
    cluster.peer_timeout = std::chrono::milliseconds(options.common.peer_timeout_ms);
    cluster.heartbeat_interval = std::chrono::milliseconds(options.common.heartbeat_interval_ms);
    cluster.queue_limit = options.common.queue_limit;
    // One stats snapshot, kind broker: the frontend thread publishes its own
    // combined with the router's latest (docs/stats.md).
    std::mutex stats_mutex;
    std::optional<stats::snapshot> router_stats;
    cluster.stats_sink = [&](stats::snapshot&& s) {
        const std::lock_guard lock(stats_mutex);
        router_stats = std::move(s);
    };
    cluster.sys_interval = std::chrono::seconds(options.router.sys_interval_s);
    router::router_loop router(zctx, endpoint, router::settings_from(options.router),
                               std::move(cluster));
    if (std::string error; !router::setup_store(router, options.router, error)) {
        std::cerr << "mqtt-broker: " << error << "\n";
        return 1;
    }
    if (std::string error; !router.load_acl(options.router.acl_file, error)) {
        std::cerr << "mqtt-broker: " << error << "\n";
        return 1;
    }
    options.frontend.routers = {endpoint};
    frontend::run_hooks hooks;
    std::thread router_thread;
    std::unique_ptr<router::io_driver> driver;
    if (options.router.own_router_thread()) {
        spdlog::info("router on its own thread");
        router_thread = std::thread([&] { router.run(); });
    } else {
        // Coupled (router/io_driver.hpp): the frontend's link is the router's
        // only peer, on this thread. What it sends in a light batch is
        // routed, and the answers read, in the same handler (no reactor turn
        // between the hops); neither side watches its socket's descriptor.
        hooks.router_on_this_thread = true;
        hooks.on_io = [&](boost::asio::io_context& io, frontend::router_link& link) {
            driver = std::make_unique<router::io_driver>(
                io, router,
                router::io_driver::coupling{
                    [&link] { return link.messages_sent(); },
                    [&link](std::size_t messages) { return link.read_now(messages); }});
            link.set_after_flush([&] { driver->run_now(); });
            link.set_wake_router([&] { driver->wake(); });
            driver->start();
        };
    }
    hooks.on_stopped = [&] {
        router.stop();
        driver.reset();
        if (router_thread.joinable()) router_thread.join();
    };
    // SIGHUP (frontend/run.cpp): the router reads its --acl-file again.
    hooks.on_reload = [&] { router.request_reload(); };
    hooks.amend_stats = [&](stats::snapshot&& own) {
        const std::lock_guard lock(stats_mutex);
        if (!router_stats) {  // the router's first snapshot is not there yet
            own.kind = stats::process_kind::broker;
            own.id = options.router.router_id;
            return std::move(own);
        }
        return stats::combine(own, *router_stats);
    };
    return frontend::run(zctx, options, hooks);
}
