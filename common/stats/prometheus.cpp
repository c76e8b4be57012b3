// Rendering of snapshots in the Prometheus text format; see prometheus.hpp.
#include "common/stats/prometheus.hpp"

#include <map>
#include <set>

namespace stats::prometheus {
namespace {

enum class family_type { counter, gauge, histogram };

std::string_view type_name(family_type t) {
    switch (t) {
        case family_type::counter:
            return "counter";
        case family_type::gauge:
            return "gauge";
        case family_type::histogram:
            return "histogram";
    }
    return "untyped";
}

// One metric family: its HELP text, its sample lines, and the label sets
// already written (so that no series is written twice).
struct family {
    family_type type = family_type::gauge;
    std::string help;
    std::string samples;
    std::set<std::string> series;
};

class families {
  public:
    // The family `name` of type `t`, created with `help` if new; nullptr when
    // the name belongs to a family of another type, or `labels` already has a
    // series in it.
    family* claim(const std::string& name, family_type t, std::string_view help,
                  const std::string& labels) {
        auto [it, created] = by_name_.try_emplace(name);
        family& f = it->second;
        if (created) {
            f.type = t;
            f.help = help;
        } else if (f.type != t) {
            return nullptr;
        }
        if (!f.series.insert(labels).second) return nullptr;
        return &f;
    }

    // mqtt_up and mqtt_uptime_seconds first, then the others by name.
    std::string text(const std::vector<std::string>& first) const {
        std::string out;
        for (const auto& name : first)
            if (auto it = by_name_.find(name); it != by_name_.end()) append(out, name, it->second);
        for (const auto& [name, f] : by_name_) {
            bool listed = false;
            for (const auto& n : first) listed = listed || n == name;
            if (!listed) append(out, name, f);
        }
        return out;
    }

  private:
    static void append(std::string& out, const std::string& name, const family& f) {
        out += "# HELP " + name + ' ' + f.help + '\n';
        out += "# TYPE " + name + ' ' + std::string(type_name(f.type)) + '\n';
        out += f.samples;
    }

    std::map<std::string, family> by_name_;
};

// HELP text: backslash and newline escaped.
std::string escape_help(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

// `value` / 10^digits as an exact decimal without trailing zeros.
std::string decimal(std::uint64_t value, int digits) {
    std::uint64_t scale = 1;
    for (int i = 0; i < digits; ++i) scale *= 10;
    std::string out = std::to_string(value / scale);
    std::string fraction = std::to_string(value % scale);
    if (fraction == "0") return out;
    fraction.insert(0, static_cast<std::size_t>(digits) - fraction.size(), '0');
    while (fraction.back() == '0') fraction.pop_back();
    return out + '.' + fraction;
}

std::string label(std::string_view name, std::string_view value) {
    return std::string(name) + "=\"" + escape_label_value(value) + '"';
}

std::string process_labels(const snapshot& s) {
    return label("kind", name_of(s.kind)) + ',' + label("id", s.id);
}

void sample(std::string& out, const std::string& name, const std::string& labels,
            const std::string& value) {
    out += name + '{' + labels + "} " + value + '\n';
}

bool valid_shape(const histogram_data& h) {
    if (h.counts.size() != h.bounds.size() + 1) return false;
    for (std::size_t i = 1; i < h.bounds.size(); ++i)
        if (h.bounds[i] <= h.bounds[i - 1]) return false;
    return true;
}

std::string histogram_family(std::string_view stats_name) {
    std::string base = metric_name(stats_name);
    if (base.size() >= 3 && base.compare(base.size() - 3, 3, "_us") == 0)
        base.resize(base.size() - 3);
    return "mqtt_" + base + "_seconds";
}

void add_process(families& fams, const snapshot& s) {
    const std::string labels = process_labels(s);
    if (family* f = fams.claim("mqtt_uptime_seconds", family_type::gauge,
                               "Seconds since the process started.", labels))
        sample(f->samples, "mqtt_uptime_seconds", labels, decimal(s.uptime_ms, 3));
    for (const auto& c : s.counters) {
        const std::string name = "mqtt_" + metric_name(c.name) + "_total";
        const std::string help = escape_help("Stats counter " + c.name + " (docs/stats.md).");
        if (family* f = fams.claim(name, family_type::counter, help, labels))
            sample(f->samples, name, labels, std::to_string(c.value));
    }
    for (const auto& g : s.gauges) {
        const std::string name = "mqtt_" + metric_name(g.name);
        if (name == "mqtt_up" || name == "mqtt_uptime_seconds") continue;  // ours
        const std::string help = escape_help("Stats gauge " + g.name + " (docs/stats.md).");
        if (family* f = fams.claim(name, family_type::gauge, help, labels))
            sample(f->samples, name, labels, std::to_string(g.value));
    }
    for (const auto& h : s.histograms) {
        if (!valid_shape(h)) continue;
        const std::string name = histogram_family(h.name);
        const std::string help =
            escape_help("Stats histogram " + h.name + ", in seconds (docs/stats.md).");
        family* f = fams.claim(name, family_type::histogram, help, labels);
        if (!f) continue;
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < h.bounds.size(); ++i) {
            cumulative += h.counts[i];
            sample(f->samples, name + "_bucket",
                   labels + ',' + label("le", seconds_of_us(h.bounds[i])),
                   std::to_string(cumulative));
        }
        cumulative += h.counts.back();
        sample(f->samples, name + "_bucket", labels + ",le=\"+Inf\"", std::to_string(cumulative));
        sample(f->samples, name + "_sum", labels, seconds_of_us(h.sum));
        sample(f->samples, name + "_count", labels, std::to_string(cumulative));
    }
}

}  // namespace

std::string metric_name(std::string_view stats_name) {
    std::string out(stats_name);
    for (char& c : out) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == ':';
        if (!ok) c = '_';
    }
    return out;
}

std::string escape_label_value(std::string_view value) {
    std::string out;
    for (const char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string seconds_of_us(std::uint64_t microseconds) {
    return decimal(microseconds, 6);
}

std::string render(const std::vector<target>& targets, std::chrono::milliseconds stale_after) {
    const auto fresh = [&](const target& t) { return t.latest && t.age < stale_after; };

    // Which target speaks for each process (kind, id): the freshest snapshot.
    std::map<std::pair<process_kind, std::string>, const target*> speaker;
    for (const auto& t : targets) {
        if (!fresh(t)) continue;
        auto [it, created] = speaker.try_emplace({t.latest->kind, t.latest->id}, &t);
        if (!created && t.age < it->second->age) it->second = &t;
    }

    families fams;
    const std::string up_help = "1 if the stats endpoint sent a snapshot in the last " +
                                decimal(static_cast<std::uint64_t>(stale_after.count()), 3) +
                                " s, else 0.";
    for (const auto& t : targets) {
        // An endpoint never heard from has no kind nor id yet: empty labels.
        std::string labels = t.latest ? process_labels(*t.latest) : "kind=\"\",id=\"\"";
        labels += ',' + label("endpoint", t.endpoint);
        if (family* f = fams.claim("mqtt_up", family_type::gauge, up_help, labels))
            sample(f->samples, "mqtt_up", labels, fresh(t) ? "1" : "0");
    }
    for (const auto& t : targets)
        if (fresh(t) && speaker.at({t.latest->kind, t.latest->id}) == &t)
            add_process(fams, *t.latest);
    return fams.text({"mqtt_up", "mqtt_uptime_seconds"});
}

}  // namespace stats::prometheus
