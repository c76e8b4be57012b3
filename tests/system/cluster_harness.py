"""Helpers for the cluster system tests (test_13_cluster): N frontends x M routers as real
processes on loopback, with each process's log in the test's temp dir.

- owner_of / pick_id: which router owns a client id, mirroring cluster::rendezvous_owner
  (common/cluster/rendezvous.hpp), so a scenario can pick client ids per router.
- Cluster: the processes (mqtt-router --routers <all>, mqtt-frontend --routers <all or some>).
- LoadSubscriber / LoadPublisher: paho clients with their own reconnect loop
  (clean_session=False, fixed ids) that record numbered payloads; load_report counts what is
  missing, duplicated or out of order per subscriber and publisher. Publishers carry
  keep_pubrel_across_failed_reconnects, a fix for a paho 1.6.1 bug that re-sends a QoS 2
  PUBLISH after its PUBREL when a reconnect attempt fails; every load client carries
  survive_tls_eof (paho's thread otherwise dies on a TLS EOF from a killed broker).
- ClusterTestCase: one cluster per test (PKI per class), waits until every frontend serves
  every live router, closes clients, kills the processes and prints the tail of every log when
  a test failed (MQTT_TEST_SHOW_LOGS=1: always; MQTT_TEST_KEEP_LOGS=1 keeps the directory).
"""

import os
import shutil
import signal
import ssl
import sys
import tempfile
import threading
import time
import unittest

import paho.mqtt.client as mqtt

from harness import (BIN_DIR, HOST, IS_MOSQUITTO, USERS, MosquittoSub, MqttClient, Pki,
                     cut_connection, free_port, write_password_file)
from test_10_tiers import Process, wait_port

HEARTBEAT_MS = 200
PEER_TIMEOUT_MS = 1500
PEER_TIMEOUT = PEER_TIMEOUT_MS / 1000
LOG_TAIL_LINES = 60

# ---------------------------------------------------------------------------------------------
# Which router owns a client id: a mirror of cluster::rendezvous_owner
# ---------------------------------------------------------------------------------------------

_MASK = (1 << 64) - 1


def _weight(key, router_id):
    h = 1469598103934665603
    for c in key.encode() + b"\x1f" + router_id.encode():
        h ^= c
        h = (h * 1099511628211) & _MASK
    h ^= h >> 30
    h = (h * 0xBF58476D1CE4E5B9) & _MASK
    h ^= h >> 27
    h = (h * 0x94D049BB133111EB) & _MASK
    return h ^ (h >> 31)


def owner_of(client_id, router_ids):
    """The router (by id) that owns client_id among router_ids: highest weight, ties to the
    smaller id."""
    return max(sorted(router_ids), key=lambda r: _weight(client_id, r))  # max: first of ties


def pick_id(prefix, predicate, taken=None):
    """The first id prefix0, prefix1, ... that satisfies predicate and is not taken."""
    for n in range(10000):
        cid = f"{prefix}{n}"
        if predicate(cid) and (taken is None or cid not in taken):
            if taken is not None:
                taken.add(cid)
            return cid
    raise AssertionError(f"no client id for {prefix}")


def wait_until(predicate, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def log_tail(path, lines=LOG_TAIL_LINES):
    try:
        with open(path, "rb") as f:
            text = f.read().decode(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:])


# ---------------------------------------------------------------------------------------------
# The cluster's processes
# ---------------------------------------------------------------------------------------------

