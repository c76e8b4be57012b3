"""The tiers as separate processes: one mqtt-router and two mqtt-frontends over ZeroMQ TCP
(loopback). Messages cross frontends, takeover works across frontends, and liveness holds both
ways: a frontend killed with -9 has its clients' wills published by the router; a router that
restarts makes the frontends close the connections it served, so clients reconnect and work.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import (BIN_DIR, HOST, IS_MOSQUITTO, USERS, MqttClient, Pki, free_port,
                     write_password_file)

HEARTBEAT_MS = 200
PEER_TIMEOUT_MS = 1000


class Process:
    """One broker-tier process with its log in the test's temp dir."""

    def __init__(self, name, cmd, workdir):
        self.name = name
        self.cmd = cmd
        self.log_path = os.path.join(workdir, name + ".log")
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        log.write(("$ " + " ".join(self.cmd) + "\n").encode())
        log.flush()
        self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=5)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-6000:]
        except OSError:
            return ""


def wait_port(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} not accepting connections")


@unittest.skipIf(IS_MOSQUITTO, "the tiers are ours only")
class TiersTest(unittest.TestCase):
    ROUTERS = 1

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mqtt-tiers-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.pki = Pki(self.tmp)
        self.passwd = os.path.join(self.tmp, "passwd")
        write_password_file(self.passwd, USERS)
        self.procs = []
        self.clients = []
        self.addCleanup(self._cleanup)
        liveness = ["--heartbeat-interval", str(HEARTBEAT_MS), "--peer-timeout", str(PEER_TIMEOUT_MS),
                    "--log-level", "debug"]
        endpoints = [f"tcp://{HOST}:{free_port()}" for _ in range(self.ROUTERS)]
        self.routers = []
        for i, endpoint in enumerate(endpoints):
            peers = ["--routers", ",".join(endpoints)] if self.ROUTERS > 1 else []
            self.routers.append(self._process(f"router{i}", [
                os.path.join(BIN_DIR, "mqtt-router"), "--bind", endpoint, "--router-id", f"r{i}"]
                + peers + liveness))
        self.frontends = []
        for i in range(2):
            port = free_port()
            fe = self._process(f"frontend{i}", [
                os.path.join(BIN_DIR, "mqtt-frontend"), "--routers", ",".join(endpoints),
                "--listen", f"tls://{HOST}:{port}", "--tls-cert", self.pki.cert, "--tls-key",
                self.pki.key, "--password-file", self.passwd, "--frontend-id", f"fe{i}"] + liveness)
            fe.port = port
            self.frontends.append(fe)
        for r in self.routers:
            r.start()
        for fe in self.frontends:
            fe.start()
        for fe in self.frontends:
            wait_port(fe.port)

    def _process(self, name, cmd):
        p = Process(name, cmd, self.tmp)
        self.procs.append(p)
        return p

    def _cleanup(self):
        for c in self.clients:
            try:
                c.close()
            except Exception:
                pass
        failed = any(not p.alive() for p in self.procs if getattr(p, "expect_alive", True))
        for p in self.procs:
            p.stop()
        if failed:
            for p in self.procs:
                print(f"----- {p.name} -----\n{p.log()}")

    def client(self, fe, client_id, **kw):
        c = MqttClient(self.pki, fe.port, client_id, **kw)
        self.clients.append(c)
        return c

    def connected(self, fe, client_id, **kw):
        c = self.client(fe, client_id, **kw)
        rc, _ = c.connect()
        self.assertEqual(rc, 0)
        return c

    def connect_retrying(self, fe, client_id, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            c = self.client(fe, client_id)
            try:
                rc, _ = c.connect(timeout=2)
                if rc == 0:
                    return c
            except AssertionError:
                pass
            if time.monotonic() > deadline:
                self.fail(f"{client_id} could not connect within {timeout}s")
            time.sleep(0.2)

    def test_publish_crosses_frontends_in_order(self):
        sub = self.connected(self.frontends[0], "sub")
        sub.subscribe("t/#", qos=1)
        pub = self.connected(self.frontends[1], "pub")
        for i in range(20):
            pub.publish("t/x", f"m{i}".encode(), qos=1)
        got = [m.payload.decode() for m in sub.get_messages(20, timeout=10)]
        self.assertEqual(got, [f"m{i}" for i in range(20)])

    def test_takeover_across_frontends(self):
        """MQTT-3.1.4-2: the same client id on another frontend closes the old connection."""
        old = self.connected(self.frontends[0], "same-id")
        self.connected(self.frontends[1], "same-id")
        self.assertTrue(old.wait_disconnected(timeout=5), "old connection was not closed")

    def test_killed_frontend_wills_are_published_once(self):
        """A frontend killed with -9: the router notices within the peer timeout and publishes
        the wills of the clients it held, once each."""
        watcher = self.connected(self.frontends[0], "watcher")
        watcher.subscribe("wills/#", qos=1)
        for i in range(3):
            self.connected(self.frontends[1], f"dev{i}",
                           will=dict(topic=f"wills/dev{i}", payload=b"gone", qos=1))
        self.frontends[1].expect_alive = False
        start = time.monotonic()
        self.frontends[1].kill9()
        got = sorted(m.topic for m in watcher.get_messages(3, timeout=PEER_TIMEOUT_MS / 1000 + 5))
        elapsed = time.monotonic() - start
        self.assertEqual(got, ["wills/dev0", "wills/dev1", "wills/dev2"])
        self.assertLess(elapsed, PEER_TIMEOUT_MS / 1000 + 3)
        watcher.expect_no_message(wait=1.5)  # once each

    def test_restarted_router_makes_clients_reconnect(self):
        """A router killed with -9 and restarted has lost the connections' state: the frontends
        close those clients; once they reconnect everything works again."""
        c = self.connected(self.frontends[0], "c1")
        for r in self.routers:  # whichever owns c1's session
            r.kill9()
            r.start()
        self.assertTrue(c.wait_disconnected(timeout=PEER_TIMEOUT_MS / 1000 + 5),
                        "client not closed after the router restarted")
        # Right after a restart a frontend may still close a fresh connection when it learns
        # of the new incarnation: clients just reconnect, as real ones do.
        c2 = self.connect_retrying(self.frontends[0], "c1")
        c2.subscribe("again", qos=1)
        pub = self.connect_retrying(self.frontends[1], "p")
        pub.publish("again", b"works", qos=1)
        self.assertEqual(c2.get_message(timeout=5).payload, b"works")

    def test_frontend_restarted_with_same_id_serves_again(self):
        """A frontend killed with -9 and restarted under the same --frontend-id (a container
        restart) is a new peer: its new clients are served at once, and the router ends the
        old process's connections (their wills fire)."""
        watcher = self.connected(self.frontends[0], "watcher")
        watcher.subscribe("wills/#", qos=1)
        self.connected(self.frontends[1], "dev", will=dict(topic="wills/dev", payload=b"x", qos=1))
        fe = self.frontends[1]
        fe.kill9()
        fe.start()
        wait_port(fe.port)
        c = self.connected(fe, "dev")  # new connection, same client id: CONNACK 0 at once
        c.subscribe("back", qos=1)
        self.connected(self.frontends[0], "p").publish("back", b"ok", qos=1)
        self.assertEqual(c.get_message(timeout=5).payload, b"ok")
        self.assertEqual(watcher.get_message(timeout=PEER_TIMEOUT_MS / 1000 + 5).topic, "wills/dev")
        watcher.expect_no_message(wait=1.5)

    def test_persistent_session_resumes_through_another_frontend_after_kill9(self):
        """A frontend killed with -9: its persistent clients reconnect through another frontend
        and resume their sessions: subscriptions kept, messages published meanwhile delivered,
        unacknowledged QoS 1 re-sent."""
        dev = self.connected(self.frontends[1], "dev", clean_session=False)
        dev.subscribe("cmd/dev", qos=1)
        pub = self.connected(self.frontends[0], "pub")
        pub.publish("cmd/dev", b"before", qos=1)
        self.assertEqual(dev.get_message(timeout=5).payload, b"before")
        self.frontends[1].expect_alive = False
        self.frontends[1].kill9()
        dev.close()
        for i in range(5):
            pub.publish("cmd/dev", f"while-{i}".encode(), qos=1)
        again = self.client(self.frontends[0], "dev", clean_session=False)
        rc, session_present = again.connect()
        self.assertEqual((rc, session_present), (0, 1))
        first = again.get_message(timeout=10)
        if first.payload == b"before":
            # Its PUBACK may not have left the killed frontend: re-sent, with DUP (QoS 1 is at
            # least once).
            self.assertTrue(first.dup)
            first = again.get_message(timeout=10)
        got = [first.payload] + [m.payload for m in again.get_messages(4, timeout=10)]
        self.assertEqual(got, [f"while-{i}".encode() for i in range(5)])


@unittest.skipIf(IS_MOSQUITTO, "the tiers are ours only")
class ClusterTest(TiersTest):
    """Everything above with two routers: sessions are spread over them by client id, and each
    accepted message is forwarded between routers."""
    ROUTERS = 2

    def test_many_clients_on_both_routers_all_receive(self):
        subs = [self.connected(self.frontends[i % 2], f"s{i}") for i in range(8)]
        for s in subs:
            s.subscribe("fan/out", qos=1)
        pubs = [self.connected(self.frontends[i % 2], f"p{i}") for i in range(4)]
        for i, p in enumerate(pubs):
            p.publish("fan/out", f"from-{i}".encode(), qos=1)
        for s in subs:
            got = sorted(m.payload for m in s.get_messages(4, timeout=10))
            self.assertEqual(got, [f"from-{i}".encode() for i in range(4)])
            s.expect_no_message(wait=0.2)

    def test_retained_is_seen_through_every_router_and_converges(self):
        """The rule: the update with the highest (hybrid-logical-clock stamp, router id) wins on
        every router. Updates a few milliseconds apart are therefore ordered as written; the
        forwarding between routers is asynchronous, so readers look after it settled."""
        for i in range(6):
            self.connected(self.frontends[i % 2], f"w{i}").publish("cfg/x", f"v{i}".encode(),
                                                                   qos=1, retain=True)
            time.sleep(0.02)
        time.sleep(0.5)
        values = set()
        for i in range(8):  # readers owned by either router
            r = self.connected(self.frontends[i % 2], f"r{i}")
            r.subscribe("cfg/x", qos=1)
            m = r.get_message(timeout=5)
            self.assertTrue(m.retain)
            values.add(m.payload)
        self.assertEqual(values, {b"v5"})

    def test_clients_of_a_dead_router_move_to_the_survivor(self):
        """With one of two routers dead (kill -9), once the frontends deem it dead every client
        id maps to the survivor: all clients connect and work; nothing stays stuck."""
        self.routers[1].expect_alive = False
        self.routers[1].kill9()
        time.sleep(PEER_TIMEOUT_MS / 1000 + 2 * HEARTBEAT_MS / 1000 + 0.3)
        clients = []
        for i in range(12):
            c = self.client(self.frontends[i % 2], f"id{i}")
            rc, _ = c.connect(timeout=5)
            self.assertEqual(rc, 0, f"id{i}")
            clients.append(c)
        clients[0].subscribe("still/up", qos=1)
        clients[-1].publish("still/up", b"yes", qos=1)
        self.assertEqual(clients[0].get_message(timeout=5).payload, b"yes")


if __name__ == "__main__":
    unittest.main(verbosity=2)
