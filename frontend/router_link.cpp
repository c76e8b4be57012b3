#include "frontend/router_link.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstdio>

#include "common/cluster/rendezvous.hpp"
#include "common/util/incarnation.hpp"
#include "common/util/zmq_retry.hpp"

namespace frontend {

router_link::router_link(boost::asio::io_context& io, zmq::context_t& zctx, std::string frontend_id,
                         std::vector<std::string> routers, link_settings settings, handlers h)
    : io_(io),
      frontend_id_(std::move(frontend_id)),
      specs_(std::move(routers)),
      settings_(settings),
      handlers_(std::move(h)),
      zctx_(zctx),
      heartbeat_timer_(io),
      ack_timer_(io),
      incarnation_(util::new_incarnation()) {
    if (specs_.empty()) throw std::runtime_error("no router endpoint configured");
}

router_link::~router_link() {
    watcher_.reset();  // joins its thread: nothing is posted after this
    // The descriptors belong to libzmq: never close them from Asio.
    for (auto& r : routers_)
        if (r->fd.is_open()) r->fd.release();
}

std::string router_link::routing_id() const {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(incarnation_));
    return frontend_id_ + "/" + hex;
}

std::size_t router_link::index_of(const router& r) const {
    for (std::size_t i = 0; i < routers_.size(); ++i)
        if (routers_[i].get() == &r) return i;
    return none;
}

// ---- membership -------------------------------------------------------------

void router_link::start() {
    if (started_) return;
    started_ = true;
    if (std::all_of(specs_.begin(), specs_.end(),
                    [](const std::string& s) { return cluster::is_literal_endpoint(s); })) {
        // Nothing to look up, nothing that can change: no watcher thread.
        std::string ignored;
        set_endpoints(cluster::resolve_endpoints(specs_, ignored));
    } else {
        std::weak_ptr<int> token = alive_token_;
        watcher_ = std::make_unique<cluster::endpoint_watcher>(
            specs_, settings_.discovery_interval,
            [this, token](const std::vector<std::string>& endpoints) {
                // On the watcher's thread: hand the list to the io_context.
                boost::asio::post(io_, [this, token, endpoints] {
                    if (!token.expired() && !stopped_) set_endpoints(endpoints);
                });
            });
        watcher_->start();
    }
    heartbeat_timer_.expires_after(settings_.heartbeat_interval);
    heartbeat_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) heartbeat();
    });
}

void router_link::set_endpoints(const std::vector<std::string>& endpoints) {
    if (stopped_) return;
    resolved_ = true;
    for (const auto& endpoint : endpoints) {
        auto it = std::find_if(routers_.begin(), routers_.end(),
                               [&](const auto& r) { return r->endpoint == endpoint; });
        if (it == routers_.end()) {
            routers_.push_back(std::make_unique<router>(io_, zctx_, endpoint));
            spdlog::info("frontend: router endpoint {} added", endpoint);
            open_socket(*routers_.back());
            continue;
        }
        auto& r = **it;
        if (!r.retired) continue;
        r.retired = false;
        spdlog::info("frontend: router endpoint {} is back", endpoint);
        if (!r.open && r.duplicate_of == none) {
            r.lost = false;
            open_socket(r);
        }
    }
    for (auto& slot : routers_) {
        auto& r = *slot;
        if (r.retired ||
            std::find(endpoints.begin(), endpoints.end(), r.endpoint) != endpoints.end())
            continue;
        r.retired = true;
        if (r.alive) {
            // Its sessions stay until the router closes them or is deemed dead.
            spdlog::info(
                "frontend: router endpoint {} is gone from discovery: no new clients on it",
                r.endpoint);
        } else {
            spdlog::info("frontend: router endpoint {} is gone from discovery", r.endpoint);
            close_socket(r);
        }
    }
    update_pause();
    notify_membership();
}

