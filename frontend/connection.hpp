// The sans-I/O MQTT connection state machine: one per client connection.
//
// It is fed peer bytes, router events, timer expiries and "transport closed",
// and answers with actions collected in an `output` the I/O glue drains after
// every call: bytes to write to the client, events to forward to the router,
// whether to close (and why), and when to call on_timer() next. The output
// is the glue's, given at construction: as it is drained after every call,
// all the connections of a thread share one (frontend_server's), instead of
// 64 bytes each. It owns the MQTT rules
// of the frontend tier: CONNECT validation and authentication, the connect
// deadline, keep-alive (1.5 x), packet ordering (first packet CONNECT, no
// second CONNECT), the packet-size and topic limits, holding a CONNECT while
// its address is slowed down for failed logins (limits::gate), and
// translating packets <-> events.
// Session state (subscriptions, QoS state, queues) lives in the router.
//
// Owned and touched by exactly one I/O strand (frontend/net/session.hpp); no
// locking inside. Tests drive it directly without sockets.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/events/events.hpp"
#include "common/mqtt/framer.hpp"
#include "common/mqtt/packet.hpp"
#include "frontend/auth/authenticator.hpp"
#include "frontend/limits/gate.hpp"
#include "frontend/limits/topic_limits.hpp"

namespace frontend {

using clock = std::chrono::steady_clock;

struct connection_settings {
    std::size_t max_packet_size = 16 * 1024 * 1024;           // after CONNECT was accepted
    std::size_t max_packet_size_before_connect = 256 * 1024;  // until then
    // CONNECT must arrive this long after accept, and the router's connack this
    // long after CONNECT was forwarded (else CONNACK 3 "server unavailable").
    std::chrono::milliseconds connect_timeout{10'000};
    std::string frontend_id = "fe";  // used in assigned client ids
    // Unwritten bytes a client may leave before it is dropped (slow consumer).
    std::size_t max_write_backlog = 32 * 1024 * 1024;
    // Slow consumer (the session glue applies these): past this many
    // unwritten bytes QoS 0 deliveries are dropped; a client whose socket
    // takes no bytes for client_write_timeout is dropped.
    std::size_t client_write_buffer = 256 * 1024;
    std::chrono::seconds client_write_timeout{60};
    // Topic names (PUBLISH, will) over these close the connection; SUBSCRIBE
    // filters over them are refused with 0x80 (README "Limits").
    limits::topic_limits topic_limits;
    // The limits shared with the frontend's other connections (failed-login
    // slowdown, counters); not owned. Null: none.
    limits::gate* gate = nullptr;
};

enum class connection_state : std::uint8_t {
    awaiting_connect,  // no CONNECT yet
    awaiting_connack,  // CONNECT forwarded, waiting for the router's connack
    connected,         // CONNACK 0 sent
    closing,           // close requested; no more input is processed
    closed,
};

class connection {
  public:
    // What the glue must do after each call. Cleared by take_output().
    struct output {
        std::string bytes;                  // write these to the client, in order
        std::vector<events::event> events;  // forward these to the router, in order
        bool close = false;                 // close the transport after writing `bytes`
        std::string close_reason;           // with close: why, for logs

        // Empty, keeping the buffers' capacity.
        void clear() {
            bytes.clear();
            events.clear();
            close = false;
            close_reason.clear();
        }
        // Buffers swapped, not moved (cheaper, and each side keeps the other's).
        void swap(output& other) noexcept {
            bytes.swap(other.bytes);
            events.swap(other.events);
            std::swap(close, other.close);
            // Almost always both empty (a string swap is some 40 instructions).
            if (!close_reason.empty() || !other.close_reason.empty())
                close_reason.swap(other.close_reason);
        }
    };

    // What a connection works with, shared by every connection of a thread
    // (one reference per connection instead of three). `out` receives what
    // every call produces and must be drained (take_output) after each call,
    // before another connection sharing it is called. It must outlive the
    // connections, as must what it refers to.
    struct environment {
        const connection_settings& settings;
        const auth::authenticator& auth;
        output& out;
    };

    connection(events::conn_id id, const environment& env, clock::time_point now);

    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    // Mutual TLS with --use-identity-as-username: the client's verified
    // certificate authenticates it, and `cn`, its subject's common name,
    // becomes its MQTT username (the CONNECT's username and password are
    // ignored, as Mosquitto does). nullopt: the certificate has no usable CN,
    // and the CONNECT is refused with CONNACK 4. The glue calls it after the
    // TLS handshake, before the first on_bytes(); without it, CONNECT is
    // checked against the authenticator.
    void set_peer_identity(std::optional<std::string> cn);

    // Bytes read from the client.
    void on_bytes(std::string_view bytes, clock::time_point now);
    // An event the router sent for this connection.
    void on_router_event(const events::event& e, clock::time_point now);
    // A first delivery encoded once for every receiver on this frontend
    // (events::deliver_many): `packet` is the whole PUBLISH; for QoS 1/2 the
    // two bytes at `id_offset` are replaced by `packet_id`. False when it was
    // not written (the connection is not connected).
    bool on_encoded_publish(std::string_view packet, std::size_t id_offset,
                            std::uint16_t packet_id);
    // Called at (or after) deadline(): enforces the connect/connack deadlines and keep-alive.
    void on_timer(clock::time_point now);
    // The transport failed or the peer closed it.
    void on_transport_closed();
    // The frontend is stopping.
    void on_shutdown();

