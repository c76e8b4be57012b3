// The router's store as its options say (--data-dir, --sync, --store-recover):
// opened and attached to a router_loop, or a one-line reason why not. Shared
// by mqtt-router and mqtt-broker. Called on the main thread before run().
#pragma once

#include <string>

#include "common/config/options.hpp"
#include "router/router_loop.hpp"

namespace router {

// Without --data-dir: logs that the state lives in memory only, and returns
// true. Otherwise opens the store (recovering a damaged one if asked),
// restores the router's state from it, and returns true; or returns false
// with `error` set to one line naming the path and the problem.
bool setup_store(router_loop& loop, const config::router_options& options, std::string& error);

}  // namespace router
