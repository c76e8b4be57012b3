"""The stats counters add up under a known load (docs/stats.md, "Counting rules"), read with
`mqtt-stat --json` like an operator would:

- a cluster of 2 routers and 2 frontends (each with its own --stats port): subscribers online
  and offline on both frontends, publishers on both, QoS 0/1/2, a message nobody subscribed to;
  per frontend messages.in = forwarded + shed, per router deliveries.matched = out + dropped +
  queued, in the cluster routers' messages.in = published and routers' messages.out = what the
  subscribers received = frontends' messages.out; every known refusal reason counted once;
  the delivery latency histogram has a sample per measured delivery;
- the single-process mqtt-broker publishes one combined snapshot (kind broker) with both
  tiers' names and the same rules.
"""

import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from cluster_harness import owner_of, pick_id, wait_until
from harness import (BIN_DIR, HOST, IS_MOSQUITTO, USERS, Broker, MqttClient, Pki, free_port,
                     write_password_file)
from test_10_tiers import Process, wait_port

MQTT_STAT = os.path.join(BIN_DIR, "mqtt-stat")
ROUTERS = ["r0", "r1"]


def snapshot(*endpoints):
    """mqtt-stat --json over the endpoints: {(kind, id): process}."""
    r = subprocess.run([MQTT_STAT, "--json", "--timeout", "10", *endpoints],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError(f"mqtt-stat failed ({r.returncode}): {r.stderr}")
    doc = json.loads(r.stdout)
    return {(p["kind"], p["id"]): p for p in doc["processes"]}


def dropped(process):
    return sum(v for k, v in process["counters"].items() if k.startswith("messages.dropped."))


def raw_tls(port, data, pki):
    """Sends raw bytes over TLS and returns what comes back before the server closes."""
    ctx = pki.client_context()
    with socket.create_connection((HOST, port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname=HOST) as t:
            t.sendall(data)
            out = b""
            try:
                while True:
                    chunk = t.recv(4096)
                    if not chunk:
                        break
                    out += chunk
            except (OSError, ssl.SSLError):
                pass
            return out


# CONNECT with protocol level 9 (unsupported): "MQTT", level 9, clean session, keep-alive 60,
# client id "x".
BAD_LEVEL_CONNECT = bytes.fromhex("100d" "00044d515454" "09" "02" "003c" "000178")
# PUBLISH as the first packet: topic "t", no payload.
PUBLISH_FIRST = bytes.fromhex("3003" "000174")


class CountingRules:
    """Assertions shared by the cluster and the all-in-one broker."""

    def assert_per_qos_sums(self, p):
        c = p["counters"]
        for name in ("messages.in", "messages.out", "bytes.in", "bytes.out"):
            self.assertEqual(c[name], sum(c[f"{name}.qos{q}"] for q in range(3)), (p["id"], name))

    def assert_frontend_rules(self, fe):
        c = fe["counters"]
        self.assertEqual(c["messages.in"], c["messages.forwarded"] + c["messages.dropped.qos0_shed"],
                         fe["id"])
        self.assertEqual(fe["gauges"]["queues.backlog"], 0, fe["id"])
        self.assert_per_qos_sums(fe)

    def assert_router_rules(self, r):
        c, g = r["counters"], r["gauges"]
        self.assertEqual(c["deliveries.matched"], c["messages.out"] + dropped(r) + g["messages.queued"],
                         r["id"])
        self.assert_per_qos_sums(r)

    def run_refusals(self, port):
        """One connection refused for each reason a client can provoke; returns their names."""
        bad = MqttClient(self.pki, port, "refused-pw", password="wrong")
        rc, _ = bad.connect()
        bad.close()
        self.assertEqual(rc, 4)
        anonymous = MqttClient(self.pki, port, "refused-anon", username=None)
        rc, _ = anonymous.connect()
        anonymous.close()
        self.assertEqual(rc, 5)
        self.assertEqual(raw_tls(port, BAD_LEVEL_CONNECT, self.pki), bytes.fromhex("20020001"))
        self.assertEqual(raw_tls(port, PUBLISH_FIRST, self.pki), b"")
        with socket.create_connection((HOST, port), timeout=5) as s:  # no TLS at all
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            s.settimeout(5)
            try:
                while s.recv(4096):
                    pass
            except OSError:
                pass
        return {"bad_credentials": 1, "not_authorized": 1, "protocol_version": 1,
                "protocol_error": 1, "handshake": 1}


@unittest.skipIf(IS_MOSQUITTO, "the tiers are ours only")
class ClusterCountersTest(unittest.TestCase, CountingRules):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mqtt-counters-")
        cls.pki = Pki(cls.tmp)
        cls.passwd = os.path.join(cls.tmp, "passwd")
        write_password_file(cls.passwd, USERS)
        endpoints = [f"tcp://{HOST}:{free_port()}" for _ in ROUTERS]
        cls.stats = {}
        cls.processes = []
        liveness = ["--heartbeat-interval", "200", "--peer-timeout", "1500"]
        for rid, ep in zip(ROUTERS, endpoints):
            cls.stats[("router", rid)] = f"tcp://{HOST}:{free_port()}"
            cls.processes.append(Process(f"router-{rid}", [
                os.path.join(BIN_DIR, "mqtt-router"), "--bind", ep, "--router-id", rid,
                "--routers", ",".join(endpoints), "--stats", cls.stats[("router", rid)],
                "--max-queued-messages", "3"] + liveness, cls.tmp))
        cls.ports = []
        for i in range(2):
            port = free_port()
            cls.ports.append(port)
            cls.stats[("frontend", f"fe{i}")] = f"tcp://{HOST}:{free_port()}"
            cls.processes.append(Process(f"frontend-fe{i}", [
                os.path.join(BIN_DIR, "mqtt-frontend"), "--routers", ",".join(endpoints),
                "--listen", f"tls://{HOST}:{port}", "--tls-cert", cls.pki.cert, "--tls-key",
                cls.pki.key, "--password-file", cls.passwd, "--frontend-id", f"fe{i}",
                "--stats", cls.stats[("frontend", f"fe{i}")]] + liveness, cls.tmp))
        for p in cls.processes:
            p.start()
        for port in cls.ports:
            wait_port(port)

    @classmethod
    def tearDownClass(cls):
        ok = all(p.alive() for p in cls.processes)
        for p in reversed(cls.processes):
            p.stop()
        if not ok:
            for p in cls.processes:
                print(f"----- {p.name} -----\n{p.log()}")
        shutil.rmtree(cls.tmp, True)

    def connected(self, fe, client_id, **kw):
        def attempt():
            c = MqttClient(self.pki, self.ports[fe], client_id, **kw)
            try:
                rc, _ = c.connect(timeout=2)
            except AssertionError:
                rc = None
            if rc == 0:
                attempt.client = c
                return True
            c.close()
            return False
        self.assertTrue(wait_until(attempt, 15, step=0.3), f"{client_id} could not connect")
        self.addCleanup(attempt.client.close)
        return attempt.client

    def test_counters_add_up(self):
        # Client ids owned by each router, so that both routers own subscribers.
        ids = {}
        for name, router in [("sub1", "r0"), ("sub2", "r1"), ("off1", "r1"), ("off0", "r0"),
                             ("pub0", "r0"), ("pub1", "r1")]:
            ids[name] = pick_id(name, lambda cid, r=router: owner_of(cid, ROUTERS) == r,
                                set(ids.values()))

        # Offline persistent sessions: QoS 1 (queue limit 3) and QoS 0 (never queued).
        for name, fe, topic, qos in [("off1", 1, "c/off1", 1), ("off0", 0, "c/off0", 0)]:
            c = self.connected(fe, ids[name], clean_session=False)
            c.subscribe(topic, qos=qos)
            c.disconnect()

        sub1 = self.connected(0, ids["sub1"])
        sub1.subscribe("c/one", qos=2)
        sub2 = self.connected(1, ids["sub2"])
        sub2.subscribe("c/two", qos=1)
        pub0 = self.connected(0, ids["pub0"])
        pub1 = self.connected(1, ids["pub1"])

        # Each message matches exactly one subscription in the cluster, except "c/nobody".
        load = [(pub0, "c/one", 0, 10), (pub0, "c/one", 2, 6), (pub0, "c/two", 1, 8),
                (pub1, "c/one", 1, 5), (pub1, "c/two", 0, 7), (pub1, "c/off1", 1, 5),
                (pub1, "c/off0", 0, 4), (pub0, "c/nobody", 1, 2)]
        for client, topic, qos, n in load:
            for i in range(n):
                client.publish(topic, f"{topic}-{qos}-{i}".encode(), qos=qos)
        published = sum(n for *_, n in load)
        expected_one = 10 + 6 + 5
        expected_two = 8 + 7
        self.assertEqual(len(sub1.get_messages(expected_one, timeout=10)), expected_one)
        self.assertEqual(len(sub2.get_messages(expected_two, timeout=10)), expected_two)
        sub1.expect_no_message(0.5)
        sub2.expect_no_message(0.1)

        everyone = list(self.stats.values())
        # wait_port's probes (TCP without TLS) are handshake refusals too: count from here.
        before = snapshot(*everyone)
        refusals = self.run_refusals(self.ports[0])

        last = {}

        def settled():
            # Counters only grow: wait until two snapshots agree and show the whole load.
            nonlocal last
            s = snapshot(*everyone)
            routers_in = sum(s[("router", r)]["counters"]["messages.in"] for r in ROUTERS)
            fe0 = s[("frontend", "fe0")]["counters"]
            values = {k: (v["counters"], v["gauges"]) for k, v in s.items()}
            handshakes_before = before[("frontend", "fe0")]["counters"]["connections.refused.handshake"]
            ready = (routers_in == published
                     and fe0["connections.refused.handshake"] >= handshakes_before + 1
                     and values == {k: (v["counters"], v["gauges"]) for k, v in last.items()})
            last = s
            return ready
        self.assertTrue(wait_until(settled, 20, step=1.0), json.dumps(
            {f"{k[0]}/{k[1]}": v["counters"] for k, v in last.items()}, indent=1))
        s = last
        routers = [s[("router", r)] for r in ROUTERS]
        frontends = [s[("frontend", f)] for f in ("fe0", "fe1")]

        for fe in frontends:
            self.assert_frontend_rules(fe)
        for r in routers:
            self.assert_router_rules(r)

        def total(procs, name, section="counters"):
            return sum(p[section][name] for p in procs)

        # Frontends: every PUBLISH read and forwarded; none shed in this load.
        self.assertEqual(total(frontends, "messages.in"), published)
        self.assertEqual(total(frontends, "messages.forwarded"), published)
        self.assertEqual(s[("frontend", "fe0")]["counters"]["messages.in"],
                         sum(n for c, *_, n in load if c is pub0))
        # Routers: accepted = published; each message but c/nobody matched once.
        self.assertEqual(total(routers, "messages.in"), published)
        self.assertEqual(total(routers, "messages.in.qos2"), 6)
        self.assertEqual(total(routers, "messages.from_peers"), published)  # 2 routers
        self.assertEqual(total(routers, "deliveries.matched"), published - 2)
        delivered = expected_one + expected_two
        self.assertEqual(total(routers, "messages.out"), delivered)
        self.assertEqual(total(routers, "messages.dropped.qos0_offline"), 4)
        self.assertEqual(total(routers, "messages.dropped.queue_full"), 5 - 3)
        self.assertEqual(total(routers, "messages.queued", "gauges"), 3)
        # Messages in = delivered + dropped + queued (+ the 2 nobody wanted).
        self.assertEqual(total(routers, "messages.in"),
                         total(routers, "messages.out") + sum(dropped(r) for r in routers)
                         + total(routers, "messages.queued", "gauges") + 2)
        # The tiers meet: what routers sent is what frontends wrote.
        self.assertEqual(total(frontends, "messages.out") + total(frontends, "messages.dropped.no_client"),
                         delivered)
        self.assertEqual(total(frontends, "messages.out"), delivered)
        # Payload bytes: every payload is "<topic>-<qos>-<i>".
        sent_bytes = sum(len(f"{topic}-{qos}-{i}") for _, topic, qos, n in load for i in range(n))
        self.assertEqual(total(frontends, "bytes.in"), sent_bytes)
        self.assertEqual(total(routers, "bytes.in"), sent_bytes)

        # Refusals, all on fe0, each once; fe1 refused nothing but wait_port's probe.
        for fe in ("fe0", "fe1"):
            now = s[("frontend", fe)]["counters"]
            then = before[("frontend", fe)]["counters"]
            for name, value in now.items():
                if name.startswith("connections.refused."):
                    reason = name.rsplit(".", 1)[1]
                    expected = refusals.get(reason, 0) if fe == "fe0" else 0
                    self.assertEqual(value - then[name], expected, f"{fe} {name}")

        # Latency: one sample per delivery written without waiting in a queue; in this load
        # every delivery to the online subscribers (paho's window is far from full).
        samples = sum(fe["histograms"]["latency.delivery_us"]["count"] for fe in frontends)
        self.assertEqual(samples, delivered)
        for fe in frontends:
            h = fe["histograms"]["latency.delivery_us"]
            self.assertLessEqual(h["p50"], h["p99"])
            self.assertLess(h["p99"], 5_000_000)  # loopback: far below 5 s


@unittest.skipIf(IS_MOSQUITTO, "mqtt-broker only")
class BrokerCountersTest(unittest.TestCase, CountingRules):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mqtt-counters-broker-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.pki = Pki(self.tmp)
        passwd = os.path.join(self.tmp, "passwd")
        write_password_file(passwd, USERS)
        self.stats = f"tcp://{HOST}:{free_port()}"
        self.broker = Broker(self.tmp, self.pki, passwd, max_queued=2,
                             extra_args=["--stats", self.stats, "--router-id", "solo"])
        self.broker.start()
        self.addCleanup(self.broker.stop)

    def test_one_combined_snapshot(self):
        port = self.broker.port
        off = MqttClient(self.pki, port, "off", clean_session=False)
        self.assertEqual(off.connect()[0], 0)
        off.subscribe("b/off", qos=1)
        off.disconnect()
        sub = MqttClient(self.pki, port, "sub")
        self.addCleanup(sub.close)
        self.assertEqual(sub.connect()[0], 0)
        sub.subscribe("b/on", qos=1)
        pub = MqttClient(self.pki, port, "pub")
        self.addCleanup(pub.close)
        self.assertEqual(pub.connect()[0], 0)
        for i in range(12):
            pub.publish("b/on", b"x", qos=i % 3)
        for i in range(5):
            pub.publish("b/off", b"y", qos=1)
        self.assertEqual(len(sub.get_messages(12, timeout=10)), 12)
        refusals = self.run_refusals(port)

        last = {}

        def settled():
            nonlocal last
            s = snapshot(self.stats)
            p = s[("broker", "solo")]
            ready = (p["counters"].get("messages.in") == 17
                     and p["counters"].get("connections.refused.handshake", 0) >= 1
                     and p["counters"] == last.get("counters"))
            last = p
            return ready
        self.assertTrue(wait_until(settled, 20, step=1.0), json.dumps(last, indent=1))
        p = last
        self.assertEqual(p["kind"], "broker")
        c = p["counters"]
        # Both tiers' names, once each.
        for name in ("messages.forwarded", "connections.total", "deliveries.matched",
                     "messages.enqueued", "sessions.taken_over"):
            self.assertIn(name, c)
        for name in ("sessions.online", "sessions.offline", "connections.current", "messages.queued"):
            self.assertIn(name, p["gauges"])
        self.assert_frontend_rules(p)
        self.assert_router_rules(p)
        self.assertEqual(c["messages.out"], 12)
        self.assertEqual(c["messages.dropped.queue_full"], 3)
        self.assertEqual(p["gauges"]["messages.queued"], 2)
        self.assertEqual(p["gauges"]["sessions.offline"], 1)
        for reason, n in refusals.items():
            self.assertEqual(c[f"connections.refused.{reason}"], n, reason)
        self.assertEqual(p["histograms"]["latency.delivery_us"]["count"], 12)


if __name__ == "__main__":
    unittest.main(verbosity=2)
