// libFuzzer target: drives frontend::connection (the sans-I/O state machine)
// the way its I/O glue does, with client bytes split at fuzzer-chosen points,
// timer ticks at fuzzer-chosen times, router events and transport events.
//
// Input: byte 0 picks the settings (bits 0-1: packet size limit before
// CONNECT, bits 2-3: after it); then a program of ops, each an op byte and
// its operands (missing operands read as 0):
//   00-7f n        client bytes: the next n+1 bytes of the input (on_bytes)
//   80-8e          time advances by steps[op & 15] (0 ms .. 24 h), then on_timer()
//   8f             time jumps to deadline() (if any), then on_timer()
//   90 f rc        router connack: f bit 0 session present; rc % 6
//   91 f id l t.. m  router deliver: f bits 0-1 QoS (3 -> 2), bit 2 retain,
//                  bit 3 dup; id u16 (made non-zero); topic of l % 32 bytes
//                  (replaced by "t" unless it is a valid topic name);
//                  payload of m bytes
//   92 k id        router send_ack: kind 4 + k % 4, id u16 (made non-zero)
//   93 id n c..    router suback: id, n % 8 + 1 codes, each c % 4 (3 -> 0x80)
//   94 id          router unsuback
//   95 r           router close_connection, reason r % 6
//   96             a frontend->router event sent back (must be ignored)
//   97             transport closed
//   98             frontend shutdown
//   others         nothing
//
// Invariants: no crash or sanitizer report; once an output says close,
// every later output is empty; the bytes written to the client, taken as one
// stream, always frame and decode (CONNACK first, nothing after a refusing
// CONNACK); events go only to the router in order (client_connect first and
// once, client_disconnect at most once and last), each for this connection
// and each surviving the events codec.
// FUZZ_TRACE=1 in the environment prints every op and its output.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/events/events.hpp"
#include "common/mqtt/decoder.hpp"
#include "common/mqtt/framer.hpp"
#include "common/mqtt/utf8.hpp"
#include "common/topic/topic.hpp"
#include "frontend/auth/authenticator.hpp"
#include "frontend/connection.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace {

using namespace std::chrono_literals;
using boost::system::error_code;
using frontend::clock;

constexpr events::conn_id conn_id = 7;

// User "u" with password "p" (as in tests/component/connection_harness.hpp).
class fake_auth final : public frontend::auth::authenticator {
  public:
    frontend::auth::result check(std::optional<std::string_view> username,
                                 std::optional<std::string_view> password) const override {
        if (!username || !password) return frontend::auth::result::missing_credentials;
        if (*username == "u" && *password == "p") return frontend::auth::result::accepted;
        return frontend::auth::result::bad_credentials;
    }
};

constexpr std::size_t size_limits[4] = {2, 64, 4096, 256 * 1024};

constexpr clock::duration steps[15] = {0ms,     1ms, 499ms, 1s,      1499ms, 5s,    9999ms, 10s,
                                       10001ms, 30s, 60s,   89999ms, 90s,    3600s, 24h};

// What the client and the router have seen so far, checked as it grows.
class observer {
  public:
    void take(frontend::connection::output&& out, const frontend::connection& c) {
        if (closed_) {
            FUZZ_CHECK(out.bytes.empty() && out.events.empty() && !out.close,
                       "output after close: bytes " + fuzz::hex(out.bytes) + ", " +
                           std::to_string(out.events.size()) + " events");
        }
        client_bytes(out.bytes);
        for (const auto& e : out.events) router_event(e);
        if (out.close) {
            closed_ = true;
            FUZZ_CHECK(c.state() == frontend::connection_state::closing ||
                           c.state() == frontend::connection_state::closed,
                       "close without closing state");
        }
    }

  private:
    void client_bytes(std::string_view bytes) {
        client_.feed(bytes);
        for (;;) {
            error_code ec;
            auto raw = client_.next(ec);
            FUZZ_CHECK(!ec, "server bytes do not frame: " + ec.message());
            if (!raw) return;
            auto p = mqtt::decode(*raw, ec);
            FUZZ_CHECK(p && !ec, "server packet does not decode: " + ec.message() + " in " +
                                     fuzz::hex(raw->body));
            FUZZ_CHECK(!refused_, "a packet after a refusing CONNACK");
            if (const auto* ack = std::get_if<mqtt::connack>(&*p)) {
                FUZZ_CHECK(packets_ == 0, "CONNACK is not the first packet");
                refused_ = ack->return_code != 0;
                FUZZ_CHECK(!refused_ || !ack->session_present, "refusal with session present");
            } else {
                FUZZ_CHECK(packets_ > 0, "first packet is not CONNACK");
            }
            ++packets_;
        }
        FUZZ_CHECK(client_.buffered() == 0, "a partial packet in one output");
    }

