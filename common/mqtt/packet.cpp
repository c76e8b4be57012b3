#include "common/mqtt/packet.hpp"

namespace mqtt {

// The variant lists the packet structs in packet_type order, starting at
// CONNECT = 1, so the alternative index maps straight onto the type.
static_assert(std::is_same_v<std::variant_alternative_t<0, packet>, connect>);
static_assert(std::is_same_v<std::variant_alternative_t<8, packet>, suback>);
static_assert(std::is_same_v<std::variant_alternative_t<13, packet>, disconnect>);
static_assert(std::variant_size_v<packet> == 14);

packet_type type_of(const packet& p) {
    return static_cast<packet_type>(p.index() + 1);
}

const char* name_of(packet_type t) {
    switch (t) {
        case packet_type::connect:
            return "CONNECT";
        case packet_type::connack:
            return "CONNACK";
        case packet_type::publish:
            return "PUBLISH";
        case packet_type::puback:
            return "PUBACK";
        case packet_type::pubrec:
            return "PUBREC";
        case packet_type::pubrel:
            return "PUBREL";
        case packet_type::pubcomp:
            return "PUBCOMP";
        case packet_type::subscribe:
            return "SUBSCRIBE";
        case packet_type::suback:
            return "SUBACK";
        case packet_type::unsubscribe:
            return "UNSUBSCRIBE";
        case packet_type::unsuback:
            return "UNSUBACK";
        case packet_type::pingreq:
            return "PINGREQ";
        case packet_type::pingresp:
            return "PINGRESP";
        case packet_type::disconnect:
            return "DISCONNECT";
    }
    return "UNKNOWN";
}

}  // namespace mqtt
