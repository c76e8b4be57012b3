// MQTT control packets as plain value types, one struct per packet type.
//
// Pure data: no I/O, no threads. Decoded by mqtt::decode() (decoder.hpp) and
// encoded by mqtt::encode() (encoder.hpp). Fields follow the MQTT 3.1.1 tables;
// MQTT 5.0 properties and reason codes will be added as extra members (the
// byte-valued `return_code`/`return_codes` already hold 5.0 reason codes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mqtt {

enum class packet_type : std::uint8_t {
    connect = 1,
    connack = 2,
    publish = 3,
    puback = 4,
    pubrec = 5,
    pubrel = 6,
    pubcomp = 7,
    subscribe = 8,
    suback = 9,
    unsubscribe = 10,
    unsuback = 11,
    pingreq = 12,
    pingresp = 13,
    disconnect = 14,
};

// Protocol levels carried in CONNECT.
inline constexpr std::uint8_t protocol_level_3_1 = 3;    // "MQIsdp"
inline constexpr std::uint8_t protocol_level_3_1_1 = 4;  // "MQTT"

// CONNACK return codes (MQTT 3.1.1 table 3.1).
enum class connect_return_code : std::uint8_t {
    accepted = 0,
    unacceptable_protocol_version = 1,
    identifier_rejected = 2,
    server_unavailable = 3,
    bad_username_or_password = 4,
    not_authorized = 5,
};

inline constexpr std::uint8_t suback_failure = 0x80;

struct will_message {
    std::string topic;
    std::string payload;
    std::uint8_t qos = 0;
    bool retain = false;
    bool operator==(const will_message&) const = default;
};

struct connect {
    std::string protocol_name = "MQTT";
    std::uint8_t protocol_level = protocol_level_3_1_1;
    bool clean_session = true;
    std::uint16_t keep_alive = 0;  // seconds, 0 = disabled
    std::string client_id;
    std::optional<will_message> will;
    std::optional<std::string> username;
    std::optional<std::string> password;  // binary data in 3.1.1
    bool operator==(const connect&) const = default;
};

struct connack {
    bool session_present = false;
    std::uint8_t return_code = 0;  // connect_return_code
    bool operator==(const connack&) const = default;
};

struct publish {
    bool dup = false;
    std::uint8_t qos = 0;
    bool retain = false;
    std::string topic;
    std::uint16_t packet_id = 0;  // only present on the wire when qos > 0
    std::string payload;
    bool operator==(const publish&) const = default;
};

struct puback {
    std::uint16_t packet_id = 0;
    bool operator==(const puback&) const = default;
};
struct pubrec {
    std::uint16_t packet_id = 0;
    bool operator==(const pubrec&) const = default;
};
struct pubrel {
    std::uint16_t packet_id = 0;
    bool operator==(const pubrel&) const = default;
};
struct pubcomp {
    std::uint16_t packet_id = 0;
    bool operator==(const pubcomp&) const = default;
};

struct subscription_request {
    std::string filter;
    std::uint8_t qos = 0;
    bool operator==(const subscription_request&) const = default;
};

struct subscribe {
    std::uint16_t packet_id = 0;
    std::vector<subscription_request> subscriptions;  // never empty once decoded
    bool operator==(const subscribe&) const = default;
};

struct suback {
    std::uint16_t packet_id = 0;
    std::vector<std::uint8_t> return_codes;  // granted QoS or suback_failure
    bool operator==(const suback&) const = default;
};

struct unsubscribe {
    std::uint16_t packet_id = 0;
    std::vector<std::string> filters;  // never empty once decoded
    bool operator==(const unsubscribe&) const = default;
};

struct unsuback {
    std::uint16_t packet_id = 0;
    bool operator==(const unsuback&) const = default;
};

struct pingreq {
    bool operator==(const pingreq&) const = default;
};
struct pingresp {
    bool operator==(const pingresp&) const = default;
};
struct disconnect {
    bool operator==(const disconnect&) const = default;
};

using packet = std::variant<connect, connack, publish, puback, pubrec, pubrel, pubcomp, subscribe,
                            suback, unsubscribe, unsuback, pingreq, pingresp, disconnect>;

// The packet type of a decoded packet.
packet_type type_of(const packet& p);
// "CONNECT", "PUBLISH", ... for logs.
const char* name_of(packet_type t);

}  // namespace mqtt
