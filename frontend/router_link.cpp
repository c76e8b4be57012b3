#include "frontend/router_link.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cstdio>

#include "common/util/incarnation.hpp"

namespace frontend {

namespace {

// FNV-1a over the key and the router's endpoint: the router with the highest
// weight owns the key (rendezvous hashing), so adding or removing a router
// moves only the keys it wins or held.
std::uint64_t weight(std::string_view key, std::string_view endpoint) {
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&](std::string_view s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= 1099511628211ull;
        }
    };
    mix(key);
    mix("\x1f");
    mix(endpoint);
    // Finalise (splitmix64) so similar endpoints spread well.
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

}  // namespace

router_link::router_link(boost::asio::io_context& io, zmq::context_t& zctx, std::string frontend_id,
                         std::vector<std::string> endpoints, link_settings settings,
                         event_handler on_event, lost_handler on_lost)
    : io_(io),
      frontend_id_(std::move(frontend_id)),
      settings_(settings),
      on_event_(std::move(on_event)),
      on_lost_(std::move(on_lost)),
      zctx_(zctx),
      heartbeat_timer_(io),
      incarnation_(util::new_incarnation()) {
    if (endpoints.empty()) throw std::runtime_error("no router endpoint configured");
    for (auto& endpoint : endpoints)
        routers_.push_back(std::make_unique<router>(io, zctx, std::move(endpoint)));
}

void router_link::open_socket(router& r) {
    if (r.fd.is_open()) {
        boost::system::error_code ec;
        r.fd.cancel(ec);  // the pending wait completes with operation_aborted
        r.fd.release();   // the descriptor belongs to libzmq
    }
    r.socket = zmq::socket_t(zctx_, zmq::socket_type::dealer);
    // A fresh routing id per socket: the router sees a new peer, never the
    // lingering pipe of the previous socket.
    r.socket.set(zmq::sockopt::routing_id, routing_id() + "/" + std::to_string(++r.generation));
    // ZMTP heartbeats close a dead TCP pipe instead of waiting for TCP timeouts.
    r.socket.set(zmq::sockopt::heartbeat_ivl,
                 static_cast<int>(settings_.heartbeat_interval.count()));
    r.socket.set(zmq::sockopt::heartbeat_timeout, static_cast<int>(settings_.peer_timeout.count()));
    r.socket.set(zmq::sockopt::sndhwm, 0);
    r.socket.set(zmq::sockopt::rcvhwm, 0);
    r.socket.set(zmq::sockopt::linger, 2000);
    r.socket.connect(r.endpoint);
    r.fd.assign(r.socket.get(zmq::sockopt::fd));
    wait_readable(r);
}

std::string router_link::routing_id() const {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(incarnation_));
    return frontend_id_ + "/" + hex;
}

router_link::~router_link() {
    // The descriptors belong to libzmq: never close them from Asio.
    for (auto& r : routers_)
        if (r->fd.is_open()) r->fd.release();
}

void router_link::start() {
    for (auto& r : routers_) {
        r->last_seen = clock::now();
        open_socket(*r);
    }
    heartbeat();
}

std::size_t router_link::owner_of(std::string_view client_id) const {
    std::size_t best = 0;
    std::uint64_t best_weight = 0;
    for (std::size_t i = 0; i < routers_.size(); ++i) {
        const auto w = weight(client_id, routers_[i]->endpoint);
        if (i == 0 || w > best_weight) {
            best = i;
            best_weight = w;
        }
    }
    return best;
}

void router_link::heartbeat() {
    if (stopped_) return;
    const auto now = clock::now();
    for (std::size_t i = 0; i < routers_.size(); ++i) {
        auto& r = *routers_[i];
        // Silent for the timeout: once alive, or never heard from since start.
        if (!r.lost && now - r.last_seen > settings_.peer_timeout) {
            r.alive = false;
            r.lost = true;
            spdlog::warn(
                "frontend: router {} silent for {} ms: deemed dead", r.endpoint,
                std::chrono::duration_cast<std::chrono::milliseconds>(now - r.last_seen).count());
            if (on_lost_) on_lost_(i, "router silent", 0);
            // Drop what is queued for it (those clients are gone): its next
            // incarnation must not receive stale CONNECTs or PUBLISHes.
            open_socket(r);
        }
        send(i, events::hello{frontend_id_, events::protocol_version, incarnation_});
    }
    heartbeat_timer_.expires_after(settings_.heartbeat_interval);
    heartbeat_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) heartbeat();
    });
}

void router_link::on_router_hello(router& r, const events::router_hello& h) {
    r.last_seen = clock::now();
    const bool restarted = r.incarnation != 0 && r.incarnation != h.incarnation;
    r.incarnation = h.incarnation;
    if (!r.alive) spdlog::info("frontend: router '{}' at {} is up", h.router_id, r.endpoint);
    r.alive = true;
    r.lost = false;
    if (restarted) {
        spdlog::warn("frontend: router '{}' restarted: closing the connections it owned",
                     h.router_id);
        for (std::size_t i = 0; i < routers_.size(); ++i)
            if (routers_[i].get() == &r && on_lost_) on_lost_(i, "router restarted", h.incarnation);
    }
}

void router_link::send(std::size_t index, const events::event& e) {
    if (stopped_) return;
    auto& r = *routers_.at(index);
    const std::string bytes = events::encode(e);
    r.socket.send(zmq::buffer(bytes), zmq::send_flags::none);
    // A send may consume the descriptor's edge: look at ZMQ_EVENTS again.
    schedule_drain(r);
}

void router_link::stop() {
    stopped_ = true;
    boost::system::error_code ec;
    for (auto& r : routers_) r->fd.cancel(ec);
    heartbeat_timer_.cancel();
}

void router_link::schedule_drain(router& r) {
    if (r.drain_scheduled || stopped_) return;
    r.drain_scheduled = true;
    boost::asio::post(io_, [this, &r] {
        r.drain_scheduled = false;
        drain(r);
    });
}

void router_link::wait_readable(router& r) {
    r.fd.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                    [this, &r](const boost::system::error_code& ec) {
                        if (ec || stopped_) return;
                        drain(r);
                        wait_readable(r);
                    });
}

void router_link::drain(router& r) {
    // A bounded batch, then yield to the client sockets: a busy router must
    // not starve this frontend's readers.
    for (int n = 0; !stopped_ && (r.socket.get(zmq::sockopt::events) & ZMQ_POLLIN); ++n) {
        if (n == 256) {
            schedule_drain(r);
            return;
        }
        zmq::message_t msg;
        if (!r.socket.recv(msg, zmq::recv_flags::dontwait)) break;
        boost::system::error_code ec;
        auto e =
            events::decode(std::string_view(static_cast<const char*>(msg.data()), msg.size()), ec);
        if (!e) {
            ++malformed_;
            if (ec != events::errc::version_mismatch) {
                spdlog::warn("frontend: dropped an event from router {}: {}", r.endpoint,
                             ec.message());
            } else if (!r.version_mismatch) {
                // Refuse to talk, say why once: the router answers every heartbeat.
                r.version_mismatch = true;
                spdlog::error(
                    "frontend: router {} speaks another inter-tier protocol version (this "
                    "frontend speaks {}); ignoring it until it is upgraded",
                    r.endpoint, events::protocol_version);
            }
            continue;
        }
        if (auto* h = std::get_if<events::router_hello>(&*e)) {
            on_router_hello(r, *h);
            continue;
        }
        r.last_seen = clock::now();  // any event proves the router alive
        on_event_(std::move(*e));
    }
}

}  // namespace frontend
