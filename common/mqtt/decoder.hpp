// Decodes one framed MQTT 3.1.1 (and 3.1) control packet into mqtt::packet,
// enforcing every server-side validity rule that can be checked on a single
// packet: fixed-header flags, UTF-8 well-formedness (no U+0000, no
// surrogates), QoS values, non-zero packet ids, non-empty (UN)SUBSCRIBE,
// CONNECT flag consistency, topic names without wildcards.
//
// Topic *filters* are decoded as strings and not validated here: the router
// answers an invalid filter with SUBACK 0x80 (see common/topic/topic.hpp).
//
// Pure code; safe from any thread.
#pragma once

#include <boost/system/error_code.hpp>

#include "common/mqtt/framer.hpp"
#include "common/mqtt/packet.hpp"

namespace mqtt {

// On error returns an empty std::optional and sets ec (see errc). For a
// CONNECT whose protocol name is right but level unknown, ec is
// errc::unsupported_protocol_level (the caller answers CONNACK 1).
std::optional<packet> decode(const raw_packet& raw, boost::system::error_code& ec);
// The same, consuming `raw`: a PUBLISH's payload takes over the body's buffer
// (the frontend's read path: one allocation fewer per message).
std::optional<packet> decode(raw_packet&& raw, boost::system::error_code& ec);

}  // namespace mqtt
