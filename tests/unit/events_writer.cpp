// The event encoder's msgpack forms at every size boundary: integers, array,
// str and bin headers in each width, pinned by hand-written bytes, and the
// same events packed by msgpack-c's own packer (the reference the encoder
// must keep matching: peers built on msgpack-c read what it writes).
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <limits>
#include <msgpack.hpp>
#include <string>
#include <vector>

#include "common/events/events.hpp"
#include "wire_bytes.hpp"

BOOST_AUTO_TEST_SUITE(events_writer)

namespace {

using test_util::bytes_of;

// msgpack-c's packer, into a std::string.
struct sink {
    std::string out;
    void write(const char* data, std::size_t size) { out.append(data, size); }
};

void pack_str(msgpack::packer<sink>& pk, const std::string& s) {
    pk.pack_str(static_cast<std::uint32_t>(s.size()));
    pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

void pack_bin(msgpack::packer<sink>& pk, const std::string& s) {
    pk.pack_bin(static_cast<std::uint32_t>(s.size()));
    pk.pack_bin_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

// The envelope [version, kind, body] up to the body's array header.
void envelope(msgpack::packer<sink>& pk, const events::event& e, std::uint32_t arity) {
    pk.pack_array(3);
    pk.pack_uint64(events::protocol_version);
    pk.pack_uint64(e.index());
    pk.pack_array(arity);
}

// What msgpack-c packs for a client_publish: [version, kind, [8 fields]].
std::string reference(const events::client_publish& e) {
    sink s;
    msgpack::packer<sink> pk(s);
    envelope(pk, e, 8);
    pk.pack_uint64(e.conn);
    pack_str(pk, e.topic);
    pack_bin(pk, e.payload);
    pk.pack_uint64(e.qos);
    e.retain ? pk.pack_true() : pk.pack_false();
    e.dup ? pk.pack_true() : pk.pack_false();
    pk.pack_uint64(e.packet_id);
    pk.pack_uint64(e.received_us);
    return s.out;
}

std::string reference(const events::suback& e) {
    sink s;
    msgpack::packer<sink> pk(s);
    envelope(pk, e, 3);
    pk.pack_uint64(e.conn);
    pk.pack_uint64(e.packet_id);
    pk.pack_array(static_cast<std::uint32_t>(e.return_codes.size()));
    for (auto rc : e.return_codes) pk.pack_uint64(rc);
    return s.out;
}

// A client_connect: its will is nil or [topic, payload, qos, retain].
std::string reference(const events::client_connect& e) {
    sink s;
    msgpack::packer<sink> pk(s);
    envelope(pk, e, 7);
    pk.pack_uint64(e.conn);
    pack_str(pk, e.client_id);
    e.clean_session ? pk.pack_true() : pk.pack_false();
    pk.pack_uint64(e.protocol_level);
    pk.pack_uint64(e.keep_alive);
    pack_str(pk, e.username);
    if (e.will_message) {
        pk.pack_array(4);
        pack_str(pk, e.will_message->topic);
        pack_bin(pk, e.will_message->payload);
        pk.pack_uint64(e.will_message->qos);
        e.will_message->retain ? pk.pack_true() : pk.pack_false();
    } else {
        pk.pack_nil();
    }
    return s.out;
}

const std::vector<std::uint64_t> integer_edges = {0,
                                                  1,
                                                  127,
                                                  128,
                                                  255,
                                                  256,
                                                  65535,
                                                  65536,
                                                  0xffffffffu,
                                                  0x100000000u,
                                                  std::numeric_limits<std::uint64_t>::max()};

const std::vector<std::size_t> length_edges = {0, 1, 31, 32, 120, 128, 255, 256, 65535, 65536};

}  // namespace

BOOST_AUTO_TEST_CASE(integers_in_every_width_as_msgpack_c_packs_them) {
    for (auto v : integer_edges) {
        events::client_publish e;
        e.conn = v;
        e.received_us = v;
        e.packet_id = static_cast<std::uint16_t>(v);
        BOOST_TEST(events::encode(e) == reference(e), "value " << v);
    }
}

BOOST_AUTO_TEST_CASE(str_and_bin_of_every_length_as_msgpack_c_packs_them) {
    for (auto topic : length_edges) {
        for (auto payload : length_edges) {
            events::client_publish e;
            e.conn = 7;
            e.topic = std::string(topic, 't');
            e.payload = std::string(payload, '\xfe');
            e.qos = 1;
            e.retain = payload % 2 == 1;
            e.dup = topic % 2 == 0;
            e.packet_id = 300;
            e.received_us = 1'700'000'000'000'000;
            BOOST_TEST(events::encode(e) == reference(e),
                       "topic " << topic << " bytes, payload " << payload << " bytes");
        }
    }
}

BOOST_AUTO_TEST_CASE(arrays_of_every_length_as_msgpack_c_packs_them) {
    for (std::size_t n : {std::size_t{0}, std::size_t{15}, std::size_t{16}, std::size_t{65535},
                          std::size_t{65536}}) {
        events::suback e;
        e.conn = 1;
        e.packet_id = 2;
        e.return_codes.assign(n, 0x80);
        BOOST_TEST(events::encode(e) == reference(e), n << " return codes");
    }
}

BOOST_AUTO_TEST_CASE(nil_and_nested_arrays_as_msgpack_c_packs_them) {
    events::client_connect without;
    without.conn = 9;
    without.client_id = "sensor-1";
    without.keep_alive = 60;
    without.username = "fleet";
    const std::string wire = events::encode(without);
    BOOST_TEST(wire == reference(without));
    BOOST_TEST(static_cast<unsigned char>(wire.back()) == 0xc0);  // nil: no will

    events::client_connect with = without;
    with.clean_session = false;
    with.will_message = events::will{"fleet/sensor-1/status", "offline", 1, true};
    BOOST_TEST(events::encode(with) == reference(with));
}

BOOST_AUTO_TEST_CASE(boundary_forms_pinned) {
    // A suback's body written by hand: conn 65536 (uint 32), packet id 255
    // (uint 8), 16 return codes (array 16) of 0x80 (uint 8).
    events::suback e;
    e.conn = 65536;
    e.packet_id = 255;
    e.return_codes.assign(16, 0x80);
    std::string codes;
    for (int i = 0; i < 16; ++i) codes += bytes_of({0xcc, 0x80});
    const std::string body =
        bytes_of({0x93, 0xce, 0x00, 0x01, 0x00, 0x00, 0xcc, 0xff, 0xdc, 0x00, 0x10}) + codes;
    const std::string encoded = events::encode(e);
    BOOST_TEST_REQUIRE(encoded.size() > body.size());
    BOOST_TEST(encoded.substr(encoded.size() - body.size()) == body);

    // A topic of 32 bytes is a str 8 (0xd9 0x20), a payload of 256 bytes a
    // bin 16 (0xc5 0x01 0x00).
    events::client_publish p;
    p.topic = std::string(32, 'a');
    p.payload = std::string(256, 'b');
    const std::string wire = events::encode(p);
    const std::string topic_form = bytes_of({0xd9, 0x20}) + std::string(32, 'a');
    const std::string payload_form = bytes_of({0xc5, 0x01, 0x00}) + std::string(256, 'b');
    BOOST_TEST(wire.find(topic_form) != std::string::npos);
    BOOST_TEST(wire.find(payload_form) == wire.find(topic_form) + topic_form.size());
}

BOOST_AUTO_TEST_SUITE_END()
