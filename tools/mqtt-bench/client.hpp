// One MQTT 3.1.1 client connection of the load generator, over any transport
// (stream.hpp), using the project's sans-I/O codec (common/mqtt): connect
// with a deadline, CONNECT/CONNACK, keep-alive PINGREQs, one write in flight
// with later packets coalesced behind it, DISCONNECT on shutdown.
//
// The roles (publisher.hpp, subscriber.hpp, idle_client.hpp) derive from it
// and get the packets after CONNACK. A client is "settled" once it is ready
// (the role calls settle_ready()) or has failed to get there; failures and
// later losses are counted in worker_stats with a short reason
// ("tcp: Connection refused", "connack 4 (bad user name or password)",
// "timeout", ...), never thrown.
//
// Owned by its worker; every member runs on that worker's io_context thread.
// Handlers capture `this`: the worker destroys clients only after its
// io_context has stopped running.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config/listener_url.hpp"
#include "common/mqtt/framer.hpp"
#include "common/mqtt/packet.hpp"
#include "tools/mqtt-bench/stats.hpp"
#include "tools/mqtt-bench/stream.hpp"

namespace bench {

// What every client of a run shares; read-only while the workers run.
struct client_settings {
    config::listener_url url;
    std::vector<boost::asio::ip::tcp::endpoint> endpoints;
    boost::asio::ssl::context* tls = nullptr;  // for mqtts and wss
    bool verify_host = true;
    std::optional<std::string> username, password;
    bool clean_session = true;
    std::uint16_t keep_alive_s = 60;
    std::chrono::nanoseconds connect_timeout{std::chrono::seconds(10)};
    std::size_t max_packet_size = 17 * 1024 * 1024;
};

class client {
  public:
    client(boost::asio::io_context& ioc, const client_settings& settings, std::string client_id,
           worker_stats& stats, run_shared& shared);
    virtual ~client() = default;
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // Opens the connection (TCP, TLS, WebSocket, CONNECT) under the deadline.
    void start();
    // Ends the connection: DISCONNECT then close when up, close otherwise. A
    // client still connecting counts as failed ("not ready at the end").
    void shutdown();

    bool started() const { return state_ != state::idle; }
    // Set once, on the worker thread; read by the runner between phases.
    bool ready() const { return ready_.load(std::memory_order_acquire); }
    bool up() const { return state_ == state::up; }
    // Never started, or closed.
    bool finished() const { return state_ == state::idle || state_ == state::closed; }

  protected:
    // CONNACK 0 arrived (connect time recorded). The role settles, or goes on
    // (a subscriber subscribes first).
    virtual void on_connack() = 0;
    // Every packet after CONNACK but PINGRESP.
    virtual void on_packet(mqtt::packet& p) = 0;
    // The write buffer emptied: room for more.
    virtual void on_drained() {}
    // The connection is gone (any reason): stop the role's timers.
    virtual void on_closed() {}

    void send(const mqtt::packet& p);
    // Bytes queued or being written.
    std::size_t backlog() const { return pending_.size() + writing_.size(); }
    void settle_ready();
    // Failure before settling (counted as a connect failure), or a protocol
    // failure after (counted as a lost connection).
    void fail(const std::string& reason);

    boost::asio::io_context& ioc_;
    const client_settings& settings_;
    worker_stats& stats_;
    run_shared& shared_;

  private:
    enum class state { idle, connecting, up, closing, closed };

    void on_transport(boost::system::error_code ec, connect_stage stage);
    void read();
    void on_read(std::size_t n);
    void dispatch(mqtt::packet& p);
    void flush();
    void arm_ping();
    void close_now();

    std::string client_id_;
    std::unique_ptr<stream> stream_;
    mqtt::framer framer_;
    std::vector<char> read_buffer_;
    std::string pending_, writing_;
    bool write_active_ = false;
    state state_ = state::idle;
    bool settled_ = false;
    bool connack_seen_ = false;
    std::atomic<bool> ready_{false};
    std::int64_t started_ns_ = 0;
    std::int64_t last_write_ns_ = 0;
    boost::asio::steady_timer connect_timer_;
    boost::asio::steady_timer ping_timer_;
};

}  // namespace bench
