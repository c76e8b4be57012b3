#include "router/stats_report.hpp"

#include <algorithm>

#include "router/router_loop.hpp"

namespace router {

stats::snapshot make_snapshot(const router_core& core, const loop_facts& loop) {
    stats::snapshot s;
    s.kind = loop.kind;
    s.id = std::string(loop.router_id);
    s.incarnation = loop.incarnation;
    s.sequence = loop.sequence;
    s.uptime_ms = static_cast<std::uint64_t>(loop.uptime.count());

    const auto& c = core.counters();
    s.counter("messages.in", c.messages_received);
    s.counter("messages.in.qos0", c.received_by_qos[0]);
    s.counter("messages.in.qos1", c.received_by_qos[1]);
    s.counter("messages.in.qos2", c.received_by_qos[2]);
    s.counter("bytes.in", c.payload_bytes_received);
    for (int q = 0; q < 3; ++q)
        s.counter("bytes.in.qos" + std::to_string(q), c.bytes_received_by_qos[q]);
    // QoS 0 deliveries the loop shed (a frontend's queue was full) never went out.
    const std::uint64_t shed = loop.counters ? loop.counters->qos0_shed : 0;
    s.counter("messages.out", c.messages_delivered - std::min(shed, c.messages_delivered));
    s.counter("messages.out.qos0", c.delivered_by_qos[0] - std::min(shed, c.delivered_by_qos[0]));
    s.counter("messages.out.qos1", c.delivered_by_qos[1]);
    s.counter("messages.out.qos2", c.delivered_by_qos[2]);
    s.counter("bytes.out", c.payload_bytes_delivered);
    for (int q = 0; q < 3; ++q)
        s.counter("bytes.out.qos" + std::to_string(q), c.bytes_delivered_by_qos[q]);
    s.counter("messages.out.retained", c.retained_delivered);
    s.counter("messages.from_peers", c.messages_from_peers);
    s.counter("deliveries.matched", c.deliveries_matched);
    s.counter("messages.enqueued", c.messages_queued);
    s.counter("messages.duplicate_qos2", c.duplicate_qos2);
    s.counter("messages.dropped.queue_full", c.dropped_queue_full);
    s.counter("messages.dropped.qos0_offline", c.dropped_qos0_offline);
    s.counter("messages.dropped.qos0_shed", shed);
    s.counter("messages.dropped.session_ended", c.dropped_session_ended);
    s.counter("messages.dropped.queue_bytes", c.dropped_queue_bytes);
    s.counter("messages.dropped.queue_total", c.dropped_queue_total);
    s.counter("messages.dropped.acl", c.dropped_acl);
    s.counter("retained.refused", c.retained_refused);
    s.counter("subscriptions.refused.limit", c.subscriptions_refused);
    s.counter("sessions.expired", c.sessions_expired);
    s.counter("wills.published", c.wills_published);
    s.counter("connections.refused.unavailable", c.connects_refused);
    s.counter("sessions.taken_over", c.sessions_taken_over);
    s.counter("sessions.fetched", c.sessions_fetched);
    s.counter("sessions.handed_out", c.sessions_handed_out);
    s.counter("sessions.pushed", c.sessions_pushed);
    s.counter("sessions.conflicts", c.session_conflicts);
    s.counter("sessions.handover_gaps", c.handover_gaps);
    s.counter("forward.acks_held", c.acks_held);
    s.counter("forward.resent", c.forward_resent);
    s.counter("forward.duplicates", c.forward_duplicates);
    s.counter("forward.gaps", c.forward_gaps);
    s.counter("forward.dropped", c.forward_dropped);
    s.counter("acl.publish_denied", c.acl_publish_denied);
    s.counter("acl.subscribe_denied", c.acl_subscribe_denied);
    s.counter("acl.deliver_denied", c.acl_deliver_denied);
    s.counter("events.malformed", loop.malformed_events);
    s.counter("queues.paused_reads", loop.counters ? loop.counters->paused_reads : 0);
    s.counter("queues.backlogged", loop.counters ? loop.counters->backlog_events : 0);
    if (loop.store_bytes) {
        s.counter("store.commits", loop.counters ? loop.counters->store_commits : 0);
        s.counter("store.failures", loop.counters ? loop.counters->store_failures : 0);
        s.counter("store.acks_withheld", loop.counters ? loop.counters->acks_withheld : 0);
    }

    const auto g = core.gauges();
    s.gauge("sessions.online", g.sessions_online);
    s.gauge("sessions.offline", g.sessions_offline);
    s.gauge("subscriptions", g.subscriptions);
    s.gauge("retained", g.retained);
    s.gauge("messages.inflight", g.inflight);
    s.gauge("messages.queued", g.queued);
    s.gauge("messages.queued_bytes", g.queued_bytes);
    s.gauge("sessions.fetching", g.pending_connects);
    s.gauge("forward.held_acks", g.held_acks);
    s.gauge("forward.outbox", g.outbox);
    s.gauge("queues.backlog", loop.backlog);
    s.gauge("frontends", loop.frontends);
    s.gauge("peers", loop.live_peers);
    s.gauge("ready", loop.ready ? 1 : 0);
    s.gauge("leaving", loop.leaving ? 1 : 0);
    if (loop.store_bytes) s.gauge("store.bytes", *loop.store_bytes);
    return s;
}

}  // namespace router
