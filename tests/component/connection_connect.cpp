// frontend::connection: CONNECT handling, from the first byte to CONNACK.
// Client bytes and expected server bytes are hand-written hex.
#include <boost/test/unit_test.hpp>

#include "tests/component/connection_harness.hpp"

using namespace connection_test;

namespace {

// CONNECT "cw" with a will, user "u", password "p", keep-alive 30 s.
const std::string connect_with_will = bytes({
    0x10, 0x1f,                      // CONNECT, remaining length 31
    0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
    0x04,                            // protocol level 4
    0xee,        // flags: username, password, will retain, will QoS 1, will, clean session
    0x00, 0x1e,  // keep alive 30 s
    0x00, 0x02, 'c', 'w',            // client id "cw"
    0x00, 0x03, 'w', '/', 't',       // will topic "w/t"
    0x00, 0x04, 'g', 'o', 'n', 'e',  // will payload "gone"
    0x00, 0x01, 'u',                 // username "u"
    0x00, 0x01, 'p',                 // password "p"
});

// CONNECT with an empty client id and clean session = 1.
const std::string connect_empty_id_clean = bytes({
    0x10, 0x12,                      // CONNECT, remaining length 18
    0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
    0x04,                            // protocol level 4
    0xc2,                            // flags: username, password, clean session
    0x00, 0x3c,                      // keep alive 60 s
    0x00, 0x00,                      // client id "" (empty)
    0x00, 0x01, 'u',                 // username "u"
    0x00, 0x01, 'p',                 // password "p"
});

// CONNECT with an empty client id and clean session = 0.
const std::string connect_empty_id_persistent = bytes({
    0x10, 0x12,                      // CONNECT, remaining length 18
    0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
    0x04,                            // protocol level 4
    0xc0,                            // flags: username, password (clean session 0)
    0x00, 0x3c,                      // keep alive 60 s
    0x00, 0x00,                      // client id "" (empty)
    0x00, 0x01, 'u',                 // username "u"
    0x00, 0x01, 'p',                 // password "p"
});

// MQTT 3.1 CONNECT "c", user "u", password "p", clean session.
const std::string connect_v31 = bytes({
    0x10, 0x15,                                // CONNECT, remaining length 21
    0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p',  // protocol name "MQIsdp"
    0x03,                                      // protocol level 3 (3.1)
    0xc2,                                      // flags: username, password, clean session
    0x00, 0x3c,                                // keep alive 60 s
    0x00, 0x01, 'c',                           // client id "c"
    0x00, 0x01, 'u',                           // username "u"
    0x00, 0x01, 'p',                           // password "p"
});

// MQTT 3.1 CONNECT with an empty client id and clean session = 1.
const std::string connect_v31_empty_id = bytes({
    0x10, 0x14,                                // CONNECT, remaining length 20
    0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p',  // protocol name "MQIsdp"
    0x03,                                      // protocol level 3 (3.1)
    0xc2,                                      // flags: username, password, clean session
    0x00, 0x3c,                                // keep alive 60 s
    0x00, 0x00,                                // client id "" (empty)
    0x00, 0x01, 'u',                           // username "u"
    0x00, 0x01, 'p',                           // password "p"
});

const std::string long_id = "client-id-longer-than-23-bytes";  // 30 bytes

// CONNECT (3.1.1) with the 30-byte client id above.
const std::string connect_long_id = bytes({
                                        0x10, 0x30,  // CONNECT, remaining length 48
                                        0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
                                        0x04,                            // protocol level 4
                                        0xc2,        // flags: username, password, clean session
                                        0x00, 0x3c,  // keep alive 60 s
                                        0x00, 0x1e,  // client id length 30
                                    }) +
                                    long_id +  // client id
                                    bytes({
                                        0x00, 0x01, 'u',  // username "u"
                                        0x00, 0x01, 'p',  // password "p"
                                    });

// CONNECT (3.1) with the 30-byte client id above.
const std::string connect_v31_long_id =
    bytes({
        0x10, 0x32,                                // CONNECT, remaining length 50
        0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p',  // protocol name "MQIsdp"
        0x03,                                      // protocol level 3
        0xc2,                                      // flags: username, password, clean session
        0x00, 0x3c,                                // keep alive 60 s
        0x00, 0x1e,                                // client id length 30
    }) +
    long_id +  // client id
    bytes({
        0x00, 0x01, 'u',  // username "u"
        0x00, 0x01, 'p',  // password "p"
    });

// CONNECT without username and password.
const std::string connect_no_credentials = bytes({
    0x10, 0x0d,                      // CONNECT, remaining length 13
    0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
    0x04,                            // protocol level 4
    0x02,                            // flags: clean session
    0x00, 0x3c,                      // keep alive 60 s
    0x00, 0x01, 'c',                 // client id "c"
});

// CONNECT with a username but no password.
const std::string connect_username_only = bytes({
    0x10, 0x10,                      // CONNECT, remaining length 16
    0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
    0x04,                            // protocol level 4
    0x82,                            // flags: username, clean session
    0x00, 0x3c,                      // keep alive 60 s
    0x00, 0x01, 'c',                 // client id "c"
    0x00, 0x01, 'u',                 // username "u"
});

// CONNECT with user "u" and the wrong password "x".
const std::string connect_wrong_password = bytes({
    0x10, 0x13,                      // CONNECT, remaining length 19
    0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
    0x04,                            // protocol level 4
    0xc2,                            // flags: username, password, clean session
    0x00, 0x3c,                      // keep alive 60 s
    0x00, 0x01, 'c',                 // client id "c"
    0x00, 0x01, 'u',                 // username "u"
    0x00, 0x01, 'x',                 // password "x"
});

// CONNECT with the unknown user "v".
const std::string connect_unknown_user = bytes({
    0x10, 0x13,                      // CONNECT, remaining length 19
    0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
    0x04,                            // protocol level 4
    0xc2,                            // flags: username, password, clean session
    0x00, 0x3c,                      // keep alive 60 s
    0x00, 0x01, 'c',                 // client id "c"
    0x00, 0x01, 'v',                 // username "v"
    0x00, 0x01, 'p',                 // password "p"
});

// CONNECT "MQTT" with the unknown protocol level 7.
const std::string connect_level_7 = bytes({
    0x10, 0x13,                      // CONNECT, remaining length 19
    0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
    0x07,                            // protocol level 7 (unknown)
    0xc2,                            // flags: username, password, clean session
    0x00, 0x3c,                      // keep alive 60 s
    0x00, 0x01, 'c',                 // client id "c"
    0x00, 0x01, 'u',                 // username "u"
    0x00, 0x01, 'p',                 // password "p"
});

// CONNECT with the unknown protocol name "MQTX".
const std::string connect_bad_name = bytes({
    0x10, 0x13,                      // CONNECT, remaining length 19
    0x00, 0x04, 'M', 'Q', 'T', 'X',  // protocol name "MQTX"
    0x04,                            // protocol level 4
    0xc2,                            // flags: username, password, clean session
    0x00, 0x3c,                      // keep alive 60 s
    0x00, 0x01, 'c',                 // client id "c"
    0x00, 0x01, 'u',                 // username "u"
    0x00, 0x01, 'p',                 // password "p"
});

// CONNECT with the reserved flag bit 0 set (MQTT-3.1.2-3).
const std::string connect_reserved_flag = bytes({
    0x10, 0x13,                      // CONNECT, remaining length 19
    0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
    0x04,                            // protocol level 4
    0xc3,                            // flags: username, password, clean session, RESERVED
    0x00, 0x3c,                      // keep alive 60 s
    0x00, 0x01, 'c',                 // client id "c"
    0x00, 0x01, 'u',                 // username "u"
    0x00, 0x01, 'p',                 // password "p"
});

// PUBLISH QoS 0 "t" with an n-byte payload of 'x': 5 + n bytes on the wire.
std::string publish_with_payload(std::size_t n) {
    return bytes({
               0x30, static_cast<int>(3 + n),  // PUBLISH QoS 0, remaining length 3 + n (< 128)
               0x00, 0x01, 't',                // topic "t"
           }) +
           std::string(n, 'x');  // payload
}

// Expected CONNACK refusals.
const std::string connack_rc1 = bytes({0x20, 0x02, 0x00, 0x01});  // sp=0, unacceptable version
const std::string connack_rc2 = bytes({0x20, 0x02, 0x00, 0x02});  // sp=0, identifier rejected
const std::string connack_rc3 = bytes({0x20, 0x02, 0x00, 0x03});  // sp=0, server unavailable
const std::string connack_rc4 = bytes({0x20, 0x02, 0x00, 0x04});  // sp=0, bad user/password
const std::string connack_rc5 = bytes({0x20, 0x02, 0x00, 0x05});  // sp=0, not authorized

// Feeds a CONNECT that must be refused with `connack` and nothing forwarded.
void expect_refused(const std::string& connect, const std::string& connack) {
    harness h;
    auto out = h.feed(connect);
    expect_closed_silently(out, hex(connack));
    BOOST_TEST(h.conn->state() == connection_state::closing);
    // Whatever follows, the router never hears about this client.
    BOOST_TEST(h.feed(pingreq).events.empty());
    BOOST_TEST(h.transport_closed().events.empty());
    BOOST_TEST(h.conn->state() == connection_state::closed);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(connection_connect)

// ---- accepted CONNECT -------------------------------------------------------

BOOST_AUTO_TEST_CASE(accepted_connect_is_forwarded_and_connack_comes_from_the_router) {
    harness h;
    BOOST_TEST(h.conn->state() == connection_state::awaiting_connect);
    auto out = h.feed(connect_u_p);
    BOOST_TEST(out.bytes.empty());  // nothing is written before the router answers
    BOOST_TEST(!out.close);
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    const auto& c = as<events::client_connect>(out.events[0]);
    BOOST_TEST(c.conn == test_conn);
    BOOST_TEST(c.client_id == "c");
    BOOST_TEST(c.clean_session);
    BOOST_TEST(c.protocol_level == 4);
    BOOST_TEST(c.keep_alive == 60);
    BOOST_TEST(c.username == "u");
    BOOST_TEST(!c.will_message.has_value());
    BOOST_TEST(h.conn->state() == connection_state::awaiting_connack);
    BOOST_TEST(h.auth.calls == 1);

    out = h.router(events::connack{test_conn, false, 0});
    BOOST_TEST(hex(out.bytes) == hex(connack_accepted));
    BOOST_TEST(out.events.empty());
    BOOST_TEST(!out.close);
    BOOST_TEST(out.close_reason.empty());
    BOOST_TEST(h.conn->state() == connection_state::connected);
}

BOOST_AUTO_TEST_CASE(will_and_flags_are_forwarded) {
    harness h;
    auto out = h.feed(connect_with_will);
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    const auto& c = as<events::client_connect>(out.events[0]);
    BOOST_TEST(c.client_id == "cw");
    BOOST_TEST(c.keep_alive == 30);
    BOOST_TEST(c.username == "u");
    BOOST_REQUIRE(c.will_message.has_value());
    BOOST_TEST(c.will_message->topic == "w/t");
    BOOST_TEST(c.will_message->payload == "gone");
    BOOST_TEST(c.will_message->qos == 1);
    BOOST_TEST(c.will_message->retain);
}

BOOST_AUTO_TEST_CASE(connack_with_session_present) {
    harness h;
    h.feed(connect_u_p);
    auto out = h.router(events::connack{test_conn, true, 0});
    BOOST_TEST(hex(out.bytes) == hex(bytes({
                                     0x20, 0x02,  // CONNACK, remaining length 2
                                     0x01,        // session present
                                     0x00,        // accepted
                                 })));
    BOOST_TEST(h.conn->state() == connection_state::connected);
}

BOOST_AUTO_TEST_CASE(connack_refused_by_router_is_sent_then_closed) {
    harness h;
    h.feed(connect_u_p);
    // A refusal never carries session present (MQTT-3.2.2-4), even if asked to.
    auto out = h.router(events::connack{test_conn, true, 3});
    expect_closed_with(out, reason::protocol_error, hex(connack_rc3));
    BOOST_TEST(h.conn->state() == connection_state::closing);
    // Exactly once: later closes forward nothing.
    BOOST_TEST(h.transport_closed().events.empty());
}

BOOST_AUTO_TEST_CASE(duplicate_connack_is_ignored) {
    harness h;
    h.establish();
    auto out = h.router(events::connack{test_conn, false, 0});
    BOOST_TEST(out.bytes.empty());
    BOOST_TEST(!out.close);
}

// ---- ordering -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(first_packet_not_connect_closes_without_answer) {
    // MQTT-3.1.0-1
    for (const auto& first : {pingreq, publish_q1, subscribe_10, disconnect}) {
        harness h;
        auto out = h.feed(first + connect_u_p);
        expect_closed_silently(out);
        BOOST_TEST(h.auth.calls == 0);
        BOOST_TEST(!out.close_reason.empty());
    }
}

BOOST_AUTO_TEST_CASE(garbage_first_byte_closes_at_once) {
    // MQTT-3.1.0-1, decided on the first byte: "GARBAGE\r\n" starts with 0x47,
    // a PUBACK header claiming 0x41 body bytes that will never come.
    harness h;
    auto out = h.feed(std::string("\x47", 1));
    expect_closed_silently(out);
    BOOST_TEST(h.auth.calls == 0);
}

BOOST_AUTO_TEST_CASE(second_connect_is_a_protocol_error) {
    // MQTT-3.1.0-2, once connected ...
    {
        harness h;
        h.establish();
        auto out = h.feed(connect_u_p);
        expect_closed_with(out, reason::protocol_error);
    }
    // ... and while the first one waits for its connack.
    {
        harness h;
        auto out = h.feed(connect_u_p + connect_u_p);
        BOOST_REQUIRE_EQUAL(out.events.size(), 2u);
        as<events::client_connect>(out.events[0]);
        BOOST_TEST(static_cast<int>(as<events::client_disconnect>(out.events[1]).reason) ==
                   static_cast<int>(reason::protocol_error));
        BOOST_TEST(out.close);
        BOOST_TEST(out.bytes.empty());
        // The late connack is dropped.
        BOOST_TEST(h.router(events::connack{test_conn, false, 0}).bytes.empty());
    }
}

// ---- decoder errors -----------------------------------------------------------

BOOST_AUTO_TEST_CASE(unsupported_protocol_level_gets_connack_1) {
    // MQTT-3.1.2-2
    expect_refused(connect_level_7, connack_rc1);
}

BOOST_AUTO_TEST_CASE(malformed_connect_closes_without_answer) {
    for (const auto& c : {connect_bad_name, connect_reserved_flag}) {
        harness h;
        expect_closed_silently(h.feed(c));
        BOOST_TEST(h.auth.calls == 0);
    }
}

// ---- client identifiers ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(empty_client_id_with_clean_session_gets_a_unique_id) {
    // MQTT-3.1.3-6
    connection_settings s;
    s.frontend_id = "fe7";
    harness a(s);
    harness b(s);  // same frontend, same connection id: the random part differs
    auto out_a = a.feed(connect_empty_id_clean);
    auto out_b = b.feed(connect_empty_id_clean);
    BOOST_REQUIRE_EQUAL(out_a.events.size(), 1u);
    BOOST_REQUIRE_EQUAL(out_b.events.size(), 1u);
    const auto& id_a = as<events::client_connect>(out_a.events[0]).client_id;
    const auto& id_b = as<events::client_connect>(out_b.events[0]).client_id;
    BOOST_TEST(id_a.rfind("auto-fe7-42-", 0) == 0u, id_a);
    BOOST_TEST(id_a.size() > std::string("auto-fe7-42-").size());
    BOOST_TEST(id_a != id_b);
    BOOST_TEST(hex(a.router(events::connack{test_conn, false, 0}).bytes) == hex(connack_accepted));
}

