// A publishing client. Open loop (default): message k of publisher i is
// scheduled at first + k / rate, first = start + a random phase in [0,
// 1/rate) so publishers do not fire in lockstep; every message scheduled
// before the end is sent as soon as it is due and the window allows, and its
// payload carries the *scheduled* time, so a stall (broker, network or this
// process) shows in the latency instead of silently lowering the rate
// (no coordinated omission). Closed loop: as fast as the window allows, the
// payload carrying the actual send time.
//
// Window: QoS 1/2 sends awaiting PUBACK/PUBCOMP (closed loop: --inflight;
// open loop: 65000, the packet-id space), and at most a few packets' worth of
// bytes queued at the socket (closed loop QoS 0: --inflight packets), so a
// stalled broker never makes the backlog grow in memory: it stays implicit
// in the schedule. Sends that are still due when the run ends are counted as
// not sent.
//
// Owned by its worker; runs on the worker's thread.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "tools/mqtt-bench/client.hpp"

namespace bench {

struct publish_plan {
    std::uint8_t qos = 0;
    std::size_t payload = 64;
    bool closed_loop = false;
    double rate = 10;         // open loop, per publisher
    unsigned inflight = 100;  // closed loop
    std::uint32_t run_tag = 0;
};

class publisher final : public client {
  public:
    publisher(boost::asio::io_context& ioc, const client_settings& settings, std::string client_id,
              worker_stats& stats, run_shared& shared, const publish_plan& plan,
              std::uint32_t index, std::string topic, std::int64_t phase_ns);

    // Starts sending at start_ns, until end_ns (clock.hpp); each
    // acknowledged send is expected by `fanout` ready subscribers.
    void begin(std::int64_t start_ns, std::int64_t end_ns, unsigned fanout);
    // No more sends; counts the ones due but not sent. Before shutdown().
    void stop_sending();

    std::uint32_t index() const { return index_; }
    // Read by the runner after the threads joined.
    std::uint64_t sent() const { return next_seq_; }
    std::uint64_t acknowledged() const { return acknowledged_; }

  private:
    void on_connack() override { settle_ready(); }
    void on_packet(mqtt::packet& p) override;
    void on_drained() override { pump(); }
    void on_closed() override;

    void pump();
    bool window_open() const;
    std::uint64_t due_by(std::int64_t t) const;  // open loop: messages scheduled before t
    std::int64_t scheduled(std::uint64_t seq) const;
    void publish_one(std::int64_t send_ns);
    void acknowledge();
    std::uint16_t next_packet_id();

    const publish_plan& plan_;
    std::uint32_t index_;
    std::string topic_;
    std::int64_t phase_ns_;
    std::int64_t interval_ns_;
    std::int64_t first_ns_ = 0;
    std::int64_t end_ns_ = 0;
    unsigned fanout_ = 0;
    bool sending_ = false;
    std::uint64_t next_seq_ = 0;
    std::uint64_t acknowledged_ = 0;
    std::size_t max_backlog_;
    unsigned window_;
    std::uint16_t last_id_ = 0;
    std::unordered_map<std::uint16_t, bool> inflight_;  // packet id -> PUBREC seen (QoS 2)
    std::string payload_;
    boost::asio::steady_timer timer_;
    std::int64_t timer_for_ = -1;  // the schedule time the timer waits for, -1: none
};

}  // namespace bench
