// A subscribing client: SUBSCRIBE to one filter at the run's QoS, ready once
// SUBACK grants it (0x80 is a failed setup). Each delivery's payload header
// is checked (this run's tag, a publisher it should hear from) and fed to
// that publisher's sequence_tracker; the latency of unique deliveries whose
// send time lies in the measured window goes to the worker's histogram.
//
// QoS 1 deliveries are answered with PUBACK; QoS 2 with PUBREC, delivered
// once per packet id until its PUBREL (answered with PUBCOMP).
//
// Owned by its worker; runs on the worker's thread. trackers() is read by the
// runner after the threads joined.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "tools/mqtt-bench/client.hpp"
#include "tools/mqtt-bench/sequence_tracker.hpp"

namespace bench {

class subscriber final : public client {
  public:
    // only_publisher: p2p (the one publisher it expects); empty: all
    // `publishers` of the run.
    subscriber(boost::asio::io_context& ioc, const client_settings& settings, std::string client_id,
               worker_stats& stats, run_shared& shared, std::string filter, std::uint8_t qos,
               std::uint32_t run_tag, std::uint32_t publishers,
               std::optional<std::uint32_t> only_publisher);

    bool expects(std::uint32_t publisher) const { return !only_ || *only_ == publisher; }
    const std::unordered_map<std::uint32_t, sequence_tracker>& trackers() const {
        return trackers_;
    }

  private:
    void on_connack() override;
    void on_packet(mqtt::packet& p) override;
    void deliver(const std::string& payload);

    std::string filter_;
    std::uint8_t qos_;
    std::uint32_t run_tag_;
    std::uint32_t publishers_;
    std::optional<std::uint32_t> only_;
    std::unordered_map<std::uint32_t, sequence_tracker> trackers_;
    std::unordered_set<std::uint16_t> awaiting_release_;  // QoS 2 ids delivered, before PUBREL
};

}  // namespace bench
