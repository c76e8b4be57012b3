"""Connection churn and the will ledger of the soak.

Churn: short-lived clients started at a steady rate (at most `max_live` at once), each
`soak-churn-N` with clean session 1 and a QoS 1 will on `soak/will/soak-churn-N`:
connect -> subscribe to its own topic `soak/churn/N` (QoS N % 2) -> publish one QoS 0 and
two QoS 1 messages there -> wait for the PUBACKs and, with a QoS 1 subscription, for both
QoS 1 messages to come back -> hold 0-2 s -> drop: even N with DISCONNECT (no will), odd N
by closing the socket (the will must be published). Each cycle adds and removes a session,
a subscription on a fresh topic and a will: what leaks shows in memory and in the final
gauges.

WillWatcher: one client subscribed to `soak/will/#` at QoS 1 for the whole run. Every client
the soak drops without DISCONNECT (churn, the silent keep-alive and half-packet clients) is
`expect()`ed; clients that sent DISCONNECT are `forbid()`den. At the end every expected will
must have arrived and no forbidden one.
"""

import asyncio
import time

from mqtt_async import ClientError


class WillWatcher:
    def __init__(self, world):
        self.world = world
        self.expected = set()
        self.forbidden = set()
        self.received = set()
        self.duplicates = 0
        self.conn = None

    def will(self, client_id):
        return (f"soak/will/{client_id}", client_id.encode(), 1, False)

    def expect(self, client_id):
        self.expected.add(client_id)

    def forbid(self, client_id):
        self.forbidden.add(client_id)

    def on_message(self, topic, payload, qos, dup):
        cid = payload.decode(errors="replace")
        if cid in self.received:
            self.duplicates += 1
        self.received.add(cid)

    async def start(self):
        self.conn = await self.world.connect("soak-wills", clean=True, keepalive=30,
                                             on_message=self.on_message)
        await self.conn.subscribe([("soak/will/#", 1)], timeout=60)

    def missing(self):
        return self.expected - self.received

    async def finish(self, timeout):
        start = time.monotonic()
        while self.missing() and time.monotonic() - start < timeout:
            await asyncio.sleep(0.5)

    async def close(self):
        if self.conn.closed.is_set() and not self.conn.closed_by_us:
            self.world.fail("will watcher lost", f"soak-wills: {self.conn.close_reason}")
        if not self.conn.closed.is_set():
            await self.conn.disconnect()

    def verify(self):
        w = self.world
        missing = sorted(self.missing())
        unexpected = sorted(self.received & self.forbidden)
        if missing:
            w.fail("will not published", f"{len(missing)} will(s) never arrived, e.g. {missing[:6]}")
        if unexpected:
            w.fail("will published after DISCONNECT",
                   f"{len(unexpected)}, e.g. {unexpected[:6]}")
        return {"expected": len(self.expected), "received": len(self.received),
                "missing": len(missing), "after_disconnect": len(unexpected),
                "duplicates": self.duplicates}


class ChurnLoad:
    def __init__(self, world, wills, rate, max_live):
        self.world = world
        self.wills = wills
        self.rate = rate
        self.max_live = max_live
        self.started = 0
        self.completed = 0
        self.failed = 0
        self.skipped = 0  # ticks with max_live cycles still running
        self.dropped = {"disconnect": 0, "close": 0}
        self.published = {"qos0": 0, "qos1": 0}
        self.echoes = {"qos1_expected": 0, "qos1_received": 0, "qos0_received": 0}
        self.live = set()

    async def cycle(self, n):
        w = self.world
        cid = f"soak-churn-{n}"
        topic = f"soak/churn/{n}"
        sub_qos = n % 2
        got = {"count": 0, "arrived": asyncio.Event()}

        def on_message(t, payload, qos, dup):
            if payload.startswith(b"q1"):
                got["count"] += 1
                if got["count"] >= 2:
                    got["arrived"].set()
            if qos == 0:
                self.echoes["qos0_received"] += 1

        conn = None
        try:
            conn = await w.connect(cid, listener=n, clean=True, keepalive=30,
                                   will=self.wills.will(cid), on_message=on_message)
            await conn.subscribe([(topic, sub_qos)], timeout=60)
            await conn.publish(topic, b"q0", 0, timeout=60)
            a = conn.publish_nowait(topic, b"q1-a", 1)
            b = conn.publish_nowait(topic, b"q1-b", 1)
            await conn.wait_puback(a, timeout=60)
            await conn.wait_puback(b, timeout=60)
            self.published["qos0"] += 1
            self.published["qos1"] += 2
            if sub_qos == 1:
                self.echoes["qos1_expected"] += 2
                try:
                    await asyncio.wait_for(got["arrived"].wait(), 60)
                except asyncio.TimeoutError:
                    w.fail("churn: QoS 1 message lost",
                           f"{cid}: {got['count']} of its 2 QoS 1 messages came back in 60 s")
            self.echoes["qos1_received"] += got["count"] if sub_qos == 1 else 0
            await asyncio.sleep(w.rng.uniform(0, 2))
            if conn.closed.is_set():
                raise ClientError(f"closed by the broker: {conn.close_reason}")
            if n % 2 == 0:
                await conn.disconnect()
                self.wills.forbid(cid)
                self.dropped["disconnect"] += 1
            else:
                await conn.abort()
                self.wills.expect(cid)
                self.dropped["close"] += 1
            self.completed += 1
        except ClientError as e:
            self.failed += 1
            w.fail("churn cycle failed", f"{cid}: {e}")
            if conn is not None:
                await conn.abort()  # state unknown: its will is neither expected nor forbidden

    async def run(self):
        """Starts cycles at `rate` per second until the stop, then waits for the live ones."""
        loop = asyncio.get_running_loop()
        start = time.monotonic()
        tick = 0
        while True:
            due = start + tick / self.rate
            if await self.world.pause(due - time.monotonic()):
                break
            tick += 1
            if len(self.live) >= self.max_live:
                self.skipped += 1
                continue
            t = loop.create_task(self.cycle(self.started))
            self.started += 1
            self.live.add(t)
            t.add_done_callback(self.live.discard)
        if self.live:
            await asyncio.wait(list(self.live), timeout=180)

    def summary(self):
        return {"started": self.started, "completed": self.completed, "failed": self.failed,
                "skipped_ticks": self.skipped, "dropped": dict(self.dropped),
                "published": dict(self.published), "echoes": dict(self.echoes)}
