// frontend::connection with a client-certificate identity
// (--use-identity-as-username, connection::set_peer_identity): the
// certificate's CN replaces the CONNECT's username and authenticates the
// client without its password, a certificate without CN is refused with
// CONNACK 4 as Mosquitto does, and without an identity the password check
// applies as before. Client and server bytes are hand-written hex.
#include <boost/test/unit_test.hpp>

#include "tests/component/connection_harness.hpp"

using namespace connection_test;

namespace {

// CONNECT "c" with user "v" and password "x" (unknown to fake_auth).
const std::string connect_v_x = bytes({
    0x10, 0x13,                      // CONNECT, remaining length 19
    0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
    0x04,                            // protocol level 4
    0xc2,                            // flags: username, password, clean session
    0x00, 0x3c,                      // keep alive 60 s
    0x00, 0x01, 'c',                 // client id "c"
    0x00, 0x01, 'v',                 // username "v"
    0x00, 0x01, 'x',                 // password "x"
});

// CONNECT "c" without username and password.
const std::string connect_anonymous = bytes({
    0x10, 0x0d,                      // CONNECT, remaining length 13
    0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
    0x04,                            // protocol level 4
    0x02,                            // flags: clean session
    0x00, 0x3c,                      // keep alive 60 s
    0x00, 0x01, 'c',                 // client id "c"
});

const std::string connack_rc4 = bytes({0x20, 0x02, 0x00, 0x04});  // sp=0, bad user/password
const std::string connack_rc5 = bytes({0x20, 0x02, 0x00, 0x05});  // sp=0, not authorized

// The client_connect the connection forwarded, after checking it is the only event.
const events::client_connect& forwarded_connect(const connection::output& out) {
    BOOST_REQUIRE_EQUAL(out.events.size(), 1u);
    return as<events::client_connect>(out.events[0]);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(connection_identity)

BOOST_AUTO_TEST_CASE(common_name_replaces_the_username_and_the_password_is_not_checked) {
    harness h;
    h.conn->set_peer_identity("sensor-17");
    auto out = h.feed(connect_v_x);    // "v"/"x" would be refused by the password check
    BOOST_TEST(hex(out.bytes) == "");  // the router answers
    BOOST_TEST(!out.close);
    const auto& c = forwarded_connect(out);
    BOOST_TEST(c.username == "sensor-17");
    BOOST_TEST(c.client_id == "c");
    BOOST_TEST(h.auth.calls == 0);
    BOOST_TEST(h.conn->state() == connection_state::awaiting_connack);

    out = h.router(events::connack{test_conn, false, 0});
    BOOST_TEST(hex(out.bytes) == hex(connack_accepted));
    BOOST_TEST(h.conn->state() == connection_state::connected);
}

BOOST_AUTO_TEST_CASE(common_name_authenticates_a_connect_without_credentials) {
    harness h;
    h.conn->set_peer_identity("sensor-17");
    auto out = h.feed(connect_anonymous);
    BOOST_TEST(forwarded_connect(out).username == "sensor-17");
    BOOST_TEST(h.auth.calls == 0);
    BOOST_TEST(!out.close);
}

BOOST_AUTO_TEST_CASE(common_name_wins_over_valid_password_credentials) {
    harness h;
    h.conn->set_peer_identity("device-a");
    auto out = h.feed(connect_u_p);  // "u"/"p" is valid, but the certificate decides
    BOOST_TEST(forwarded_connect(out).username == "device-a");
    BOOST_TEST(h.auth.calls == 0);
}

BOOST_AUTO_TEST_CASE(certificate_without_common_name_is_refused_with_connack_4) {
    for (const auto* connect : {&connect_u_p, &connect_anonymous}) {
        harness h;
        h.conn->set_peer_identity(std::nullopt);
        auto out = h.feed(*connect);
        // CONNACK 4, then close; the router never heard of the client.
        expect_closed_silently(out, hex(connack_rc4));
        BOOST_TEST(h.auth.calls == 0);  // no password fallback
        BOOST_TEST(h.conn->refusal() == "bad_credentials");
    }
}

BOOST_AUTO_TEST_CASE(without_an_identity_the_password_is_checked) {
    {
        harness h;  // valid password
        auto out = h.feed(connect_u_p);
        BOOST_TEST(forwarded_connect(out).username == "u");
        BOOST_TEST(h.auth.calls == 1);
    }
    {
        harness h;  // wrong credentials: CONNACK 4
        auto out = h.feed(connect_v_x);
        expect_closed_silently(out, hex(connack_rc4));
        BOOST_TEST(h.auth.calls == 1);
    }
    {
        harness h;  // no credentials: CONNACK 5
        auto out = h.feed(connect_anonymous);
        expect_closed_silently(out, hex(connack_rc5));
        BOOST_TEST(h.conn->refusal() == "not_authorized");
    }
}

BOOST_AUTO_TEST_CASE(identity_does_not_bypass_the_client_id_rules) {
    // CONNECT with an empty client id and clean session 0: CONNACK 2 first (MQTT-3.1.3-8).
    const std::string connect_empty_id_persistent = bytes({
        0x10, 0x0c,                      // CONNECT, remaining length 12
        0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name "MQTT"
        0x04,                            // protocol level 4
        0x00,                            // flags: none (clean session 0)
        0x00, 0x3c,                      // keep alive 60 s
        0x00, 0x00,                      // client id "" (empty)
    });
    harness h;
    h.conn->set_peer_identity("sensor-17");
    auto out = h.feed(connect_empty_id_persistent);
    expect_closed_silently(out, hex(bytes({0x20, 0x02, 0x00, 0x02})));  // CONNACK rc 2
    BOOST_TEST(h.conn->refusal() == "identifier_rejected");
}

BOOST_AUTO_TEST_SUITE_END()
