"""09 malformed input: every case closes the offending connection, the broker stays alive and
another connected client is unaffected (still receives messages). MQTT-4.8.0-1 throughout."""

import os
import socket

import harness
from harness import BrokerTestCase, hexbytes, malformed, packet, skip_on_mosquitto

CONNACK_OK = packet("20 02 00 00")  # CONNACK, session present 0, rc 0

# CONNECT as alice, client id "m01", clean session, keep alive 60.
CONNECT_M01 = packet("""
    10 1f                       # CONNECT, remaining length 31
    00 04 4d 51 54 54           # protocol name "MQTT"
    04                          # protocol level 4
    c2                          # flags: username, password, clean session
    00 3c                       # keep alive 60
    00 03 6d 30 31              # client id "m01"
    00 05 61 6c 69 63 65        # username "alice"
    00 07 61 6c 69 63 65 70 77  # password "alicepw"
""")


class MalformedBase(BrokerTestCase):

    def setUp(self):
        super().setUp()
        self.observer = self.connected("observer", username="bob", password="bobpw")
        self.assertEqual(self.observer.subscribe("obs/x", 1), [1])

    def check_unaffected(self):
        """The broker is alive and the observer still gets messages."""
        self.assert_broker_alive()
        self.assert_roundtrip(self.observer, topic="obs/x")
        self.assertFalse(self.observer.disconnected.is_set(), "observer was disconnected")

    def violation(self, data, connect=True, timeout=5):
        """Send `data` (after a good CONNECT unless connect=False); the server must close the
        connection without sending anything more."""
        r = self.raw()
        if connect:
            r.send(CONNECT_M01)
            r.expect(CONNACK_OK)
        r.send(data)
        r.assert_closed(timeout)
        self.check_unaffected()
        return r


