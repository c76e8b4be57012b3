"""06 sessions: clean session 0/1, session present, offline queueing and its bound,
retransmission on reconnect, in-flight window, client takeover."""

import time

import harness
from harness import BrokerTestCase, hexbytes, packet, skip_on_mosquitto

CONNACK_OK = packet("20 02 00 00")          # CONNACK, session present 0, rc 0
CONNACK_SESSION = packet("20 02 01 00")     # CONNACK, session present 1, rc 0

# CONNECT as alice, client id "d01", clean session 0, keep alive 60.
CONNECT_D01_PERSISTENT = packet("""
    10 1f                       # CONNECT, remaining length 31
    00 04 4d 51 54 54           # protocol name "MQTT"
    04                          # protocol level 4
    c0                          # flags: username, password, clean session 0
    00 3c                       # keep alive 60
    00 03 64 30 31              # client id "d01"
    00 05 61 6c 69 63 65        # username "alice"
    00 07 61 6c 69 63 65 70 77  # password "alicepw"
""")

# CONNECT as alice, client id "d02", clean session 0, keep alive 60.
CONNECT_D02_PERSISTENT = packet("""
    10 1f                       # CONNECT, remaining length 31
    00 04 4d 51 54 54           # protocol name "MQTT"
    04                          # protocol level 4
    c0                          # flags: username, password, clean session 0
    00 3c                       # keep alive 60
    00 03 64 30 32              # client id "d02"
    00 05 61 6c 69 63 65        # username "alice"
    00 07 61 6c 69 63 65 70 77  # password "alicepw"
""")

# CONNECT as alice, client id "d03", clean session 0, keep alive 60.
CONNECT_D03_PERSISTENT = packet("""
    10 1f                       # CONNECT, remaining length 31
    00 04 4d 51 54 54           # protocol name "MQTT"
    04                          # protocol level 4
    c0                          # flags: username, password, clean session 0
    00 3c                       # keep alive 60
    00 03 64 30 33              # client id "d03"
    00 05 61 6c 69 63 65        # username "alice"
    00 07 61 6c 69 63 65 70 77  # password "alicepw"
""")

# CONNECT as bob, client id "w01", clean session 1, keep alive 60.
CONNECT_W01 = packet("""
    10 1b                       # CONNECT, remaining length 27
    00 04 4d 51 54 54           # protocol name "MQTT"
    04                          # protocol level 4
    c2                          # flags: username, password, clean session
    00 3c                       # keep alive 60
    00 03 77 30 31              # client id "w01"
    00 03 62 6f 62              # username "bob"
    00 05 62 6f 62 70 77        # password "bobpw"
""")


