// The Asio glue around one client connection: reads bytes into the sans-I/O
// `connection`, writes what it produces, forwards its events to the router
// link, schedules its next deadline (the server's deadline_queue), and
// closes the transport when it says so.
//
// One template for every transport: Transport is an adapter from
// transport.hpp (TCP, TLS) or ws_transport.hpp (WebSocket over TCP or TLS)
// giving the handshake, reads, writes and graceful close; the session itself
// knows nothing of the transport. The connect deadline runs from the start,
// so it bounds the TLS handshake and WebSocket upgrade too.
// One write in flight at a time; further output accumulates in a second
// buffer and goes out in the next write (many packets per syscall). Both
// buffers exist only while there is output: an idle connection keeps none.
// Reading pauses while the router link is full (pause_reading): no new read
// is issued, bytes of a read that was already pending are kept unprocessed
// until resume (held_bytes_, one read at most), and a deadline that passes
// meanwhile is checked after resume once the client's waiting bytes had a
// moment to be read.
//
// Lives on the frontend's io_context thread; kept alive by its pending
// handlers (session_ptr, session_base.hpp), or by frontend_server::hold()
// while a paused read waits (it may have no handler pending then; rare, so
// not a pointer in every session), and registered in frontend_server by conn
// id.
#pragma once

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/util/wall_clock.hpp"
#include "frontend/connection.hpp"
#include "frontend/frontend_server.hpp"
#include "frontend/net/peer_address.hpp"
#include "frontend/net/peer_identity.hpp"
#include "frontend/net/session_base.hpp"
#include "frontend/net/ws_handshake.hpp"

namespace frontend {

template <class Transport>
class session final : public session_base {
  public:
    // `transport_args` construct the Transport.
    template <class... TransportArgs>
    session(frontend_server& server, events::conn_id id, TransportArgs&&... transport_args)
        : server_(server),
          transport_(std::forward<TransportArgs>(transport_args)...),
          conn_(id, server.connection_env(), clock::now()) {}

    ~session() override {
        // Normally unregistered when it closed; the server's index must
        // never keep a link to a destroyed session.
        if (registered()) server_.forget_session(*this);
    }

    events::conn_id conn_id() const override { return conn_.id(); }

    void start() override {
        arm_timer();
        transport_.async_handshake([self = shared_self()](const boost::system::error_code& ec) {
            if (self->closed_) return;
            if (ec) {
                spdlog::debug("conn {} ({}): {} handshake failed: {}", self->conn_.id(),
                              self->peer(), Transport::name, ec.message());
                // A console page served over HTTP is no refused client.
                if (ec != ws::make_error_code(ws::refusal::http_answered))
                    self->server_.count_handshake_failure();
                self->fail();
                return;
            }
            self->take_peer_identity();
            self->read();
        });
    }

    // (Deliveries come through on_encoded_publish.)
    void on_router_event(const events::event& e) override {
        if (closed_) return;
        conn_.on_router_event(e, clock::now());
        apply();
    }

    bool on_encoded_publish(std::string_view packet, std::size_t id_offset, std::uint16_t packet_id,
                            std::uint8_t qos, std::uint64_t received_us) override {
        if (closed_) return false;
        // RETAIN (bit 0 of the fixed header) is set only on what a new
        // subscription gets from the retained set (MQTT-3.3.1-8, -9): the
        // subscriber's view of that state, not a live stream it may miss.
        const bool retained = !packet.empty() && (packet[0] & 0x01) != 0;
        if (qos == 0 && !retained && too_slow()) return false;
        if (!conn_.on_encoded_publish(packet, id_offset, packet_id)) return false;
        apply(received_us);
        return true;
    }

    void shutdown() override {
        if (closed_) return;
        conn_.on_shutdown();
        apply();
    }

    void pause_reading() override { paused_ = true; }