BOOST_AUTO_TEST_CASE(empty_client_id_without_clean_session_gets_connack_2) {
    // MQTT-3.1.3-8
    expect_refused(connect_empty_id_persistent, connack_rc2);
}

BOOST_AUTO_TEST_CASE(mqtt_3_1_connect_is_accepted) {
    harness h;
    auto out = h.feed(connect_v31);
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    const auto& c = as<events::client_connect>(out.events[0]);
    BOOST_TEST(c.client_id == "c");
    BOOST_TEST(c.protocol_level == 3);
    BOOST_TEST(hex(h.router(events::connack{test_conn, false, 0}).bytes) == hex(connack_accepted));
}

BOOST_AUTO_TEST_CASE(mqtt_3_1_empty_client_id_gets_connack_2) {
    expect_refused(connect_v31_empty_id, connack_rc2);
}

BOOST_AUTO_TEST_CASE(client_ids_longer_than_23_bytes_are_accepted) {
    // MQTT-3.1.3-5 lets the server accept them; so do we, for 3.1 too.
    for (const auto& c : {connect_long_id, connect_v31_long_id}) {
        harness h;
        auto out = h.feed(c);
        BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
        BOOST_TEST(as<events::client_connect>(out.events[0]).client_id == long_id);
        BOOST_TEST(!out.close);
    }
}

