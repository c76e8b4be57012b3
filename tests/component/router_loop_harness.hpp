// Test support for the router_loop_* suites: a router_loop running on its own
// thread, bound to an inproc:// endpoint (running_loop), and a DEALER playing
// one frontend (fake_frontend) that sends events and reads the router's
// replies, either decoded or as router_core_harness.hpp lines
// ("fe-a:1 connack sp=0 rc=0").
//
// Threads: running_loop's loop runs on its own thread, which owns the loop
// until stop() returned; everything else here is used by the test thread
// only. Every wait is bounded by a poll timeout. Declare the zmq::context_t
// before these objects so that their sockets close before it.
#pragma once

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <deque>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <zmq.hpp>

#include "common/events/events.hpp"
#include "router/router_loop.hpp"
#include "tests/component/router_core_harness.hpp"

namespace router_test {

inline constexpr std::chrono::milliseconds reply_timeout{2000};  // generous: inproc takes µs
inline constexpr std::chrono::milliseconds quiet_period{
    100};  // how long "nothing arrives" is watched

inline std::string unique_loop_endpoint() {
    static std::atomic<int> n{0};
    return "inproc://router_loop_test-" + std::to_string(n++);
}

// A router_loop running on its own thread. The destructor stops and joins it.
class running_loop {
  public:
    explicit running_loop(zmq::context_t& ctx, router::router_settings settings = {},
                          router::cluster_settings cluster = {})
        : endpoint_(unique_loop_endpoint()),
          loop_(ctx, endpoint_, settings, cluster),
          thread_([this] {
              try {
                  loop_.run();
              } catch (const std::exception& e) {
                  error_ = e.what();
              }
          }) {}
    ~running_loop() { stop(); }

    // Stops the loop and waits for run() to return (idempotent).
    void stop() {
        loop_.stop();
        if (thread_.joinable()) thread_.join();
    }

    const std::string& endpoint() const { return endpoint_; }
    // Only once stop() has returned (the loop thread owns these while it runs).
    const router::router_loop& loop() const { return loop_; }
    const std::string& error() const { return error_; }

  private:
    std::string endpoint_;
    router::router_loop loop_;
    std::string error_;
    std::thread thread_;
};

// A DEALER playing one frontend. `rcvhwm` bounds what it queues unread (ZeroMQ's
// default is 1000; 0 is unbounded); over inproc:// the router's queue towards
// it holds the router's sndhwm plus this.
class fake_frontend {
  public:
    fake_frontend(zmq::context_t& ctx, const std::string& endpoint, std::string routing_id,
                  int rcvhwm = 1000)
        : id_(std::move(routing_id)), socket_(ctx, zmq::socket_type::dealer) {
        socket_.set(zmq::sockopt::routing_id, id_);
        socket_.set(zmq::sockopt::linger, 0);
        socket_.set(zmq::sockopt::rcvhwm, rcvhwm);
        socket_.connect(endpoint);
    }

    void send(const events::event& e) { send_raw(events::encode(e)); }
    void send_raw(const std::string& bytes) { socket_.send(zmq::buffer(bytes)); }

    // The next event from the router, or nullopt if none arrives within
    // `timeout`. A batch is taken apart (and a deliver_many into delivers).
    std::optional<events::event> receive_event(std::chrono::milliseconds timeout = reply_timeout) {
        if (pending_.empty()) {
            zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
            if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
            zmq::message_t msg;
            if (!socket_.recv(msg, zmq::recv_flags::dontwait)) return std::nullopt;
            BOOST_TEST(!msg.more());
            boost::system::error_code ec;
            std::vector<events::event> batch;
            events::decode_batch(msg.to_string_view(), batch, ec);
            BOOST_REQUIRE_MESSAGE(!ec, "router sent an undecodable event: " << ec.message());
            ++messages_;
            for (auto& e : batch)
                for (auto& o : expand({id_, std::move(e)})) pending_.push_back(std::move(o.event));
        }
        auto e = std::move(pending_.front());
        pending_.pop_front();
        return e;
    }
    // ZeroMQ messages received so far (each a batch of events).
    std::size_t messages() const { return messages_; }

    // The next event as a harness line ("<routing id>:<conn> ..."), or nullopt.
    std::optional<std::string> receive(std::chrono::milliseconds timeout = reply_timeout) {
        auto e = receive_event(timeout);
        if (!e) return std::nullopt;
        return describe({id_, std::move(*e)});
    }

    // Exactly `n` events (each within the timeout), then nothing for quiet_period.
    lines receive_exactly(std::size_t n) {
        lines got;
        while (got.size() < n) {
            auto line = receive();
            if (!line) break;
            got.push_back(std::move(*line));
        }
        if (auto extra = receive(quiet_period)) got.push_back("(unexpected) " + *extra);
        return got;
    }

    void close() { socket_.close(); }
    const std::string& id() const { return id_; }

  private:
    std::string id_;
    zmq::socket_t socket_;
    std::deque<events::event> pending_;  // the rest of the last batch
    std::size_t messages_ = 0;
};

inline events::client_connect connect_event(events::conn_id conn, std::string client_id) {
    return {conn, std::move(client_id), true, 4, 60, "", std::nullopt};
}

// The opening both round-trip tests share: each frontend says hello (and gets
// the router's), then connects one clean-session client on its connection 1,
// named `client`.
inline void hello_and_connect(fake_frontend& fe, const std::string& frontend_id,
                              const std::string& client) {
    fe.send(events::hello{frontend_id, events::protocol_version, 1});
    EXPECT_LINES(fe.receive_exactly(1), {fe.id() + ":0 router_hello router"});
    fe.send(connect_event(1, client));
    EXPECT_LINES(fe.receive_exactly(1), {fe.id() + ":1 connack sp=0 rc=0"});
}

}  // namespace router_test
