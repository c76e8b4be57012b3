// msgpack codec for the inter-tier events (see events.hpp, docs/wire-protocol.md).
//
// Envelope: [protocol_version, kind, body]; kind is the index of the event's
// alternative in events::event. Each body is an array of the struct's fields in
// declaration order. Integers are packed in their smallest msgpack form; topics,
// ids and names are str; payloads are bin; optional<will> is nil or an array.
// decode() accepts exactly those types, checks every array's size, and maps
// any failure to an errc; it never throws. Encoding writes the bytes msgpack-c's packer
// would (writer, below); decoding reads them in place (msgpack_reader.hpp
// says why).
#include "common/events/events.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <exception>
#include <limits>
#include <type_traits>
#include <utility>

#include "common/events/msgpack_reader.hpp"

namespace events {
namespace {

// ---- encoding -------------------------------------------------------------

// Writes msgpack in the forms msgpack-c's packer chooses (the smallest
// integer, array, str and bin headers), without its packer: the packer hands
// every token to the sink on its own, one std::string::append each (some 14
// per PUBLISH event). Here the small tokens gather in a scratch buffer that
// goes out in one append when a long string or payload comes, when it is
// full, or at the end: the caller's flush(), which nothing else does (a
// destructor that appends could throw while unwinding).
class writer {
  public:
    explicit writer(std::string& out) : out_(out) {}
    writer(const writer&) = delete;
    writer& operator=(const writer&) = delete;

    writer& array(std::size_t n) {
        room(5);
        if (n < 16) {
            byte(0x90 | n);
        } else if (n <= 0xffff) {
            byte(0xdc);
            big_endian(n, 2);
        } else {
            byte(0xdd);
            big_endian(n, 4);
        }
        return *this;
    }
    writer& uint(std::uint64_t v) {
        room(9);
        if (v < 128) {
            byte(v);
        } else if (v <= 0xff) {
            byte(0xcc);
            byte(v);
        } else if (v <= 0xffff) {
            byte(0xcd);
            big_endian(v, 2);
        } else if (v <= 0xffffffff) {
            byte(0xce);
            big_endian(v, 4);
        } else {
            byte(0xcf);
            big_endian(v, 8);
        }
        return *this;
    }
    writer& boolean(bool v) {
        room(1);
        byte(v ? 0xc3 : 0xc2);
        return *this;
    }
    writer& nil() {
        room(1);
        byte(0xc0);
        return *this;
    }
    writer& str(std::string_view s) {
        room(5);
        if (s.size() < 32) {
            byte(0xa0 | s.size());
        } else {
            sized_header(0xd9, s.size());  // str 8, 16, 32
        }
        return body(s);
    }
    writer& bin(std::string_view s) {
        room(5);
        sized_header(0xc4, s.size());  // bin 8, 16, 32
        return body(s);
    }

    void flush() {
        if (used_ == 0) return;
        out_.append(scratch_, used_);
        used_ = 0;
    }

  private:
    void room(std::size_t n) {
        if (used_ + n > sizeof scratch_) flush();
    }
    void byte(std::uint64_t b) { scratch_[used_++] = static_cast<char>(b); }
    void big_endian(std::uint64_t v, int width) {
        for (int i = width - 1; i >= 0; --i) byte((v >> (8 * i)) & 0xff);
    }
    // `head` for a length that fits a byte, head + 1 for two, head + 2 for four.
    void sized_header(std::uint8_t head, std::size_t n) {
        if (n <= 0xff) {
            byte(head);
            byte(n);
        } else if (n <= 0xffff) {
            byte(head + 1);
            big_endian(n, 2);
        } else {
            byte(head + 2);
            big_endian(n, 4);
        }
    }
    writer& body(std::string_view s) {
        // Both bounds, so that GCC's -Warray-bounds and -Wstringop-overflow
        // (after a profile-guided build's inlining) can see the copy fits.
        if (s.size() > sizeof scratch_ || used_ + s.size() > sizeof scratch_) {
            flush();
            out_.append(s);
            return *this;
        }
        if (!s.empty()) std::memcpy(scratch_ + used_, s.data(), s.size());
        used_ += s.size();
        return *this;
    }

