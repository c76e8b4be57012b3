// Runs a frontend on the calling thread until SIGINT/SIGTERM: builds the
// authenticator, the frontend_server, and an io_context, and stops cleanly.
// `on_stopped` runs after the frontend stopped (mqtt-broker stops its router
// there). Shared by mqtt-frontend and mqtt-broker.
//
// Returns the process exit code; startup errors are logged as one line.
#pragma once

#include <functional>
#include <zmq.hpp>

#include "common/config/options.hpp"

namespace frontend {

int run(zmq::context_t& zctx, const config::options& options,
        const std::function<void()>& on_stopped = {});

}  // namespace frontend
