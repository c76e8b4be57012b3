#include "tools/mqtt-bench/subscriber.hpp"

#include "tools/mqtt-bench/clock.hpp"
#include "tools/mqtt-bench/payload.hpp"

namespace bench {

namespace {
// Sequence numbers beyond this are not ours (the tracker's bitmap would grow
// with them): 2^36 messages is days at a million per second.
constexpr std::uint64_t max_sequence = std::uint64_t{1} << 36;
}  // namespace

subscriber::subscriber(boost::asio::io_context& ioc, const client_settings& settings,
                       std::string client_id, worker_stats& stats, run_shared& shared,
                       std::string filter, std::uint8_t qos, std::uint32_t run_tag,
                       std::uint32_t publishers, std::optional<std::uint32_t> only_publisher)
    : client(ioc, settings, std::move(client_id), stats, shared),
      filter_(std::move(filter)),
      qos_(qos),
      run_tag_(run_tag),
      publishers_(publishers),
      only_(only_publisher) {}

void subscriber::on_connack() {
    mqtt::subscribe s;
    s.packet_id = 1;
    s.subscriptions.push_back({filter_, qos_});
    send(s);
}

void subscriber::on_packet(mqtt::packet& p) {
    if (auto* pub = std::get_if<mqtt::publish>(&p)) {
        if (pub->qos == 0) {
            deliver(pub->payload);
        } else if (pub->qos == 1) {
            deliver(pub->payload);
            send(mqtt::puback{pub->packet_id});
        } else {
            if (awaiting_release_.insert(pub->packet_id).second) deliver(pub->payload);
            send(mqtt::pubrec{pub->packet_id});
        }
    } else if (auto* rel = std::get_if<mqtt::pubrel>(&p)) {
        awaiting_release_.erase(rel->packet_id);
        send(mqtt::pubcomp{rel->packet_id});
    } else if (auto* ack = std::get_if<mqtt::suback>(&p)) {
        if (ack->return_codes.empty() || ack->return_codes[0] == mqtt::suback_failure)
            return fail("suback 0x80 (refused)");
        settle_ready();
    }
}

void subscriber::deliver(const std::string& payload) {
    const std::int64_t now = now_ns();
    payload_header h;
    if (!decode_payload(payload, h) || h.run_tag != run_tag_ || h.publisher >= publishers_ ||
        h.sequence >= max_sequence) {
        ++stats_.foreign;
        return;
    }
    if (!expects(h.publisher)) {
        ++stats_.misrouted;
        return;
    }
    ++stats_.received;
    if (shared_.in_window(now)) ++stats_.received_in_window;
    const auto outcome = trackers_[h.publisher].record(h.sequence);
    if (outcome == sequence_tracker::outcome::duplicate) {
        ++stats_.duplicates;
        return;
    }
    if (outcome == sequence_tracker::outcome::reordered) ++stats_.reordered;
    shared_.unique_deliveries.fetch_add(1, std::memory_order_relaxed);
    const auto send_ns = static_cast<std::int64_t>(h.send_ns);
    if (shared_.in_window(send_ns))
        stats_.latency_ns.record(now > send_ns ? static_cast<std::uint64_t>(now - send_ns) : 0);
}

}  // namespace bench
