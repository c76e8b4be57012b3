#include "common/stats/aggregate.hpp"

#include <cstdio>

namespace stats {

totals sum(const std::vector<snapshot>& processes) {
    totals t;
    for (const auto& p : processes) {
        for (const auto& c : p.counters) t.counters[c.name] += c.value;
        for (const auto& g : p.gauges) t.gauges[g.name] += g.value;
    }
    return t;
}

std::map<std::string, totals> sum_by_kind(const std::vector<snapshot>& processes) {
    std::map<std::string, std::vector<snapshot>> by_kind;
    for (const auto& p : processes) by_kind[std::string(name_of(p.kind))].push_back(p);
    std::map<std::string, totals> out;
    for (const auto& [kind, group] : by_kind) out[kind] = sum(group);
    return out;
}

std::optional<double> rate(const snapshot& before, const snapshot& after, std::string_view name) {
    if (before.incarnation != after.incarnation || after.uptime_ms <= before.uptime_ms)
        return std::nullopt;
    const std::uint64_t* a = before.find_counter(name);
    const std::uint64_t* b = after.find_counter(name);
    if (!a || !b) return std::nullopt;
    const double delta = *b >= *a ? static_cast<double>(*b - *a) : 0.0;
    return delta * 1000.0 / static_cast<double>(after.uptime_ms - before.uptime_ms);
}

std::string json_quote(std::string_view s) {
    std::string out = "\"";
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
    return out;
}

namespace {

template <typename Range, typename Name, typename Value>
void append_object(std::string& out, const Range& items, Name name, Value value) {
    out += '{';
    bool first = true;
    for (const auto& item : items) {
        if (!first) out += ',';
        first = false;
        out += json_quote(name(item));
        out += ':';
        out += value(item);
    }
    out += '}';
}

std::string uptime_seconds(std::uint64_t ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%llu.%03llu", static_cast<unsigned long long>(ms / 1000),
                  static_cast<unsigned long long>(ms % 1000));
    return buf;
}

}  // namespace

std::string to_json(const std::vector<snapshot>& processes) {
    std::string out = "{\"processes\":[";
    bool first = true;
    for (const auto& p : processes) {
        if (!first) out += ',';
        first = false;
        out += "{\"kind\":" + json_quote(name_of(p.kind)) + ",\"id\":" + json_quote(p.id) +
               ",\"uptime\":" + uptime_seconds(p.uptime_ms) + ",\"counters\":";
        const auto name = [](const named_value& v) { return v.name; };
        const auto value = [](const named_value& v) { return std::to_string(v.value); };
        append_object(out, p.counters, name, value);
        out += ",\"gauges\":";
        append_object(out, p.gauges, name, value);
        out += ",\"histograms\":";
        append_object(
            out, p.histograms, [](const histogram_data& h) { return h.name; },
            [](const histogram_data& h) {
                return "{\"p50\":" + std::to_string(h.percentile(0.50)) +
                       ",\"p99\":" + std::to_string(h.percentile(0.99)) +
                       ",\"count\":" + std::to_string(h.count()) + "}";
            });
        out += '}';
    }
    const auto key = [](const auto& kv) { return kv.first; };
    const auto val = [](const auto& kv) { return std::to_string(kv.second); };
    out += "],\"total\":";
    append_object(out, sum_by_kind(processes), key, [&](const auto& kv) {
        std::string t = "{\"counters\":";
        append_object(t, kv.second.counters, key, val);
        t += ",\"gauges\":";
        append_object(t, kv.second.gauges, key, val);
        return t + "}";
    });
    out += "}";
    return out;
}

}  // namespace stats
