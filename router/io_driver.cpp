#include "router/io_driver.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <memory>
#include <stdexcept>

namespace router {

io_driver::io_driver(boost::asio::io_context& io, router_loop& loop)
    : io_(io), loop_(loop), fd_(io), timer_(io), wake_timer_(io) {
    if (loop_.has_peers())
        throw std::invalid_argument("router::io_driver: a router with peers needs its own thread");
}

io_driver::io_driver(boost::asio::io_context& io, router_loop& loop, coupling frontend)
    : io_driver(io, loop) {
    if (!frontend.sent || !frontend.read)
        throw std::invalid_argument("router::io_driver: coupled mode needs both callbacks");
    frontend_ = std::move(frontend);
}

io_driver::~io_driver() {
    stop();
}

void io_driver::start() {
    if (running_) return;
    if (!coupled()) fd_.assign(loop_.socket_fd());
    running_ = true;
    next_read_all_ = {};  // the first turn reads everything
    const auto generation = ++generation_;
    boost::asio::post(io_, [this, alive = std::weak_ptr(alive_), generation] {
        if (alive.lock() && running_ && generation == generation_) run_turn(/*timed=*/true);
    });
}

void io_driver::stop() {
    if (!running_) return;
    running_ = false;
    ++generation_;
    timer_.cancel();
    timer_waiting_ = false;
    ++timer_generation_;
    wake_timer_.cancel();
    if (fd_.is_open()) {
        boost::system::error_code ignored;
        fd_.cancel(ignored);
        (void)fd_.release();  // libzmq's descriptor: not ours to close
    }
}

void io_driver::run_now() {
    if (running_) run_turn();
}

void io_driver::wake() {
    if (!running_) return;
    wake_wanted_ = true;
    if (wake_posted_) return;
    wake_posted_ = true;
    // Through the reactor, as ZMQ_FD's readiness came when it was watched:
    // an expired timer completes after the reactor's next pass, behind the
    // client reads that pass brings, so a loaded router's turn takes them
    // all in one go (a post would run it before them: more, smaller
    // batches back, and more, smaller TLS writes; saturated QoS 1 fell by
    // a sixth).
    wake_timer_.expires_at(boost::asio::steady_timer::time_point::min());
    wake_timer_.async_wait(
        [this, alive = std::weak_ptr(alive_)](const boost::system::error_code& ec) {
            if (!alive.lock()) return;
            wake_posted_ = false;
            // A turn since the last wake() read what that wake was for.
            if (!ec && running_ && wake_wanted_) run_turn();
        });
}

void io_driver::run_turn(bool timed) {
    ++generation_;  // whatever was armed before is stale now
    wake_wanted_ = false;
    std::uint64_t sent = 0;
    bool read_all = false;  // coupled: both sockets until empty (the safety net)
    if (coupled()) {
        if (timed) {
            const auto now = boost::asio::steady_timer::clock_type::now();
            read_all = now >= next_read_all_;
            if (read_all) next_read_all_ = now + read_all_interval;
        }
        sent = frontend_.sent();
        if (!read_all) loop_.set_read_limit(static_cast<std::size_t>(sent - input_seen_));
    }
    if (!loop_.turn()) {
        spdlog::debug("router: loop ended");
        stop();
        return;
    }
    if (coupled()) {
        // A receive that found the socket empty: there was less than counted
        // (a message of a socket the link replaced); nothing is left.
        input_seen_ = loop_.take_socket_emptied() ? sent : input_seen_ + loop_.last_reads();
        // The frontend reads the answers now. If it read some while replies
        // wait for room (back-pressure), its reads made that room: go on.
        const auto out = loop_.messages_sent();
        const std::size_t announced =
            read_all ? no_limit : static_cast<std::size_t>(out - output_seen_);
        output_seen_ = out;
        // Called even with nothing announced: a FIFO of the link's may wait
        // for the room this turn's reads made (read_now(0) costs nothing
        // otherwise).
        const std::size_t read = frontend_.read(announced);
        if (!running_) return;
        if (read > 0 && loop_.backlogged()) wake();
    }
    arm();
}

void io_driver::arm() {
    if (!running_) return;
    const auto generation = generation_;
    const auto wait = loop_.next_wait();
    if (coupled()) {
        // Only the turn's own cap leaves input behind: nothing else sends
        // to the socket but the frontend, which wakes the driver itself.
        if (wait.read && !loop_.read_to_end()) {
            wake();
            return;
        }
    } else if (wait.read && loop_.input_pending()) {
        // More than one turn reads (1024 messages), or what the flush sent
        // changed the socket's state after its last edge: no edge will come.
        boost::asio::post(io_, [this, alive = std::weak_ptr(alive_), generation] {
            if (alive.lock() && running_ && generation == generation_) run_turn();
        });
        return;
    }
    if (!coupled() && wait.read && !fd_waiting_) {
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
        if (running_) run_turn(/*timed=*/true);
    });
}

}  // namespace router
