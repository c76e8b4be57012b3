"""23 mutual TLS: client certificates with --tls-ca, --require-client-cert and
--use-identity-as-username (Mosquitto's cafile, require_certificate, use_identity_as_username).

Real clients: paho-mqtt over TLS and over WebSocket over TLS, mosquitto_pub/mosquitto_sub with
--cert/--key, and raw sockets for exact CONNACK bytes. Client certificates come from the test's
throwaway CA (harness.Pki.client_cert); a second CA signs the "foreign" ones.

- Required certificate: no certificate, or one from another CA, fails the TLS handshake (no
  MQTT byte is answered) and the broker lives on; a valid certificate still needs the password.
- Optional (--tls-ca alone, ours only: Mosquitto asks for no certificate then): a certificate
  sent is verified, none is fine and the password decides.
- Identity: the certificate's CN is the username and authenticates the client; the CONNECT's
  username and password are ignored (a CN absent from the password file connects without any
  password), a certificate without CN gets CONNACK 4 (as Mosquitto), and listeners without TLS
  (plain tcp, ours only) keep checking passwords.
- WSS shares the TLS context, so all of this holds over wss:// too (ours only).

Run: /usr/bin/python3 tests/system/test_23_mtls.py -v (MQTT_TEST_BROKER=mosquitto for the
reference where the options exist there).
"""

import os
import socket
import ssl
import subprocess
import threading

import harness
from harness import BrokerTestCase, Pki, RawClient, main, ours_only, packet, skip_on_mosquitto

CERTIFICATE_REQUIRED = "certificate required"  # TLS 1.3 alert 116
UNKNOWN_CA = "unknown ca"                      # TLS alert 48

CONNECT_ALICE = packet("""
    10 1f                       # CONNECT, remaining length 31
    00 04 4d 51 54 54           # protocol name "MQTT"
    04                          # protocol level 4 (3.1.1)
    c2                          # flags: user name, password, clean session
    00 3c                       # keep alive 60 s
    00 03 6d 30 31              # client id "m01"
    00 05 61 6c 69 63 65        # user name "alice"
    00 07 61 6c 69 63 65 70 77  # password "alicepw"
""")
CONNACK_OK = packet("20 02 00 00")               # CONNACK, no session present, rc 0
CONNACK_BAD_CREDENTIALS = packet("20 02 00 04")  # CONNACK, rc 4 bad user name or password
CONNACK_NOT_AUTHORIZED = packet("20 02 00 05")   # CONNACK, rc 5 not authorized
# Our rc for a wrong password is 4; Mosquitto 2 answers 5 (see test_02_auth).
BAD_PASSWORD_RC = 5 if harness.IS_MOSQUITTO else 4


def cert_args(client_cert):
    """mosquitto_pub/_sub arguments presenting a (cert, key) pair."""
    return ["--cert", client_cert[0], "--key", client_cert[1]] if client_cert else []


