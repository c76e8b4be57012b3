// mqtt-router: one router process (the routing tier) on a ZeroMQ endpoint.
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <optional>
#include <thread>

#include "common/cluster/endpoint_resolver.hpp"
#include "common/config/options.hpp"
#include "router/from_options.hpp"
#include "router/router_loop.hpp"
#include "router/store_setup.hpp"

namespace {
router::router_loop* g_loop = nullptr;
std::atomic<int> g_signals{0};
// First SIGTERM/SIGINT: hand the sessions over to the other routers, then
// stop; a second one stops at once.
extern "C" void on_signal(int) {
    if (!g_loop) return;
    if (g_signals.fetch_add(1) == 0)
        g_loop->leave();
    else
        g_loop->stop();
}
// SIGHUP: read the --acl-file again (connections stay).
extern "C" void on_hangup(int) {
    if (g_loop) g_loop->request_reload();
}
}  // namespace

int main(int argc, char** argv, char** envp) {
    auto parsed = config::parse(config::program::router, argc, argv, envp);
    if (!parsed.opts) {
        (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message << "\n";
        return parsed.exit_code;
    }
    const auto& o = *parsed.opts;
    spdlog::set_level(spdlog::level::from_str(o.common.log_level));
    try {
        zmq::context_t ctx(1);
        router::cluster_settings cluster;
        cluster.router_id = o.router.router_id;
        cluster.peer_timeout = std::chrono::milliseconds(o.common.peer_timeout_ms);
        cluster.heartbeat_interval = std::chrono::milliseconds(o.common.heartbeat_interval_ms);
        cluster.peers = o.router.peers;
        cluster.queue_limit = o.common.queue_limit;
        cluster.stats_endpoint = o.common.stats;
        cluster.sys_interval = std::chrono::seconds(o.router.sys_interval_s);
        router::router_loop loop(ctx, o.router.bind, router::settings_from(o.router),
                                 std::move(cluster));
        if (std::string error; !router::setup_store(loop, o.router, error)) {
            std::cerr << "mqtt-router: " << error << "\n";
            return 1;
        }
        if (std::string error; !loop.load_acl(o.router.acl_file, error)) {
            std::cerr << "mqtt-router: " << error << "\n";
            return 1;
        }
        g_loop = &loop;
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        std::signal(SIGHUP, on_hangup);
        // Peers named by DNS (one name, several addresses under compose
        // --scale) are re-resolved every --discovery-interval.
        std::optional<cluster::endpoint_watcher> watcher;
        if (!o.router.peers.empty()) {
            watcher.emplace(o.router.peers,
                            std::chrono::milliseconds(o.common.discovery_interval_ms),
                            [&loop](const std::vector<std::string>& endpoints) {
                                loop.set_endpoints(endpoints);
                            });
            watcher->start();
        }
        spdlog::info("mqtt-router {} listening on {}", o.router.router_id, o.router.bind);
        loop.run();
        if (watcher) watcher->stop();
        spdlog::info("mqtt-router stopped");
    } catch (const std::exception& e) {
        std::cerr << "mqtt-router: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
