#include "frontend/connection.hpp"

#include <algorithm>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "common/mqtt/decoder.hpp"
#include "common/mqtt/encoder.hpp"
#include "common/mqtt/error.hpp"
#include "frontend/connection_translate.hpp"

namespace frontend {

namespace {

using rc = mqtt::connect_return_code;
using reason = events::disconnect_reason;

// Keep-alive grace: the server closes after one and a half keep-alive periods
// without a packet (MQTT-3.1.2-24).
std::chrono::milliseconds keep_alive_grace(std::uint16_t keep_alive_s) {
    return std::chrono::milliseconds{std::int64_t{keep_alive_s} * 1500};
}

mqtt::packet_type type_of_raw(const mqtt::raw_packet& raw) {
    return static_cast<mqtt::packet_type>(raw.header >> 4);
}

// Packets only a server may send; receiving one from a client is a protocol
// violation (MQTT-4.8.0-1).
bool server_only(mqtt::packet_type t) {
    return t == mqtt::packet_type::connack || t == mqtt::packet_type::suback ||
           t == mqtt::packet_type::unsuback || t == mqtt::packet_type::pingresp;
}

std::string random_hex(std::size_t digits) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char hex[] = "0123456789abcdef";
    std::string s;
    s.reserve(digits);
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        if (i % 16 == 0) bits = rng();
        s.push_back(hex[bits & 0xf]);
        bits >>= 4;
    }
    return s;
}

}  // namespace

// The refusal of a CONNACK refusal code (connection::refusal()).
connection::refusal_kind connection::refusal_of(std::uint8_t code) {
    switch (static_cast<rc>(code)) {
        case rc::unacceptable_protocol_version:
            return refusal_kind::protocol_version;
        case rc::identifier_rejected:
            return refusal_kind::identifier_rejected;
        case rc::server_unavailable:
            return refusal_kind::unavailable;
        case rc::bad_username_or_password:
            return refusal_kind::bad_credentials;
        case rc::not_authorized:
            return refusal_kind::not_authorized;
        default:
            return refusal_kind::other;
    }
}

std::string_view connection::refusal() const {
    switch (refusal_) {
        case refusal_kind::none:
            return "";
        case refusal_kind::protocol_version:
            return "protocol_version";
        case refusal_kind::identifier_rejected:
            return "identifier_rejected";
        case refusal_kind::unavailable:
            return "unavailable";
        case refusal_kind::bad_credentials:
            return "bad_credentials";
        case refusal_kind::not_authorized:
            return "not_authorized";
        case refusal_kind::other:
            return "other";
        case refusal_kind::connect_timeout:
            return "connect_timeout";
        case refusal_kind::connack_timeout:
            return "connack_timeout";
        case refusal_kind::protocol_error:
            return "protocol_error";
    }
    return "";
}

connection::connection(events::conn_id id, const environment& env, clock::time_point now)
    : id_(id),
      env_(env),
      framer_(env.settings.max_packet_size_before_connect),
      state_deadline_(now + env.settings.connect_timeout),
      last_packet_(now) {}

void connection::set_peer_identity(std::optional<std::string> cn) {
    identity_auth_ = true;
    if (cn)
        extras().peer_identity = std::move(*cn);
    else if (extras_)
        extras_->peer_identity.reset();
}

// ---- inputs -------------------------------------------------------------

void connection::on_bytes(std::string_view bytes, clock::time_point now) {
    if (!open()) return;
    // MQTT-3.1.0-1: the first packet must be CONNECT (0x10). Decide on its
    // first byte instead of waiting for a body that garbage may never send.
    if (state_ == connection_state::awaiting_connect && !holding_connect() &&
        framer_.buffered() == 0 && !bytes.empty() &&
        static_cast<std::uint8_t>(bytes.front()) != 0x10) {
        close(reason::protocol_error, "first packet is not CONNECT");
        return;
    }
    // Whole packets are taken straight from the bytes read; only an
    // unfinished one, or what waits behind a held CONNECT, is copied into the
    // framer (a copy and an allocation per read less for a busy client).
    while (framer_.buffered() == 0 && !bytes.empty() && open() && !holding_connect()) {
        boost::system::error_code ec;
        auto raw = framer_.next_from(bytes, ec);
        if (ec) return close_on_framing_error(ec);
        if (!raw) break;  // an unfinished packet: buffered below
        handle_raw(std::move(*raw), now);
    }
    if (!open() || bytes.empty()) return;
    framer_.feed(bytes);
    process_buffered(now);
}

