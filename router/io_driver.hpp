// Runs a router_loop on an Asio io_context instead of a thread of its own:
// mqtt-broker's default, where the router shares the frontend's thread and a
// message goes from one client's socket to another's without a hand-over
// between threads (docs/architecture.md "Threads").
//
// The loop's ROUTER socket is watched through its ZMQ_FD (readable whenever
// its ZMQ_EVENTS may have changed; edge-triggered, so after every turn the
// driver asks input_pending() and turns again at once, through a post, if
// messages still wait). A timer runs the turn at the latest after
// next_wait().timeout, for heartbeats, ticks and back-pressure retries;
// while the loop is paused by back-pressure only the timer wakes it. The
// timer is set again only when a turn needs it sooner than it is set for (a
// turn that comes early is harmless): moving it at every turn cost a
// timerfd_settime and a cancelled handler per message.
//
// Only for a loop without peer routers (their DEALERs are not watched).
// Owns nothing but its waits: the loop and the io_context outlive it, and it
// must be destroyed (or stop()ped) before the io_context is. Used only on the
// io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>

#include "router/router_loop.hpp"

namespace router {

class io_driver {
  public:
    // Throws std::invalid_argument if `loop` has peer routers.
    io_driver(boost::asio::io_context& io, router_loop& loop);
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
    bool running() const { return running_; }

  private:
    void run_turn();
    void arm();

    boost::asio::io_context& io_;
    router_loop& loop_;
    // The socket's ZMQ_FD, borrowed: released, never closed, by stop().
    boost::asio::posix::stream_descriptor fd_;
    boost::asio::steady_timer timer_;
    // Bumped at every turn: a post made before it is stale.
    std::uint64_t generation_ = 0;
    // Bumped whenever timer_ is set: a completion of an earlier setting is stale.
    std::uint64_t timer_generation_ = 0;
    bool running_ = false;
    bool fd_waiting_ = false;     // an async_wait on fd_ is outstanding
    bool timer_waiting_ = false;  // timer_ is set for timer_.expiry()
    // Expires with the driver: handlers still queued then do nothing.
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace router
