"""01 connect: CONNECT validation, CONNACK codes, first/second packet rules, TLS versions."""

import socket
import ssl
import threading
import time
import unittest
import warnings

import harness
from harness import BrokerTestCase, packet, skip_on_mosquitto

CONNACK_OK = packet("20 02 00 00")  # CONNACK, session present 0, return code 0

# CONNECT as alice, client id "c01", clean session, keep alive 60.
CONNECT_C01 = packet("""
    10 1f                       # CONNECT, remaining length 31
    00 04 4d 51 54 54           # protocol name "MQTT"
    04                          # protocol level 4 (3.1.1)
    c2                          # flags: username, password, clean session
    00 3c                       # keep alive 60
    00 03 63 30 31              # client id "c01"
    00 05 61 6c 69 63 65        # username "alice"
    00 07 61 6c 69 63 65 70 77  # password "alicepw"
""")

PINGREQ = packet("c0 00")   # PINGREQ
PINGRESP = packet("d0 00")  # PINGRESP


class ConnectTest(BrokerTestCase):

    def connect_raw(self, connect=CONNECT_C01):
        r = self.raw()
        r.send(connect)
        r.expect(CONNACK_OK, msg="CONNACK")
        return r

    def test_accepted_connect_gets_connack_0(self):
        """MQTT-3.1.4-4, MQTT-3.2.0-1: a valid CONNECT is answered by CONNACK rc 0 as the first
        packet; MQTT-3.2.2-1: clean session 1 -> session present 0; MQTT-3.12.4-1: PINGRESP."""
        r = self.connect_raw()
        r.send(PINGREQ)
        r.expect(PINGRESP)

    def test_unsupported_protocol_level_gets_rc1_then_close(self):
        """MQTT-3.1.2-2: unsupported protocol level -> CONNACK 0x01 then disconnect;
        MQTT-3.2.2-4 (session present 0 with a non-zero code), MQTT-3.2.2-5 (then close)."""
        r = self.raw()
        r.send(packet("""
            10 1f                       # CONNECT, remaining length 31
            00 04 4d 51 54 54           # protocol name "MQTT"
            06                          # protocol level 6: not a level anybody supports
            c2                          # flags: username, password, clean session
            00 3c                       # keep alive 60
            00 03 63 30 32              # client id "c02"
            00 05 61 6c 69 63 65        # username "alice"
            00 07 61 6c 69 63 65 70 77  # password "alicepw"
        """))
        r.expect(packet("20 02 00 01"), msg="CONNACK rc 1 (unacceptable protocol version)")
        r.assert_closed(timeout=5)

    def test_unknown_protocol_name_not_processed_as_mqtt(self):
        """MQTT-3.1.2-1: with an incorrect protocol name the server may disconnect, and must not
        go on as if it were MQTT 3.1.1: the connection is closed and never accepted."""
        r = self.raw()
        r.send(packet("""
            10 1f                       # CONNECT, remaining length 31
            00 04 4d 51 54 58           # protocol name "MQTX"
            04                          # protocol level 4
            c2                          # flags: username, password, clean session
            00 3c                       # keep alive 60
            00 03 63 30 37              # client id "c07"
            00 05 61 6c 69 63 65        # username "alice"
            00 07 61 6c 69 63 65 70 77  # password "alicepw"
        """))
        r.assert_closed(timeout=5, allow_data=True)
        self.assertFalse(r.buf.startswith(CONNACK_OK), r.buf.hex(" "))

    def test_mqtt31_mqisdp_level3_accepted(self):
        """MQTT 3.1 clients ("MQIsdp", level 3) are accepted (MQTT-3.1.2-1 leaves other protocol
        names to the server; we, like mosquitto, speak 3.1)."""
        r = self.raw()
        r.send(packet("""
            10 21                       # CONNECT, remaining length 33
            00 06 4d 51 49 73 64 70     # protocol name "MQIsdp"
            03                          # protocol level 3 (MQTT 3.1)
            c2                          # flags: username, password, clean session
            00 3c                       # keep alive 60
            00 03 63 33 31              # client id "c31"
            00 05 61 6c 69 63 65        # username "alice"
            00 07 61 6c 69 63 65 70 77  # password "alicepw"
        """))
        r.expect(CONNACK_OK, msg="CONNACK for MQTT 3.1")
        r.send(PINGREQ)
        r.expect(PINGRESP)

    def test_empty_client_id_with_clean_session_accepted(self):
        """MQTT-3.1.3-6: a zero-length client id with clean session 1 is given a unique id;
        two such clients work side by side (neither takes the other over)."""
        empty_id = packet("""
            10 1c                       # CONNECT, remaining length 28
            00 04 4d 51 54 54           # protocol name "MQTT"
            04                          # protocol level 4
            c2                          # flags: username, password, clean session
            00 3c                       # keep alive 60
            00 00                       # client id "" (zero length)
            00 05 61 6c 69 63 65        # username "alice"
            00 07 61 6c 69 63 65 70 77  # password "alicepw"
        """)
        a = self.connect_raw(empty_id)
        b = self.connect_raw(empty_id)
        for r in (a, b):
            r.send(PINGREQ)
            r.expect(PINGRESP)

    def test_empty_client_id_without_clean_session_rejected_rc2(self):
        """MQTT-3.1.3-8: zero-length client id with clean session 0 -> CONNACK 0x02 then close;
        MQTT-3.1.3-9, MQTT-3.2.2-4, MQTT-3.2.2-5."""
        r = self.raw()
        r.send(packet("""
            10 1c                       # CONNECT, remaining length 28
            00 04 4d 51 54 54           # protocol name "MQTT"
            04                          # protocol level 4
            c0                          # flags: username, password, clean session 0
            00 3c                       # keep alive 60
            00 00                       # client id "" (zero length)
            00 05 61 6c 69 63 65        # username "alice"
            00 07 61 6c 69 63 65 70 77  # password "alicepw"
        """))
        r.expect(packet("20 02 00 02"), msg="CONNACK rc 2 (identifier rejected)")
        r.assert_closed(timeout=5)

    def test_23_char_alphanumeric_client_id_accepted(self):
        """MQTT-3.1.3-5: the server MUST allow 1..23 byte ids of [0-9a-zA-Z]."""
        r = self.raw()
        r.send(packet("""
            10 33                       # CONNECT, remaining length 51
            00 04 4d 51 54 54           # protocol name "MQTT"
            04                          # protocol level 4
            c2                          # flags: username, password, clean session
            00 3c                       # keep alive 60
            00 17                       # client id length 23
            41 42 43 44 45 46 47 48 49 4a 4b 4c  # "ABCDEFGHIJKL"
            6d 6e 6f 70 71 30 31 32 33 34 35     # "mnopq012345"
            00 05 61 6c 69 63 65        # username "alice"
            00 07 61 6c 69 63 65 70 77  # password "alicepw"
        """))
        r.expect(CONNACK_OK)

    def test_reserved_connect_flag_closes_without_connack(self):
        """MQTT-3.1.2-3: reserved CONNECT flag bit 0 must be 0, else disconnect;
        MQTT-3.1.4-1: a non-conforming CONNECT closes without CONNACK."""
        r = self.raw()
        r.send(packet("""
            10 1f                       # CONNECT, remaining length 31
            00 04 4d 51 54 54           # protocol name "MQTT"
            04                          # protocol level 4
            c3                          # flags: username, password, clean session, RESERVED bit 0
            00 3c                       # keep alive 60
            00 03 63 30 33              # client id "c03"
            00 05 61 6c 69 63 65        # username "alice"
            00 07 61 6c 69 63 65 70 77  # password "alicepw"
        """))
        r.assert_closed(timeout=5)

    def test_will_qos_3_closes_without_connack(self):
        """MQTT-3.1.2-14: will QoS 3 is invalid; MQTT-3.1.4-1: close without CONNACK."""
        r = self.raw()
        r.send(packet("""
            10 25                       # CONNECT, remaining length 37
            00 04 4d 51 54 54           # protocol name "MQTT"
            04                          # protocol level 4
            de                          # flags: username, password, will QoS 3 (bits 4-3 = 11), will, clean
            00 3c                       # keep alive 60
            00 03 63 30 34              # client id "c04"
            00 01 77                    # will topic "w"
            00 01 78                    # will message "x"
            00 05 61 6c 69 63 65        # username "alice"
            00 07 61 6c 69 63 65 70 77  # password "alicepw"
        """))
        r.assert_closed(timeout=5)

    def test_will_flags_without_will_flag_close(self):
        """MQTT-3.1.2-11/13/15: with will flag 0, will QoS and will retain must be 0."""
        r = self.raw()
        r.send(packet("""
            10 1f                       # CONNECT, remaining length 31
            00 04 4d 51 54 54           # protocol name "MQTT"
            04                          # protocol level 4
            e2                          # flags: username, password, WILL RETAIN without will, clean
            00 3c                       # keep alive 60
            00 03 63 30 35              # client id "c05"
            00 05 61 6c 69 63 65        # username "alice"
            00 07 61 6c 69 63 65 70 77  # password "alicepw"
        """))
        r.assert_closed(timeout=5)

    def test_password_flag_without_username_flag_closes(self):
        """MQTT-3.1.2-22: password flag 1 with username flag 0 is malformed -> close, no CONNACK
        (MQTT-3.1.4-1)."""
        r = self.raw()
        r.send(packet("""
            10 18                       # CONNECT, remaining length 24
            00 04 4d 51 54 54           # protocol name "MQTT"
            04                          # protocol level 4
            42                          # flags: PASSWORD without username, clean session
            00 3c                       # keep alive 60
            00 03 63 30 36              # client id "c06"
            00 07 61 6c 69 63 65 70 77  # password "alicepw"
        """))
        r.assert_closed(timeout=5)

    def test_first_packet_not_connect_closes(self):
        """MQTT-3.1.0-1: the first packet must be CONNECT; MQTT-4.8.0-1: close;
        MQTT-3.2.0-1: the server sends nothing before a CONNACK."""
        r = self.raw()
        r.send(PINGREQ)
        r.assert_closed(timeout=5)

    def test_first_packet_publish_closes(self):
        """MQTT-3.1.0-1: a PUBLISH before CONNECT closes the connection, nothing is sent."""
        r = self.raw()
        r.send(packet("""
            30 05                       # PUBLISH QoS 0, remaining length 5
            00 01 74                    # topic "t"
            68 69                       # payload "hi"
        """))
        r.assert_closed(timeout=5)

    def test_second_connect_closes(self):
        """MQTT-3.1.0-2: a second CONNECT is a protocol violation -> disconnect."""
        r = self.connect_raw()
        r.send(CONNECT_C01)
        r.assert_closed(timeout=5)

    def test_plain_tcp_on_tls_port_fails(self):
        """Transport: the listener is TLS only; an MQTT CONNECT in clear text gets no CONNACK and
        the connection is closed (a TLS alert may come first)."""
        r = self.raw(tls=False)
        r.send(CONNECT_C01)
        self.assertTrue(r.wait_closed(timeout=5), "plain TCP connection was not closed")
        self.assertFalse(r.buf.startswith(b"\x20"), f"got what looks like a CONNACK: {r.buf.hex()}")

    def tls_context(self, version):
        ctx = self.pki.client_context()
        ctx.minimum_version = version
        ctx.maximum_version = version
        return ctx

    def test_tls12_accepted(self):
        """Transport: TLS 1.2 is accepted."""
        r = self.raw(context=self.tls_context(ssl.TLSVersion.TLSv1_2))
        self.assertEqual(r.sock.version(), "TLSv1.2")
        r.send(CONNECT_C01)
        r.expect(CONNACK_OK)

    def test_tls13_accepted(self):
        """Transport: TLS 1.3 is accepted."""
        r = self.raw(context=self.tls_context(ssl.TLSVersion.TLSv1_3))
        self.assertEqual(r.sock.version(), "TLSv1.3")
        r.send(CONNECT_C01)
        r.expect(CONNACK_OK)

    def _client_can_speak_tls11(self):
        """True if this Python/OpenSSL can complete a TLS 1.1 handshake at all (against a local
        permissive server); otherwise the refusal test below would prove nothing."""
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(self.pki.cert, self.pki.key)
        client_ctx = self.tls11_client_context()
        try:
            with warnings.catch_warnings():  # TLS 1.1 on purpose: is it refused?
                warnings.simplefilter("ignore", DeprecationWarning)
                server_ctx.minimum_version = ssl.TLSVersion.TLSv1_1
            server_ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        except (ValueError, ssl.SSLError):
            return False
        listener = socket.socket()
        listener.bind((harness.HOST, 0))
        listener.listen(1)
        listener.settimeout(5)
        result = {}

        def serve():
            try:
                conn, _ = listener.accept()
                with server_ctx.wrap_socket(conn, server_side=True) as s:
                    result["server"] = s.version()
            except (OSError, ssl.SSLError) as e:
                result["server_error"] = e

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        try:
            with socket.create_connection(listener.getsockname(), timeout=5) as raw:
                with client_ctx.wrap_socket(raw, server_hostname=harness.HOST) as s:
                    ok = s.version() == "TLSv1.1"
        except (OSError, ssl.SSLError):
            ok = False
        t.join(5)
        listener.close()
        return ok

    def tls11_client_context(self):
        ctx = self.pki.client_context()
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():  # TLS 1.1 on purpose: is it refused?
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        return ctx

    def test_tls11_refused(self):
        """Transport: TLS 1.1 is refused (handshake fails)."""
        if not self._client_can_speak_tls11():
            self.skipTest("this Python/OpenSSL cannot do a TLS 1.1 handshake; test would be vacuous")
        with self.assertRaises((ssl.SSLError, OSError)):
            r = self.raw(context=self.tls11_client_context())
            # If the handshake somehow completed, the broker must still not serve MQTT on it.
            r.send(CONNECT_C01)
            r.recv_exact(4, timeout=3)


@skip_on_mosquitto("mosquitto 2.0 has no CONNECT timeout option")
class ConnectTimeoutTest(BrokerTestCase):
    broker_options = dict(connect_timeout=2)

    def test_no_connect_within_timeout_closes(self):
        """--connect-timeout 2: a TLS connection that sends no CONNECT is closed after ~2 s
        (MQTT 3.1.4 non-normative: a server should close a connection that sends no CONNECT)."""
        r = self.raw()
        start = time.monotonic()
        self.assertTrue(r.wait_closed(timeout=6), "connection not closed within 6 s")
        elapsed = time.monotonic() - start
        self.assertGreater(elapsed, 1.5, "closed before the connect timeout")
        self.assertLess(elapsed, 4.5, "closed far too late")
        self.assertEqual(r.buf, b"")

    def test_connect_before_timeout_is_served(self):
        """A client that connects in time is not affected by --connect-timeout."""
        r = self.raw()
        r.send(CONNECT_C01)
        r.expect(CONNACK_OK)
        r.assert_open_and_silent(3)
        r.send(PINGREQ)
        r.expect(PINGRESP)


if __name__ == "__main__":
    harness.main()
