#include "tools/mqtt-bench/publisher.hpp"

#include <algorithm>
#include <cmath>

#include "tools/mqtt-bench/clock.hpp"
#include "tools/mqtt-bench/payload.hpp"

namespace bench {

using boost::system::error_code;

publisher::publisher(boost::asio::io_context& ioc, const client_settings& settings,
                     std::string client_id, worker_stats& stats, run_shared& shared,
                     const publish_plan& plan, std::uint32_t index, std::string topic,
                     std::int64_t phase_ns)
    : client(ioc, settings, std::move(client_id), stats, shared),
      plan_(plan),
      index_(index),
      topic_(std::move(topic)),
      phase_ns_(phase_ns),
      interval_ns_(std::max<std::int64_t>(1, std::llround(1e9 / plan.rate))),
      timer_(ioc) {
    const std::size_t packet = plan.payload + topic_.size() + 9;
    if (plan.closed_loop) {
        window_ = plan.inflight;
        max_backlog_ =
            plan.qos == 0 ? plan.inflight * packet : std::max<std::size_t>(64 * 1024, 4 * packet);
    } else {
        window_ = 65'000;
        max_backlog_ = std::max<std::size_t>(64 * 1024, 4 * packet);
    }
}

void publisher::begin(std::int64_t start_ns, std::int64_t end_ns, unsigned fanout) {
    if (!up()) return;
    first_ns_ = start_ns + (plan_.closed_loop ? 0 : phase_ns_);
    end_ns_ = end_ns;
    fanout_ = fanout;
    sending_ = true;
    if (plan_.closed_loop) {
        timer_for_ = first_ns_;
        timer_.expires_at(to_time_point(first_ns_));
        timer_.async_wait([this](error_code ec) {
            timer_for_ = -1;
            if (!ec) pump();
        });
    } else {
        pump();
    }
}

std::int64_t publisher::scheduled(std::uint64_t seq) const {
    return first_ns_ + static_cast<std::int64_t>(seq) * interval_ns_;
}

std::uint64_t publisher::due_by(std::int64_t t) const {
    const std::int64_t last = std::min(t, end_ns_);  // scheduled strictly before `last`
    if (last <= first_ns_) return 0;
    return static_cast<std::uint64_t>((last - first_ns_ - 1) / interval_ns_ + 1);
}

bool publisher::window_open() const {
    if (backlog() >= max_backlog_) return false;
    return plan_.qos == 0 || inflight_.size() < window_;
}

void publisher::pump() {
    if (!sending_ || !up()) return;
    const std::int64_t now = now_ns();
    if (plan_.closed_loop) {
        if (now < first_ns_) return;  // the start timer is armed
        if (now >= end_ns_) {
            sending_ = false;
            return;
        }
        while (window_open()) publish_one(now_ns());
        return;  // resumed by an ack or a drained write
    }
    const std::uint64_t due = due_by(now);
    while (next_seq_ < due && window_open()) publish_one(scheduled(next_seq_));
    if (next_seq_ >= due_by(end_ns_)) {
        sending_ = false;  // everything scheduled has gone out
        return;
    }
    if (next_seq_ < due) return;  // window closed: resumed by an ack or a drained write
    const std::int64_t at = scheduled(next_seq_);
    if (timer_for_ == at) return;
    timer_for_ = at;
    timer_.expires_at(to_time_point(at));
    timer_.async_wait([this](error_code ec) {
        if (ec) return;
        timer_for_ = -1;
        pump();
    });
}

void publisher::publish_one(std::int64_t send_ns) {
    payload_header h;
    h.run_tag = plan_.run_tag;
    h.publisher = index_;
    h.sequence = next_seq_;
    h.send_ns = static_cast<std::uint64_t>(send_ns);
    mqtt::publish p;
    p.qos = plan_.qos;
    p.topic = topic_;
    encode_payload(h, plan_.payload, payload_);
    p.payload = std::move(payload_);
    if (plan_.qos > 0) {
        p.packet_id = next_packet_id();
        inflight_.emplace(p.packet_id, false);
        shared_.outstanding.fetch_add(1, std::memory_order_relaxed);
    }
    send(p);
    payload_ = std::move(p.payload);
    ++next_seq_;
    ++stats_.sent;
    if (shared_.in_window(send_ns)) ++stats_.sent_in_window;
    if (plan_.qos == 0) {
        ++acknowledged_;
        ++stats_.acknowledged;
        shared_.expected_deliveries.fetch_add(fanout_, std::memory_order_relaxed);
    }
}

std::uint16_t publisher::next_packet_id() {
    do {
        last_id_ = static_cast<std::uint16_t>(last_id_ == 65535 ? 1 : last_id_ + 1);
    } while (inflight_.count(last_id_));
    return last_id_;
}

void publisher::acknowledge() {
    ++acknowledged_;
    ++stats_.acknowledged;
    shared_.outstanding.fetch_sub(1, std::memory_order_relaxed);
    shared_.expected_deliveries.fetch_add(fanout_, std::memory_order_relaxed);
    pump();
}

void publisher::on_packet(mqtt::packet& p) {
    if (auto* a = std::get_if<mqtt::puback>(&p)) {
        auto it = inflight_.find(a->packet_id);
        if (plan_.qos == 1 && it != inflight_.end()) {
            inflight_.erase(it);
            acknowledge();
        }
    } else if (auto* r = std::get_if<mqtt::pubrec>(&p)) {
        auto it = inflight_.find(r->packet_id);
        if (it != inflight_.end()) it->second = true;
        send(mqtt::pubrel{r->packet_id});  // answered even when unknown ([MQTT-4.3.3-1])
    } else if (auto* c = std::get_if<mqtt::pubcomp>(&p)) {
        auto it = inflight_.find(c->packet_id);
        if (plan_.qos == 2 && it != inflight_.end() && it->second) {
            inflight_.erase(it);
            acknowledge();
        }
    } else if (auto* rel = std::get_if<mqtt::pubrel>(&p)) {
        send(mqtt::pubcomp{rel->packet_id});  // a leftover of a persistent session
    }
}

void publisher::stop_sending() {
    if (!plan_.closed_loop && first_ns_ != 0) {
        const std::uint64_t due = due_by(now_ns());
        if (due > next_seq_) stats_.not_sent += due - next_seq_;
    }
    sending_ = false;
    timer_.cancel();
}

void publisher::on_closed() {
    timer_.cancel();
    timer_for_ = -1;
    // What is still in flight will never be acknowledged on this connection.
    shared_.outstanding.fetch_sub(static_cast<std::int64_t>(inflight_.size()),
                                  std::memory_order_relaxed);
    inflight_.clear();
}

}  // namespace bench
