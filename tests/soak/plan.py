"""How much of everything a soak run starts: the full run (`--duration`, default 600 s) and
the CI smoke (`--smoke`: 60 s, fewer connections). Plain data, read by soak.py.

Sizing: the well-behaved QoS 1 publishers are slow enough that a subscriber matching all of
them, offline for the longest flap plus a slow reconnect (~10 s), needs under half of the
1000 messages a session may queue; the churn rate gives a few thousand connections in a
full run (a few hundred in the smoke); the warm-up covers one lifetime of the long-lived
misbehaving clients, after which the memory should sit on its plateau.
"""

import dataclasses


@dataclasses.dataclass
class Plan:
    duration: float
    warmup: float
    # well-behaved QoS 1 (wellbehaved.py)
    publishers: int
    subscribers: int
    flapping: int
    rate: float  # messages per second per publisher
    payload: int
    online_s: tuple
    offline_s: tuple
    max_queued: int
    # churn (churn.py)
    churn_rate: float
    churn_max_live: int
    # misbehaving (misbehave.py): workers per kind, lifetime of non/slow readers
    pools: dict
    lifetime: float
    # mqtt-bench in the background
    idle: int  # storm: idle connections held for the whole run
    busy_rate: float  # fan-out QoS 0 to the busy topic, messages per second
    busy_payload: int
    pairs: int  # p2p QoS 1 pairs (mqtt-bench's own loss accounting)
    pair_rate: float

    @staticmethod
    def full(duration):
        return Plan(
            duration=duration, warmup=min(max(60.0, 0.1 * duration), 0.3 * duration),
            publishers=6, subscribers=9, flapping=5, rate=8.0, payload=128,
            online_s=(5.0, 15.0), offline_s=(2.0, 5.0), max_queued=1000,
            churn_rate=10.0, churn_max_live=200,
            pools={"non_reader": 8, "slow_reader": 4, "half_packet": 3, "no_pingreq": 3,
                   "no_connect": 3, "garbage": 2, "wrong_password": 2},
            lifetime=40.0,
            idle=1000, busy_rate=100.0, busy_payload=1024, pairs=10, pair_rate=5.0)

    @staticmethod
    def smoke(duration=60.0):
        return Plan(
            duration=duration, warmup=min(max(20.0, 0.1 * duration), 0.3 * duration),
            publishers=4, subscribers=6, flapping=3, rate=8.0, payload=128,
            online_s=(4.0, 10.0), offline_s=(2.0, 4.0), max_queued=1000,
            churn_rate=6.0, churn_max_live=100,
            pools={"non_reader": 4, "slow_reader": 2, "half_packet": 2, "no_pingreq": 2,
                   "no_connect": 2, "garbage": 1, "wrong_password": 1},
            lifetime=15.0,
            idle=200, busy_rate=50.0, busy_payload=1024, pairs=4, pair_rate=5.0)
