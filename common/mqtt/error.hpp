// Errors raised while framing or decoding peer bytes, as a boost::system
// error category, so every path that handles peer input returns an
// error_code instead of throwing.
//
// Pure code, no state; safe from any thread.
#pragma once

#include <boost/system/error_code.hpp>

namespace mqtt {

enum class errc {
    ok = 0,
    malformed_remaining_length =
        1,                       // more than 4 length bytes (non-minimal encodings are accepted)
    packet_too_large,            // whole packet (header + body) above the configured maximum
    invalid_packet_type,         // reserved type 0 or 15
    invalid_fixed_header_flags,  // reserved flag bits not as the spec requires
    truncated_packet,            // body shorter than its fields need
    trailing_bytes,              // body longer than its fields need
    invalid_utf8,                // ill-formed UTF-8, U+0000, or a surrogate
    invalid_protocol_name,       // neither "MQTT" nor "MQIsdp"
    unsupported_protocol_level,  // known name, unknown level: CONNACK 1
    invalid_connect_flags,       // reserved bit set, or will/username/password flags inconsistent
    invalid_qos,                 // QoS 3 (or will QoS without will flag)
    zero_packet_id,              // packet identifier 0
    empty_subscribe,             // SUBSCRIBE/UNSUBSCRIBE without a topic
    invalid_subscribe_options,   // reserved bits set in a requested QoS byte
    invalid_topic_name,          // empty, or containing wildcards, in PUBLISH
    server_only_packet,          // a packet a client must never send (CONNACK, SUBACK, ...)
};

const boost::system::error_category& codec_category();

inline boost::system::error_code make_error_code(errc e) {
    return {static_cast<int>(e), codec_category()};
}

}  // namespace mqtt

namespace boost::system {
template <>
struct is_error_code_enum<mqtt::errc> : std::true_type {};
}  // namespace boost::system
