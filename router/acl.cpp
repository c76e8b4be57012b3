// router_core's access control (--acl-file): the checks router_core.cpp
// calls at the entry of PUBLISH, SUBSCRIBE, wills and deliver(), and what
// changes when the rules change (set_acl) or a client connects.
//
// Who a client is (username, client id) is known from its CONNECT. A session
// restored from the store, or moved here from a peer router, is anonymous
// until its client connects here: deliveries to it are queued unchecked,
// and its queue is checked when the client connects (acl_identify). Messages
// already in flight are sent again as the protocol requires (they were
// delivered once); subscriptions are not revoked by a narrower reload: what
// they match is filtered at delivery.
#include <spdlog/spdlog.h>

#include "router/router_core.hpp"

namespace router {

void router_core::set_acl(std::shared_ptr<const acl::rules> rules) {
    acl_ = std::move(rules);
    sessions_.for_each([&](session& s) {
        if (!acl_) {
            if (s.acl) s.acl->rules.reset();  // the username stays, for a later set_acl
        } else if (s.connected_here && s.acl) {
            acl_identify(s);
        }
    });
}

bool router_core::acl_may_publish(const session& s, std::string_view topic) {
    if (s.acl && s.acl->rules && s.acl->rules->may_publish(topic)) return true;
    ++counters_.acl_publish_denied;
    spdlog::debug("router: ACL refuses PUBLISH to '{}' from '{}'", topic, s.client_id);
    return false;
}

bool router_core::acl_may_subscribe(const session& s, std::string_view filter) {
    if (s.acl && s.acl->rules && s.acl->rules->may_subscribe(filter)) return true;
    ++counters_.acl_subscribe_denied;
    spdlog::debug("router: ACL refuses SUBSCRIBE to '{}' from '{}'", filter, s.client_id);
    return false;
}

bool router_core::acl_may_deliver(const session& s, const message& m) {
    // Not identified yet: queued, and checked when the client connects.
    if (!s.acl || !s.acl->rules || s.acl->rules->may_receive(m.topic)) return true;
    ++counters_.acl_deliver_denied;
    return false;
}

void router_core::acl_refuse(const conn_ref& from, const events::client_publish& e) {
    // MQTT-3.3.5-2: acknowledged as if it had been accepted, in order with
    // the client's other acknowledgements (stamp 0: nothing to wait for). A
    // QoS 2 one keeps no inbound state: its PUBREL gets PUBCOMP all the same.
    if (e.qos == 1)
        acknowledge(from, events::send_ack{from.conn, events::ack_kind::puback, e.packet_id}, 0);
    else if (e.qos == 2)
        acknowledge(from, events::send_ack{from.conn, events::ack_kind::pubrec, e.packet_id}, 0);
}

void router_core::acl_identify(session& s) {
    s.acl->rules = acl_->for_client(s.acl->username, s.client_id);
    acl_filter_queue(s);
}

void router_core::acl_filter_queue(session& s) {
    const auto before = s.queue.size();
    for (auto it = s.queue.begin(); it != s.queue.end();) {
        if (!it->msg || s.acl->rules->may_receive(it->msg->topic)) {
            ++it;
            continue;
        }
        // Its store record goes like an in-flight entry's: by its key,
        // releasing its reference to the message.
        journal_.remove_inflight(s, inflight_entry{0, outbound_state::awaiting_puback, it->qos,
                                                   it->retain, it->msg, it->seq});
        ++counters_.dropped_acl;
        it = s.queue.erase(it);
    }
    if (s.queue.size() != before) recount_queue(s);
}

}  // namespace router