class MalformedTest(MalformedBase):

    # --- framing ---

    def test_remaining_length_five_bytes(self):
        """MQTT 2.2.3: the remaining length has at most 4 bytes; a 5th continuation byte is
        malformed -> close."""
        self.violation(malformed("""
            30                          # PUBLISH QoS 0
            ff ff ff ff 7f              # remaining length: 5 bytes (4 with continuation bit)
        """))

    def test_truncated_connect_then_close(self):
        """A CONNECT cut short, then the client closes: no crash, no effect on others."""
        r = self.raw()
        r.send(CONNECT_M01[:12])  # fixed header + part of the variable header
        r.drop()
        self.check_unaffected()

    def test_truncated_connect_gets_no_connack(self):
        """MQTT-3.1.4-1: an incomplete CONNECT is never answered with a CONNACK."""
        r = self.raw()
        r.send(CONNECT_M01[:-3])  # all but the last 3 bytes of the password
        r.assert_open_and_silent(1.0)
        r.drop()
        self.check_unaffected()

    def test_topic_length_beyond_packet(self):
        """A PUBLISH whose topic length field runs past the end of the packet -> close."""
        self.violation(packet("""
            30 04                       # PUBLISH QoS 0, remaining length 4
            00 09 61 62                 # topic length 9, but only "ab" follows
        """))

    def test_garbage_before_connect(self):
        """MQTT-3.1.0-1: bytes that are not a CONNECT as the first packet -> close."""
        self.violation(malformed("""
            47 41 52 42 41 47 45 0d 0a  # "GARBAGE\\r\\n"
        """), connect=False)

    def test_tls_garbage_instead_of_client_hello(self):
        """Transport: random bytes instead of a TLS ClientHello -> closed, broker unaffected."""
        for data in (malformed("""
                        16 03 01 00 05              # TLS handshake record header, length 5
                        de ad be ef 00              # not a ClientHello
                     """),
                     # Random, after a header no TLS peer sends (version major
                     # 0x99, high bit of the first byte clear): unprefixed
                     # random bytes sometimes read as a plausible record header
                     # (second byte 03) whose long body never comes, and only
                     # the connect timeout would close that.
                     b"\x17\x99" + os.urandom(510)):
            r = self.raw(tls=False)
            r.send(data)
            self.assertTrue(r.wait_closed(5), f"not closed after {data[:8].hex()}...")
        self.check_unaffected()

    def test_tls_handshake_abandoned(self):
        """Transport: a TCP connection that opens and closes without any byte -> no effect."""
        s = socket.create_connection((harness.HOST, self.port), timeout=5)
        s.close()
        self.check_unaffected()

    # --- packet types and header flags ---

    def test_client_sends_connack(self):
        """MQTT-4.8.0-1: CONNACK is server-to-client only -> close."""
        self.violation(packet("20 02 00 00"))  # CONNACK

    @skip_on_mosquitto("mosquitto 2.0.11 ignores a PINGRESP sent by a client (bridge code "
                       "path) instead of closing")
    def test_client_sends_pingresp(self):
        """MQTT-4.8.0-1: PINGRESP is server-to-client only -> close."""
        self.violation(packet("d0 00"))  # PINGRESP

    @skip_on_mosquitto("mosquitto 2.0.11 accepts a SUBACK sent by a client (bridge code path) "
                       "instead of closing")
    def test_client_sends_suback(self):
        """MQTT-4.8.0-1: SUBACK is server-to-client only -> close."""
        self.violation(packet("90 03 00 01 00"))  # SUBACK id 1, granted 0

    def test_reserved_packet_types(self):
        """MQTT 2.2.1: packet types 0 and 15 are reserved -> close."""
        self.violation(packet("00 00"))  # reserved type 0
        self.violation(packet("f0 00"))  # reserved type 15

    def test_subscribe_reserved_flags(self):
        """MQTT-3.8.1-1, MQTT-2.2.2-2: SUBSCRIBE fixed-header flags must be 0010 (0x82, not
        0x80) -> close."""
        self.violation(packet("""
            80 08                       # SUBSCRIBE with flags 0000, remaining length 8
            00 01                       # packet id 1
            00 03 73 2f 31              # "s/1"
            00                          # QoS 0
        """))

    def test_unsubscribe_reserved_flags(self):
        """MQTT-3.10.1-1: UNSUBSCRIBE fixed-header flags must be 0010 -> close."""
        self.violation(packet("""
            a0 07                       # UNSUBSCRIBE with flags 0000, remaining length 7
            00 01                       # packet id 1
            00 03 73 2f 31              # "s/1"
        """))

    def test_pubrel_reserved_flags(self):
        """MQTT-3.6.1-1: PUBREL fixed-header flags must be 0010 -> close."""
        self.violation(packet("60 02 00 01"))  # PUBREL with flags 0000, packet id 1

    @skip_on_mosquitto("mosquitto 2.0.11 does not check the PINGREQ fixed-header flags")
    def test_pingreq_reserved_flags(self):
        """MQTT-2.2.2-1/2: PINGREQ flags must be 0000 -> close."""
        self.violation(packet("c1 00"))  # PINGREQ with flag bit 0 set

    # --- PUBLISH ---

    def test_publish_qos3(self):
        """MQTT-3.3.1-4: a PUBLISH with both QoS bits set -> close."""
        self.violation(packet("""
            36 09                       # PUBLISH QoS 3 (bits 2-1 = 11), remaining length 9
            00 03 71 2f 33              # topic "q/3"
            00 01                       # packet id 1
            68 69                       # payload "hi"
        """))

    def test_publish_wildcard_topic(self):
        """MQTT-3.3.2-2, MQTT-4.7.1-1: wildcards are not allowed in a topic name -> close."""
        self.violation(packet("""
            30 07                       # PUBLISH QoS 0, remaining length 7
            00 03 61 2f 2b              # topic "a/+"
            68 69                       # payload "hi"
        """))
        self.violation(packet("""
            30 07                       # PUBLISH QoS 0, remaining length 7
            00 03 61 2f 23              # topic "a/#"
            68 69                       # payload "hi"
        """))

    def test_publish_invalid_utf8_topic(self):
        """MQTT-1.5.3-1, MQTT-3.3.2-1: ill-formed UTF-8 in a topic -> close (bad continuation,
        UTF-16 surrogate U+D800, overlong encoding of '/')."""
        self.violation(packet("""
            30 06                       # PUBLISH QoS 0, remaining length 6
            00 02 c3 28                 # topic: 0xc3 followed by a non-continuation byte
            68 69                       # payload "hi"
        """))
        self.violation(packet("""
            30 07                       # PUBLISH QoS 0, remaining length 7
            00 03 ed a0 80              # topic: U+D800 (surrogate) encoded as UTF-8
            68 69                       # payload "hi"
        """))
        self.violation(packet("""
            30 08                       # PUBLISH QoS 0, remaining length 8
            00 04 61 c0 af 62           # topic: "a", overlong '/', "b"
            68 69                       # payload "hi"
        """))

    def test_publish_null_character_in_topic(self):
        """MQTT-1.5.3-2, MQTT-4.7.3-2: U+0000 in a topic -> close."""
        self.violation(packet("""
            30 07                       # PUBLISH QoS 0, remaining length 7
            00 03 61 00 62              # topic "a\\0b"
            68 69                       # payload "hi"
        """))

    def test_publish_empty_topic(self):
        """MQTT-4.7.3-1: topic names are at least one character -> close."""
        self.violation(packet("""
            30 04                       # PUBLISH QoS 0, remaining length 4
            00 00                       # topic "" (zero length)
            68 69                       # payload "hi"
        """))

    def test_publish_qos1_packet_id_zero(self):
        """MQTT-2.3.1-1: a QoS 1 PUBLISH needs a non-zero packet id -> close."""
        self.violation(packet("""
            32 09                       # PUBLISH QoS 1, remaining length 9
            00 03 71 2f 31              # topic "q/1"
            00 00                       # packet id 0
            68 69                       # payload "hi"
        """))

    # --- SUBSCRIBE / UNSUBSCRIBE ---

    def test_subscribe_packet_id_zero(self):
        """MQTT-2.3.1-1: SUBSCRIBE needs a non-zero packet id -> close."""
        self.violation(packet("""
            82 08                       # SUBSCRIBE, remaining length 8
            00 00                       # packet id 0
            00 03 73 2f 30              # "s/0"
            00                          # QoS 0
        """))

    def test_empty_subscribe(self):
        """MQTT-3.8.3-3: a SUBSCRIBE without any filter is a protocol violation -> close."""
        self.violation(packet("""
            82 02                       # SUBSCRIBE, remaining length 2
            00 01                       # packet id 1, no payload
        """))

    def test_subscribe_requested_qos_3_or_reserved_bits(self):
        """MQTT-3.8.3-4: requested QoS 3, or reserved bits set in the QoS byte -> close."""
        self.violation(packet("""
            82 08                       # SUBSCRIBE, remaining length 8
            00 01                       # packet id 1
            00 03 73 2f 32              # "s/2"
            03                          # requested QoS 3
        """))
        self.violation(packet("""
            82 08                       # SUBSCRIBE, remaining length 8
            00 01                       # packet id 1
            00 03 73 2f 32              # "s/2"
            04                          # reserved bit 2 set
        """))

    def test_subscribe_invalid_utf8_filter(self):
        """MQTT-3.8.3-1, MQTT-1.5.3-1: ill-formed UTF-8 in a topic filter -> close."""
        self.violation(packet("""
            82 07                       # SUBSCRIBE, remaining length 7
            00 01                       # packet id 1
            00 02 c3 28                 # filter: 0xc3 followed by a non-continuation byte
            00                          # QoS 0
        """))

    def test_unsubscribe_packet_id_zero(self):
        """MQTT-2.3.1-1: UNSUBSCRIBE needs a non-zero packet id -> close."""
        self.violation(packet("""
            a2 07                       # UNSUBSCRIBE, remaining length 7
            00 00                       # packet id 0
            00 03 73 2f 30              # "s/0"
        """))

    def test_unsubscribe_invalid_utf8_filter(self):
        """MQTT-3.10.3-1, MQTT-1.5.3-1: ill-formed UTF-8 in an UNSUBSCRIBE filter -> close."""
        self.violation(packet("""
            a2 06                       # UNSUBSCRIBE, remaining length 6
            00 01                       # packet id 1
            00 02 c3 28                 # filter: 0xc3 followed by a non-continuation byte
        """))

    def test_empty_unsubscribe(self):
        """MQTT-3.10.3-2: an UNSUBSCRIBE without any filter is a protocol violation -> close."""
        self.violation(packet("""
            a2 02                       # UNSUBSCRIBE, remaining length 2
            00 01                       # packet id 1, no payload
        """))

    # --- CONNECT payload ---

    def test_null_character_in_client_id(self):
        """MQTT-1.5.3-2: U+0000 in the client id -> close without CONNACK 0."""
        r = self.raw()
        r.send(packet("""
            10 1f                       # CONNECT, remaining length 31
            00 04 4d 51 54 54           # protocol name "MQTT"
            04                          # protocol level 4
            c2                          # flags: username, password, clean session
            00 3c                       # keep alive 60
            00 03 61 00 62              # client id "a\\0b"
            00 05 61 6c 69 63 65        # username "alice"
            00 07 61 6c 69 63 65 70 77  # password "alicepw"
        """))
        r.assert_closed(5, allow_data=True)
        # Closing silently is what MQTT-1.5.3-2 asks; a CONNACK 2 (identifier rejected) before
        # the close is tolerated, an accepting CONNACK is not.
        self.assertIn(r.buf, (b"", hexbytes("20 02 00 02")), r.buf.hex(" "))
        self.check_unaffected()

    def test_invalid_utf8_client_id(self):
        """MQTT-3.1.3-4, MQTT-1.5.3-1: the client id must be valid UTF-8 -> close, no accepting
        CONNACK (a CONNACK 2 before the close is tolerated)."""
        r = self.raw()
        r.send(packet("""
            10 1f                       # CONNECT, remaining length 31
            00 04 4d 51 54 54           # protocol name "MQTT"
            04                          # protocol level 4
            c2                          # flags: username, password, clean session
            00 3c                       # keep alive 60
            00 03 61 c3 28              # client id "a", then 0xc3 without continuation byte
            00 05 61 6c 69 63 65        # username "alice"
            00 07 61 6c 69 63 65 70 77  # password "alicepw"
        """))
        r.assert_closed(5, allow_data=True)
        self.assertIn(r.buf, (b"", hexbytes("20 02 00 02")), r.buf.hex(" "))
        self.check_unaffected()

    def test_invalid_utf8_username(self):
        """MQTT-3.1.3-11, MQTT-1.5.3-1: the user name must be valid UTF-8 -> close, no
        accepting CONNACK."""
        r = self.raw()
        r.send(packet("""
            10 1f                       # CONNECT, remaining length 31
            00 04 4d 51 54 54           # protocol name "MQTT"
            04                          # protocol level 4
            c2                          # flags: username, password, clean session
            00 3c                       # keep alive 60
            00 03 6d 30 32              # client id "m02"
            00 05 61 6c ff 63 65        # username "al\\xffce" (0xff never appears in UTF-8)
            00 07 61 6c 69 63 65 70 77  # password "alicepw"
        """))
        r.assert_closed(5, allow_data=True)
        self.assertFalse(r.buf.startswith(CONNACK_OK), r.buf.hex(" "))
        self.check_unaffected()

    def test_invalid_utf8_will_topic(self):
        """MQTT-3.1.3-10, MQTT-1.5.3-1: the will topic must be valid UTF-8 -> close without
        CONNACK (MQTT-3.1.4-1)."""
        self.violation(packet("""
            10 26                       # CONNECT, remaining length 38
            00 04 4d 51 54 54           # protocol name "MQTT"
            04                          # protocol level 4
            c6                          # flags: username, password, will QoS 0, will, clean
            00 3c                       # keep alive 60
            00 03 6d 30 33              # client id "m03"
            00 02 c3 28                 # will topic: invalid UTF-8
            00 01 78                    # will message "x"
            00 05 61 6c 69 63 65        # username "alice"
            00 07 61 6c 69 63 65 70 77  # password "alicepw"
        """), connect=False)

    def test_connect_missing_payload_fields(self):
        """MQTT-3.1.2-19/21, MQTT-3.1.3-1: flags announce a username and password that are not
        in the payload -> close without CONNACK (MQTT-3.1.4-1)."""
        self.violation(packet("""
            10 0f                       # CONNECT, remaining length 15
            00 04 4d 51 54 54           # protocol name "MQTT"
            04                          # protocol level 4
            c2                          # flags: username, password, clean session
            00 3c                       # keep alive 60
            00 03 6d 30 34              # client id "m04"; username and password missing
        """), connect=False)


class MaxPacketSizeTest(MalformedBase):
    broker_options = dict(max_packet_size=1024)

    def test_oversize_packet_closes(self):
        """--max-packet-size 1024: a 2008-byte PUBLISH closes the connection; others are fine
        (MQTT-4.8.0-2: a transient/resource error closes only that connection)."""
        self.violation(hexbytes("""
            30 d5 0f                    # PUBLISH QoS 0, remaining length 2005 (0x55|0x80, 0x0f)
            00 03 62 69 67              # topic "big"
        """) + b"x" * 2000)

    def test_packet_below_limit_is_fine(self):
        """--max-packet-size 1024: a 508-byte PUBLISH is delivered."""
        r = self.raw()
        r.send(CONNECT_M01)
        r.expect(CONNACK_OK)
        r.send(hexbytes("""
            32 f9 03                    # PUBLISH QoS 1, remaining length 505 (0x79|0x80, 0x03)
            00 05 6f 62 73 2f 78        # topic "obs/x"
            00 01                       # packet id 1
        """) + b"y" * 496)
        r.expect(packet("40 02 00 01"))  # PUBACK id 1
        m = self.observer.get_message(3)
        self.assertEqual(m.payload, b"y" * 496)


if __name__ == "__main__":
    harness.main()
