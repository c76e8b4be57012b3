"""The well-behaved QoS 1 traffic of the soak, and its no-loss ledger.

Publishers (persistent sessions, clean session 0, `soak-pub-I`) publish numbered QoS 1
messages ("soak:I:SEQ:" + padding) to `soak/q1/gG/pI` (G = I % 2) at a fixed rate, at most
10 unacknowledged each. Subscribers (persistent, `soak-sub-J`) subscribe once, at QoS 1, to
`soak/q1/#`, `soak/q1/g0/+` or `soak/q1/g1/+` (J % 3), all before the first publish, so that
every message a publisher got a PUBACK for is due to every subscriber whose filter matches.
Some subscribers flap: online for a while, then gone (a DISCONNECT, an abrupt close, or an
abrupt close after not acknowledging the last deliveries for half a second), offline for a
few seconds, back with clean session 0 (the session must be present; its queue delivers what
was published meanwhile), alternately through each listener.

At the end every subscriber must hold every acknowledged message of its publishers: nothing
lost. A message seen twice must have come back with DUP set (a re-delivery); a duplicate
without DUP, a message at another QoS, one nobody published or one the filter does not
match is a failure, and so is a first delivery (DUP 0) older than one already received from
the same publisher (each topic is ordered, MQTT-4.6.0-6). Everything runs as tasks on the soak's loop; the ledger is plain data.
"""

import asyncio
import time

from mqtt_async import ClientError

WINDOW = 10
FILTERS = ("soak/q1/#", "soak/q1/g0/+", "soak/q1/g1/+")


def matches(filter_index, publisher):
    return filter_index == 0 or (publisher % 2) == (filter_index - 1)


class Publisher:
    def __init__(self, i):
        self.i = i
        self.client_id = f"soak-pub-{i}"
        self.topic = f"soak/q1/g{i % 2}/p{i}"
        self.sent = 0
        self.acked = set()
        self.conn = None
        self.reconnects = 0

    def payload(self, seq, size):
        head = f"soak:{self.i}:{seq}:".encode()
        return head + b"x" * max(0, size - len(head))

    async def connect(self, world):
        deadline = time.monotonic() + 120
        while True:
            try:
                self.conn = await world.connect(self.client_id, listener=self.i, clean=False,
                                                keepalive=30)
                return
            except ClientError as e:
                world.fail("well-behaved connect failed", f"{self.client_id}: {e}")
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(1.0)

    async def _ack(self, world, seq, pending, window):
        try:
            await self.conn.wait_puback(pending, timeout=120)
            self.acked.add(seq)
        except ClientError:
            pass  # the connection ended: this one stays unacknowledged (not due to anyone)
        finally:
            window.release()

    async def run(self, world, rate, size):
        window = asyncio.Semaphore(WINDOW)
        acks = set()
        start = time.monotonic()
        seq = 0
        while not world.stop.is_set():
            due = start + seq / rate
            if await world.pause(due - time.monotonic()):
                break
            await window.acquire()
            if self.conn.closed.is_set():
                window.release()
                world.fail("well-behaved connection lost",
                           f"{self.client_id}: {self.conn.close_reason}")
                self.reconnects += 1
                await self.connect(world)
                continue
            try:
                pending = self.conn.publish_nowait(self.topic, self.payload(seq, size), 1)
            except ClientError:
                window.release()
                continue
            self.sent = seq + 1
            t = asyncio.ensure_future(self._ack(world, seq, pending, window))
            acks.add(t)
            t.add_done_callback(acks.discard)
            seq += 1
        if acks:  # the last PUBACKs (bounded by _ack's own timeout)
            await asyncio.wait(list(acks))