class SessionTest(BrokerTestCase):

    def publisher(self):
        return self.connected("", username="bob", password="bobpw")

    def test_persistent_session_keeps_subscriptions(self):
        """MQTT-3.1.2-4 (clean 0 resumes the session), MQTT-3.2.2-3 (first connect: session
        present 0), MQTT-3.2.2-2 (stored session: session present 1), MQTT-3.1.3-2 (the state
        is found by client id), MQTT-4.1.0-1."""
        c = self.client("sp1", clean_session=False)
        self.assertEqual(c.connect(), (0, 0))
        c.subscribe("sess/a", 1)
        c.disconnect()
        c2 = self.client("sp1", clean_session=False)
        self.assertEqual(c2.connect(), (0, 1))
        self.publisher().publish("sess/a", b"still subscribed", qos=1)
        self.assertEqual(c2.get_message(3).payload, b"still subscribed")

    def test_clean_session_discards_state(self):
        """MQTT-3.1.2-6 (clean 1 discards the previous session, its state is not reused),
        MQTT-3.2.2-1 (clean 1 -> session present 0), MQTT-3.1.4-3."""
        c = self.client("sp2", clean_session=False)
        self.assertEqual(c.connect(), (0, 0))
        c.subscribe("sess/b", 1)
        c.disconnect()
        p = self.publisher()
        p.publish("sess/b", b"queued while away", qos=1)
        c2 = self.client("sp2", clean_session=True)
        self.assertEqual(c2.connect(), (0, 0))
        p.publish("sess/b", b"not subscribed any more", qos=1)
        c2.expect_no_message(1.0)  # neither the queued message nor the new one
        c2.disconnect()
        c3 = self.client("sp2", clean_session=False)
        self.assertEqual(c3.connect(), (0, 0), "the clean session must not have been kept")
        p.publish("sess/b", b"x", qos=1)
        c3.expect_no_message(0.5)
        c3.disconnect()

    def test_offline_qos1_qos2_delivered_on_reconnect_in_order(self):
        """MQTT-3.1.2-5 (QoS 1/2 messages for a disconnected clean-0 session are stored),
        MQTT-4.5.0-1, MQTT-4.6.0-6 (per topic and QoS, in publish order)."""
        c = self.client("sp3", clean_session=False)
        c.connect()
        c.subscribe([("off/1", 1), ("off/2", 2), ("off/0", 0)])
        c.disconnect()
        p = self.publisher()
        for i in range(5):
            p.publish("off/1", f"q1-{i}".encode(), qos=1)
            p.publish("off/2", f"q2-{i}".encode(), qos=2)
        c2 = self.client("sp3", clean_session=False)
        self.assertEqual(c2.connect(), (0, 1))
        got = c2.get_messages(10, timeout=5)
        self.assertEqual([m.payload for m in got if m.topic == "off/1"],
                         [f"q1-{i}".encode() for i in range(5)])
        self.assertEqual([m.payload for m in got if m.topic == "off/2"],
                         [f"q2-{i}".encode() for i in range(5)])
        self.assertEqual({(m.topic, m.qos) for m in got}, {("off/1", 1), ("off/2", 2)})
        c2.expect_no_message(0.5)

    def test_unacked_qos1_resent_with_dup_on_reconnect(self):
        """MQTT-4.4.0-1 (unacknowledged PUBLISHes re-sent on reconnect with clean 0), MQTT-3.3.1-1
        (DUP=1 on re-delivery), MQTT-2.3.1-3/4 (same packet ids), MQTT-4.6.0-1 (re-sent in the
        original order)."""
        r = self.raw()
        r.send(CONNECT_D01_PERSISTENT)
        r.expect(CONNACK_OK)
        r.send(packet("""
            82 0b                       # SUBSCRIBE, remaining length 11
            00 01                       # packet id 1
            00 06 72 65 64 6f 2f 78     # "redo/x"
            01                          # QoS 1
        """))
        r.expect(packet("90 03 00 01 01"))  # SUBACK id 1, granted 1
        p = self.publisher()
        for payload in (b"again", b"twice", b"third"):
            p.publish("redo/x", payload, qos=1)
        pids = []
        for payload in (b"again", b"twice", b"third"):
            first = r.recv_packet()
            self.assertEqual(first[:10], hexbytes("""  # first 10 bytes
                32 0f                       # PUBLISH QoS 1, DUP 0, remaining length 15
                00 06 72 65 64 6f 2f 78     # topic "redo/x"
            """), first.hex(" "))
            self.assertEqual(first[12:], payload)
            pids.append(first[10:12])
        r.drop()  # no PUBACK
        r2 = self.raw()
        r2.send(CONNECT_D01_PERSISTENT)
        r2.expect(CONNACK_SESSION)
        for pid, payload in zip(pids, (b"again", b"twice", b"third")):
            again = r2.recv_packet()
            self.assertEqual(again, hexbytes("""
                3a 0f                       # PUBLISH QoS 1, DUP 1, remaining length 15
                00 06 72 65 64 6f 2f 78     # topic "redo/x"
            """) + pid + payload, again.hex(" "))
        r2.send(b"".join(hexbytes("40 02") + pid for pid in pids))  # PUBACKs
        r2.assert_open_and_silent(1.0)

    def test_unacked_qos2_publish_and_pubrel_resent_on_reconnect(self):
        """MQTT-4.4.0-1: a QoS 2 PUBLISH without PUBREC is re-sent (DUP=1, same id); a PUBREL
        without PUBCOMP is re-sent as PUBREL; MQTT-4.3.3-1 (no PUBLISH after PUBREL)."""
        r = self.raw()
        r.send(CONNECT_D02_PERSISTENT)
        r.expect(CONNACK_OK)
        r.send(packet("""
            82 0b                       # SUBSCRIBE, remaining length 11
            00 01                       # packet id 1
            00 06 72 65 64 6f 2f 32     # "redo/2"
            02                          # QoS 2
        """))
        r.expect(packet("90 03 00 01 02"))  # SUBACK id 1, granted 2
        self.publisher().publish("redo/2", b"two", qos=2)
        first = r.recv_packet()
        self.assertEqual(first[0], 0x34, first.hex(" "))  # PUBLISH QoS 2, DUP 0
        pid = first[10:12]
        r.drop()  # neither PUBREC nor anything else

        r2 = self.raw()
        r2.send(CONNECT_D02_PERSISTENT)
        r2.expect(CONNACK_SESSION)
        again = r2.recv_packet()
        self.assertEqual(again, hexbytes("""
            3c 0d                       # PUBLISH QoS 2, DUP 1, remaining length 13
            00 06 72 65 64 6f 2f 32     # topic "redo/2"
        """) + pid + b"two", again.hex(" "))
        r2.send(hexbytes("50 02") + pid)                        # PUBREC
        r2.expect(hexbytes("62 02") + pid, msg="PUBREL")       # PUBREL
        r2.drop()  # no PUBCOMP

        r3 = self.raw()
        r3.send(CONNECT_D02_PERSISTENT)
        r3.expect(CONNACK_SESSION)
        r3.expect(hexbytes("62 02") + pid, msg="PUBREL re-sent")  # PUBREL, same packet id
        r3.send(hexbytes("70 02") + pid)                            # PUBCOMP
        r3.assert_open_and_silent(1.0)

    def test_same_client_id_takes_over(self):
        """MQTT-3.1.4-2: a CONNECT with the id of a connected client disconnects the existing
        client; the new connection works."""
        old = self.connected("tk")
        new = self.connected("tk")
        self.assertTrue(old.wait_disconnected(5), "old connection not closed")
        new.subscribe("tk/x", 1)
        self.assertEqual(new.subscribe("tk/x", 1), [1])
        self.assert_roundtrip(new, topic="tk/x")
        self.assertFalse(new.disconnected.is_set())

    def test_takeover_of_persistent_session_keeps_state(self):
        """MQTT-3.1.4-2 + MQTT-3.1.2-4: taking over a clean-0 session keeps its subscriptions
        (session present 1)."""
        old = self.client("tk2", clean_session=False)
        old.connect()
        old.subscribe("tk2/x", 1)
        new = self.client("tk2", clean_session=False)
        self.assertEqual(new.connect(), (0, 1))
        self.assertTrue(old.wait_disconnected(5))
        self.assert_roundtrip(new, topic="tk2/x")


