"""Slow consumers must not grow the broker's memory without bound or slow the others.

Past --client-write-buffer unwritten bytes for one client, its QoS 0 deliveries are dropped
(counted as messages.dropped.slow_client); a client whose socket takes no bytes for
--client-write-timeout seconds is closed (connections.closed.slow_client); QoS 1 messages of a
persistent session that could not be written wait in the router for its return."""

import os
import time
import unittest

from harness import HOST, BrokerTestCase, free_port, main, ours_only, packet
from test_20_counters import snapshot

WRITE_TIMEOUT_S = 3
STATS = f"tcp://{HOST}:{free_port()}"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def connect_packet(client_id, clean=True):
    """CONNECT for user bob (password bobpw), keep-alive 0, hand-written field by field."""
    cid = client_id.encode()
    body = (bytes.fromhex("0004 4d515454 04")          # "MQTT", level 4
            + bytes([0xc2 if clean else 0xc0])          # flags: user, password, clean or not
            + bytes.fromhex("0000")                     # keep-alive 0
            + len(cid).to_bytes(2, "big") + cid         # client id
            + bytes.fromhex("0003 626f62")              # user "bob"
            + bytes.fromhex("0005 626f627077"))        # password "bobpw"
    return bytes([0x10, len(body)]) + body


@ours_only("the write-buffer policy is ours; mosquitto bounds queues by message count/bytes")
class SlowConsumerTest(BrokerTestCase):
    broker_options = dict(extra_args=["--client-write-timeout", str(WRITE_TIMEOUT_S),
                                      "--stats", STATS])

    def frontend_counters(self):
        procs = snapshot(STATS)
        self.assertEqual(len(procs), 1)
        return next(iter(procs.values()))["counters"]

    def non_reading_subscriber(self, client_id, filter_, qos, clean=True):
        slow = self.raw()
        slow.send(connect_packet(client_id, clean))
        slow.expect(packet("20 02 00 00  # CONNACK accepted"))
        f = filter_.encode()
        body = bytes.fromhex("0001") + len(f).to_bytes(2, "big") + f + bytes([qos])
        slow.send(bytes([0x82, len(body)]) + body)  # SUBSCRIBE id 1
        slow.expect(bytes([0x90, 0x03, 0x00, 0x01, qos]))  # SUBACK id 1, granted qos
        return slow  # from here on it reads nothing

    def test_qos0_to_a_non_reading_subscriber_is_dropped_and_it_is_closed(self):
        healthy = self.connected("healthy")
        healthy.subscribe("health/check", qos=1)
        slow = self.non_reading_subscriber("slow", "flood/#", 0)

        publisher = self.connected("flooder", username="bob", password="bobpw")
        chunk = os.urandom(1024 * 1024)
        baseline = rss_kib(self.broker.proc.pid)
        peak = baseline
        for _ in range(48):  # 48 MiB towards a client that does not read
            publisher.publish("flood/data", chunk, qos=1, timeout=10)
            peak = max(peak, rss_kib(self.broker.proc.pid))
        # Everyone else is still served promptly.
        self.assert_roundtrip(healthy, publisher)
        # The client took no bytes for the write timeout: closed. (wait_closed reads, so
        # give the timeout time to pass first.)
        time.sleep(WRITE_TIMEOUT_S + 1)
        self.assertTrue(slow.wait_closed(timeout=WRITE_TIMEOUT_S + 20),
                        "slow consumer was not disconnected")
        growth_mib = (peak - baseline) / 1024
        # Its buffer is bounded (256 KiB plus a write in flight and socket buffers); the
        # rest is the publisher's own packets passing through.
        self.assertLess(growth_mib, 40, f"broker RSS grew by {growth_mib:.0f} MiB")
        counters = self.frontend_counters()
        self.assertGreater(counters["messages.dropped.slow_client"], 0)
        self.assertGreaterEqual(counters["connections.closed.slow_client"], 1)
        self.assert_broker_alive()

    def test_retained_messages_answering_a_subscribe_are_never_dropped(self):
        # What a new subscription gets from the retained set is the subscriber's view of
        # that state, not a live stream: a reader slower than the frontend gets all of it.
        publisher = self.connected("keeper", username="bob", password="bobpw")
        count, size = 80, 100 * 1024  # 8 MiB: past the socket buffers and 256 KiB
        for i in range(count):
            publisher.publish(f"keep/{i}", bytes([i]) * size, qos=1, retain=True, timeout=10)
        time.sleep(2)  # a stats period: the counter below is fresh
        dropped_before = self.frontend_counters()["messages.dropped.slow_client"]
        slow = self.non_reading_subscriber("late", "keep/#", 0)
        time.sleep(2)  # reads nothing while the frontend's buffer for it fills
        got = {}
        for _ in range(count):
            p = slow.recv_packet(timeout=30)
            self.assertEqual(p[0], 0x31, f"not a retained QoS 0 PUBLISH: {p[:8].hex(' ')}")
            i = 1
            while p[i] & 0x80:  # remaining length
                i += 1
            topic_len = int.from_bytes(p[i + 1:i + 3], "big")
            topic = p[i + 3:i + 3 + topic_len].decode()
            got[topic] = p[i + 3 + topic_len:]
        self.assertEqual(set(got), {f"keep/{i}" for i in range(count)})
        for i in range(count):
            self.assertEqual(got[f"keep/{i}"], bytes([i]) * size)
        time.sleep(2)
        self.assertEqual(self.frontend_counters()["messages.dropped.slow_client"], dropped_before)
        self.assert_broker_alive()

    def test_qos1_of_a_stuck_persistent_subscriber_waits_for_its_return(self):
        slow = self.non_reading_subscriber("stuck", "big/#", 1, clean=False)
        publisher = self.connected("bigpub", username="bob", password="bobpw")
        chunk = os.urandom(512 * 1024)
        for i in range(12):  # 6 MiB: more than the socket buffers take
            publisher.publish("big/data", bytes([i]) + chunk, qos=1, timeout=10)
        time.sleep(WRITE_TIMEOUT_S + 1)
        self.assertTrue(slow.wait_closed(timeout=WRITE_TIMEOUT_S + 20),
                        "stuck subscriber was not disconnected")
        # It comes back and reads: every message arrives, none lost.
        back = self.connected("stuck", clean_session=False, username="bob", password="bobpw")
        got = back.get_messages(12, timeout=30)
        self.assertEqual({m.payload[0] for m in got}, set(range(12)))
        # Byte for byte: 6 MiB leave the frontend in bounded chunks, cut
        # anywhere inside a packet.
        for m in got:
            self.assertEqual(m.payload, bytes([m.payload[0]]) + chunk)
        self.assert_broker_alive()


if __name__ == "__main__":
    main()