    output take_output();
    // The same into `into`, without allocating: `into` is cleared and
    // swapped with the output, which keeps `into`'s buffers. A glue that
    // takes every call's output into an emptied spare of its own (the
    // session: frontend_server::take_spare_output) allocates nothing.
    void take_output(output& into) {
        into.clear();
        into.swap(env_.out);
    }
    // Larger buffers are not kept for reuse (a burst's memory goes back).
    static constexpr std::size_t max_kept_buffer = 64 * 1024;
    // Gives `buffer`'s memory back when it grew past max_kept_buffer.
    static void let_burst_go(std::string& buffer) noexcept {
        if (buffer.capacity() > max_kept_buffer) std::string().swap(buffer);
    }
    const output& peek_output() const { return env_.out; }

    // When on_timer() must be called next (nullopt: no timer needed).
    std::optional<clock::time_point> deadline() const;

    events::conn_id id() const { return id_; }
    connection_state state() const { return state_; }
    // For a connection that ended before CONNACK 0, the stats name of why
    // it was refused (docs/stats.md `connections.refused.<reason>`):
    // protocol_version, identifier_rejected, bad_credentials, not_authorized,
    // unavailable, connack_timeout, connect_timeout, protocol_error. Empty
    // while undecided, once accepted, and for a client that just went away.
    std::string_view refusal() const;

  private:
    enum class refusal_kind : std::uint8_t {
        none,
        protocol_version,
        identifier_rejected,
        unavailable,
        bad_credentials,
        not_authorized,
        other,
        connect_timeout,
        connack_timeout,
        protocol_error,
    };
    static refusal_kind refusal_of(std::uint8_t connack_code);
    // Rare state, out of line (8 bytes per connection instead of 16): the
    // client certificate's CN (see identity_auth_; empty: none usable) and a
    // CONNECT held by the failed-login slowdown until state_deadline_.
    struct rare_state {
        std::optional<std::string> peer_identity;
        std::unique_ptr<mqtt::connect> held_connect;
    };
    rare_state& extras() {
        if (!extras_) extras_ = std::make_unique<rare_state>();
        return *extras_;
    }
    bool holding_connect() const { return extras_ && extras_->held_connect; }

    bool open() const { return state_ < connection_state::closing; }
    // Checks one framed packet against the ordering rules, decodes and handles it.
    void handle_raw(mqtt::raw_packet&& raw, clock::time_point now);
    // Handles the framed packets buffered, in order, until one closes us or
    // a CONNECT is held (what follows it waits in the framer meanwhile).
    void process_buffered(clock::time_point now);
    void close_on_framing_error(const boost::system::error_code& ec);
    void handle_packet(mqtt::packet&& p, clock::time_point now);
    // `released`: the CONNECT was held by the failed-login slowdown and its time came.
    void handle_connect(mqtt::connect&& c, clock::time_point now, bool released = false);
    // ---- limits (connection_limits.cpp) ----
    // The failed-login slowdown: true if the CONNECT is held until the
    // gate's time (on_timer() releases it).
    bool hold_connect(mqtt::connect& c, clock::time_point now);
    void release_held_connect(clock::time_point now);
    void login_failed(clock::time_point now);
    // False (and counted) when a topic name or filter is over the topic limits.
    bool within_topic_limits(std::string_view topic, limits::topic_use use);
    // Filters over the topic limits are emptied: the router refuses an
    // empty filter (never valid, MQTT-4.7.3-1) with 0x80, keeping the order.
    void refuse_filters_over_limits(mqtt::subscribe& s);
    void handle_connack(const events::connack& e);
    // Sends CONNACK with a refusal code and closes; the router never hears of the client.
    void refuse(mqtt::connect_return_code rc, std::string why);
    std::string assign_client_id() const;
    std::optional<clock::time_point> keep_alive_deadline() const;
    void send(const mqtt::packet& p);
    void forward(events::event e);
    // Closes: forwards client_disconnect{reason} if the router knew us.
    void close(events::disconnect_reason reason, std::string why);

    events::conn_id id_;
    const environment& env_;
    mqtt::framer framer_;
    // Before CONNACK, when the state ends unless something happens:
    // awaiting_connect, CONNECT must arrive by then (or, with a CONNECT held
    // by the failed-login slowdown, it is released then); awaiting_connack,
    // the router must have answered by then.
    clock::time_point state_deadline_;
    clock::time_point last_packet_;  // when the last complete packet was received
    std::unique_ptr<rare_state> extras_;
    std::uint16_t keep_alive_ = 0;  // seconds; 0 = disabled
    // PINGREQs received before CONNACK was sent (answered after it; past
    // 65535, which no client needs, the rest are not).
    std::uint16_t pending_pingresps_ = 0;
    connection_state state_ = connection_state::awaiting_connect;
    refusal_kind refusal_ = refusal_kind::none;  // see refusal()
    bool router_knows_ = false;   // client_connect was forwarded, client_disconnect not yet
    bool identity_auth_ = false;  // set_peer_identity() was called
};

}  // namespace frontend
