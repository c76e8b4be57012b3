"""05 retained messages: store, deliver on subscribe with RETAIN=1, replace, delete, QoS."""

import harness
from harness import BrokerTestCase, packet

CONNACK_OK = packet("20 02 00 00")  # CONNACK, session present 0, rc 0

# CONNECT as bob, client id "t01" (raw subscriber), clean session, keep alive 60.
CONNECT_T01 = packet("""
    10 1b                       # CONNECT, remaining length 27
    00 04 4d 51 54 54           # protocol name "MQTT"
    04                          # protocol level 4
    c2                          # flags: username, password, clean session
    00 3c                       # keep alive 60
    00 03 74 30 31              # client id "t01"
    00 03 62 6f 62              # username "bob"
    00 05 62 6f 62 70 77        # password "bobpw"
""")


class RetainedTest(BrokerTestCase):

    def publisher(self):
        return self.connected("", username="bob", password="bobpw")

    def test_retained_sent_to_new_subscriber_and_on_resubscribe(self):
        """MQTT-3.3.1-5 (stored), MQTT-3.3.1-6 (sent to a new subscription), MQTT-3.3.1-8
        (RETAIN=1 when sent because of a new subscription), MQTT-3.8.4-3 (re-sent on an identical
        re-subscribe)."""
        self.publisher().publish("ret/a", b"kept", qos=1, retain=True)
        s = self.connected("ra")
        s.subscribe("ret/a", 1)
        m = s.get_message(3)
        self.assertEqual((m.topic, m.payload, m.retain, m.qos), ("ret/a", b"kept", True, 1))
        s.subscribe("ret/a", 1)
        m = s.get_message(3)
        self.assertEqual((m.payload, m.retain), (b"kept", True))
        s.expect_no_message(0.5)

    def test_retained_exact_bytes_raw(self):
        """MQTT-3.3.1-8: the retained copy sent on subscribe has the RETAIN bit set (raw bytes)."""
        self.publisher().publish("ret/raw", b"R", qos=0, retain=True)
        r = self.raw()
        r.send(CONNECT_T01)
        r.expect(CONNACK_OK)
        r.send(packet("""
            82 0c                       # SUBSCRIBE, remaining length 12
            00 01                       # packet id 1
            00 07 72 65 74 2f 72 61 77  # "ret/raw"
            00                          # QoS 0
        """))
        # MQTT 3.8.4 lets the server send matching PUBLISHes before the SUBACK: either order.
        got = {r.recv_packet(), r.recv_packet()}
        self.assertEqual(got, {
            packet("90 03 00 01 00"),       # SUBACK id 1, granted 0
            packet("""
                31 0a                       # PUBLISH QoS 0, RETAIN=1, remaining length 10
                00 07 72 65 74 2f 72 61 77  # topic "ret/raw"
                52                          # payload "R"
            """)})

    def test_newer_retained_replaces_older(self):
        """MQTT-3.3.1-5: only the last retained message per topic is kept."""
        p = self.publisher()
        p.publish("ret/b", b"old", qos=1, retain=True)
        p.publish("ret/b", b"new", qos=1, retain=True)
        s = self.connected("rb")
        s.subscribe("ret/b", 1)
        self.assertEqual([m.payload for m in s.drain(1.0)], [b"new"])

    def test_qos0_retained_replaces_older(self):
        """MQTT-3.3.1-7: a QoS 0 retained message replaces the previous retained message."""
        p = self.publisher()
        p.publish("ret/q0", b"q1msg", qos=1, retain=True)
        p.publish("ret/q0", b"q0msg", qos=0, retain=True)
        p.publish("ret/q0-sync", b"", qos=1)  # QoS 0 has no ack: a later QoS 1 orders it
        s = self.connected("rq0")
        s.subscribe("ret/q0", 1)
        self.assertEqual([(m.payload, m.qos) for m in s.drain(1.0)], [(b"q0msg", 0)])

    def test_empty_retained_payload_deletes(self):
        """MQTT-3.3.1-10 (a zero-byte retained PUBLISH removes the retained message and is
        delivered as normal), MQTT-3.3.1-11 (it is not stored itself)."""
        p = self.publisher()
        p.publish("ret/c", b"gone soon", qos=1, retain=True)
        live = self.connected("rc-live")
        live.subscribe("ret/c", 1)
        self.assertEqual(live.get_message(3).payload, b"gone soon")
        p.publish("ret/c", b"", qos=1, retain=True)
        m = live.get_message(3)
        self.assertEqual((m.payload, m.retain), (b"", False))
        s = self.connected("rc")
        s.subscribe("ret/c", 1)
        s.expect_no_message(1.0)

    def test_live_delivery_has_retain_0(self):
        """MQTT-3.3.1-9: a retained PUBLISH delivered to an existing subscription has RETAIN=0."""
        s = self.connected("rd")
        s.subscribe("ret/d", 1)
        self.publisher().publish("ret/d", b"live", qos=1, retain=True)
        m = s.get_message(3)
        self.assertEqual((m.payload, m.retain), (b"live", False))
        # ...but it was stored: a new subscriber gets it with RETAIN=1.
        s2 = self.connected("rd2")
        s2.subscribe("ret/d", 1)
        m = s2.get_message(3)
        self.assertEqual((m.payload, m.retain), (b"live", True))

    def test_non_retained_publish_keeps_retained(self):
        """MQTT-3.3.1-12: a PUBLISH with RETAIN=0 neither stores nor replaces/removes the retained
        message."""
        p = self.publisher()
        p.publish("ret/e", b"retained", qos=1, retain=True)
        p.publish("ret/e", b"transient", qos=1, retain=False)
        p.publish("ret/e", b"", qos=1, retain=False)
        s = self.connected("re")
        s.subscribe("ret/e", 1)
        self.assertEqual([(m.payload, m.retain) for m in s.drain(1.0)], [(b"retained", True)])

    def test_retained_with_wildcard_subscription(self):
        """MQTT-3.3.1-6: every retained message whose topic matches the new filter is sent."""
        p = self.publisher()
        for t in ("rw/1", "rw/2/x", "rw/3", "other/1"):
            p.publish(t, t.encode(), qos=1, retain=True)
        s = self.connected("rw")
        s.subscribe("rw/#", 1)
        got = s.drain(1.0)
        self.assertEqual(sorted(m.topic for m in got), ["rw/1", "rw/2/x", "rw/3"])
        self.assertTrue(all(m.retain for m in got))
        s2 = self.connected("rw-plus")
        s2.subscribe("rw/+", 0)
        self.assertEqual(sorted(m.topic for m in s2.drain(1.0)), ["rw/1", "rw/3"])

    def test_retained_qos_is_min_of_stored_and_granted(self):
        """MQTT-3.3.1-5 (QoS stored with the message), MQTT-3.8.4-6 (delivered at
        min(stored QoS, granted QoS))."""
        p = self.publisher()
        p.publish("rq/1", b"stored at 1", qos=1, retain=True)
        p.publish("rq/2", b"stored at 2", qos=2, retain=True)
        for granted in (0, 1, 2):
            s = self.connected(f"rq{granted}")
            s.subscribe("rq/+", granted)
            got = sorted((m.topic, m.qos) for m in s.drain(1.0))
            self.assertEqual(got, [("rq/1", min(1, granted)), ("rq/2", min(2, granted))],
                             f"granted {granted}")
            s.disconnect()

    def test_retained_survives_publisher_session(self):
        """MQTT-3.1.2-7: retained messages are not part of a session: they stay after the
        publishing client (clean session) disconnects."""
        p = self.connected("rs-pub", username="bob", password="bobpw")
        p.publish("ret/s", b"after", qos=1, retain=True)
        p.disconnect()
        s = self.connected("rs")
        s.subscribe("ret/s", 1)
        self.assertEqual(s.get_message(3).payload, b"after")


if __name__ == "__main__":
    harness.main()
