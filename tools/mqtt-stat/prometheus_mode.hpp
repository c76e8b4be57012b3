// `mqtt-stat --prometheus HOST:PORT`: keeps reading the stats endpoints and
// serves what they last said over HTTP, for Prometheus to scrape:
// GET /metrics (the text format of common/stats/prometheus.hpp, names in
// docs/stats.md "Prometheus") and GET / (a page linking to it).
//
// One thread runs one io_context: the HTTP server (http_server.hpp), a timer
// that drains the SUB sockets every 100 ms (and each scrape drains them
// first), and SIGINT/SIGTERM, which end it. ENDPOINT specs with DNS names
// are re-resolved every `discovery_interval` by a cluster::endpoint_watcher
// (its own thread, which posts each new list to the io_context).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace mqtt_stat {

struct prometheus_options {
    std::string host;                // where to listen: an address or a name
    std::string port;                // decimal
    std::vector<std::string> specs;  // the ENDPOINT arguments, as given
    std::chrono::milliseconds discovery_interval{5000};
};

// Runs until SIGINT or SIGTERM, then 0. 1 if it cannot listen anywhere, 2 if
// the host does not resolve. Logs (one line each) go to stderr; nothing to stdout.
int run_prometheus(const prometheus_options& o);

}  // namespace mqtt_stat
