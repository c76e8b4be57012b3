// Runs a router_loop on an Asio io_context instead of a thread of its own:
// mqtt-broker's default, where the router shares the frontend's thread and a
// message goes from one client's socket to another's without a hand-over
// between threads (docs/architecture.md "Threads").
//
// Uncoupled, the loop's ROUTER socket is watched through its ZMQ_FD (readable
// whenever its ZMQ_EVENTS may have changed; edge-triggered, so after every turn the
// driver asks input_pending() and turns again at once, through a post, if
// messages still wait). A timer runs the turn at the latest after
// next_wait().timeout, for heartbeats, ticks and back-pressure retries;
// while the loop is paused by back-pressure only the timer wakes it. The
// timer is set again only when a turn needs it sooner than it is set for (a
// turn that comes early is harmless): moving it at every turn cost a
// timerfd_settime and a cancelled handler per message.
//
// Coupled mode (mqtt-broker's default): the frontend on the same io_context
// is the socket's only peer. Then ZMQ_FD is not watched at all: whatever
// makes the socket readable is a send of that frontend's link, on this
// thread, which runs a turn at once (run_now, for a light batch) or asks for
// one (wake), and what the router sends is read after every turn through the
// coupling's `read` (router_link::read_now). Watching the descriptor cost
// each hop a stale wake-up: a reactor event for a signal the inline turn had
// already consumed, an empty receive (a poll) and a re-armed wait (an
// epoll_ctl). And since the driver knows how many messages each side sent,
// each side reads exactly those (router_loop::set_read_limit), never a
// receive that finds the socket empty: then neither inproc pipe ever sleeps,
// and an inline hop (run_now) costs no system call at all (an empty receive
// lets a pipe sleep, and the next send must wake it: an eventfd write, a
// poll, a read and a poll); a woken one costs the reactor's timerfd_settime
// for its expired timer. The timer still runs turns at least every
// next_wait().timeout, and once every read_all_interval (1 s) such a
// turn reads both sockets until empty, so nothing would wait longer than that
// if a count were ever wrong. (Every timer turn did so at first, and then the
// pipes slept after each one: at low rates every message paid the wake-up,
// nine system calls.)
//
// Only for a loop without peer routers (their DEALERs are not watched).
// Owns nothing but its waits: the loop and the io_context outlive it, and it
// must be destroyed (or stop()ped) before the io_context is. Used only on the
// io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "router/router_loop.hpp"

namespace router {

class io_driver {
  public:
    // Throws std::invalid_argument if `loop` has peer routers.
    io_driver(boost::asio::io_context& io, router_loop& loop);
    // Coupled mode (above): the frontend's side of the socket pair.
    struct coupling {
        // Messages the frontend has sent the router so far.
        std::function<std::uint64_t()> sent;
        // Reads what the router sent: at most `messages` (no_limit: until
        // its socket is empty); returns how many messages it read.
        std::function<std::size_t(std::size_t messages)> read;
    };
    static constexpr std::size_t no_limit = static_cast<std::size_t>(-1);
    io_driver(boost::asio::io_context& io, router_loop& loop, coupling frontend);
    ~io_driver();
    io_driver(const io_driver&) = delete;
    io_driver& operator=(const io_driver&) = delete;

    void start();  // the first turn, posted
    void stop();   // no more turns (the loop itself is not stopped)
    // Runs a turn now, from a handler that is not inside the loop: the
    // frontend on the same thread just sent it events (router_link's
    // after_flush), and waiting for the reactor to report ZMQ_FD would cost
    // a whole turn of client reads. Nothing when not running.
    void run_now();
    // Coupled mode: the frontend sent the router something without running
    // its turn: a turn after the reactor's next pass (an expired timer; once
    // however often it is asked).
    void wake();
    bool running() const { return running_; }
    bool coupled() const { return static_cast<bool>(frontend_.read); }

  private:
    // `timed`: the timer's turn (or the first); coupled, one of those every
    // read_all_interval reads both sockets until they are empty, whatever
    // the counts say (a safety net).
    void run_turn(bool timed = false);
    static constexpr std::chrono::seconds read_all_interval{1};
    void arm();

    boost::asio::io_context& io_;
    router_loop& loop_;
    // The socket's ZMQ_FD, borrowed: released, never closed, by stop().
    boost::asio::posix::stream_descriptor fd_;  // not used when coupled
    boost::asio::steady_timer timer_;
    boost::asio::steady_timer wake_timer_;  // wake(): expired, completes after the reactor's pass
    coupling frontend_;                     // set: coupled mode
    // Coupled mode: the frontend's messages the router has read (or that
    // were never there), and the router's messages handed to frontend_.read.
    std::uint64_t input_seen_ = 0;
    std::uint64_t output_seen_ = 0;
    // Coupled: when a timed turn next reads both sockets to the end.
    boost::asio::steady_timer::clock_type::time_point next_read_all_{};
    // Bumped at every turn: a post made before it is stale.
    std::uint64_t generation_ = 0;
    // Bumped whenever timer_ is set: a completion of an earlier setting is stale.
    std::uint64_t timer_generation_ = 0;
    bool running_ = false;
    bool fd_waiting_ = false;     // an async_wait on fd_ is outstanding
    bool timer_waiting_ = false;  // timer_ is set for timer_.expiry()
    bool wake_wanted_ = false;    // wake() since the last turn began
    bool wake_posted_ = false;    // a wake's turn is pending on wake_timer_
    // Expires with the driver: handlers still queued then do nothing.
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace router
