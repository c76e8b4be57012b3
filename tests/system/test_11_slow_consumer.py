"""A subscriber that stops reading must not grow the broker's memory without bound or slow the
others: once its unwritten backlog passes the limit (32 MiB, or twice --max-packet-size) the
broker drops that connection, and everyone else keeps being served."""

import os
import time
import unittest

from harness import BrokerTestCase, main, ours_only, packet


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@ours_only("the write-backlog limit is ours; mosquitto bounds queues by message count/bytes")
class SlowConsumerTest(BrokerTestCase):

    def test_non_reading_subscriber_is_dropped_and_memory_stays_bounded(self):
        healthy = self.connected("healthy")
        healthy.subscribe("health/check", qos=1)

        slow = self.raw()
        slow.send(packet("""
            10 1c                    # CONNECT, remaining length 28
            00 04 4d 51 54 54 04     # "MQTT", level 4
            c2 00 00                 # flags: user, password, clean; keep-alive 0
            00 04 73 6c 6f 77        # client id "slow"
            00 03 62 6f 62           # user "bob"
            00 05 62 6f 62 70 77     # password "bobpw"
        """))
        slow.expect(packet("20 02 00 00  # CONNACK accepted"))
        slow.send(packet("""
            82 0c                    # SUBSCRIBE, remaining length 12
            00 01                    # packet id 1
            00 07 66 6c 6f 6f 64 2f 23  # "flood/#"
            00                       # QoS 0
        """))
        slow.expect(packet("90 03 00 01 00  # SUBACK id 1, QoS 0"))
        # From here on the slow client reads nothing.

        publisher = self.connected("flooder", username="bob", password="bobpw")
        chunk = os.urandom(1024 * 1024)
        baseline = rss_kib(self.broker.proc.pid)
        peak = baseline
        for _ in range(96):  # 96 MiB towards a client that does not read
            publisher.publish("flood/data", chunk, qos=1, timeout=10)
            peak = max(peak, rss_kib(self.broker.proc.pid))
        # Everyone else is still served promptly.
        self.assert_roundtrip(healthy, publisher)
        # The slow client was dropped: what is buffered towards it ends in a close.
        self.assertTrue(slow.wait_closed(timeout=30), "slow consumer was not disconnected")
        growth_mib = (peak - baseline) / 1024
        self.assertLess(growth_mib, 80, f"broker RSS grew by {growth_mib:.0f} MiB")
        self.assert_broker_alive()


if __name__ == "__main__":
    main()
