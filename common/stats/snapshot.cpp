// The stats snapshot codec; the schema is docs/stats.md. Decoding maps every
// failure (msgpack exceptions included) to an errc; it never throws.
#include "common/stats/snapshot.hpp"

#include <msgpack.hpp>

namespace stats {
namespace {

using packer = msgpack::packer<msgpack::sbuffer>;

void pack_key(packer& p, std::string_view key) {
    p.pack_str(static_cast<std::uint32_t>(key.size()));
    p.pack_str_body(key.data(), static_cast<std::uint32_t>(key.size()));
}

void pack_values(packer& p, const std::vector<named_value>& values) {
    p.pack_map(static_cast<std::uint32_t>(values.size()));
    for (const auto& v : values) {
        pack_key(p, v.name);
        p.pack_uint64(v.value);
    }
}

void pack_array(packer& p, const std::vector<std::uint64_t>& values) {
    p.pack_array(static_cast<std::uint32_t>(values.size()));
    for (auto v : values) p.pack_uint64(v);
}

// ---- decoding ----

std::string_view key_of(const msgpack::object& o) {
    return o.type == msgpack::type::STR ? std::string_view(o.via.str.ptr, o.via.str.size)
                                        : std::string_view();
}

bool read_uint(const msgpack::object& o, std::uint64_t& out) {
    if (o.type != msgpack::type::POSITIVE_INTEGER) return false;
    out = o.via.u64;
    return true;
}

bool read_string(const msgpack::object& o, std::string& out) {
    if (o.type != msgpack::type::STR) return false;
    out.assign(o.via.str.ptr, o.via.str.size);
    return true;
}

bool read_values(const msgpack::object& o, std::vector<named_value>& out) {
    if (o.type != msgpack::type::MAP) return false;
    for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        named_value v;
        if (!read_string(kv.key, v.name) || !read_uint(kv.val, v.value)) return false;
        out.push_back(std::move(v));
    }
    return true;
}

bool read_array(const msgpack::object& o, std::vector<std::uint64_t>& out) {
    if (o.type != msgpack::type::ARRAY) return false;
    for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
        std::uint64_t v = 0;
        if (!read_uint(o.via.array.ptr[i], v)) return false;
        out.push_back(v);
    }
    return true;
}

// One histogram: {"bounds", "counts", "sum", "max"} required; "p50"/"p99"
// (derived) and unknown keys ignored.
errc read_histogram(const msgpack::object& o, histogram_data& h) {
    if (o.type != msgpack::type::MAP) return errc::malformed;
    unsigned seen = 0;
    for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        const auto key = key_of(kv.key);
        bool ok = true;
        if (key == "bounds") {
            ok = read_array(kv.val, h.bounds), seen |= 1;
        } else if (key == "counts") {
            ok = read_array(kv.val, h.counts), seen |= 2;
        } else if (key == "sum") {
            ok = read_uint(kv.val, h.sum), seen |= 4;
        } else if (key == "max") {
            ok = read_uint(kv.val, h.max), seen |= 8;
        }
        if (!ok) return errc::malformed;
    }
    if (seen != 15) return errc::missing_field;
    if (h.counts.size() != h.bounds.size() + 1) return errc::malformed;
    for (std::size_t i = 1; i < h.bounds.size(); ++i)
        if (h.bounds[i] <= h.bounds[i - 1]) return errc::malformed;
    return errc::ok;
}

errc read_histograms(const msgpack::object& o, std::vector<histogram_data>& out) {
    if (o.type != msgpack::type::MAP) return errc::malformed;
    for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        histogram_data h;
        if (!read_string(kv.key, h.name)) return errc::malformed;
        if (auto e = read_histogram(kv.val, h); e != errc::ok) return e;
        out.push_back(std::move(h));
    }
    return errc::ok;
}

errc read_snapshot(const msgpack::object& root, snapshot& s) {
    if (root.type != msgpack::type::MAP) return errc::malformed;
    // The schema version first, wherever it is: other fields of another
    // version may mean something else.
    bool has_schema = false;
    for (std::uint32_t i = 0; i < root.via.map.size; ++i) {
        const auto& kv = root.via.map.ptr[i];
        if (key_of(kv.key) != "schema") continue;
        if (!read_uint(kv.val, s.schema)) return errc::malformed;
        has_schema = true;
    }
    if (!has_schema) return errc::missing_field;
    if (s.schema != schema_version) return errc::unsupported_schema;

    enum : unsigned { kind = 1, id = 2, incarnation = 4, seq = 8, uptime = 16, all = 31 };
    unsigned seen = 0;
    for (std::uint32_t i = 0; i < root.via.map.size; ++i) {
        const auto& kv = root.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR) return errc::malformed;
        const auto key = key_of(kv.key);
        bool ok = true;
        if (key == "kind") {
            const auto v = kv.val.type == msgpack::type::STR ? key_of(kv.val) : std::string_view();
            if (v == "frontend")
                s.kind = process_kind::frontend;
            else if (v == "router")
                s.kind = process_kind::router;
            else if (v == "broker")
                s.kind = process_kind::broker;
            else
                ok = false;
            seen |= kind;
        } else if (key == "id") {
            ok = read_string(kv.val, s.id), seen |= id;
        } else if (key == "incarnation") {
            ok = read_uint(kv.val, s.incarnation), seen |= incarnation;
        } else if (key == "seq") {
            ok = read_uint(kv.val, s.sequence), seen |= seq;
        } else if (key == "uptime_ms") {
            ok = read_uint(kv.val, s.uptime_ms), seen |= uptime;
        } else if (key == "counters") {
            ok = read_values(kv.val, s.counters);
        } else if (key == "gauges") {
            ok = read_values(kv.val, s.gauges);
        } else if (key == "histograms") {
            if (auto e = read_histograms(kv.val, s.histograms); e != errc::ok) return e;
        }
        if (!ok) return errc::malformed;
    }
    return seen == all ? errc::ok : errc::missing_field;
}

