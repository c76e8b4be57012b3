"""Durability: a router keeps persistent sessions and retained messages in its store
(--data-dir) across kill -9 and SIGTERM restarts (docs/store.md).

1. mqtt-broker --data-dir (default --sync batch) under QoS 1 and QoS 2 load from 3 publishers
   (numbered payloads, each its own topic) to 3 persistent subscribers, one of them offline
   (clean DISCONNECT) across two restarts: killed with -9 three times at random moments and
   restarted on the same port and store, the clients reconnecting by themselves. Every message
   whose PUBACK (QoS 1) / PUBCOMP (QoS 2) the publisher got reached every subscriber, at least
   once (QoS 1) or exactly once (QoS 2), and no client ever came back without its session.
2. The same with SIGTERM restarts (exit code 0 each time).
3. The same with mqtt-router --data-dir + mqtt-frontend, killing only the router (the frontend
   closes that router's clients; they reconnect).
4. Retained messages (one updated, one deleted by an empty payload) survive kill -9.
5. A bad store: a --data-dir that is a regular file, or a store whose CURRENT was overwritten
   with garbage, stops mqtt-broker with exit 1 within a few seconds and one stderr line naming
   the path, changing nothing; with --store-recover yes the damaged store is moved aside to
   DIR.damaged-<UTC time> (files intact) and the broker starts on an empty store (a regular
   file is not a store: still refused).
6. --sync none and --sync always pass scenario 1 with one kill -9.
8. A full disk (a small tmpfs, where mounting is permitted): the broker says so in its log,
   withholds the PUBACK of what it could not store, still delivers QoS 0 to online clients,
   and once there is room again acknowledges the re-sent messages; after a kill -9 the
   offline subscriber gets every acknowledged message.
7. A cluster: two mqtt-router --data-dir behind one mqtt-frontend, publishers and subscribers
   spread over both by ownership, so messages cross between the routers (route_publish, held
   PUBACK/PUBREC until the peer's route_ack, outboxes replayed to a restarted peer). One of
   the two routers, picked at random each time, is killed with -9 three times and restarted
   within the peer timeout (so its clients come back to it and its stored sessions). The same
   checks as scenario 1.

Publishers are cluster_harness.LoadPublisher with a fix for a paho 1.6.1 bug that re-sends a
QoS 2 PUBLISH instead of its PUBREL after two reconnect attempts (see
cluster_harness.keep_pubrel_across_failed_reconnects). The moments come from one seed, printed first
(MQTT_TEST_SEED=N replays them). Processes log at MQTT_TEST_LOG_LEVEL (default info); a failing
test prints warnings, errors and the tail of each process's log; MQTT_TEST_KEEP_LOGS=1 keeps a
failing test's temp dir.
"""

import glob
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import paho.mqtt.client as mqtt

from cluster_harness import LoadPublisher, LoadSubscriber, wait_until
from harness import BIN_DIR, HOST, IS_MOSQUITTO, USERS, MqttClient, Pki, free_port, write_password_file
from test_10_tiers import Process

SEED = int(os.environ.get("MQTT_TEST_SEED") or random.SystemRandom().randrange(1 << 31))
LOG_LEVEL = os.environ.get("MQTT_TEST_LOG_LEVEL", "info")
HEARTBEAT_MS = 200
PEER_TIMEOUT_MS = 1000
CLUSTER_PEER_TIMEOUT_MS = 4000
RATE = 20                 # messages per second per publisher
PUBLISHER_QOS = (1, 2, 2)
DRAIN_TIMEOUT = 25.0
DAMAGED = re.compile(r"\.damaged-\d{8}T\d{6}Z(-\d+)?$")