class Cluster:
    """M routers (r0, r1, ...) that all list every router endpoint, and N frontends
    (fe0, fe1, ...) that list them too, unless frontend_routers[i] names the router indexes
    frontend i lists. Nothing runs until start()."""

    def __init__(self, workdir, pki, password_file, routers, frontends, frontend_routers=None):
        self.workdir = workdir
        liveness = ["--heartbeat-interval", str(HEARTBEAT_MS), "--peer-timeout",
                    str(PEER_TIMEOUT_MS), "--log-level",
                    os.environ.get("MQTT_TEST_LOG_LEVEL", "debug")]
        self.router_ids = [f"r{i}" for i in range(routers)]
        self.endpoints = [f"tcp://{HOST}:{free_port()}" for _ in range(routers)]
        everyone = ",".join(self.endpoints)
        self.routers = []
        for rid, endpoint in zip(self.router_ids, self.endpoints):
            p = Process(f"router-{rid}", [
                os.path.join(BIN_DIR, "mqtt-router"), "--bind", endpoint, "--router-id", rid,
                "--routers", everyone] + liveness, workdir)
            p.router_id = rid
            self.routers.append(p)
        self.frontends = []
        for i in range(frontends):
            port = free_port()
            listed = (frontend_routers or {}).get(i, range(routers))
            p = Process(f"frontend-fe{i}", [
                os.path.join(BIN_DIR, "mqtt-frontend"), "--routers",
                ",".join(self.endpoints[k] for k in listed), "--listen",
                f"tls://{HOST}:{port}", "--tls-cert", pki.cert, "--tls-key", pki.key,
                "--password-file", password_file, "--frontend-id", f"fe{i}"] + liveness, workdir)
            p.port = port
            self.frontends.append(p)

    @property
    def processes(self):
        return self.routers + self.frontends

    def router(self, router_id):
        return self.routers[self.router_ids.index(router_id)]

    def start(self, routers=None):
        for i in (range(len(self.routers)) if routers is None else routers):
            self.routers[i].start()
        for fe in self.frontends:
            fe.start()
        for fe in self.frontends:
            wait_port(fe.port)

    def sigterm(self, router_id, timeout):
        """SIGTERM (hand the sessions over, then exit). Returns (exit code or None, seconds)."""
        p = self.router(router_id)
        p.expect_alive = False
        start = time.monotonic()
        p.proc.send_signal(signal.SIGTERM)
        try:
            rc = p.proc.wait(timeout=timeout)
        except Exception:
            rc = None
        return rc, time.monotonic() - start

    def kill9(self, router_id):
        p = self.router(router_id)
        p.expect_alive = False
        p.kill9()

    def logs(self):
        return "\n".join(f"----- {p.name} (last {LOG_TAIL_LINES} lines of {p.log_path}) -----\n"
                         f"{log_tail(p.log_path)}" for p in self.processes)


# ---------------------------------------------------------------------------------------------
# Load clients: paho with its own reconnect loop
# ---------------------------------------------------------------------------------------------

def keep_pubrel_across_failed_reconnects(client):
    """Works around a paho 1.6.1 bug that duplicates QoS 2 messages. paho resets its outgoing
    messages at the start of every reconnect attempt, before it knows whether the attempt
    connects: a QoS 2 message whose PUBREL was sent becomes `resend_pubrel` at the first
    attempt, and at a second one (the server still down: "Connection failed, retrying") falls
    into the branch of never-sent messages, so paho sends the PUBLISH again with DUP 0 instead
    of the PUBREL. The server has released that packet id, so it is a new message (MQTT 3.1.1
    section 4.3.3: the sender MUST NOT re-send the PUBLISH once it has sent PUBREL). Seen with seed 378589090:
    "Received PUBREC (Mid: 78)", "Sending PUBREL (Mid: 78)", kill -9, "Connection failed,
    retrying", CONNACK (1, 0), "Sending PUBLISH (d0, q2, r0, m78)". Keep them at resend_pubrel."""
    reset = client._messages_reconnect_reset_out

    def reset_keeping_pubrel():
        with client._out_message_mutex:
            pubrel = [m for m in client._out_messages.values()
                      if m.qos == 2 and m.state == mqtt.mqtt_ms_resend_pubrel]
            reset()
            for m in pubrel:
                m.state = mqtt.mqtt_ms_resend_pubrel

    client._messages_reconnect_reset_out = reset_keeping_pubrel