    void router_event(const events::event& e) {
        FUZZ_CHECK(!disconnected_,
                   std::string("event after client_disconnect: ") + events::name_of(e));
        FUZZ_CHECK(events::conn_of(e) == conn_id, events::name_of(e));
        const bool is_connect = std::holds_alternative<events::client_connect>(e);
        FUZZ_CHECK(is_connect != connected_,
                   std::string("client_connect must come first, once: ") + events::name_of(e));
        connected_ = true;
        const bool frontend_event = std::holds_alternative<events::client_connect>(e) ||
                                    std::holds_alternative<events::client_publish>(e) ||
                                    std::holds_alternative<events::client_ack>(e) ||
                                    std::holds_alternative<events::client_subscribe>(e) ||
                                    std::holds_alternative<events::client_unsubscribe>(e) ||
                                    std::holds_alternative<events::client_disconnect>(e);
        FUZZ_CHECK(frontend_event, events::name_of(e));
        disconnected_ = std::holds_alternative<events::client_disconnect>(e);

        const std::string wire = events::encode(e);
        error_code ec;
        const auto back = events::decode(wire, ec);
        FUZZ_CHECK(back && !ec && events::encode(*back) == wire,
                   std::string("event does not survive the codec: ") + events::name_of(e));
    }

    mqtt::framer client_{std::size_t{1} << 28};
    std::size_t packets_ = 0;
    bool refused_ = false;
    bool closed_ = false;
    bool connected_ = false;
    bool disconnected_ = false;
};

std::uint16_t nonzero(std::uint16_t id) {
    return id ? id : 1;
}

std::string topic_from(fuzz::byte_reader& in) {
    std::string t(in.bytes(in.u8() % 32));
    if (t.empty() || !mqtt::valid_utf8(t) || !mqtt::topic::valid_name(t)) return "t";
    return t;
}

events::event router_event(std::uint8_t op, fuzz::byte_reader& in) {
    switch (op) {
        case 0x90: {
            const std::uint8_t f = in.u8();
            return events::connack{conn_id, (f & 1) != 0, static_cast<std::uint8_t>(in.u8() % 6),
                                   1};
        }
        case 0x91: {
            events::deliver d;
            d.conn = conn_id;
            const std::uint8_t f = in.u8();
            d.qos = (f & 3) == 3 ? 2 : f & 3;
            d.retain = (f & 4) != 0;
            d.dup = (f & 8) != 0 && d.qos > 0;
            d.packet_id = nonzero(in.u16());
            d.topic = topic_from(in);
            d.payload = std::string(in.bytes(in.u8()));
            return d;
        }
        case 0x92: {
            const auto kind = static_cast<events::ack_kind>(4 + in.u8() % 4);
            return events::send_ack{conn_id, kind, nonzero(in.u16())};
        }
        case 0x93: {
            events::suback s;
            s.conn = conn_id;
            s.packet_id = nonzero(in.u16());
            const std::size_t n = in.u8() % 8 + 1;
            for (std::size_t i = 0; i < n; ++i) {
                const std::uint8_t c = in.u8() % 4;
                s.return_codes.push_back(c == 3 ? mqtt::suback_failure : c);
            }
            return s;
        }
        case 0x94:
            return events::unsuback{conn_id, nonzero(in.u16())};
        case 0x95:
            return events::close_connection{conn_id,
                                            static_cast<events::disconnect_reason>(in.u8() % 6)};
        default:
            return events::client_publish{conn_id, "t", "x", 0, false, false, 0, 0};
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::byte_reader in(data, size);
    const std::uint8_t config = in.u8();
    frontend::connection_settings settings;
    settings.max_packet_size_before_connect = size_limits[config & 3];
    settings.max_packet_size = size_limits[(config >> 2) & 3];
    settings.connect_timeout = 10s;
    const fake_auth auth;
    clock::time_point now = clock::time_point{} + 1000h;
    frontend::connection::output output;
    const frontend::connection::environment env{settings, auth, output};
    frontend::connection c(conn_id, env, now);
    observer seen;
    // FUZZ_TRACE=1 prints each op and its output (to read a crash or a seed).
    static const bool trace = std::getenv("FUZZ_TRACE") != nullptr;

    while (!in.exhausted()) {
        const std::uint8_t op = in.u8();
        if (op < 0x80) {
            c.on_bytes(in.bytes(op + 1u), now);
        } else if (op < 0x8f) {
            now += steps[op & 15];
            c.on_timer(now);
        } else if (op == 0x8f) {
            if (auto d = c.deadline()) {
                if (*d > now) now = *d;
            }
            c.on_timer(now);
        } else if (op >= 0x90 && op <= 0x96) {
            c.on_router_event(router_event(op, in), now);
        } else if (op == 0x97) {
            c.on_transport_closed();
        } else if (op == 0x98) {
            c.on_shutdown();
        }
        auto out = c.take_output();
        if (trace) {
            std::fprintf(stderr, "op %02x -> state %d, %zu bytes [%s], %zu events%s\n", op,
                         static_cast<int>(c.state()), out.bytes.size(),
                         fuzz::hex(out.bytes).c_str(), out.events.size(),
                         out.close ? ", close" : "");
        }
        seen.take(std::move(out), c);
        // A live connection always has a timer while it waits for CONNECT or connack.
        if (c.state() == frontend::connection_state::awaiting_connect ||
            c.state() == frontend::connection_state::awaiting_connack) {
            FUZZ_CHECK(c.deadline().has_value(), "no deadline while waiting");
        }
    }
    return 0;
}
