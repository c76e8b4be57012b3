"""07 will messages: published when the network connection closes without DISCONNECT (socket
drop, keep-alive timeout, protocol violation, takeover); not after DISCONNECT; QoS/retain."""

import time

import harness
from harness import BrokerTestCase, packet

CONNACK_OK = packet("20 02 00 00")  # CONNACK, session present 0, rc 0
PUBLISH_QOS0 = packet("""
    30 0a                       # PUBLISH QoS 0, remaining length 10
    00 03 61 2f 62              # topic "a/b"
    68 65 6c 6c 6f              # payload "hello"
""")


def will_connect(client_digit, flags="c6", keepalive="00 3c"):
    """CONNECT as alice, client id "wlN", will topic "will/N", will message "gone".
    The bytes are all spelled out; only the digit N, the flags and keep-alive vary."""
    n = "%02x" % (0x30 + client_digit)
    return packet(f"""
        10 2d                       # CONNECT, remaining length 45
        00 04 4d 51 54 54           # protocol name "MQTT"
        04                          # protocol level 4
        {flags}                     # flags (c6 = username, password, will QoS 0, will, clean)
        {keepalive}                 # keep alive
        00 03 77 6c {n}             # client id "wlN"
        00 06 77 69 6c 6c 2f {n}    # will topic "will/N"
        00 04 67 6f 6e 65           # will message "gone"
        00 05 61 6c 69 63 65        # username "alice"
        00 07 61 6c 69 63 65 70 77  # password "alicepw"
    """)


