"""mqtt-bench (tools/mqtt-bench) against a real broker on loopback.

Short runs of every scenario, read through --json (the field names the benchmark suite relies
on): p2p QoS 1 over TLS, WSS and plain TCP with nothing lost or duplicated and received ==
expected; fan-out QoS 0 1 -> 20; fan-in QoS 2 20 -> 1 exactly once; a storm of 200 idle
connections; a closed-loop run; and the failure paths: a closed port and a wrong password are
reported as connection failures with exit code 1 (promptly, no hang), --help exits 0 and a bad
option exits 2 with one line naming it.

The TLS class runs on mosquitto too (MQTT_TEST_BROKER=mosquitto); the WSS/TCP listeners are ours
only. Every run is bounded by the tool itself; subprocess timeouts only catch a hang.
"""

import json
import os
import subprocess
import time
import unittest

from harness import BIN_DIR, HOST, BrokerTestCase, free_port, main, ours_only

BENCH = os.path.join(BIN_DIR, "mqtt-bench")
CREDENTIALS = ["--username", "alice", "--password", "alicepw"]


def bench(*args, timeout=60):
    if not os.access(BENCH, os.X_OK):
        raise AssertionError(f"{BENCH} not built")
    return subprocess.run([BENCH, *args], capture_output=True, text=True, timeout=timeout)


class BenchMixin:
    def run_json(self, url, *args, expect_rc=0, extra=()):
        started = time.monotonic()
        r = bench("--url", url, *extra, "--json", *args)
        elapsed = time.monotonic() - started
        self.assertEqual(r.returncode, expect_rc,
                         f"exit code {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}")
        report = json.loads(r.stdout)
        self.assertEqual(report["tool"], "mqtt-bench")
        self.assertEqual(report["exit_code"], expect_rc)
        self.assertFalse(report["interrupted"])
        report["_wall_s"] = elapsed
        return report

    def assert_all_connected(self, report):
        c = report["connections"]
        self.assertEqual(c["failed"], 0, c["errors"])
        self.assertEqual(c["lost"], 0, c["lost_reasons"])
        self.assertEqual(c["connected"], c["planned"])
        self.assertEqual(report["connect_time_us"]["count"], c["planned"])

    def assert_exact_delivery(self, report, expected):
        """Nothing lost, nothing duplicated, received == expected, and `expected` (a sent count
        times the fan-out) within one message per publisher of the schedule."""
        m = report["messages"]
        self.assertEqual(m["lost"], 0, m)
        self.assertEqual(m["duplicated"], 0, m)
        self.assertEqual(m["foreign"], 0, m)
        self.assertEqual(m["misrouted"], 0, m)
        self.assertEqual(m["received"], m["expected"], m)
        self.assertEqual(m["unique"], m["expected"], m)
        self.assertEqual(m["acknowledged"], m["sent"], m)
        self.assertEqual(m["not_sent"], 0, m)
        low, high = expected
        self.assertTrue(low <= m["expected"] <= high, f"expected {m['expected']} not in {expected}")
        lat = report["latency_us"]
        self.assertGreater(lat["count"], 0)
        self.assertTrue(0 <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99_9"] <= lat["max"],
                        lat)
        self.assertGreater(report["throughput"]["received_per_s"], 0)

    def p2p_qos1(self, url, extra=()):
        # 10 pairs, 50 msg/s each, 0.5 s warmup + 2 s: about 125 messages per publisher.
        report = self.run_json(url, "--scenario", "p2p", "--publishers", "10", "--qos", "1",
                               "--rate", "50", "--warmup", "0.5", "--duration", "2",
                               "--drain", "5", *CREDENTIALS, extra=extra)
        self.assert_all_connected(report)
        self.assert_exact_delivery(report, (10 * 124, 10 * 126))
        self.assertEqual(report["config"]["scenario"], "p2p")
        self.assertEqual(report["config"]["qos"], 1)
        # The measured window alone: 2 s x 500 msg/s, give or take the schedule's edges.
        self.assertAlmostEqual(report["throughput"]["sent_per_s"], 500, delta=15)
        return report


