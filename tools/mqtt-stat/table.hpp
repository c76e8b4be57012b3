// mqtt-stat's two terminal modes over a source_set: --json (wait for one
// snapshot from every endpoint, print one JSON document) and the live table
// (one row per process and a TOTAL row, every interval). Both run on the
// calling thread and return when done or when `stop` becomes true (set by a
// signal handler).
#pragma once

#include <atomic>
#include <chrono>

#include "tools/mqtt-stat/sources.hpp"

namespace mqtt_stat {

// Exit code: 0 if every endpoint answered within `timeout`, else 1 (what
// arrived is still printed; the silent endpoints are named on stderr).
int run_json(source_set& sources, std::chrono::milliseconds timeout, const std::atomic<bool>& stop);

// Until `stop`; exit code 0.
int run_table(source_set& sources, std::chrono::milliseconds interval,
              const std::atomic<bool>& stop);

}  // namespace mqtt_stat
