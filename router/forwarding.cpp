// router_core: acknowledged forwarding between routers.
//
// Origin side: every reliable message (QoS 1/2, or retained) this router
// accepts goes into the outbox of every peer it knows (journaled, so it
// survives a crash here) and is sent at once to the live ones, chained by
// `prev`. The client's PUBACK/PUBREC is held until every peer that was live
// then acknowledged the stamp (route_ack) or died; held acknowledgements go
// out in the order they were due. A peer that comes back gets its outbox
// again; one that finds a gap asks for it again (route_ack with resend).
//
// Receiver side: a reliable message at or below the origin's high-water mark
// is a duplicate (acknowledged again, not routed); one whose `prev` lies
// above it follows a gap (dropped, resend asked). The others are routed and
// acknowledged at the end of the turn, with the high-water mark journaled,
// so the acknowledgement leaves only after the loop committed them.
#include <spdlog/spdlog.h>

#include "router/router_core.hpp"

namespace router {

namespace {

bool reliable(const message& m) {
    return m.qos > 0 || m.retain;
}

events::route_publish to_event(const message& m, std::uint64_t prev) {
    return {m.origin, m.stamp, m.topic, *m.payload, m.qos, m.retain, m.received_us, prev};
}

}  // namespace

void router_core::forward(const message_ptr& m) {
    if (!reliable(*m)) {
        out_->push_back({std::string(), to_event(*m, 0), destination::all_peers});
        return;
    }
    for (auto& [peer, ob] : outboxes_) {
        if (ob.entries.empty()) ob.waiting_since = now_;
        ob.entries.push_back(m);
        ob.bytes += m->payload->size();
        journal_.add_forward(peer, m);
        if (peers_.contains(peer)) send_forward(peer, ob, m);
        // A dead peer's outbox grows until it returns: bounded.
        while ((settings_.max_forward_messages != 0 &&
                ob.entries.size() > settings_.max_forward_messages) ||
               (settings_.max_forward_bytes != 0 && ob.bytes > settings_.max_forward_bytes &&
                ob.entries.size() > 1)) {
            const message_ptr& old = ob.entries.front();
            ob.bytes -= old->payload->size();
            journal_.remove_forward(peer, old);
            ob.entries.pop_front();
            ob.last_sent = 0;  // the chain is broken: the next send says so
            if (++counters_.forward_dropped % 10000 == 1)
                spdlog::error(
                    "router: the outbox for peer '{}' is full; dropping its oldest messages "
                    "({} so far)",
                    peer, counters_.forward_dropped);
        }
    }
}

void router_core::send_forward(const std::string& peer, peer_outbox& ob, const message_ptr& m) {
    out_->push_back({peer, to_event(*m, ob.last_sent), destination::peer});
    ob.last_sent = m->stamp;
}

void router_core::acknowledge(const conn_ref& to, events::send_ack ack, std::uint64_t stamp) {
    held_ack h{to, ack, stamp, {}};
    if (stamp != 0)
        for (const auto& p : peers_) h.waiting.insert(p);
    if (h.waiting.empty() && held_acks_.empty()) {
        emit(to, ack);
        return;
    }
    ++counters_.acks_held;
    held_acks_.push_back(std::move(h));
}

void router_core::release_held_acks() {
    while (!held_acks_.empty() && held_acks_.front().waiting.empty()) {
        emit(held_acks_.front().to, held_acks_.front().ack);
        held_acks_.pop_front();
    }
}

void router_core::on_route_ack(const events::route_ack& a) {
    for (auto& h : held_acks_) {
        if (h.stamp > a.stamp) break;  // held in stamp order
        h.waiting.erase(a.router_id);
    }
    release_held_acks();
    auto it = outboxes_.find(a.router_id);
    if (it == outboxes_.end()) return;
    trim_outbox(a.router_id, it->second, a.stamp);
    if (a.resend && peers_.contains(a.router_id)) resend_outbox(a.router_id, it->second, a.stamp);
}

void router_core::trim_outbox(const std::string& peer, peer_outbox& ob, std::uint64_t acked) {
    ob.acked = std::max(ob.acked, acked);
    ob.waiting_since = now_;  // progress
    while (!ob.entries.empty() && ob.entries.front()->stamp <= acked) {
        ob.bytes -= ob.entries.front()->payload->size();
        journal_.remove_forward(peer, ob.entries.front());
        ob.entries.pop_front();
    }
}

void router_core::resend_outbox(const std::string& peer, peer_outbox& ob, std::uint64_t acked) {
    ob.last_sent = acked;
    ob.waiting_since = now_;
    for (const auto& m : ob.entries) {
        if (m->stamp <= acked) continue;
        send_forward(peer, ob, m);
        ++counters_.forward_resent;
    }
}

void router_core::nudge_outboxes() {
    // A live peer answers within a loop turn or two; this long without an
    // acknowledgement means one was lost (duplicates it drops).
    const auto patience =
        std::max<clock::duration>(settings_.fetch_timeout, std::chrono::seconds(1));
    for (auto& [peer, ob] : outboxes_) {
        if (ob.entries.empty() || !peers_.contains(peer) || now_ - ob.waiting_since < patience)
            continue;
        spdlog::warn(
            "router: peer '{}' acknowledged nothing for {} ms; sending its {} messages again", peer,
            std::chrono::duration_cast<std::chrono::milliseconds>(now_ - ob.waiting_since).count(),
            ob.entries.size());
        resend_outbox(peer, ob, ob.acked);
    }
}

void router_core::forget_outbox(const std::string& peer) {
    auto it = outboxes_.find(peer);
    if (it == outboxes_.end()) return;
    for (const auto& m : it->second.entries) journal_.remove_forward(peer, m);
    outboxes_.erase(it);
}

bool router_core::take_forwarded(const std::string& from, const events::route_publish& e) {
    auto hw = taken_hw_.find(e.origin);
    const std::uint64_t taken = hw == taken_hw_.end() ? 0 : hw->second;
    if (hw != taken_hw_.end() && e.stamp <= taken) {
        ++counters_.forward_duplicates;
        acks_due_[e.origin] = {from, taken};  // lets the origin trim what it sent again
        return false;
    }
    // A gap: something after `taken` never arrived (lost with a dead process
    // or a broken pipe). Only a store makes "nothing taken yet" a fact; a
    // router without one takes what comes.
    if (e.prev != 0 && e.prev > taken && (hw != taken_hw_.end() || journal_.enabled())) {
        auto [asked, first] = resend_asked_.try_emplace(e.origin, now_);
        if (first || now_ - asked->second >= std::chrono::seconds(1)) {
            asked->second = now_;
            ++counters_.forward_gaps;
            spdlog::warn("router: messages from '{}' after stamp {} are missing; asking again",
                         e.origin, taken);
            out_->push_back(
                {from, events::route_ack{settings_.router_id, taken, true}, destination::socket});
        }
        return false;
    }
    resend_asked_.erase(e.origin);
    taken_hw_[e.origin] = e.stamp;
    acks_due_[e.origin] = {from, e.stamp};
    return true;
}

void router_core::end_turn(std::vector<outgoing>& out) {
    for (const auto& [origin, due] : acks_due_) {
        journal_.put_high_water(origin, due.stamp);
        out.push_back({due.to, events::route_ack{settings_.router_id, due.stamp, false},
                       destination::socket});
    }
    acks_due_.clear();
}

}  // namespace router
