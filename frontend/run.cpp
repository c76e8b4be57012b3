#include "frontend/run.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <iostream>
#include <optional>

#include "common/stats/publisher.hpp"
#include "common/util/incarnation.hpp"
#include "frontend/auth/from_options.hpp"
#include "frontend/frontend_server.hpp"

namespace frontend {

int run(zmq::context_t& zctx, const config::options& options, const run_hooks& hooks) {
    const auto& on_stopped = hooks.on_stopped;
    boost::asio::io_context io(1);
    std::unique_ptr<frontend_server> server;
    link_settings link{std::chrono::milliseconds(options.common.heartbeat_interval_ms),
                       std::chrono::milliseconds(options.common.peer_timeout_ms),
                       std::chrono::milliseconds(options.common.discovery_interval_ms),
                       options.common.queue_limit};
    link.router_on_this_thread = hooks.router_on_this_thread;
    try {
        server = std::make_unique<frontend_server>(io, zctx, options.frontend, link,
                                                   auth::from_options(options.frontend));
        server->start();
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        if (on_stopped) on_stopped();
        return 2;
    }

    // Stats (docs/stats.md): a snapshot every second on this thread; in
    // mqtt-broker, combined with its router's by hooks.amend_stats.
    std::optional<stats::publisher> stats_out;
    if (!options.common.stats.empty()) {
        try {
            stats_out.emplace(zctx, options.common.stats);
            spdlog::info("stats published on {}", stats_out->endpoint());
        } catch (const zmq::error_t& e) {
            spdlog::error("frontend: cannot bind the stats endpoint {}: {}; no stats",
                          options.common.stats, e.what());
        }
    }
    const auto started = std::chrono::steady_clock::now();
    const auto incarnation = util::new_incarnation();
    std::uint64_t sequence = 0;
    boost::asio::steady_timer stats_timer(io);
    std::function<void()> publish_stats = [&] {
        auto s = server->stats_snapshot();
        s.id = options.frontend.frontend_id;
        if (hooks.amend_stats) s = hooks.amend_stats(std::move(s));
        s.incarnation = incarnation;
        s.sequence = ++sequence;
        s.uptime_ms =
            static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - started)
                                           .count());
        stats_out->publish(s);
        stats_timer.expires_after(std::chrono::seconds(1));
        stats_timer.async_wait([&](const boost::system::error_code& ec) {
            if (!ec) publish_stats();
        });
    };
    if (stats_out) publish_stats();

    // SIGHUP: re-read the password file, RSA key and TLS files; clients
    // stay connected. Until this point SIGHUP still ends the process.
    boost::asio::signal_set reload_signals(io, SIGHUP);
    std::function<void()> await_reload = [&] {
        reload_signals.async_wait([&](const boost::system::error_code& ec, int) {
            if (ec) return;
            spdlog::info("signal SIGHUP: reloading");
            server->reload();
            if (hooks.on_reload) hooks.on_reload();
            await_reload();
        });
    };
    await_reload();

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    boost::asio::steady_timer grace(io);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        spdlog::info("signal {}: stopping", sig);
        server->stop();
        stats_timer.cancel();
        // Let close_notify and the disconnect events go out, then end.
        grace.expires_after(std::chrono::milliseconds(300));
        grace.async_wait([&](const boost::system::error_code&) {
            server->link().stop();
            io.stop();
        });
    });
    if (hooks.on_io) hooks.on_io(io, server->link());
    io.run();
    server.reset();
    if (on_stopped) on_stopped();
    spdlog::info("frontend stopped");
    return 0;
}

}  // namespace frontend
