"""03 pub/sub: delivery, topic matching and wildcards, SUBACK/UNSUBACK, QoS downgrade,
payloads, ordering."""

import time

import harness
from harness import BrokerTestCase, packet, skip_on_mosquitto

CONNACK_OK = packet("20 02 00 00")  # CONNACK, session present 0, rc 0

# CONNECT as alice, client id "p01", clean session, keep alive 60.
CONNECT_P01 = packet("""
    10 1f                       # CONNECT, remaining length 31
    00 04 4d 51 54 54           # protocol name "MQTT"
    04                          # protocol level 4
    c2                          # flags: username, password, clean session
    00 3c                       # keep alive 60
    00 03 70 30 31              # client id "p01"
    00 05 61 6c 69 63 65        # username "alice"
    00 07 61 6c 69 63 65 70 77  # password "alicepw"
""")


class PubSubTest(BrokerTestCase):

    def raw_connected(self):
        r = self.raw()
        r.send(CONNECT_P01)
        r.expect(CONNACK_OK)
        return r

    def test_mosquitto_pub_to_mosquitto_sub(self):
        """MQTT-4.5.0-1: a published message reaches the matching subscriber (CLI tools)."""
        sub = self.mosquitto_sub("cli/topic", count=2, wait_secs=5, qos=1)
        sub.wait_subscribed()
        self.mosquitto_pub("cli/topic", "hello world", qos=1)
        self.mosquitto_pub("cli/topic", "second", qos=0, username="bob", password="bobpw")
        got = sub.finish()
        self.assertEqual([(m.topic, m.payload, m.qos, m.retain) for m in got],
                         [("cli/topic", b"hello world", 1, False), ("cli/topic", b"second", 0, False)])

    def match_table(self, cases, topics):
        """cases: {filter: set of topics it must receive}. One subscriber per filter; every topic
        published once (QoS 1); each subscriber must get exactly its set."""
        subs = {}
        for i, flt in enumerate(cases):
            c = self.connected(f"m{i}-{time.monotonic_ns() % 100000}")
            self.assertEqual(c.subscribe(flt, 1), [1], flt)
            subs[flt] = c
        pub = self.connected("", username="bob", password="bobpw")
        for t in topics:
            pub.publish(t, t.encode(), qos=1)
        for flt, want in cases.items():
            got = [m.topic for m in subs[flt].drain(1.0 if flt == list(cases)[0] else 0.2)]
            self.assertEqual(sorted(got), sorted(want), f"filter {flt!r}")
            self.assertEqual(len(got), len(set(got)), f"filter {flt!r}: duplicates {got}")

    def test_wildcards(self):
        """MQTT-4.7.1-2 ('#' matches parent and any number of levels), MQTT-4.7.1-3 ('+' one
        whole level, also an empty one), MQTT-3.3.2-3 (delivered topic matches the filter),
        MQTT-4.7.3-4 (no normalisation: 'a//b', trailing '/' are distinct topics)."""
        topics = ["sport", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking",
                  "/finance", "a//b", "a/b", "a/b/", "a/x/b"]
        self.match_table({
            "sport/#": {"sport", "sport/tennis", "sport/tennis/player1",
                        "sport/tennis/player1/ranking"},
            "sport/tennis/+": {"sport/tennis/player1"},
            "+": {"sport"},
            "+/+": {"sport/tennis", "/finance", "a/b"},
            "/+": {"/finance"},
            "a/+/b": {"a//b", "a/x/b"},
            "a/b/+": {"a/b/"},
            "a/b": {"a/b"},
            "a/b/": {"a/b/"},
            "#": set(topics),
            "+/tennis/#": {"sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking"},
        }, topics)

    def test_dollar_topics_not_matched_by_leading_wildcards(self):
        """MQTT-4.7.2-1: filters starting with '#' or '+' do not match topics starting with '$';
        '$test/#' does."""
        self.match_table({
            "#": {"plain/x"},
            "+/x": {"plain/x"},
            "+/#": {"plain/x"},
            "$test/#": {"$test/x"},
            "$test/+": {"$test/x"},
        }, ["$test/x", "plain/x"])

    def test_case_sensitive_and_unicode_topics(self):
        """MQTT-4.7.3-4 (no normalisation, case sensitive); MQTT-1.5.3-3 (a leading U+FEFF in a
        topic is kept, so '\\ufeffbom/x' and 'bom/x' are different topics)."""
        self.match_table({
            "Case/X": {"Case/X"},
            "case/x": {"case/x"},
            "\ufeffbom/x": {"\ufeffbom/x"},
            "bom/x": {"bom/x"},
            "caf\u00e9/+": {"caf\u00e9/\u6771\u4eac"},
        }, ["Case/X", "case/x", "\ufeffbom/x", "bom/x", "caf\u00e9/\u6771\u4eac"])

    @skip_on_mosquitto("mosquitto disconnects a 3.1.1 client that subscribes to an invalid "
                       "filter instead of answering SUBACK 0x80 (4.8 allows both)")
    def test_invalid_filters_get_suback_0x80(self):
        """MQTT-4.7.1-2 ('#' must be last), MQTT-4.7.1-3 ('+' must occupy a whole level): an
        invalid filter gets return code 0x80 (MQTT-3.8.4-5, MQTT-3.9.3-2); the other filters of
        the same SUBSCRIBE are granted, in order (MQTT-3.9.3-1, MQTT-3.8.4-4)."""
        r = self.raw_connected()
        r.send(packet("""
            82 1c                       # SUBSCRIBE, remaining length 28
            00 02                       # packet id 2
            00 04 6f 6b 2f 78  01       # "ok/x" QoS 1
            00 02 61 2b        00       # "a+" QoS 0          (invalid: '+' not a whole level)
            00 05 61 2f 23 2f 62  02    # "a/#/b" QoS 2       (invalid: '#' not last)
            00 03 71 2f 23     02       # "q/#" QoS 2
        """))
        r.expect(packet("""
            90 06                       # SUBACK, remaining length 6
            00 02                       # packet id 2
            01 80 80 02                 # granted 1, failure, failure, granted 2
        """))
        r.send(packet("c0 00"))         # PINGREQ: the connection is still fine
        r.expect(packet("d0 00"))       # PINGRESP

    def test_suback_codes_in_order(self):
        """MQTT-3.8.4-1/2 (SUBACK with the same packet id), MQTT-3.8.4-4 (one SUBACK for many
        filters), MQTT-3.8.4-5 and MQTT-3.9.3-1 (one code per filter, in order)."""
        r = self.raw_connected()
        r.send(packet("""
            82 14                       # SUBSCRIBE, remaining length 20
            12 34                       # packet id 0x1234
            00 03 6f 2f 30  00          # "o/0" QoS 0
            00 03 6f 2f 32  02          # "o/2" QoS 2
            00 03 6f 2f 31  01          # "o/1" QoS 1
        """))
        r.expect(packet("""
            90 05                       # SUBACK, remaining length 5
            12 34                       # packet id 0x1234
            00 02 01                    # granted QoS 0, 2, 1
        """))

    def test_resubscribe_replaces_qos(self):
        """MQTT-3.8.4-3: subscribing again to an identical filter replaces the subscription
        (new QoS, still one copy per message)."""
        s = self.connected("rs")
        self.assertEqual(s.subscribe("rs/x", 2), [2])
        self.assertEqual(s.subscribe("rs/x", 0), [0])
        pub = self.connected("rs-pub", username="bob", password="bobpw")
        pub.publish("rs/x", b"one", qos=2)
        got = s.drain(1.0)
        self.assertEqual([(m.payload, m.qos) for m in got], [(b"one", 0)])

    def test_unsubscribe_stops_delivery(self):
        """MQTT-3.10.4-1 (exact filter match deletes it), MQTT-3.10.4-2 (no new messages),
        MQTT-3.10.4-4 (UNSUBACK); other subscriptions of the client are untouched."""
        s = self.connected("us")
        s.subscribe("us/+", 1)
        s.subscribe("keep/x", 1)
        pub = self.connected("us-pub", username="bob", password="bobpw")
        pub.publish("us/a", b"1", qos=1)
        self.assertEqual([m.payload for m in s.drain(0.7)], [b"1"])
        s.unsubscribe("us/+")
        pub.publish("us/a", b"2", qos=1)
        pub.publish("keep/x", b"3", qos=1)
        self.assertEqual([(m.topic, m.payload) for m in s.drain(0.7)], [("keep/x", b"3")])

    def test_unsubscribe_matches_filter_exactly(self):
        """MQTT-3.10.4-1: UNSUBSCRIBE compares filters character by character: 'uf/+' does not
        remove 'uf/#', nor does 'uf/a' remove 'uf/+'."""
        s = self.connected("uf")
        s.subscribe("uf/#", 1)
        s.unsubscribe("uf/+")
        s.unsubscribe("uf/a")
        pub = self.connected("uf-pub", username="bob", password="bobpw")
        pub.publish("uf/a", b"still", qos=1)
        self.assertEqual(s.get_message(3).payload, b"still")

    def test_unsuback_even_without_subscription_and_for_many_filters(self):
        """MQTT-3.10.4-5 (UNSUBACK even when nothing was deleted), MQTT-3.10.4-4 (same packet id),
        MQTT-3.10.4-6 (one UNSUBACK for several filters)."""
        r = self.raw_connected()
        r.send(packet("""
            a2 0c                       # UNSUBSCRIBE, remaining length 12
            00 07                       # packet id 7
            00 03 6e 2f 31              # "n/1"
            00 03 6e 2f 32              # "n/2"
        """))
        r.expect(packet("b0 02 00 07"))  # UNSUBACK, packet id 7
        r.send(packet("c0 00"))          # PINGREQ
        r.expect(packet("d0 00"))        # PINGRESP: no second UNSUBACK came before it

    def test_overlapping_subscriptions_deliver_one_copy_at_max_qos(self):
        """MQTT-3.3.5-1: overlapping subscriptions -> delivered respecting the maximum QoS of the
        matching subscriptions; exactly one copy (mosquitto 2.0.11 also sends one copy to 3.1.1
        clients)."""
        s = self.connected("ov")
        s.subscribe([("ov/#", 1), ("ov/+", 2), ("+/x", 0)])
        pub = self.connected("ov-pub", username="bob", password="bobpw")
        pub.publish("ov/x", b"once", qos=2)
        got = s.drain(1.0)
        self.assertEqual([(m.topic, m.payload, m.qos) for m in got], [("ov/x", b"once", 2)])

    def test_delivery_qos_is_min_of_publish_and_subscription(self):
        """MQTT-3.8.4-6: delivered QoS = min(published QoS, granted QoS), for all 9 combinations."""
        subs = {}
        for q in (0, 1, 2):
            subs[q] = self.connected(f"minq{q}")
            self.assertEqual(subs[q].subscribe("minq/x", q), [q])
        pub = self.connected("minq-pub", username="bob", password="bobpw")
        for pq in (0, 1, 2):
            pub.publish("minq/x", f"pub{pq}".encode(), qos=pq)
        for sq, c in subs.items():
            got = sorted((m.payload, m.qos) for m in c.get_messages(3, timeout=5))
            self.assertEqual(got, [(f"pub{pq}".encode(), min(pq, sq)) for pq in (0, 1, 2)],
                             f"subscription QoS {sq}")
            c.expect_no_message(0.2)

    def test_binary_and_empty_payloads(self):
        """Payloads are opaque bytes: all 256 byte values, a zero-length payload and a 60 kB one
        arrive unchanged."""
        s = self.connected("bin")
        s.subscribe("bin/#", 1)
        pub = self.connected("bin-pub", username="bob", password="bobpw")
        payloads = [bytes(range(256)), b"", b"\x00", bytes(range(256)) * 235]
        for i, p in enumerate(payloads):
            pub.publish(f"bin/{i}", p, qos=1)
        got = s.get_messages(len(payloads), timeout=5)
        self.assertEqual([(m.topic, m.payload) for m in got],
                         [(f"bin/{i}", p) for i, p in enumerate(payloads)])

    def test_binary_and_empty_payloads_cli(self):
        """Same with mosquitto_pub (-s from stdin, -n empty) -> mosquitto_sub."""
        sub = self.mosquitto_sub("clibin/#", count=2, wait_secs=5, qos=1)
        sub.wait_subscribed()
        self.mosquitto_pub("clibin/1", bytes(range(256)), qos=1)
        self.mosquitto_pub("clibin/2", None, qos=1)
        got = sub.finish()
        self.assertEqual([(m.topic, m.payload) for m in got],
                         [("clibin/1", bytes(range(256))), ("clibin/2", b"")])

    def test_many_messages_in_order(self):
        """MQTT-4.6.0-5/6: a topic is ordered; messages from one publisher arrive in order
        (QoS 0, 1 and 2 streams)."""
        for qos in (0, 1, 2):
            s = self.connected(f"ord{qos}")
            s.subscribe(f"ord/{qos}", qos)
            pub = self.connected(f"ord{qos}-pub", username="bob", password="bobpw")
            n = 300
            infos = [pub.c.publish(f"ord/{qos}", str(i).encode(), qos) for i in range(n)]
            for info in infos[-1:]:
                if qos:
                    info.wait_for_publish(10)
            got = s.get_messages(n, timeout=10)
            self.assertEqual([int(m.payload) for m in got], list(range(n)), f"QoS {qos}")
            self.assertTrue(all(m.qos == qos for m in got))
            s.disconnect()
            pub.disconnect()

    def test_publisher_receives_own_message(self):
        """MQTT-4.5.0-1: a client subscribed to a topic it publishes on receives its own message
        (3.1.1 has no 'no local' option)."""
        c = self.connected("self")
        c.subscribe("self/x", 1)
        c.publish("self/x", b"me", qos=1)
        self.assertEqual(c.get_message(3).payload, b"me")


if __name__ == "__main__":
    harness.main()