class MtlsCase(BrokerTestCase):
    """A broker with --tls-ca set to the test CA, plus client certificates: alice and
    sensor-17 from the test CA, one without CN, and one for alice from another CA."""

    @classmethod
    def prepare_class(cls):
        cls.cert_alice = cls.pki.client_cert("alice")
        cls.cert_sensor = cls.pki.client_cert("sensor-17")
        cls.cert_no_cn = cls.pki.client_cert(None)
        other = os.path.join(cls.tmp, "other-ca")
        os.makedirs(other)
        cls.cert_foreign = Pki(other).client_cert("alice")

    @classmethod
    def options(cls):
        return dict(cls.broker_options, tls_ca=cls.pki.ca)

    # --- refusals before MQTT ---

    def assert_refusal(self, errors, alert):
        """`errors` (exceptions seen by a client) show the server's TLS alert `alert`, or a
        reset (the server closing on bytes the client sent right after its handshake)."""
        for e in errors:
            if isinstance(e, ssl.SSLEOFError) and harness.IS_MOSQUITTO:
                return  # mosquitto at times closes without sending its alert
            if isinstance(e, ssl.SSLError):
                self.assertIn(alert, str(e))
                return
            if isinstance(e, (ConnectionResetError, BrokenPipeError)):
                return
        self.fail(f"no TLS alert {alert!r} seen; errors: {errors!r}")

    def assert_handshake_refused(self, alert, client_cert=None, port=None):
        """The server ends the TLS session with `alert` ("certificate required", "unknown ca").
        With TLS 1.3 the client finishes its side of the handshake first and learns of the
        refusal on its first read; with TLS 1.2 the handshake itself fails."""
        ctx = self.pki.client_context(client_cert)
        errors = []
        with socket.create_connection((harness.HOST, port or self.port), timeout=5) as sock:
            try:
                with ctx.wrap_socket(sock, server_hostname=harness.HOST) as tls:
                    data = tls.recv(1024)
                    self.fail(f"the server sent {data.hex(' ')}" if data
                              else "the server closed without an alert")
            except (ssl.SSLError, OSError) as e:
                errors.append(e)
        self.assert_refusal(errors, alert)

    def assert_paho_refused(self, alert, **kw):
        """A paho client (TLS or WSS) gets no CONNACK but the server's TLS alert."""
        errors = []
        previous = threading.excepthook  # paho's network thread sees the alert on TLS 1.3
        threading.excepthook = lambda args: errors.append(args.exc_value)
        try:
            c = self.client(**kw)
            try:
                rc, _ = c.connect(timeout=3)
                self.fail(f"CONNACK {rc}: the handshake should have failed")
            except AssertionError as e:
                if "no CONNACK" not in str(e):
                    raise
            except Exception as e:  # the handshake or the WebSocket upgrade failed here
                errors.append(e)
            c.close()
        finally:
            threading.excepthook = previous
        self.assert_refusal(errors, alert)

    def assert_mosquitto_pub_refused(self, client_cert=None, **kw):
        with self.assertRaises(subprocess.CalledProcessError, msg="mosquitto_pub succeeded"):
            self.mosquitto_pub("mtls/refused", "x", extra=cert_args(client_cert), **kw)

    def assert_cli_roundtrip(self, sub_cert, pub_cert, topic, **credentials):
        """mosquitto_sub and mosquitto_pub, each with a certificate, exchange one message."""
        sub = self.mosquitto_sub(topic, 1, extra=cert_args(sub_cert), **credentials)
        sub.wait_subscribed()
        self.mosquitto_pub(topic, "over mTLS", qos=1, extra=cert_args(pub_cert), **credentials)
        got = sub.finish()
        self.assertEqual([(m.topic, m.payload) for m in got], [(topic, b"over mTLS")])


class RequiredCertificateTest(MtlsCase):
    """--tls-ca CA --require-client-cert (mosquitto: require_certificate true)."""

    broker_options = dict(require_client_cert=True)

    def test_no_certificate_fails_the_handshake(self):
        self.assert_handshake_refused(CERTIFICATE_REQUIRED)
        self.assert_paho_refused(CERTIFICATE_REQUIRED, client_id="m-nocert")
        self.assert_mosquitto_pub_refused()
        self.assert_broker_alive()
        # ... and serves the next client that has one.
        c = self.connected("m-after", client_cert=self.cert_alice)
        c.disconnect()

    def test_certificate_of_another_ca_fails_the_handshake(self):
        self.assert_handshake_refused(UNKNOWN_CA, self.cert_foreign)
        self.assert_paho_refused(UNKNOWN_CA, client_id="m-foreign", client_cert=self.cert_foreign)
        self.assert_mosquitto_pub_refused(self.cert_foreign)
        self.assert_broker_alive()

    def test_valid_certificate_and_password_accepted(self):
        r = self.raw(context=self.pki.client_context(self.cert_alice))
        r.send(CONNECT_ALICE)
        r.expect(CONNACK_OK)
        c = self.client("m-paho", client_cert=self.cert_sensor, username="bob", password="bobpw")
        self.assertEqual(c.connect(), (0, 0))
        self.assert_cli_roundtrip(self.cert_alice, self.cert_sensor, "mtls/required")

    def test_valid_certificate_still_needs_the_password(self):
        """Without --use-identity-as-username the certificate admits the connection, the
        password file the client."""
        c = self.client("m-wrong", client_cert=self.cert_alice, password="wrong")
        self.assertEqual(c.connect()[0], BAD_PASSWORD_RC)
        c = self.client("m-anon", client_cert=self.cert_alice, username=None)
        self.assertEqual(c.connect()[0], 5)


