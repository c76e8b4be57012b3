// What the store keeps, as plain structs: the records a batch writes and the
// whole state db::load reads back at startup. docs/store.md gives their
// encodings byte by byte.
//
// Messages (events::stored_message) are stored once under a router-assigned
// id (never 0) and referenced by id from the outbound entries of every
// session that queues or delivers them; the router deletes a message when no
// entry refers to it any more.
//
// Pure data; safe from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/events/events.hpp"

namespace store {

// The store layout this build writes and reads (kept in the default column
// family at creation). A store with a higher number is refused.
// 2 added the `forward` family (format 1 stores are upgraded at open).
inline constexpr std::uint32_t format_version = 2;

// A persistent session (clean_session=0), keyed by client id.
struct session_record {
    std::map<std::string, std::uint8_t, std::less<>> subscriptions;  // filter -> granted QoS
    std::uint16_t last_packet_id = 0;
    std::uint64_t expiry_ms = 0;  // deadline in ms since the Unix epoch; 0 = none

    bool operator==(const session_record&) const = default;
};

// Mosquitto-style explicit states of an outbound message.
enum class outbound_state : std::uint8_t {
    queued = 0,            // not sent yet (packet_id 0)
    awaiting_puback = 1,   // QoS 1 PUBLISH sent
    awaiting_pubrec = 2,   // QoS 2 PUBLISH sent
    awaiting_pubcomp = 3,  // QoS 2 PUBREL sent; message_id 0 (only PUBREL remains)
};

// One outbound message of a session, ordered by `seq` (per session, chosen
// by the router, increasing in send order; after a load the router may go on
// from the highest seq it read + 1).
struct outbound_record {
    std::uint64_t seq = 0;
    outbound_state state = outbound_state::queued;
    std::uint16_t packet_id = 0;  // 0 while queued
    std::uint8_t qos = 1;         // delivery QoS
    bool retain = false;
    std::uint64_t message_id = 0;  // 0 once only PUBREL remains

    bool operator==(const outbound_record&) const = default;
};

// A session as db::load reads it back.
struct loaded_session {
    // False when outbound or inbound records exist without a session record
    // (a router bug, not a store failure): the router should erase_session.
    bool has_record = false;
    session_record record;
    std::vector<outbound_record> outbound;    // ascending seq
    std::vector<std::uint16_t> inbound_qos2;  // ids awaiting PUBREL, ascending
};

// A reliable message this router accepted and forwarded to a peer router,
// not yet acknowledged by it (the origin's outbox for that peer).
struct forward_record {
    std::uint64_t stamp = 0;  // the message's stamp (ascending per peer)
    std::uint64_t message_id = 0;

    bool operator==(const forward_record&) const = default;
};

// Everything the store holds, as db::load returns it.
struct loaded_state {
    std::uint32_t format = 0;  // the store's format version
    std::map<std::string, loaded_session, std::less<>> sessions;
    std::map<std::uint64_t, events::stored_message> messages;
    std::map<std::string, events::stored_message, std::less<>> retained;  // incl. tombstones
    std::map<std::string, std::uint64_t, std::less<>> meta;
    // Per peer router id, ascending stamp.
    std::map<std::string, std::vector<forward_record>, std::less<>> forward;
};

// Ids of messages no outbound or forward entry refers to (to erase after a load).
std::vector<std::uint64_t> unreferenced_messages(const loaded_state& state);

// (client id, seq) of outbound entries whose state needs a message
// (queued, awaiting_puback, awaiting_pubrec) but whose message is missing.
std::vector<std::pair<std::string, std::uint64_t>> dangling_entries(const loaded_state& state);

}  // namespace store