def survive_tls_eof(client):
    """Works around a paho 1.6.1 bug that ends its loop thread for good: a TLS connection
    the server dropped (a broker killed with -9) can fail a send with ssl.SSLEOFError, which is
    no ConnectionError, so paho does not catch it and its thread dies with the client (seen in
    test_21: a subscriber that never reconnected). Turn such errors into ConnectionResetError,
    which paho handles as a lost connection and reconnects."""
    def guard(method):
        def call(*args, **kw):
            try:
                return method(*args, **kw)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                raise
            except ssl.SSLError as e:
                raise ConnectionResetError(str(e)) from e
        return call

    client._sock_send = guard(client._sock_send)
    client._sock_recv = guard(client._sock_recv)


def _paho(pki, client_id):
    c = mqtt.Client(client_id=client_id, clean_session=False, protocol=mqtt.MQTTv311)
    c.tls_set_context(pki.client_context())
    c.username_pw_set("alice", USERS["alice"])
    c.reconnect_delay_set(min_delay=0.1, max_delay=0.5)
    survive_tls_eof(c)
    return c


class LoadSubscriber:
    """A persistent session (clean_session=False) that reconnects on its own and records the
    numbered payloads it gets: received[publisher id] = [seq, ...] in arrival order. On a
    CONNACK without a session it subscribes again and counts the session as lost."""

    def __init__(self, pki, port, client_id, topic, qos):
        self.client_id = client_id
        self.topic = topic
        self.qos = qos
        self.lock = threading.Lock()
        self.received = {}
        self.qos_seen = set()
        self.connacks = []       # (time, rc, session present)
        self.disconnects = []    # times
        self.sessions_lost = 0   # CONNACK 0 without a session after the first one
        self.subscribed = threading.Event()
        self._connected = False
        self.c = _paho(pki, client_id)
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect
        self.c.on_subscribe = self._on_subscribe
        self.c.on_message = self._on_message
        self.c.connect_async(HOST, port, keepalive=10)
        self.c.loop_start()

    def _on_connect(self, client, userdata, flags, rc):
        present = bool(flags.get("session present", 0))
        with self.lock:
            first = not self.connacks
            self.connacks.append((time.monotonic(), rc, present))
            if rc != 0:
                return
            self._connected = True
            if not present:
                if not first:
                    self.sessions_lost += 1
                self.subscribed.clear()
        if not present:
            client.subscribe(self.topic, self.qos)

    def _on_subscribe(self, client, userdata, mid, granted):
        self.subscribed.set()

    def _on_disconnect(self, client, userdata, rc):
        with self.lock:
            if self._connected:
                self.disconnects.append(time.monotonic())
            self._connected = False

    def _on_message(self, client, userdata, m):
        publisher, seq = m.payload.decode().rsplit(":", 1)
        with self.lock:
            self.received.setdefault(publisher, []).append(int(seq))
            self.qos_seen.add(m.qos)

    def ready(self):
        with self.lock:
            return self._connected and self.subscribed.is_set()

    def count(self):
        with self.lock:
            return sum(len(v) for v in self.received.values())

    def has_all(self, publishers):
        with self.lock:
            return all(set(self.received.get(p.client_id, ())) >= set(range(p.sent))
                       for p in publishers)

    def drop(self):
        """Cut the TCP connection (no DISCONNECT): paho reconnects."""
        cut_connection(self.c.socket())

    def close(self):
        try:
            self.c.disconnect()
        except Exception:
            pass
        self.c.loop_stop()


