"""What every client task of the soak shares: the listener ports, the TLS context, the
credentials, the stop signal, the failure log and a seeded random generator.

Owned by soak.py; used by the client tasks on the soak's single asyncio loop (no locks).
"""

import asyncio
import collections
import random

from mqtt_async import Client, client_context


class World:
    def __init__(self, ports, cafile, user, password, seed):
        self.ports = ports
        self.ctx = client_context(cafile)
        self.user = user
        self.password = password
        self.rng = random.Random(seed)
        self.stop = asyncio.Event()
        self.failures = collections.Counter()  # category -> count
        self.examples = collections.defaultdict(list)  # category -> first messages

    def port(self, i):
        """Listener i, round robin (the cluster has one per frontend)."""
        return self.ports[i % len(self.ports)]

    def fail(self, category, message):
        self.failures[category] += 1
        if len(self.examples[category]) < 5:
            self.examples[category].append(message)

    async def connect(self, client_id, listener=0, password=None, **kw):
        kw.setdefault("timeout", 30.0)
        return await Client.connect(self.port(listener), self.ctx, client_id, self.user,
                                    self.password if password is None else password, **kw)

    async def pause(self, seconds):
        """Sleeps; returns True (at once, or early) when the run is stopping."""
        if self.stop.is_set():
            return True
        try:
            await asyncio.wait_for(self.stop.wait(), max(seconds, 0))
            return True
        except asyncio.TimeoutError:
            return False
