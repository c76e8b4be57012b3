"""mqtt-stat against real processes: one mqtt-router and one mqtt-frontend, each with its own
--stats port on loopback. A known load (10 QoS 1 messages to one subscriber) must show up in
`mqtt-stat --json` exactly, with totals that are the sums of the processes; an endpoint nobody
publishes on makes it exit 1 within --timeout naming that endpoint; bad arguments exit 2; the
live table prints one row per process and a TOTAL row.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import BIN_DIR, HOST, IS_MOSQUITTO, USERS, MqttClient, Pki, free_port, write_password_file
from test_10_tiers import Process, wait_port

MQTT_STAT = os.path.join(BIN_DIR, "mqtt-stat")


def mqtt_stat(*args, timeout=20):
    return subprocess.run([MQTT_STAT, *args], capture_output=True, timeout=timeout, text=True)


@unittest.skipIf(IS_MOSQUITTO, "the tiers are ours only")
class MqttStatTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mqtt-stat-")
        cls.pki = Pki(cls.tmp)
        cls.passwd = os.path.join(cls.tmp, "passwd")
        write_password_file(cls.passwd, USERS)
        router_ep = f"tcp://{HOST}:{free_port()}"
        cls.router_stats = f"tcp://{HOST}:{free_port()}"
        cls.frontend_stats = f"tcp://{HOST}:{free_port()}"
        cls.port = free_port()
        cls.router = Process("router", [
            os.path.join(BIN_DIR, "mqtt-router"), "--bind", router_ep, "--router-id", "r-stat",
            "--stats", cls.router_stats], cls.tmp)
        cls.frontend = Process("frontend", [
            os.path.join(BIN_DIR, "mqtt-frontend"), "--routers", router_ep,
            "--listen", f"tls://{HOST}:{cls.port}", "--tls-cert", cls.pki.cert,
            "--tls-key", cls.pki.key, "--password-file", cls.passwd, "--frontend-id", "fe-stat",
            "--stats", cls.frontend_stats], cls.tmp)
        cls.router.start()
        cls.frontend.start()
        wait_port(cls.port)

    @classmethod
    def tearDownClass(cls):
        ok = cls.router.alive() and cls.frontend.alive()
        cls.frontend.stop()
        cls.router.stop()
        if not ok:
            print(f"----- router -----\n{cls.router.log()}\n----- frontend -----\n{cls.frontend.log()}")
        shutil.rmtree(cls.tmp, True)

    def connected(self, client_id):
        deadline = time.monotonic() + 10
        while True:
            c = MqttClient(self.pki, self.port, client_id)
            try:
                rc, _ = c.connect(timeout=2)
                if rc == 0:
                    self.addCleanup(c.close)
                    return c
            except AssertionError:
                pass
            c.close()
            if time.monotonic() > deadline:
                self.fail(f"{client_id} could not connect")
            time.sleep(0.2)

    def test_json_counts_a_known_load(self):
        sub = self.connected("stat-sub")
        sub.subscribe("stat/#", qos=1)
        pub = self.connected("stat-pub")
        for i in range(10):
            pub.publish("stat/x", f"m{i}".encode(), qos=1)
        self.assertEqual(len(sub.get_messages(10, timeout=10)), 10)

        r = mqtt_stat("--json", "--timeout", "10", self.router_stats, self.frontend_stats)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        procs = {p["kind"]: p for p in doc["processes"]}
        self.assertEqual(sorted(procs), ["frontend", "router"])
        self.assertEqual(procs["router"]["id"], "r-stat")
        self.assertEqual(procs["frontend"]["id"], "fe-stat")
        router = procs["router"]["counters"]
        self.assertEqual(router["messages.in"], 10)
        self.assertEqual(router["messages.in.qos1"], 10)
        self.assertEqual(router["messages.out"], 10)
        self.assertEqual(router["messages.out.qos1"], 10)
        frontend = procs["frontend"]["counters"]
        self.assertEqual(frontend["messages.in"], 10)
        self.assertEqual(procs["frontend"]["gauges"]["connections.current"], 2)
        self.assertGreater(procs["router"]["uptime"], 0)
        # Totals per kind: a router and a frontend count the same messages twice over.
        self.assertEqual(sorted(doc["total"]), ["frontend", "router"])
        for kind, totals in doc["total"].items():
            group = [p for p in doc["processes"] if p["kind"] == kind]
            for section in ("counters", "gauges"):
                names = set().union(*(p[section] for p in group))
                self.assertEqual(set(totals[section]), names)
                for name in names:
                    self.assertEqual(totals[section][name],
                                     sum(p[section].get(name, 0) for p in group), name)
        self.assertEqual(doc["total"]["router"]["counters"]["messages.in"], 10)
        self.assertEqual(doc["total"]["frontend"]["counters"]["messages.in"], 10)

    def test_silent_endpoint_exits_1_within_timeout(self):
        silent = f"tcp://{HOST}:{free_port()}"
        start = time.monotonic()
        r = mqtt_stat("--json", "--timeout", "1.5", self.router_stats, silent)
        elapsed = time.monotonic() - start
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertLess(elapsed, 4)
        self.assertGreaterEqual(elapsed, 1.4)
        self.assertIn(silent, r.stderr)
        self.assertNotIn(self.router_stats, r.stderr)
        doc = json.loads(r.stdout)  # what arrived is still printed
        self.assertEqual([p["kind"] for p in doc["processes"]], ["router"])

    def test_bad_arguments_exit_2(self):
        for args in ([], ["--json"], ["--bogus", self.router_stats], ["127.0.0.1:1"],
                     ["--interval", "x", self.router_stats], ["--timeout"],
                     ["tcp://no-port-here"]):
            r = mqtt_stat(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, (args, r.stderr))
        r = mqtt_stat("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--json", r.stdout)

    def test_live_table_has_a_row_per_process_and_a_total_per_kind(self):
        p = subprocess.Popen([MQTT_STAT, "--interval", "0.5", self.router_stats, self.frontend_stats],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=5)
        self.assertEqual(p.returncode, 0, err)
        self.assertNotIn("\x1b[", out)  # not a tty: no escape sequences
        tables = [t for t in out.split("\n\n") if t.strip()]
        self.assertGreaterEqual(len(tables), 3)
        last = tables[-1].splitlines()
        self.assertTrue(last[0].startswith("KIND"))
        # A row per process, then a TOTAL row per kind.
        rows = {(line.split()[0], line.split()[1]): line.split() for line in last[1:]}
        self.assertEqual(sorted(rows), [("frontend", "TOTAL"), ("frontend", "fe-stat"),
                                        ("router", "TOTAL"), ("router", "r-stat")])
        self.assertEqual(len(last) - 1, 4)
        # Two snapshots seen by now: rates are numbers, not "-".
        for key in rows:
            in_rate, out_rate = rows[key][-4], rows[key][-3]
            self.assertGreaterEqual(float(in_rate), 0.0, last)
            self.assertGreaterEqual(float(out_rate), 0.0, last)


if __name__ == "__main__":
    unittest.main(verbosity=2)
