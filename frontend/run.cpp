#include "frontend/run.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <iostream>

#include "frontend/auth/from_options.hpp"
#include "frontend/frontend_server.hpp"

namespace frontend {

int run(zmq::context_t& zctx, const config::options& options,
        const std::function<void()>& on_stopped) {
    boost::asio::io_context io(1);
    std::unique_ptr<frontend_server> server;
    const link_settings link{std::chrono::milliseconds(options.common.heartbeat_interval_ms),
                             std::chrono::milliseconds(options.common.peer_timeout_ms),
                             std::chrono::milliseconds(options.common.discovery_interval_ms),
                             options.common.queue_limit};
    try {
        server = std::make_unique<frontend_server>(io, zctx, options.frontend, link,
                                                   auth::from_options(options.frontend));
        server->start();
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        if (on_stopped) on_stopped();
        return 2;
    }

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    boost::asio::steady_timer grace(io);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        spdlog::info("signal {}: stopping", sig);
        server->stop();
        // Let close_notify and the disconnect events go out, then end.
        grace.expires_after(std::chrono::milliseconds(300));
        grace.async_wait([&](const boost::system::error_code&) {
            server->link().stop();
            io.stop();
        });
    });
    io.run();
    server.reset();
    if (on_stopped) on_stopped();
    spdlog::info("frontend stopped");
    return 0;
}

}  // namespace frontend
