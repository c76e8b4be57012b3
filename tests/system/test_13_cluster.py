"""The scale-out cluster: N frontends x M routers as real processes on loopback.

test_10_tiers covers one router, and two routers for single messages, takeover, retained
convergence of sequential updates and refusal while a router is down. This file covers what
the cluster issue asks beyond that:

- 2 frontends x 2 routers: delivery across frontends at QoS 0/1/2 with per-publisher order,
  takeover across frontends firing the will once, persistent sessions queued at QoS 1 and 2
  resumed through the other frontend, retained convergence under concurrent updates, wills of
  every client of a frontend killed with -9, and its clients resuming on the other frontend.
- 3 routers: cross delivery, frontends that disagree about a client's owner (different
  --routers lists) sharing its session, a router added under QoS 1 load, a router stopped
  with SIGTERM under QoS 1 and QoS 2 load and how long its clients are out, recovery after
  kill -9 of a router, and a restarted router copying the retained set.

Client ids are chosen by the rendezvous hash the tiers share (common/cluster/rendezvous.hpp,
mirrored in cluster_harness.owner_of), so each scenario knows which router owns which client.
Where it matters a test checks that knowledge black-box: killing a router must disconnect
exactly the clients it owns.

Load (cluster_harness): LoadPublisher threads publish numbered payloads at a modest rate
(about 200/s in all) through paho clients that reconnect on their own (clean_session=False,
fixed ids); LoadSubscriber records what arrives. At the end each subscriber must hold every
number each publisher sent (and, at QoS 2, each once).

Each process keeps its log in the test's temp dir; a failing test prints the tail of every
log (MQTT_TEST_SHOW_LOGS=1: every test's; MQTT_TEST_KEEP_LOGS=1 keeps the directory).
"""

import threading
import time
import unittest

from cluster_harness import (PEER_TIMEOUT, ClusterTestCase, frontend_routers, load_report,
                             owner_of, pick_id, start_routers, wait_until)
from harness import mosquitto_pub


# ---------------------------------------------------------------------------------------------
# 2 frontends x 2 routers
# ---------------------------------------------------------------------------------------------

