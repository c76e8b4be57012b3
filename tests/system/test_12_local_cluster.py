"""deploy/local-cluster: the development launcher of M routers and N frontends on loopback.
Started as a user would (its #!/usr/bin/env python3 line), it prints one listener URL per
frontend; a message published on one frontend reaches a subscriber on the other; SIGTERM
stops every process it started and frees every port; a process that dies is named and the
rest are stopped (exit 1); bad arguments give one line and exit 2.
"""

import os
import queue
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import BIN_DIR, HOST, IS_MOSQUITTO, USERS, MqttClient, Pki, write_password_file

LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
                        "local-cluster")
FRONTENDS = 2
ROUTERS = 2
PORTS = ROUTERS + FRONTENDS


def listening(port):
    """True if something listens on 127.0.0.1:port (a bind with SO_REUSEADDR, as the servers
    use, fails only then; connections left in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
            s.listen(1)
        except OSError:
            return True
    return False


def free_base_port():
    """A base port P with P .. P+PORTS-1 all free."""
    for _ in range(50):
        base = random.randint(20000, 60000 - PORTS)
        if not any(listening(p) for p in range(base, base + PORTS)):
            return base
    raise RuntimeError("no run of free ports found")


def children_of(pid):
    """{pid: command line} of the processes whose parent is pid (from /proc)."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
        except OSError:
            continue
        # The command name in parentheses may hold spaces: the fields after it are fixed.
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == pid:
            out[int(entry)] = [a.decode(errors="replace") for a in cmdline if a]
    return out


