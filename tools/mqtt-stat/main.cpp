// mqtt-stat: reads the statistics sockets of running processes (docs/stats.md)
// and prints them, either once as JSON (--json) or as a live table, or serves
// them to Prometheus over HTTP (--prometheus). This file: the options and the
// dispatch to a mode (table.hpp, prometheus_mode.hpp).
//
//   mqtt-stat [--json | --prometheus HOST:PORT] [--interval S] [--timeout S] ENDPOINT...
//
// Every ENDPOINT is tcp://HOST:PORT (a DNS name stands for all its addresses)
// or ipc://PATH. One SUB socket per resolved endpoint (sources.hpp), so that
// the endpoints that stay silent can be named. Single-threaded (but for the
// DNS watcher of --prometheus); SIGINT/SIGTERM only set a flag or stop the loop.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/cluster/endpoint_resolver.hpp"
#include "tools/mqtt-stat/prometheus_mode.hpp"
#include "tools/mqtt-stat/sources.hpp"
#include "tools/mqtt-stat/table.hpp"

namespace {

std::atomic<bool> stop_requested{false};
extern "C" void on_signal(int) {
    stop_requested = true;
}

constexpr const char* usage =
    "usage: mqtt-stat [--json | --prometheus HOST:PORT] [--interval SECONDS] [--timeout SECONDS]\n"
    "                 ENDPOINT...\n"
    "\n"
    "Reads the --stats sockets of mqtt-router, mqtt-frontend and mqtt-broker processes.\n"
    "  ENDPOINT            tcp://HOST:PORT (a DNS name means every address) or ipc://PATH\n"
    "  (no mode option)    a live table, one row per process and a TOTAL row per kind, until SIGINT\n"
    "  --json              wait for one snapshot from every endpoint, print one JSON object\n"
    "                      and exit (1 if some endpoint stayed silent until --timeout)\n"
    "  --prometheus HOST:PORT\n"
    "                      serve the processes' statistics over HTTP until SIGINT/SIGTERM:\n"
    "                      GET /metrics in the Prometheus text format (names: docs/stats.md),\n"
    "                      GET / a page linking to it. HOST is an IPv4 address, [IPv6] or a\n"
    "                      name (e.g. 127.0.0.1:9464, [::]:9464, 0.0.0.0:9464); DNS names in\n"
    "                      ENDPOINTs are re-resolved every 5 s. Prints no table\n"
    "  --interval SECONDS  refresh period of the live table (default 1)\n"
    "  --timeout SECONDS   how long --json waits (default 5)\n"
    "  --help              this text\n";

struct options {
    bool json = false;
    bool prometheus = false;
    std::string listen_host, listen_port;  // --prometheus
    double interval_s = 1.0;
    double timeout_s = 5.0;
    std::vector<std::string> endpoints;
};

int bad_arguments(const std::string& line) {
    std::cerr << "mqtt-stat: " << line << " (see --help)\n";
    return 2;
}

bool parse_seconds(const std::string& text, double& out) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !(v > 0) || v > 86400) return false;
    out = v;
    return true;
}

bool all_digits(const std::string& s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// HOST:PORT, [IPV6]:PORT. False if it is neither.
bool parse_listen(const std::string& text, std::string& host, std::string& port) {
    std::size_t colon;
    if (!text.empty() && text[0] == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return false;
        host = text.substr(1, close - 1);
        colon = close + 1;
    } else {
        colon = text.rfind(':');
        if (colon == std::string::npos) return false;
        host = text.substr(0, colon);
        if (host.find(':') != std::string::npos) return false;  // IPv6 needs brackets
    }
    port = text.substr(colon + 1);
    return !host.empty() && all_digits(port) && port.size() <= 5 && std::stoi(port) <= 65535;
}

// 0 = go on, otherwise the exit code (2 bad arguments, -1 help printed).
int parse(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::cout << usage;
            return -1;
        } else if (a == "--json") {
            o.json = true;
        } else if (a == "--prometheus") {
            if (i + 1 >= argc) return bad_arguments(a + " needs HOST:PORT");
            o.prometheus = true;
            if (!parse_listen(argv[++i], o.listen_host, o.listen_port))
                return bad_arguments(a + ": not HOST:PORT or [IPV6]:PORT: " + argv[i]);
        } else if (a == "--interval" || a == "--timeout") {
            if (i + 1 >= argc) return bad_arguments(a + " needs a value");
            double& target = a == "--interval" ? o.interval_s : o.timeout_s;
            if (!parse_seconds(argv[++i], target))
                return bad_arguments(a + ": not a positive number of seconds: " + argv[i]);
        } else if (a.rfind("tcp://", 0) == 0 || a.rfind("ipc://", 0) == 0) {
            if (a.rfind("tcp://", 0) == 0) {
                const auto colon = a.rfind(':');
                if (colon < 6 || !all_digits(a.substr(colon + 1)))
                    return bad_arguments("not tcp://HOST:PORT: " + a);
            }
            o.endpoints.push_back(a);
        } else if (a.rfind("-", 0) == 0) {
            return bad_arguments("unknown option " + a);
        } else {
            return bad_arguments("not an endpoint (tcp://HOST:PORT or ipc://PATH): " + a);
        }
    }
    if (o.json && o.prometheus) return bad_arguments("--json and --prometheus exclude each other");
    if (o.endpoints.empty()) return bad_arguments("no ENDPOINT given");
    return 0;
}

std::chrono::milliseconds millis(double seconds) {
    return std::chrono::milliseconds(static_cast<long>(seconds * 1000));
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    if (const int rc = parse(argc, argv, o)) return rc < 0 ? 0 : rc;

    if (o.prometheus) return mqtt_stat::run_prometheus({o.listen_host, o.listen_port, o.endpoints});

    std::string error;
    const std::vector<std::string> endpoints = cluster::resolve_endpoints(o.endpoints, error);
    if (!error.empty()) {
        std::cerr << "mqtt-stat: " << error << "\n";
        return 2;
    }
    if (endpoints.empty()) return bad_arguments("no endpoint resolved");

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    zmq::context_t ctx(1);
    mqtt_stat::source_set sources(ctx);
    sources.set_endpoints(endpoints, error);
    if (!error.empty()) return bad_arguments(error);
    return o.json ? mqtt_stat::run_json(sources, millis(o.timeout_s), stop_requested)
                  : mqtt_stat::run_table(sources, millis(o.interval_s), stop_requested);
}
