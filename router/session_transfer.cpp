#include "router/session_transfer.hpp"

#include <memory>

namespace router {

namespace {

std::uint8_t state_number(outbound_state s) {
    switch (s) {
        case outbound_state::awaiting_puback:
            return 0;
        case outbound_state::awaiting_pubrec:
            return 1;
        case outbound_state::awaiting_pubcomp:
            return 2;
    }
    return 0;
}

outbound_state state_of(std::uint8_t n) {
    switch (n) {
        case 1:
            return outbound_state::awaiting_pubrec;
        case 2:
            return outbound_state::awaiting_pubcomp;
        default:
            return outbound_state::awaiting_puback;
    }
}

}  // namespace

events::stored_message to_stored(const message& m) {
    return {m.topic, m.payload ? *m.payload : std::string(), m.qos, m.retain, m.stamp, m.origin};
}

message_ptr from_stored(events::stored_message&& m) {
    auto out = std::make_shared<message>();
    out->topic = std::move(m.topic);
    out->payload = std::make_shared<const std::string>(std::move(m.payload));
    out->qos = m.qos;
    out->retain = m.retain;
    out->stamp = m.stamp;
    out->origin = std::move(m.origin);
    return out;
}

void export_session(const session& s, events::session_state& out) {
    out.client_id = s.client_id;
    out.subscriptions.clear();
    for (const auto& [filter, qos] : s.subscriptions) out.subscriptions.push_back({filter, qos});
    out.inflight.clear();
    for (const auto& f : s.inflight) {
        auto& e = out.inflight.emplace_back();
        e.packet_id = f.packet_id;
        e.state = state_number(f.state);
        e.qos = f.qos;
        e.retain = f.retain;
        if (f.msg) e.message = to_stored(*f.msg);
    }
    out.queue.clear();
    for (const auto& q : s.queue) out.queue.push_back({to_stored(*q.msg), q.qos, q.retain});
    out.inbound_qos2.assign(s.inbound_qos2.begin(), s.inbound_qos2.end());
    out.last_packet_id = s.last_packet_id;
}

void import_session(events::session_state&& in, session& s) {
    s.subscriptions.clear();
    for (auto& sub : in.subscriptions) s.subscriptions[std::move(sub.filter)] = sub.qos;
    s.inflight.clear();
    for (auto& f : in.inflight) {
        const auto state = state_of(f.state);
        // An entry awaiting PUBACK/PUBREC needs its message to be re-sent.
        if (state != outbound_state::awaiting_pubcomp && !f.message) continue;
        inflight_entry e{f.packet_id, state, f.qos, f.retain, nullptr};
        if (f.message && state != outbound_state::awaiting_pubcomp)
            e.msg = from_stored(std::move(*f.message));
        s.inflight.push_back(std::move(e));
    }
    s.queue.clear();
    for (auto& q : in.queue)
        s.queue.push_back({from_stored(std::move(q.message)), q.qos, q.retain});
    s.inbound_qos2.clear();
    s.inbound_qos2.insert(in.inbound_qos2.begin(), in.inbound_qos2.end());
    s.last_packet_id = in.last_packet_id;
}

}  // namespace router
