"""04 QoS: QoS 1 and 2 flows in both directions, exact bytes on a raw socket, duplicate
suppression, packet identifiers, DUP flag."""

import harness
from harness import BrokerTestCase, hexbytes, packet

CONNACK_OK = packet("20 02 00 00")  # CONNACK, session present 0, rc 0

# CONNECT as alice, client id "q01" (the raw publisher), clean session, keep alive 60.
CONNECT_Q01 = packet("""
    10 1f                       # CONNECT, remaining length 31
    00 04 4d 51 54 54           # protocol name "MQTT"
    04                          # protocol level 4
    c2                          # flags: username, password, clean session
    00 3c                       # keep alive 60
    00 03 71 30 31              # client id "q01"
    00 05 61 6c 69 63 65        # username "alice"
    00 07 61 6c 69 63 65 70 77  # password "alicepw"
""")

# CONNECT as bob, client id "q02" (the raw subscriber), clean session, keep alive 60.
CONNECT_Q02 = packet("""
    10 1b                       # CONNECT, remaining length 27
    00 04 4d 51 54 54           # protocol name "MQTT"
    04                          # protocol level 4
    c2                          # flags: username, password, clean session
    00 3c                       # keep alive 60
    00 03 71 30 32              # client id "q02"
    00 03 62 6f 62              # username "bob"
    00 05 62 6f 62 70 77        # password "bobpw"
""")


