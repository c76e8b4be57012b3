// mqtt-stat: reads the statistics sockets of running processes (docs/stats.md)
// and prints them, either once as JSON (--json) or as a live table.
//
//   mqtt-stat [--json] [--interval SECONDS] [--timeout SECONDS] ENDPOINT...
//
// Every ENDPOINT is tcp://HOST:PORT (a DNS name stands for all its addresses)
// or ipc://PATH. One SUB socket per resolved endpoint, so that the endpoints
// that stay silent can be named. Single-threaded; SIGINT/SIGTERM only set a flag.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/cluster/endpoint_resolver.hpp"
#include "common/stats/aggregate.hpp"
#include "common/stats/publisher.hpp"
#include "common/stats/snapshot.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

std::atomic<bool> stop_requested{false};
extern "C" void on_signal(int) {
    stop_requested = true;
}

constexpr const char* usage =
    "usage: mqtt-stat [--json] [--interval SECONDS] [--timeout SECONDS] ENDPOINT...\n"
    "\n"
    "Reads the --stats sockets of mqtt-router / mqtt-frontend processes.\n"
    "  ENDPOINT            tcp://HOST:PORT (a DNS name means every address) or ipc://PATH\n"
    "  --json              wait for one snapshot from every endpoint, print one JSON object\n"
    "                      and exit (1 if some endpoint stayed silent until --timeout)\n"
    "  --interval SECONDS  refresh period of the live table (default 1)\n"
    "  --timeout SECONDS   how long --json waits (default 5)\n"
    "  --help              this text\n";

struct options {
    bool json = false;
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

// 0 = go on, otherwise the exit code (2 bad arguments, -1 help printed).
int parse(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::cout << usage;
            return -1;
        } else if (a == "--json") {
            o.json = true;
        } else if (a == "--interval" || a == "--timeout") {
            if (i + 1 >= argc) return bad_arguments(a + " needs a value");
            double& target = a == "--interval" ? o.interval_s : o.timeout_s;
            if (!parse_seconds(argv[++i], target))
                return bad_arguments(a + ": not a positive number of seconds: " + argv[i]);
        } else if (a.rfind("tcp://", 0) == 0 || a.rfind("ipc://", 0) == 0) {
            if (a.rfind("tcp://", 0) == 0) {
                const auto colon = a.rfind(':');
                const std::string port = a.substr(colon + 1);
                if (colon < 6 || port.empty() || !std::all_of(port.begin(), port.end(), [](char c) {
                        return c >= '0' && c <= '9';
                    }))
                    return bad_arguments("not tcp://HOST:PORT: " + a);
            }
            o.endpoints.push_back(a);
        } else if (a.rfind("-", 0) == 0) {
            return bad_arguments("unknown option " + a);
        } else {
            return bad_arguments("not an endpoint (tcp://HOST:PORT or ipc://PATH): " + a);
        }
    }
    if (o.endpoints.empty()) return bad_arguments("no ENDPOINT given");
    return 0;
}

// One SUB socket on one resolved endpoint and the last two snapshots it gave.
struct source {
    std::string endpoint;
    zmq::socket_t socket;
    std::optional<stats::snapshot> previous;  // the one before `latest` (for rates)
    std::optional<stats::snapshot> latest;
};

// Waits up to `timeout` for snapshots; reads everything that is there.
void receive(std::vector<source>& sources, std::chrono::milliseconds timeout) {
    std::vector<zmq::pollitem_t> items;
    for (auto& s : sources) items.push_back({s.socket.handle(), 0, ZMQ_POLLIN, 0});
    try {
        if (zmq::poll(items.data(), items.size(), timeout) <= 0) return;
    } catch (const zmq::error_t&) {
        return;  // EINTR: a signal; the caller looks at stop_requested
    }
    for (std::size_t i = 0; i < sources.size(); ++i) {
        if (!(items[i].revents & ZMQ_POLLIN)) continue;
        auto& s = sources[i];
        for (;;) {
            zmq::message_t topic, body;
            try {
                if (!s.socket.recv(topic, zmq::recv_flags::dontwait)) break;
                if (!topic.more()) continue;
                if (!s.socket.recv(body, zmq::recv_flags::dontwait)) break;
                for (bool more = body.more(); more;) {  // stray frames: skip
                    zmq::message_t extra;
                    if (!s.socket.recv(extra, zmq::recv_flags::dontwait)) break;
                    more = extra.more();
                }
            } catch (const zmq::error_t&) {
                break;
            }
            boost::system::error_code ec;
            auto snap = stats::decode(body.to_string_view(), ec);
            if (!snap) {
                std::cerr << "mqtt-stat: " << s.endpoint
                          << ": undecodable snapshot: " << ec.message() << "\n";
                continue;
            }
            if (!s.latest || s.latest->sequence != snap->sequence ||
                s.latest->incarnation != snap->incarnation) {
                s.previous = std::move(s.latest);
                s.latest = std::move(*snap);
            }
        }
    }
}

std::vector<stats::snapshot> latest_of(const std::vector<source>& sources) {
    std::vector<stats::snapshot> out;
    for (const auto& s : sources)
        if (s.latest) out.push_back(*s.latest);
    return out;
}

