#include "router/journal.hpp"

#include "router/session_transfer.hpp"

namespace router {

namespace {

store::outbound_state stored_state(outbound_state s) {
    switch (s) {
        case outbound_state::awaiting_puback:
            return store::outbound_state::awaiting_puback;
        case outbound_state::awaiting_pubrec:
            return store::outbound_state::awaiting_pubrec;
        case outbound_state::awaiting_pubcomp:
            return store::outbound_state::awaiting_pubcomp;
    }
    return store::outbound_state::awaiting_puback;
}

}  // namespace

std::uint64_t journal::ref(const message_ptr& m) {
    if (m->store_refs++ == 0) {
        if (m->store_id == 0) m->store_id = next_message_id_++;
        batch_.put_message(m->store_id, to_stored(*m));
    }
    return m->store_id;
}

void journal::unref(const message_ptr& m) {
    if (!m || m->store_refs == 0) return;
    if (--m->store_refs == 0) batch_.erase_message(m->store_id);
}

void journal::adopt(const message& m, std::uint64_t id) {
    m.store_id = id;
    if (id >= next_message_id_) next_message_id_ = id + 1;
}

store::outbound_record journal::record_of(const inflight_entry& f) const {
    store::outbound_record r;
    r.seq = f.seq;
    r.state = stored_state(f.state);
    r.packet_id = f.packet_id;
    r.qos = f.qos;
    r.retain = f.retain;
    r.message_id = f.msg ? f.msg->store_id : 0;
    return r;
}

void journal::put_session(const session& s) {
    if (!tracks(s)) return;
    store::session_record r;
    r.subscriptions = s.subscriptions;
    r.last_packet_id = s.last_packet_id;
    r.expiry_ms = s.expiry_deadline_ms;
    batch_.put_session(s.client_id, r);
}

void journal::erase_session(const session& s) {
    if (!tracks(s)) return;
    for (const auto& f : s.inflight)
        if (f.seq != 0) unref(f.msg);
    for (const auto& q : s.queue)
        if (q.seq != 0) unref(q.msg);
    batch_.erase_session(s.client_id);
}

void journal::rewrite_session(session& s) {
    if (!tracks(s)) return;
    for (const auto& f : s.inflight)
        if (f.seq != 0) unref(f.msg);
    for (const auto& q : s.queue)
        if (q.seq != 0) unref(q.msg);
    batch_.erase_session(s.client_id);
    put_session(s);
    s.next_seq = 1;
    for (auto& f : s.inflight) {
        f.seq = 0;
        add_inflight(s, f);
    }
    for (auto& q : s.queue) {
        q.seq = 0;
        add_queued(s, q);
    }
    for (const auto id : s.inbound_qos2) batch_.put_inbound(s.client_id, id);
}

void journal::add_queued(session& s, queued_entry& q) {
    if (!tracks(s) || q.qos == 0) return;
    q.seq = s.next_seq++;
    store::outbound_record r;
    r.seq = q.seq;
    r.state = store::outbound_state::queued;
    r.qos = q.qos;
    r.retain = q.retain;
    r.message_id = ref(q.msg);
    batch_.put_outbound(s.client_id, r);
}

void journal::add_inflight(session& s, inflight_entry& f) {
    if (!tracks(s)) return;
    f.seq = s.next_seq++;
    if (f.msg) ref(f.msg);
    batch_.put_outbound(s.client_id, record_of(f));
}

void journal::sent_from_queue(const session& s, const inflight_entry& f) {
    if (!tracks(s) || f.seq == 0) return;
    batch_.put_outbound(s.client_id, record_of(f));  // same message: no new reference
}

void journal::pubrec_received(const session& s, const inflight_entry& f,
                              const message_ptr& released) {
    if (!tracks(s) || f.seq == 0) return;
    batch_.put_outbound(s.client_id, record_of(f));  // f.msg already released: id 0
    unref(released);
}

void journal::remove_inflight(const session& s, const inflight_entry& f) {
    if (!tracks(s) || f.seq == 0) return;
    batch_.erase_outbound(s.client_id, f.seq);
    unref(f.msg);
}

void journal::put_inbound(const session& s, std::uint16_t packet_id) {
    if (tracks(s)) batch_.put_inbound(s.client_id, packet_id);
}

void journal::erase_inbound(const session& s, std::uint16_t packet_id) {
    if (tracks(s)) batch_.erase_inbound(s.client_id, packet_id);
}

void journal::retained_changed(const message& m, bool keep_tombstone) {
    if (!enabled_ || m.topic.rfind("$SYS/", 0) == 0) return;
    if ((!m.payload || m.payload->empty()) && !keep_tombstone)
        batch_.erase_retained(m.topic);
    else
        batch_.put_retained(to_stored(m));
}

void journal::put_meta(std::string_view name, std::uint64_t value) {
    if (enabled_) batch_.put_meta(name, value);
}

store::batch journal::take() {
    store::batch out = std::move(batch_);
    batch_ = store::batch();
    return out;
}

void journal::add_forward(const std::string& peer, const message_ptr& m) {
    if (!enabled_) return;
    const std::uint64_t id = ref(m);
    batch_.put_forward(peer, {m->stamp, id});
}

void journal::remove_forward(const std::string& peer, const message_ptr& m) {
    if (!enabled_) return;
    batch_.erase_forward(peer, m->stamp);
    unref(m);
}

void journal::put_high_water(const std::string& origin, std::uint64_t stamp) {
    if (enabled_) batch_.put_meta("hw/" + origin, stamp);
}

}  // namespace router
