// One frontend: its listeners, the TLS context, the authenticator, the link
// to the router tier, and the index of live sessions by connection id (used
// to hand router events to the right session).
//
// reload() (SIGHUP) re-reads the password file, the RSA key and the TLS
// certificate, key and CA: new CONNECTs are checked against the new
// credentials and new connections use the new TLS context; established
// connections are left alone. A part that fails to load keeps its old version.
//
// Each connection's events go to the router slot that owned its client id
// at CONNECT. A CONNECT no router can own yet (the link is still learning its
// routers) is parked with what the client pipelined after it, until the link
// reports a membership change; one no router can own is answered CONNACK 3.
// While the link is paused (a router's queue is full) every session stops
// reading and QoS 0 PUBLISHes that still arrive are shed and counted.
//
// Everything here runs on one io_context thread (the caller's run()); the
// class is not thread-safe. mqtt-frontend and mqtt-broker own one each.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "common/config/options.hpp"
#include "common/stats/histogram.hpp"
#include "common/stats/snapshot.hpp"
#include "frontend/auth/authenticator.hpp"
#include "frontend/auth/reloadable.hpp"
#include "frontend/connection.hpp"
#include "frontend/limits/frontend_limits.hpp"
#include "frontend/net/deadline_queue.hpp"
#include "frontend/net/session_base.hpp"
#include "frontend/router_link.hpp"

namespace frontend {

class listener;

class frontend_server {
  public:
    // Throws std::runtime_error with a one-line reason if the TLS files cannot
    // be loaded.
    frontend_server(boost::asio::io_context& io, zmq::context_t& zctx,
                    const config::frontend_options& options, link_settings link,
                    std::unique_ptr<auth::authenticator> auth);
    ~frontend_server();

    // Binds every listener (throws naming the listener on failure) and
    // connects to the router.
    void start();
    // Stops accepting and closes every session as a server shutdown.
    void stop();
    // Builds the authenticator and the TLS context again from the files named
    // in the options (SIGHUP); logs one line for each: what was re-read, or
    // the error naming the file (the previous one stays in use).
    void reload();
    // Closes every session.
    void close_all_sessions(const std::string& why);
    // Closes the sessions owned by router `index` (it died, or restarted as
    // incarnation `survivor`: sessions it accepted since then are kept).
    void close_sessions_of(std::size_t index, const std::string& why, std::uint64_t survivor);

    // For sessions.
    const connection_settings& settings() const { return settings_; }
    const auth::authenticator& authenticator() const { return auth_; }
    // Keeps a session alive that has no handler pending (a read deferred by
    // back-pressure) until release_hold() (nullptr if it was not held).
    void hold(session_ptr s) { held_[s.get()] = std::move(s); }
    session_ptr release_hold(const session_base* s) {
        auto it = held_.find(s);
        if (it == held_.end()) return nullptr;
        auto kept = std::move(it->second);
        held_.erase(it);
        return kept;
    }
    // What a connection's call produced, taken by its session right after
    // the call (connection.hpp): one for every connection of this thread.
    connection::output& connection_output() { return connection_output_; }
    // What every connection of this server works with (settings, the
    // authenticator, connection_output()).
    const connection::environment& connection_env() const { return connection_env_; }
    // An empty output for a session to swap with connection_output() (which
    // takes a call's output and leaves it these buffers to write into), and
    // back when done: one for each nesting level of session::apply in use, up
    // to max_spare_outputs kept with the capacity of their buffers (within
    // bounds), so a call's output costs neither an allocation nor a second swap.
    std::unique_ptr<connection::output> take_spare_output() {
        if (spare_outputs_.empty()) return std::make_unique<connection::output>();
        auto spare = std::move(spare_outputs_.back());
        spare_outputs_.pop_back();
        return spare;
    }
    void give_back_spare_output(std::unique_ptr<connection::output> spare) noexcept {
        // A burst's buffers go back to the allocator, not to the next call.
        connection::let_burst_go(spare->bytes);
        if (spare->events.capacity() > max_kept_events)
            std::vector<events::event>().swap(spare->events);
        if (spare_outputs_.size() >= max_spare_outputs) return;
        spare->clear();
        spare_outputs_.push_back(std::move(spare));  // no allocation: reserved up front
    }
    // --use-identity-as-username: a tls/wss client's certificate CN is its identity.
    bool use_identity_as_username() const { return options_.use_identity_as_username; }
    router_link& link() { return link_; }
    // The sessions' timer (keep-alive, connect and write timeouts).
    deadline_queue& deadlines() { return deadlines_; }
    // Sends a connection's event to the router that owns its session
    // (stamping a client_publish's received_us).
    void forward(events::conn_id conn, events::event&& e);
    // The current TLS context, for a new connection (an SSL keeps its
    // context alive itself after a reload replaced it).
    boost::asio::ssl::context& tls_context() { return *tls_; }
    events::conn_id allocate_conn_id() { return next_conn_++; }
    // Admission at accept, the failed-login slowdown, limit counters (README "Limits").
    limits::frontend_limits& limits() { return limits_; }
    // `ticket`: its admission at accept (limits().admit()), released at
    // unregister_session().
    void register_session(session_base& s, const limits::admission_ticket& ticket);
    // `refusal`: connection::refusal() of a session that was never accepted.
    void unregister_session(events::conn_id id, std::string_view refusal = {});
    // A session destroyed while still registered leaves the index and gives
    // its admission back (its destructor calls this; normally
    // unregister_session came first).
    void forget_session(session_base& s) {
        limits_.release(s.ticket_);
        sessions_.erase(s);
    }
    // A TLS handshake or WebSocket upgrade that failed (refused before MQTT).
    void count_handshake_failure() { ++refused_handshake_; }
    // A delivery written to a client's socket, `latency_us` after a frontend
    // read its PUBLISH (histogram latency.delivery_us).
    void record_delivery_latency(std::uint64_t latency_us) { delivery_latency_.record(latency_us); }

