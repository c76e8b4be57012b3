"""Slow and misbehaving clients of the soak, by kind. Each kind is a small pool of workers
that run one client after another until the stop:

  non_reader      subscribes to the busy topic (`soak/busy/#`; every other one at QoS 1 and
                  to the well-behaved QoS 1 topics too) and never reads again: its TCP
                  receive window fills, its QoS 1 deliveries are never acknowledged (its
                  queue fills up); closed abruptly after `lifetime` s
  slow_reader     subscribes to the busy topic at QoS 0 and reads 4 KiB a second; closed
                  abruptly after `lifetime` s
  half_packet     keep-alive 5 s, sends half of a PUBLISH and hangs: the broker must close it
                  1.5 x 5 s after the CONNECT (not before), and publish its will
  no_pingreq      keep-alive 5 s, then silence (no PINGREQ): the same
  no_connect      TLS handshake, then nothing: closed after --connect-timeout (10 s)
  garbage         TLS, then 64 bytes of a reserved packet type, before or after a valid
                  CONNECT: closed at once (within the slack)
  wrong_password  CONNECT with a wrong password, again and again: CONNACK 4 every time

A close that comes too early, too late (more than SLACK_S after it was due) or not at all,
or a CONNACK other than 4, is a failure in the world's log. The hoarder (only for the
planted fault `--fault grow`) opens idle connections and never closes them.
All tasks run on the soak's loop.
"""

import asyncio
import collections
import os
import time

import target
from mqtt_async import ClientError, connect_packet, open_tls, publish_packet

SLACK_S = 20.0  # a loaded 2-core machine: how late a due close may be observed
KEEPALIVE_S = 5
GRACE_S = 0.25  # timer granularity: how much earlier than due a close is tolerated


