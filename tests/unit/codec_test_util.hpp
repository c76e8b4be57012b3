// Helpers shared by the codec_* unit suites: byte strings written as hex,
// hex dumps for readable failures, a printer for decoded packets, and
// "frame then decode" / "encode and compare" checks.
//
// Expected wire bytes are always written by hand in the tests; nothing here
// uses the encoder to produce an expectation. Test-only; single thread.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "common/mqtt/decoder.hpp"
#include "common/mqtt/encoder.hpp"
#include "common/mqtt/error.hpp"
#include "common/mqtt/framer.hpp"
#include "common/mqtt/packet.hpp"

namespace codec_test {

// bytes({0x10, 0x02}) == "\x10\x02"
inline std::string bytes(std::initializer_list<unsigned> b) {
    std::string s;
    for (unsigned v : b) s.push_back(static_cast<char>(v));
    return s;
}

// The first byte, a one-byte remaining length, then `body` (under 128 bytes).
// For tests about a body's fields, where the length byte is not the point.
inline std::string with_header(unsigned first, std::string_view body) {
    BOOST_TEST_REQUIRE(body.size() < 128u);
    return bytes({first, static_cast<unsigned>(body.size())}) + std::string(body);
}

// "10 02 00 04"
inline std::string hex(std::string_view s) {
    std::string out;
    char buf[4];
    for (unsigned char c : s) {
        std::snprintf(buf, sizeof buf, out.empty() ? "%02x" : " %02x", c);
        out += buf;
    }
    return out;
}

// Frames `wire` and decodes it. The bytes must hold exactly one whole packet.
inline std::optional<mqtt::packet> decode_wire(std::string_view wire,
                                               boost::system::error_code& ec) {
    mqtt::framer f(1u << 28);
    f.feed(wire);
    auto raw = f.next(ec);
    if (!raw) {
        BOOST_TEST_REQUIRE(ec.failed(), "incomplete packet in test data: " << hex(wire));
        return std::nullopt;
    }
    BOOST_TEST_REQUIRE(f.buffered() == 0u, "bytes left after one packet: " << hex(wire));
    // Both decoders, the copying one and the consuming one (the frontend's,
    // whose PUBLISH payload takes over the body), must agree on every input.
    auto copied = mqtt::decode(*raw, ec);
    boost::system::error_code consumed_ec;
    auto consumed = mqtt::decode(std::move(*raw), consumed_ec);
    BOOST_TEST(consumed_ec == ec,
               "consuming decode: " << consumed_ec.message() << " for " << hex(wire));
    BOOST_TEST(consumed.has_value() == copied.has_value());
    if (consumed && copied) BOOST_TEST((*consumed == *copied), "consuming decode differs");
    return copied;
}

}  // namespace codec_test

namespace mqtt {

// Printed by Boost.Test when `BOOST_TEST(ec == errc::x)` fails.
inline std::ostream& operator<<(std::ostream& os, errc e) {
    return os << make_error_code(e).message();
}

// Printed by Boost.Test when a comparison of decoded packets fails.
inline std::ostream& operator<<(std::ostream& os, const packet& p) {
    using codec_test::hex;
    os << name_of(type_of(p));
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, connect>) {
                os << "{proto=" << v.protocol_name << " level=" << int(v.protocol_level)
                   << " clean=" << v.clean_session << " keep_alive=" << v.keep_alive
                   << " client_id=[" << hex(v.client_id) << "]";
                if (v.will) {
                    os << " will={topic=[" << hex(v.will->topic) << "] payload=["
                       << hex(v.will->payload) << "] qos=" << int(v.will->qos)
                       << " retain=" << v.will->retain << "}";
                }
                if (v.username) os << " username=[" << hex(*v.username) << "]";
                if (v.password) os << " password=[" << hex(*v.password) << "]";
                os << "}";
            } else if constexpr (std::is_same_v<T, connack>) {
                os << "{sp=" << v.session_present << " rc=" << int(v.return_code) << "}";
            } else if constexpr (std::is_same_v<T, publish>) {
                os << "{dup=" << v.dup << " qos=" << int(v.qos) << " retain=" << v.retain
                   << " topic=[" << hex(v.topic) << "] id=" << v.packet_id << " payload=["
                   << hex(v.payload) << "]}";
            } else if constexpr (std::is_same_v<T, subscribe>) {
                os << "{id=" << v.packet_id;
                for (const auto& s : v.subscriptions) {
                    os << " [" << hex(s.filter) << "]:" << int(s.qos);
                }
                os << "}";
            } else if constexpr (std::is_same_v<T, suback>) {
                os << "{id=" << v.packet_id;
                for (auto c : v.return_codes) os << " " << int(c);
                os << "}";
            } else if constexpr (std::is_same_v<T, unsubscribe>) {
                os << "{id=" << v.packet_id;
                for (const auto& f : v.filters) os << " [" << hex(f) << "]";
                os << "}";
            } else if constexpr (requires { v.packet_id; }) {
                os << "{id=" << v.packet_id << "}";
            }
        },
        p);
    return os;
}

}  // namespace mqtt

namespace codec_test {

// `wire` decodes to exactly `expected`.
inline void check_decodes(std::string_view wire, const mqtt::packet& expected) {
    boost::system::error_code ec;
    auto p = decode_wire(wire, ec);
    BOOST_TEST(!ec.failed(), "decode failed: " << ec.message() << " for " << hex(wire));
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(*p == expected);
}

// `p` encodes to exactly `wire`.
inline void check_encodes(const mqtt::packet& p, std::string_view wire) {
    BOOST_TEST(hex(mqtt::encode(p)) == hex(wire));
}

// Both directions.
inline void check_round_trip(std::string_view wire, const mqtt::packet& p) {
    check_decodes(wire, p);
    check_encodes(p, wire);
}

// The framer accepts `wire` but the decoder rejects it with `expected`.
inline void check_rejects(std::string_view wire, mqtt::errc expected) {
    boost::system::error_code ec;
    auto p = decode_wire(wire, ec);
    BOOST_TEST(!p.has_value(), "decoded a malformed packet: " << hex(wire));
    BOOST_TEST(ec == mqtt::make_error_code(expected),
               "got '" << ec.message() << "', expected '"
                       << mqtt::make_error_code(expected).message() << "' for " << hex(wire));
}

}  // namespace codec_test