// ---- authentication -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(missing_credentials_get_connack_5) {
    expect_refused(connect_no_credentials, connack_rc5);
    expect_refused(connect_username_only, connack_rc5);
}

BOOST_AUTO_TEST_CASE(bad_credentials_get_connack_4) {
    expect_refused(connect_wrong_password, connack_rc4);
    expect_refused(connect_unknown_user, connack_rc4);
}

BOOST_AUTO_TEST_CASE(packets_after_a_refused_connect_are_not_processed) {
    // MQTT-3.1.4-5: nothing after a refused CONNECT is forwarded or answered.
    harness h;
    auto out = h.feed(connect_wrong_password + subscribe_10 + pingreq);
    expect_closed_silently(out, hex(connack_rc4));
}

// ---- connect deadline -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(no_connect_before_timeout_closes) {
    connection_settings s;
    s.connect_timeout = 5s;
    harness h(s);
    BOOST_TEST((h.conn->deadline() == t0 + 5s));
    auto out = h.timer(t0 + 5s - 1ms);
    BOOST_TEST(!out.close);
    BOOST_TEST(h.conn->state() == connection_state::awaiting_connect);
    // Half a CONNECT does not help.
    h.feed(connect_u_p.substr(0, 10), t0 + 4s);
    BOOST_TEST((h.conn->deadline() == t0 + 5s));
    expect_closed_silently(h.timer(t0 + 5s));
    BOOST_TEST(!h.conn->deadline().has_value());
}

