#include "router/router_loop.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/cluster/endpoint_resolver.hpp"
#include "common/config/options.hpp"
#include "common/util/incarnation.hpp"
#include "common/util/zmq_retry.hpp"
#include "router/stats_report.hpp"

namespace router {

router_loop::router_loop(zmq::context_t& ctx, const std::string& endpoint, router_settings settings,
                         cluster_settings cluster)
    : ctx_(ctx),
      incarnation_(util::new_incarnation()),
      socket_(ctx, zmq::socket_type::router),
      core_([&] {
          settings.router_id = cluster.router_id;
          settings.has_peers = !cluster.peers.empty();
          settings.incarnation = incarnation_;
          settings.fetch_timeout = cluster.peer_timeout;
          return settings;
      }()),
      cluster_(std::move(cluster)) {
    // Bounded queues towards frontends (see flush() for what happens when
    // one is full), and an error instead of a drop for an unknown peer.
    socket_.set(zmq::sockopt::sndhwm, events::hwm_for(cluster_.queue_limit));
    socket_.set(zmq::sockopt::rcvhwm, 0);
    socket_.set(zmq::sockopt::router_mandatory, 1);
    socket_.set(zmq::sockopt::linger, 0);
    // ZMTP heartbeats close dead TCP pipes; liveness of frontends as MQTT
    // peers is decided by hello (see expire_frontends).
    socket_.set(zmq::sockopt::heartbeat_ivl, 1000);
    socket_.set(zmq::sockopt::heartbeat_timeout,
                static_cast<int>(std::max<std::int64_t>(cluster_.peer_timeout.count(), 1000)));
    socket_.bind(endpoint);
    // Names (tcp://router:7000) wait for set_endpoints(): the resolved
    // addresses, one link each.
    for (const auto& e : cluster_.peers) {
        if (!cluster::is_literal_endpoint(e)) continue;
        peers_.push_back(std::make_unique<peer_link>(ctx_, e));
        open(*peers_.back());
    }
    ready_ = cluster_.peers.empty();
    if (ready_) core_.mark_retained_synced();
    if (!cluster_.stats_endpoint.empty()) {
        try {
            stats_.emplace(ctx_, cluster_.stats_endpoint);
            spdlog::info("router: stats published on {}", stats_->endpoint());
        } catch (const zmq::error_t& e) {
            spdlog::error("router: cannot bind the stats endpoint {}: {}; no stats",
                          cluster_.stats_endpoint, e.what());
        }
    }
}

void router_loop::open(peer_link& p) {
    p.socket = zmq::socket_t(ctx_, zmq::socket_type::dealer);
    p.socket.set(zmq::sockopt::routing_id, "router/" + cluster_.router_id + "/" +
                                               std::to_string(incarnation_) + "/" +
                                               std::to_string(++p.generation));
    p.socket.set(zmq::sockopt::ipv6, 1);
    p.socket.set(zmq::sockopt::sndhwm, 0);
    p.socket.set(zmq::sockopt::rcvhwm, 0);
    // On a clean stop, what is already accepted (and acknowledged to its
    // publisher) and the pushed sessions still reach the peers.
    p.socket.set(zmq::sockopt::linger, 2000);
    p.socket.set(zmq::sockopt::heartbeat_ivl, 1000);
    p.socket.set(zmq::sockopt::heartbeat_timeout,
                 static_cast<int>(std::max<std::int64_t>(cluster_.peer_timeout.count(), 1000)));
    p.socket.connect(p.endpoint);
    p.last_seen = clock::now();
}

void router_loop::run() {
    std::vector<zmq::pollitem_t> items;
    while (!stopping_.load(std::memory_order_relaxed)) {
        // Peers added by set_peer_endpoints() are opened by turn(), and
        // polled from the iteration after it.
        items.clear();
        // Paused (back-pressure): do not even wait for input on the socket,
        // or a waiting message would wake the loop over and over.
        const auto wait = next_wait();
        items.push_back({socket_.handle(), 0, static_cast<short>(wait.read ? ZMQ_POLLIN : 0), 0});
        for (auto& p : peers_)
            if (!p->retired) items.push_back({p->socket.handle(), 0, ZMQ_POLLIN, 0});
        try {
            zmq::poll(items.data(), items.size(), wait.timeout);
        } catch (const zmq::error_t& e) {
            if (e.num() == EINTR) continue;  // a signal; stop()/leave() decide
            throw;
        }
        if (!turn()) break;
    }
}

router_loop::wait_plan router_loop::next_wait() const {
    const bool paused = must_pause() && clock::now() - last_read_ < cluster_.heartbeat_interval;
    return {!paused, std::chrono::milliseconds(backlog_total_ > 0 ? 2 : 50)};
}

bool router_loop::input_pending() const {
    if (input_drained_) return false;
    return (util::retry_eintr([&] { return socket_.get(zmq::sockopt::events); }) & ZMQ_POLLIN) != 0;
}

int router_loop::socket_fd() const {
    return socket_.get(zmq::sockopt::fd);
}

bool router_loop::turn() {
    if (stopping_.load(std::memory_order_relaxed)) return false;
    apply_endpoints();
    const auto now = clock::now();
    const bool paused = must_pause() && now - last_read_ < cluster_.heartbeat_interval;
    core_.tick(now, out_);
    if (reload_requested_.exchange(false)) reload_acl();
    if (leave_requested_.load() && !leaving_) begin_leave();
    if (now >= next_heartbeat_) heartbeat(now);
    expire_frontends();
    update_ready(now);
    if ((stats_ || cluster_.stats_sink) && now >= next_stats_) publish_stats(now);
    if (cluster_.sys_interval.count() > 0 && ready_.load() && now >= next_sys_) publish_sys(now);

    // Peer links: answers to our requests and heartbeats.
    for (std::size_t i = 0; i < peers_.size(); ++i) {
        auto& p = *peers_[i];
        if (p.retired) continue;  // (also when retired by heartbeat() above)
        for (int n = 0; n < 1024; ++n) {
            zmq::message_t body;
            if (!util::retry_eintr([&] { return p.socket.recv(body, zmq::recv_flags::dontwait); }))
                break;
            handle_peer_message(p, body);
        }
    }
    // Drain what is ready, then flush the replies in one go; unless a
    // frontend does not keep up (back-pressure), then only a batch per
    // heartbeat interval.
    flush_backlogs();
    if (paused) ++counters_.paused_reads;
    input_drained_ = false;
    read_to_end_ = false;
    last_reads_ = 0;
    const std::size_t limit = std::exchange(read_limit_, no_read_limit);
    if (!paused) {
        for (std::size_t n = 0; n < 1024; ++n) {
            if (n == limit) {  // all that was announced: the socket is not asked for more
                read_to_end_ = true;
                break;
            }
            zmq::message_t identity, body;
            if (!util::retry_eintr(
                    [&] { return socket_.recv(identity, zmq::recv_flags::dontwait); })) {
                input_drained_ = true;
                read_to_end_ = true;
                socket_emptied_ = true;
                break;
            }
            ++last_reads_;
            last_read_ = now;
            if (!identity.more() ||
                !util::retry_eintr([&] { return socket_.recv(body, zmq::recv_flags::none); }))
                continue;
            while (body.more()) {  // ignore unexpected extra frames
                zmq::message_t extra;
                (void)util::retry_eintr([&] { return socket_.recv(extra, zmq::recv_flags::none); });
                if (!extra.more()) break;
            }
            handle_message(identity, body);
            if (sync_ == store::sync_policy::always) persist();
            if (out_.size() >= 256) {  // bound what waits in memory
                persist();
                flush();
            }
        }
    }
    persist();
    flush();
    if (!leaving_) return true;
    const bool done = core_.unacknowledged_pushes() == 0;
    if (done) {
        spdlog::info("router: every session handed over; stopping");
    } else if (now >= leave_deadline_) {
        spdlog::error("router: {} pushed sessions were not acknowledged in time; stopping",
                      core_.unacknowledged_pushes());
    }
    if (!done && now < leave_deadline_) return true;
    // Gone: peers stop waiting for answers from this router.
    const std::string bytes =
        events::encode(events::router_leaving{cluster_.router_id, incarnation_});
    for (auto& p : peers_)
        if (p->alive && !p->self) send_to_peer(*p, bytes);
    return false;
}

void router_loop::attach_store(std::unique_ptr<store::db> db, store::sync_policy sync) {
    store_ = std::move(db);
    sync_ = sync;
    core_.enable_journal();
    store::loaded_state state;
    if (auto ec = store_->load(state))
        throw std::runtime_error(store_->last_error().empty() ? "store: " + ec.message()
                                                              : store_->last_error());
    core_.restore(std::move(state));
    persisted_hlc_ = core_.hlc();
    if (!persist()) throw std::runtime_error(store_->last_error());
    spdlog::info("router: store {} (sync {})", store_->path(), store::to_string(sync_));
}

bool router_loop::persist() {
    core_.end_turn(out_);  // route_acks: after the commit below, like every ack
    if (!store_) return true;
    if (core_.hlc() != persisted_hlc_) {
        // Stamps keep growing across a restart even if the clock went back.
        core_.journal_of().put_meta("hlc", core_.hlc());
        persisted_hlc_ = core_.hlc();
    }
    if (!core_.journal_of().empty()) {
        unwritten_.push_back(core_.journal_of().take());
        unwritten_bytes_ += unwritten_.back().bytes();
    }
    const bool sync = sync_ != store::sync_policy::none;
    bool failed = false;
    if (!unwritten_.empty() && store_failing_) {
        // Reopening the store costs: try at most once a second.
        const auto now = clock::now();
        if (now - last_resume_ < std::chrono::seconds(1)) {
            failed = true;
        } else {
            last_resume_ = now;
            if (store_->resume()) {
                failed = true;
                ++counters_.store_failures;
            }
        }
    }
    while (!failed && !unwritten_.empty()) {
        if (auto ec = store_->commit(unwritten_.front(), sync)) {
            failed = true;
            ++counters_.store_failures;
            last_resume_ = clock::now();
            break;
        }
        unwritten_bytes_ -= std::min(unwritten_bytes_, unwritten_.front().bytes());
        unwritten_.pop_front();
        ++counters_.store_commits;
    }
    if (!failed) {
        if (store_failing_) {
            spdlog::warn("router: the store writes again; {} acknowledgements withheld so far",
                         counters_.acks_withheld);
            store_failing_ = false;
            // Peers' messages are cumulative acknowledgements: the last ones
            // withheld are now true (their batches were written, in order).
            for (auto& [to, ack] : withheld_route_acks_)
                out_.push_back({to, std::move(ack), router_core::destination::socket});
            withheld_route_acks_.clear();
        }
        return true;
    }
    // Not durable: no acknowledgement of what this turn accepted.
    store_failing_ = true;
    // Whatever tells a peer that state is safe here: acknowledgements of
    // PUBLISH/PUBREL (PUBCOMP too: its inbound id is erased in the batch),
    // SUBACK, UNSUBACK, CONNACK and a pushed session's ack.
    std::erase_if(out_, [this](const router_core::outgoing& o) {
        if (const auto* a = std::get_if<events::route_ack>(&o.event); a && !a->resend)
            withheld_route_acks_[o.to] = *a;
        const bool withheld = std::holds_alternative<events::send_ack>(o.event) ||
                              std::holds_alternative<events::suback>(o.event) ||
                              std::holds_alternative<events::unsuback>(o.event) ||
                              std::holds_alternative<events::connack>(o.event) ||
                              std::holds_alternative<events::session_state_ack>(o.event) ||
                              std::holds_alternative<events::route_ack>(o.event);
        counters_.acks_withheld += withheld ? 1 : 0;
        return withheld;
    });
    const auto now = clock::now();
    if (now - last_store_log_ > std::chrono::seconds(10)) {
        last_store_log_ = now;
        spdlog::error("router: {}; {} batches wait, acknowledgements withheld until it writes",
                      store_->last_error(), unwritten_.size());
    }
    return false;
}

void router_loop::publish_stats(clock::time_point now) {
    next_stats_ = now + cluster_.stats_interval;
    std::size_t live_peers = 0;
    for (const auto& p : peers_)
        if (p->alive && !p->self && !p->retired) ++live_peers;
    loop_facts facts;
    facts.kind = cluster_.stats_kind;
    facts.router_id = cluster_.router_id;
    facts.incarnation = incarnation_;
    facts.sequence = ++stats_sequence_;
    facts.uptime = std::chrono::duration_cast<std::chrono::milliseconds>(now - started_);
    facts.counters = &counters_;
    facts.malformed_events = malformed_;
    facts.frontends = frontends_.size();
    facts.live_peers = live_peers;
    facts.backlog = backlog_total_;
    facts.ready = ready_.load();
    facts.leaving = leaving_;
    if (store_) facts.store_bytes = store_->disk_bytes();
    auto snapshot = make_snapshot(core_, facts);
    if (cluster_.stats_sink)
        cluster_.stats_sink(std::move(snapshot));
    else
        stats_->publish(snapshot);
}

void router_loop::stop() {
    stopping_.store(true);
}

void router_loop::leave() {
    leave_requested_.store(true);
}

void router_loop::set_endpoints(std::vector<std::string> endpoints) {
    std::lock_guard lock(endpoints_mutex_);
    new_endpoints_ = std::move(endpoints);
    endpoints_changed_.store(true, std::memory_order_release);
}

void router_loop::apply_endpoints() {
    // Every turn asks; the lock is taken only when there is news.
    if (!endpoints_changed_.exchange(false, std::memory_order_acquire)) return;
    std::optional<std::vector<std::string>> endpoints;
    {
        std::lock_guard lock(endpoints_mutex_);
        endpoints.swap(new_endpoints_);
    }
    if (!endpoints) return;
    for (auto& p : peers_) {
        const bool listed =
            std::find(endpoints->begin(), endpoints->end(), p->endpoint) != endpoints->end();
        if (listed && p->retired) {
            p->retired = false;
            open(*p);
            spdlog::info("router: peer endpoint {} is back", p->endpoint);
        } else if (!listed && !p->retired) {
            spdlog::info("router: peer endpoint {} no longer listed", p->endpoint);
            if (p->alive) peer_lost(*p, "no longer listed");
            p->retired = true;
            p->socket.close();
        }
    }
    for (const auto& e : *endpoints) {
        const bool known = std::any_of(peers_.begin(), peers_.end(),
                                       [&](const auto& p) { return p->endpoint == e; });
        if (known) continue;
        spdlog::info("router: new peer endpoint {}", e);
        peers_.push_back(std::make_unique<peer_link>(ctx_, e));
        open(*peers_.back());
    }
}

void router_loop::heartbeat(clock::time_point now) {
    next_heartbeat_ = now + cluster_.heartbeat_interval;
    const std::string hello =
        events::encode(events::router_hello{cluster_.router_id, incarnation_});
    for (auto& p : peers_) {
        if (p->retired || p->self) continue;
        if (p->alive && now - p->last_seen > cluster_.peer_timeout) {
            peer_lost(*p, "silent");
            open(*p);  // drop what is queued for the dead process
        } else if (!p->alive && now - p->last_seen > 10 * cluster_.peer_timeout) {
            open(*p);  // never answered: drop the heartbeats queued meanwhile
        }
        send_to_peer(*p, hello);
    }
}

bool router_loop::other_live_link(const peer_link& p) const {
    return std::any_of(peers_.begin(), peers_.end(), [&](const auto& q) {
        return q.get() != &p && q->alive && q->router_id == p.router_id;
    });
}

void router_loop::peer_lost(peer_link& p, const char* why) {
    p.alive = false;
    spdlog::warn("router: peer '{}' at {} is gone ({})", p.router_id, p.endpoint, why);
    if (!other_live_link(p)) {
        core_.peer_down(p.router_id, out_);
        sys_.forget_peer(p.router_id);
    }
}

void router_loop::on_peer_answer(peer_link& p, const events::router_hello& h) {
    if (h.router_id == cluster_.router_id) {
        if (h.incarnation == incarnation_) {
            if (!p.self) spdlog::debug("router: {} is this router", p.endpoint);
            p.self = true;
        } else if (!p.duplicate_logged) {
            p.duplicate_logged = true;
            spdlog::error(
                "router: another router at {} uses this router's id '{}'; ignoring it (give each "
                "router its own --router-id)",
                p.endpoint, h.router_id);
        }
        return;
    }
    const auto now = clock::now();
    if (p.alive && (p.router_id != h.router_id || p.incarnation != h.incarnation)) {
        spdlog::warn("router: peer '{}' at {} restarted", p.router_id, p.endpoint);
        peer_lost(p, "restarted");
    }
    p.last_seen = now;
    if (!p.alive) {
        p.alive = true;
        p.router_id = h.router_id;
        p.incarnation = h.incarnation;
        spdlog::info("router: peer '{}' at {} is up", h.router_id, p.endpoint);
        core_.peer_up(h.router_id, out_);
    }
}

void router_loop::send_to_peer(peer_link& p, const std::string& bytes) {
    if (p.retired) return;
    try {
        (void)util::retry_eintr(
            [&] { return p.socket.send(zmq::buffer(bytes), zmq::send_flags::dontwait); });
    } catch (const zmq::error_t& err) {
        spdlog::warn("router: cannot send to peer {}: {}", p.endpoint, err.what());
    }
}

void router_loop::decode(const zmq::message_t& body, const std::string& from) {
    decoded_.clear();
    boost::system::error_code ec;
    events::decode_batch(std::string_view(static_cast<const char*>(body.data()), body.size()),
                         decoded_, ec);
    if (!ec) return;
    ++malformed_;
    if (ec == events::errc::version_mismatch) {
        // A peer of another protocol version: refuse everything it sends,
        // and say so once (it repeats its hello every second).
        if (mismatched_.insert(from).second)
            spdlog::error(
                "router: peer '{}' speaks another inter-tier protocol version (this router "
                "speaks {}); ignoring it until it is upgraded",
                from, events::protocol_version);
    } else {
        spdlog::warn("router: dropped an event from '{}': {}", from, ec.message());
    }
}

void router_loop::handle_peer_message(peer_link& p, zmq::message_t& body) {
    decode(body, p.endpoint);
    for (auto& e : decoded_) {
        if (auto* h = std::get_if<events::router_hello>(&e)) {
            on_peer_answer(p, *h);
            continue;
        }
        if (p.alive) p.last_seen = clock::now();
        core_.handle(p.endpoint, std::move(e), out_);
    }
}

void router_loop::handle_message(zmq::message_t& identity, zmq::message_t& body) {
    auto& from = from_;  // reused: no allocation per message
    from.assign(static_cast<const char*>(identity.data()), identity.size());
    decode(body, from);
    // Any event proves the frontend alive; events of a frontend never heard
    // of (e.g. before its hello reached a restarted router) are still served.
    if (!decoded_.empty())
        if (auto it = frontends_.find(from); it != frontends_.end())
            it->second.last_seen = clock::now();
    for (auto& e : decoded_) handle_event(from, std::move(e));
}

void router_loop::handle_event(const std::string& from, events::event&& e) {
    if (auto* h = std::get_if<events::hello>(&e)) {
        on_hello(from, *h);
        return;
    }
    if (std::holds_alternative<events::router_hello>(e)) {
        // A peer's heartbeat: answer with ours, which tells it who we are.
        out_.push_back({from, events::router_hello{cluster_.router_id, incarnation_},
                        router_core::destination::socket});
        return;
    }
    if (auto* st = std::get_if<events::router_stats>(&e)) {
        sys_.set_peer(*st);
        return;
    }
    if (auto* l = std::get_if<events::router_leaving>(&e)) {
        // The first says it is leaving; a second that it is gone (sent
        // right before it exits): fetches stop waiting for it.
        if (leaving_peers_.insert(l->router_id + "/" + std::to_string(l->incarnation)).second) {
            spdlog::info("router: peer '{}' is leaving", l->router_id);
            core_.peer_leaving(l->router_id);
            return;
        }
        for (auto& p : peers_)
            if (p->alive && p->router_id == l->router_id && p->incarnation == l->incarnation)
                peer_lost(*p, "left");
        return;
    }
    core_.handle(from, std::move(e), out_);
}

void router_loop::on_hello(const std::string& frontend, const events::hello& h) {
    auto [it, is_new] = frontends_.try_emplace(frontend);
    auto& peer = it->second;
    if (is_new) {
        spdlog::info("router: frontend '{}' connected", h.frontend_id);
        // The same frontend under an older routing id is a process that was
        // replaced (restarted, possibly while its old pipe lingers): its
        // connections are gone.
        for (auto old = frontends_.begin(); old != frontends_.end();) {
            // (The same process over a second path, e.g. a DNS name and an
            // address that both reach this router, is not a replacement.)
            if (old->first != frontend && old->second.frontend_id == h.frontend_id &&
                old->second.incarnation != h.incarnation) {
                spdlog::warn("router: frontend '{}' was replaced; ending its old connections",
                             h.frontend_id);
                core_.frontend_lost(old->first, out_);
                drop_backlog(old->first);
                old = frontends_.erase(old);
            } else {
                ++old;
            }
        }
    } else if (peer.incarnation != h.incarnation) {
        // Same routing id, new process: its old connections are gone.
        spdlog::warn("router: frontend '{}' restarted; ending its old connections", h.frontend_id);
        core_.frontend_lost(frontend, out_);
    }
    peer.frontend_id = h.frontend_id;
    peer.incarnation = h.incarnation;
    peer.last_seen = clock::now();
    // Not ready (copying the retained set) or leaving: stay silent, so the
    // frontend does not pick this router as an owner.
    if (ready_.load() && !leaving_)
        out_.push_back({frontend, events::router_hello{cluster_.router_id, incarnation_},
                        router_core::destination::socket});
}

void router_loop::update_ready(clock::time_point now) {
    if (ready_.load()) return;
    if (!core_.retained_synced() && !core_.syncing_retained() &&
        now - started_ > cluster_.peer_timeout) {
        spdlog::info(
            "router: no peer router answered within {} ms: starting with no retained "
            "messages",
            cluster_.peer_timeout.count());
        core_.mark_retained_synced();
    }
    if (core_.retained_synced()) {
        ready_ = true;
        spdlog::info("router '{}' is ready", cluster_.router_id);
    }
}

void router_loop::begin_leave() {
    leaving_ = true;
    leave_deadline_ = clock::now() + 2 * cluster_.peer_timeout;
    spdlog::info("router: leaving the cluster: handing sessions over");
    const events::event leaving = events::router_leaving{cluster_.router_id, incarnation_};
    for (const auto& [id, f] : frontends_)
        out_.push_back({id, leaving, router_core::destination::socket});
    const std::string bytes = events::encode(leaving);
    for (auto& p : peers_)
        if (p->alive && !p->self) send_to_peer(*p, bytes);
    core_.leave(out_);
}

void router_loop::expire_frontends() {
    const auto now = clock::now();
    for (auto it = frontends_.begin(); it != frontends_.end();) {
        if (now - it->second.last_seen <= cluster_.peer_timeout) {
            ++it;
            continue;
        }
        spdlog::warn(
            "router: frontend '{}' silent for {} ms: deemed dead, ending its connections",
            it->second.frontend_id,
            std::chrono::duration_cast<std::chrono::milliseconds>(now - it->second.last_seen)
                .count());
        core_.frontend_lost(it->first, out_);
        drop_backlog(it->first);
        it = frontends_.erase(it);
    }
}

void router_loop::flush() {
    using destination = router_core::destination;
    // Batch: one ZeroMQ message per destination and turn (up to the batch
    // bounds), events in the order the core produced them for it.
    // The batches stay from turn to turn with their buffers (a turn that
    // allocated them anew cost three allocations per destination); the first
    // batches_used_ are this turn's.
    batches_used_ = 0;
    peer_batches_.clear();
    auto batch_for = [this](const std::string& to) -> batch& {
        for (std::size_t i = 0; i < batches_used_; ++i)
            if (batches_[i].to == to) return batches_[i];
        if (batches_used_ == batches_.size()) batches_.emplace_back();
        auto& b = batches_[batches_used_++];
        b.to = to;
        b.bytes.clear();
        b.parts.clear();
        return b;
    };
    auto peer_batch_for = [this](peer_link* p) -> std::string& {
        for (auto& [link, bytes] : peer_batches_)
            if (link == p) return bytes;
        return peer_batches_.emplace_back(p, std::string()).second;
    };
    for (auto& o : out_) {
        if (o.where == destination::all_peers || o.where == destination::peer) {
            std::unordered_set<std::string> sent;  // a router reachable by two endpoints
            std::size_t mark = 0;
            std::string bytes;
            for (auto& p : peers_) {
                if (!p->alive || p->self || p->retired) continue;
                if (o.where == destination::peer && p->router_id != o.to) continue;
                if (!sent.insert(p->router_id).second) continue;
                auto& pb = peer_batch_for(p.get());
                if (bytes.empty()) {
                    mark = pb.size();
                    events::encode_to(o.event, pb);
                    bytes.assign(pb, mark);
                } else {
                    pb += bytes;
                }
                if (pb.size() >= events::batch_max_bytes) {
                    send_to_peer(*p, pb);
                    pb.clear();
                }
            }
            if (o.where == destination::peer && sent.empty())
                spdlog::warn("router: cannot send {} to peer '{}': not connected",
                             events::name_of(o.event), o.to);
            continue;
        }
        // QoS 0 live deliveries may be shed; retained ones answer a SUBSCRIBE
        // (the subscriber's view of the retained set): they wait instead.
        const auto* d = std::get_if<events::deliver>(&o.event);
        const bool sheddable = (d != nullptr && d->qos == 0 && !d->retain) ||
                               (std::holds_alternative<events::deliver_many>(o.event) &&
                                std::ranges::all_of(std::get<events::deliver_many>(o.event).targets,
                                                    [](const auto& t) { return t.qos == 0; }));
        auto& b = batch_for(o.to);
        events::encode_to(o.event, b.bytes);
        b.parts.emplace_back(static_cast<std::uint32_t>(b.bytes.size()), sheddable);
        if (b.parts.size() >= events::batch_max_events || b.bytes.size() >= events::batch_max_bytes)
            send_batch(b);
    }
    for (std::size_t i = 0; i < batches_used_; ++i)
        if (!batches_[i].parts.empty()) send_batch(batches_[i]);
    // What stays is bounded: a few destinations, no burst-sized buffer.
    if (batches_.size() > 16) batches_.resize(16);
    for (auto& b : batches_)
        if (b.bytes.capacity() > events::batch_max_bytes * 2) std::string().swap(b.bytes);
    for (auto& [p, bytes] : peer_batches_)
        if (!bytes.empty()) send_to_peer(*p, bytes);
    out_.clear();
}

void router_loop::send_batch(batch& b) {
    input_drained_ = false;  // a send may take the socket's commands (see input_pending())
    auto it = backlogs_.find(b.to);
    if (it == backlogs_.end() || it->second.batches.empty()) {
        try {
            if (util::retry_eintr([&] {
                    return socket_.send(zmq::buffer(b.to),
                                        zmq::send_flags::sndmore | zmq::send_flags::dontwait);
                })) {
                util::retry_eintr(
                    [&] { return socket_.send(zmq::buffer(b.bytes), zmq::send_flags::none); });
                ++messages_sent_;
                b.bytes.clear();
                b.parts.clear();
                return;
            }
        } catch (const zmq::error_t& err) {
            // EHOSTUNREACH: the frontend is gone; its clients reconnect elsewhere.
            spdlog::warn("router: cannot send to '{}': {}", b.to, err.what());
            b.bytes.clear();
            b.parts.clear();
            return;
        }
    }
    // Its queue is full: QoS 0 may be shed, everything else waits in order.
    std::string kept;
    std::uint32_t kept_events = 0;
    std::uint32_t begin = 0;
    std::uint64_t shed = 0;
    for (const auto& [end, sheddable] : b.parts) {
        if (sheddable) {
            ++shed;
        } else {
            kept.append(b.bytes, begin, end - begin);
            ++kept_events;
        }
        begin = end;
    }
    b.bytes.clear();
    b.parts.clear();
    if (shed > 0) {
        counters_.qos0_shed += shed;
        const auto now = clock::now();
        if (now - last_shed_log_ > std::chrono::seconds(10)) {
            last_shed_log_ = now;
            spdlog::warn("router: frontend '{}' does not keep up; QoS 0 messages shed so far: {}",
                         b.to, counters_.qos0_shed);
        }
    }
    if (kept_events == 0) return;
    counters_.backlog_events += kept_events;
    backlog_total_ += kept_events;
    auto& q = backlogs_[b.to];
    q.events += kept_events;
    q.batches.emplace_back(std::move(kept), kept_events);
}

void router_loop::flush_backlogs() {
    if (!backlogs_.empty()) input_drained_ = false;  // as in send_batch()
    for (auto it = backlogs_.begin(); it != backlogs_.end();) {
        auto& q = it->second;
        bool gone = false;
        while (!q.batches.empty()) {
            try {
                if (!util::retry_eintr([&] {
                        return socket_.send(zmq::buffer(it->first),
                                            zmq::send_flags::sndmore | zmq::send_flags::dontwait);
                    }))
                    break;
                util::retry_eintr([&] {
                    return socket_.send(zmq::buffer(q.batches.front().first),
                                        zmq::send_flags::none);
                });
                ++messages_sent_;
            } catch (const zmq::error_t&) {
                gone = true;  // the frontend is gone: what waited for it is moot
                break;
            }
            q.events -= q.batches.front().second;
            backlog_total_ -= q.batches.front().second;
            q.batches.pop_front();
        }
        if (gone) {
            backlog_total_ -= q.events;
            q.batches.clear();
            q.events = 0;
        }
        it = q.batches.empty() ? backlogs_.erase(it) : std::next(it);
    }
}

void router_loop::drop_backlog(const std::string& to) {
    if (auto it = backlogs_.find(to); it != backlogs_.end()) {
        backlog_total_ -= it->second.events;
        backlogs_.erase(it);
    }
}

bool router_loop::must_pause() const {
    // A store that does not write: what waits for it stays in memory.
    if (unwritten_bytes_ > max_unwritten_bytes) return true;
    if (cluster_.queue_limit == 0) return false;
    for (const auto& [to, q] : backlogs_)
        if (q.events > cluster_.queue_limit) return true;
    return false;
}

void router_loop::publish_sys(clock::time_point now) {
    next_sys_ = now + cluster_.sys_interval;
    const auto own = own_sys_values(core_.counters(), core_.gauges());
    if (!cluster_.peers.empty())
        out_.push_back({std::string(), events::router_stats{cluster_.router_id, incarnation_, own},
                        router_core::destination::all_peers});
    const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(now - started_);
    for (auto& [topic, payload] :
         sys_messages(sys_.totals(own), uptime, config::version, sys_.routers()))
        core_.publish_local(std::move(topic), std::move(payload), out_);
}

}  // namespace router