def exists(pid):
    """True if pid is a live process (not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@unittest.skipIf(IS_MOSQUITTO, "local-cluster runs our tiers")
class LocalClusterTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mqtt-local-cluster-")
        cls.pki = Pki(cls.tmp)
        cls.passwd = os.path.join(cls.tmp, "passwd")
        write_password_file(cls.passwd, USERS)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.launcher = None
        self.clients = []
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for c in self.clients:
            c.close()
        if self.launcher and self.launcher.poll() is None:
            self.launcher.kill()  # its children get SIGTERM (PR_SET_PDEATHSIG)
            self.launcher.wait(timeout=10)
        if self.launcher:
            self.reader.join(timeout=5)
            self.launcher.stdout.close()

    def start(self, *extra, data="logs"):
        """Starts the launcher; returns (base port, the URLs it printed)."""
        self.data = os.path.join(self.tmp, data)
        self.stderr_path = os.path.join(self.tmp, data + ".stderr")
        for _attempt in range(3):  # a port may be taken between the probe and the bind
            base = free_base_port()
            cmd = [LAUNCHER, "--frontends", str(FRONTENDS), "--routers", str(ROUTERS),
                   "--base-port", str(base), "--data", self.data, "--bin", BIN_DIR,
                   "--log-level", "debug", "--heartbeat-interval", "200", "--peer-timeout", "1000",
                   "--grace", "10",
                   "--tls-cert", self.pki.cert, "--tls-key", self.pki.key,
                   "--password-file", self.passwd] + list(extra)
            with open(self.stderr_path, "wb") as err:
                self.launcher = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err,
                                                 stdin=subprocess.DEVNULL)
            self.lines = queue.Queue()
            self.reader = threading.Thread(target=self._read, args=(self.launcher.stdout,),
                                           daemon=True)
            self.reader.start()
            urls = []
            deadline = time.monotonic() + 30
            while True:
                try:
                    line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
                except queue.Empty:
                    self.fail(f"launcher printed no ready line within 30 s: {urls}\n{self.stderr()}")
                if line is None:  # stdout closed: the launcher ended
                    rc = self.launcher.wait(timeout=10)
                    if rc == 1 and "is in use" in self.stderr():
                        break
                    self.fail(f"launcher ended with {rc} before it was ready\n{self.stderr()}")
                if line.startswith("local-cluster: ready"):
                    return base, urls
                urls.append(line)
        self.fail("no free ports after 3 attempts")

    def _read(self, stream):
        for raw in stream:
            self.lines.put(raw.decode(errors="replace").rstrip("\n"))
        self.lines.put(None)

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def client(self, port, client_id):
        c = MqttClient(self.pki, port, client_id)
        self.clients.append(c)
        rc, _ = c.connect()
        self.assertEqual(rc, 0, f"CONNACK of {client_id} on port {port}")
        return c

    def server_processes(self):
        """The launcher's children, checked to be the servers it was asked for."""
        kids = children_of(self.launcher.pid)
        names = sorted(os.path.basename(cmd[0]) for cmd in kids.values())
        self.assertEqual(names, ["mqtt-frontend"] * FRONTENDS + ["mqtt-router"] * ROUTERS, kids)
        return kids

    def test_prints_urls_carries_messages_and_stops_everything_on_sigterm(self):
        base, urls = self.start()
        self.assertEqual(urls, [f"tls://{HOST}:{base + ROUTERS + i}" for i in range(FRONTENDS)])
        kids = self.server_processes()
        ids = sorted(cmd[cmd.index("--router-id") + 1] if "--router-id" in cmd
                     else cmd[cmd.index("--frontend-id") + 1] for cmd in kids.values())
        self.assertEqual(ids, ["frontend-1", "frontend-2", "router-1", "router-2"])
        ports = [int(u.rsplit(":", 1)[1]) for u in urls]

        # Several subscribers on the first frontend (their sessions spread over both routers),
        # one publisher on the second.
        subs = [self.client(ports[0], f"sub-{i}") for i in range(6)]
        for s in subs:
            s.subscribe("cluster/t", qos=1)
        pub = self.client(ports[1], "pub")
        pub.publish("cluster/t", b"across", qos=1)
        for s in subs:
            m = s.get_message(timeout=5)
            self.assertEqual((m.topic, m.payload), ("cluster/t", b"across"))
        for c in self.clients:
            c.disconnect()

        self.launcher.send_signal(signal.SIGTERM)
        self.assertEqual(self.launcher.wait(timeout=30), 0, self.stderr())
        left = [pid for pid in kids if exists(pid)]
        self.assertEqual(left, [], f"processes left after the launcher ended: {left}")
        busy = [p for p in range(base, base + PORTS) if listening(p)]
        self.assertEqual(busy, [], "ports still listened on")
        for name in ("router-1", "router-2", "frontend-1", "frontend-2"):
            self.assertTrue(os.path.getsize(os.path.join(self.data, name + ".log")) > 0, name)

    def test_a_process_that_dies_is_named_and_the_rest_are_stopped(self):
        self.start(data="dies")
        kids = self.server_processes()
        victim = next(pid for pid, cmd in kids.items() if "frontend-2" in cmd)
        os.kill(victim, signal.SIGKILL)
        self.assertEqual(self.launcher.wait(timeout=30), 1)
        err = self.stderr()
        self.assertRegex(err, r"frontend-2 exited unexpectedly \(killed by SIGKILL\)")
        self.assertIn(os.path.join(self.data, "frontend-2.log"), err)
        self.assertEqual([pid for pid in kids if exists(pid)], [])

    def test_bad_arguments_give_one_line_and_exit_2(self):
        for args in (["--frontends", "zero"], ["--routers", "0", "--data", self.tmp],
                     ["--frontends", "1"], ["--data", self.tmp, "--listen", "tls://127.0.0.1:1"],
                     ["--data", self.tmp, "--base-port", "65535"]):
            r = subprocess.run([LAUNCHER] + args + ["--bin", BIN_DIR], capture_output=True,
                               timeout=10)
            err = r.stderr.decode()
            self.assertEqual(r.returncode, 2, (args, err))
            self.assertEqual(len(err.splitlines()), 1, (args, err))
            self.assertTrue(re.match(r"local-cluster: ", err), err)
            self.assertEqual(r.stdout, b"")


if __name__ == "__main__":
    unittest.main(verbosity=2)