class LoadPublisher:
    """Publishes "<client id>:<seq>" to load/<client id> at `rate` per second from its own
    thread, through a persistent paho client that reconnects on its own. `sent` counts the
    messages handed to paho; paho keeps QoS 1/2 messages until acknowledged and re-sends them
    after a reconnect."""

    def __init__(self, pki, port, client_id, qos, rate):
        self.client_id = client_id
        self.qos = qos
        self.interval = 1.0 / rate
        self.sent = 0
        self.mids = []  # paho's packet id of each message sent, in order
        self.acked = set()  # mids whose PUBACK / PUBCOMP arrived
        self.connacks = []
        self.disconnects = []
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        self.c = _paho(pki, client_id)
        keep_pubrel_across_failed_reconnects(self.c)
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect
        self.c.on_publish = self._on_publish
        self.c.connect_async(HOST, port, keepalive=10)
        self.c.loop_start()

    def _on_publish(self, client, userdata, mid):
        self.acked.add(mid)

    def _on_connect(self, client, userdata, flags, rc):
        self.connacks.append((time.monotonic(), rc, bool(flags.get("session present", 0))))
        if rc == 0:
            self._connected.set()

    def _on_disconnect(self, client, userdata, rc):
        if self._connected.is_set():
            self.disconnects.append(time.monotonic())
        self._connected.clear()

    def ready(self):
        return self._connected.is_set()

    def publish_one(self):
        # A message published while disconnected (rc MQTT_ERR_NO_CONN) is kept by paho and
        # sent after the reconnect.
        self.mids.append(self.c.publish(f"load/{self.client_id}",
                                        f"{self.client_id}:{self.sent}", self.qos).mid)
        self.sent += 1

    def _run(self):
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.publish_one()
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def unacknowledged(self):
        acked = set(self.acked)
        return sum(1 for m in self.mids if m not in acked)

    def drop(self):
        cut_connection(self.c.socket())

    def close(self):
        self.stop()
        try:
            self.c.disconnect()
        except Exception:
            pass
        self.c.loop_stop()


def outage(client):
    """The longest time a load client spent between losing its connection and its next
    CONNACK 0 (until now if it is still out)."""
    longest = 0.0
    for lost in list(client.disconnects):
        back = [t for t, rc, _ in list(client.connacks) if rc == 0 and t > lost]
        longest = max(longest, (min(back) if back else time.monotonic()) - lost)
    return longest


def load_report(subscribers, publishers):
    """Per subscriber and publisher: sent, received, missing and duplicated numbers, and
    whether the numbers arrived in order. Returns (lines, totals)."""
    lines, missing_total, dup_total, disorder_total = [], 0, 0, 0
    for s in subscribers:
        with s.lock:
            received = {k: list(v) for k, v in s.received.items()}
        for p in publishers:
            got = received.get(p.client_id, [])
            missing = sorted(set(range(p.sent)) - set(got))
            dups = len(got) - len(set(got))
            firsts, seen = [], set()
            for n in got:
                if n not in seen:
                    seen.add(n)
                    firsts.append(n)
            disorder = sum(1 for a, b in zip(firsts, firsts[1:]) if b < a)
            missing_total += len(missing)
            dup_total += dups
            disorder_total += disorder
            if missing or dups or disorder:
                lines.append(f"  {s.client_id} <- {p.client_id}: sent {p.sent}, received "
                             f"{len(got)}, missing {len(missing)} {missing[:10]}, duplicates "
                             f"{dups}, out of order {disorder}")
    for c in list(subscribers) + list(publishers):
        lines.append(f"  {c.client_id}: connacks {[(rc, int(sp)) for _, rc, sp in c.connacks]}, "
                     f"disconnects {len(c.disconnects)}, longest outage {outage(c):.2f}s"
                     + (f", sessions lost {c.sessions_lost}" if hasattr(c, "sessions_lost") else "")
                     + (f", unacknowledged {c.unacknowledged()}" if hasattr(c, "unacknowledged")
                        else ""))
    return lines, dict(missing=missing_total, duplicates=dup_total, disorder=disorder_total)


# ---------------------------------------------------------------------------------------------
# Base test case
# ---------------------------------------------------------------------------------------------

