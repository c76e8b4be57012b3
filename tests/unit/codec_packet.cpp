// packet.hpp helpers (type_of, name_of) and the codec error category.
#include <boost/test/unit_test.hpp>
#include <set>
#include <string>

#include "tests/unit/codec_test_util.hpp"

using codec_test::bytes;

BOOST_AUTO_TEST_SUITE(codec_packet)

BOOST_AUTO_TEST_CASE(type_of_each_packet) {
    using mqtt::packet_type;
    BOOST_TEST((mqtt::type_of(mqtt::connect{}) == packet_type::connect));
    BOOST_TEST((mqtt::type_of(mqtt::connack{}) == packet_type::connack));
    BOOST_TEST((mqtt::type_of(mqtt::publish{}) == packet_type::publish));
    BOOST_TEST((mqtt::type_of(mqtt::puback{}) == packet_type::puback));
    BOOST_TEST((mqtt::type_of(mqtt::pubrec{}) == packet_type::pubrec));
    BOOST_TEST((mqtt::type_of(mqtt::pubrel{}) == packet_type::pubrel));
    BOOST_TEST((mqtt::type_of(mqtt::pubcomp{}) == packet_type::pubcomp));
    BOOST_TEST((mqtt::type_of(mqtt::subscribe{}) == packet_type::subscribe));
    BOOST_TEST((mqtt::type_of(mqtt::suback{}) == packet_type::suback));
    BOOST_TEST((mqtt::type_of(mqtt::unsubscribe{}) == packet_type::unsubscribe));
    BOOST_TEST((mqtt::type_of(mqtt::unsuback{}) == packet_type::unsuback));
    BOOST_TEST((mqtt::type_of(mqtt::pingreq{}) == packet_type::pingreq));
    BOOST_TEST((mqtt::type_of(mqtt::pingresp{}) == packet_type::pingresp));
    BOOST_TEST((mqtt::type_of(mqtt::disconnect{}) == packet_type::disconnect));
}

BOOST_AUTO_TEST_CASE(names) {
    BOOST_TEST(std::string(mqtt::name_of(mqtt::packet_type::connect)) == "CONNECT");
    BOOST_TEST(std::string(mqtt::name_of(mqtt::packet_type::pubrel)) == "PUBREL");
    BOOST_TEST(std::string(mqtt::name_of(mqtt::packet_type::unsubscribe)) == "UNSUBSCRIBE");
    BOOST_TEST(std::string(mqtt::name_of(mqtt::packet_type::disconnect)) == "DISCONNECT");
    std::set<std::string> all;
    for (int t = 1; t <= 14; ++t) all.insert(mqtt::name_of(static_cast<mqtt::packet_type>(t)));
    BOOST_TEST(all.size() == 14u);
}

BOOST_AUTO_TEST_CASE(error_category) {
    const boost::system::error_code ec = mqtt::errc::packet_too_large;
    BOOST_TEST(std::string(ec.category().name()) == "mqtt.codec");
    BOOST_TEST(ec.failed());
    BOOST_TEST(ec.message() == "packet larger than the allowed maximum");
    // Every code has its own message.
    std::set<std::string> messages;
    const int last = static_cast<int>(mqtt::errc::server_only_packet);
    for (int e = 1; e <= last; ++e) {
        messages.insert(mqtt::make_error_code(static_cast<mqtt::errc>(e)).message());
    }
    BOOST_TEST(messages.size() == static_cast<std::size_t>(last));
    BOOST_TEST(messages.count("success") == 0u);
}

BOOST_AUTO_TEST_CASE(decode_clears_a_previous_error) {
    boost::system::error_code ec = mqtt::errc::invalid_qos;
    auto p = mqtt::decode(mqtt::raw_packet{0xc0, ""}, ec);  // PINGREQ
    BOOST_TEST(p.has_value());
    BOOST_TEST(!ec.failed());
}

BOOST_AUTO_TEST_SUITE_END()
