// The limits on topic names and filters (--max-topic-length,
// --max-topic-levels), applied by frontend::connection to PUBLISH topics,
// will topics and SUBSCRIBE filters. The levels bound the depth of the
// router's subscription tree (and of every walk through it); the length
// bounds what one name or filter costs to keep and compare.
//
// Pure; safe from any thread.
#pragma once

#include <cstddef>
#include <string_view>

namespace frontend::limits {

struct topic_limits {
    std::size_t max_length = 65'535;  // bytes (the protocol's own maximum)
    std::size_t max_levels = 128;     // '/'-separated levels: "a//b" has 3
};

// A topic name or filter within both limits.
bool within(const topic_limits& limits, std::string_view topic);

// Where a topic over the limits was met (for the counters).
enum class topic_use {
    publish,    // PUBLISH topic name: the connection is closed
    will,       // will topic in CONNECT: the connection is closed, no CONNACK
    subscribe,  // SUBSCRIBE filter: refused with 0x80, the others go on
};

}  // namespace frontend::limits