std::optional<std::size_t> router_link::owner_of(std::string_view client_id) const {
    std::vector<std::string_view> ids;
    std::vector<std::size_t> slots;
    for (std::size_t i = 0; i < routers_.size(); ++i) {
        const auto& r = *routers_[i];
        if (!r.open || !r.alive || r.leaving || r.retired || r.duplicate_of != none ||
            r.router_id.empty())
            continue;
        // Two slots that reach one router count once (the first one).
        if (std::find(ids.begin(), ids.end(), r.router_id) != ids.end()) continue;
        ids.push_back(r.router_id);
        slots.push_back(i);
    }
    const auto* best = cluster::rendezvous_owner(client_id, ids);
    if (best == nullptr) return std::nullopt;
    return slots[static_cast<std::size_t>(best - ids.data())];
}

bool router_link::owner_pending() const {
    if (!resolved_) return true;
    return std::any_of(routers_.begin(), routers_.end(), [](const auto& r) {
        return r->open && !r->alive && !r->lost && !r->retired && r->duplicate_of == none &&
               !r->version_mismatch;
    });
}

void router_link::notify_membership() {
    if (membership_scheduled_ || stopped_ || !handlers_.on_membership) return;
    membership_scheduled_ = true;
    std::weak_ptr<int> token = alive_token_;
    boost::asio::post(io_, [this, token] {
        if (token.expired()) return;
        membership_scheduled_ = false;
        if (!stopped_) handlers_.on_membership();
    });
}

// ---- sockets ----------------------------------------------------------------

void router_link::open_socket(router& r) {
    if (r.open) {
        boost::system::error_code ec;
        r.fd.cancel(ec);  // the pending wait completes with operation_aborted
        r.fd.release();   // the descriptor belongs to libzmq
    }
    r.open = false;
    r.alive = false;
    r.leaving = false;  // a fresh socket learns everything anew
    clear_queues(r);
    r.last_seen = clock::now();
    ++r.generation;
    r.socket = zmq::socket_t(zctx_, zmq::socket_type::dealer);
    // A fresh routing id per socket: the router sees a new peer, never the
    // lingering pipe of the previous socket, and two slots that reach one
    // router never present the same id (a ROUTER refuses the second).
    r.socket.set(zmq::sockopt::routing_id, routing_id() + "/" + std::to_string(++sockets_opened_));
    // ZMTP heartbeats close a dead TCP pipe instead of waiting for TCP timeouts.
    r.socket.set(zmq::sockopt::heartbeat_ivl,
                 static_cast<int>(settings_.heartbeat_interval.count()));
    r.socket.set(zmq::sockopt::heartbeat_timeout, static_cast<int>(settings_.peer_timeout.count()));
    // Back-pressure: past the limit, send() keeps events in the slot's FIFO.
    r.socket.set(zmq::sockopt::sndhwm, events::hwm_for(settings_.queue_limit));
    r.socket.set(zmq::sockopt::rcvhwm, 0);
    r.socket.set(zmq::sockopt::linger, 2000);
    // Discovery may yield tcp://[v6]:port, which libzmq refuses without ZMQ_IPV6.
    r.socket.set(zmq::sockopt::ipv6, 1);
    try {
        r.socket.connect(r.endpoint);
    } catch (const zmq::error_t& e) {
        spdlog::error("frontend: cannot connect to router endpoint {}: {}", r.endpoint, e.what());
        r.socket.close();
        return;
    }
    r.open = true;
    if (!settings_.router_on_this_thread) {
        r.fd.assign(r.socket.get(zmq::sockopt::fd));
        wait_readable(r);
    }
    send_hello(r);
}

void router_link::close_socket(router& r) {
    if (r.open) {
        boost::system::error_code ec;
        r.fd.cancel(ec);
        r.fd.release();
        r.socket.close();
    }
    r.open = false;
    r.alive = false;
    clear_queues(r);
    release_duplicates_of(r);
    update_pause();
}

void router_link::release_duplicates_of(const router& r) {
    const auto index = index_of(r);
    for (auto& slot : routers_) {
        auto& d = *slot;
        if (d.duplicate_of != index) continue;
        d.duplicate_of = none;
        d.lost = false;
        if (d.retired) continue;
        spdlog::info("frontend: using router endpoint {} again", d.endpoint);
        open_socket(d);
    }
}