@skip_on_mosquitto("without require_certificate mosquitto asks for no client certificate")
class OptionalCertificateTest(MtlsCase):
    """--tls-ca alone: a certificate is asked for and verified when sent, not required."""

    def test_no_certificate_password_decides(self):
        c = self.connected("o-nocert")
        c.disconnect()
        c = self.client("o-wrong", password="wrong")
        self.assertEqual(c.connect()[0], 4)
        r = self.raw()
        r.send(CONNECT_ALICE)
        r.expect(CONNACK_OK)

    def test_valid_certificate_with_password_accepted(self):
        c = self.connected("o-cert", client_cert=self.cert_sensor)
        c.disconnect()
        self.assert_cli_roundtrip(self.cert_alice, None, "mtls/optional")

    def test_certificate_of_another_ca_fails_the_handshake(self):
        self.assert_handshake_refused(UNKNOWN_CA, self.cert_foreign)
        self.assert_paho_refused(UNKNOWN_CA, client_id="o-foreign", client_cert=self.cert_foreign)
        self.assert_mosquitto_pub_refused(self.cert_foreign)
        self.assert_broker_alive()


class IdentityTest(MtlsCase):
    """--require-client-cert --use-identity-as-username: the CN is the client's username.
    The password file holds alice and bob only."""

    broker_options = dict(require_client_cert=True, use_identity_as_username=True)

    def test_common_name_absent_from_password_file_connects_without_password(self):
        c = self.client("i-sensor", client_cert=self.cert_sensor, username=None)
        self.assertEqual(c.connect(), (0, 0))

    def test_connect_username_and_password_are_ignored(self):
        c = self.client("i-ignored", client_cert=self.cert_sensor, username="mallory",
                        password="not-a-password")
        self.assertEqual(c.connect(), (0, 0))
        r = self.raw(context=self.pki.client_context(self.cert_sensor))
        r.send(CONNECT_ALICE)  # alice/alicepw: irrelevant, and harmless
        r.expect(CONNACK_OK)

    @ours_only("the frontend logs the certificate's CN at debug level")
    def test_log_names_the_common_name(self):
        c = self.connected("i-log", client_cert=self.cert_sensor, username=None)
        c.disconnect()
        self.assertIn("client certificate CN 'sensor-17'", self.broker.log(tail=2000))

    def test_certificate_without_common_name_gets_connack_4(self):
        """Valid alice/alicepw credentials do not stand in for the missing CN."""
        r = self.raw(context=self.pki.client_context(self.cert_no_cn))
        r.send(CONNECT_ALICE)
        r.expect(CONNACK_BAD_CREDENTIALS)
        r.assert_closed(timeout=5)
        c = self.client("i-nocn", client_cert=self.cert_no_cn, username=None)
        self.assertEqual(c.connect()[0], 4)

    def test_no_certificate_fails_the_handshake(self):
        self.assert_handshake_refused(CERTIFICATE_REQUIRED)
        self.assert_paho_refused(CERTIFICATE_REQUIRED, client_id="i-nocert")
        self.assert_broker_alive()

    def test_certificate_clients_exchange_messages(self):
        self.assert_cli_roundtrip(self.cert_sensor, self.cert_alice, "mtls/identity",
                                  username=None, password=None)


# Raw MQTT over the plain tcp listener of IdentityAndPasswordListenersTest.
CONNECT_BOB_TCP = packet("""
    10 1b                       # CONNECT, remaining length 27
    00 04 4d 51 54 54           # protocol name "MQTT"
    04                          # protocol level 4
    c2                          # flags: user name, password, clean session
    00 3c                       # keep alive 60 s
    00 03 74 30 31              # client id "t01"
    00 03 62 6f 62              # user name "bob"
    00 05 62 6f 62 70 77        # password "bobpw"
""")
CONNECT_BOB_WRONG_TCP = packet("""
    10 1a                       # CONNECT, remaining length 26
    00 04 4d 51 54 54           # protocol name "MQTT"
    04                          # protocol level 4
    c2                          # flags: user name, password, clean session
    00 3c                       # keep alive 60 s
    00 03 74 30 32              # client id "t02"
    00 03 62 6f 62              # user name "bob"
    00 04 6e 6f 70 65           # password "nope"
""")
CONNECT_SENSOR_NO_PASSWORD_TCP = packet("""
    10 1a                       # CONNECT, remaining length 26
    00 04 4d 51 54 54           # protocol name "MQTT"
    04                          # protocol level 4
    82                          # flags: user name, clean session (no password)
    00 3c                       # keep alive 60 s
    00 03 74 30 33              # client id "t03"
    00 09 73 65 6e 73 6f 72 2d 31 37  # user name "sensor-17"
""")
SUBSCRIBE_ID_T = packet("""
    82 09                       # SUBSCRIBE, remaining length 9
    00 01                       # packet id 1
    00 04 69 64 2f 74           # filter "id/t"
    00                          # requested QoS 0
""")
SUBACK_ID_T = packet("90 03 00 01 00")  # SUBACK, packet id 1, granted QoS 0
PUBLISH_ID_T = packet("""
    30 0f                       # PUBLISH QoS 0, remaining length 15
    00 04 69 64 2f 74           # topic "id/t"
    66 72 6f 6d 2d 63 65 72 74  # payload "from-cert"
""")


