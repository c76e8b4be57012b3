#include "tools/mqtt-bench/report.hpp"

#include <cstdio>
#include <map>
#include <string>

namespace bench {
namespace {

// A minimal JSON writer: objects, strings, integers, fixed-point numbers.
class json_writer {
  public:
    explicit json_writer(std::ostream& out) : out_(out) {}

    json_writer& open(const char* key = nullptr) {
        prefix(key);
        out_ << '{';
        first_ = true;
        return *this;
    }
    json_writer& close() {
        out_ << '}';
        first_ = false;
        return *this;
    }
    json_writer& field(const char* key, const std::string& v) {
        prefix(key);
        quote(v);
        return *this;
    }
    json_writer& field(const char* key, const char* v) { return field(key, std::string(v)); }
    json_writer& field(const char* key, bool v) {
        prefix(key);
        out_ << (v ? "true" : "false");
        return *this;
    }
    json_writer& field(const char* key, std::uint64_t v) {
        prefix(key);
        out_ << v;
        return *this;
    }
    json_writer& field(const char* key, unsigned v) { return field(key, std::uint64_t{v}); }
    json_writer& field(const char* key, int v) {
        prefix(key);
        out_ << v;
        return *this;
    }
    json_writer& number(const char* key, double v, int decimals = 3) {
        prefix(key);
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
        out_ << buf;
        return *this;
    }
    json_writer& null(const char* key) {
        prefix(key);
        out_ << "null";
        return *this;
    }
    json_writer& counts(const char* key, const std::map<std::string, std::uint64_t>& m) {
        open(key);
        for (const auto& [k, v] : m) field(k.c_str(), v);
        return close();
    }

  private:
    void prefix(const char* key) {
        if (!first_) out_ << ',';
        first_ = false;
        if (key) {
            quote(key);
            out_ << ':';
        }
    }
    void quote(const std::string& s) {
        out_ << '"';
        for (unsigned char c : s) {
            if (c == '"' || c == '\\') {
                out_ << '\\' << c;
            } else if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out_ << buf;
            } else {
                out_ << c;
            }
        }
        out_ << '"';
    }