void router_link::stop() {
    stopped_ = true;
    boost::system::error_code ec;
    for (auto& r : routers_)
        if (r->open) r->fd.cancel(ec);
    heartbeat_timer_.cancel();
    ack_timer_.cancel();
}

// ---- heartbeat and liveness ---------------------------------------------------

void router_link::heartbeat() {
    if (stopped_) return;
    const auto now = clock::now();
    for (std::size_t i = 0; i < routers_.size(); ++i) {
        auto& r = *routers_[i];
        if (!r.open) continue;
        // Silent for the timeout: once alive, or never heard from since opened.
        if (!r.lost && now - r.last_seen > settings_.peer_timeout) {
            spdlog::warn(
                "frontend: router {} silent for {} ms: deemed dead", r.endpoint,
                std::chrono::duration_cast<std::chrono::milliseconds>(now - r.last_seen).count());
            mark_lost(r, "router silent");  // reopens the socket, which says hello
            continue;
        }
        send_hello(r);
    }
    heartbeat_timer_.expires_after(settings_.heartbeat_interval);
    heartbeat_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) heartbeat();
    });
}

void router_link::send_hello(router& r) {
    // Never behind a FIFO (one hello at a time is enough), and never queued
    // for a router that is not alive: its ZeroMQ queue holds hellos already.
    if (!r.open || !r.backlog.empty()) return;
    const auto bytes =
        events::encode(events::hello{frontend_id_, events::protocol_version, incarnation_});
    const bool sent = util::retry_eintr([&] {
                          return r.socket.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
                      }).has_value();
    if (sent) ++messages_sent_;
    if (!sent && r.alive) {
        r.backlog.emplace_back(bytes, 1);
        ++r.backlog_events;
        update_pause();
    }
    after_send(r);
}

void router_link::mark_lost(router& r, const std::string& why) {
    const auto index = index_of(r);
    r.alive = false;
    r.lost = true;
    r.leaving = false;
    if (handlers_.on_lost) handlers_.on_lost(index, why, 0);
    // Drop what is queued for it (those clients are gone): its next
    // incarnation must not receive stale CONNECTs or PUBLISHes.
    if (r.retired)
        close_socket(r);
    else
        open_socket(r);
    release_duplicates_of(r);
    update_pause();
    notify_membership();
}

void router_link::on_router_hello(router& r, const events::router_hello& h) {
    r.last_seen = clock::now();
    const auto index = index_of(r);
    const bool restarted = r.incarnation != 0 && r.incarnation != h.incarnation;
    const bool changed = r.router_id != h.router_id || r.incarnation != h.incarnation;
    const bool was_alive = r.alive;
    r.router_id = h.router_id;
    r.incarnation = h.incarnation;
    if (!r.alive) spdlog::info("frontend: router '{}' at {} is up", h.router_id, r.endpoint);
    r.alive = true;
    r.lost = false;
    if (restarted) {
        r.leaving = false;
        spdlog::warn("frontend: router '{}' restarted: closing the connections it owned",
                     h.router_id);
        if (handlers_.on_lost) handlers_.on_lost(index, "router restarted", h.incarnation);
    }
    if (changed || !was_alive) {
        for (std::size_t i = 0; i < routers_.size(); ++i) {
            auto& other = *routers_[i];
            if (i == index || !other.open || !other.alive || other.duplicate_of != none ||
                other.router_id != h.router_id || other.incarnation != h.incarnation)
                continue;
            // Two sockets to one router must not both live: the router takes
            // the second one's hello for a replacement of the first (same
            // frontend id) and ends the first one's connections, and so on at
            // every heartbeat. Keep one; close the clients of the first path
            // (the router has ended them already) so they reconnect. A retired
            // slot yields to a current one, else the newcomer yields.
            auto& keep = other.retired ? r : other;
            auto& drop = other.retired ? other : r;
            const auto keep_index = other.retired ? index : i;
            spdlog::info("frontend: {} and {} reach the same router '{}': using only {}",
                         r.endpoint, other.endpoint, h.router_id, keep.endpoint);
            if (handlers_.on_lost) handlers_.on_lost(i, "second path to the same router", 0);
            close_socket(drop);
            drop.duplicate_of = keep_index;
            break;
        }
    }
    if (!was_alive || changed) notify_membership();
}