    void resume_reading() override {
        if (!paused_) return;
        paused_ = false;
        auto keep = server_.release_hold(this);  // the read issued below holds it from now on
        if (closed_ || closing_) return;
        if (held_bytes_) {
            const auto held = std::move(held_bytes_);
            conn_.on_bytes(*held, clock::now());
            apply();
            if (closed_ || closing_) return;
            if (paused_) {  // paused again: the read stays deferred
                if (keep) server_.hold(std::move(keep));
                return;
            }
        }
        if (read_deferred_) {
            read_deferred_ = false;
            read();
        }
        if (timer_deferred_) {
            // What the client sent meanwhile (PINGREQ, ...) is read first.
            timer_deferred_ = false;
            not_before_ = clock::now() + resume_grace;
            arm_timer();
        }
    }

  private:
    // Slow consumer: past --client-write-buffer unwritten bytes, live QoS 0
    // deliveries to this client are dropped (counted); QoS 1/2 still queue
    // (the router's in-flight window bounds them), and so do retained
    // messages answering a SUBSCRIBE (bounded by settings().max_write_backlog,
    // past which the client is closed).
    bool too_slow() {
        const auto unwritten = out_ ? out_->unwritten() : 0;
        if (unwritten <= server_.settings().client_write_buffer) return false;
        server_.count_slow_client_drop();
        return true;
    }

    boost::intrusive_ptr<session> shared_self() { return boost::intrusive_ptr<session>(this); }

    // --use-identity-as-username: on tls and wss the verified client
    // certificate's CN is the client's identity; plain listeners keep
    // passwords.
    void take_peer_identity() {
        if (!server_.use_identity_as_username()) return;
        SSL* ssl = transport_.native_tls();
        if (!ssl) return;
        auto cn = peer_common_name(ssl);
        spdlog::debug("conn {} ({}): client certificate CN {}", conn_.id(), peer(),
                      cn ? "'" + *cn + "'" : std::string("missing"));
        conn_.set_peer_identity(std::move(cn));
    }

    void read() {
        if (paused_) {
            read_deferred_ = true;        // resume_reading() issues it
            server_.hold(shared_self());  // no handler may be pending: stay alive meanwhile
            return;
        }
        // `bytes` lives only during the handler (read_buffer.hpp); the
        // connection copies what it keeps.
        transport_.async_read_view(
            [self = shared_self()](const boost::system::error_code& ec, std::string_view bytes) {
                if (self->closed_) return;
                if (ec) {
                    self->lost();
                    return;
                }
                if (self->paused_) {
                    // Read before the pause took effect: processed on resume,
                    // so the pause holds back everything read from now on.
                    self->held_bytes_ = std::make_unique<std::string>(bytes);
                    self->read();  // deferred
                    return;
                }
                self->conn_.on_bytes(bytes, clock::now());
                self->apply();
                if (!self->closing_) self->read();
            });
    }

    // Carries out what the connection asked for. `received_us`: when the
    // bytes are a first delivery, when its PUBLISH was read (see events.hpp);
    // its latency is recorded once the write that carries it completes.
    void apply(std::uint64_t received_us = 0) {
        // All of the connection's output is taken out first (its buffers are
        // shared by this thread's connections), so a nested call (lost()
        // below lets the connection write again) sees only its own. It is
        // swapped with a spare of the server's, which goes back afterwards
        // with its buffers' capacity.
        struct spare {
            frontend_server& server;
            std::unique_ptr<connection::output> out = server.take_spare_output();
            ~spare() { server.give_back_spare_output(std::move(out)); }
        } taken{server_};
        auto& out = *taken.out;
        conn_.take_output(out);
        for (auto& e : out.events) server_.forward(conn_.id(), std::move(e));
        auto& bytes = out.bytes;
        if (!bytes.empty()) {
            const auto backlog = out_ ? out_->pending_size() : 0;
            if (backlog + bytes.size() > server_.settings().max_write_backlog) {
                // A client that does not read must not grow our memory without
                // bound: drop it (its will fires; a persistent session keeps
                // its unacknowledged QoS 1/2 messages in the router).
                spdlog::info("conn {} ({}): more than {} bytes unread, closing", conn_.id(), peer(),
                             server_.settings().max_write_backlog);
                server_.count_slow_client_close();
                lost();
                return;
            }
            if (!out_) out_ = take_pooled_output();
            if (out_->pending_size() == 0 && bytes.size() > 4096) {
                out_->pending.clear();
                out_->pending_from = 0;
                out_->pending.swap(bytes);  // a burst: moved, not copied
            } else {
                out_->pending += bytes;
            }
            if (received_us != 0) out_->pending_received.push_back(received_us);
            write();
        }
        if (out.close && !closing_) {
            closing_ = true;
            server_.unregister_session(conn_.id(), conn_.refusal());
            spdlog::debug("conn {} ({}) closing: {}", conn_.id(), peer(), out.close_reason);
            if (!writing_) finish();
        }
        arm_timer();
    }