BOOST_AUTO_TEST_CASE(connect_before_timeout_cancels_it) {
    connection_settings s;
    s.connect_timeout = 5s;
    harness h(s);
    h.establish(connect_with_keep_alive(0), t0 + 4s);
    BOOST_TEST(!h.conn->deadline().has_value());
    BOOST_TEST(!h.timer(t0 + 100s).close);
}

BOOST_AUTO_TEST_CASE(router_not_answering_gets_connack_3) {
    // The router must answer a forwarded CONNECT within connect_timeout.
    connection_settings s;
    s.connect_timeout = 5s;
    harness h(s);
    h.feed(connect_with_keep_alive(0), t0 + 1s);
    BOOST_TEST((h.conn->deadline() == t0 + 6s));
    BOOST_TEST(!h.timer(t0 + 6s - 1ms).close);
    expect_closed_with(h.timer(t0 + 6s), reason::connection_lost, hex(connack_rc3));
    // A late connack is dropped.
    BOOST_TEST(h.router(events::connack{test_conn, false, 0}).bytes.empty());
}

// ---- packet size limits -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(oversized_packet_before_connect_closes) {
    connection_settings s;
    s.max_packet_size_before_connect = 32;
    harness h(s);
    // The fixed header alone announces 2 + 64 bytes: refused before the body arrives.
    auto out = h.feed(bytes({0x10, 0x40}));  // CONNECT, remaining length 64
    expect_closed_silently(out);
    BOOST_TEST(h.auth.calls == 0);
}

