"""$SYS topics (Mosquitto's names) published by the broker every --sys-interval, retained, with
values that follow a known load: connected clients, messages received and sent, subscriptions,
retained messages, uptime and version."""

import time
import unittest

from harness import BrokerTestCase


class SysTopicsTest(BrokerTestCase):
    broker_options = dict(extra_args=["--sys-interval", "1"])

    def wait_value(self, client, topic, predicate, timeout=6.0):
        """Reads `topic` messages until predicate(payload) holds; returns the payload."""
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                m = client.get_message(timeout=max(0.1, deadline - time.monotonic()))
            except Exception:
                break
            if m.topic != topic:
                continue
            value = m.payload.decode()
            seen.append(value)
            if predicate(value):
                return value
        self.fail(f"{topic}: no value satisfying the condition within {timeout}s; saw {seen}")

    def test_version_and_uptime_are_retained(self):
        c = self.connected("sys-reader-1")
        c.subscribe("$SYS/broker/version", qos=0)
        m = c.get_message(timeout=5)
        self.assertTrue(m.retain)
        self.assertTrue(m.payload.decode().startswith("iot-mqtt-server "), m.payload)
        c.subscribe("$SYS/broker/uptime", qos=0)
        first = self.wait_value(c, "$SYS/broker/uptime", lambda v: v.endswith(" seconds"))
        later = self.wait_value(c, "$SYS/broker/uptime",
                                lambda v: int(v.split()[0]) > int(first.split()[0]))
        self.assertGreater(int(later.split()[0]), int(first.split()[0]))

    def test_connected_clients_follow_connections(self):
        watcher = self.connected("sys-watcher")
        watcher.subscribe("$SYS/broker/clients/connected", qos=0)
        others = [self.connected(f"sys-client-{i}") for i in range(3)]
        self.wait_value(watcher, "$SYS/broker/clients/connected", lambda v: int(v) == 4)
        for o in others:
            o.disconnect()
        self.wait_value(watcher, "$SYS/broker/clients/connected", lambda v: int(v) == 1)

    def test_messages_received_and_sent_count_a_known_load(self):
        watcher = self.connected("sys-counter")
        watcher.subscribe("$SYS/broker/publish/messages/received", qos=0)
        before = int(self.wait_value(watcher, "$SYS/broker/publish/messages/received",
                                     lambda v: v.isdigit()))
        sink = self.connected("sys-sink")
        sink.subscribe("load/#", qos=1)
        pub = self.connected("sys-pub")
        for i in range(7):
            pub.publish(f"load/{i}", b"x", qos=1)
        self.assertEqual(len(sink.get_messages(7, timeout=5)), 7)
        self.wait_value(watcher, "$SYS/broker/publish/messages/received",
                        lambda v: int(v) == before + 7)

    def test_subscriptions_and_retained_counts(self):
        watcher = self.connected("sys-subs")
        watcher.subscribe("$SYS/broker/retained messages/count", qos=0)
        base = int(self.wait_value(watcher, "$SYS/broker/retained messages/count",
                                   lambda v: v.isdigit()))
        pub = self.connected("sys-retainer")
        pub.publish("sys/test/retained", b"kept", qos=1, retain=True)
        self.wait_value(watcher, "$SYS/broker/retained messages/count",
                        lambda v: int(v) == base + 1)
        pub.publish("sys/test/retained", b"", qos=1, retain=True)  # deletes it
        self.wait_value(watcher, "$SYS/broker/retained messages/count", lambda v: int(v) == base)

    def test_wildcard_subscribers_do_not_get_sys(self):
        c = self.connected("sys-hash")
        c.subscribe("#", qos=0)
        c.expect_no_message(wait=2.5)  # two $SYS rounds pass unseen (MQTT-4.7.2-1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
