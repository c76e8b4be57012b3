#include "router/router_core.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/topic/topic.hpp"
#include "common/util/wall_clock.hpp"
namespace router {

namespace {

// One message, its payload shared by every receiver.
std::shared_ptr<message> make_message(std::string topic, std::string payload, std::uint8_t qos,
                                      bool retain, std::uint64_t stamp, std::string origin) {
    auto m = std::make_shared<message>();
    m->topic = std::move(topic);
    m->payload = std::make_shared<const std::string>(std::move(payload));
    m->qos = qos;
    m->retain = retain;
    m->stamp = stamp;
    m->origin = std::move(origin);
    return m;
}

}  // namespace

void router_core::handle(const std::string& from, events::event&& e, std::vector<outgoing>& out) {
    out_ = &out;
    dispatch(from, std::move(e), true);
    out_ = nullptr;
}

void router_core::dispatch(const std::string& from, events::event&& e, bool fetch) {
    const conn_ref c{intern(from), events::conn_of(e)};
    // A connection whose CONNECT waits for a session fetch: keep its events
    // (and later CONNECTs of the same client id) for when the fetch completes.
    if (c.conn != 0 && !pending_conns_.empty()) {
        if (auto it = pending_conns_.find(c); it != pending_conns_.end()) {
            pending_.at(it->second).buffered.emplace_back(from, std::move(e));
            return;
        }
    }
    std::visit(
        [&](auto&& ev) {
            using T = std::decay_t<decltype(ev)>;
            if constexpr (std::is_same_v<T, events::client_connect>)
                on_connect(from, std::move(ev), fetch);
            else if constexpr (std::is_same_v<T, events::client_publish>)
                on_publish(c, std::move(ev));
            else if constexpr (std::is_same_v<T, events::client_ack>)
                on_ack(c, ev);
            else if constexpr (std::is_same_v<T, events::client_subscribe>)
                on_subscribe(c, std::move(ev));
            else if constexpr (std::is_same_v<T, events::client_unsubscribe>)
                on_unsubscribe(c, std::move(ev));
            else if constexpr (std::is_same_v<T, events::client_disconnect>)
                on_disconnect(c, ev);
            else if constexpr (std::is_same_v<T, events::route_publish>)
                on_route_publish(from, std::move(ev));
            else if constexpr (std::is_same_v<T, events::route_ack>)
                on_route_ack(ev);
            else if constexpr (std::is_same_v<T, events::session_fetch>)
                on_session_fetch(from, std::move(ev));
            else if constexpr (std::is_same_v<T, events::session_state>)
                on_session_state(from, std::move(ev));
            else if constexpr (std::is_same_v<T, events::session_state_ack>) {
                // Durable at its new owner: now it may go from our store
                // (unless it came back here meanwhile).
                auto it = unacked_pushes_.find(ev.client_id);
                if (it != unacked_pushes_.end() && it->second == ev.sender) {
                    unacked_pushes_.erase(it);
                    if (!sessions_.find(ev.client_id)) journal_.raw().erase_session(ev.client_id);
                }
            } else if constexpr (std::is_same_v<T, events::retained_sync_request>)
                on_retained_sync_request(from, ev);
            else if constexpr (std::is_same_v<T, events::retained_sync>)
                on_retained_sync(std::move(ev));
            // hello, heartbeats, leaving and router->frontend kinds: nothing
            // for the core (router_loop handles membership).
        },
        std::move(e));
}

void router_core::frontend_lost(const std::string& frontend, std::vector<outgoing>& out) {
    std::vector<conn_ref> lost;
    sessions_.for_each_connection([&](const conn_ref& c) {
        if (*c.frontend == frontend) lost.push_back(c);
    });
    out_ = &out;
    // Its connections still waiting for a fetch end when the fetch completes
    // (the session they fetched is kept).
    for (auto& [request, p] : pending_) {
        std::vector<events::conn_id> ended;
        if (p.frontend == frontend) ended.push_back(p.connect.conn);
        for (const auto& [from, ev] : p.buffered)
            if (from == frontend && std::holds_alternative<events::client_connect>(ev))
                ended.push_back(events::conn_of(ev));
        for (auto id : ended)
            p.buffered.emplace_back(frontend, events::client_disconnect{
                                                  id, events::disconnect_reason::connection_lost});
    }
    for (const auto& c : lost)
        on_disconnect(
            c, events::client_disconnect{c.conn, events::disconnect_reason::connection_lost});
    out_ = nullptr;
    forget_unused_frontend_ids();
}

void router_core::forget_unused_frontend_ids() {
    // Rare (a frontend went away) and linear in the connections: fine.
    std::unordered_set<const std::string*> used;
    // A connected session's conn is always known to the table (a takeover
    // keeps it as detached): no need to scan the sessions.
    sessions_.for_each_connection([&](const conn_ref& c) { used.insert(c.frontend); });
    for (const auto& [c, request] : pending_conns_) used.insert(c.frontend);
    for (const auto& h : held_acks_) used.insert(h.to.frontend);
    last_interned_ = nullptr;
    for (auto it = frontend_ids_.begin(); it != frontend_ids_.end();)
        it = used.count(&*it) != 0 ? std::next(it) : frontend_ids_.erase(it);
}

const session* router_core::find_session(std::string_view client_id) const {
    return sessions_.find(client_id);
}

session* router_core::session_of(const conn_ref& c) {
    return sessions_.find(c);
}

void router_core::emit(const conn_ref& to, events::event e) {
    out_->push_back({*to.frontend, std::move(e), destination::socket});
}

// ---- CONNECT --------------------------------------------------------------

void router_core::connect_local(const std::string& frontend, events::client_connect&& e) {
    const conn_ref me{intern(frontend), e.conn};
    if (sessions_.knows(me)) {
        // A frontend never reuses a live conn id; this is a frontend bug.
        spdlog::warn("router: duplicate connect for live conn {} of '{}' ignored", e.conn,
                     frontend);
        return;
    }

    session* s = nullptr;
    if (session* found = sessions_.find(e.client_id)) {
        s = found;
        if (s->conn) {
            // Takeover (MQTT-3.1.4-2): close the old connection, fire its will,
            // and forget it; its later client_disconnect is then ignored.
            ++counters_.sessions_taken_over;
            emit(*s->conn,
                 events::close_connection{s->conn->conn, events::disconnect_reason::taken_over});
            sessions_.detach(*s);
            s->offline_since = now_;
            publish_will(*s);
        }
        // A session that was clean lives only as long as its connection;
        // clean_session=1 discards any state (MQTT-3.1.2-6).
        if (s->clean || e.clean_session) {
            end_session(*s);
            s = nullptr;
        }
    }

    const bool session_present = s != nullptr;  // MQTT-3.2.2-2
    if (!s) {
        auto fresh = std::make_unique<session>();
        fresh->client_id = e.client_id;
        fresh->id = next_id_++;
        s = &sessions_.add(std::move(fresh));
    }
    s->clean = e.clean_session;
    if (!session_present || s->expiry_deadline_ms != 0) {
        s->expiry_deadline_ms = 0;  // online: no expiry
        journal_.put_session(*s);
    }
    sessions_.connect(*s, me);
    s->set_will(std::move(e.will_message));
    s->connected_here = true;
    if (acl_ || s->acl) {  // (an ACL was ever set: the username is kept, see set_acl)
        if (!s->acl) s->acl = std::make_unique<acl_identity>();
        s->acl->username = e.username;
        if (acl_) acl_identify(*s);
    }

    emit(me, events::connack{e.conn, session_present, 0, settings_.incarnation});
    if (session_present) {
        resend_inflight(*s);
        pump(*s);
    }
}

// ---- PUBLISH from a client -------------------------------------------------

void router_core::on_publish(const conn_ref& from, events::client_publish&& e) {
    // Unknown, or taken over (MQTT-3.1.4-2): that connection is being closed and
    // is no longer the session's. Its PUBLISH is neither routed nor acknowledged;
    // the client re-sends QoS 1/2 on its new connection, where the session's
    // inbound QoS 2 state applies (routing it here too would break exactly once,
    // MQTT-4.3.3-2).
    session* s = session_of(from);
    if (!s) return;
    if (acl_ && !acl_may_publish(*s, e.topic)) return acl_refuse(from, e);

    ++counters_.messages_received;
    const auto qos = e.qos;
    const auto packet_id = e.packet_id;
    if (qos == 2) {
        // Exactly once (MQTT-4.3.3-2): a re-sent PUBLISH whose id still awaits
        // PUBREL was already routed; only acknowledge it again.
        if (!s->inbound_qos2.insert(packet_id)) {
            ++counters_.duplicate_qos2;
            acknowledge(from, events::send_ack{from.conn, events::ack_kind::pubrec, packet_id}, 0);
            return;
        }
        journal_.put_inbound(*s, packet_id);
    }

    const auto stamp =
        accept(std::move(e.topic), std::move(e.payload), qos, e.retain, e.received_us);

    // Acknowledgement follows durability: here (the loop commits before it
    // sends) and at every live peer (route_ack).
    if (qos == 1)
        acknowledge(from, events::send_ack{from.conn, events::ack_kind::puback, packet_id}, stamp);
    else if (qos == 2)
        acknowledge(from, events::send_ack{from.conn, events::ack_kind::pubrec, packet_id}, stamp);
}

void router_core::route(const message_ptr& msg) {
    history_.add(msg, now_);
    tree_.match(msg->topic, match_scratch_);
    // First deliveries are collected (send_publish) and leave as one event
    // per frontend below: nothing else is emitted for these connections in
    // between, so each one's order of events holds.
    fanout_.clear();
    collecting_ = true;
    for (const auto& [id, sub_qos] : match_scratch_) {
        session* found = sessions_.find(id);
        if (!found) continue;
        session& s = *found;
        if (auto* floor = s.floor()) {  // moved here lately: skip what it already had
            if (auto f = floor->find(msg->origin); f != floor->end()) {
                const bool had = msg->stamp <= f->second;
                if (msg->stamp >= f->second) {
                    floor->erase(f);
                    if (floor->empty()) s.drop_floor();
                }
                if (had) continue;
            }
        }
        deliver(s, msg, std::min(msg->qos, sub_qos), false);  // MQTT-3.3.1-9
    }
    collecting_ = false;
    emit_fanout(msg);
}

void router_core::emit_fanout(const message_ptr& msg) {
    if (fanout_.empty()) return;
    if (fanout_.size() == 1) {
        const auto& f = fanout_.front();
        out_->push_back({*f.frontend,
                         events::deliver{f.target.conn, msg->topic, *msg->payload, f.target.qos,
                                         false, false, f.target.packet_id, msg->received_us},
                         destination::socket});
        return;
    }
    // Group by frontend (few), keeping each one's targets in match order.
    std::stable_sort(
        fanout_.begin(), fanout_.end(),
        [](const fanout_entry& a, const fanout_entry& b) { return *a.frontend < *b.frontend; });
    for (std::size_t i = 0; i < fanout_.size();) {
        std::size_t j = i;
        while (j < fanout_.size() && *fanout_[j].frontend == *fanout_[i].frontend) ++j;
        events::deliver_many many{msg->topic, *msg->payload, false, msg->received_us, {}};
        many.targets.reserve(j - i);
        for (std::size_t k = i; k < j; ++k) many.targets.push_back(fanout_[k].target);
        out_->push_back({*fanout_[i].frontend, std::move(many), destination::socket});
        i = j;
    }
    fanout_.clear();
}

void router_core::deliver(session& s, const message_ptr& msg, std::uint8_t qos, bool retain) {
    if (acl_ && !acl_may_deliver(s, *msg)) return;  // the client may not read it
    // Only a first delivery straight from routing measures latency; not a
    // retained message sent on SUBSCRIBE, nor one that waited in a queue.
    const std::uint64_t received_us = retain ? 0 : msg->received_us;
    ++counters_.deliveries_matched;
    if (qos == 0) {
        if (s.online())
            send_publish(s, msg, 0, retain, received_us, 0);
        else
            ++counters_.dropped_qos0_offline;
        return;
    }
    if (s.online() && s.queue.empty() && s.inflight.size() < settings_.max_inflight_messages) {
        send_publish(s, msg, qos, retain, received_us, 0);
        return;
    }
    if (s.queue.size() >= settings_.max_queued_messages) {
        ++counters_.dropped_queue_full;
        return;
    }
    const std::uint64_t size = msg->payload->size();
    if (settings_.max_queued_bytes != 0 && s.queued_bytes + size > settings_.max_queued_bytes) {
        ++counters_.dropped_queue_bytes;
        return;
    }
    if (settings_.max_queued_bytes_total != 0 &&
        queued_bytes_total_ + size > settings_.max_queued_bytes_total) {
        ++counters_.dropped_queue_total;
        return;
    }
    ++counters_.messages_queued;
    s.queued_bytes += size;
    queued_bytes_total_ += size;
    s.queue.push_back({msg, qos, retain});
    journal_.add_queued(s, s.queue.back());
}

void router_core::send_publish(session& s, const message_ptr& msg, std::uint8_t qos, bool retain,
                               std::uint64_t received_us, std::uint64_t seq) {
    std::uint16_t packet_id = 0;
    if (qos > 0) {
        packet_id = s.next_packet_id();
        s.inflight.push_back(
            {packet_id,
             qos == 1 ? outbound_state::awaiting_puback : outbound_state::awaiting_pubrec, qos,
             retain, msg, seq});
        if (seq != 0)
            journal_.sent_from_queue(s, s.inflight.back());
        else
            journal_.add_inflight(s, s.inflight.back());
    }
    ++counters_.messages_delivered;
    if (retain) ++counters_.retained_delivered;
    ++counters_.delivered_by_qos[std::min<std::uint8_t>(qos, 2)];
    counters_.payload_bytes_delivered += msg->payload->size();
    counters_.bytes_delivered_by_qos[std::min<std::uint8_t>(qos, 2)] += msg->payload->size();
    if (collecting_ && !retain && seq == 0) {
        fanout_.push_back({s.conn->frontend, {s.conn->conn, qos, packet_id}});
        return;
    }
    emit(*s.conn, events::deliver{s.conn->conn, msg->topic, *msg->payload, qos, retain, false,
                                  packet_id, received_us});
}

void router_core::pump(session& s) {
    while (s.online() && !s.queue.empty() && s.inflight.size() < settings_.max_inflight_messages) {
        auto q = std::move(s.queue.front());
        s.queue.pop_front();
        s.queued_bytes -= q.msg->payload->size();
        queued_bytes_total_ -= q.msg->payload->size();
        send_publish(s, q.msg, q.qos, q.retain, 0, q.seq);
    }
}

void router_core::resend_inflight(session& s) {
    // MQTT-4.4.0-1: re-send unacknowledged PUBLISH (DUP=1) and PUBREL, in order.
    for (const auto& f : s.inflight) {
        if (f.state == outbound_state::awaiting_pubcomp)
            emit(*s.conn, events::send_ack{s.conn->conn, events::ack_kind::pubrel, f.packet_id});
        else
            emit(*s.conn, events::deliver{s.conn->conn, f.msg->topic, *f.msg->payload, f.qos,
                                          f.retain, true, f.packet_id});
    }
}

// ---- acknowledgements from a client ------------------------------------------

void router_core::on_ack(const conn_ref& from, const events::client_ack& e) {
    session* s = session_of(from);
    if (!s) return;
    using events::ack_kind;
    switch (e.kind) {
        case ack_kind::pubrel:
            // Inbound QoS 2 completes; PUBCOMP is sent even for an unknown id
            // (MQTT-4.3.3-2: the sender may re-send PUBREL after a reconnect).
            if (s->inbound_qos2.erase(e.packet_id)) journal_.erase_inbound(*s, e.packet_id);
            emit(from, events::send_ack{from.conn, ack_kind::pubcomp, e.packet_id});
            return;
        case ack_kind::puback: {
            auto it = s->find_inflight(e.packet_id);
            if (it == s->inflight.end() || it->state != outbound_state::awaiting_puback) return;
            journal_.remove_inflight(*s, *it);
            s->inflight.erase(it);
            pump(*s);
            return;
        }
        case ack_kind::pubrec: {
            auto it = s->find_inflight(e.packet_id);
            if (it == s->inflight.end()) return;
            if (it->state == outbound_state::awaiting_pubrec) {
                it->state = outbound_state::awaiting_pubcomp;
                const auto released = std::move(it->msg);  // the payload is no longer needed
                journal_.pubrec_received(*s, *it, released);
            }
            if (it->state == outbound_state::awaiting_pubcomp)
                emit(from, events::send_ack{from.conn, ack_kind::pubrel, e.packet_id});
            return;
        }
        case ack_kind::pubcomp: {
            auto it = s->find_inflight(e.packet_id);
            if (it == s->inflight.end() || it->state != outbound_state::awaiting_pubcomp) return;
            journal_.remove_inflight(*s, *it);
            s->inflight.erase(it);
            pump(*s);
            return;
        }
    }
}

// ---- SUBSCRIBE / UNSUBSCRIBE ---------------------------------------------------

void router_core::on_subscribe(const conn_ref& from, events::client_subscribe&& e) {
    session* s = session_of(from);
    if (!s) return;
    events::suback ack{from.conn, e.packet_id, {}};
    ack.return_codes.reserve(e.subscriptions.size());
    for (const auto& sub : e.subscriptions) {
        if (!mqtt::topic::valid_filter(sub.filter) || sub.qos > 2 ||
            (acl_ && !acl_may_subscribe(*s, sub.filter))) {
            ack.return_codes.push_back(0x80);
            continue;
        }
        if (settings_.max_subscriptions_per_client != 0 &&
            s->subscriptions.size() >= settings_.max_subscriptions_per_client &&
            !s->subscriptions.contains(sub.filter)) {
            ++counters_.subscriptions_refused;  // --max-subscriptions-per-client
            ack.return_codes.push_back(0x80);
            continue;
        }
        tree_.subscribe(sub.filter, s->id, sub.qos);  // replaces an existing QoS (MQTT-3.8.4-3)
        s->subscriptions[sub.filter] = sub.qos;
        ack.return_codes.push_back(sub.qos);
    }
    journal_.put_session(*s);
    const auto codes = ack.return_codes;
    emit(from, std::move(ack));

    // Retained messages for every accepted filter, RETAIN=1 (MQTT-3.3.1-6).
    for (std::size_t i = 0; i < e.subscriptions.size(); ++i) {
        const auto& sub = e.subscriptions[i];
        if (codes[i] == 0x80) continue;
        retained_.match(sub.filter, [&](const message_ptr& m) {
            deliver(*s, m, std::min(m->qos, sub.qos), true);
        });
    }
}

void router_core::on_unsubscribe(const conn_ref& from, events::client_unsubscribe&& e) {
    session* s = session_of(from);
    if (!s) return;
    for (const auto& f : e.filters) {
        if (auto it = s->subscriptions.find(f); it != s->subscriptions.end()) {
            tree_.unsubscribe(f, s->id);
            s->subscriptions.erase(it);
        }
    }
    journal_.put_session(*s);
    emit(from, events::unsuback{from.conn, e.packet_id});  // MQTT-3.10.4-4, even if none existed
}

// ---- connection end ------------------------------------------------------------

void router_core::on_disconnect(const conn_ref& from, const events::client_disconnect& e) {
    session* s = sessions_.disconnect(from);
    if (!s) return;  // unknown, or taken over earlier: its will already fired

    went_offline(*s);
    if (e.reason != events::disconnect_reason::graceful) publish_will(*s);  // MQTT-3.1.2-8
    s->set_will(std::nullopt);  // MQTT-3.1.2-10 / 3.14.4-3: discarded after DISCONNECT
    if (s->clean) end_session(*s);
}

void router_core::publish_will(session& s) {
    auto taken = s.take_will();
    if (!taken) return;
    auto& w = *taken;
    if (acl_ && !acl_may_publish(s, w.topic)) return;  // checked as its client's PUBLISH
    ++counters_.wills_published;
    ++counters_.messages_received;
    accept(std::move(w.topic), std::move(w.payload), w.qos, w.retain, 0);
}

std::uint64_t router_core::next_stamp() {
    hlc_ = std::max(hlc_ + 1, util::wall_clock_ms() << 16);
    return hlc_;
}

std::uint64_t router_core::accept(std::string topic, std::string payload, std::uint8_t qos,
                                  bool retain, std::uint64_t received_us) {
    ++counters_.received_by_qos[std::min<std::uint8_t>(qos, 2)];
    counters_.payload_bytes_received += payload.size();
    counters_.bytes_received_by_qos[std::min<std::uint8_t>(qos, 2)] += payload.size();
    auto m = make_message(std::move(topic), std::move(payload), qos, retain, next_stamp(),
                          settings_.router_id);
    m->received_us = received_us;
    if (settings_.has_peers) forward(m);
    if (m->retain) keep_retained(m);
    route(m);
    return m->stamp;
}

void router_core::publish_local(std::string topic, std::string payload,
                                std::vector<outgoing>& out) {
    out_ = &out;
    auto m = make_message(std::move(topic), std::move(payload), 0, true, next_stamp(),
                          settings_.router_id);
    keep_retained(m);
    route(m);
    out_ = nullptr;
}

void router_core::on_route_publish(const std::string& from, events::route_publish&& e) {
    if (e.origin == settings_.router_id) return;  // our own, echoed by the mesh
    if ((e.qos > 0 || e.retain) && !take_forwarded(from, e)) return;
    hlc_ = std::max(hlc_, e.stamp);
    ++counters_.messages_from_peers;
    auto m = make_message(std::move(e.topic), std::move(e.payload), e.qos, e.retain, e.stamp,
                          std::move(e.origin));
    m->received_us = e.received_us;
    if (m->retain) keep_retained(m);
    route(m);
}

void router_core::keep_retained(const message_ptr& m) {
    if (settings_.max_retained_messages != 0 && m->payload && !m->payload->empty() &&
        m->topic.rfind("$SYS/", 0) != 0 && retained_.size() >= settings_.max_retained_messages &&
        !retained_.has(m->topic)) {
        ++counters_.retained_refused;  // routed as usual, not kept
        return;
    }
    if (retained_.set(m)) journal_.retained_changed(*m, retained_.keeps_tombstones());
}

router_gauges router_core::gauges() const {
    router_gauges g;
    sessions_.for_each([&](const session& s) {
        ++(s.online() ? g.sessions_online : g.sessions_offline);
        g.inflight += s.inflight.size();
        g.queued += s.queue.size();
        g.queued_bytes += s.queued_bytes;
    });
    g.subscriptions = tree_.size();
    g.retained = retained_.size();
    g.pending_connects = pending_.size();
    g.held_acks = held_acks_.size();
    for (const auto& [peer, ob] : outboxes_) g.outbox += ob.entries.size();
    return g;
}

void router_core::end_session(session& s) {
    counters_.dropped_session_ended += s.queue.size();
    destroy_session(s);
}

void router_core::went_offline(session& s) {
    s.offline_since = now_;
    if (settings_.session_expiry.count() == 0 || s.clean) return;
    // The deadline in wall-clock time goes to the store, so that the expiry
    // survives restarts of the router.
    s.expiry_deadline_ms =
        util::wall_clock_ms() + static_cast<std::uint64_t>(settings_.session_expiry.count()) * 1000;
    journal_.put_session(s);
}

void router_core::recount_queue(session& s) {
    queued_bytes_total_ -= s.queued_bytes;
    s.queued_bytes = 0;
    for (const auto& q : s.queue) s.queued_bytes += q.msg ? q.msg->payload->size() : 0;
    queued_bytes_total_ += s.queued_bytes;
}

void router_core::expire_sessions() {
    if (settings_.session_expiry.count() == 0 || now_ < next_expiry_check_) return;
    next_expiry_check_ = now_ + std::chrono::seconds(1);
    std::vector<session*> expired;
    sessions_.for_each([&](session& s) {
        if (!s.online() && !s.clean && now_ - s.offline_since >= settings_.session_expiry)
            expired.push_back(&s);
    });
    for (session* s : expired) {
        spdlog::info("router: session '{}' offline for over {} s: removed", s->client_id,
                     settings_.session_expiry.count());
        ++counters_.sessions_expired;
        counters_.dropped_session_ended += s->queue.size();
        destroy_session(*s);
    }
}

void router_core::destroy_session(session& s, bool keep_in_store) {
    queued_bytes_total_ -= s.queued_bytes;
    if (!keep_in_store) journal_.erase_session(s);
    for (const auto& [filter, qos] : s.subscriptions) tree_.unsubscribe(filter, s.id);
    sessions_.remove(s);  // destroys s
}

}  // namespace router
