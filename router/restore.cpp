// router_core::restore: the router's state rebuilt from its store at startup.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

#include "common/util/wall_clock.hpp"
#include "router/router_core.hpp"
#include "router/session_transfer.hpp"

namespace router {

namespace {

outbound_state in_memory(store::outbound_state s) {
    switch (s) {
        case store::outbound_state::awaiting_pubrec:
            return outbound_state::awaiting_pubrec;
        case store::outbound_state::awaiting_pubcomp:
            return outbound_state::awaiting_pubcomp;
        default:
            return outbound_state::awaiting_puback;
    }
}

}  // namespace

void router_core::restore(store::loaded_state&& state) {
    std::unordered_map<std::uint64_t, message_ptr> messages;
    for (auto& [id, stored] : state.messages) {
        auto m = from_stored(std::move(stored));
        hlc_ = std::max(hlc_, m->stamp);
        journal_.adopt(*m, id);
        messages.emplace(id, std::move(m));
    }
    for (auto& [topic, stored] : state.retained) {
        auto m = from_stored(std::move(stored));
        hlc_ = std::max(hlc_, m->stamp);
        retained_.set(m);
    }
    if (auto it = state.meta.find("hlc"); it != state.meta.end()) hlc_ = std::max(hlc_, it->second);

    std::size_t restored = 0, entries = 0, repaired = 0;
    for (auto& [client_id, loaded] : state.sessions) {
        if (!loaded.has_record || sessions_.find(client_id)) {
            journal_.raw().erase_session(client_id);  // records without their session
            ++repaired;
            continue;
        }
        auto fresh = std::make_unique<session>();
        session& s = *fresh;
        s.client_id = client_id;
        s.id = next_id_++;
        s.clean = false;
        s.subscriptions = std::move(loaded.record.subscriptions);
        s.last_packet_id = loaded.record.last_packet_id;
        for (const auto& o : loaded.outbound) {
            message_ptr msg;
            if (auto it = messages.find(o.message_id); o.message_id != 0 && it != messages.end())
                msg = it->second;
            if (!msg && o.state != store::outbound_state::awaiting_pubcomp) {
                journal_.raw().erase_outbound(client_id, o.seq);  // its message is gone
                ++repaired;
                continue;
            }
            if (o.state == store::outbound_state::awaiting_pubcomp && msg) {
                journal_.raw().erase_outbound(client_id, o.seq);  // not expected: rewrite it
                journal_.raw().put_outbound(client_id,
                                            {o.seq, o.state, o.packet_id, o.qos, o.retain, 0});
                msg.reset();
            }
            if (msg) ++msg->store_refs;
            if (o.state == store::outbound_state::queued)
                s.queue.push_back({msg, o.qos, o.retain, o.seq});
            else
                s.inflight.push_back(
                    {o.packet_id, in_memory(o.state), o.qos, o.retain, msg, o.seq});
            s.next_seq = std::max(s.next_seq, o.seq + 1);
            ++entries;
        }
        s.inbound_qos2.insert(loaded.inbound_qos2.begin(), loaded.inbound_qos2.end());
        // The expiry clock goes on from where the store says it stood (a
        // session without a deadline starts it now).
        s.offline_since = now_;
        s.expiry_deadline_ms = loaded.record.expiry_ms;
        if (s.expiry_deadline_ms != 0 && settings_.session_expiry.count() != 0) {
            const auto wall_ms = util::wall_clock_ms();
            const auto left_ms =
                s.expiry_deadline_ms > wall_ms ? s.expiry_deadline_ms - wall_ms : 0;
            const auto expiry_ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(settings_.session_expiry);
            s.offline_since =
                now_ - (expiry_ms - std::min(expiry_ms, std::chrono::milliseconds(left_ms)));
        }
        recount_queue(s);
        for (const auto& [filter, qos] : s.subscriptions) tree_.subscribe(filter, s.id, qos);
        sessions_.add(std::move(fresh));
        ++restored;
    }
    // Outboxes towards peers: sent again when each peer answers.
    std::size_t forwards = 0;
    for (const auto& [peer, entries] : state.forward) {
        auto& ob = outboxes_[peer];
        for (const auto& f : entries) {
            auto it = messages.find(f.message_id);
            if (it == messages.end()) {
                journal_.raw().erase_forward(peer, f.stamp);  // its message is gone
                ++repaired;
                continue;
            }
            ++it->second->store_refs;
            ob.entries.push_back(it->second);
            ob.bytes += it->second->payload->size();
            ++forwards;
        }
    }
    // What this router committed from each peer: what peers send again up to
    // there is a duplicate.
    for (const auto& [name, value] : state.meta)
        if (name.rfind("hw/", 0) == 0) taken_hw_[name.substr(3)] = value;

    for (const auto& [id, m] : messages) {
        if (m->store_refs != 0) continue;
        journal_.raw().erase_message(id);  // nobody refers to it any more
        ++repaired;
    }
    spdlog::info(
        "router: restored {} persistent sessions ({} queued or in-flight messages), {} "
        "retained messages, {} messages for peers{}",
        restored, entries, retained_.size(), forwards,
        repaired ? fmt::format("; {} stale records removed", repaired) : std::string());
}

}  // namespace router
