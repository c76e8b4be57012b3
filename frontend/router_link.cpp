#include "frontend/router_link.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cstdio>
#include <random>

namespace frontend {

router_link::router_link(boost::asio::io_context& io, zmq::context_t& zctx, std::string frontend_id,
                         std::vector<std::string> endpoints, link_settings settings,
                         event_handler on_event, lost_handler on_lost)
    : io_(io),
      socket_(zctx, zmq::socket_type::dealer),
      fd_(io),
      frontend_id_(std::move(frontend_id)),
      endpoints_(std::move(endpoints)),
      settings_(settings),
      on_event_(std::move(on_event)),
      on_lost_(std::move(on_lost)),
      heartbeat_timer_(io),
      incarnation_(std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32)) {
    // The routing id names this process, not just the frontend: a restarted
    // frontend (same --frontend-id) is a new peer to the router, which libzmq
    // would otherwise refuse while the old pipe lingers.
    socket_.set(zmq::sockopt::routing_id, routing_id());
    // ZMTP heartbeats close a dead TCP pipe instead of waiting for TCP timeouts.
    socket_.set(zmq::sockopt::heartbeat_ivl,
                static_cast<int>(settings_.heartbeat_interval.count()));
    socket_.set(zmq::sockopt::heartbeat_timeout, static_cast<int>(settings_.peer_timeout.count()));
    socket_.set(zmq::sockopt::sndhwm, 0);
    socket_.set(zmq::sockopt::rcvhwm, 0);
    socket_.set(zmq::sockopt::linger, 2000);
}

std::string router_link::routing_id() const {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(incarnation_));
    return frontend_id_ + "/" + hex;
}

router_link::~router_link() {
    // The descriptor belongs to libzmq: never close it from Asio.
    if (fd_.is_open()) fd_.release();
}

void router_link::start() {
    if (endpoints_.empty()) throw std::runtime_error("no router endpoint configured");
    socket_.connect(endpoints_.front());
    fd_.assign(socket_.get(zmq::sockopt::fd));
    router_last_seen_ = clock::now();
    wait_readable();
    heartbeat();
}

void router_link::heartbeat() {
    if (stopped_) return;
    const auto now = clock::now();
    if (router_alive_ && now - router_last_seen_ > settings_.peer_timeout) {
        router_alive_ = false;
        spdlog::warn(
            "frontend: router silent for {} ms: deemed dead",
            std::chrono::duration_cast<std::chrono::milliseconds>(now - router_last_seen_).count());
        if (on_lost_) on_lost_("router silent");
    }
    send(events::hello{frontend_id_, events::protocol_version, incarnation_});
    heartbeat_timer_.expires_after(settings_.heartbeat_interval);
    heartbeat_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) heartbeat();
    });
}

void router_link::on_router_hello(const events::router_hello& h) {
    router_last_seen_ = clock::now();
    const bool restarted = router_incarnation_ != 0 && router_incarnation_ != h.incarnation;
    router_incarnation_ = h.incarnation;
    if (!router_alive_) spdlog::info("frontend: router '{}' is up", h.router_id);
    router_alive_ = true;
    if (restarted) {
        spdlog::warn("frontend: router '{}' restarted: closing the connections it served",
                     h.router_id);
        if (on_lost_) on_lost_("router restarted");
    }
}

void router_link::send(const events::event& e) {
    if (stopped_) return;
    const std::string bytes = events::encode(e);
    socket_.send(zmq::buffer(bytes), zmq::send_flags::none);
    // A send may consume the descriptor's edge: look at ZMQ_EVENTS again.
    schedule_drain();
}

void router_link::stop() {
    stopped_ = true;
    boost::system::error_code ec;
    fd_.cancel(ec);
    heartbeat_timer_.cancel();
}

void router_link::schedule_drain() {
    if (drain_scheduled_ || stopped_) return;
    drain_scheduled_ = true;
    boost::asio::post(io_, [this] {
        drain_scheduled_ = false;
        drain();
    });
}

void router_link::wait_readable() {
    fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                   [this](const boost::system::error_code& ec) {
                       if (ec || stopped_) return;
                       drain();
                       wait_readable();
                   });
}

void router_link::drain() {
    // A bounded batch, then yield to the client sockets: a busy router must
    // not starve this frontend's readers.
    for (int n = 0; !stopped_ && (socket_.get(zmq::sockopt::events) & ZMQ_POLLIN); ++n) {
        if (n == 256) {
            schedule_drain();
            return;
        }
        zmq::message_t msg;
        if (!socket_.recv(msg, zmq::recv_flags::dontwait)) break;
        boost::system::error_code ec;
        auto e =
            events::decode(std::string_view(static_cast<const char*>(msg.data()), msg.size()), ec);
        if (!e) {
            ++malformed_;
            spdlog::warn("frontend: dropped an event from the router: {}", ec.message());
            continue;
        }
        if (auto* h = std::get_if<events::router_hello>(&*e)) {
            on_router_hello(*h);
            continue;
        }
        router_last_seen_ = clock::now();  // any event proves the router alive
        on_event_(std::move(*e));
    }
}

}  // namespace frontend
