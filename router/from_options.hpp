// The router_settings (limits of router_core) given by the parsed options;
// shared by mqtt-router and mqtt-broker. Pure function.
#pragma once

#include "common/config/options.hpp"
#include "router/router_core.hpp"

namespace router {

router_settings settings_from(const config::router_options& o);

}  // namespace router
