#include "tools/mqtt-bench/client.hpp"

#include <boost/asio/error.hpp>

#include "common/mqtt/decoder.hpp"
#include "common/mqtt/encoder.hpp"
#include "tools/mqtt-bench/clock.hpp"

namespace bench {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

std::string connack_reason(std::uint8_t code) {
    static const char* const names[] = {
        "accepted",           "unacceptable protocol version", "identifier rejected",
        "server unavailable", "bad user name or password",     "not authorized"};
    std::string text = "connack " + std::to_string(code);
    if (code < std::size(names)) text += std::string(" (") + names[code] + ")";
    return text;
}

}  // namespace

client::client(asio::io_context& ioc, const client_settings& settings, std::string client_id,
               worker_stats& stats, run_shared& shared)
    : ioc_(ioc),
      settings_(settings),
      stats_(stats),
      shared_(shared),
      client_id_(std::move(client_id)),
      framer_(settings.max_packet_size),
      connect_timer_(ioc),
      ping_timer_(ioc) {}

void client::start() {
    if (state_ != state::idle) return;
    state_ = state::connecting;
    started_ns_ = now_ns();
    ++stats_.connect_attempts;
    stream_ = make_stream(ioc_, settings_.url, settings_.tls, settings_.verify_host);
    connect_timer_.expires_after(settings_.connect_timeout);
    connect_timer_.async_wait([this](error_code ec) {
        if (!ec && !settled_) fail(connack_seen_ ? "timeout (no SUBACK)" : "timeout");
    });
    stream_->async_connect(settings_.endpoints,
                           [this](error_code ec, connect_stage stage) { on_transport(ec, stage); });
}

void client::on_transport(error_code ec, connect_stage stage) {
    if (state_ != state::connecting) return;
    if (ec) return fail(std::string(name_of(stage)) + ": " + ec.message());
    mqtt::connect c;
    c.clean_session = settings_.clean_session;
    c.keep_alive = settings_.keep_alive_s;
    c.client_id = client_id_;
    c.username = settings_.username;
    c.password = settings_.password;
    read_buffer_.resize(16 * 1024);
    send(c);
    read();
}

void client::read() {
    stream_->async_read_some(asio::buffer(read_buffer_), [this](error_code ec, std::size_t n) {
        if (state_ == state::closed) return;
        if (ec) {
            if (state_ == state::closing) return close_now();
            return fail(ec == asio::error::eof ? "closed by the server" : "read: " + ec.message());
        }
        on_read(n);
    });
}

void client::on_read(std::size_t n) {
    framer_.feed(std::string_view(read_buffer_.data(), n));
    for (;;) {
        error_code ec;
        auto raw = framer_.next(ec);
        if (ec) return fail("framing: " + ec.message());
        if (!raw) break;
        auto p = mqtt::decode(*raw, ec);
        if (ec) return fail("decode: " + ec.message());
        dispatch(*p);
        if (state_ == state::closed) return;
    }
    read();
}

void client::dispatch(mqtt::packet& p) {
    if (!connack_seen_) {
        auto* ack = std::get_if<mqtt::connack>(&p);
        if (!ack) return fail("protocol: expected CONNACK");
        if (ack->return_code != 0) return fail(connack_reason(ack->return_code));
        connack_seen_ = true;
        state_ = state::up;
        stats_.connect_time_ns.record(static_cast<std::uint64_t>(now_ns() - started_ns_));
        arm_ping();
        on_connack();
        return;
    }
    if (std::holds_alternative<mqtt::pingresp>(p)) return;
    if (std::holds_alternative<mqtt::connack>(p)) return fail("protocol: second CONNACK");
    on_packet(p);
}

void client::settle_ready() {
    if (settled_) return;
    settled_ = true;
    connect_timer_.cancel();
    ++stats_.connected;
    ready_.store(true, std::memory_order_release);
    shared_.ready.fetch_add(1);
    shared_.settled.fetch_add(1);
}

void client::fail(const std::string& reason) {
    if (state_ == state::closed) return;
    if (!settled_) {
        settled_ = true;
        ++stats_.connect_failures;
        ++stats_.connect_errors[reason];
        shared_.settled.fetch_add(1);
    } else if (state_ != state::closing) {
        ++stats_.connections_lost;
        ++stats_.lost_reasons[reason];
    }
    close_now();
}

void client::send(const mqtt::packet& p) {
    if (state_ != state::connecting && state_ != state::up) return;
    mqtt::encode(p, pending_);
    last_write_ns_ = now_ns();
    if (!write_active_) flush();
}

void client::flush() {
    writing_.swap(pending_);
    pending_.clear();
    write_active_ = true;
    stream_->async_write(asio::buffer(writing_), [this](error_code ec, std::size_t) {
        write_active_ = false;
        writing_.clear();
        if (state_ == state::closed) return;
        if (ec) {
            if (state_ == state::closing) return close_now();
            return fail("write: " + ec.message());
        }
        if (!pending_.empty()) return flush();
        if (state_ == state::closing) return close_now();
        on_drained();
    });
}

void client::arm_ping() {
    if (settings_.keep_alive_s == 0) return;
    const auto half = std::chrono::milliseconds(settings_.keep_alive_s * 500);
    ping_timer_.expires_after(half);
    ping_timer_.async_wait([this, half](error_code ec) {
        if (ec || state_ != state::up) return;
        const auto idle = std::chrono::nanoseconds(now_ns() - last_write_ns_);
        if (idle >= half) send(mqtt::pingreq{});
        arm_ping();
    });
}

void client::shutdown() {
    switch (state_) {
        case state::idle:
        case state::closing:
        case state::closed:
            return;
        case state::connecting:
            if (!settled_) return fail("not connected when the run ended");
            return close_now();
        case state::up:
            if (!settled_) {
                // Up but still waiting for SUBACK: a failed setup all the same.
                return fail("not ready when the run ended");
            }
            state_ = state::closing;
            ping_timer_.cancel();
            on_closed();
            mqtt::encode(mqtt::disconnect{}, pending_);
            if (!write_active_) flush();
            return;
    }
}

void client::close_now() {
    if (state_ == state::closed) return;
    state_ = state::closed;
    connect_timer_.cancel();
    ping_timer_.cancel();
    if (stream_) stream_->close();
    on_closed();
}

}  // namespace bench
