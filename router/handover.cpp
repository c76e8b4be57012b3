// router_core's cluster side: fetching a session from the peers on CONNECT,
// answering peers' fetches, pushing sessions away on leave(), adopting
// sessions that arrive (completed from the message history), membership
// changes, and copying the retained set to a router that starts.
//
// The protocol (docs/wire-protocol.md, "Session handover"):
//  - A CONNECT in a cluster sends session_fetch to every live peer and waits
//    (its connection's later events are buffered) until each answered, died,
//    or the fetch timed out. A peer that holds the session closes the
//    client's connection there (a takeover: the will fires) and answers
//    with the session's state, giving it up; then the CONNECT proceeds here.
//  - Two routers fetching the same client id at once: the one with the
//    smaller router id gives way (CONNACK 3, the client retries) and answers
//    the other with whatever it collected.
//  - A session that arrives carries the sender's per-origin high-water
//    stamps; messages this router routed after those are replayed into it.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/cluster/rendezvous.hpp"
#include "common/topic/topic.hpp"
#include "router/router_core.hpp"
#include "router/session_transfer.hpp"

namespace router {

namespace {
constexpr std::size_t retained_batch = 500;
}

void router_core::on_connect(const std::string& frontend, events::client_connect&& e, bool fetch) {
    if (leaving_self_) {
        // The frontend has not yet heard router_leaving: the client retries
        // and reaches the new owner.
        ++counters_.connects_refused;
        out_->push_back({frontend, events::connack{e.conn, false, 3, settings_.incarnation},
                         destination::socket});
        return;
    }
    if (!fetch || peers_.empty()) {
        connect_local(frontend, std::move(e));
        return;
    }
    const conn_ref me{intern(frontend), e.conn};
    if (auto it = pending_clients_.find(e.client_id); it != pending_clients_.end()) {
        // The same client id connects again while its first CONNECT waits:
        // handled after it, as a takeover of that connection.
        pending_conns_[me] = it->second;
        pending_.at(it->second).buffered.emplace_back(frontend, std::move(e));
        return;
    }
    const auto request = next_request_++;
    auto& p = pending_[request];
    p.request = request;
    p.frontend = frontend;
    p.waiting = peers_;
    p.deadline = now_ + settings_.fetch_timeout;
    for (const auto& peer : peers_)
        out_->push_back({peer, events::session_fetch{request, e.client_id, settings_.router_id},
                         destination::peer});
    pending_conns_[me] = request;
    pending_clients_[e.client_id] = request;
    p.connect = std::move(e);
}

void router_core::complete(std::uint64_t request) {
    auto node = pending_.extract(request);
    if (node.empty()) return;
    auto& p = node.mapped();
    pending_clients_.erase(p.connect.client_id);
    pending_conns_.erase(conn_ref{intern(p.frontend), p.connect.conn});
    for (const auto& [from, ev] : p.buffered)
        if (const auto* c = std::get_if<events::client_connect>(&ev))
            pending_conns_.erase(conn_ref{intern(from), c->conn});

    const std::string client_id = p.connect.client_id;
    if (p.found) adopt(std::move(*p.found));
    const bool refuse = p.aborted || leaving_self_;
    if (refuse) {
        ++counters_.connects_refused;
        out_->push_back({p.frontend,
                         events::connack{p.connect.conn, false, 3, settings_.incarnation},
                         destination::socket});
    } else {
        connect_local(p.frontend, std::move(p.connect));
    }
    // Peers that fetched the same client id meanwhile, and gave way to us or
    // we to them: the session (if we hold it now) goes to the first.
    for (const auto& d : p.deferred) {
        auto state = answer_fetch(client_id, d.requester);
        state.request = d.request;
        out_->push_back({d.to, std::move(state), destination::socket});
    }
    for (auto& [from, ev] : p.buffered) {
        if (refuse) {
            // The refused connections' events have no session; later CONNECTs
            // of the same client are refused too (they retry).
            if (auto* c = std::get_if<events::client_connect>(&ev)) {
                ++counters_.connects_refused;
                out_->push_back({from, events::connack{c->conn, false, 3, settings_.incarnation},
                                 destination::socket});
            }
            continue;
        }
        dispatch(from, std::move(ev), false);
    }
}

void router_core::on_session_fetch(const std::string& from, events::session_fetch&& f) {
    if (auto it = pending_clients_.find(f.client_id); it != pending_clients_.end()) {
        auto& p = pending_.at(it->second);
        if (p.aborted || f.requester > settings_.router_id) {
            // Contest: the greater router id wins; we answer once our own
            // fetch has collected what the others held.
            p.aborted = true;
            p.deferred.push_back({from, f.request, f.requester});
            return;
        }
        // We win: the requester gives way when it sees our fetch.
    }
    auto state = answer_fetch(f.client_id, f.requester);
    state.request = f.request;
    out_->push_back({from, std::move(state), destination::socket});
}

events::session_state router_core::answer_fetch(const std::string& client_id,
                                                const std::string& requester) {
    if (auto it = pushed_.find(client_id); it != pushed_.end()) {
        events::session_state state;
        state.client_id = client_id;
        state.sender = settings_.router_id;
        state.pushed_to = it->second;
        return state;
    }
    return give_up(client_id, requester);
}

events::session_state router_core::give_up(const std::string& client_id,
                                           const std::string& requester) {
    events::session_state state;
    state.client_id = client_id;
    state.sender = settings_.router_id;
    session* found = sessions_.find(client_id);
    if (!found) return state;
    session& s = *found;
    if (s.conn) {
        // The client connects elsewhere: a takeover across routers.
        ++counters_.sessions_taken_over;
        emit(*s.conn,
             events::close_connection{s.conn->conn, events::disconnect_reason::taken_over});
        sessions_.detach(s);
        publish_will(s);
    }
    if (s.clean) {
        end_session(s);
        return state;
    }
    export_session(s, state);
    state.found = true;
    state.seen = history_.seen();
    ++counters_.sessions_handed_out;
    // In our store until the requester acknowledges it (it commits first).
    destroy_session(s, /*keep_in_store=*/journal_.enabled());
    if (journal_.enabled()) unacked_pushes_[client_id] = requester;
    return state;
}

void router_core::on_session_state(const std::string& from, events::session_state&& e) {
    if (e.request == 0) {
        // Pushed by a leaving router: adopt it and acknowledge.
        const std::string client_id = e.client_id;
        const std::string sender = e.sender;
        if (e.found) adopt(std::move(e));
        out_->push_back(
            {from, events::session_state_ack{client_id, settings_.router_id}, destination::socket});
        // A CONNECT of ours that was told "pushed to you" waited for this.
        if (auto it = pending_clients_.find(client_id); it != pending_clients_.end()) {
            const auto request = it->second;
            auto& p = pending_.at(request);
            p.waiting.erase(sender);
            if (p.waiting.empty()) complete(request);
        }
        return;
    }
    auto it = pending_.find(e.request);
    if (it == pending_.end()) {
        // The fetch timed out before this answer: never lose the session.
        if (e.found) adopt(std::move(e));
        return;
    }
    auto& p = it->second;
    if (e.found) {
        p.waiting.erase(e.sender);
        if (p.found) {
            adopt(std::move(e));  // two holders: counted as a conflict
        } else {
            p.found = std::move(e);
        }
    } else if (!e.pushed_to.empty()) {
        if (e.pushed_to == settings_.router_id) {
            // Pushed to us: wait for the push, unless it already arrived.
            if (sessions_.find(e.client_id)) p.waiting.erase(e.sender);
        } else {
            p.waiting.erase(e.sender);
            if (peers_.contains(e.pushed_to) && p.waiting.insert(e.pushed_to).second)
                out_->push_back({e.pushed_to,
                                 events::session_fetch{p.request, e.client_id, settings_.router_id},
                                 destination::peer});
        }
    } else {
        p.waiting.erase(e.sender);
    }
    if (p.waiting.empty()) complete(p.request);
}

void router_core::adopt(events::session_state&& state) {
    if (leaving_self_) {
        push_to_owner(std::move(state));  // we are going: pass it on
    } else {
        install(std::move(state));
    }
}

void router_core::push_to_owner(events::session_state&& state) {
    std::set<std::string> owners;
    for (const auto& p : peers_)
        if (!leaving_.contains(p)) owners.insert(p);
    const auto* owner = cluster::rendezvous_owner(state.client_id, owners);
    if (!owner) {
        if (journal_.enabled()) {
            // Every router is leaving (a whole cluster stopping): keep it in
            // our store for our return; the sender's ack waits for the commit.
            install(std::move(state));
            return;
        }
        spdlog::error("router: no live peer to take session '{}': it is lost with this router",
                      state.client_id);
        return;
    }
    if (state.request != 0) acknowledge_fetched(state);  // passed on: answer its giver now
    state.request = 0;
    state.sender = settings_.router_id;
    state.found = true;
    state.pushed_to.clear();
    ++counters_.sessions_pushed;
    pushed_[state.client_id] = *owner;
    unacked_pushes_[state.client_id] = *owner;
    out_->push_back({*owner, std::move(state), destination::peer});
}

void router_core::acknowledge_fetched(const events::session_state& state) {
    if (state.sender.empty() || state.sender == settings_.router_id) return;
    out_->push_back({state.sender, events::session_state_ack{state.client_id, settings_.router_id},
                     destination::peer});
}

void router_core::install(events::session_state&& state) {
    ++counters_.sessions_fetched;
    // A fetched session: its giver keeps it in its store until this ack,
    // which leaves after our commit of what follows.
    if (state.request != 0) acknowledge_fetched(state);
    session* s = nullptr;
    if (session* found = sessions_.find(state.client_id)) {
        // Two routers held it (their views of the cluster differed): keep
        // ours and add what the other had, so nothing is lost.
        ++counters_.session_conflicts;
        spdlog::warn("router: session '{}' arrived from '{}' while one existed here; merging",
                     state.client_id, state.sender);
        s = found;
        session incoming;
        import_session(std::move(state), incoming);
        for (const auto& [filter, qos] : incoming.subscriptions) {
            if (s->subscriptions.try_emplace(filter, qos).second)
                tree_.subscribe(filter, s->id, qos);
        }
        for (auto& f : incoming.inflight)
            if (f.msg) s->queue.push_back({f.msg, f.qos, f.retain});
        for (auto& q : incoming.queue) s->queue.push_back(std::move(q));
        s->inbound_qos2.insert(incoming.inbound_qos2.begin(), incoming.inbound_qos2.end());
        recount_queue(*s);
        journal_.rewrite_session(*s);
        if (s->online()) pump(*s);
        return;
    }
    auto fresh = std::make_unique<session>();
    fresh->client_id = state.client_id;
    fresh->id = next_id_++;
    fresh->clean = false;
    s = &sessions_.add(std::move(fresh));
    const auto seen = std::move(state.seen);
    const auto sender = state.sender;
    import_session(std::move(state), *s);
    // What the sender routed that has not reached us yet must not be
    // delivered twice when it does.
    for (const auto& h : seen) {
        if (history_.seen(h.origin) >= h.stamp) continue;
        s->make_floor()[h.origin] = h.stamp;
    }
    for (const auto& [filter, qos] : s->subscriptions) tree_.subscribe(filter, s->id, qos);
    went_offline(*s);
    recount_queue(*s);
    journal_.rewrite_session(*s);

    // What the sender had not routed yet, this router may have: replay it.
    const bool complete = history_.replay(seen, [&](const message_ptr& m) {
        int best = -1;
        for (const auto& [filter, qos] : s->subscriptions)
            if (mqtt::topic::matches(filter, m->topic)) best = std::max<int>(best, qos);
        if (best >= 0) deliver(*s, m, std::min<std::uint8_t>(m->qos, best), false);
    });
    if (!complete) {
        ++counters_.handover_gaps;
        spdlog::warn(
            "router: session '{}' from '{}' may miss messages: the history no longer reaches back "
            "to what that router had seen",
            s->client_id, sender);
    }
}

void router_core::leave(std::vector<outgoing>& out) {
    out_ = &out;
    leaving_self_ = true;
    std::vector<session*> all;
    all.reserve(sessions_.size());
    sessions_.for_each([&](session& s) { all.push_back(&s); });
    // With a store and nobody to take them, persistent sessions stay in it
    // for this router's return.
    bool any_owner = false;
    for (const auto& p : peers_) any_owner = any_owner || !leaving_.contains(p);
    const bool keep = journal_.enabled() && !any_owner;
    for (session* s : all) {
        if (s->conn) {
            // Not a takeover and not a lost client: no will; the client
            // reconnects and finds its session at the new owner.
            emit(*s->conn, events::close_connection{s->conn->conn,
                                                    events::disconnect_reason::server_shutdown});
            sessions_.detach(*s);
            s->set_will(std::nullopt);
        }
        if (s->clean) {
            end_session(*s);
            continue;
        }
        if (keep) continue;
        events::session_state state;
        export_session(*s, state);
        state.seen = history_.seen();
        destroy_session(*s, /*keep_in_store=*/true);  // erased once its new owner acks
        push_to_owner(std::move(state));
    }
    // CONNECTs still fetching are refused when their fetch completes.
    out_ = nullptr;
}

void router_core::peer_up(const std::string& router_id, std::vector<outgoing>& out) {
    out_ = &out;
    peers_.insert(router_id);
    leaving_.erase(router_id);
    if (settings_.has_peers && !retained_synced_ && sync_from_.empty()) request_retained_sync();
    // Everything it has not acknowledged, first (it may have restarted and
    // lost what it had not committed; duplicates it drops).
    if (settings_.has_peers) {
        auto& ob = outboxes_[router_id];
        resend_outbox(router_id, ob, ob.acked);
    }
    out_ = nullptr;
}

void router_core::peer_down(const std::string& router_id, std::vector<outgoing>& out) {
    out_ = &out;
    peers_.erase(router_id);
    // Its outbox keeps what it did not acknowledge, durably, for when it
    // returns: the acknowledgements held for it need not wait. One that left
    // gracefully handed its sessions over: its outbox is moot.
    for (auto& h : held_acks_) h.waiting.erase(router_id);
    release_held_acks();
    if (leaving_.contains(router_id)) forget_outbox(router_id);
    leaving_.erase(router_id);
    std::vector<std::uint64_t> done;
    for (auto& [request, p] : pending_)
        if (p.waiting.erase(router_id) && p.waiting.empty()) done.push_back(request);
    for (auto request : done) complete(request);
    for (auto it = unacked_pushes_.begin(); it != unacked_pushes_.end();) {
        if (it->second == router_id) {
            spdlog::error("router: session '{}' pushed to '{}' which died before taking it",
                          it->first, router_id);
            it = unacked_pushes_.erase(it);
        } else {
            ++it;
        }
    }
    if (sync_from_ == router_id) {
        sync_from_.clear();
        if (!retained_synced_) request_retained_sync();
    }
    out_ = nullptr;
}

void router_core::peer_leaving(const std::string& router_id) {
    if (peers_.contains(router_id)) leaving_.insert(router_id);
}

void router_core::tick(clock::time_point now, std::vector<outgoing>& out) {
    now_ = now;
    history_.expire(now);
    expire_sessions();
    out_ = &out;
    nudge_outboxes();
    out_ = nullptr;
    std::vector<std::uint64_t> late;
    for (const auto& [request, p] : pending_)
        if (now >= p.deadline) late.push_back(request);
    if (late.empty()) return;
    out_ = &out;
    for (auto request : late) {
        const auto& p = pending_.at(request);
        std::string who;
        for (const auto& w : p.waiting) who += (who.empty() ? "" : ", ") + w;
        spdlog::warn("router: session fetch for '{}' timed out waiting for {}; going on",
                     p.connect.client_id, who);
        complete(request);
    }
    out_ = nullptr;
}

// ---- retained set copy ---------------------------------------------------

void router_core::request_retained_sync() {
    if (peers_.empty()) {
        // Nobody to copy from: the loop decides when to stop waiting.
        return;
    }
    sync_from_ = *peers_.begin();
    spdlog::info("router: copying the retained set from '{}'", sync_from_);
    out_->push_back(
        {sync_from_, events::retained_sync_request{settings_.router_id}, destination::peer});
}

void router_core::on_retained_sync_request(const std::string& from,
                                           const events::retained_sync_request& r) {
    events::retained_sync batch{settings_.router_id, {}, false};
    std::size_t total = 0;
    retained_.for_each([&](const message_ptr& m) {
        batch.messages.push_back(to_stored(*m));
        ++total;
        if (batch.messages.size() == retained_batch) {
            out_->push_back({from, batch, destination::socket});
            batch.messages.clear();
        }
    });
    batch.last = true;
    out_->push_back({from, std::move(batch), destination::socket});
    spdlog::info("router: sent {} retained entries to '{}'", total, r.requester);
}

void router_core::on_retained_sync(events::retained_sync&& e) {
    for (auto& m : e.messages) {
        hlc_ = std::max(hlc_, m.stamp);
        keep_retained(from_stored(std::move(m)));
    }
    if (e.last && e.sender == sync_from_) {
        retained_synced_ = true;
        sync_from_.clear();
        spdlog::info("router: retained set copied from '{}' ({} messages)", e.sender,
                     retained_.size());
    }
}

}  // namespace router
