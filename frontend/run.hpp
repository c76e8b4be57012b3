// Runs a frontend on the calling thread until SIGINT/SIGTERM: builds the
// authenticator, the frontend_server, and an io_context, and stops cleanly.
// SIGHUP reloads the credential and TLS files (frontend_server::reload),
// then calls hooks.on_reload.
// Shared by mqtt-frontend and mqtt-broker (which passes run_hooks).
//
// Returns the process exit code; startup errors are logged as one line.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <zmq.hpp>

#include "common/config/options.hpp"
#include "common/stats/snapshot.hpp"

namespace frontend {

class router_link;

// mqtt-broker's additions to a plain frontend run.
struct run_hooks {
    // Runs after the frontend stopped (mqtt-broker stops its router there).
    std::function<void()> on_stopped;
    // Turns the frontend's stats snapshot into the one published (mqtt-broker
    // combines it with its router's); called on the frontend's thread.
    std::function<stats::snapshot(stats::snapshot&&)> amend_stats;
    // Runs on SIGHUP after the frontend reloaded its files, on the frontend's
    // thread (mqtt-broker reloads its router's ACL there).
    std::function<void()> on_reload;
    // The only router runs on this frontend's io_context (mqtt-broker): the
    // link does not watch its socket (link_settings::router_on_this_thread);
    // on_io must then couple the two (router_link::set_after_flush,
    // set_wake_router, read_now; router::io_driver's coupled mode).
    bool router_on_this_thread = false;
    // Called with the frontend's io_context and its router link once the
    // frontend started, before the context runs (mqtt-broker may run its
    // router on it).
    std::function<void(boost::asio::io_context&, router_link&)> on_io;
};

int run(zmq::context_t& zctx, const config::options& options, const run_hooks& hooks = {});

}  // namespace frontend