    std::string& out_;
    char scratch_[128];
    std::size_t used_ = 0;
};

template <typename E>
constexpr std::uint64_t raw(E e) {
    return static_cast<std::uint64_t>(static_cast<std::underlying_type_t<E>>(e));
}

void write(writer& w, const hello& e) {
    w.array(3).str(e.frontend_id).uint(e.protocol_version).uint(e.incarnation);
}

void write(writer& w, const route_publish& e) {
    w.array(8).str(e.origin).uint(e.stamp).str(e.topic).bin(e.payload).uint(e.qos);
    w.boolean(e.retain).uint(e.received_us).uint(e.prev);
}

void write(writer& w, const router_hello& e) {
    w.array(2).str(e.router_id).uint(e.incarnation);
}

void write(writer& w, const will& e) {
    w.array(4).str(e.topic).bin(e.payload).uint(e.qos).boolean(e.retain);
}

void write(writer& w, const client_connect& e) {
    w.array(7).uint(e.conn).str(e.client_id).boolean(e.clean_session).uint(e.protocol_level);
    w.uint(e.keep_alive).str(e.username);
    if (e.will_message) {
        write(w, *e.will_message);
    } else {
        w.nil();
    }
}

template <typename Publish>  // client_publish and deliver share their layout
void write_publish(writer& w, const Publish& e) {
    w.array(8).uint(e.conn).str(e.topic).bin(e.payload).uint(e.qos).boolean(e.retain);
    w.boolean(e.dup).uint(e.packet_id).uint(e.received_us);
}

void write(writer& w, const client_publish& e) {
    write_publish(w, e);
}
void write(writer& w, const deliver& e) {
    write_publish(w, e);
}

void write(writer& w, const client_ack& e) {
    w.array(3).uint(e.conn).uint(raw(e.kind)).uint(e.packet_id);
}

void write(writer& w, const client_subscribe& e) {
    w.array(3).uint(e.conn).uint(e.packet_id).array(e.subscriptions.size());
    for (const auto& s : e.subscriptions) w.array(2).str(s.filter).uint(s.qos);
}

void write(writer& w, const client_unsubscribe& e) {
    w.array(3).uint(e.conn).uint(e.packet_id).array(e.filters.size());
    for (const auto& f : e.filters) w.str(f);
}

void write(writer& w, const client_disconnect& e) {
    w.array(2).uint(e.conn).uint(raw(e.reason));
}

void write(writer& w, const connack& e) {
    w.array(4)
        .uint(e.conn)
        .boolean(e.session_present)
        .uint(e.return_code)
        .uint(e.router_incarnation);
}

void write(writer& w, const send_ack& e) {
    w.array(3).uint(e.conn).uint(raw(e.kind)).uint(e.packet_id);
}

void write(writer& w, const suback& e) {
    w.array(3).uint(e.conn).uint(e.packet_id).array(e.return_codes.size());
    for (auto rc : e.return_codes) w.uint(rc);
}

void write(writer& w, const unsuback& e) {
    w.array(2).uint(e.conn).uint(e.packet_id);
}

void write(writer& w, const close_connection& e) {
    w.array(2).uint(e.conn).uint(raw(e.reason));
}

void write(writer& w, const router_leaving& e) {
    w.array(2).str(e.router_id).uint(e.incarnation);
}

void write(writer& w, const stored_message& e) {
    w.array(6).str(e.topic).bin(e.payload).uint(e.qos).boolean(e.retain).uint(e.stamp).str(
        e.origin);
}

void write(writer& w, const session_fetch& e) {
    w.array(3).uint(e.request).str(e.client_id).str(e.requester);
}

void write(writer& w, const session_state& e) {
    w.array(11).uint(e.request).str(e.client_id).str(e.sender).boolean(e.found);
    w.array(e.subscriptions.size());
    for (const auto& s : e.subscriptions) w.array(2).str(s.filter).uint(s.qos);
    w.array(e.inflight.size());
    for (const auto& m : e.inflight) {
        w.array(5).uint(m.packet_id).uint(m.state).uint(m.qos).boolean(m.retain);
        if (m.message) {
            write(w, *m.message);
        } else {
            w.nil();
        }
    }
    w.array(e.queue.size());
    for (const auto& q : e.queue) {
        w.array(3);
        write(w, q.message);
        w.uint(q.qos).boolean(q.retain);
    }
    w.array(e.inbound_qos2.size());
    for (auto id : e.inbound_qos2) w.uint(id);
    w.uint(e.last_packet_id);
    w.array(e.seen.size());
    for (const auto& h : e.seen) w.array(2).str(h.origin).uint(h.stamp);
    w.str(e.pushed_to);
}

void write(writer& w, const session_state_ack& e) {
    w.array(2).str(e.client_id).str(e.sender);
}

void write(writer& w, const retained_sync_request& e) {
    w.array(1).str(e.requester);
}

void write(writer& w, const retained_sync& e) {
    w.array(3).str(e.sender).array(e.messages.size());
    for (const auto& m : e.messages) write(w, m);
    w.boolean(e.last);
}

void write(writer& w, const route_ack& e) {
    w.array(3).str(e.router_id).uint(e.stamp).boolean(e.resend);
}

void write(writer& w, const deliver_many& e) {
    w.array(5).str(e.topic).bin(e.payload).boolean(e.retain).uint(e.received_us);
    w.array(e.targets.size());
    for (const auto& t : e.targets) w.array(3).uint(t.conn).uint(t.qos).uint(t.packet_id);
}

void write(writer& w, const router_stats& e) {
    w.array(3).str(e.router_id).uint(e.incarnation).array(e.values.size());
    for (const auto& [name, value] : e.values) w.array(2).str(name).uint(value);
}

std::size_t size_hint(const client_publish& e) {
    return 32 + e.topic.size() + e.payload.size();
}
std::size_t size_hint(const deliver& e) {
    return 32 + e.topic.size() + e.payload.size();
}
std::size_t size_hint(const deliver_many& e) {
    return 32 + e.topic.size() + e.payload.size() + 16 * e.targets.size();
}
std::size_t size_hint(const route_publish& e) {
    return 48 + e.origin.size() + e.topic.size() + e.payload.size();
}
template <typename T>
std::size_t size_hint(const T&) {
    return 64;
}

// ---- decoding -------------------------------------------------------------

// Reads the fields of one msgpack array in order, from the cursor. The first
// mismatch (wrong arity, wrong type, out-of-range value) latches ok() to
// false; later reads are no-ops. ok() also needs every element read, so the
// cursor ends right after the array.
class fields {
  public:
    // Exactly `arity` elements, or from `arity` to `max_arity` when fields
    // were appended to the event later (read those with optional_uint).
    fields(msgpack_reader& r, std::uint32_t arity, std::uint32_t max_arity = 0) : r_(r) {
        ok_ = r.array(size_) && size_ >= arity && size_ <= std::max(arity, max_arity);
    }