class QueueLimitTest(BrokerTestCase):
    broker_options = dict(max_queued=5)

    def test_offline_queue_bounded(self):
        """--max-queued-messages 5: 10 QoS 1 messages for an offline session -> 5 delivered on
        reconnect (the oldest ones are kept, newer ones dropped), in order."""
        c = self.client("ql", clean_session=False)
        c.connect()
        c.subscribe("ql/x", 1)
        c.disconnect()
        p = self.connected("", username="bob", password="bobpw")
        for i in range(10):
            p.publish("ql/x", str(i).encode(), qos=1)
        c2 = self.client("ql", clean_session=False)
        self.assertEqual(c2.connect(), (0, 1))
        got = c2.drain(2.0)
        self.assertEqual([int(m.payload) for m in got], [0, 1, 2, 3, 4])


class InflightLimitTest(BrokerTestCase):
    broker_options = dict(max_inflight=2)

    def subscribe_raw(self, topic_hex_comment):
        r = self.raw()
        r.send(CONNECT_W01)
        r.expect(CONNACK_OK)
        r.send(topic_hex_comment)
        r.expect(packet("90 03 00 01 01"))  # SUBACK id 1, granted 1
        return r

    def test_inflight_window(self):
        """--max-inflight-messages 2: a subscriber that does not acknowledge gets only 2 QoS 1
        PUBLISHes; acknowledging releases the rest, in order (MQTT-4.6.0-6)."""
        r = self.subscribe_raw(packet("""
            82 09                       # SUBSCRIBE, remaining length 9
            00 01                       # packet id 1
            00 04 77 69 2f 78           # "wi/x"
            01                          # QoS 1
        """))
        p = self.connected("wi-pub")
        for i in range(4):
            p.publish("wi/x", bytes([0x30 + i]), qos=1)
        first, second = r.recv_packet(), r.recv_packet()
        self.assertEqual((first[-1], second[-1]), (0x30, 0x31))
        r.assert_open_and_silent(1.0)
        r.send(hexbytes("40 02") + first[8:10])    # PUBACK the first
        third = r.recv_packet()
        self.assertEqual(third[-1], 0x32)
        r.send(hexbytes("40 02") + second[8:10] + hexbytes("40 02") + third[8:10])
        fourth = r.recv_packet()
        self.assertEqual(fourth[-1], 0x33)
        r.send(hexbytes("40 02") + fourth[8:10])
        r.assert_open_and_silent(0.5)

    @skip_on_mosquitto("mosquitto 2.0.11 sends two queued messages after the first PUBACK "
                       "(3 in flight with max_inflight_messages 2)")
    def test_each_puback_releases_exactly_one(self):
        """--max-inflight-messages 2: with the window full, one PUBACK lets exactly one more
        PUBLISH out."""
        r = self.subscribe_raw(packet("""
            82 09                       # SUBSCRIBE, remaining length 9
            00 01                       # packet id 1
            00 04 77 6a 2f 78           # "wj/x"
            01                          # QoS 1
        """))
        p = self.connected("wj-pub")
        for i in range(4):
            p.publish("wj/x", bytes([0x30 + i]), qos=1)
        first, second = r.recv_packet(), r.recv_packet()
        self.assertEqual((first[-1], second[-1]), (0x30, 0x31))
        r.assert_open_and_silent(1.0)
        r.send(hexbytes("40 02") + first[8:10])    # PUBACK the first
        third = r.recv_packet()
        self.assertEqual(third[-1], 0x32)
        r.assert_open_and_silent(0.5)              # second and third in flight: window full
        r.send(hexbytes("40 02") + second[8:10])   # PUBACK the second
        fourth = r.recv_packet()
        self.assertEqual(fourth[-1], 0x33)


if __name__ == "__main__":
    harness.main()