    void write() {
        if (writing_ || closed_ || !out_ || out_->pending_size() == 0) return;
        writing_ = true;
        auto& o = *out_;
        o.write_started = clock::now();
        if (o.pending_from == 0 && o.pending.size() <= max_write_chunk) {
            o.in_flight.swap(o.pending);
            o.pending.clear();
        } else {
            // A client far behind: one bounded chunk at a time, so that the
            // write timeout measures its progress, not our backlog. What was
            // taken is dropped from the front once it is half the buffer
            // (amortised: no copy of the whole backlog per chunk).
            const auto n = std::min(max_write_chunk, o.pending_size());
            o.in_flight.assign(o.pending, o.pending_from, n);
            o.pending_from += n;
            if (o.pending_from == o.pending.size()) {
                o.pending.clear();
                o.pending_from = 0;
            } else if (o.pending_from >= o.pending.size() / 2) {
                o.pending.erase(0, o.pending_from);
                o.pending_from = 0;
            }
        }
        o.in_flight_received.swap(o.pending_received);
        o.pending_received.clear();
        arm_timer();
        transport_.async_write(
            boost::asio::buffer(o.in_flight),
            [self = shared_self()](const boost::system::error_code& ec, std::size_t) {
                self->writing_ = false;
                auto& o = *self->out_;  // freed only here, never while a write is in flight
                o.in_flight.clear();
                if (!ec) self->record_latencies();
                // Keep small buffers for reuse; give a burst's memory back.
                connection::let_burst_go(o.in_flight);
                if (self->closed_) return;
                if (ec) {
                    self->lost();
                    return;
                }
                if (o.pending_size() != 0) {
                    self->write();
                    return;
                }
                // All written: an idle connection keeps no buffer.
                recycle_output(std::move(self->out_));
                if (self->closing_) self->finish();
            });
    }

    // The deliveries of the write that just completed reached the socket.
    void record_latencies() {
        auto& received = out_->in_flight_received;
        if (received.empty()) return;
        const auto now_us = util::wall_clock_us();
        // Wall clocks of two hosts may disagree: a "negative" latency counts as 0.
        for (const auto t : received) server_.record_delivery_latency(now_us > t ? now_us - t : 0);
        received.clear();
    }

    void arm_timer() {
        if (closed_) return;
        auto due = conn_.deadline();
        if (closing_) {
            due = clock::now() + std::chrono::seconds(5);  // bound the flush
        } else {
            if (timer_deferred_) return;  // paused past a deadline: re-armed on resume
            if (due && *due < not_before_) due = not_before_;
            if (writing_) {  // a client that takes no bytes for this long is dropped
                const auto stuck = out_->write_started + server_.settings().client_write_timeout;
                if (!due || stuck < *due) due = stuck;
            }
        }
        // A later deadline than the one scheduled waits: when that one comes,
        // on_deadline() asks again.
        if (!due || (scheduled() && *due >= deadline())) return;
        server_.deadlines().schedule(*this, *due);
    }