    bool ok() const { return ok_ && index_ == size_; }

    // An appended field: read if the sender wrote it, else left as it is.
    template <typename UInt>
    fields& optional_uint(UInt& out) {
        if (ok_ && index_ < size_) uint(out);
        return *this;
    }

    template <typename UInt>
    fields& uint(UInt& out, std::uint64_t max = std::numeric_limits<UInt>::max()) {
        std::uint64_t v = 0;
        if (!next()) return *this;
        if (!r_.uint(v) || v > max) return fail();
        out = static_cast<UInt>(v);
        return *this;
    }
    template <typename E>
    fields& enumeration(E& out, std::uint64_t min, std::uint64_t max) {
        std::underlying_type_t<E> v{};
        uint(v, max);
        if (ok_ && v < min) return fail();
        out = static_cast<E>(v);
        return *this;
    }
    fields& qos(std::uint8_t& out) { return uint(out, 2); }
    fields& boolean(bool& out) {
        if (next() && !r_.boolean(out)) fail();
        return *this;
    }
    fields& str(std::string& out) {
        std::string_view v;
        if (!next()) return *this;
        if (!r_.str(v)) return fail();
        out.assign(v);
        return *this;
    }
    fields& bin(std::string& out) {
        std::string_view v;
        if (!next()) return *this;
        if (!r_.bin(v)) return fail();
        out.assign(v);
        return *this;
    }
    // A nested array: calls f(reader) once per element; f reads the element
    // and returns false on failure.
    template <typename F>
    fields& each(F&& f) {
        std::uint32_t n = 0;
        if (!next()) return *this;
        if (!r_.array(n)) return fail();
        for (std::uint32_t i = 0; i < n; ++i) {
            if (!f(r_)) return fail();
        }
        return *this;
    }
    // nil, or what f reads (f returns false on failure); `was_nil` says which.
    template <typename F>
    fields& nil_or(bool& was_nil, F&& f) {
        if (!next()) return *this;
        was_nil = r_.nil();
        if (!was_nil && !f(r_)) fail();
        return *this;
    }