int run_json(std::vector<source>& sources, const options& o) {
    const auto deadline =
        clock_type::now() + std::chrono::milliseconds(static_cast<long>(o.timeout_s * 1000));
    auto all_heard = [&] {
        return std::all_of(sources.begin(), sources.end(),
                           [](const source& s) { return s.latest.has_value(); });
    };
    while (!all_heard() && !stop_requested) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
        if (left.count() <= 0) break;
        receive(sources, std::min(left, std::chrono::milliseconds(100)));
    }
    std::cout << stats::to_json(latest_of(sources)) << std::endl;
    if (all_heard()) return 0;
    std::string silent;
    for (const auto& s : sources)
        if (!s.latest) silent += (silent.empty() ? "" : " ") + s.endpoint;
    std::cerr << "mqtt-stat: no snapshot within " << o.timeout_s << " s from: " << silent << "\n";
    return 1;
}

// --- live table ---

std::string cell(std::optional<std::uint64_t> v) {
    return v ? std::to_string(*v) : "-";
}
std::string cell(std::optional<double> v) {
    if (!v) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", *v);
    return buf;
}
std::optional<std::uint64_t> value(const std::uint64_t* p) {
    return p ? std::optional<std::uint64_t>(*p) : std::nullopt;
}

struct row {
    std::string kind, id, uptime;
    std::optional<std::uint64_t> connections, dropped, queued;
    std::optional<double> in_rate, out_rate;
};

void add(std::optional<std::uint64_t>& total, std::optional<std::uint64_t> v) {
    if (v) total = total.value_or(0) + *v;
}
void add(std::optional<double>& total, std::optional<double> v) {
    if (v) total = total.value_or(0) + *v;
}

row row_of(const source& s) {
    const stats::snapshot& n = *s.latest;
    row r;
    r.kind = std::string(stats::name_of(n.kind));
    r.id = n.id;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(n.uptime_ms / 1000));
    r.uptime = buf;
    // Client connections: a frontend's live connections, a router's online sessions.
    r.connections = value(n.find_gauge("connections.current"));
    if (!r.connections) r.connections = value(n.find_gauge("sessions.online"));
    for (const auto& c : n.counters)
        if (c.name.rfind("messages.dropped.", 0) == 0) r.dropped = r.dropped.value_or(0) + c.value;
    r.queued = value(n.find_gauge("messages.queued"));
    if (s.previous) {
        r.in_rate = stats::rate(*s.previous, n, "messages.in");
        r.out_rate = stats::rate(*s.previous, n, "messages.out");
    }
    return r;
}

void print_table(const std::vector<source>& sources, bool tty) {
    std::vector<row> rows;
    row total{"TOTAL", "", "", {}, {}, {}, {}, {}};
    for (const auto& s : sources) {
        if (!s.latest) {
            rows.push_back({"?", s.endpoint, "-", {}, {}, {}, {}, {}});
            continue;
        }
        rows.push_back(row_of(s));
        const row& r = rows.back();
        add(total.connections, r.connections);
        add(total.dropped, r.dropped);
        add(total.queued, r.queued);
        add(total.in_rate, r.in_rate);
        add(total.out_rate, r.out_rate);
    }
    rows.push_back(total);
    std::string out;
    if (tty) out += "\x1b[H\x1b[2J";
    char line[512];
    std::snprintf(line, sizeof line, "%-9s %-24s %9s %11s %12s %12s %9s %9s\n", "KIND", "ID",
                  "UPTIME", "CONNECTIONS", "MSGS IN/S", "MSGS OUT/S", "DROPPED", "QUEUED");
    out += line;
    for (const auto& r : rows) {
        std::snprintf(line, sizeof line, "%-9s %-24s %9s %11s %12s %12s %9s %9s\n", r.kind.c_str(),
                      r.id.c_str(), r.uptime.c_str(), cell(r.connections).c_str(),
                      cell(r.in_rate).c_str(), cell(r.out_rate).c_str(), cell(r.dropped).c_str(),
                      cell(r.queued).c_str());
        out += line;
    }
    if (!tty) out += "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
}

int run_table(std::vector<source>& sources, const options& o) {
    const bool tty = ::isatty(STDOUT_FILENO) == 1;
    const auto period = std::chrono::milliseconds(static_cast<long>(o.interval_s * 1000));
    auto next = clock_type::now() + period;
    while (!stop_requested) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(next - clock_type::now());
        if (left.count() > 0) {
            receive(sources, std::min(left, std::chrono::milliseconds(100)));
            continue;
        }
        print_table(sources, tty);
        next += period;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    if (const int rc = parse(argc, argv, o)) return rc < 0 ? 0 : rc;

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
    std::vector<source> sources;
    sources.reserve(endpoints.size());
    for (const auto& e : endpoints) {
        source s{e, zmq::socket_t(ctx, zmq::socket_type::sub), {}, {}};
        s.socket.set(zmq::sockopt::linger, 0);
        s.socket.set(zmq::sockopt::ipv6, 1);
        s.socket.set(zmq::sockopt::subscribe, std::string(stats::topic));
        try {
            s.socket.connect(e);
        } catch (const zmq::error_t& ex) {
            return bad_arguments("cannot connect to " + e + ": " + ex.what());
        }
        sources.push_back(std::move(s));
    }
    return o.json ? run_json(sources, o) : run_table(sources, o);
}
