#include "frontend/connection_translate.hpp"

#include <utility>

namespace frontend::translate {

events::client_connect to_event(events::conn_id conn, std::string client_id, mqtt::connect&& c) {
    events::client_connect e;
    e.conn = conn;
    e.client_id = std::move(client_id);
    e.clean_session = c.clean_session;
    e.protocol_level = c.protocol_level;
    e.keep_alive = c.keep_alive;
    e.username = c.username.value_or(std::string{});
    if (c.will) {
        e.will_message = events::will{std::move(c.will->topic), std::move(c.will->payload),
                                      c.will->qos, c.will->retain};
    }
    return e;
}

events::client_publish to_event(events::conn_id conn, mqtt::publish&& p) {
    return {conn, std::move(p.topic), std::move(p.payload), p.qos, p.retain, p.dup, p.packet_id};
}

events::client_ack to_event(events::conn_id conn, const mqtt::puback& p) {
    return {conn, events::ack_kind::puback, p.packet_id};
}
events::client_ack to_event(events::conn_id conn, const mqtt::pubrec& p) {
    return {conn, events::ack_kind::pubrec, p.packet_id};
}
events::client_ack to_event(events::conn_id conn, const mqtt::pubrel& p) {
    return {conn, events::ack_kind::pubrel, p.packet_id};
}
events::client_ack to_event(events::conn_id conn, const mqtt::pubcomp& p) {
    return {conn, events::ack_kind::pubcomp, p.packet_id};
}

events::client_subscribe to_event(events::conn_id conn, mqtt::subscribe&& s) {
    events::client_subscribe e;
    e.conn = conn;
    e.packet_id = s.packet_id;
    e.subscriptions.reserve(s.subscriptions.size());
    for (auto& r : s.subscriptions) e.subscriptions.push_back({std::move(r.filter), r.qos});
    return e;
}

events::client_unsubscribe to_event(events::conn_id conn, mqtt::unsubscribe&& u) {
    return {conn, u.packet_id, std::move(u.filters)};
}

mqtt::connack to_packet(const events::connack& e) {
    // MQTT-3.2.2-4: a refused CONNECT is answered with session present = 0.
    return {e.return_code == 0 && e.session_present, e.return_code};
}

mqtt::publish to_packet(const events::deliver& e) {
    mqtt::publish p;
    p.dup = e.dup;
    p.qos = e.qos;
    p.retain = e.retain;
    p.topic = e.topic;
    p.packet_id = e.qos > 0 ? e.packet_id : 0;  // only on the wire for QoS > 0 (MQTT-2.3.1-5)
    p.payload = e.payload;
    return p;
}

mqtt::packet to_packet(const events::send_ack& e) {
    switch (e.kind) {
        case events::ack_kind::puback:
            return mqtt::puback{e.packet_id};
        case events::ack_kind::pubrec:
            return mqtt::pubrec{e.packet_id};
        case events::ack_kind::pubrel:
            return mqtt::pubrel{e.packet_id};
        case events::ack_kind::pubcomp:
            break;
    }
    return mqtt::pubcomp{e.packet_id};
}

mqtt::suback to_packet(const events::suback& e) {
    return {e.packet_id, e.return_codes};
}

mqtt::unsuback to_packet(const events::unsuback& e) {
    return {e.packet_id};
}

}  // namespace frontend::translate