class IdentityAndPasswordListenersTest(MtlsCase):
    """Identity mode with a plain tcp:// and a wss:// listener besides tls:// (ours only):
    certificates on the TLS ones, passwords on the plain one."""

    broker_options = dict(require_client_cert=True, use_identity_as_username=True,
                          extra_listeners=[("wss", "/mqtt"), ("tcp", "")])

    def test_password_client_on_tcp_receives_from_certificate_client(self):
        sub = RawClient(self.pki, self.broker.extra_ports["tcp"], tls=False)
        self._clients.append(sub)
        sub.send(CONNECT_BOB_TCP)
        sub.expect(CONNACK_OK)
        sub.send(SUBSCRIBE_ID_T)
        sub.expect(SUBACK_ID_T)
        pub = self.connected("p-cert", client_cert=self.cert_sensor, username=None)
        pub.publish("id/t", b"from-cert", qos=1)
        sub.expect(PUBLISH_ID_T)

    def test_plain_listener_still_checks_passwords(self):
        r = RawClient(self.pki, self.broker.extra_ports["tcp"], tls=False)
        self._clients.append(r)
        r.send(CONNECT_BOB_WRONG_TCP)
        r.expect(CONNACK_BAD_CREDENTIALS)
        r.assert_closed(timeout=5)
        # A certificate's CN cannot be claimed as a bare username without TLS.
        r = RawClient(self.pki, self.broker.extra_ports["tcp"], tls=False)
        self._clients.append(r)
        r.send(CONNECT_SENSOR_NO_PASSWORD_TCP)
        r.expect(CONNACK_NOT_AUTHORIZED)
        r.assert_closed(timeout=5)

    def test_wss_with_client_certificate(self):
        wss = self.broker.extra_ports["wss"]
        c = self.client("w-cert", port=wss, websocket_path="/mqtt", client_cert=self.cert_sensor,
                        username=None)
        self.assertEqual(c.connect(), (0, 0))
        c.subscribe("wss/t", qos=1)
        self.assert_roundtrip(c, self.connected("w-pub", client_cert=self.cert_alice,
                                                username=None), topic="wss/t")
        nocn = self.client("w-nocn", port=wss, websocket_path="/mqtt",
                           client_cert=self.cert_no_cn)
        self.assertEqual(nocn.connect()[0], 4)

    def test_wss_without_or_with_foreign_certificate_fails(self):
        wss = self.broker.extra_ports["wss"]
        self.assert_paho_refused(CERTIFICATE_REQUIRED, client_id="w-nocert", port=wss,
                                 websocket_path="/mqtt")
        self.assert_paho_refused(UNKNOWN_CA, client_id="w-foreign", port=wss,
                                 websocket_path="/mqtt", client_cert=self.cert_foreign)
        self.assert_handshake_refused(CERTIFICATE_REQUIRED, port=wss)
        self.assert_broker_alive()


class RequiredCertificateWssTest(MtlsCase):
    """--require-client-cert on a wss:// listener (ours only): same TLS context as tls://."""

    broker_options = dict(require_client_cert=True, extra_listeners=[("wss", "/mqtt")])

    def test_wss_certificate_and_password(self):
        wss = self.broker.extra_ports["wss"]
        c = self.client("ws-ok", port=wss, websocket_path="/mqtt", client_cert=self.cert_alice)
        self.assertEqual(c.connect(), (0, 0))
        bad = self.client("ws-bad", port=wss, websocket_path="/mqtt",
                          client_cert=self.cert_alice, password="wrong")
        self.assertEqual(bad.connect()[0], 4)
        self.assert_paho_refused(CERTIFICATE_REQUIRED, client_id="ws-none", port=wss,
                                 websocket_path="/mqtt")


if __name__ == "__main__":
    main()
