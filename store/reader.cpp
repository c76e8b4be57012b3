#include <rocksdb/db.h>

#include <memory>

#include "store/codec.hpp"
#include "store/handles.hpp"
#include "store/status.hpp"

namespace store {
namespace {

std::string hex(std::string_view bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < bytes.size() && i < 48; ++i) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    if (bytes.size() > 48) out += "...";
    return out;
}

boost::system::error_code undecodable(std::string& what, std::string_view kind,
                                      std::string_view key) {
    what = "undecodable " + std::string(kind) + " record (key " + hex(key) + ")";
    return errc::bad_format;
}

// Calls visit(key, value) for every record of one family; visit returns an
// error to stop.
template <typename Visit>
boost::system::error_code scan(rocksdb::DB& raw, rocksdb::ColumnFamilyHandle* cf, std::string& what,
                               Visit&& visit) {
    if (cf == nullptr) return {};  // a family the store does not have (yet)
    rocksdb::ReadOptions ro;
    ro.verify_checksums = true;
    ro.fill_cache = false;
    ro.readahead_size = 2 << 20;
    std::unique_ptr<rocksdb::Iterator> it(raw.NewIterator(ro, cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
        const rocksdb::Slice k = it->key();
        const rocksdb::Slice v = it->value();
        if (auto ec =
                visit(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()))) {
            return ec;
        }
    }
    const rocksdb::Status s = it->status();
    if (!s.ok()) {
        what = "reading " + cf->GetName() + ": " + describe(s);
        return to_error(s);
    }
    return {};
}

}  // namespace

boost::system::error_code read_all(rocksdb::DB& raw, const family_handles& h, loaded_state& out,
                                   std::string& what) {
    out = loaded_state{};
    using ec_t = boost::system::error_code;

    if (h[family::base] != nullptr) {
        rocksdb::ReadOptions ro;
        std::string value;
        const rocksdb::Status s = raw.Get(ro, h[family::base], codec::format_key, &value);
        if (s.IsNotFound()) {
            out.format = 0;
        } else if (!s.ok()) {
            what = "reading the format version: " + describe(s);
            return to_error(s);
        } else if (!codec::decode_u32(value, out.format) || out.format == 0) {
            what = "undecodable format version (" + hex(value) + ")";
            return errc::bad_format;
        }
    }

    if (auto ec = scan(raw, h[family::meta], what, [&](std::string_view k, std::string_view v) {
            std::uint64_t value = 0;
            if (!codec::decode_u64(v, value)) return undecodable(what, "meta", k);
            out.meta.emplace(std::string(k), value);
            return ec_t{};
        })) {
        return ec;
    }

    if (auto ec = scan(raw, h[family::messages], what, [&](std::string_view k, std::string_view v) {
            std::uint64_t id = 0;
            events::stored_message m;
            if (!codec::decode_message_key(k, id) || !codec::decode_message(v, m)) {
                return undecodable(what, "message", k);
            }
            out.messages.emplace(id, std::move(m));
            return ec_t{};
        })) {
        return ec;
    }

    if (auto ec = scan(raw, h[family::sessions], what, [&](std::string_view k, std::string_view v) {
            loaded_session& s = out.sessions[std::string(k)];
            if (!codec::decode_session(v, s.record)) return undecodable(what, "session", k);
            s.has_record = true;
            return ec_t{};
        })) {
        return ec;
    }

    // Keys sort by (client id length, client id, seq): entries of one session
    // arrive together, in ascending seq.
    std::string client_id;
    if (auto ec = scan(raw, h[family::outbound], what, [&](std::string_view k, std::string_view v) {
            outbound_record e;
            if (!codec::decode_outbound_key(k, client_id, e.seq) || !codec::decode_outbound(v, e)) {
                return undecodable(what, "outbound", k);
            }
            out.sessions[client_id].outbound.push_back(e);
            return ec_t{};
        })) {
        return ec;
    }

    if (auto ec = scan(raw, h[family::inbound], what, [&](std::string_view k, std::string_view v) {
            std::uint16_t packet_id = 0;
            if (!codec::decode_inbound_key(k, client_id, packet_id) || !v.empty()) {
                return undecodable(what, "inbound", k);
            }
            out.sessions[client_id].inbound_qos2.push_back(packet_id);
            return ec_t{};
        })) {
        return ec;
    }

    std::string peer;
    if (auto ec = scan(raw, h[family::forward], what, [&](std::string_view k, std::string_view v) {
            forward_record f;
            if (!codec::decode_forward_key(k, peer, f.stamp) ||
                !codec::decode_u64(v, f.message_id) || f.message_id == 0) {
                return undecodable(what, "forward", k);
            }
            out.forward[peer].push_back(f);
            return ec_t{};
        })) {
        return ec;
    }

    if (auto ec = scan(raw, h[family::retained], what, [&](std::string_view k, std::string_view v) {
            events::stored_message m;
            if (!codec::decode_message(v, m) || m.topic != k) {
                return undecodable(what, "retained", k);
            }
            out.retained.emplace(std::string(k), std::move(m));
            return ec_t{};
        })) {
        return ec;
    }
    return {};
}

}  // namespace store