class Misbehaving:
    def __init__(self, world, wills, pools, lifetime):
        self.world = world
        self.wills = wills
        self.pools = pools  # kind -> workers
        self.lifetime = lifetime
        self.started = collections.Counter()
        self.outcomes = collections.defaultdict(collections.Counter)  # kind -> outcome -> n
        self.close_after = collections.defaultdict(list)  # kind -> seconds until closed
        self.serial = 0

    def _id(self, kind):
        self.serial += 1
        return f"soak-{kind.replace('_', '-')}-{self.serial}"

    def _outcome(self, kind, what):
        self.outcomes[kind][what] += 1

    async def _await_close(self, kind, reader, sent_at, due_s, what):
        """Reads (discarding) until EOF. Records a failure when the close comes earlier than
        due_s after sent_at or later than SLACK_S past due. Returns True when closed."""
        w = self.world
        deadline = sent_at + due_s + SLACK_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                w.fail(f"{kind}: not closed", f"{what}: still open {due_s + SLACK_S:.0f} s on")
                self._outcome(kind, "not closed in time")
                return False
            stop = asyncio.ensure_future(w.stop.wait())
            read = asyncio.ensure_future(reader.read(65536))
            await asyncio.wait({stop, read}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if not read.done():
                read.cancel()
                if w.stop.is_set():
                    self._outcome(kind, "cut short by the end of the run")
                    return False
                continue
            try:
                data = read.result()
            except (OSError, ConnectionError):
                data = b""
            if data:
                continue
            elapsed = time.monotonic() - sent_at
            self.close_after[kind].append(elapsed)
            if elapsed < due_s - GRACE_S:
                w.fail(f"{kind}: closed too early",
                       f"{what}: closed {elapsed:.2f} s after, due at {due_s:.1f} s")
                self._outcome(kind, "closed too early")
            else:
                self._outcome(kind, "closed by the broker")
            return True

    # --- the kinds ---

    async def non_reader(self, n):
        cid = self._id("non_reader")
        c = await self.world.connect(cid, listener=n, clean=True, keepalive=60)
        # Odd ones also take the well-behaved QoS 1 traffic and never acknowledge it.
        filters = [("soak/busy/#", 1), ("soak/q1/#", 1)] if n % 2 else [("soak/busy/#", 0)]
        await c.subscribe(filters, timeout=60)
        c.stop_reading()
        stopped = await self.world.pause(self.lifetime)
        await c.abort()
        self._outcome("non_reader", "held, then closed by us" if not stopped else
                      "held until the end")

    async def slow_reader(self, n):
        cid = self._id("slow_reader")
        c = await self.world.connect(cid, listener=n, clean=True, keepalive=60)
        await c.subscribe([("soak/busy/#", 0)], timeout=60)
        reader = c.take_reader()
        end = time.monotonic() + self.lifetime
        got = 0
        while time.monotonic() < end and not self.world.stop.is_set():
            try:
                data = await asyncio.wait_for(reader.read(4096), 1.0)
            except asyncio.TimeoutError:
                continue
            except (OSError, ConnectionError):
                data = b""
            if not data:
                self._outcome("slow_reader", "closed by the broker")
                await c.abort()
                return
            got += len(data)
            await self.world.pause(1.0)
        await c.abort()
        self._outcome("slow_reader", "read slowly, then closed by us")

    async def _silent(self, kind, n, half_packet):
        cid = self._id(kind)
        sent_at = time.monotonic()
        c = await self.world.connect(cid, listener=n, clean=True, keepalive=KEEPALIVE_S,
                                     will=self.wills.will(cid), ping=False)
        self.wills.expect(cid)  # whatever happens next, it ends without DISCONNECT
        reader = c.take_reader()
        if half_packet:
            whole = publish_packet(f"soak/half/{cid}", b"h" * 100, 0)
            c.writer.write(whole[:len(whole) // 2])
        closed = await self._await_close(kind, reader, sent_at, 1.5 * KEEPALIVE_S, cid)
        if not closed:
            await c.abort()

    async def half_packet(self, n):
        await self._silent("half_packet", n, True)

    async def no_pingreq(self, n):
        await self._silent("no_pingreq", n, False)

    async def no_connect(self, n):
        started = time.monotonic()
        reader, writer = await open_tls(self.world.port(n), self.world.ctx, 30.0)
        try:
            await self._await_close("no_connect", reader, started, target.CONNECT_TIMEOUT_S,
                                    "TLS without CONNECT")
        finally:
            writer.transport.abort()

    async def garbage(self, n):
        reader, writer = await open_tls(self.world.port(n), self.world.ctx, 30.0)
        try:
            junk = bytes([0xF0 if n % 4 < 2 else 0x00]) + os.urandom(63)
            if n % 2:  # after a valid CONNECT
                writer.write(connect_packet(self._id("garbage"), self.world.user,
                                            self.world.password, keepalive=60))
            writer.write(junk)
            await self._await_close("garbage", reader, time.monotonic(), 0.0,
                                    "garbage" + (" after CONNECT" if n % 2 else ""))
        finally:
            writer.transport.abort()

    async def wrong_password(self, n):
        w = self.world
        cid = self._id("wrong_password")
        try:
            c = await w.connect(cid, listener=n, clean=True, keepalive=60,
                                password=w.password + "-wrong")
        except ClientError as e:
            if getattr(e, "rc", None) == 4:
                self._outcome("wrong_password", "CONNACK 4")
                return
            raise
        await c.abort()
        w.fail("wrong_password: accepted", f"{cid}: CONNACK 0 with a wrong password")

    # --- pools ---

    async def _worker(self, kind, index, pause_s):
        w = self.world
        fn = getattr(self, kind)
        n = index
        while not w.stop.is_set():
            self.started[kind] += 1
            try:
                await fn(n)
            except ClientError as e:
                w.fail(f"{kind}: client error", str(e))
                self._outcome(kind, "client error")
            n += self.pools[kind]
            if await w.pause(pause_s + w.rng.uniform(0, pause_s)):
                break

    async def run(self):
        tasks = []
        for kind, workers in self.pools.items():
            pause = 1.0 if kind in ("garbage", "wrong_password") else 0.2
            for i in range(workers):
                tasks.append(asyncio.ensure_future(self._worker(kind, i, pause)))
        await asyncio.gather(*tasks)

    def summary(self):
        out = {}
        for kind in self.pools:
            times = sorted(self.close_after.get(kind, []))
            out[kind] = {"workers": self.pools[kind], "clients": self.started[kind],
                         "outcomes": dict(self.outcomes[kind]),
                         "closed_after_s": (None if not times else
                                            {"min": round(times[0], 2),
                                             "median": round(times[len(times) // 2], 2),
                                             "max": round(times[-1], 2)})}
        return out


class Hoarder:
    """Planted fault `grow`: idle connections opened at `rate` per second, never closed, so
    the broker's memory grows for the whole run (the memory check must catch it)."""

    def __init__(self, world, rate):
        self.world = world
        self.rate = rate
        self.conns = []
        self.failed = 0

    async def run(self):
        n = 0
        start = time.monotonic()
        while not await self.world.pause(start + n / self.rate - time.monotonic()):
            try:
                self.conns.append(await self.world.connect(f"soak-hoard-{n}", listener=n,
                                                           keepalive=0))
            except ClientError:
                self.failed += 1
            n += 1

    async def close(self):
        for c in self.conns:
            await c.abort()
