#include "router/router_loop.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/util/incarnation.hpp"

namespace router {

router_loop::router_loop(zmq::context_t& ctx, const std::string& endpoint, router_settings settings,
                         cluster_settings cluster)
    : incarnation_(util::new_incarnation()),
      socket_(ctx, zmq::socket_type::router),
      core_([&] {
          settings.router_id = cluster.router_id;
          settings.has_peers = !cluster.peers.empty();
          settings.incarnation = incarnation_;
          return settings;
      }()),
      cluster_(std::move(cluster)) {
    // No silent drops: unbounded queues for now (back-pressure comes with the
    // cluster work), and an error instead of a drop for an unknown peer.
    socket_.set(zmq::sockopt::sndhwm, 0);
    socket_.set(zmq::sockopt::rcvhwm, 0);
    socket_.set(zmq::sockopt::router_mandatory, 1);
    socket_.set(zmq::sockopt::linger, 0);
    // ZMTP heartbeats close dead TCP pipes; liveness of frontends as MQTT
    // peers is decided by hello (see expire_frontends).
    socket_.set(zmq::sockopt::heartbeat_ivl, 1000);
    socket_.set(zmq::sockopt::heartbeat_timeout,
                static_cast<int>(std::max<std::int64_t>(cluster_.peer_timeout.count(), 1000)));
    socket_.bind(endpoint);
    for (const auto& peer : cluster_.peers) {
        auto& d = peers_.emplace_back(ctx, zmq::socket_type::dealer);
        d.set(zmq::sockopt::routing_id,
              "router/" + cluster_.router_id + "/" + std::to_string(incarnation_));
        d.set(zmq::sockopt::sndhwm, 0);
        // On a clean stop, what is already accepted (and acknowledged to its
        // publisher) still reaches the peers.
        d.set(zmq::sockopt::linger, 2000);
        d.set(zmq::sockopt::heartbeat_ivl, 1000);
        d.set(zmq::sockopt::heartbeat_timeout, 5000);
        d.connect(peer);
    }
}

void router_loop::run() {
    zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}};
    while (!stopping_.load(std::memory_order_relaxed)) {
        try {
            zmq::poll(items, 1, std::chrono::milliseconds(100));
        } catch (const zmq::error_t& e) {
            if (e.num() == EINTR) continue;  // a signal; stop() decides
            throw;
        }
        expire_frontends();
        if (!(items[0].revents & ZMQ_POLLIN)) {
            flush();
            continue;
        }
        // Drain what is ready, then flush the replies in one go.
        for (int n = 0; n < 1024; ++n) {
            zmq::message_t identity, body;
            if (!socket_.recv(identity, zmq::recv_flags::dontwait)) break;
            if (!identity.more() || !socket_.recv(body, zmq::recv_flags::none)) continue;
            while (body.more()) {  // ignore unexpected extra frames
                zmq::message_t extra;
                (void)socket_.recv(extra, zmq::recv_flags::none);
                if (!extra.more()) break;
            }
            handle_message(identity, body);
            if (out_.size() >= 256) flush();  // bound what waits in memory
        }
        flush();
    }
}

void router_loop::stop() {
    stopping_.store(true);
}

void router_loop::handle_message(zmq::message_t& identity, zmq::message_t& body) {
    boost::system::error_code ec;
    auto e =
        events::decode(std::string_view(static_cast<const char*>(body.data()), body.size()), ec);
    std::string frontend(static_cast<const char*>(identity.data()), identity.size());
    if (!e) {
        ++malformed_;
        if (ec == events::errc::version_mismatch) {
            // A peer of another protocol version: refuse everything it sends,
            // and say so once (it repeats its hello every second).
            if (mismatched_.insert(frontend).second)
                spdlog::error(
                    "router: peer '{}' speaks another inter-tier protocol version (this router "
                    "speaks {}); ignoring it until it is upgraded",
                    frontend, events::protocol_version);
            return;
        }
        spdlog::warn("router: dropped an event from frontend '{}': {}", frontend, ec.message());
        return;
    }
    if (auto* h = std::get_if<events::hello>(&*e)) {
        on_hello(frontend, *h);
        return;
    }
    // Any event proves the frontend alive; events of a frontend never heard
    // of (e.g. before its hello reached a restarted router) are still served.
    if (auto it = frontends_.find(frontend); it != frontends_.end())
        it->second.last_seen = clock::now();
    core_.handle(frontend, std::move(*e), out_);
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
            if (old->first != frontend && old->second.frontend_id == h.frontend_id) {
                spdlog::warn("router: frontend '{}' was replaced; ending its old connections",
                             h.frontend_id);
                core_.frontend_lost(old->first, out_);
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
    out_.push_back({frontend, events::router_hello{cluster_.router_id, incarnation_}});
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
        it = frontends_.erase(it);
    }
}

void router_loop::flush() {
    for (auto& o : out_) {
        const std::string bytes = events::encode(o.event);
        if (o.frontend.empty()) {  // for every peer router
            for (auto& p : peers_) p.send(zmq::buffer(bytes), zmq::send_flags::none);
            continue;
        }
        try {
            socket_.send(zmq::buffer(o.frontend), zmq::send_flags::sndmore);
            socket_.send(zmq::buffer(bytes), zmq::send_flags::none);
        } catch (const zmq::error_t& err) {
            // EHOSTUNREACH: the frontend is gone; its clients reconnect elsewhere.
            spdlog::warn("router: cannot send {} to frontend '{}': {}", events::name_of(o.event),
                         o.frontend, err.what());
        }
    }
    out_.clear();
}

}  // namespace router