class Subscriber:
    def __init__(self, j, flapping, publishers):
        self.j = j
        self.client_id = f"soak-sub-{j}"
        self.filter_index = j % len(FILTERS)
        self.flapping = flapping
        self.sources = [p.i for p in publishers if matches(self.filter_index, p.i)]
        self.received = {i: set() for i in self.sources}
        self.highest = {i: -1 for i in self.sources}
        self.deliveries = 0
        self.dup_flagged = 0
        self.dup_unflagged = 0
        self.reordered = 0
        self.flaps = {"disconnect": 0, "abort": 0, "abort-unacked": 0}
        self.conn = None
        self.world = None

    def on_message(self, topic, payload, qos, dup):
        w = self.world
        self.deliveries += 1
        try:
            tag, i, seq, _ = payload.split(b":", 3)
            i, seq = int(i), int(seq)
            if tag != b"soak":
                raise ValueError
        except ValueError:
            w.fail("well-behaved: foreign message", f"{self.client_id} on {topic}: {payload[:40]!r}")
            return
        if qos != 1:
            w.fail("well-behaved: wrong QoS", f"{self.client_id}: {i}:{seq} at QoS {qos}")
        if i not in self.received:
            w.fail("well-behaved: misrouted", f"{self.client_id} ({FILTERS[self.filter_index]}) "
                   f"got {topic}")
            return
        seen = self.received[i]
        if seq in seen:
            if dup:
                self.dup_flagged += 1
            else:
                self.dup_unflagged += 1
                w.fail("well-behaved: duplicate without DUP",
                       f"{self.client_id}: pub {i} seq {seq} again with DUP 0")
            return
        if not dup and seq < self.highest[i]:
            # MQTT-4.6.0-6: each topic is an ordered topic; only re-sends (DUP) may come late.
            self.reordered += 1
            w.fail("well-behaved: out of order",
                   f"{self.client_id}: pub {i} seq {seq} (DUP 0) after seq {self.highest[i]}")
        seen.add(seq)
        self.highest[i] = max(self.highest[i], seq)

    async def connect(self, world, listener, first=False):
        """Connects (retrying for up to 2 minutes); subscribes on the first connect."""
        self.world = world
        deadline = time.monotonic() + 120
        while True:
            try:
                self.conn = await world.connect(self.client_id, listener=listener, clean=False,
                                                keepalive=30, on_message=self.on_message)
                break
            except ClientError as e:
                world.fail("well-behaved connect failed", f"{self.client_id}: {e}")
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(1.0)
        if first:
            await self.conn.subscribe([(FILTERS[self.filter_index], 1)], timeout=60)
        elif not self.conn.session_present:
            world.fail("well-behaved: session lost",
                       f"{self.client_id}: CONNACK session present 0 on reconnect")

    async def run(self, world, online_s, offline_s):
        """Until the stop: stays connected (reconnects after an unexpected close, which is a
        failure), flapping if asked. Returns online."""
        rng = world.rng
        flap_at = time.monotonic() + rng.uniform(*online_s) if self.flapping else None
        listener = self.j
        k = 0
        while not world.stop.is_set():
            closed = asyncio.ensure_future(self.conn.closed.wait())
            stop = asyncio.ensure_future(world.stop.wait())
            timeout = None if flap_at is None else max(0.0, flap_at - time.monotonic())
            await asyncio.wait({closed, stop}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            closed.cancel()
            stop.cancel()
            if self.conn.closed.is_set() and not self.conn.closed_by_us:
                world.fail("well-behaved connection lost",
                           f"{self.client_id}: {self.conn.close_reason}")
                listener += 1
                await self.connect(world, listener)
                continue
            if world.stop.is_set() or flap_at is None or time.monotonic() < flap_at:
                continue
            mode = ("disconnect", "abort", "abort-unacked")[k % 3]
            k += 1
            self.flaps[mode] += 1
            if mode == "abort-unacked":
                self.conn.acking = False
                await asyncio.sleep(0.5)
            if mode == "disconnect":
                await self.conn.disconnect()
            else:
                await self.conn.abort()
            if not world.stop.is_set():
                await world.pause(rng.uniform(*offline_s))
            listener += 1
            await self.connect(world, listener)
            flap_at = time.monotonic() + rng.uniform(*online_s)
        if self.conn.closed.is_set():
            listener += 1
            await self.connect(world, listener)

    def missing(self, publishers):
        """{publisher: sorted missing seqs} of acknowledged messages not received."""
        out = {}
        for p in publishers:
            if p.i in self.received:
                gone = p.acked - self.received[p.i]
                if gone:
                    out[p.i] = sorted(gone)
        return out


class QoS1Load:
    def __init__(self, world, plan):
        self.world = world
        self.plan = plan
        self.publishers = [Publisher(i) for i in range(plan.publishers)]
        self.subscribers = [Subscriber(j, j < plan.flapping, self.publishers)
                            for j in range(plan.subscribers)]
        self.tasks = []

    async def start(self):
        """Every subscription is in place before the first publish."""
        await asyncio.gather(*(s.connect(self.world, s.j, first=True) for s in self.subscribers))
        await asyncio.gather(*(p.connect(self.world) for p in self.publishers))
        loop = asyncio.get_running_loop()
        for p in self.publishers:
            self.tasks.append(loop.create_task(p.run(self.world, self.plan.rate, self.plan.payload)))
        for s in self.subscribers:
            self.tasks.append(loop.create_task(
                s.run(self.world, self.plan.online_s, self.plan.offline_s)))

    async def finish(self, timeout, idle=30.0):
        """After the stop: publishers done, subscribers online; waits until nothing is missing,
        or nothing arrived for `idle` seconds, or timeout. Returns the seconds it took."""
        start = time.monotonic()
        await asyncio.wait_for(asyncio.gather(*self.tasks), timeout)
        last, last_change = -1, time.monotonic()
        while time.monotonic() - start < timeout and time.monotonic() - last_change < idle:
            if not any(s.missing(self.publishers) for s in self.subscribers):
                break
            total = sum(s.deliveries for s in self.subscribers)
            if total != last:
                last, last_change = total, time.monotonic()
            await asyncio.sleep(0.5)
        return time.monotonic() - start

    async def close(self):
        for c in [s.conn for s in self.subscribers] + [p.conn for p in self.publishers]:
            if c is not None and not c.closed.is_set():
                await c.disconnect()

    def verify(self):
        """Summary figures; records the failures (loss, phantom messages) in the world."""
        w = self.world
        sent = sum(p.sent for p in self.publishers)
        acked = sum(len(p.acked) for p in self.publishers)
        expected = lost = unique = 0
        for s in self.subscribers:
            for p in self.publishers:
                if p.i not in s.received:
                    continue
                got = s.received[p.i]
                expected += len(p.acked)
                unique += len(got)
                phantom = [q for q in got if q >= p.sent]
                if phantom:
                    w.fail("well-behaved: phantom message",
                           f"{s.client_id}: pub {p.i} seq {phantom[:5]} never published")
            for i, gone in s.missing(self.publishers).items():
                lost += len(gone)
                w.fail("well-behaved: QoS 1 message lost",
                       f"{s.client_id} ({'flapping' if s.flapping else 'steady'}) lacks "
                       f"{len(gone)} acknowledged message(s) of soak-pub-{i}, e.g. seq {gone[:8]}")
        flaps = {}
        for s in self.subscribers:
            for k, v in s.flaps.items():
                flaps[k] = flaps.get(k, 0) + v
        return {
            "publishers": len(self.publishers), "subscribers": len(self.subscribers),
            "flapping": sum(s.flapping for s in self.subscribers),
            "published": sent, "acknowledged": acked, "unacknowledged": sent - acked,
            "expected": expected, "received_unique": unique,
            "deliveries": sum(s.deliveries for s in self.subscribers),
            "lost": lost,
            "dup_redeliveries": sum(s.dup_flagged for s in self.subscribers),
            "dup_without_flag": sum(s.dup_unflagged for s in self.subscribers),
            "reordered": sum(s.reordered for s in self.subscribers),
            "flaps": flaps,
            "publisher_reconnects": sum(p.reconnects for p in self.publishers),
        }