class category : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "stats"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::ok:
                return "ok";
            case errc::malformed:
                return "malformed stats snapshot";
            case errc::unsupported_schema:
                return "unsupported stats schema version";
            case errc::missing_field:
                return "stats snapshot lacks a required field";
        }
        return "unknown stats error";
    }
};

template <typename V>
const V* find_named(const std::vector<V>& values, std::string_view name) {
    for (const auto& v : values)
        if (v.name == name) return &v;
    return nullptr;
}

}  // namespace

std::string_view name_of(process_kind k) {
    switch (k) {
        case process_kind::frontend:
            return "frontend";
        case process_kind::router:
            return "router";
        case process_kind::broker:
            return "broker";
    }
    return "router";
}

std::uint64_t histogram_data::count() const {
    std::uint64_t n = 0;
    for (auto c : counts) n += c;
    return n;
}

std::uint64_t histogram_data::percentile(double p) const {
    if (counts.size() != bounds.size() + 1) return 0;
    return stats::percentile(bounds, counts, max, p);
}

void snapshot::add_histogram(std::string name, const histogram& h) {
    histograms.push_back({std::move(name),
                          {histogram::bounds_us.begin(), histogram::bounds_us.end()},
                          {h.counts().begin(), h.counts().end()},
                          h.sum(),
                          h.max()});
}

const std::uint64_t* snapshot::find_counter(std::string_view name) const {
    const auto* v = find_named(counters, name);
    return v ? &v->value : nullptr;
}

const std::uint64_t* snapshot::find_gauge(std::string_view name) const {
    const auto* v = find_named(gauges, name);
    return v ? &v->value : nullptr;
}

const histogram_data* snapshot::find_histogram(std::string_view name) const {
    return find_named(histograms, name);
}

std::string encode(const snapshot& s) {
    msgpack::sbuffer buffer;
    packer p(buffer);
    p.pack_map(9);
    pack_key(p, "schema");
    p.pack_uint64(s.schema);
    pack_key(p, "kind");
    pack_key(p, name_of(s.kind));
    pack_key(p, "id");
    pack_key(p, s.id);
    pack_key(p, "incarnation");
    p.pack_uint64(s.incarnation);
    pack_key(p, "seq");
    p.pack_uint64(s.sequence);
    pack_key(p, "uptime_ms");
    p.pack_uint64(s.uptime_ms);
    pack_key(p, "counters");
    pack_values(p, s.counters);
    pack_key(p, "gauges");
    pack_values(p, s.gauges);
    pack_key(p, "histograms");
    p.pack_map(static_cast<std::uint32_t>(s.histograms.size()));
    for (const auto& h : s.histograms) {
        pack_key(p, h.name);
        p.pack_map(6);
        pack_key(p, "bounds");
        pack_array(p, h.bounds);
        pack_key(p, "counts");
        pack_array(p, h.counts);
        pack_key(p, "sum");
        p.pack_uint64(h.sum);
        pack_key(p, "max");
        p.pack_uint64(h.max);
        pack_key(p, "p50");
        p.pack_uint64(h.percentile(0.5));
        pack_key(p, "p99");
        p.pack_uint64(h.percentile(0.99));
    }
    return std::string(buffer.data(), buffer.size());
}

std::optional<snapshot> decode(std::string_view bytes, boost::system::error_code& ec) {
    ec = errc::malformed;
    try {
        // Every element takes at least one input byte: this bounds what
        // unpack allocates.
        const msgpack::unpack_limit limit(/*array=*/bytes.size(), /*map=*/bytes.size(),
                                          /*str=*/bytes.size(), /*bin=*/0,
                                          /*ext=*/0, /*depth=*/6);
        std::size_t offset = 0;
        const msgpack::object_handle handle =
            msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, limit);
        if (offset != bytes.size()) return std::nullopt;  // trailing bytes
        snapshot s;
        if (auto e = read_snapshot(handle.get(), s); e != errc::ok) {
            ec = e;
            return std::nullopt;
        }
        ec.clear();
        return s;
    } catch (const std::exception&) {
        ec = errc::malformed;  // msgpack parse/size errors, bad_alloc
    } catch (...) {
        ec = errc::malformed;
    }
    return std::nullopt;
}

const boost::system::error_category& stats_category() {
    static const category instance;
    return instance;
}

}  // namespace stats