void connection::close_on_framing_error(const boost::system::error_code& ec) {
    // Malformed remaining length, reserved packet type, or a packet above the
    // current size limit: the stream cannot be resynchronised.
    close(reason::protocol_error, "framing: " + ec.message());
}

void connection::process_buffered(clock::time_point now) {
    // Several packets may arrive in one chunk; stop as soon as one closes us.
    while (open()) {
        if (holding_connect()) {
            // What the client pipelines after a held CONNECT waits with it,
            // within the limit of what it may send before CONNECT is accepted.
            if (framer_.buffered() > env_.settings.max_packet_size_before_connect)
                close(reason::protocol_error, "too many bytes while CONNECT waits");
            return;
        }
        boost::system::error_code ec;
        auto raw = framer_.next(ec);
        if (ec) return close_on_framing_error(ec);
        if (!raw) return;  // need more bytes
        handle_raw(std::move(*raw), now);
    }
}

void connection::on_router_event(const events::event& e, clock::time_point now) {
    // Events for a connection that is already closing (e.g. a deliver that
    // crossed our client_disconnect) are dropped.
    if (!open()) return;
    std::visit(
        [this](const auto& ev) {
            using T = std::decay_t<decltype(ev)>;
            if constexpr (std::is_same_v<T, events::connack>) {
                handle_connack(ev);
            } else if constexpr (std::is_same_v<T, events::close_connection>) {
                close(ev.reason, "closed by router");
            } else if constexpr (std::is_same_v<T, events::deliver> ||
                                 std::is_same_v<T, events::send_ack> ||
                                 std::is_same_v<T, events::suback> ||
                                 std::is_same_v<T, events::unsuback>) {
                // CONNACK must be the first packet we send (MQTT-3.2.0-1); the
                // router sends its connack before anything else for a
                // connection, so anything earlier is a router bug and dropped.
                if (state_ == connection_state::connected) send(translate::to_packet(ev));
            }
            // frontend->router events never arrive here; ignore them.
        },
        e);
}

bool connection::on_encoded_publish(std::string_view packet, std::size_t id_offset,
                                    std::uint16_t packet_id) {
    // As for deliver: nothing before CONNACK, nothing once closing.
    if (!open() || state_ != connection_state::connected) return false;
    auto& bytes = env_.out.bytes;
    const auto at = bytes.size();
    bytes.append(packet);
    if (id_offset + 2 <= packet.size()) {
        bytes[at + id_offset] = static_cast<char>(packet_id >> 8);
        bytes[at + id_offset + 1] = static_cast<char>(packet_id & 0xff);
    }
    return true;
}

void connection::on_timer(clock::time_point now) {
    if (!open()) return;
    if (state_ == connection_state::awaiting_connect) {
        if (holding_connect()) {  // it arrived in time: the connect deadline no longer applies
            if (now >= state_deadline_) release_held_connect(now);
            return;
        }
        if (now >= state_deadline_) {
            refusal_ = refusal_kind::connect_timeout;
            close(reason::protocol_error, "no CONNECT before timeout");
        }
        return;
    }
    if (auto ka = keep_alive_deadline(); ka && now >= *ka) {
        // MQTT-3.1.2-24: no packet within 1.5 x keep-alive.
        close(reason::keep_alive_timeout, "keep-alive timeout");
        return;
    }
    if (state_ == connection_state::awaiting_connack && now >= state_deadline_) {
        send(mqtt::connack{false, static_cast<std::uint8_t>(rc::server_unavailable)});
        refusal_ = refusal_kind::connack_timeout;
        close(reason::connection_lost, "no connack from router");
    }
}

void connection::on_transport_closed() {
    if (state_ == connection_state::closed) return;
    if (open()) close(reason::connection_lost, "connection lost");
    state_ = connection_state::closed;
}

void connection::on_shutdown() {
    if (open()) close(reason::server_shutdown, "server shutdown");
}

connection::output connection::take_output() {
    output taken;
    take_output(taken);
    return taken;
}

std::optional<clock::time_point> connection::deadline() const {
    switch (state_) {
        case connection_state::awaiting_connect:
            return state_deadline_;
        case connection_state::awaiting_connack: {
            auto ka = keep_alive_deadline();
            return ka ? std::min(*ka, state_deadline_) : state_deadline_;
        }
        case connection_state::connected:
            return keep_alive_deadline();
        case connection_state::closing:
        case connection_state::closed:
            break;
    }
    return std::nullopt;
}