    fields& fail() {
        ok_ = false;
        return *this;
    }

  private:
    // Takes the next element's place; false once failed or past the end.
    bool next() {
        if (!ok_ || index_ == size_) {
            ok_ = false;
            return false;
        }
        ++index_;
        return true;
    }

    msgpack_reader& r_;
    bool ok_ = false;
    std::uint32_t size_ = 0;
    std::uint32_t index_ = 0;
};

constexpr std::uint64_t min_ack = raw(ack_kind::puback);
constexpr std::uint64_t max_ack = raw(ack_kind::pubcomp);
// Keep in step with the last disconnect_reason (append only).
constexpr std::uint64_t max_reason = raw(disconnect_reason::server_shutdown);

bool read(msgpack_reader& o, hello& e) {
    return fields(o, 3).str(e.frontend_id).uint(e.protocol_version).uint(e.incarnation).ok();
}

bool read(msgpack_reader& o, route_publish& e) {
    return fields(o, 6, 8)
        .str(e.origin)
        .uint(e.stamp)
        .str(e.topic)
        .bin(e.payload)
        .qos(e.qos)
        .boolean(e.retain)
        .optional_uint(e.received_us)
        .optional_uint(e.prev)
        .ok();
}

bool read(msgpack_reader& o, router_hello& e) {
    return fields(o, 2).str(e.router_id).uint(e.incarnation).ok();
}

bool read(msgpack_reader& o, will& e) {
    return fields(o, 4).str(e.topic).bin(e.payload).qos(e.qos).boolean(e.retain).ok();
}

bool read(msgpack_reader& o, client_connect& e) {
    fields f(o, 7);
    f.uint(e.conn).str(e.client_id).boolean(e.clean_session).uint(e.protocol_level);
    f.uint(e.keep_alive).str(e.username);
    bool no_will = false;
    f.nil_or(no_will, [&](msgpack_reader& w) { return read(w, e.will_message.emplace()); });
    if (no_will) e.will_message.reset();
    return f.ok();
}

template <typename Publish>
bool read_publish(msgpack_reader& o, Publish& e) {
    return fields(o, 7, 8)
        .uint(e.conn)
        .str(e.topic)
        .bin(e.payload)
        .qos(e.qos)
        .boolean(e.retain)
        .boolean(e.dup)
        .uint(e.packet_id)
        .optional_uint(e.received_us)
        .ok();
}

bool read(msgpack_reader& o, client_publish& e) {
    return read_publish(o, e);
}
bool read(msgpack_reader& o, deliver& e) {
    return read_publish(o, e);
}

bool read(msgpack_reader& o, client_ack& e) {
    return fields(o, 3).uint(e.conn).enumeration(e.kind, min_ack, max_ack).uint(e.packet_id).ok();
}

bool read(msgpack_reader& o, client_subscribe& e) {
    return fields(o, 3)
        .uint(e.conn)
        .uint(e.packet_id)
        .each([&](msgpack_reader& item) {
            auto& s = e.subscriptions.emplace_back();
            return fields(item, 2).str(s.filter).qos(s.qos).ok();
        })
        .ok();
}

bool read(msgpack_reader& o, client_unsubscribe& e) {
    return fields(o, 3)
        .uint(e.conn)
        .uint(e.packet_id)
        .each([&](msgpack_reader& item) {
            std::string_view filter;
            if (!item.str(filter)) return false;
            e.filters.emplace_back(filter);
            return true;
        })
        .ok();
}

bool read(msgpack_reader& o, client_disconnect& e) {
    return fields(o, 2).uint(e.conn).enumeration(e.reason, 0, max_reason).ok();
}

bool read(msgpack_reader& o, connack& e) {
    return fields(o, 4)
        .uint(e.conn)
        .boolean(e.session_present)
        .uint(e.return_code)
        .uint(e.router_incarnation)
        .ok();
}

bool read(msgpack_reader& o, send_ack& e) {
    return fields(o, 3).uint(e.conn).enumeration(e.kind, min_ack, max_ack).uint(e.packet_id).ok();
}

bool read(msgpack_reader& o, suback& e) {
    return fields(o, 3)
        .uint(e.conn)
        .uint(e.packet_id)
        .each([&](msgpack_reader& item) {
            std::uint64_t rc = 0;
            if (!item.uint(rc) || rc > 0xff) return false;
            e.return_codes.push_back(static_cast<std::uint8_t>(rc));
            return true;
        })
        .ok();
}

bool read(msgpack_reader& o, unsuback& e) {
    return fields(o, 2).uint(e.conn).uint(e.packet_id).ok();
}

bool read(msgpack_reader& o, close_connection& e) {
    return fields(o, 2).uint(e.conn).enumeration(e.reason, 0, max_reason).ok();
}

bool read(msgpack_reader& o, router_leaving& e) {
    return fields(o, 2).str(e.router_id).uint(e.incarnation).ok();
}

bool read(msgpack_reader& o, stored_message& e) {
    return fields(o, 6)
        .str(e.topic)
        .bin(e.payload)
        .qos(e.qos)
        .boolean(e.retain)
        .uint(e.stamp)
        .str(e.origin)
        .ok();
}

bool read(msgpack_reader& o, session_fetch& e) {
    return fields(o, 3).uint(e.request).str(e.client_id).str(e.requester).ok();
}

bool read(msgpack_reader& o, session_state& e) {
    fields f(o, 11);
    f.uint(e.request).str(e.client_id).str(e.sender).boolean(e.found);
    f.each([&](msgpack_reader& item) {
        auto& s = e.subscriptions.emplace_back();
        return fields(item, 2).str(s.filter).qos(s.qos).ok();
    });
    f.each([&](msgpack_reader& item) {
        auto& m = e.inflight.emplace_back();
        fields g(item, 5);
        g.uint(m.packet_id).uint(m.state, 2).qos(m.qos).boolean(m.retain);
        bool released = false;  // nil: PUBREC came, the message is gone (only PUBREL remains)
        g.nil_or(released, [&](msgpack_reader& msg) { return read(msg, m.message.emplace()); });
        return g.ok();
    });
    f.each([&](msgpack_reader& item) {
        auto& q = e.queue.emplace_back();
        fields g(item, 3);
        bool nil = false;
        g.nil_or(nil, [&](msgpack_reader& msg) { return read(msg, q.message); });
        if (nil) g.fail();  // a queued message is always there
        return g.qos(q.qos).boolean(q.retain).ok();
    });
    f.each([&](msgpack_reader& item) {
        std::uint64_t id = 0;
        if (!item.uint(id) || id == 0 || id > 0xffff) return false;
        e.inbound_qos2.push_back(static_cast<std::uint16_t>(id));
        return true;
    });
    f.uint(e.last_packet_id);
    f.each([&](msgpack_reader& item) {
        auto& h = e.seen.emplace_back();
        return fields(item, 2).str(h.origin).uint(h.stamp).ok();
    });
    f.str(e.pushed_to);
    return f.ok();
}

bool read(msgpack_reader& o, session_state_ack& e) {
    return fields(o, 2).str(e.client_id).str(e.sender).ok();
}

bool read(msgpack_reader& o, retained_sync_request& e) {
    return fields(o, 1).str(e.requester).ok();
}

bool read(msgpack_reader& o, retained_sync& e) {
    return fields(o, 3)
        .str(e.sender)
        .each([&](msgpack_reader& item) { return read(item, e.messages.emplace_back()); })
        .boolean(e.last)
        .ok();
}

bool read(msgpack_reader& o, router_stats& e) {
    return fields(o, 3)
        .str(e.router_id)
        .uint(e.incarnation)
        .each([&](msgpack_reader& item) {
            auto& v = e.values.emplace_back();
            return fields(item, 2).str(v.first).uint(v.second).ok();
        })
        .ok();
}

bool read(msgpack_reader& o, deliver_many& e) {
    return fields(o, 5)
        .str(e.topic)
        .bin(e.payload)
        .boolean(e.retain)
        .uint(e.received_us)
        .each([&](msgpack_reader& item) {
            auto& t = e.targets.emplace_back();
            return fields(item, 3).uint(t.conn).qos(t.qos).uint(t.packet_id).ok();
        })
        .ok();
}

bool read(msgpack_reader& o, route_ack& e) {
    return fields(o, 3).str(e.router_id).uint(e.stamp).boolean(e.resend).ok();
}

// One decoder per kind, indexed by the kind number.
using body_reader = bool (*)(msgpack_reader&, event&);

template <std::size_t I>
bool read_alternative(msgpack_reader& body, event& out) {
    using body_type = std::variant_alternative_t<I, event>;
    if constexpr (std::is_same_v<body_type, deliver> || std::is_same_v<body_type, client_publish>) {
        if (auto* same = std::get_if<I>(&out)) {
            // Every field back to its default, but the strings keep their
            // buffers (the reader assigns into them).
            std::string topic = std::move(same->topic);
            std::string payload = std::move(same->payload);
            *same = body_type{};
            same->topic = std::move(topic);
            same->payload = std::move(payload);
            same->topic.clear();
            same->payload.clear();
            return read(body, *same);
        }
    }
    return read(body, out.emplace<I>());
}

template <std::size_t... I>
constexpr std::array<body_reader, sizeof...(I)> make_readers(std::index_sequence<I...>) {
    return {&read_alternative<I>...};
}

constexpr auto readers = make_readers(std::make_index_sequence<std::variant_size_v<event>>{});

constexpr std::array<const char*, std::variant_size_v<event>> names = {"hello",
                                                                       "client_connect",
                                                                       "client_publish",
                                                                       "client_ack",
                                                                       "client_subscribe",
                                                                       "client_unsubscribe",
                                                                       "client_disconnect",
                                                                       "connack",
                                                                       "deliver",
                                                                       "send_ack",
                                                                       "suback",
                                                                       "unsuback",
                                                                       "close_connection",
                                                                       "router_hello",
                                                                       "route_publish",
                                                                       "router_leaving",
                                                                       "session_fetch",
                                                                       "session_state",
                                                                       "session_state_ack",
                                                                       "retained_sync_request",
                                                                       "retained_sync",
                                                                       "router_stats",
                                                                       "route_ack",
                                                                       "deliver_many"};

class category : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "events"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::ok:
                return "success";
            case errc::malformed:
                return "malformed event envelope";
            case errc::version_mismatch:
                return "event protocol version mismatch";
            case errc::unknown_kind:
                return "unknown event kind";
        }
        return "unknown events error";
    }
};

}  // namespace