void router_link::on_router_leaving(router& r, const events::router_leaving& l) {
    r.last_seen = clock::now();
    if (r.incarnation != 0 && l.incarnation != r.incarnation) return;  // an older process
    if (r.incarnation == 0) {
        r.router_id = l.router_id;
        r.incarnation = l.incarnation;
    }
    if (!r.leaving)
        spdlog::info("frontend: router '{}' at {} is leaving: no new clients on it", l.router_id,
                     r.endpoint);
    r.leaving = true;
    notify_membership();
}

// ---- sending and back-pressure ----------------------------------------------------

namespace {

// A client's PUBACK or PUBCOMP ends an exchange: unless the session has a
// queue in the router, nothing waits for it, so it may wait for company (see
// link_settings::ack_delay).
bool deferrable(const events::event& e) {
    const auto* a = std::get_if<events::client_ack>(&e);
    return a != nullptr &&
           (a->kind == events::ack_kind::puback || a->kind == events::ack_kind::pubcomp);
}

}  // namespace

void router_link::send(std::size_t index, const events::event& e, bool may_wait) {
    if (stopped_) return;
    auto& r = *routers_.at(index);
    if (!r.open) return;  // retired or duplicate: its clients are being closed
    events::encode_to(e, r.batch);
    ++r.batch_events;
    if (!may_wait || !deferrable(e)) ++r.batch_urgent;
    if (r.batch_events >= events::batch_max_events || r.batch.size() >= events::batch_max_bytes) {
        // A pass's full batch, with its flush pending (not one large event
        // alone, which no posted flush would clear the mark of).
        if (r.flush_scheduled) r.filled = true;
        flush_batch(r);
        return;
    }
    if (r.flush_scheduled) return;
    // Every QoS 1 message costs its subscriber's PUBACK a hop of its own when
    // it travels alone (a wake-up of the router's socket and a turn): it
    // waits a little for the next PUBLISH instead.
    if (r.batch_urgent == 0 && r.batch_events < ack_batch_events && acks_may_wait()) {
        defer_flush();
        return;
    }
    schedule_flush(r);
}

bool router_link::acks_may_wait() const {
    // With the router on this thread a hop costs no system call, only the
    // router's turn, while a wait costs a timer (two timerfd_settime calls
    // and a wake-up): acks wait only when traffic makes company likely.
    // That is, unless the link was quiet for 10 ack_delays, when the last
    // batch held several events (under load) or the two batches before
    // this one went less than ack_delay apart. (Not the time since the last
    // batch: that is usually the PUBLISH this ack answers, a round trip
    // ago.) Acks that never wait cost saturated QoS 1 some 8 %.
    if (!settings_.router_on_this_thread) return true;
    if (std::chrono::steady_clock::now() - last_flush_ >= 10 * settings_.ack_delay)
        return false;  // quiet
    return last_batch_events_ > 1 || last_flush_ - flush_before_last_ < settings_.ack_delay;
}

void router_link::defer_flush() {
    // Left armed when an urgent event takes the acks along first: it then
    // finds nothing to flush (cheaper than cancelling and re-arming).
    if (ack_timer_armed_) return;
    ack_timer_armed_ = true;
    ack_timer_.expires_after(settings_.ack_delay);
    ack_timer_.async_wait(
        [this, token = std::weak_ptr<int>(alive_token_)](const boost::system::error_code& ec) {
            if (ec || token.expired()) return;
            ack_timer_armed_ = false;
            if (stopped_) return;
            for (auto& slot : routers_) {
                auto& r = *slot;
                if (r.open && r.batch_events > 0 && !r.flush_scheduled) schedule_flush(r);
            }
        });
}