    std::size_t session_count() const { return sessions_.size(); }
    // QoS 0 PUBLISHes dropped because the link was paused.
    std::uint64_t qos0_shed() const { return qos0_shed_; }
    // Slow consumers: a QoS 0 delivery dropped, a client closed.
    void count_slow_client_drop() { ++slow_client_drops_; }
    void count_slow_client_close() { ++slow_client_closes_; }
    // Port of the i-th listener (useful when it was given as port 0).
    std::uint16_t listener_port(std::size_t i) const;
    // A stats snapshot of the counters and gauges (docs/stats.md); the
    // caller fills the header (kind, id, incarnation, sequence, uptime).
    stats::snapshot stats_snapshot() const;

  private:
    void on_router_event(events::event&& e);
    void on_deliver_many(events::deliver_many&& d);
    // The link's set of possible owners changed: place or refuse parked CONNECTs.
    void on_membership();
    void on_link_paused(bool paused);
    // CONNACK 3 (server unavailable), posted to the session.
    void refuse_connect(events::conn_id conn);
    void shed_qos0();

    boost::asio::io_context& io_;
    config::frontend_options options_;
    connection_settings settings_;
    limits::frontend_limits limits_;        // stable: settings_.gate points to it
    auth::reloadable auth_;                 // stable: connections hold references to it
    connection::output connection_output_;  // see connection_output()
    static constexpr std::size_t max_spare_outputs = 4;
    static constexpr std::size_t max_kept_events = 256;
    // See take_spare_output(); its capacity is reserved by the constructor.
    std::vector<std::unique_ptr<connection::output>> spare_outputs_;
    const connection::environment connection_env_{settings_, auth_, connection_output_};
    std::string encode_buffer_;  // on_router_event()'s PUBLISH, reused
    std::unique_ptr<boost::asio::ssl::context> tls_;
    // Sessions may outlive the server (their pending handlers hold them); the
    // queue's destructor unlinks them, so they never touch it afterwards.
    deadline_queue deadlines_;
    router_link link_;
    std::vector<std::unique_ptr<listener>> listeners_;
    std::unordered_map<const session_base*, session_ptr> held_;  // see hold()
    // Every registered session, by connection id: from register_session()
    // until unregister_session(), through each session's own link and
    // fields (session_base.hpp), which also hold the router that owns its
    // MQTT session, from its client_connect until its client_disconnect.
    // The index is destroyed (its links undone) before the sessions that
    // outlive the server are.
    struct conn_id_of {
        using type = events::conn_id;
        events::conn_id operator()(const session_base& s) const { return s.conn_id(); }
    };
    util::intrusive_index<session_base, &session_base::server_link_, conn_id_of,
                          std::hash<events::conn_id>>
        sessions_;
    // Connections unregistered before their client_disconnect went to the
    // router that owns them (rare): that router, until it does.
    std::unordered_map<events::conn_id, std::uint32_t> unregistered_owned_;
    // The live session of `conn`, or nullptr.
    session_ptr session_of(events::conn_id conn);
    // `router` owns `conn`'s MQTT session from its client_connect on.
    void own(events::conn_id conn, std::uint32_t router);
    // Hands an encoded PUBLISH to `s` (session_base::on_encoded_publish) and
    // counts it when it goes out; first notes whether it came from the
    // router's queue (session_base::backlogged_).
    void hand_over(session_base& s, std::string_view packet, std::size_t id_offset,
                   std::uint16_t packet_id, std::uint8_t qos, std::uint64_t received_us,
                   std::size_t payload_size);
    // Every live session (a copy: closing one unregisters it).
    std::vector<session_ptr> live_sessions();
    // CONNECTs waiting for an owner, each with what was pipelined after it.
    std::map<events::conn_id, std::vector<events::event>> parked_;
    events::conn_id next_conn_ = 1;
    std::uint64_t qos0_shed_ = 0;
    // For stats (docs/stats.md).
    std::uint64_t connections_total_ = 0;
    std::map<std::string, std::uint64_t, std::less<>> refused_;  // by connection::refusal()
    std::uint64_t refused_handshake_ = 0;
    std::uint64_t publishes_in_[3] = {0, 0, 0};  // clients' PUBLISHes by QoS
    std::uint64_t publishes_forwarded_ = 0;      // sent (or parked) towards a router
    std::uint64_t deliveries_no_client_ = 0;     // deliveries for connections already gone
    std::uint64_t slow_client_drops_ = 0;        // QoS 0 deliveries over client_write_buffer
    std::uint64_t slow_client_closes_ = 0;       // clients closed: stuck writes, hard cap
    stats::histogram delivery_latency_;
    std::uint64_t payload_bytes_in_[3] = {0, 0, 0};   // by QoS
    std::uint64_t deliveries_out_[3] = {0, 0, 0};     // deliveries handed to sessions, by QoS
    std::uint64_t payload_bytes_out_[3] = {0, 0, 0};  // by QoS
    std::uint64_t shed_since_log_ = 0;
    std::chrono::steady_clock::time_point last_shed_log_{};
};

}  // namespace frontend