std::optional<clock::time_point> connection::keep_alive_deadline() const {
    if (keep_alive_ == 0) return std::nullopt;  // 0 disables keep-alive (MQTT-3.1.2-10)
    return last_packet_ + keep_alive_grace(keep_alive_);
}

// ---- packets from the client ---------------------------------------------

void connection::handle_raw(mqtt::raw_packet&& raw, clock::time_point now) {
    last_packet_ = now;  // any complete packet resets keep-alive
    const auto type = type_of_raw(raw);

    if (state_ == connection_state::awaiting_connect && type != mqtt::packet_type::connect) {
        // MQTT-3.1.0-1: the first packet must be CONNECT; close without answering.
        close(reason::protocol_error, "first packet is not CONNECT");
        return;
    }
    if (state_ != connection_state::awaiting_connect && type == mqtt::packet_type::connect) {
        // MQTT-3.1.0-2: a second CONNECT is a protocol violation.
        close(reason::protocol_error, "second CONNECT");
        return;
    }
    if (server_only(type)) {
        close(reason::protocol_error, std::string{"client sent "} + mqtt::name_of(type));
        return;
    }

    boost::system::error_code ec;
    auto p = mqtt::decode(std::move(raw), ec);
    if (ec || !p) {
        if (ec == mqtt::errc::unsupported_protocol_level) {
            // MQTT-3.1.2-2: unsupported level -> CONNACK 1, then close.
            refuse(rc::unacceptable_protocol_version, "unsupported protocol level");
        } else {
            // Any other malformed packet: close without answering (MQTT-4.8.0-1).
            close(reason::protocol_error, "decode: " + ec.message());
        }
        return;
    }
    handle_packet(std::move(*p), now);
}

void connection::handle_packet(mqtt::packet&& p, clock::time_point now) {
    std::visit(
        [this, now](auto&& pk) {
            using T = std::decay_t<decltype(pk)>;
            if constexpr (std::is_same_v<T, mqtt::connect>) {
                handle_connect(std::move(pk), now);
            } else if constexpr (std::is_same_v<T, mqtt::publish>) {
                // MQTT 3.1.1 cannot refuse one PUBLISH (a PUBACK says it was
                // accepted; QoS 0 has no answer): a topic over the limits
                // closes the connection, as a protocol violation would.
                if (!within_topic_limits(pk.topic, limits::topic_use::publish)) {
                    close(reason::protocol_error, "PUBLISH topic over the topic limits");
                    return;
                }
                forward(translate::to_event(id_, std::move(pk)));
            } else if constexpr (std::is_same_v<T, mqtt::subscribe>) {
                refuse_filters_over_limits(pk);
                forward(translate::to_event(id_, std::move(pk)));
            } else if constexpr (std::is_same_v<T, mqtt::unsubscribe>) {
                // Filters over the limits are passed on: they can only name a
                // subscription made before the limits were lowered, and
                // cost the router one lookup.
                forward(translate::to_event(id_, std::move(pk)));
            } else if constexpr (std::is_same_v<T, mqtt::puback> ||
                                 std::is_same_v<T, mqtt::pubrec> ||
                                 std::is_same_v<T, mqtt::pubrel> ||
                                 std::is_same_v<T, mqtt::pubcomp>) {
                forward(translate::to_event(id_, pk));
            } else if constexpr (std::is_same_v<T, mqtt::pingreq>) {
                // MQTT-3.12.4-1: answer PINGREQ with PINGRESP. Before CONNACK
                // went out it waits, as CONNACK must come first (MQTT-3.2.0-1).
                if (state_ == connection_state::connected)
                    send(mqtt::pingresp{});
                else if (pending_pingresps_ < UINT16_MAX)
                    ++pending_pingresps_;
            } else if constexpr (std::is_same_v<T, mqtt::disconnect>) {
                // MQTT-3.14.4-3: a DISCONNECT discards the will; "graceful" tells
                // the router so.
                close(reason::graceful, "client disconnected");
            } else {
                // CONNACK, SUBACK, UNSUBACK, PINGRESP: refused in handle_raw
                // already; kept here should the decoder accept them.
                close(reason::protocol_error, "client sent a server-only packet");
            }
        },
        std::move(p));
}

