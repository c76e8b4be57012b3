#include "frontend/router_link.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace frontend {

router_link::router_link(boost::asio::io_context& io, zmq::context_t& zctx,
                         std::string frontend_id, std::vector<std::string> endpoints,
                         event_handler on_event)
    : io_(io),
      socket_(zctx, zmq::socket_type::dealer),
      fd_(io),
      frontend_id_(std::move(frontend_id)),
      endpoints_(std::move(endpoints)),
      on_event_(std::move(on_event)) {
    socket_.set(zmq::sockopt::routing_id, frontend_id_);
    socket_.set(zmq::sockopt::sndhwm, 0);
    socket_.set(zmq::sockopt::rcvhwm, 0);
    socket_.set(zmq::sockopt::linger, 2000);
}

router_link::~router_link() {
    // The descriptor belongs to libzmq: never close it from Asio.
    if (fd_.is_open()) fd_.release();
}

void router_link::start() {
    if (endpoints_.empty()) throw std::runtime_error("no router endpoint configured");
    socket_.connect(endpoints_.front());
    fd_.assign(socket_.get(zmq::sockopt::fd));
    send(events::hello{frontend_id_, events::protocol_version});
    wait_readable();
    schedule_drain();
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
    while (!stopped_ && (socket_.get(zmq::sockopt::events) & ZMQ_POLLIN)) {
        zmq::message_t msg;
        if (!socket_.recv(msg, zmq::recv_flags::dontwait)) break;
        boost::system::error_code ec;
        auto e = events::decode(std::string_view(static_cast<const char*>(msg.data()), msg.size()),
                                ec);
        if (!e) {
            ++malformed_;
            spdlog::warn("frontend: dropped an event from the router: {}", ec.message());
            continue;
        }
        on_event_(std::move(*e));
    }
}

}  // namespace frontend
