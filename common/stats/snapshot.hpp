// One statistics report of a process (frontend, router or all-in-one broker),
// as published every second on its --stats socket, and its msgpack codec.
// The wire schema is docs/stats.md; keep the two in step.
//
// A snapshot is a header (kind, id, incarnation, sequence number, uptime)
// and three ordered sets of named values with stable dotted names:
// counters (monotonic since the process started), gauges (the value now) and
// latency histograms. Names are only ever added; a change that old readers
// would misread bumps schema_version, and readers refuse other versions.
//
// encode() writes a msgpack map with string keys; decode() never throws: it
// returns nullopt and sets an errc below for malformed input, an unknown
// schema version, or a missing field. Unknown keys are ignored (new fields
// may be added without a version bump). Plain values: no shared state.
#pragma once

#include <boost/system/error_code.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/stats/histogram.hpp"

namespace stats {

inline constexpr std::uint64_t schema_version = 1;

enum class process_kind : std::uint8_t { frontend, router, broker };
std::string_view name_of(process_kind k);  // "frontend", "router", "broker"

struct named_value {
    std::string name;
    std::uint64_t value = 0;
    bool operator==(const named_value&) const = default;
};

// A histogram as carried in a snapshot: bounds (inclusive upper bounds, in
// microseconds, increasing) and one count per bucket plus the overflow
// bucket (counts.size() == bounds.size() + 1).
struct histogram_data {
    std::string name;
    std::vector<std::uint64_t> bounds;
    std::vector<std::uint64_t> counts;
    std::uint64_t sum = 0;  // of every sample, microseconds
    std::uint64_t max = 0;  // largest sample, microseconds

    std::uint64_t count() const;
    std::uint64_t percentile(double p) const;  // see stats::percentile
    bool operator==(const histogram_data&) const = default;
};

struct snapshot {
    std::uint64_t schema = schema_version;
    process_kind kind = process_kind::router;
    std::string id;                 // --router-id / --frontend-id
    std::uint64_t incarnation = 0;  // random per process start
    std::uint64_t sequence = 0;     // 1, 2, ... per snapshot of this incarnation
    std::uint64_t uptime_ms = 0;
    std::vector<named_value> counters;
    std::vector<named_value> gauges;
    std::vector<histogram_data> histograms;

    void counter(std::string name, std::uint64_t value) {
        counters.push_back({std::move(name), value});
    }
    void gauge(std::string name, std::uint64_t value) {
        gauges.push_back({std::move(name), value});
    }
    void add_histogram(std::string name, const histogram& h);

    // Lookups by name (linear; for readers and tests): nullptr if absent.
    const std::uint64_t* find_counter(std::string_view name) const;
    const std::uint64_t* find_gauge(std::string_view name) const;
    const histogram_data* find_histogram(std::string_view name) const;

    bool operator==(const snapshot&) const = default;
};

std::string encode(const snapshot& s);

enum class errc {
    ok = 0,
    malformed,           // not msgpack, not a map, a field of the wrong type, trailing bytes
    unsupported_schema,  // a schema version this reader does not know
    missing_field,       // a required field is absent
};
const boost::system::error_category& stats_category();
inline boost::system::error_code make_error_code(errc e) {
    return {static_cast<int>(e), stats_category()};
}

std::optional<snapshot> decode(std::string_view bytes, boost::system::error_code& ec);

}  // namespace stats

namespace boost::system {
template <>
struct is_error_code_enum<stats::errc> : std::true_type {};
}  // namespace boost::system