void connection::handle_connect(mqtt::connect&& c, clock::time_point now, bool released) {
    if (!released && hold_connect(c, now)) return;
    std::string client_id = std::move(c.client_id);
    if (client_id.empty()) {
        // MQTT 3.1 requires 1..23 characters, so an empty id is refused. In
        // 3.1.1 an empty id with CleanSession=0 is refused with CONNACK 2
        // (MQTT-3.1.3-8); with CleanSession=1 the server assigns a unique one
        // (MQTT-3.1.3-6). Ids longer than 23 bytes are accepted (MQTT-3.1.3-5).
        if (c.protocol_level == mqtt::protocol_level_3_1 || !c.clean_session) {
            refuse(rc::identifier_rejected, "empty client id refused");
            return;
        }
        client_id = assign_client_id();
    }
    if (c.will && !within_topic_limits(c.will->topic, limits::topic_use::will)) {
        // No CONNACK code says "topic refused" in 3.1.1: closed without one,
        // as for a malformed will.
        close(reason::protocol_error, "will topic over the topic limits");
        return;
    }

    if (identity_auth_) {
        // The TLS handshake verified the certificate: it is the credential.
        // A certificate without a CN names nobody (Mosquitto: CONNACK 4).
        if (!extras_ || !extras_->peer_identity) {
            refuse(rc::bad_username_or_password, "client certificate has no CN");
            return;
        }
        c.username = *extras_->peer_identity;
        c.password.reset();
    }
    switch (identity_auth_ ? auth::result::accepted : env_.auth.check(c.username, c.password)) {
        case auth::result::accepted:
            break;
        case auth::result::missing_credentials:
            login_failed(now);
            refuse(rc::not_authorized, "missing credentials");
            return;
        case auth::result::bad_credentials:
            login_failed(now);
            refuse(rc::bad_username_or_password, "bad credentials");
            return;
    }

    // Accepted by the frontend: the router decides the rest (session present,
    // takeover) and answers with a connack. Packets pipelined after CONNECT
    // are forwarded meanwhile; the router handles a connection's events in
    // order, so it drops them should it refuse the CONNECT (MQTT-3.1.4-5).
    keep_alive_ = c.keep_alive;
    framer_.set_max_packet_size(env_.settings.max_packet_size);
    state_deadline_ = now + env_.settings.connect_timeout;
    state_ = connection_state::awaiting_connack;
    // The id goes with the event: the router keeps it, this tier needs it no more.
    forward(translate::to_event(id_, std::move(client_id), std::move(c)));
    router_knows_ = true;
}

void connection::handle_connack(const events::connack& e) {
    if (state_ != connection_state::awaiting_connack) return;  // duplicate or stray connack
    send(translate::to_packet(e));
    if (e.return_code != 0) {
        // MQTT-3.2.2-5: a non-zero return code is followed by closing. The
        // router already forgot the client; the disconnect lets it be sure.
        pending_pingresps_ = 0;
        refusal_ = refusal_of(e.return_code);
        close(reason::protocol_error, "refused by router");
        return;
    }
    state_ = connection_state::connected;
    for (; pending_pingresps_ > 0; --pending_pingresps_) send(mqtt::pingresp{});
}

void connection::refuse(mqtt::connect_return_code code, std::string why) {
    send(mqtt::connack{false, static_cast<std::uint8_t>(code)});
    refusal_ = refusal_of(static_cast<std::uint8_t>(code));
    close(reason::protocol_error, std::move(why));
}

std::string connection::assign_client_id() const {
    return "auto-" + env_.settings.frontend_id + "-" + std::to_string(id_) + "-" + random_hex(16);
}

// ---- outputs ------------------------------------------------------------

void connection::send(const mqtt::packet& p) {
    mqtt::encode(p, env_.out.bytes);
}

void connection::forward(events::event e) {
    env_.out.events.push_back(std::move(e));
}

void connection::close(events::disconnect_reason r, std::string why) {
    if (!open()) return;
    // Broke the protocol before it was accepted (first packet not CONNECT,
    // malformed CONNECT, ...): a refusal too. A DISCONNECT or a lost
    // transport before CONNACK is a client that went away.
    if (refusal_ == refusal_kind::none && state_ < connection_state::connected &&
        r == reason::protocol_error)
        refusal_ = refusal_kind::protocol_error;
    state_ = connection_state::closing;
    env_.out.close = true;
    env_.out.close_reason = std::move(why);
    if (router_knows_) {
        router_knows_ = false;  // exactly once
        forward(events::client_disconnect{id_, r});
    }
}

}  // namespace frontend
