// Field-by-field translation between MQTT packets and router events, used by
// frontend::connection: client packets -> frontend->router events, and
// router->frontend events -> packets to write to the client.
//
// Pure functions, no state; safe from any thread.
#pragma once

#include "common/events/events.hpp"
#include "common/mqtt/packet.hpp"

namespace frontend::translate {

// ---- client -> router ---------------------------------------------------

events::client_connect to_event(events::conn_id conn, std::string client_id, mqtt::connect&& c);
events::client_publish to_event(events::conn_id conn, mqtt::publish&& p);
events::client_ack to_event(events::conn_id conn, const mqtt::puback& p);
events::client_ack to_event(events::conn_id conn, const mqtt::pubrec& p);
events::client_ack to_event(events::conn_id conn, const mqtt::pubrel& p);
events::client_ack to_event(events::conn_id conn, const mqtt::pubcomp& p);
events::client_subscribe to_event(events::conn_id conn, mqtt::subscribe&& s);
events::client_unsubscribe to_event(events::conn_id conn, mqtt::unsubscribe&& u);

// ---- router -> client ---------------------------------------------------

// A non-zero return code always carries session_present = 0 (MQTT-3.2.2-4).
mqtt::connack to_packet(const events::connack& e);
mqtt::publish to_packet(const events::deliver& e);
mqtt::packet to_packet(const events::send_ack& e);
mqtt::suback to_packet(const events::suback& e);
mqtt::unsuback to_packet(const events::unsuback& e);

}  // namespace frontend::translate