class QosTest(BrokerTestCase):

    def raw_connected(self, connect):
        r = self.raw()
        r.send(connect)
        r.expect(CONNACK_OK)
        return r

    def test_qos1_and_qos2_roundtrip_paho(self):
        """MQTT-3.3.4-1, MQTT-4.3.2-1/2, MQTT-4.3.3-1/2: QoS 1 and 2 in both directions
        (paho publisher -> broker -> paho subscriber, each flow completed)."""
        s = self.connected("qs")
        s.subscribe([("qos/1", 1), ("qos/2", 2)])
        p = self.connected("qp", username="bob", password="bobpw")
        p.publish("qos/1", b"one", qos=1)
        p.publish("qos/2", b"two", qos=2)
        got = sorted((m.topic, m.payload, m.qos, m.dup) for m in s.get_messages(2))
        self.assertEqual(got, [("qos/1", b"one", 1, False), ("qos/2", b"two", 2, False)])
        s.expect_no_message(0.5)

    def test_publish_qos1_gets_puback(self):
        """MQTT-3.3.4-1, MQTT-4.3.2-2: PUBLISH QoS 1 -> PUBACK with the same packet id
        (MQTT-2.3.1-6)."""
        r = self.raw_connected(CONNECT_Q01)
        r.send(packet("""
            32 09                       # PUBLISH QoS 1, remaining length 9
            00 03 71 2f 31              # topic "q/1"
            12 34                       # packet id 0x1234
            68 69                       # payload "hi"
        """))
        r.expect(packet("40 02 12 34"))  # PUBACK, packet id 0x1234

    def test_publish_qos2_pubrec_pubrel_pubcomp(self):
        """MQTT-4.3.3-2: PUBLISH QoS 2 -> PUBREC; PUBREL -> PUBCOMP, same packet id
        (MQTT-2.3.1-6); PUBREL has fixed-header flags 0010 (MQTT-3.6.1-1)."""
        r = self.raw_connected(CONNECT_Q01)
        r.send(packet("""
            34 09                       # PUBLISH QoS 2, remaining length 9
            00 03 71 2f 32              # topic "q/2"
            00 07                       # packet id 7
            68 69                       # payload "hi"
        """))
        r.expect(packet("50 02 00 07"))  # PUBREC, packet id 7
        r.send(packet("62 02 00 07"))    # PUBREL, packet id 7
        r.expect(packet("70 02 00 07"))  # PUBCOMP, packet id 7

    def test_puback_order_follows_publish_order(self):
        """MQTT-4.6.0-2 (PUBACKs in PUBLISH order), MQTT-4.6.0-3 (PUBRECs in PUBLISH order)."""
        r = self.raw_connected(CONNECT_Q01)
        r.send(packet("""
            32 08  00 03 6f 2f 61  00 03  31    # PUBLISH QoS 1 "o/a", id 3, payload "1"
            32 08  00 03 6f 2f 61  00 01  32    # PUBLISH QoS 1 "o/a", id 1, payload "2"
            34 08  00 03 6f 2f 62  00 09  33    # PUBLISH QoS 2 "o/b", id 9, payload "3"
            32 08  00 03 6f 2f 61  00 02  34    # PUBLISH QoS 1 "o/a", id 2, payload "4"
            34 08  00 03 6f 2f 62  00 05  35    # PUBLISH QoS 2 "o/b", id 5, payload "5"
        """))
        r.expect(packet("""
            40 02 00 03                 # PUBACK id 3
            40 02 00 01                 # PUBACK id 1
            50 02 00 09                 # PUBREC id 9
            40 02 00 02                 # PUBACK id 2
            50 02 00 05                 # PUBREC id 5
        """))

    def test_inbound_qos2_duplicate_delivered_once(self):
        """MQTT-4.3.3-2: until PUBREL, a re-sent PUBLISH with the same packet id (DUP=1) is
        acknowledged with PUBREC but not delivered again; after PUBCOMP the id is new again."""
        s = self.connected("dupsub")
        s.subscribe("dup/x", 2)
        r = self.raw_connected(CONNECT_Q01)
        r.send(packet("""
            34 0b                       # PUBLISH QoS 2, remaining length 11
            00 05 64 75 70 2f 78        # topic "dup/x"
            00 2a                       # packet id 42
            41 41                       # payload "AA"
        """))
        r.expect(packet("50 02 00 2a"))  # PUBREC, packet id 42
        r.send(packet("""
            3c 0b                       # PUBLISH QoS 2 DUP, remaining length 11
            00 05 64 75 70 2f 78        # topic "dup/x"
            00 2a                       # packet id 42 (same)
            41 41                       # payload "AA"
        """))
        r.expect(packet("50 02 00 2a"))  # PUBREC again
        r.send(packet("62 02 00 2a"))    # PUBREL, packet id 42
        r.expect(packet("70 02 00 2a"))  # PUBCOMP, packet id 42
        got = s.drain(1.0)
        self.assertEqual([(m.payload, m.qos) for m in got], [(b"AA", 2)], "delivered once")
        # After PUBCOMP, packet id 42 starts a new message.
        r.send(packet("""
            34 0b                       # PUBLISH QoS 2, remaining length 11
            00 05 64 75 70 2f 78        # topic "dup/x"
            00 2a                       # packet id 42 (reused after PUBCOMP)
            42 42                       # payload "BB"
        """))
        r.expect(packet("50 02 00 2a"))  # PUBREC
        r.send(packet("62 02 00 2a"))    # PUBREL
        r.expect(packet("70 02 00 2a"))  # PUBCOMP
        self.assertEqual([m.payload for m in s.drain(1.0)], [b"BB"])

    def test_outbound_qos0_exact_bytes(self):
        """MQTT-4.3.1-1, MQTT-3.3.1-2 (DUP 0 for QoS 0), MQTT-2.3.1-5 (no packet id at QoS 0),
        MQTT-3.3.1-9 (RETAIN 0 on a live delivery)."""
        r = self.raw_connected(CONNECT_Q02)
        r.send(packet("""
            82 09                       # SUBSCRIBE, remaining length 9
            00 01                       # packet id 1
            00 04 71 30 2f 78           # "q0/x"
            00                          # QoS 0
        """))
        r.expect(packet("90 03 00 01 00"))  # SUBACK id 1, granted 0
        p = self.connected("q0pub")
        p.publish("q0/x", b"abc", qos=1)
        r.expect(packet("""
            30 09                       # PUBLISH QoS 0, no DUP, no RETAIN, remaining length 9
            00 04 71 30 2f 78           # topic "q0/x"
            61 62 63                    # payload "abc" (no packet id)
        """))

    def test_outbound_qos1_to_raw_subscriber(self):
        """MQTT-4.3.2-1: server sends PUBLISH QoS 1, DUP 0, non-zero packet id (MQTT-2.3.1-1,
        MQTT-2.3.1-4); after our PUBACK nothing is re-sent."""
        r = self.raw_connected(CONNECT_Q02)
        r.send(packet("""
            82 09                       # SUBSCRIBE, remaining length 9
            00 01                       # packet id 1
            00 04 71 31 2f 78           # "q1/x"
            01                          # QoS 1
        """))
        r.expect(packet("90 03 00 01 01"))  # SUBACK id 1, granted 1
        p = self.connected("q1pub")
        p.publish("q1/x", b"abc", qos=1)
        pub = r.recv_packet()
        self.assertEqual(pub[:8], hexbytes("""  # first 8 bytes
            32 0b                       # PUBLISH QoS 1, remaining length 11
            00 04 71 31 2f 78           # topic "q1/x"
        """), pub.hex(" "))
        pid = pub[8:10]
        self.assertNotEqual(pid, b"\x00\x00")
        self.assertEqual(pub[10:], b"abc")
        r.send(hexbytes("40 02") + pid)  # PUBACK with the received packet id
        r.assert_open_and_silent(1.0)

    def test_outbound_qos2_to_raw_subscriber(self):
        """MQTT-4.3.3-1: PUBLISH(QoS 2) -> our PUBREC -> server PUBREL (same id, flags 0010)
        -> our PUBCOMP; nothing re-sent afterwards."""
        r = self.raw_connected(CONNECT_Q02)
        r.send(packet("""
            82 09                       # SUBSCRIBE, remaining length 9
            00 01                       # packet id 1
            00 04 71 32 2f 78           # "q2/x"
            02                          # QoS 2
        """))
        r.expect(packet("90 03 00 01 02"))  # SUBACK id 1, granted 2
        p = self.connected("q2pub")
        p.publish("q2/x", b"abc", qos=2)
        pub = r.recv_packet()
        self.assertEqual(pub[:8], hexbytes("""  # first 8 bytes
            34 0b                       # PUBLISH QoS 2, remaining length 11
            00 04 71 32 2f 78           # topic "q2/x"
        """), pub.hex(" "))
        pid = pub[8:10]
        self.assertNotEqual(pid, b"\x00\x00")
        self.assertEqual(pub[10:], b"abc")
        r.send(hexbytes("50 02") + pid)               # PUBREC
        r.expect(hexbytes("62 02") + pid, msg="PUBREL")  # PUBREL, same packet id
        r.send(hexbytes("70 02") + pid)               # PUBCOMP
        r.assert_open_and_silent(1.0)

    def subscribe_raw_qos2(self, r):
        r.send(packet("""
            82 09                       # SUBSCRIBE, remaining length 9
            00 01                       # packet id 1
            00 04 75 32 2f 78           # "u2/x"
            02                          # QoS 2
        """))
        r.expect(packet("90 03 00 01 02"))  # SUBACK id 1, granted 2

    def test_pubrel_order_follows_pubrec_order(self):
        """MQTT-4.6.0-4: the server sends PUBRELs in the order in which it received the PUBRECs
        (here: the reverse of the PUBLISH order)."""
        r = self.raw_connected(CONNECT_Q02)
        self.subscribe_raw_qos2(r)
        p = self.connected("u2pub")
        p.publish("u2/x", b"a", qos=2)
        p.publish("u2/x", b"b", qos=2)
        first, second = r.recv_packet(), r.recv_packet()
        self.assertEqual((first[-1:], second[-1:]), (b"a", b"b"))
        r.send(hexbytes("50 02") + second[8:10] + hexbytes("50 02") + first[8:10])  # PUBRECs b, a
        r.expect(hexbytes("62 02") + second[8:10] + hexbytes("62 02") + first[8:10],
                 msg="PUBRELs in PUBREC order")
        r.send(hexbytes("70 02") + second[8:10] + hexbytes("70 02") + first[8:10])  # PUBCOMPs
        r.assert_open_and_silent(0.5)

    def test_unsubscribe_completes_inflight_qos2(self):
        """MQTT-3.10.4-3: after UNSUBSCRIBE the server completes the QoS 2 delivery it had
        started (PUBREC is answered with PUBREL), MQTT-3.10.4-2: and sends nothing new."""
        r = self.raw_connected(CONNECT_Q02)
        self.subscribe_raw_qos2(r)
        p = self.connected("u2pub2")
        p.publish("u2/x", b"started", qos=2)
        pub = r.recv_packet()
        self.assertEqual(pub[0], 0x34, pub.hex(" "))
        r.send(packet("""
            a2 08                       # UNSUBSCRIBE, remaining length 8
            00 02                       # packet id 2
            00 04 75 32 2f 78           # "u2/x"
        """))
        r.expect(packet("b0 02 00 02"))  # UNSUBACK id 2
        p.publish("u2/x", b"after", qos=2)
        r.send(hexbytes("50 02") + pub[8:10])                   # PUBREC
        r.expect(hexbytes("62 02") + pub[8:10], msg="PUBREL")   # PUBREL
        r.send(hexbytes("70 02") + pub[8:10])                   # PUBCOMP
        r.assert_open_and_silent(1.0)

    def test_concurrent_inflight_packet_ids_distinct(self):
        """MQTT-2.3.1-1/2/4: concurrent unacknowledged QoS 1 deliveries carry distinct non-zero
        packet ids; first transmissions have DUP 0 (MQTT-3.3.1-1)."""
        r = self.raw_connected(CONNECT_Q02)
        r.send(packet("""
            82 09                       # SUBSCRIBE, remaining length 9
            00 01                       # packet id 1
            00 04 69 64 2f 78           # "id/x"
            01                          # QoS 1
        """))
        r.expect(packet("90 03 00 01 01"))  # SUBACK id 1, granted 1
        p = self.connected("idpub")
        for i in range(10):
            p.publish("id/x", bytes([i]), qos=1)
        ids = []
        for i in range(10):
            pub = r.recv_packet()
            self.assertEqual(pub[0], 0x32, f"PUBLISH QoS 1 without DUP: {pub.hex(' ')}")
            self.assertEqual(pub[-1], i, "order")
            ids.append(pub[8:10])
        self.assertEqual(len(set(ids)), 10, [i.hex() for i in ids])
        self.assertNotIn(b"\x00\x00", ids)

    def test_incoming_dup_flag_not_propagated(self):
        """MQTT-3.3.1-3: the DUP flag of an incoming PUBLISH is not propagated; the outgoing DUP
        is set only by the server's own retransmissions."""
        sub = self.raw_connected(CONNECT_Q02)
        sub.send(packet("""
            82 09                       # SUBSCRIBE, remaining length 9
            00 01                       # packet id 1
            00 04 64 70 2f 78           # "dp/x"
            01                          # QoS 1
        """))
        sub.expect(packet("90 03 00 01 01"))  # SUBACK id 1, granted 1
        pub = self.raw_connected(CONNECT_Q01)
        pub.send(packet("""
            3a 09                       # PUBLISH QoS 1 with DUP=1, remaining length 9
            00 04 64 70 2f 78           # topic "dp/x"
            00 05                       # packet id 5
            7a                          # payload "z"
        """))
        pub.expect(packet("40 02 00 05"))  # PUBACK id 5
        got = sub.recv_packet()
        self.assertEqual(got[0], 0x32, f"expected PUBLISH QoS 1 with DUP=0: {got.hex(' ')}")


if __name__ == "__main__":
    harness.main()