void router_link::schedule_flush(router& r) {
    r.flush_scheduled = true;
    std::weak_ptr<int> token = alive_token_;
    const auto generation = r.generation;
    boost::asio::post(io_, [this, &r, token, generation] {
        if (token.expired()) return;
        r.flush_scheduled = false;
        if (stopped_ || !r.open) return;
        if (generation != r.generation) {
            // Posted for the slot's previous socket; what the new one has
            // batched since waited for this flush (send() saw it scheduled).
            if (r.batch_events > 0) schedule_flush(r);
            return;
        }
        // Only when no batch of this pass filled up: a pass that filled one
        // is a loaded reactor's, and its router turn waits for the next pass
        // (io_driver::wake), so that each client's deliveries of both passes
        // go in one TLS write. Running the router at every flush there
        // writes one packet per system call (1.9 sends per message routed
        // against 0.9) and halved saturated QoS 1 throughput. Below that
        // load the deliveries go at once: at half load practically no write
        // carries more than one packet anyway, and a pass of 8 to 31 events
        // waiting for the next one only added to its latency
        // (docs/benchmarks.md).
        const bool light = !r.filled && r.backlog.empty();
        r.filled = false;
        if (!after_flush_ || !light) {
            flush_batch(r);
            return;
        }
        flush_batch(r, /*then_drain=*/false);  // the drain below comes sooner
        after_flush_();
        // A router on this thread had its driver read the answers already.
        if (!settings_.router_on_this_thread && !stopped_ && r.open && generation == r.generation)
            drain(r);
    });
}

void router_link::flush_batch(router& r, bool then_drain) {
    if (r.batch_events == 0) return;
    const auto events = r.batch_events;
    if (settings_.router_on_this_thread) {
        flush_before_last_ = last_flush_;
        last_flush_ = std::chrono::steady_clock::now();
        last_batch_events_ = events;
    }
    r.batch_events = 0;
    r.batch_urgent = 0;
    if (!r.backlog.empty()) {
        r.backlog.emplace_back(std::move(r.batch), events);  // behind what waits already
        r.backlog_events += events;
    } else if (util::retry_eintr([&] {
                   return r.socket.send(zmq::buffer(r.batch), zmq::send_flags::dontwait);
               })) {
        ++messages_sent_;
    } else {
        r.backlog.emplace_back(std::move(r.batch), events);
        r.backlog_events += events;
        update_pause();
    }
    r.batch.clear();
    if (then_drain) after_send(r);
}

void router_link::after_send(router& r) {
    if (settings_.router_on_this_thread) {
        wake_router();
    } else {
        // A send may consume the descriptor's edge: look at the socket again.
        schedule_drain(r);
    }
}

void router_link::wake_router() {
    if (settings_.router_on_this_thread && wake_router_) wake_router_();
}

void router_link::clear_queues(router& r) {
    r.backlog.clear();
    r.backlog_events = 0;
    r.batch.clear();
    r.batch_events = 0;
    r.batch_urgent = 0;
    r.filled = false;
}

std::size_t router_link::flush_backlog(router& r) {
    std::size_t sent = 0;
    while (!r.backlog.empty() && util::retry_eintr([&] {
        return r.socket.send(zmq::buffer(r.backlog.front().first), zmq::send_flags::dontwait);
    })) {
        r.backlog_events -= r.backlog.front().second;
        r.backlog.pop_front();
        ++sent;
        ++messages_sent_;
    }
    if (r.backlog.empty()) update_pause();
    if (sent > 0) wake_router();
    return sent;
}

void router_link::update_pause() {
    const bool any = std::any_of(routers_.begin(), routers_.end(),
                                 [](const auto& r) { return r->open && !r->backlog.empty(); });
    if (any == paused_) return;
    paused_ = any;
    spdlog::debug("frontend: router queues {}", any ? "full: pausing client reads" : "drained");
    if (handlers_.on_pause) handlers_.on_pause(any);
}

// ---- receiving ----------------------------------------------------------------

void router_link::schedule_drain(router& r) {
    if (r.drain_scheduled || stopped_) return;
    r.drain_scheduled = true;
    std::weak_ptr<int> token = alive_token_;
    boost::asio::post(io_, [this, &r, token] {
        if (token.expired()) return;
        r.drain_scheduled = false;
        drain(r);
    });
}