class BenchTlsTest(BenchMixin, BrokerTestCase):
    def url(self):
        return f"mqtts://{HOST}:{self.port}"

    def tls(self):
        return ["--cafile", self.pki.ca]

    def test_help(self):
        r = bench("--help", timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        for option in ("--url", "--scenario", "--closed-loop", "--json", "--drain"):
            self.assertIn(option, r.stdout)

    def test_bad_options_exit_2_with_one_line(self):
        cases = [
            (["--url", self.url(), "--qos", "3"], "--qos"),
            (["--url", self.url(), "--no-such-option"], "--no-such-option"),
            (["--url", "http://127.0.0.1:1"], "--url"),
            (["--url", self.url(), "--payload", "10"], "--payload"),
            (["--url", self.url(), "--inflight", "5"], "--inflight"),
            ([], "--url"),
        ]
        for args, option in cases:
            with self.subTest(args=args):
                r = bench(*args, timeout=10)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                lines = r.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, r.stderr)
                self.assertIn(option, lines[0])
                self.assertEqual(r.stdout, "")

    def test_p2p_qos1_tls(self):
        self.p2p_qos1(self.url(), self.tls())

    def test_fanout_qos0(self):
        report = self.run_json(self.url(), "--scenario", "fanout", "--publishers", "1",
                               "--subscribers", "20", "--qos", "0", "--rate", "100",
                               "--warmup", "0.5", "--duration", "2", "--drain", "3",
                               *CREDENTIALS, extra=self.tls())
        self.assert_all_connected(report)
        m = report["messages"]
        self.assertEqual(m["expected"], 20 * m["sent"], m)
        self.assert_exact_delivery(report, (20 * 249, 20 * 251))
        self.assertAlmostEqual(report["throughput"]["received_per_s"], 2000, delta=100)

    def test_fanin_qos2_exactly_once(self):
        report = self.run_json(self.url(), "--scenario", "fanin", "--publishers", "20",
                               "--subscribers", "1", "--qos", "2", "--rate", "20",
                               "--warmup", "0.5", "--duration", "2", "--drain", "5",
                               *CREDENTIALS, extra=self.tls())
        self.assert_all_connected(report)
        self.assert_exact_delivery(report, (20 * 49, 20 * 51))

    def test_storm_200_connections(self):
        report = self.run_json(self.url(), "--scenario", "storm", "--connections", "200",
                               "--connect-rate", "400", "--duration", "1", *CREDENTIALS,
                               extra=self.tls())
        self.assert_all_connected(report)
        self.assertEqual(report["connections"]["held"], 200)
        self.assertEqual(report["messages"]["sent"], 0)

    def test_closed_loop_qos1(self):
        report = self.run_json(self.url(), "--publishers", "2", "--qos", "1", "--closed-loop",
                               "--inflight", "10", "--warmup", "0.2", "--duration", "1",
                               "--drain", "3", *CREDENTIALS, extra=self.tls())
        self.assert_all_connected(report)
        m = report["messages"]
        self.assertEqual(report["config"]["mode"], "closed_loop")
        self.assertGreater(m["sent"], 100)
        self.assertEqual(m["acknowledged"], m["sent"])
        self.assertEqual(m["duplicated"], 0)
        self.assertEqual(m["foreign"] + m["misrouted"], 0)
        self.assertLessEqual(m["received"], m["expected"])

    def test_wrong_password_is_a_connect_failure(self):
        report = self.run_json(self.url(), "--publishers", "2", "--duration", "1",
                               "--username", "alice", "--password", "wrong", expect_rc=1,
                               extra=self.tls())
        c = report["connections"]
        self.assertEqual(c["connected"], 0)
        self.assertEqual(c["failed"], 4)
        self.assertEqual(sum(c["errors"].values()), 4)
        # Ours answers 4 (bad user name or password); mosquitto 5 (not authorized).
        self.assertTrue(all(k.startswith(("connack 4", "connack 5")) for k in c["errors"]),
                        c["errors"])
        self.assertEqual(report["messages"]["sent"], 0)

    def test_closed_port_fails_fast(self):
        port = free_port()  # nothing listens there
        report = self.run_json(f"mqtt://{HOST}:{port}", "--publishers", "3", "--duration", "30",
                               *CREDENTIALS, expect_rc=1)
        c = report["connections"]
        self.assertEqual(c["failed"], 6)
        self.assertEqual(c["connected"], 0)
        self.assertEqual(c["errors"], {"tcp: Connection refused": 6})
        self.assertLess(report["_wall_s"], 5)  # no load phase, no waiting for --duration

    def test_text_output(self):
        r = bench("--url", self.url(), *self.tls(), *CREDENTIALS, "--publishers", "2",
                  "--rate", "20", "--warmup", "0", "--duration", "0.5", "--drain", "2")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for word in ("connections", "connect time", "expected", "lost 0", "duplicated 0",
                     "throughput", "latency", "p99.9", "cpu"):
            self.assertIn(word, r.stdout)


@ours_only("wss:// and tcp:// listeners")
class BenchWebSocketTcpTest(BenchMixin, BrokerTestCase):
    broker_options = dict(extra_listeners=[("wss", "/mqtt"), ("tcp", "")])

    def test_p2p_qos1_wss(self):
        port = self.broker.extra_ports["wss"]
        report = self.p2p_qos1(f"wss://{HOST}:{port}/mqtt", ["--cafile", self.pki.ca])
        self.assertEqual(report["config"]["transport"], "wss")

    def test_p2p_qos1_tcp(self):
        port = self.broker.extra_ports["tcp"]
        report = self.p2p_qos1(f"mqtt://{HOST}:{port}")
        self.assertEqual(report["config"]["transport"], "tcp")

    def test_wss_wrong_path_is_a_connect_failure(self):
        port = self.broker.extra_ports["wss"]
        report = self.run_json(f"wss://{HOST}:{port}/nope", "--publishers", "1", "--duration",
                               "1", *CREDENTIALS, expect_rc=1, extra=["--cafile", self.pki.ca])
        errors = report["connections"]["errors"]
        self.assertEqual(sum(errors.values()), 2)
        self.assertTrue(all(k.startswith("websocket: ") for k in errors), errors)


if __name__ == "__main__":
    main()
