// An application message as the router keeps it: one payload buffer shared by
// every session that queues or delivers it (never copied per receiver).
//
// Immutable once built; owned by the router thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace router {

struct message {
    std::string topic;
    std::shared_ptr<const std::string> payload;
    std::uint8_t qos = 0;  // QoS it is published with (for a session: the delivery QoS)
    bool retain = false;
    // Where and when it was accepted (hybrid logical clock), to order retained
    // updates the same way on every router: the highest (stamp, origin) wins.
    std::uint64_t stamp = 0;
    std::string origin;
    // When a frontend read the PUBLISH (us since the Unix epoch; 0 for wills
    // and $SYS): first deliveries carry it back for the latency histogram.
    std::uint64_t received_us = 0;
    // Its id in the store and how many persistent sessions' entries refer to
    // it (journal.hpp); 0/0 while no persistent session holds it. Mutable:
    // bookkeeping of the router thread, not part of the message.
    mutable std::uint64_t store_id = 0;
    mutable std::uint32_t store_refs = 0;
};

using message_ptr = std::shared_ptr<const message>;

}  // namespace router
