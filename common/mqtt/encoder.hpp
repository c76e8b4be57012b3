// Encodes mqtt::packet values into wire bytes (appended to `out`).
//
// Encoding never fails for packets built by this program; fields are written
// exactly as given (the caller is responsible for valid values).
//
// Pure code; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/mqtt/packet.hpp"

namespace mqtt {

void encode(const packet& p, std::string& out);

// A PUBLISH from its parts, without a packet to build first: the frontend's
// deliveries, whose topic and payload are copied once, into `out`. The
// packet id is written only for QoS > 0 (MQTT-2.3.1-5).
struct publish_flags {
    std::uint8_t qos = 0;
    bool dup = false;
    bool retain = false;
};
void encode_publish(publish_flags flags, std::string_view topic, std::uint16_t packet_id,
                    std::string_view payload, std::string& out);

inline std::string encode(const packet& p) {
    std::string out;
    encode(p, out);
    return out;
}

}  // namespace mqtt