void encode_to(const event& e, std::string& out) {
    std::visit(
        [&](const auto& body) {
            out.reserve(out.size() + size_hint(body));
            writer w(out);
            w.array(3).uint(protocol_version).uint(e.index());
            write(w, body);
            w.flush();
        },
        e);
}

std::string encode(const event& e) {
    std::string out;
    encode_to(e, out);
    return out;
}

namespace {

// Decodes the envelope that starts at `offset` into `out`, moving offset
// past it. On failure `out` holds a partly read event (the caller drops it).
bool decode_into(std::string_view bytes, std::size_t& offset, event& out,
                 boost::system::error_code& ec) {
    ec = errc::malformed;
    try {
        msgpack_reader r(bytes, offset);
        std::uint32_t size = 0;
        std::uint64_t version = 0;
        if (!r.array(size) || size == 0 || !r.uint(version)) return false;
        if (version != protocol_version) {  // refused whatever follows
            ec = errc::version_mismatch;
            return false;
        }
        std::uint64_t kind = 0;
        if (size != 3 || !r.uint(kind)) return false;
        if (kind >= readers.size()) {
            ec = errc::unknown_kind;
            return false;
        }
        if (!readers[kind](r, out)) return false;
        offset = r.pos();
        ec.clear();
        return true;
    } catch (const std::exception&) {
        ec = errc::malformed;  // bad_alloc (every string is bounded by the input)
    }
    return false;
}

}  // namespace