BOOST_AUTO_TEST_CASE(limit_before_connect_counts_the_whole_packet) {
    // connect_u_p is 21 bytes including its 2-byte fixed header.
    {
        connection_settings s;
        s.max_packet_size_before_connect = 21;
        harness h(s);
        BOOST_TEST(h.feed(connect_u_p).events.size() == 1u);
    }
    {
        connection_settings s;
        s.max_packet_size_before_connect = 20;
        harness h(s);
        expect_closed_silently(h.feed(connect_u_p));
    }
}

BOOST_AUTO_TEST_CASE(limit_is_raised_once_connect_is_accepted) {
    connection_settings s;
    s.max_packet_size_before_connect = 32;
    s.max_packet_size = 64;
    harness h(s);
    // A 40-byte PUBLISH pipelined in the same chunk as CONNECT is allowed.
    auto out = h.feed(connect_u_p + publish_with_payload(35));
    BOOST_REQUIRE_EQUAL(out.events.size(), 2u);
    BOOST_TEST(as<events::client_publish>(out.events[1]).payload == std::string(35, 'x'));
    h.router(events::connack{test_conn, false, 0});
    // Exactly 64 bytes pass; 65 close.
    out = h.feed(publish_with_payload(59));
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    BOOST_TEST(as<events::client_publish>(out.events[0]).payload.size() == 59u);
    expect_closed_with(h.feed(publish_with_payload(60)), reason::protocol_error);
}

BOOST_AUTO_TEST_CASE(refused_connect_keeps_the_low_limit) {
    connection_settings s;
    s.max_packet_size_before_connect = 32;
    harness h(s);
    // Nothing after the refused CONNECT is read, big or small.
    auto out = h.feed(connect_wrong_password + publish_with_payload(35));
    expect_closed_silently(out, hex(connack_rc4));
}

BOOST_AUTO_TEST_SUITE_END()