class WillTest(BrokerTestCase):

    def observer(self, topic):
        o = self.connected("", username="bob", password="bobpw")
        o.subscribe(topic, 2)
        return o

    def connect_with_will(self, digit, **kw):
        r = self.raw()
        r.send(will_connect(digit, **kw))
        r.expect(CONNACK_OK)
        return r

    def test_will_on_socket_drop(self):
        """MQTT-3.1.2-8: the will is published when the connection closes without DISCONNECT;
        MQTT-3.1.2-16 (will retain 0 -> published non-retained)."""
        o = self.observer("will/1")
        r = self.connect_with_will(1)
        r.drop()
        m = o.get_message(5)
        self.assertEqual((m.topic, m.payload, m.qos, m.retain), ("will/1", b"gone", 0, False))
        o.expect_no_message(0.5)  # MQTT-3.1.2-10: published once

    def test_will_when_the_last_bytes_come_with_the_end(self):
        """MQTT-3.1.2-8 with keep-alive 0, so that only the socket can end the connection: a
        client's last PUBLISH (QoS 0: the broker answers nothing) followed at once by a FIN, or
        by a TCP reset, gets its will published. The end arrives with the bytes, so the broker
        must see it once it has read them, without waiting for another wake-up. A few times
        each, since the two arrive together only on some runs."""
        o = self.observer("will/9")
        for end in ("fin", "reset") * 10:
            r = self.connect_with_will(9, keepalive="00 00")
            r.send(PUBLISH_QOS0)
            if end == "fin":
                r.drop()
            else:
                r.reset()
            m = o.get_message(5)
            self.assertEqual((m.topic, m.payload), ("will/9", b"gone"), end)

    def test_will_on_keepalive_timeout(self):
        """MQTT-3.1.2-8 / MQTT-3.1.2-24: a client silent for 1.5 x keep-alive (1 s) is
        disconnected as if the network failed, and its will is published."""
        o = self.observer("will/2")
        start = time.monotonic()
        r = self.connect_with_will(2, keepalive="00 01")  # keep alive 1 s
        m = o.get_message(5)
        self.assertEqual((m.topic, m.payload), ("will/2", b"gone"))
        self.assertGreater(time.monotonic() - start, 1.0)
        self.assertTrue(r.wait_closed(2))

    def test_will_on_protocol_violation(self):
        """MQTT-3.1.2-8 + MQTT-4.8.0-1: a client that sends a server-only packet (CONNACK) is
        disconnected and its will is published."""
        o = self.observer("will/3")
        r = self.connect_with_will(3)
        r.send(packet("20 02 00 00"))  # CONNACK from a client: protocol violation
        self.assertTrue(r.wait_closed(5))
        m = o.get_message(5)
        self.assertEqual((m.topic, m.payload), ("will/3", b"gone"))

    def test_will_on_takeover(self):
        """MQTT-3.1.4-2 + MQTT-3.1.2-8: when a new connection takes over the client id, the old
        network connection is closed without DISCONNECT, so its will is published."""
        o = self.observer("will/4")
        r = self.connect_with_will(4)
        new = self.connected("wl4")
        self.assertTrue(r.wait_closed(5))
        m = o.get_message(5)
        self.assertEqual((m.topic, m.payload), ("will/4", b"gone"))
        self.assertFalse(new.disconnected.is_set())

    def test_no_will_after_disconnect(self):
        """MQTT-3.14.4-3, MQTT-3.1.2-10: after DISCONNECT the will is discarded unpublished."""
        o = self.observer("will/5")
        r = self.connect_with_will(5)
        r.send(packet("e0 00"))  # DISCONNECT
        self.assertTrue(r.wait_closed(5))
        o.expect_no_message(1.5)

    def test_no_will_flag_nothing_published(self):
        """MQTT-3.1.2-12: a client without a will that drops its connection makes the server
        publish nothing."""
        o = self.observer("#")
        o.drain(0.5)  # retained messages left by other tests
        r = self.raw()
        r.send(packet("""
            10 1f                       # CONNECT, remaining length 31
            00 04 4d 51 54 54           # protocol name "MQTT"
            04                          # protocol level 4
            c2                          # flags: username, password, clean session (no will)
            00 3c                       # keep alive 60
            00 03 6e 77 31              # client id "nw1"
            00 05 61 6c 69 63 65        # username "alice"
            00 07 61 6c 69 63 65 70 77  # password "alicepw"
        """))
        r.expect(CONNACK_OK)
        r.drop()
        o.expect_no_message(1.5)

    def test_disconnect_with_reserved_flags_publishes_will(self):
        """MQTT-3.14.1-1: a DISCONNECT whose reserved header bits are not 0 is a malformed
        packet: the server disconnects the client (and, the DISCONNECT being invalid, the will
        is published: MQTT-3.1.2-8)."""
        o = self.observer("will/6")
        r = self.connect_with_will(6)
        r.send(packet("e1 00"))  # DISCONNECT with reserved flag bit 0 set
        self.assertTrue(r.wait_closed(5))
        m = o.get_message(5)
        self.assertEqual((m.topic, m.payload), ("will/6", b"gone"))

    def test_will_qos_and_retain(self):
        """MQTT-3.1.2-17 (will retain 1 -> published as retained: a later subscriber gets it
        with RETAIN=1), will QoS 1 honoured (MQTT-3.1.2-14 allows 0..2)."""
        o = self.observer("will/7")
        r = self.connect_with_will(7, flags="ee")  # username, password, will retain, will QoS 1, will, clean
        r.drop()
        m = o.get_message(5)
        self.assertEqual((m.topic, m.payload, m.qos, m.retain), ("will/7", b"gone", 1, False))
        later = self.connected("later")
        later.subscribe("will/7", 2)
        m = later.get_message(3)
        self.assertEqual((m.topic, m.payload, m.qos, m.retain), ("will/7", b"gone", 1, True))

    def test_will_qos2_delivered_at_qos2(self):
        """Will QoS 2 (flags 0x10): delivered to a QoS 2 subscriber at QoS 2."""
        o = self.observer("will/8")
        r = self.connect_with_will(8, flags="d6")  # username, password, will QoS 2, will, clean
        r.drop()
        m = o.get_message(5)
        self.assertEqual((m.topic, m.qos, m.retain), ("will/8", 2, False))

    def test_will_via_paho_on_drop(self):
        """Same with paho's will_set(): drop without DISCONNECT -> will delivered."""
        o = self.observer("will/paho")
        c = self.client("pw", will=dict(topic="will/paho", payload=b"bye", qos=1))
        self.assertEqual(c.connect()[0], 0)
        c.drop()
        m = o.get_message(5)
        self.assertEqual((m.topic, m.payload, m.qos), ("will/paho", b"bye", 1))


if __name__ == "__main__":
    harness.main()
