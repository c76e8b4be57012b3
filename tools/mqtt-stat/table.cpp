#include "tools/mqtt-stat/table.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <iostream>
#include <optional>
#include <string>

#include "common/stats/aggregate.hpp"

namespace mqtt_stat {

int run_json(source_set& sources, std::chrono::milliseconds timeout,
             const std::atomic<bool>& stop) {
    const auto deadline = clock_type::now() + timeout;
    auto all_heard = [&] {
        return std::all_of(sources.all().begin(), sources.all().end(),
                           [](const source& s) { return s.latest.has_value(); });
    };
    while (!all_heard() && !stop) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
        if (left.count() <= 0) break;
        sources.receive(std::min(left, std::chrono::milliseconds(100)));
    }
    std::cout << stats::to_json(sources.latest()) << std::endl;
    if (all_heard()) return 0;
    std::string silent;
    for (const auto& s : sources.all())
        if (!s.latest) silent += (silent.empty() ? "" : " ") + s.endpoint;
    std::cerr << "mqtt-stat: no snapshot within " << static_cast<double>(timeout.count()) / 1000
              << " s from: " << silent << "\n";
    return 1;
}

namespace {

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
    // One TOTAL row per kind: a router and a frontend count the same
    // messages at two places, so adding them up would count them twice.
    std::map<std::string, row> totals;
    for (const auto& s : sources) {
        if (!s.latest) {
            rows.push_back({"?", s.endpoint, "-", {}, {}, {}, {}, {}});
            continue;
        }
        rows.push_back(row_of(s));
        const row& r = rows.back();
        auto [it, fresh] = totals.try_emplace(r.kind);
        row& total = it->second;
        if (fresh) {
            total.kind = r.kind;
            total.id = "TOTAL";
        }
        add(total.connections, r.connections);
        add(total.dropped, r.dropped);
        add(total.queued, r.queued);
        add(total.in_rate, r.in_rate);
        add(total.out_rate, r.out_rate);
    }
    for (auto& [kind, total] : totals) rows.push_back(std::move(total));
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

}  // namespace

int run_table(source_set& sources, std::chrono::milliseconds interval,
              const std::atomic<bool>& stop) {
    const bool tty = ::isatty(STDOUT_FILENO) == 1;
    auto next = clock_type::now() + interval;
    while (!stop) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(next - clock_type::now());
        if (left.count() > 0) {
            sources.receive(std::min(left, std::chrono::milliseconds(100)));
            continue;
        }
        print_table(sources.all(), tty);
        next += interval;
    }
    return 0;
}

}  // namespace mqtt_stat