class TwoFrontendsTwoRoutersTest(ClusterTestCase):
    ROUTERS = 2

    def test_cross_frontend_delivery_at_qos_0_1_2_keeps_each_publishers_order(self):
        """Subscribers at QoS 0, 1 and 2 on both frontends (owned by both routers), publishers
        at QoS 0, 1 and 2 on both frontends, concurrently: every subscriber gets every message
        once, at min(publish QoS, subscription QoS), each publisher's messages in order."""
        routers = self.cluster.router_ids
        n = 30
        taken = set()
        subs = {}
        for fe in range(2):
            for qos in range(3):
                cid = pick_id(f"sub{fe}{qos}-",
                              lambda c: owner_of(c, routers) == routers[(fe + qos) % 2], taken)
                c = self.connected(fe, cid)
                self.assertEqual(c.subscribe("x/#", qos=qos), [qos])
                subs[(fe, qos)] = c
        cli = self.mosquitto_sub(1, "x/#", count=6 * n, wait_secs=20, qos=2)
        cli.wait_subscribed()
        pubs = {}
        for fe in range(2):
            for qos in range(3):
                cid = pick_id(f"pub{fe}{qos}-",
                              lambda c: owner_of(c, routers) == routers[(fe + qos + 1) % 2], taken)
                pubs[(fe, qos)] = self.connected(fe, cid)
        self.assert_disjoint_owners([c.client_id for c in subs.values()], routers)
        self.assert_disjoint_owners([c.client_id for c in pubs.values()], routers)

        errors = []

        def publish_all(key, client):
            try:
                for i in range(n):
                    client.publish(f"x/{key[0]}{key[1]}", f"{i}".encode(), qos=key[1])
            except AssertionError as e:
                errors.append(f"publisher {key}: {e}")

        threads = [threading.Thread(target=publish_all, args=(k, c)) for k, c in pubs.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
        self.assertEqual(errors, [])

        expected_topics = {f"x/{fe}{q}" for fe in range(2) for q in range(3)}
        for (fe, sub_qos), s in subs.items():
            got = s.get_messages(6 * n, timeout=10)
            s.expect_no_message(wait=0.3)
            by_topic = {}
            for m in got:
                by_topic.setdefault(m.topic, []).append(m)
            self.assertEqual(set(by_topic), expected_topics, f"subscriber fe{fe} qos {sub_qos}")
            for topic, msgs in by_topic.items():
                pub_qos = int(topic[-1])
                self.assertEqual([m.payload.decode() for m in msgs], [f"{i}" for i in range(n)],
                                 f"subscriber fe{fe}/QoS {sub_qos} from {topic}")
                self.assertEqual({m.qos for m in msgs}, {min(pub_qos, sub_qos)},
                                 f"subscriber fe{fe}/QoS {sub_qos} from {topic}")
        by_topic = {}
        for m in cli.finish():
            by_topic.setdefault(m.topic, []).append(m)
        self.assertEqual(set(by_topic), expected_topics, "mosquitto_sub on fe1")
        for topic, msgs in by_topic.items():
            self.assertEqual([m.payload.decode() for m in msgs], [f"{i}" for i in range(n)],
                             f"mosquitto_sub from {topic}")
            self.assertEqual({m.qos for m in msgs}, {int(topic[-1])})

    def test_takeover_across_frontends_closes_the_old_connection_and_fires_its_will_once(self):
        """For a client id of each router: connected on fe0 with a will, then again on fe1.
        The old connection is closed, the will reaches watchers on both frontends exactly
        once, and the new connection works."""
        routers = self.cluster.router_ids
        taken = set()
        watchers = []
        for fe in range(2):
            w = self.connected(fe, pick_id(f"watch{fe}-", lambda c: owner_of(c, routers)
                                           == routers[fe], taken))
            w.subscribe("wills/#", qos=1)
            watchers.append(w)
        news = []
        for rid in routers:
            cid = pick_id(f"same-{rid}-", lambda c, r=rid: owner_of(c, routers) == r, taken)
            old = self.connected(0, cid, will=dict(topic=f"wills/{cid}", payload=b"old", qos=1))
            new = self.connected(1, cid)
            self.assertTrue(old.wait_disconnected(timeout=5), f"{cid}: old connection not closed")
            news.append(new)
        for i, w in enumerate(watchers):
            got = sorted((m.topic, m.payload) for m in w.drain(wait=2.0))
            self.assertEqual(got, sorted((f"wills/{c.client_id}", b"old") for c in news),
                             f"watcher on fe{i}")
        pub = self.connected(0, pick_id("pub-", lambda c: True, taken))
        for new in news:
            new.subscribe(f"after/{new.client_id}", qos=1)
            pub.publish(f"after/{new.client_id}", b"works", qos=1)
            self.assertEqual(new.get_message(timeout=5).payload, b"works")
            self.assertFalse(new.disconnected.is_set())

    def test_persistent_session_resumes_across_frontends_with_queued_qos1_and_qos2(self):
        """A persistent session of each router subscribes at QoS 1 and 2 through fe0 and
        disconnects; messages queue; it resumes through fe1 (session present) and gets them in
        order at the right QoS, then queues again and resumes through fe0."""
        routers = self.cluster.router_ids
        taken = set()
        pub = self.connected(0, pick_id("pub-", lambda c: True, taken))
        devs = []
        for rid in routers:
            cid = pick_id(f"dev-{rid}-", lambda c, r=rid: owner_of(c, routers) == r, taken)
            dev = self.connected(0, cid, clean_session=False)
            self.assertEqual(dev.subscribe([(f"q1/{cid}", 1), (f"q2/{cid}", 2)]), [1, 2])
            dev.disconnect()
            devs.append(cid)
        for round_, fe in ((0, 1), (1, 0)):
            count = 10 if round_ == 0 else 3
            for cid in devs:
                for i in range(count):
                    pub.publish(f"q1/{cid}", f"{round_}-{i}".encode(), qos=1)
                    pub.publish(f"q2/{cid}", f"{round_}-{i}".encode(), qos=2)
            for cid in devs:
                again = self.client(fe, cid, clean_session=False)
                self.assertEqual(again.connect(), (0, 1), f"{cid} resuming on fe{fe}")
                got = again.get_messages(2 * count, timeout=10)
                again.expect_no_message(wait=0.3)
                for qos in (1, 2):
                    msgs = [m for m in got if m.topic == f"q{qos}/{cid}"]
                    self.assertEqual([m.payload.decode() for m in msgs],
                                     [f"{round_}-{i}" for i in range(count)], f"{cid} QoS {qos}")
                    self.assertEqual({m.qos for m in msgs}, {qos})
                again.disconnect()

    def test_retained_converges_under_concurrent_updates_through_both_frontends(self):
        """Four writers (both frontends, both routers) update one retained topic at once. After
        they finish and forwarding settles, new subscribers on every frontend, owned by either
        router, see one and the same value: the last update of one of the writers."""
        routers = self.cluster.router_ids
        taken = set()
        writers = []
        for k in range(4):
            cid = pick_id(f"w{k}-", lambda c: owner_of(c, routers) == routers[k % 2], taken)
            writers.append(self.connected(k % 2, cid))
        updates = 25
        barrier = threading.Barrier(len(writers))
        errors = []

        def write(k, w):
            try:
                barrier.wait(timeout=5)
                for i in range(updates):
                    w.publish("cfg/hot", f"w{k}:{i}".encode(), qos=1, retain=True)
            except Exception as e:  # noqa: BLE001 (report any failure of the thread)
                errors.append(f"writer {k}: {e!r}")

        threads = [threading.Thread(target=write, args=(k, w)) for k, w in enumerate(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        self.assertEqual(errors, [])
        time.sleep(1.0)
        finals = {f"w{k}:{updates - 1}".encode() for k in range(4)}
        values = {}
        for i in range(6):
            fe = i % 2
            cid = pick_id(f"reader{i}-", lambda c: owner_of(c, routers) == routers[(i // 2) % 2],
                          taken)
            r = self.connected(fe, cid)
            r.subscribe("cfg/hot", qos=1)
            got = r.drain(wait=0.5)
            self.assertEqual(len(got), 1, f"{cid} on fe{fe}: {got}")
            self.assertTrue(got[0].retain)
            values[f"{cid}@fe{fe}"] = got[0].payload
        for fe in range(2):
            s = self.mosquitto_sub(fe, "cfg/hot", count=1, wait_secs=5,
                                   extra=("--retained-only",))
            got = s.finish()
            self.assertEqual(len(got), 1, f"mosquitto_sub on fe{fe}")
            values[f"mosquitto_sub@fe{fe}"] = got[0].payload
        self.assertEqual(len(set(values.values())), 1, f"readers disagree: {values}")
        self.assertIn(next(iter(values.values())), finals)

    def test_wills_of_every_client_of_a_killed_frontend_fire_once(self):
        """Ten clients of fe1 (owned by both routers) with wills at QoS 0, 1 and 2, one of them
        retained, and one client that disconnected cleanly: kill -9 fe1. Watchers on fe0 owned
        by each router get each will exactly once within a few seconds, never the cleanly
        disconnected client's; the retained will is there for a new subscriber."""
        routers = self.cluster.router_ids
        taken = set()
        watchers = []
        for rid in routers:
            w = self.connected(0, pick_id(f"watch-{rid}-",
                                          lambda c, r=rid: owner_of(c, routers) == r, taken))
            w.subscribe("wills/#", qos=2)
            watchers.append(w)
        devices = []
        for i in range(10):
            cid = pick_id(f"dev{i}-", lambda c: owner_of(c, routers) == routers[i % 2], taken)
            self.connected(1, cid, will=dict(topic=f"wills/{cid}", payload=f"bye-{cid}".encode(),
                                             qos=i % 3, retain=(i == 0)))
            devices.append((cid, i % 3))
        polite = self.connected(1, pick_id("polite-", lambda c: True, taken),
                                will=dict(topic="wills/polite", payload=b"never", qos=1))
        polite.disconnect()
        # DISCONNECT must reach the router before the kill, or losing it is a lost
        # connection (the will fires, as with any broker): give the frontend time to forward it.
        time.sleep(1.0)
        self.cluster.frontends[1].expect_alive = False
        start = time.monotonic()
        self.cluster.frontends[1].kill9()
        expected = sorted((f"wills/{cid}", f"bye-{cid}".encode(), q) for cid, q in devices)
        for i, w in enumerate(watchers):
            got = w.get_messages(len(devices), timeout=PEER_TIMEOUT + 5)
            if i == 0:
                elapsed = time.monotonic() - start
            self.assertEqual(sorted((m.topic, m.payload, m.qos) for m in got), expected,
                             f"watcher {w.client_id}")
        self.assertLess(elapsed, PEER_TIMEOUT + 3, "wills were late")
        for w in watchers:
            w.expect_no_message(wait=1.5)
        late = self.connected(0, pick_id("late-", lambda c: True, taken))
        late.subscribe("wills/#", qos=1)
        got = late.drain(wait=0.5)
        self.assertEqual([(m.topic, m.retain) for m in got], [(f"wills/{devices[0][0]}", True)])

    def test_clients_of_a_killed_frontend_resume_their_sessions_on_the_other(self):
        """Four persistent clients of fe1 (two per router) subscribed at QoS 1 and 2. fe1 is
        killed with -9; messages are published meanwhile; each client reconnects through fe0
        at once (before the routers noticed the death), finds its session and gets every
        message in order: QoS 2 exactly once, QoS 1 at least once."""
        routers = self.cluster.router_ids
        taken = set()
        pub = self.connected(0, pick_id("pub-", lambda c: True, taken))
        devs = []
        for i in range(4):
            cid = pick_id(f"dev{i}-", lambda c: owner_of(c, routers) == routers[i % 2], taken)
            dev = self.connected(1, cid, clean_session=False)
            dev.subscribe([(f"cmd/{cid}/1", 1), (f"cmd/{cid}/2", 2)])
            devs.append(dev)
        for dev in devs:
            for qos in (1, 2):
                pub.publish(f"cmd/{dev.client_id}/{qos}", b"before", qos=qos)
            got = sorted(m.payload for m in dev.get_messages(2, timeout=5))
            self.assertEqual(got, [b"before", b"before"])
        self.cluster.frontends[1].expect_alive = False
        self.cluster.frontends[1].kill9()
        for dev in devs:
            dev.close()
        for i in range(5):
            for dev in devs:
                for qos in (1, 2):
                    pub.publish(f"cmd/{dev.client_id}/{qos}", f"while-{i}".encode(), qos=qos)
        for dev in devs:
            cid = dev.client_id
            again = self.client(0, cid, clean_session=False)
            self.assertEqual(again.connect(), (0, 1), f"{cid} resuming on fe0")
            got = again.get_messages(10, timeout=10)
            # A "before" whose acknowledgement died with fe1 is re-sent, flagged DUP.
            got += again.drain(wait=0.5)
            for qos in (1, 2):
                payloads = [m.payload.decode() for m in got if m.topic == f"cmd/{cid}/{qos}"
                            and not (m.payload == b"before" and m.dup)]
                self.assertEqual(payloads, [f"while-{i}" for i in range(5)], f"{cid} QoS {qos}")
            again.subscribe(f"again/{cid}", qos=1)
            pub.publish(f"again/{cid}", b"ok", qos=1)
            self.assertEqual(again.get_message(timeout=5).payload, b"ok")


# ---------------------------------------------------------------------------------------------
# 2 frontends x 3 routers
# ---------------------------------------------------------------------------------------------

class ThreeRoutersTest(ClusterTestCase):
    ROUTERS = 3

    def _load_clients(self, qos, owners, per_router=2):
        """Load subscribers and publishers, `per_router` of each owned by every router of
        `owners`, on alternating frontends. Publishers: about 200 messages/s in total."""
        taken = set()
        subs, pubs = [], []
        rate = 200 / (per_router * len(owners))
        for kind in ("sub", "pub"):
            k = 0
            for rid in owners:
                for j in range(per_router):
                    cid = pick_id(f"{kind}-{rid}-{j}-",
                                  lambda c, r=rid: owner_of(c, owners) == r, taken)
                    if kind == "sub":
                        subs.append(self.load_subscriber(k % 2, cid, qos=qos))
                    else:
                        pubs.append(self.load_publisher(k % 2, cid, qos=qos, rate=rate))
                    k += 1
        return subs, pubs

    def test_cross_delivery_over_three_routers(self):
        routers = self.cluster.router_ids
        taken = set()
        subs, pubs = [], []
        for k in range(6):
            rid = routers[k % 3]
            sub_qos = 1 + k % 2
            s = self.connected(k % 2, pick_id(f"s{k}-", lambda c: owner_of(c, routers) == rid,
                                              taken))
            s.subscribe("tri/#", qos=sub_qos)
            subs.append((s, sub_qos))
            pubs.append((self.connected((k + 1) % 2, pick_id(
                f"p{k}-", lambda c: owner_of(c, routers) == rid, taken)), 1 + (k // 3) % 2))
        n = 20
        errors = []

        def publish_all(k, client, qos):
            try:
                for i in range(n):
                    client.publish(f"tri/{k}", f"{i}".encode(), qos=qos)
            except AssertionError as e:
                errors.append(f"publisher {k}: {e}")

        threads = [threading.Thread(target=publish_all, args=(k, c, q))
                   for k, (c, q) in enumerate(pubs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
        self.assertEqual(errors, [])
        for s, sub_qos in subs:
            got = s.get_messages(n * len(pubs), timeout=10)
            s.expect_no_message(wait=0.3)
            for k, (_, pub_qos) in enumerate(pubs):
                msgs = [m for m in got if m.topic == f"tri/{k}"]
                self.assertEqual([m.payload.decode() for m in msgs], [f"{i}" for i in range(n)],
                                 f"{s.client_id} from publisher {k}")
                self.assertEqual({m.qos for m in msgs}, {min(pub_qos, sub_qos)})

    @frontend_routers({0: (0, 1)})
    def test_frontends_that_disagree_about_the_owner_share_sessions(self):
        """fe0 lists r0 and r1 only, fe1 all three: for a client id that r2 wins, fe1 sends it
        to r2 and fe0 to r0 or r1. The router that gets the CONNECT fetches the session from
        its peers: a persistent session made through fe1 resumes through fe0 with what was
        queued, and a connection through fe1 takes over the one through fe0 (closed, its will
        once, session present)."""
        routers = self.cluster.router_ids
        taken = set()
        cid = pick_id("roamer-", lambda c: owner_of(c, routers) == "r2", taken)
        self.assertNotEqual(owner_of(cid, ["r0", "r1"]), "r2")
        watcher = self.connected(1, pick_id("watcher-", lambda c: True, taken))
        watcher.subscribe("wills/#", qos=1)
        pub = self.connected(1, pick_id("pub-", lambda c: True, taken))
        dev = self.connected(1, cid, clean_session=False)
        self.assertEqual(dev.subscribe([(f"q1/{cid}", 1), (f"q2/{cid}", 2)]), [1, 2])
        dev.disconnect()
        for i in range(5):
            pub.publish(f"q1/{cid}", f"{i}".encode(), qos=1)
            pub.publish(f"q2/{cid}", f"{i}".encode(), qos=2)

        on_fe0 = self.client(0, cid, clean_session=False,
                             will=dict(topic=f"wills/{cid}", payload=b"fe0", qos=1))
        self.assertEqual(on_fe0.connect(), (0, 1), "resume through fe0 (another router)")
        got = on_fe0.get_messages(10, timeout=10)
        on_fe0.expect_no_message(wait=0.3)
        for qos in (1, 2):
            msgs = [m for m in got if m.topic == f"q{qos}/{cid}"]
            self.assertEqual([m.payload for m in msgs], [f"{i}".encode() for i in range(5)],
                             f"QoS {qos}")
            self.assertEqual({m.qos for m in msgs}, {qos})

        on_fe1 = self.client(1, cid, clean_session=False)
        self.assertEqual(on_fe1.connect(), (0, 1), "takeover through fe1 (r2)")
        self.assertTrue(on_fe0.wait_disconnected(timeout=5), "the fe0 connection was not closed")
        wills = watcher.drain(wait=1.5)
        self.assertEqual([(m.topic, m.payload) for m in wills], [(f"wills/{cid}", b"fe0")])
        pub.publish(f"q1/{cid}", b"after", qos=1)
        self.assertEqual(on_fe1.get_message(timeout=5).payload, b"after")
        on_fe1.expect_no_message(wait=0.3)
        self.cluster.kill9("r2")  # the scenario is what it claims: fe1 sent it to r2
        self.assertTrue(on_fe1.wait_disconnected(timeout=PEER_TIMEOUT + 3),
                        "the fe1 connection was not on r2")

    @start_routers(0, 1)
    def test_router_added_under_qos1_load_loses_nothing(self):
        """Routers r0 and r1 run; every --routers list names r2 too, which is not started.
        Under QoS 1 load r2 starts; then every load client's connection is cut so that its
        next connect goes to its owner now (r2 for some: their sessions move). Nothing is lost,
        sessions are kept, the retained message set before r2 started is served by r2, and
        killing r2 afterwards disconnects exactly the clients it owns (they did move)."""
        after = ["r0", "r1", "r2"]
        taken = set()
        setter = self.connected(0, pick_id("setter-", lambda c: True, taken))
        setter.publish("cfg/before-add", b"kept", qos=1, retain=True)
        subs, pubs = self._load_clients(1, after)
        moving = [c.client_id for c in subs + pubs if owner_of(c.client_id, after) == "r2"]
        self.assertEqual(len(moving), 4)

        def add_router():
            self.cluster.router("r2").start()
            time.sleep(2 * PEER_TIMEOUT)  # r2 copies the retained set, frontends see it up
            for c in subs + pubs:
                c.drop()

        lines, totals = self.run_load(subs, pubs, add_router, before=1.5, after=2.5)
        detail = "\n".join(lines)
        self.assertEqual(totals["missing"], 0, "messages lost:\n" + detail)
        self.assertEqual([p.client_id for p in pubs if p.unacknowledged()], [],
                         "publishes never acknowledged:\n" + detail)
        self.assertEqual([s.client_id for s in subs if s.sessions_lost], [],
                         "sessions lost:\n" + detail)

        reader_id = pick_id("reader-", lambda c: owner_of(c, after) == "r2", taken)
        reader, _ = self.connect_retrying(1, reader_id)
        reader.subscribe("cfg/before-add", qos=1)
        got = reader.drain(wait=0.5)
        self.assertEqual([(m.payload, m.retain) for m in got], [(b"kept", True)],
                         "retained message on the added router")

        # Who lives on r2 now: exactly the clients it owns.
        for c in subs + pubs:
            c.disconnects.clear()
        self.cluster.kill9("r2")
        wait_until(lambda: reader.disconnected.is_set() and all(
            c.disconnects for c in subs + pubs if c.client_id in moving), PEER_TIMEOUT + 3)
        time.sleep(0.3)
        cut = sorted(c.client_id for c in subs + pubs if c.disconnects)
        self.assertTrue(reader.disconnected.is_set(), "the reader was not served by r2")
        self.assertEqual(cut, sorted(moving), "clients served by r2 after the add")

    def _router_stopped_under_load(self, qos):
        routers = self.cluster.router_ids
        subs, pubs = self._load_clients(qos, routers)
        leaving = "r1"
        outcome = {}

        def stop_router():
            outcome["rc"], outcome["seconds"] = self.cluster.sigterm(
                leaving, timeout=2 * PEER_TIMEOUT + 3)

        lines, totals = self.run_load(subs, pubs, stop_router, before=2.0, after=2.5)
        detail = "\n".join(lines)
        self.assertEqual(outcome["rc"], 0, f"{leaving} exit code after SIGTERM "
                         f"({outcome['seconds']:.1f}s)\n{detail}")
        self.assertEqual(totals["missing"], 0, "messages lost:\n" + detail)
        self.assertEqual(set().union(*(s.qos_seen for s in subs)), {qos})
        if qos == 2:
            self.assertEqual(totals["duplicates"], 0, "QoS 2 duplicates:\n" + detail)
        self.assertEqual([p.client_id for p in pubs if p.unacknowledged()], [],
                         "publishes never acknowledged:\n" + detail)
        self.assertEqual([s.client_id for s in subs if s.sessions_lost], [],
                         "sessions lost:\n" + detail)
        moved = [c.client_id for c in subs + pubs if owner_of(c.client_id, routers) == leaving]
        self.assertEqual(sorted(c.client_id for c in subs + pubs if c.disconnects), sorted(moved),
                         "clients disconnected by the stop: exactly those of the leaving router\n"
                         + detail)

    def test_router_stopped_with_sigterm_under_qos1_load_loses_nothing(self):
        """SIGTERM to r1 under QoS 1 load: it hands its sessions over and exits 0; its clients
        reconnect (clean_session=False) and resume; every subscriber gets every message."""
        self._router_stopped_under_load(1)

    def test_router_stopped_with_sigterm_under_qos2_load_loses_and_duplicates_nothing(self):
        """As above at QoS 2: every message exactly once (in-flight QoS 2 state moves with the
        sessions, in both directions)."""
        self._router_stopped_under_load(2)

    def test_clients_of_a_stopped_router_are_back_before_the_peer_timeout(self):
        """A graceful stop costs its clients a reconnect, not a peer timeout: persistent
        clients of r1 on both frontends, closed by its SIGTERM, reconnect at once (as paho's
        reconnect loop does) and get CONNACK 0 with their session well within
        --peer-timeout."""
        routers = self.cluster.router_ids
        taken = set()
        devs = []
        for k in range(4):
            cid = pick_id(f"dev{k}-", lambda c: owner_of(c, routers) == "r1", taken)
            dev = self.connected(k % 2, cid, clean_session=False)
            dev.subscribe(f"cmd/{cid}", qos=1)
            devs.append((k % 2, dev))
        pub = self.connected(0, pick_id("pub-", lambda c: owner_of(c, routers) != "r1", taken))
        results = {}

        def come_back(fe, dev):
            try:
                if not dev.wait_disconnected(timeout=5):
                    results[dev.client_id] = "not closed by the stop"
                    return
                start = time.monotonic()
                again, present = self.connect_retrying(fe, dev.client_id, clean_session=False)
                results[dev.client_id] = (again, present, time.monotonic() - start)
            except Exception as e:  # noqa: BLE001 (reported below)
                results[dev.client_id] = repr(e)

        threads = [threading.Thread(target=come_back, args=d) for d in devs]
        for t in threads:
            t.start()
        rc, _ = self.cluster.sigterm("r1", timeout=2 * PEER_TIMEOUT + 3)
        for t in threads:
            t.join(timeout=15)
        self.assertEqual(rc, 0, "r1 exit code after SIGTERM")
        took = {cid: (r if isinstance(r, str) else (r[1], round(r[2], 2)))
                for cid, r in results.items()}
        for _, dev in devs:
            r = results.get(dev.client_id)
            self.assertIsInstance(r, tuple, f"{dev.client_id}: {r}")
            again, present, seconds = r
            self.assertEqual(present, 1, f"{dev.client_id}: session; all: {took}")
            self.assertLess(seconds, PEER_TIMEOUT / 2,
                            f"{dev.client_id}: (session present, seconds) of all: {took}")
            pub.publish(f"cmd/{dev.client_id}", b"hi", qos=1)
            self.assertEqual(again.get_message(timeout=5).payload, b"hi")

    def test_clients_of_a_router_killed_with_sigkill_recover(self):
        """kill -9 r1 under QoS 1 load: the clients it owned are disconnected within the peer
        timeout (and only they), reconnect and are served by the other routers within a few
        seconds (their sessions may be lost: they subscribe again); then every publisher's
        new messages reach every subscriber and every publish is acknowledged."""
        routers = self.cluster.router_ids
        subs, pubs = self._load_clients(1, routers)
        victim = "r1"
        owned = sorted(c.client_id for c in subs + pubs if owner_of(c.client_id, routers) == victim)
        killed = {}

        def kill():
            killed["at"] = time.monotonic()
            self.cluster.kill9(victim)

        self.run_load(subs, pubs, kill, before=1.5, after=0.0, drain=0.0)
        everyone = subs + pubs
        self.assertTrue(wait_until(lambda: all(c.disconnects for c in everyone
                                               if c.client_id in owned), PEER_TIMEOUT + 3),
                        "clients of the killed router not disconnected:\n"
                        + "\n".join(load_report(subs, pubs)[0]))
        cut_at = max(c.disconnects[0] for c in everyone if c.client_id in owned)
        self.assertLess(cut_at - killed["at"], PEER_TIMEOUT + 2)
        self.assertTrue(wait_until(lambda: all(s.ready() for s in subs)
                                   and all(p.ready() for p in pubs), 5),
                        "clients not back within 5 s:\n" + "\n".join(load_report(subs, pubs)[0]))
        back_at = time.monotonic()
        self.assertEqual(sorted(c.client_id for c in everyone if c.disconnects), owned,
                         "only the killed router's clients are disconnected")
        # Nothing stuck: what was published before is acknowledged, new messages arrive.
        self.assertTrue(wait_until(lambda: all(p.unacknowledged() == 0 for p in pubs), 5),
                        "publishes stuck:\n" + "\n".join(load_report(subs, pubs)[0]))
        marks = {p.client_id: p.sent for p in pubs}
        for _ in range(10):
            for p in pubs:
                p.publish_one()

        def all_new_arrived():
            for s in subs:
                with s.lock:
                    for p in pubs:
                        if not set(s.received.get(p.client_id, ())) >= set(
                                range(marks[p.client_id], p.sent)):
                            return False
            return True

        self.assertTrue(wait_until(all_new_arrived, 5),
                        "messages after the recovery not delivered:\n"
                        + "\n".join(load_report(subs, pubs)[0]))
        self.assertLess(time.monotonic() - back_at, 5)
        self.assertEqual([s.client_id for s in subs if s.sessions_lost and s.client_id
                          not in owned], [], "sessions of surviving routers lost")

    def test_restarted_router_copies_the_retained_set_before_serving(self):
        """Retained messages set through each router; r1 is killed with -9 and restarted. A
        client it owns (it is served by r1 again: killing r1 once more disconnects it) sees
        every retained message, on both frontends."""
        routers = self.cluster.router_ids
        taken = set()
        for rid in routers:
            w = self.connected(0, pick_id(f"w-{rid}-", lambda c, r=rid: owner_of(c, routers) == r,
                                          taken))
            w.publish(f"keep/{rid}", f"from-{rid}".encode(), qos=1, retain=True)
        mosquitto_pub(self.pki, self.fe(1).port, "keep/cli", "from-cli", qos=1, retain=True)
        time.sleep(0.3)
        expected = sorted([(f"keep/{r}", f"from-{r}".encode()) for r in routers]
                          + [("keep/cli", b"from-cli")])
        self.cluster.kill9("r1")
        time.sleep(PEER_TIMEOUT + 0.5)  # the others deem it dead
        self.cluster.router("r1").expect_alive = True
        self.cluster.router("r1").start()
        time.sleep(2 * PEER_TIMEOUT)  # readiness: it copies the retained set, frontends see it
        readers = []
        for fe in range(2):
            cid = pick_id(f"reader{fe}-", lambda c: owner_of(c, routers) == "r1", taken)
            reader, _ = self.connect_retrying(fe, cid)
            reader.subscribe("keep/#", qos=1)
            got = reader.drain(wait=0.7)
            self.assertEqual(sorted((m.topic, m.payload) for m in got), expected,
                             f"{cid} on fe{fe}")
            readers.append(reader)
        self.cluster.kill9("r1")
        for r in readers:
            self.assertTrue(r.wait_disconnected(PEER_TIMEOUT + 3),
                            f"{r.client_id} was not served by the restarted r1")


if __name__ == "__main__":
    unittest.main(verbosity=2)