def start_routers(*indexes):
    """Decorator: start only these routers in setUp (the others are started by the test)."""
    def mark(fn):
        fn.start_routers = indexes
        return fn
    return mark


def frontend_routers(lists):
    """Decorator: {frontend index: router indexes it lists in --routers} (default: all)."""
    def mark(fn):
        fn.frontend_routers = lists
        return fn
    return mark


@unittest.skipIf(IS_MOSQUITTO, "the cluster is ours only")
class ClusterTestCase(unittest.TestCase):
    """One cluster per test: ROUTERS routers and FRONTENDS frontends, all started (or those
    of @start_routers) and serving before the test runs."""
    ROUTERS = 2
    FRONTENDS = 2

    @classmethod
    def setUpClass(cls):
        cls.class_tmp = tempfile.mkdtemp(prefix="mqtt-cluster-pki-")
        cls.pki = Pki(cls.class_tmp)
        cls.passwd = os.path.join(cls.class_tmp, "passwd")
        write_password_file(cls.passwd, USERS)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.class_tmp, ignore_errors=True)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mqtt-cluster-")
        self.clients = []
        self.load_clients = []
        # Exceptions in client threads (paho's network threads): recorded, checked by
        # run_load() and at the end, then passed on to the hook that was there. Not
        # ssl.SSLEOFError: paho 1.6.1 lets it end its thread when a send meets a connection
        # the broker closed (a takeover, a killed process; see survive_tls_eof), which is
        # paho's bug and no sign of ours.
        self.thread_errors = []
        previous_hook = threading.excepthook

        def record(args):
            if not issubclass(args.exc_type, ssl.SSLEOFError):
                self.thread_errors.append(f"{args.thread.name if args.thread else '?'}: "
                                          f"{args.exc_type.__name__}: {args.exc_value}")
            previous_hook(args)

        threading.excepthook = record
        self.addCleanup(setattr, threading, "excepthook", previous_hook)
        result = getattr(getattr(self, "_outcome", None), "result", None)
        bad_before = self._bad_count(result)
        self.addCleanup(self._cleanup, result, bad_before)
        method = getattr(self, self._testMethodName)
        self.cluster = Cluster(self.tmp, self.pki, self.passwd, self.ROUTERS, self.FRONTENDS,
                               getattr(method, "frontend_routers", None))
        started = getattr(method, "start_routers", None)
        self.cluster.start(started)
        self.wait_ready([self.cluster.router_ids[i] for i in
                         (started if started is not None else range(self.ROUTERS))])

    @staticmethod
    def _bad_count(result):
        if result is None:
            return 0
        return len(getattr(result, "failures", [])) + len(getattr(result, "errors", []))

    def _cleanup(self, result, bad_before):
        for c in self.load_clients:
            try:
                c.close()
            except Exception:
                pass
        for c in self.clients:
            try:
                c.close()
            except Exception:
                pass
        if getattr(self, "cluster", None) is None:  # setUp failed before it existed
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        died = [p.name for p in self.cluster.processes
                if getattr(p, "expect_alive", True) and p.proc is not None and not p.alive()]
        for p in self.cluster.processes:
            p.kill9()  # teardown speed: a graceful router stop may wait for handovers
        failed = self._bad_count(result) > bad_before
        if failed or died or os.environ.get("MQTT_TEST_SHOW_LOGS"):
            sys.stderr.write(f"\n===== logs of {self.id()} (died: {died or 'none'}) =====\n"
                             f"{self.cluster.logs()}\n===== end of logs =====\n")
        if os.environ.get("MQTT_TEST_KEEP_LOGS") and (failed or died):
            sys.stderr.write(f"logs kept in {self.tmp}\n")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if died and not failed:
            raise AssertionError(f"process(es) died during the test: {died}")
        if self.thread_errors and not failed:
            raise AssertionError(f"client thread(s) raised: {self.thread_errors}")

    # --- clients ---

    def fe(self, i):
        return self.cluster.frontends[i]

    def client(self, fe, client_id, **kw):
        c = MqttClient(self.pki, self.fe(fe).port, client_id, **kw)
        self.clients.append(c)
        return c

    def connected(self, fe, client_id, **kw):
        c = self.client(fe, client_id, **kw)
        rc, _ = c.connect()
        self.assertEqual(rc, 0, f"CONNACK for {client_id} on fe{fe}")
        return c

    def connect_retrying(self, fe, client_id, timeout=10.0, **kw):
        """A connected client, retrying while the cluster refuses (CONNACK 3) or the frontend
        closes the connection. Returns (client, session present)."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            c = self.client(fe, client_id, **kw)
            try:
                rc, present = c.connect(timeout=3)
                if rc == 0:
                    return c, present
                last = f"CONNACK {rc}"
            except (AssertionError, OSError) as e:
                last = str(e)
            c.close()
            if time.monotonic() > deadline:
                self.fail(f"{client_id} could not connect through fe{fe} within {timeout}s "
                          f"(last: {last})")
            time.sleep(0.1)

    def wait_ready(self, live, timeout=15.0):
        """Every frontend serves a client id of every live router, and has had time to hear
        from every router: a frontend places a client on the routers it has heard from so
        far, so a client connecting in its first heartbeats may land on a router that does not
        own it (it moves on its next connect). Tests that check who owns what need the
        settled placement."""
        for fe in range(len(self.cluster.frontends)):
            for rid in live:
                cid = pick_id(f"probe-fe{fe}-{rid}-", lambda c, r=rid: owner_of(c, live) == r)
                c, _ = self.connect_retrying(fe, cid, timeout=timeout)
                c.disconnect()
        time.sleep(3 * HEARTBEAT_MS / 1000)

    def mosquitto_sub(self, fe, topics, count, wait_secs, **kw):
        s = MosquittoSub(self.pki, self.fe(fe).port, topics, count, wait_secs, **kw)
        self.clients.append(s)
        return s

    def load_subscriber(self, fe, client_id, topic="load/#", qos=1):
        s = LoadSubscriber(self.pki, self.fe(fe).port, client_id, topic, qos)
        self.load_clients.append(s)
        return s

    def load_publisher(self, fe, client_id, qos=1, rate=50):
        p = LoadPublisher(self.pki, self.fe(fe).port, client_id, qos, rate)
        self.load_clients.append(p)
        return p

    # --- assertions ---

    def assert_disjoint_owners(self, ids, routers):
        """Sanity of the chosen ids: they cover every router of `routers`."""
        self.assertEqual({owner_of(c, routers) for c in ids}, set(routers))

    def run_load(self, subscribers, publishers, action, before=2.0, after=3.0, drain=10.0):
        """Wait until every load client is connected and subscribed, publish for `before`
        seconds, call action(), keep publishing for `after` seconds, stop, then wait up to
        `drain` seconds for every publish to be acknowledged and every subscriber to hold
        every number. Returns (report lines, totals)."""
        self.assertTrue(wait_until(lambda: all(s.ready() for s in subscribers)
                                   and all(p.ready() for p in publishers), 10),
                        "load clients not connected:\n" + "\n".join(
                            load_report(subscribers, publishers)[0]))
        for p in publishers:
            p.start()
        time.sleep(before)
        action()
        time.sleep(after)
        for p in publishers:
            p.stop()
        wait_until(lambda: all(p.unacknowledged() == 0 for p in publishers)
                   and all(s.has_all(publishers) for s in subscribers), drain, step=0.1)
        time.sleep(0.5)  # late duplicates
        # A client whose paho thread raised stops receiving: say so, not just "lost".
        self.assertEqual(self.thread_errors, [], "a client thread raised")
        return load_report(subscribers, publishers)