    std::ostream& out_;
    bool first_ = true;
};

void histogram_us(json_writer& j, const char* key, const log_histogram& h) {
    j.open(key)
        .field("count", h.count())
        .number("min", h.min() / 1e3)
        .number("mean", h.mean() / 1e3)
        .number("p50", h.value_at(50) / 1e3)
        .number("p90", h.value_at(90) / 1e3)
        .number("p99", h.value_at(99) / 1e3)
        .number("p99_9", h.value_at(99.9) / 1e3)
        .number("max", h.max() / 1e3)
        .close();
}

std::string duration(std::uint64_t ns) {
    char buf[32];
    if (ns < 1'000'000)
        std::snprintf(buf, sizeof buf, "%.1f us", ns / 1e3);
    else if (ns < 10'000'000'000ull)
        std::snprintf(buf, sizeof buf, "%.2f ms", ns / 1e6);
    else
        std::snprintf(buf, sizeof buf, "%.2f s", ns / 1e9);
    return buf;
}

std::string percentiles(const log_histogram& h, bool with_999) {
    if (h.count() == 0) return "(no samples)";
    std::string s = "p50 " + duration(h.value_at(50)) + "  p90 " + duration(h.value_at(90)) +
                    "  p99 " + duration(h.value_at(99));
    if (with_999) s += "  p99.9 " + duration(h.value_at(99.9));
    return s + "  max " + duration(h.max()) + "  (n=" + std::to_string(h.count()) + ")";
}

double per_second(std::uint64_t n, double seconds) {
    return seconds > 0 ? n / seconds : 0.0;
}

std::uint64_t unacknowledged(const run_result& r) {
    return r.totals.sent - r.totals.acknowledged;
}

}  // namespace

void print_json(std::ostream& out, const bench_options& o, const run_result& r) {
    const auto& t = r.totals;
    const bool storm = o.kind == scenario::storm;
    json_writer j(out);
    j.open().field("tool", "mqtt-bench").field("schema", 1).field("run_id", o.run_id);
    j.open("config")
        .field("url", o.url.text)
        .field("transport", o.url.scheme)
        .field("scenario", name_of(o.kind))
        .field("qos", unsigned{o.qos})
        .field("payload_bytes", std::uint64_t{o.payload})
        .field("mode", o.closed_loop ? "closed_loop" : "open_loop");
    if (o.closed_loop)
        j.null("rate_per_publisher").field("inflight", o.inflight);
    else
        j.number("rate_per_publisher", o.rate).null("inflight");
    j.field("publishers", o.publishers)
        .field("subscribers", o.subscribers)
        .field("connections", std::uint64_t{r.planned_clients})
        .field("clean_session", o.clean_session)
        .field("topic_prefix", o.topic_prefix)
        .field("client_id_prefix", o.client_id_prefix)
        .field("threads", r.threads)
        .field("seed", std::uint64_t{o.seed})
        .number("warmup_s", o.warmup_s)
        .number("duration_s", o.duration_s)
        .number("drain_s", o.drain_s)
        .number("connect_rate", o.connect_rate)
        .number("connect_timeout_s", o.connect_timeout_s)
        .field("keepalive_s", o.keepalive_s)
        .close();
    j.open("connections")
        .field("planned", r.planned_clients)
        .field("attempted", t.connect_attempts)
        .field("connected", t.connected)
        .field("failed", t.connect_failures)
        .field("lost", t.connections_lost);
    if (storm)
        j.field("held", r.held);
    else
        j.null("held");
    j.counts("errors", t.connect_errors).counts("lost_reasons", t.lost_reasons).close();
    histogram_us(j, "connect_time_us", t.connect_time_ns);
    j.open("messages")
        .field("sent", t.sent)
        .field("sent_in_window", t.sent_in_window)
        .field("acknowledged", t.acknowledged)
        .field("unacknowledged", unacknowledged(r))
        .field("not_sent", t.not_sent)
        .field("expected", r.expected)
        .field("received", t.received)
        .field("received_in_window", t.received_in_window)
        .field("unique", r.unique)
        .field("lost", r.lost)
        .field("duplicated", t.duplicates)
        .field("reordered", t.reordered)
        .field("unexpected_extra", r.unexpected_extra)
        .field("foreign", t.foreign)
        .field("misrouted", t.misrouted)
        .close();
    j.open("throughput")
        .number("sent_per_s", per_second(t.sent_in_window, r.measured_s))
        .number("received_per_s", per_second(t.received_in_window, r.measured_s))
        .close();
    histogram_us(j, "latency_us", t.latency_ns);
    const double cpu = r.cpu_user_s + r.cpu_sys_s;
    j.open("cpu")
        .number("user_s", r.cpu_user_s)
        .number("system_s", r.cpu_sys_s)
        .number("percent_of_one_core", r.elapsed_s > 0 ? 100.0 * cpu / r.elapsed_s : 0.0, 1)
        .close();
    j.number("connect_phase_s", r.connect_phase_s)
        .number("measured_s", r.measured_s)
        .number("elapsed_s", r.elapsed_s)
        .field("interrupted", r.interrupted)
        .field("exit_code", r.exit_code)
        .close();
    out << '\n';
}

void print_text(std::ostream& out, const bench_options& o, const run_result& r) {
    const auto& t = r.totals;
    char line[512];
    const bool storm = o.kind == scenario::storm;
    if (storm) {
        std::snprintf(line, sizeof line,
                      "mqtt-bench storm on %s: %llu connections at %.0f/s, held %.1f s\n",
                      o.url.text.c_str(), static_cast<unsigned long long>(r.planned_clients),
                      o.connect_rate, r.measured_s);
    } else {
        std::snprintf(
            line, sizeof line,
            "mqtt-bench %s on %s: QoS %u, %zu-byte payloads, %u publishers, %u subscribers\n",
            name_of(o.kind), o.url.text.c_str(), unsigned{o.qos}, o.payload, o.publishers,
            o.subscribers);
    }
    out << line;
    if (!storm) {
        if (o.closed_loop)
            std::snprintf(line, sizeof line, "  closed loop, %u in flight per publisher",
                          o.inflight);
        else
            std::snprintf(line, sizeof line, "  open loop, %g msg/s per publisher", o.rate);
        out << line;
        std::snprintf(line, sizeof line,
                      "; warmup %g s, measured %.2f s, drain up to %g s; %u threads; run %s\n",
                      o.warmup_s, r.measured_s, o.drain_s, r.threads, o.run_id.c_str());
        out << line;
    }
    std::snprintf(line, sizeof line,
                  "connections   planned %llu, connected %llu, failed %llu, lost %llu",
                  static_cast<unsigned long long>(r.planned_clients),
                  static_cast<unsigned long long>(t.connected),
                  static_cast<unsigned long long>(t.connect_failures),
                  static_cast<unsigned long long>(t.connections_lost));
    out << line;
    if (storm) out << ", held " << r.held;
    out << " (connect phase " << std::to_string(r.connect_phase_s).substr(0, 5) << " s)\n";
    for (const auto& [reason, n] : t.connect_errors)
        out << "  failed: " << reason << " x" << n << "\n";
    for (const auto& [reason, n] : t.lost_reasons) out << "  lost: " << reason << " x" << n << "\n";
    out << "connect time  " << percentiles(t.connect_time_ns, false) << "\n";
    if (!storm) {
        std::snprintf(
            line, sizeof line,
            "messages      sent %llu (acknowledged %llu, unacknowledged %llu, not sent %llu)\n"
            "              expected %llu, received %llu, lost %llu, duplicated %llu, "
            "reordered %llu\n",
            static_cast<unsigned long long>(t.sent),
            static_cast<unsigned long long>(t.acknowledged),
            static_cast<unsigned long long>(unacknowledged(r)),
            static_cast<unsigned long long>(t.not_sent),
            static_cast<unsigned long long>(r.expected),
            static_cast<unsigned long long>(t.received), static_cast<unsigned long long>(r.lost),
            static_cast<unsigned long long>(t.duplicates),
            static_cast<unsigned long long>(t.reordered));
        out << line;
        if (t.foreign || t.misrouted || r.unexpected_extra) {
            std::snprintf(line, sizeof line,
                          "              foreign %llu, misrouted %llu, beyond expected %llu\n",
                          static_cast<unsigned long long>(t.foreign),
                          static_cast<unsigned long long>(t.misrouted),
                          static_cast<unsigned long long>(r.unexpected_extra));
            out << line;
        }
        std::snprintf(line, sizeof line,
                      "throughput    sent %.1f msg/s, received %.1f msg/s (measured window)\n",
                      per_second(t.sent_in_window, r.measured_s),
                      per_second(t.received_in_window, r.measured_s));
        out << line;
        out << "latency       " << percentiles(t.latency_ns, true) << "\n";
    }
    const double cpu = r.cpu_user_s + r.cpu_sys_s;
    std::snprintf(line, sizeof line,
                  "cpu           user %.2f s, system %.2f s, %.1f %% of one core over %.2f s\n",
                  r.cpu_user_s, r.cpu_sys_s, r.elapsed_s > 0 ? 100.0 * cpu / r.elapsed_s : 0.0,
                  r.elapsed_s);
    out << line;
    if (r.interrupted) out << "interrupted: stopped early by a signal\n";
}

}  // namespace bench