void router_link::wait_readable(router& r) {
    const auto generation = r.generation;
    r.fd.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                    [this, &r, generation](const boost::system::error_code& ec) {
                        // Aborted, or a completion of a socket since replaced.
                        if (ec || stopped_ || !r.open || generation != r.generation) return;
                        drain(r);
                        if (r.open && generation == r.generation) wait_readable(r);
                    });
}

std::size_t router_link::read_now(std::size_t limit) {
    std::size_t read = 0;
    for (auto& slot : routers_) {
        // A slot with a FIFO is drained even with nothing to read: the
        // router's turn may have made the room it waits for.
        if (!slot->open || (read >= limit && slot->backlog.empty())) continue;
        read += drain(*slot, limit == no_limit ? limit : limit - std::min(read, limit));
    }
    return read;
}

std::size_t router_link::drain(router& r, std::size_t limit) {
    // With a limit (read_now for a router on this thread): read that many,
    // never a receive that finds the socket empty (io_driver.hpp). Else:
    // libzmq's ZMQ_FD is edge-triggered: keep going until the socket has
    // nothing to do. A receive that finds nothing took in every command
    // libzmq had for the socket, as a ZMQ_EVENTS query would (and costs the
    // same), so the next arrival raises a new edge. While a FIFO waits for
    // POLLOUT, ZMQ_EVENTS is read after that empty receive, last (its
    // commands may include "writable again"), and the loop goes on if it
    // shows either direction ready. A bounded batch of receives, then yield
    // to the client sockets: a busy router must not starve this frontend's
    // readers.
    const auto generation = r.generation;
    for (std::size_t received = 0;;) {
        if (stopped_ || !r.open || generation != r.generation) return received;
        if (received < limit) {
            if (received == 256) {
                schedule_drain(r);
                return received;
            }
            zmq::message_t msg;
            if (util::retry_eintr([&] { return r.socket.recv(msg, zmq::recv_flags::dontwait); })) {
                ++received;
                receive(r, msg);
                continue;
            }
        }
        if (r.backlog.empty()) return received;
        const auto ready = util::retry_eintr([&] { return r.socket.get(zmq::sockopt::events); });
        const bool sent = (ready & ZMQ_POLLOUT) && flush_backlog(r) > 0;
        if (!sent && !(ready & ZMQ_POLLIN)) return received;
        limit = no_limit;  // read what ZMQ_EVENTS shows
    }
}

void router_link::receive(router& r, const zmq::message_t& msg) {
    boost::system::error_code ec;
    // Handlers may reenter the link (a send, a slot closed): take the slots.
    auto batch = std::move(decoded_);
    const std::string_view bytes(static_cast<const char*>(msg.data()), msg.size());
    const std::size_t count = events::decode_batch_into(bytes, batch, ec);
    if (ec) {
        ++malformed_;
        if (ec != events::errc::version_mismatch) {
            spdlog::warn("frontend: dropped an event from router {}: {}", r.endpoint, ec.message());
        } else if (!r.version_mismatch) {
            // Refuse to talk, say why once: the router answers every heartbeat.
            r.version_mismatch = true;
            spdlog::error(
                "frontend: router {} speaks another inter-tier protocol version (this "
                "frontend speaks {}); ignoring it until it is upgraded",
                r.endpoint, events::protocol_version);
        }
    }
    const auto generation = r.generation;
    bool seen = false;
    for (std::size_t i = 0; i < count; ++i) {
        auto& e = batch[i];
        if (stopped_ || generation != r.generation) break;
        if (auto* h = std::get_if<events::router_hello>(&e)) {
            on_router_hello(r, *h);
            continue;
        }
        if (auto* l = std::get_if<events::router_leaving>(&e)) {
            on_router_leaving(r, *l);
            continue;
        }
        if (!seen) {  // any event proves the router alive (one clock read a batch)
            r.last_seen = clock::now();
            seen = true;
        }
        if (handlers_.on_event) handlers_.on_event(std::move(e));
    }
    // The slots are kept for the next batch with their delivers' buffers,
    // within bounds (events.hpp).
    events::trim_for_reuse(batch, count + 1, kept_slot_bytes);
    decoded_ = std::move(batch);
}

}  // namespace frontend