def excerpt(path, important=40, tail=30):
    """Warnings, errors, store and restart lines, then the last lines of a log."""
    try:
        with open(path, "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    keys = re.compile(r"^\$ |\[(warning|error|critical)\]|store|restored|signal")
    picked = [line for line in lines if keys.search(line)][-important:]
    return ("  -- warnings, errors, store and restart lines --\n" + "\n".join(picked)
            + f"\n  -- last {tail} lines --\n" + "\n".join(lines[-tail:]))


class Service:
    """What the clients talk to, on one fixed loopback port with one store, across restarts:
    mqtt-broker alone, or mqtt-router + mqtt-frontend. `victim` is the process restarted (the
    broker, or the router)."""

    def __init__(self, workdir, pki, passwd, tiers=False, sync=None, extra=(), routers=1,
                 data_dir=None):
        self.workdir = workdir
        self.pki = pki
        self.port = free_port()
        self.data_dir = data_dir or os.path.join(workdir, "store")
        store = ["--data-dir", self.data_dir] + (["--sync", sync] if sync else []) + list(extra)
        common = ["--stats", "none", "--log-level", LOG_LEVEL]
        tls = ["--listen", f"tls://{HOST}:{self.port}", "--tls-cert", pki.cert, "--tls-key",
               pki.key, "--password-file", passwd]
        self.routers = []  # several: the victim of each restart is picked among them
        if routers > 1:
            endpoints = [f"tcp://{HOST}:{free_port()}" for _ in range(routers)]
            # Restarted well within the peer timeout: frontend and peer see a new
            # incarnation, not a dead router, and the clients come back to its store.
            liveness = ["--heartbeat-interval", str(HEARTBEAT_MS), "--peer-timeout",
                        str(CLUSTER_PEER_TIMEOUT_MS)]
            for i, endpoint in enumerate(endpoints):
                self.routers.append(Process(f"router-{i + 1}", [
                    os.path.join(BIN_DIR, "mqtt-router"), "--bind", endpoint, "--router-id",
                    f"r{i + 1}", "--routers", ",".join(endpoints), "--data-dir",
                    os.path.join(workdir, f"store-r{i + 1}")] + (["--sync", sync] if sync else [])
                    + list(extra) + liveness + common, workdir))
            frontend = Process("frontend", [
                os.path.join(BIN_DIR, "mqtt-frontend"), "--routers", ",".join(endpoints),
                "--frontend-id", "fe0"] + tls + liveness + common, workdir)
            self.victim = self.routers[0]
            self.processes = self.routers + [frontend]
        elif tiers:
            endpoint = f"tcp://{HOST}:{free_port()}"
            liveness = ["--heartbeat-interval", str(HEARTBEAT_MS), "--peer-timeout",
                        str(PEER_TIMEOUT_MS)]
            self.victim = Process("router", [
                os.path.join(BIN_DIR, "mqtt-router"), "--bind", endpoint, "--router-id", "r0"]
                + store + liveness + common, workdir)
            frontend = Process("frontend", [
                os.path.join(BIN_DIR, "mqtt-frontend"), "--routers", endpoint,
                "--frontend-id", "fe0"] + tls + liveness + common, workdir)
            self.processes = [self.victim, frontend]
        else:
            self.victim = Process("broker", [os.path.join(BIN_DIR, "mqtt-broker")] + tls + store
                                  + common, workdir)
            self.processes = [self.victim]
        self.problems = []  # what went wrong with restarts (e.g. a SIGTERM exit code)
        self._probes = 0

    def start(self):
        for p in self.processes:
            p.start()
        self.wait_serving()

    def wait_serving(self, timeout=20.0):
        """Until a probe client (clean session) gets CONNACK 0; fails if a process died."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            dead = [p.name for p in self.processes if not p.alive()]
            if dead:
                raise AssertionError(f"{dead} exited (code {[p.proc.returncode for p in self.processes]})"
                                     f" while waiting for port {self.port}:\n{self.logs()}")
            self._probes += 1
            c = MqttClient(self.pki, self.port, f"probe-{self._probes}")
            try:
                rc, _ = c.connect(timeout=2)
                if rc == 0:
                    c.disconnect()
                    return
                last = f"CONNACK {rc}"
            except Exception as e:  # refused, TLS reset, no CONNACK yet
                last = repr(e)
            finally:
                c.close()
            if time.monotonic() > deadline:
                raise AssertionError(f"port {self.port} not serving within {timeout}s (last: "
                                     f"{last}):\n{self.logs()}")
            time.sleep(0.1)

    def restart(self, how):
        """kill -9 or SIGTERM the victim, start it again on the same store, wait until it
        serves. Returns the seconds from the signal until serving."""
        start = time.monotonic()
        if how == "kill9":
            self.victim.kill9()
        else:
            self.victim.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.victim.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.victim.kill9()
                rc = "none (still running 15 s after SIGTERM; killed)"
            if rc != 0:
                self.problems.append(f"{self.victim.name} exited with {rc} after SIGTERM")
        self.victim.start()
        self.wait_serving()
        return time.monotonic() - start

    def stop(self):
        for p in reversed(self.processes):
            p.stop()

    def logs(self):
        return "\n".join(f"----- {p.name} ({p.log_path}) -----\n{excerpt(p.log_path)}"
                         for p in self.processes)


@unittest.skipIf(IS_MOSQUITTO, "the store is ours only")
class DurabilityTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.class_tmp = tempfile.mkdtemp(prefix="mqtt-durability-pki-")
        cls.pki = Pki(cls.class_tmp)
        cls.passwd = os.path.join(cls.class_tmp, "passwd")
        write_password_file(cls.passwd, USERS)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.class_tmp, ignore_errors=True)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mqtt-durability-")
        self.services = []
        self.clients = []
        self.rng = random.Random(f"{SEED}:{self._testMethodName}")
        result = getattr(getattr(self, "_outcome", None), "result", None)
        self.addCleanup(self._cleanup, result, self._bad_count(result))

    @staticmethod
    def _bad_count(result):
        if result is None:
            return 0
        return len(getattr(result, "failures", [])) + len(getattr(result, "errors", []))

    def _cleanup(self, result, bad_before):
        for c in self.clients:
            try:
                c.close()
            except Exception:
                pass
        for s in self.services:
            s.stop()
        failed = self._bad_count(result) > bad_before
        if failed:
            sys.stderr.write(f"\n===== {self.id()} failed (MQTT_TEST_SEED={SEED}) =====\n")
            for s in self.services:
                sys.stderr.write(s.logs() + "\n")
            sys.stderr.write("===== end of logs =====\n")
        if failed and os.environ.get("MQTT_TEST_KEEP_LOGS"):
            sys.stderr.write(f"logs and stores kept in {self.tmp}\n")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def service(self, **kw):
        s = Service(self.tmp, self.pki, self.passwd, **kw)
        self.services.append(s)
        return s

    def client(self, service, client_id, **kw):
        c = MqttClient(self.pki, service.port, client_id, **kw)
        self.clients.append(c)
        return c

    def broker_once(self, data_dir, extra=(), timeout=15):
        """Run mqtt-broker until it exits on its own. Returns (CompletedProcess, seconds)."""
        cmd = [os.path.join(BIN_DIR, "mqtt-broker"), "--listen", f"tls://{HOST}:{free_port()}",
               "--tls-cert", self.pki.cert, "--tls-key", self.pki.key, "--password-file",
               self.passwd, "--stats", "none", "--log-level", LOG_LEVEL, "--data-dir",
               data_dir] + list(extra)
        start = time.monotonic()
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        return r, time.monotonic() - start

    def assert_refused(self, r, elapsed, path, word=None):
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        what = f"exit {r.returncode} after {elapsed:.1f}s; stderr {r.stderr!r}; stdout {r.stdout[-2000:]!r}"
        self.assertEqual(r.returncode, 1, what)
        self.assertLess(elapsed, 5.0, what)
        self.assertEqual(len(lines), 1, what)
        self.assertIn(path, lines[0], what)
        if word:
            self.assertIn(word, lines[0], what)

    # --- the load scenario ---

    def durability_load(self, service, how, kills, back_after):
        """Scenario 1 on `service` (started here): `kills` restarts (`how`: kill9 or sigterm)
        3-5 s apart; the offline subscriber leaves before the first one and comes back after
        restart number back_after (0-based). Fails with a report of everything lost or
        duplicated."""
        service.start()
        subs = [LoadSubscriber(self.pki, service.port, cid, "load/#", 2)
                for cid in ("dur-sub-0", "dur-sub-1", "dur-sub-offline")]
        self.clients += subs
        pubs = [LoadPublisher(self.pki, service.port, f"dur-pub-{i}-q{qos}", qos, RATE)
                for i, qos in enumerate(PUBLISHER_QOS)]
        self.clients += pubs
        self.assertTrue(wait_until(lambda: all(s.ready() for s in subs)
                                   and all(p.ready() for p in pubs), 15),
                        "load clients not connected and subscribed within 15 s")
        offline = subs[2]
        timeline = []
        t0 = time.monotonic()

        def note(what):
            timeline.append(f"{time.monotonic() - t0:6.2f}s {what}")

        for p in pubs:
            p.start()
        time.sleep(self.rng.uniform(0.5, 1.5))
        offline.c.disconnect()  # clean DISCONNECT: the session (clean_session=0) stays
        offline.c.loop_stop()
        note(f"{offline.client_id} disconnected")
        for k in range(kills):
            time.sleep(self.rng.uniform(3.0, 5.0))
            if service.routers:
                service.victim = self.rng.choice(service.routers)
            note(f"{how} {service.victim.name} #{k + 1}")
            took = service.restart(how)
            note(f"serving again ({took:.2f}s after the signal)")
            if k == back_after:
                time.sleep(self.rng.uniform(0.5, 1.5))
                offline.c.connect_async(HOST, service.port, keepalive=10)
                offline.c.loop_start()
                note(f"{offline.client_id} reconnecting")
        time.sleep(self.rng.uniform(2.0, 3.0))
        for p in pubs:
            p.stop()
        note("publishers stopped")
        wait_until(lambda: all(p.unacknowledged() == 0 for p in pubs)
                   and all(s.has_all(pubs) for s in subs), DRAIN_TIMEOUT, step=0.2)
        note("drained" if all(s.has_all(pubs) for s in subs) else "drain deadline passed")
        time.sleep(1.0)  # late duplicates
        for p in service.processes:
            if not p.alive():
                service.problems.append(f"{p.name} died (exit code {p.proc.returncode})")
        lines, problems = self.check(subs, pubs)
        problems = service.problems + problems
        report = (f"seed {SEED} ({self._testMethodName}): {how} x{kills}\n  "
                  + "\n  ".join(timeline) + "\n" + "\n".join(lines))
        print(report, flush=True)
        if problems:
            self.fail("\n".join(problems) + "\n" + report)

    @staticmethod
    def check(subs, pubs):
        """Report lines and the list of problems: an acknowledged message missing at a
        subscriber, a QoS 2 message delivered twice, a number never published, a session lost,
        a publish never acknowledged."""
        lines, problems = [], []
        acked = {}
        for p in pubs:
            done = set(p.acked)
            acked[p.client_id] = {seq for seq, mid in enumerate(list(p.mids)) if mid in done}
            unacked = p.sent - len(acked[p.client_id])
            lines.append(f"  {p.client_id} (QoS {p.qos}): sent {p.sent}, acknowledged "
                         f"{len(acked[p.client_id])}; connacks "
                         f"{[(rc, int(sp)) for _, rc, sp in p.connacks]}")
            if unacked:
                first = sorted(set(range(p.sent)) - acked[p.client_id])[:10]
                problems.append(f"{p.client_id}: {unacked} of {p.sent} publishes never "
                                f"acknowledged (seq {first} ...)")
            ok = [sp for _, rc, sp in p.connacks if rc == 0]
            if False in ok[1:]:
                problems.append(f"{p.client_id}: CONNACK without its session after a restart: "
                                f"{[(rc, int(sp)) for _, rc, sp in p.connacks]}")
        for s in subs:
            with s.lock:
                received = {k: list(v) for k, v in s.received.items()}
            for p in pubs:
                got = received.get(p.client_id, [])
                unique = set(got)
                missing = sorted(acked[p.client_id] - unique)
                dups = sorted(n for n in unique if got.count(n) > 1)
                bogus = sorted(n for n in unique if not 0 <= n < p.sent)
                lines.append(f"  {s.client_id} <- {p.client_id}: received {len(got)} "
                             f"({len(unique)} distinct), missing acknowledged {len(missing)}, "
                             f"duplicated {len(dups)}")
                if missing:
                    problems.append(f"LOST: {s.client_id} never got {len(missing)} acknowledged "
                                    f"message(s) of {p.client_id} (QoS {p.qos}): {missing[:30]}")
                if dups and p.qos == 2:
                    problems.append(f"DUPLICATED: {s.client_id} got {len(dups)} QoS 2 message(s) "
                                    f"of {p.client_id} more than once: "
                                    f"{[(n, got.count(n)) for n in dups[:30]]}")
                if bogus:
                    problems.append(f"{s.client_id} got numbers {p.client_id} never sent: "
                                    f"{bogus[:10]}")
            lines.append(f"  {s.client_id}: connacks {[(rc, int(sp)) for _, rc, sp in s.connacks]}"
                         f", sessions lost {s.sessions_lost}")
            if s.sessions_lost:
                problems.append(f"{s.client_id}: came back {s.sessions_lost} time(s) without "
                                f"its session (CONNACK session present 0)")
        return lines, problems

    # --- 1, 2, 3: load across restarts ---

    def test_1_broker_kill9_three_times_loses_nothing_acknowledged(self):
        self.durability_load(self.service(), "kill9", kills=3, back_after=1)

    def test_2_broker_sigterm_three_times_loses_nothing_acknowledged(self):
        self.durability_load(self.service(), "sigterm", kills=3, back_after=1)

    def test_3_router_behind_frontend_kill9_three_times_loses_nothing_acknowledged(self):
        self.durability_load(self.service(tiers=True), "kill9", kills=3, back_after=1)

    # --- 7: a cluster ---

    def test_7_cluster_router_kill9_three_times_loses_nothing_acknowledged(self):
        self.durability_load(self.service(routers=2), "kill9", kills=3, back_after=1)

    # --- 8: a full disk ---

    def test_8_full_disk_withholds_acknowledgements_and_loses_nothing(self):
        disk = os.path.join(self.tmp, "disk")
        os.makedirs(disk)
        if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs",
                                                disk], capture_output=True).returncode != 0:
            self.skipTest("mounting a tmpfs is not permitted here")
        self.addCleanup(subprocess.run, ["umount", "-l", disk], capture_output=True)
        svc = self.service(data_dir=os.path.join(disk, "store"))
        svc.start()
        off = self.client(svc, "full-off", clean_session=False)
        self.assertEqual(off.connect(), (0, 0))
        off.subscribe("full/q/#", qos=1)
        off.c.disconnect()
        off.c.loop_stop()
        live = self.client(svc, "full-live")
        self.assertEqual(live.connect()[0], 0)
        live.subscribe("full/live", qos=0)
        pub = self.client(svc, "full-pub", clean_session=False)
        self.assertEqual(pub.connect()[0], 0)
        pub.publish("full/q/0", b"before", qos=1)  # stored and acknowledged

        filler = os.path.join(disk, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:  # fill every byte left
            for chunk in (1 << 16, 4096, 512, 1):
                while True:
                    os.write(fd, b"\0" * chunk)
        except OSError:
            pass
        finally:
            os.close(fd)
        payload = b"x" * (256 << 10)
        # More than RocksDB's preallocated log (about 9 MiB here) can take.
        count = 48
        infos = [pub.c.publish(f"full/q/{i}", payload, qos=1) for i in range(1, count + 1)]
        time.sleep(3.0)
        withheld = [i for i, info in enumerate(infos, 1) if not info.is_published()]
        self.assertTrue(withheld, "every PUBACK came although the disk is full")
        # Still serving what needs no disk.
        pub.publish("full/live", b"qos0 goes on", qos=0)
        self.assertEqual(live.get_message(timeout=5).payload, b"qos0 goes on")
        with open(svc.victim.log_path, "rb") as f:
            log = f.read().decode(errors="replace")
        self.assertRegex(log, r"\[error\] router: .*(space|full)", "the full disk is not logged")

        os.remove(filler)
        # The withheld PUBACKs are not re-sent on this connection (MQTT 3.1.1 clients re-send
        # on their next one): reconnect, paho re-sends them with DUP, now they are stored.
        pub.c.disconnect()
        pub.c.loop_stop()
        self.assertEqual(pub.connect(timeout=10), (0, 1))
        for info in infos:
            info.wait_for_publish(20)
        self.assertEqual([i for i, info in enumerate(infos, 1) if not info.is_published()], [],
                         "not acknowledged once there was room again")
        svc.restart("kill9")
        off2 = self.client(svc, "full-off", clean_session=False)
        self.assertEqual(off2.connect(), (0, 1))
        # At least once: what was stored while the PUBACK was withheld, and stored again when
        # re-sent, arrives twice (QoS 1 allows it).
        want = {f"full/q/{i}" for i in range(0, count + 1)}
        got = set()
        deadline = time.monotonic() + 30
        while got != want and time.monotonic() < deadline:
            try:
                got.add(off2.get_message(timeout=max(0.1, deadline - time.monotonic())).topic)
            except AssertionError:
                break
        self.assertEqual(sorted(want - got), [], "acknowledged messages lost")
        self.assertTrue(svc.victim.alive())

    # --- 4: retained ---

    def test_4_retained_messages_survive_kill9(self):
        """Retained set, updated, and deleted (empty payload), each acknowledged (so
        committed): after kill -9 and a restart a new subscriber gets exactly what remains."""
        svc = self.service()
        svc.start()
        pub = self.client(svc, "ret-pub")
        self.assertEqual(pub.connect()[0], 0)
        for topic, payload, qos in [("ret/a", b"alpha", 1), ("ret/b", b"beta", 1),
                                    ("ret/c", b"gamma-1", 1), ("ret/d", b"delta", 2),
                                    ("ret/c", b"gamma-2", 2), ("ret/b", b"", 1)]:
            pub.publish(topic, payload, qos=qos, retain=True)
        svc.victim.kill9()  # right after the last PUBACK
        pub.close()
        svc.victim.start()
        svc.wait_serving()
        sub = self.client(svc, "ret-sub")
        self.assertEqual(sub.connect()[0], 0)
        sub.subscribe("ret/#", qos=1)
        got = sorted((m.topic, m.payload, m.retain) for m in sub.get_messages(3, timeout=5))
        self.assertEqual(got, [("ret/a", b"alpha", True), ("ret/c", b"gamma-2", True),
                               ("ret/d", b"delta", True)])
        sub.expect_no_message(wait=1.0)
        self.assertTrue(svc.victim.alive())

    # --- 5: bad stores ---

    def test_5_data_dir_that_is_a_regular_file_is_refused(self):
        path = os.path.join(self.tmp, "not-a-store")
        with open(path, "wb") as f:
            f.write(b"just a file\n")
        for extra in ([], ["--store-recover", "yes"]):  # a file is not a damaged store
            r, elapsed = self.broker_once(path, extra)
            self.assert_refused(r, elapsed, path)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), b"just a file\n")
            self.assertEqual(glob.glob(path + ".damaged-*"), [])

    def test_5_garbage_current_is_refused_then_moved_aside_with_store_recover(self):
        svc = self.service()
        svc.start()
        pub = self.client(svc, "keep-pub")
        self.assertEqual(pub.connect()[0], 0)
        pub.publish("keep/x", b"kept", qos=1, retain=True)
        pub.disconnect()
        svc.victim.stop()
        self.assertEqual(svc.victim.proc.returncode, 0, svc.logs())
        garbage = b"\x00\x01garbage, not the name of a manifest\xff"
        with open(os.path.join(svc.data_dir, "CURRENT"), "wb") as f:
            f.write(garbage)
        before = self.snapshot(svc.data_dir)
        self.assertIn("CURRENT", before)

        r, elapsed = self.broker_once(svc.data_dir)
        self.assert_refused(r, elapsed, svc.data_dir, "corrupt")
        self.assertEqual(self.snapshot(svc.data_dir), before, "the refused store was changed")
        self.assertEqual(glob.glob(svc.data_dir + ".damaged-*"), [])

        recovering = Service(self.tmp, self.pki, self.passwd, extra=["--store-recover", "yes"])
        recovering.victim.name = "broker-recover"
        recovering.victim.log_path = os.path.join(self.tmp, "broker-recover.log")
        self.services.append(recovering)
        recovering.start()
        damaged = glob.glob(svc.data_dir + ".damaged-*")
        self.assertEqual(len(damaged), 1, damaged)
        self.assertRegex(damaged[0], DAMAGED)
        self.assertEqual(self.snapshot(damaged[0]), before, "files moved aside not intact")
        with open(recovering.victim.log_path, errors="replace") as f:
            warnings = [line for line in f if "moved aside" in line]
        self.assertEqual(len(warnings), 1, recovering.logs())
        self.assertIn(svc.data_dir, warnings[0])
        self.assertIn(damaged[0], warnings[0])
        self.assertTrue(os.path.isfile(os.path.join(svc.data_dir, "CURRENT")))
        sub = self.client(recovering, "keep-sub")
        self.assertEqual(sub.connect()[0], 0)
        sub.subscribe("keep/#", qos=1)
        sub.expect_no_message(wait=1.0)  # an empty store: the retained message is gone
        sub.disconnect()
        recovering.victim.stop()
        self.assertEqual(recovering.victim.proc.returncode, 0, recovering.logs())

    @staticmethod
    def snapshot(directory):
        """{file name: bytes} of a store directory (LOCK left out: RocksDB's lock file)."""
        out = {}
        for name in sorted(os.listdir(directory)):
            full = os.path.join(directory, name)
            if name != "LOCK" and os.path.isfile(full):
                with open(full, "rb") as f:
                    out[name] = f.read()
        return out

    # --- 6: the other sync policies ---

    def test_6_sync_none_kill9_loses_nothing_acknowledged(self):
        self.durability_load(self.service(sync="none"), "kill9", kills=1, back_after=0)

    def test_6_sync_always_kill9_loses_nothing_acknowledged(self):
        self.durability_load(self.service(sync="always"), "kill9", kills=1, back_after=0)


if __name__ == "__main__":
    sys.stderr.write(f"[test_21_durability: MQTT_TEST_SEED={SEED}]\n")
    unittest.main(verbosity=2)