    // From the server's deadline_queue. The session is alive (its pending I/O
    // holds it) but may close here: keep it until the end of the call.
    void on_deadline() override {
        const auto self = shared_self();
        if (closed_) return;
        if (closing_) {
            fail();  // the peer does not read: give up the flush
            return;
        }
        if (writing_ &&
            clock::now() - out_->write_started >= server_.settings().client_write_timeout) {
            spdlog::info("conn {} ({}): no bytes taken for {} s, closing", conn_.id(), peer(),
                         std::chrono::duration_cast<std::chrono::seconds>(
                             server_.settings().client_write_timeout)
                             .count());
            server_.count_slow_client_close();
            lost();
            return;
        }
        if (paused_) {
            // Its packets wait unread in the socket: no keep-alive verdict now.
            timer_deferred_ = true;
            return;
        }
        conn_.on_timer(clock::now());
        apply();
    }

    // Graceful end after the last write: TLS close_notify or WebSocket close
    // frame (bounded by the timer), then the socket.
    void finish() {
        if (!shutdown_started_) {
            shutdown_started_ = true;
            transport_.async_shutdown(
                [self = shared_self()](const boost::system::error_code&) { self->fail(); });
            return;
        }
        fail();
    }

    // The transport failed or the peer closed it: tell the connection (which
    // tells the router), then close.
    void lost() {
        conn_.on_transport_closed();
        apply();
        fail();
    }

    // Hard close; idempotent.
    void fail() {
        server_.release_hold(this);  // callers hold a reference of their own
        if (closed_) return;
        if (!closing_) {
            closing_ = true;
            server_.unregister_session(conn_.id(), conn_.refusal());
        }
        closed_ = true;
        boost::system::error_code ignored;
        server_.deadlines().cancel(*this);
        transport_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        transport_.socket().close(ignored);
    }

    // The client's address, for log lines (read from the socket when written).
    peer_address peer() { return {&transport_.socket()}; }

    frontend_server& server_;
    Transport transport_;
    connection conn_;
    // Output not written yet; allocated while there is some (so always
    // while writing_: the write in flight is its in_flight).
    struct output {
        std::string pending;           // after the write in flight
        std::size_t pending_from = 0;  // bytes at the front of `pending` already taken
        std::string in_flight;
        std::vector<std::uint64_t> pending_received;    // received_us of deliveries in pending
        std::vector<std::uint64_t> in_flight_received;  // ... and in in_flight
        clock::time_point write_started{};              // of the write in flight (while writing_)
        std::size_t pending_size() const { return pending.size() - pending_from; }
        std::size_t unwritten() const { return pending_size() + in_flight.size(); }
    };
    std::unique_ptr<output> out_;
    // Emptied outputs of this thread's sessions, kept for the next one that
    // writes (most writes are one small packet: taking a warm output saves
    // allocating it and its buffers every time). Bounded in count and size.
    static std::vector<std::unique_ptr<output>>& output_pool() {
        thread_local std::vector<std::unique_ptr<output>> pool;
        return pool;
    }
    static std::unique_ptr<output> take_pooled_output() {
        auto& pool = output_pool();
        if (pool.empty()) return std::make_unique<output>();
        auto o = std::move(pool.back());
        pool.pop_back();
        return o;
    }
    static void recycle_output(std::unique_ptr<output> o) {
        auto& pool = output_pool();
        if (pool.size() >= 64 || o->pending.capacity() > 16 * 1024 ||
            o->in_flight.capacity() > 16 * 1024 || o->pending_received.capacity() > 256 ||
            o->in_flight_received.capacity() > 256)
            return;  // freed
        o->pending.clear();
        o->pending_from = 0;
        o->in_flight.clear();
        o->pending_received.clear();
        o->in_flight_received.clear();
        pool.push_back(std::move(o));
    }
    static constexpr std::chrono::seconds resume_grace{1};
    static constexpr std::size_t max_write_chunk = 256 * 1024;

    clock::time_point not_before_{};  // no deadline check before (after a pause)
    bool writing_ = false;
    bool closing_ = false;
    bool closed_ = false;
    bool shutdown_started_ = false;
    bool paused_ = false;                      // back-pressure: no read is issued
    bool read_deferred_ = false;               // a read was due while paused
    bool timer_deferred_ = false;              // a deadline passed while paused
    std::unique_ptr<std::string> held_bytes_;  // read while paused, processed on resume
};

}  // namespace frontend
