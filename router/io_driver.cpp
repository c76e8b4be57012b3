#include "router/io_driver.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <memory>
#include <stdexcept>

namespace router {

io_driver::io_driver(boost::asio::io_context& io, router_loop& loop)
    : io_(io), loop_(loop), fd_(io), timer_(io) {
    if (loop_.has_peers())
        throw std::invalid_argument("router::io_driver: a router with peers needs its own thread");
}

io_driver::~io_driver() {
    stop();
}

void io_driver::start() {
    if (running_) return;
    fd_.assign(loop_.socket_fd());
    running_ = true;
    const auto generation = ++generation_;
    boost::asio::post(io_, [this, alive = std::weak_ptr(alive_), generation] {
        if (alive.lock() && running_ && generation == generation_) run_turn();
    });
}

void io_driver::stop() {
    if (!running_) return;
    running_ = false;
    ++generation_;
    boost::system::error_code ignored;
    fd_.cancel(ignored);
    timer_.cancel();
    timer_waiting_ = false;
    ++timer_generation_;
    (void)fd_.release();  // libzmq's descriptor: not ours to close
}

void io_driver::run_now() {
    if (running_) run_turn();
}

void io_driver::run_turn() {
    ++generation_;  // whatever was armed before is stale now
    if (!loop_.turn()) {
        spdlog::debug("router: loop ended");
        stop();
        return;
    }
    arm();
}

void io_driver::arm() {
    if (!running_) return;
    const auto generation = generation_;
    const auto wait = loop_.next_wait();
    if (wait.read && loop_.input_pending()) {
        // More than one turn reads (1024 messages), or what the flush sent
        // changed the socket's state after its last edge: no edge will come.
        boost::asio::post(io_, [this, alive = std::weak_ptr(alive_), generation] {
            if (alive.lock() && running_ && generation == generation_) run_turn();
        });
        return;
    }
    if (wait.read && !fd_waiting_) {
        // One wait at a time; whenever it fires, readiness is news: a turn.
        fd_waiting_ = true;
        fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                       [this, alive = std::weak_ptr(alive_)](const boost::system::error_code& ec) {
                           if (!alive.lock()) return;
                           fd_waiting_ = false;
                           if (!ec && running_) run_turn();
                       });
    }
    const auto due = boost::asio::steady_timer::clock_type::now() + wait.timeout;
    if (timer_waiting_ && timer_.expiry() <= due) return;  // it runs a turn soon enough
    timer_waiting_ = true;
    timer_.expires_at(due);
    timer_.async_wait([this, alive = std::weak_ptr(alive_),
                       setting = ++timer_generation_](const boost::system::error_code& ec) {
        if (ec || !alive.lock() || setting != timer_generation_) return;
        timer_waiting_ = false;
        if (running_) run_turn();
    });
}

}  // namespace router
