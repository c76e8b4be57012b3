#include "frontend/frontend_server.hpp"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <csignal>

#include "common/mqtt/encoder.hpp"
#include "common/util/wall_clock.hpp"
#include "frontend/auth/from_options.hpp"
#include "frontend/net/listener.hpp"
#include "frontend/net/session_base.hpp"

namespace frontend {

namespace {

// Client certificate chains: at most this many intermediate CAs between the
// client's certificate and a --tls-ca trust anchor (OpenSSL's verify depth).
constexpr int max_client_chain_depth = 10;

bool needs_tls(const config::frontend_options& o) {
    for (const auto& l : o.listeners)
        if (l.uses_tls()) return true;
    return false;
}

// Mutual TLS (README "Authentication"). With --tls-ca a client certificate
// is asked for and, if sent, must chain to those CAs (else the handshake
// fails); --require-client-cert also fails a handshake without one.
void add_client_verification(boost::asio::ssl::context& ctx, const config::frontend_options& o) {
    if (o.tls_ca.empty()) return;
    boost::system::error_code ec;
    ctx.load_verify_file(o.tls_ca, ec);
    if (ec) throw std::runtime_error("--tls-ca " + o.tls_ca + ": " + ec.message());
    SSL_CTX* native = ctx.native_handle();
    // The CA names in the CertificateRequest let a client pick its certificate.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.tls_ca.c_str()))
        SSL_CTX_set_client_CA_list(native, names);
    SSL_CTX_set_verify(
        native, SSL_VERIFY_PEER | (o.require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
        nullptr);
    SSL_CTX_set_verify_depth(native, max_client_chain_depth);
    // Session resumption with client verification needs a session id
    // context, else OpenSSL refuses resumed handshakes.
    static constexpr unsigned char sid_context[] = "iot-mqtt-server";
    SSL_CTX_set_session_id_context(native, sid_context, sizeof sid_context - 1);
}

boost::asio::ssl::context make_tls_context(const config::frontend_options& o) {
    boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_server);
    // TLS 1.2 or newer only.
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    // An idle connection gives OpenSSL's record buffers back (~34 KiB each
    // otherwise); most IoT connections are idle most of the time.
    SSL_CTX_set_mode(ctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
    ctx.set_options(boost::asio::ssl::context::default_workarounds |
                    boost::asio::ssl::context::single_dh_use);
    if (!needs_tls(o)) return ctx;
    boost::system::error_code ec;
    ctx.use_certificate_chain_file(o.tls_cert, ec);
    if (ec) throw std::runtime_error("--tls-cert " + o.tls_cert + ": " + ec.message());
    ctx.use_private_key_file(o.tls_key, boost::asio::ssl::context::pem, ec);
    if (ec) throw std::runtime_error("--tls-key " + o.tls_key + ": " + ec.message());
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
        throw std::runtime_error("--tls-key " + o.tls_key + ": does not match --tls-cert " +
                                 o.tls_cert);
    add_client_verification(ctx, o);
    return ctx;
}

}  // namespace

frontend_server::frontend_server(boost::asio::io_context& io, zmq::context_t& zctx,
                                 const config::frontend_options& options, link_settings link,
                                 std::unique_ptr<auth::authenticator> auth)
    : io_(io),
      options_(options),
      limits_(options_, std::chrono::steady_clock::now()),
      auth_(std::move(auth)),
      tls_(std::make_unique<boost::asio::ssl::context>(make_tls_context(options_))),
      deadlines_(io),
      link_(io, zctx, options_.frontend_id, options_.routers, link,
            router_link::handlers{
                [this](events::event&& e) { on_router_event(std::move(e)); },
                [this](std::size_t index, const std::string& why, std::uint64_t survivor) {
                    close_sessions_of(index, why, survivor);
                },
                [this](bool paused) { on_link_paused(paused); },
                [this] { on_membership(); },
            }) {
    // OpenSSL writes to TLS sockets itself (tls_transport.hpp), with write(2):
    // a peer that went away must be an EPIPE, not a SIGPIPE that kills us.
    std::signal(SIGPIPE, SIG_IGN);
    spare_outputs_.reserve(max_spare_outputs);  // give_back_spare_output() never allocates
    limits_.set_ticket_lookup([this](events::conn_id conn) -> const limits::admission_ticket* {
        const session_base* s = sessions_.find(conn);
        return s ? &s->ticket_ : nullptr;
    });
    settings_.max_packet_size = options_.max_packet_size;
    settings_.max_packet_size_before_connect = options_.max_connect_packet_size;
    settings_.connect_timeout = std::chrono::seconds(options_.connect_timeout_s);
    settings_.client_write_buffer = options_.client_write_buffer;
    settings_.client_write_timeout = std::chrono::seconds(options_.client_write_timeout_s);
    settings_.frontend_id = options_.frontend_id;
    settings_.topic_limits = {options_.max_topic_length, options_.max_topic_levels};
    settings_.gate = &limits_;
    // Room for at least two of the largest packets.
    settings_.max_write_backlog =
        std::max(settings_.max_write_backlog, 2 * options_.max_packet_size);
}

frontend_server::~frontend_server() = default;

void frontend_server::start() {
    for (const auto& url : options_.listeners)
        listeners_.push_back(std::make_unique<listener>(io_, url, *this));
    link_.start();
    for (auto& l : listeners_) l->start();
}

void frontend_server::reload() {
    try {
        auth_.replace(auth::from_options(options_));
        std::string what;
        if (!options_.password_file.empty()) what += " --password-file " + options_.password_file;
        if (!options_.rsa_key.empty()) what += " --rsa-key " + options_.rsa_key;
        spdlog::info("reload: credentials re-read:{}", what.empty() ? " (none)" : what);
    } catch (const std::exception& e) {
        spdlog::error("reload: {}; keeping the previous credentials", e.what());
    }
    if (!needs_tls(options_)) return;
    try {
        // Connections already up keep their own SSL (and, through it, the
        // old context); new ones get the new certificate, key and CAs.
        tls_ = std::make_unique<boost::asio::ssl::context>(make_tls_context(options_));
        spdlog::info("reload: TLS re-read: --tls-cert {} --tls-key {}{}", options_.tls_cert,
                     options_.tls_key,
                     options_.tls_ca.empty() ? "" : " --tls-ca " + options_.tls_ca);
    } catch (const std::exception& e) {
        spdlog::error("reload: {}; keeping the previous TLS certificate", e.what());
    }
}

void frontend_server::stop() {
    for (auto& l : listeners_) l->stop();
    close_all_sessions("server shutdown");
}

void frontend_server::forward(events::conn_id conn, events::event&& e) {
    if (auto* p = std::get_if<events::client_publish>(&e)) {
        ++publishes_in_[std::min<std::uint8_t>(p->qos, 2)];
        payload_bytes_in_[std::min<std::uint8_t>(p->qos, 2)] += p->payload.size();
        if (p->qos == 0 && link_.paused()) {
            shed_qos0();
            return;
        }
        p->received_us = util::wall_clock_us();
        ++publishes_forwarded_;
    }
    if (const auto* c = std::get_if<events::client_connect>(&e)) {
        if (auto owner = link_.owner_of(c->client_id)) {
            own(conn, static_cast<std::uint32_t>(*owner));
            link_.send(*owner, e);
        } else if (link_.owner_pending()) {
            parked_[conn].push_back(e);
        } else {
            // No router can take this client now: CONNACK 3 (server
            // unavailable) at once, rather than after the connect timeout.
            refuse_connect(conn);
        }
        return;
    }
    if (auto p = parked_.find(conn); p != parked_.end()) {
        if (std::holds_alternative<events::client_disconnect>(e))
            parked_.erase(p);  // no router ever heard of it
        else
            p->second.push_back(e);
        return;
    }
    const bool last = std::holds_alternative<events::client_disconnect>(e);
    std::uint32_t owner = session_base::no_router;
    bool may_wait = true;
    if (session_base* s = sessions_.find(conn)) {
        owner = s->router_;
        may_wait = !s->backlogged_;
        if (last) s->router_ = session_base::no_router;
    } else if (auto it = unregistered_owned_.find(conn); it != unregistered_owned_.end()) {
        owner = it->second;
        if (last) unregistered_owned_.erase(it);
    }
    // Never got past CONNECT: the router knows nothing.
    if (owner == session_base::no_router) return;
    link_.send(owner, e, may_wait);
}

void frontend_server::hand_over(session_base& s, std::string_view packet, std::size_t id_offset,
                                std::uint16_t packet_id, std::uint8_t qos,
                                std::uint64_t received_us, std::size_t payload_size) {
    // received_us is 0 on what did not come straight from routing: it waited
    // in the router, which may hold more behind it.
    if (qos > 0) s.backlogged_ = received_us == 0 ? 1 : 0;
    if (s.on_encoded_publish(packet, id_offset, packet_id, qos, received_us)) {
        ++deliveries_out_[qos];
        payload_bytes_out_[qos] += payload_size;
    }
}

void frontend_server::on_membership() {
    for (auto it = parked_.begin(); it != parked_.end();) {
        const auto conn = it->first;
        const auto& connect = std::get<events::client_connect>(it->second.front());
        if (auto owner = link_.owner_of(connect.client_id)) {
            own(conn, static_cast<std::uint32_t>(*owner));
            for (const auto& e : it->second) link_.send(*owner, e);
            it = parked_.erase(it);
        } else if (!link_.owner_pending()) {
            refuse_connect(conn);
            it = parked_.erase(it);
        } else {
            ++it;
        }
    }
}

void frontend_server::own(events::conn_id conn, std::uint32_t router) {
    if (session_base* s = sessions_.find(conn)) {
        s->router_ = router;
        s->incarnation_ = 0;
    } else {
        unregistered_owned_[conn] = router;  // (its session went while it waited)
    }
}

session_ptr frontend_server::session_of(events::conn_id conn) {
    return session_ptr(sessions_.find(conn));
}

std::vector<session_ptr> frontend_server::live_sessions() {
    std::vector<session_ptr> live;
    live.reserve(sessions_.size());
    for (auto& s : sessions_) live.emplace_back(&s);
    return live;
}

void frontend_server::refuse_connect(events::conn_id conn) {
    if (auto s = session_of(conn))
        boost::asio::post(io_, [s, conn] { s->on_router_event(events::connack{conn, false, 3}); });
}

void frontend_server::on_link_paused(bool paused) {
    for (auto& s : live_sessions()) {
        if (paused)
            s->pause_reading();
        else
            s->resume_reading();
    }
}

void frontend_server::shed_qos0() {
    ++qos0_shed_;
    ++shed_since_log_;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_shed_log_ < std::chrono::seconds(10)) return;
    spdlog::warn(
        "frontend: router queues full: shed {} QoS 0 PUBLISH since the last report ({} in all)",
        shed_since_log_, qos0_shed_);
    last_shed_log_ = now;
    shed_since_log_ = 0;
}

void frontend_server::close_sessions_of(std::size_t index, const std::string& why,
                                        std::uint64_t survivor) {
    std::vector<session_ptr> doomed;
    for (auto& s : sessions_) {
        if (s.router_ != index) continue;
        // After a restart, keep what the new incarnation accepted, and what
        // still waits for its connack (the new incarnation will answer it).
        if (survivor != 0 && (s.incarnation_ == survivor || s.incarnation_ == 0)) continue;
        doomed.emplace_back(&s);
    }
    if (!doomed.empty()) spdlog::info("closing {} client connections: {}", doomed.size(), why);
    for (auto& s : doomed) s->shutdown();
}

void frontend_server::close_all_sessions(const std::string& why) {
    if (!sessions_.empty())
        spdlog::info("closing {} client connections: {}", sessions_.size(), why);
    for (auto& s : live_sessions()) s->shutdown();
}

std::uint16_t frontend_server::listener_port(std::size_t i) const {
    return listeners_.at(i)->port();
}

void frontend_server::register_session(session_base& s, const limits::admission_ticket& ticket) {
    s.ticket_ = ticket;
    sessions_.insert(s);
    ++connections_total_;
    if (link_.paused()) s.pause_reading();  // before start(): no read is issued
}

void frontend_server::unregister_session(events::conn_id id, std::string_view refusal) {
    if (session_base* s = sessions_.find(id)) {
        limits_.release(s->ticket_);
        // Its client_disconnect has not gone yet: its router is kept for it.
        if (s->router_ != session_base::no_router) unregistered_owned_[id] = s->router_;
        sessions_.erase(*s);
    }
    if (refusal.empty()) return;
    if (auto it = refused_.find(refusal); it != refused_.end())
        ++it->second;
    else
        refused_.emplace(std::string(refusal), 1);
}

void frontend_server::on_deliver_many(events::deliver_many&& d) {
    // One PUBLISH per QoS for all receivers here; the packet id is patched
    // in per receiver (connection::on_encoded_publish).
    std::string encoded[3];
    std::size_t id_offset[3] = {0, 0, 0};
    for (const auto& t : d.targets) {
        const auto qos = std::min<std::uint8_t>(t.qos, 2);
        auto s = session_of(t.conn);
        if (!s) {
            ++deliveries_no_client_;
            continue;
        }
        if (encoded[qos].empty()) {
            // A placeholder packet id, patched per receiver.
            mqtt::encode_publish({qos, false, d.retain}, d.topic, qos > 0 ? 1 : 0, d.payload,
                                 encoded[qos]);
            id_offset[qos] = qos > 0 ? encoded[qos].size() - d.payload.size() - 2
                                     : encoded[qos].size();  // nothing to patch
        }
        hand_over(*s, encoded[qos], id_offset[qos], t.packet_id, qos, d.received_us,
                  d.payload.size());
    }
}

void frontend_server::on_router_event(events::event&& e) {
    if (auto* many = std::get_if<events::deliver_many>(&e)) {
        on_deliver_many(std::move(*many));
        return;
    }
    const auto id = events::conn_of(e);
    const session_ptr s = session_of(id);
    if (!s) {
        // The client is gone; the router hears of it (and keeps QoS 1/2 of a
        // persistent session for its return).
        if (std::holds_alternative<events::deliver>(e)) ++deliveries_no_client_;
        return;
    }
    if (const auto* c = std::get_if<events::connack>(&e);
        c && s->router_ != session_base::no_router)
        s->incarnation_ = c->router_incarnation;
    if (auto* d = std::get_if<events::deliver>(&e)) {
        // Encoded here like a deliver_many's, so that both take one path
        // (and a slow client's dropped QoS 0 is not counted as out), into a
        // buffer kept from call to call. The event's strings stay where they
        // are: router_link decodes the next batch into them.
        const auto qos = std::min<std::uint8_t>(d->qos, 2);
        auto& packet = encode_buffer_;
        packet.clear();
        // The packet id is only on the wire for QoS > 0 (MQTT-2.3.1-5).
        mqtt::encode_publish({qos, d->dup, d->retain}, d->topic, qos > 0 ? d->packet_id : 0,
                             d->payload, packet);
        const auto nothing_to_patch = packet.size();
        hand_over(*s, packet, nothing_to_patch, 0, qos, d->received_us, d->payload.size());
        connection::let_burst_go(packet);
        return;
    }
    s->on_router_event(e);
}

stats::snapshot frontend_server::stats_snapshot() const {
    stats::snapshot s;
    s.kind = stats::process_kind::frontend;
    s.counter("connections.total", connections_total_);
    // Every reason, zeros included, so that readers see the full set.
    for (const std::string_view reason :
         {"protocol_version", "identifier_rejected", "bad_credentials", "not_authorized",
          "unavailable", "connack_timeout", "connect_timeout", "protocol_error"}) {
        const auto it = refused_.find(reason);
        s.counter("connections.refused." + std::string(reason),
                  it == refused_.end() ? 0 : it->second);
    }
    s.counter("connections.refused.handshake", refused_handshake_);
    const auto& lim = limits_.counters();
    s.counter("connections.refused.max_connections", lim.refused_max_connections);
    s.counter("connections.refused.max_per_address", lim.refused_per_address);
    s.counter("connections.rate_delayed", lim.rate_delayed);
    s.counter("connections.auth_delayed", lim.auth_delayed);
    s.counter("connections.closed.topic_limit", lim.closed_topic_limit);
    s.counter("subscriptions.refused.topic_limit", lim.filters_refused);
    s.counter("messages.in", publishes_in_[0] + publishes_in_[1] + publishes_in_[2]);
    s.counter("messages.in.qos0", publishes_in_[0]);
    s.counter("messages.in.qos1", publishes_in_[1]);
    s.counter("messages.in.qos2", publishes_in_[2]);
    s.counter("bytes.in", payload_bytes_in_[0] + payload_bytes_in_[1] + payload_bytes_in_[2]);
    for (int q = 0; q < 3; ++q) s.counter("bytes.in.qos" + std::to_string(q), payload_bytes_in_[q]);
    s.counter("messages.out", deliveries_out_[0] + deliveries_out_[1] + deliveries_out_[2]);
    s.counter("messages.out.qos0", deliveries_out_[0]);
    s.counter("messages.out.qos1", deliveries_out_[1]);
    s.counter("messages.out.qos2", deliveries_out_[2]);
    s.counter("bytes.out", payload_bytes_out_[0] + payload_bytes_out_[1] + payload_bytes_out_[2]);
    for (int q = 0; q < 3; ++q)
        s.counter("bytes.out.qos" + std::to_string(q), payload_bytes_out_[q]);
    s.counter("messages.forwarded", publishes_forwarded_);
    s.counter("messages.dropped.qos0_shed", qos0_shed_);
    s.counter("messages.dropped.no_client", deliveries_no_client_);
    s.counter("messages.dropped.slow_client", slow_client_drops_);
    s.counter("connections.closed.slow_client", slow_client_closes_);
    s.gauge("connections.current", sessions_.size());
    s.gauge("connections.parked", parked_.size());
    s.gauge("queues.paused", link_.paused() ? 1 : 0);
    std::size_t backlog = 0;
    for (std::size_t i = 0; i < link_.router_count(); ++i) backlog += link_.backlog(i);
    s.gauge("queues.backlog", backlog);
    s.add_histogram("latency.delivery_us", delivery_latency_);
    return s;
}

}  // namespace frontend