std::optional<event> decode(std::string_view bytes, boost::system::error_code& ec) {
    std::size_t offset = 0;
    std::optional<event> e(std::in_place);
    if (!decode_into(bytes, offset, *e, ec)) return std::nullopt;
    if (offset != bytes.size()) {  // trailing bytes
        ec = errc::malformed;
        return std::nullopt;
    }
    return e;
}

void decode_batch(std::string_view bytes, std::vector<event>& out, boost::system::error_code& ec) {
    ec = errc::malformed;
    if (bytes.empty()) return;
    std::size_t offset = 0;
    while (offset < bytes.size()) {
        // Straight into its place: an event is moved once less.
        if (!decode_into(bytes, offset, out.emplace_back(), ec)) {
            out.pop_back();
            return;
        }
    }
}

std::size_t decode_batch_into(std::string_view bytes, std::vector<event>& slots,
                              boost::system::error_code& ec) {
    ec = errc::malformed;
    std::size_t n = 0;
    if (bytes.empty()) return n;
    std::size_t offset = 0;
    while (offset < bytes.size()) {
        if (n == slots.size()) slots.emplace_back();
        if (!decode_into(bytes, offset, slots[n], ec)) return n;
        ++n;
    }
    return n;
}

void trim_for_reuse(std::vector<event>& slots, std::size_t written, std::size_t max_string_bytes) {
    if (slots.size() > batch_max_events) slots.resize(batch_max_events);
    written = std::min(written, slots.size());
    for (std::size_t i = 0; i < written; ++i) {
        auto& e = slots[i];
        if (auto* d = std::get_if<deliver>(&e)) {
            if (d->topic.capacity() > max_string_bytes) std::string().swap(d->topic);
            if (d->payload.capacity() > max_string_bytes) std::string().swap(d->payload);
        } else if (!std::holds_alternative<send_ack>(e)) {
            e.emplace<send_ack>();
        }
    }
}

const boost::system::error_category& events_category() {
    static const category instance;
    return instance;
}

conn_id conn_of(const event& e) {
    return std::visit(
        [](const auto& body) -> conn_id {
            if constexpr (requires { body.conn; }) {
                return body.conn;
            } else {
                return 0;
            }
        },
        e);
}

const char* name_of(const event& e) {
    return names[e.index()];
}

}  // namespace events
