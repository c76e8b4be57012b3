"""The benchmark plan: which runs the suite makes, in order, with which parameters.

Settings: the sizes (full run or --smoke), from the command line. plan() turns them into an
ordered list of Scenario objects; the saturation runs come before the fixed-rate runs and
the curve, whose rates are fractions of a saturation measured earlier in the same
invocation. select() applies --only (names or prefixes: `p2p`, `storm`, `curve-qos1`, ...)
and adds what a selected scenario depends on. Pure data; no I/O.
"""

import dataclasses


@dataclasses.dataclass
class Settings:
    rounds: int = 3
    curve_rounds: int = 1
    duration: float = 10.0
    curve_duration: float = 5.0
    warmup: float = 1.0
    drain: float = 2.0
    pairs: int = 500            # p2p: publishers = subscribers = pairs (2 * pairs clients)
    fanout_subscribers: int = 1000
    fanin_publishers: int = 1000
    fanout_rate: float = 5.0    # fanout-qos0-rate: msg/s of the publisher (x subscribers)
    fanin_rate: float = 2.0     # fanin-qos0-rate: msg/s of each publisher
    inflight: int = 10          # closed-loop window per publisher
    payload: int = 64
    latency_pairs: int = 10
    latency_rate: float = 10.0  # msg/s per latency publisher
    storm: tuple = (10000, 50000)
    storm_rounds: int = 1       # memory per connection barely varies; connecting takes long
    storm_hold: float = 3.0
    storm_connect_rate: float = 200.0  # TLS handshakes/s the 2-core machine sustains
    connect_rate: float = 500.0
    connect_timeout: float = 30.0
    retained: int = 100000
    queued: int = 20000
    max_queued: int = 1000      # broker limits, the same on every target (both defaults)
    max_inflight: int = 20
    rate_fraction: float = 0.5  # p2p-qosN-rate: this fraction of Mosquitto's saturation
    curve_points: tuple = (0.1, 0.25, 0.5, 1.0, 1.25)
    idle_timeout: float = 10.0  # retained / queue-drain: give up after this long without data

    @staticmethod
    def smoke():
        return Settings(rounds=1, curve_rounds=1, duration=0.5, curve_duration=0.5, warmup=0.2,
                        drain=0.5, pairs=5, fanout_subscribers=10, fanin_publishers=10,
                        fanout_rate=100.0, fanin_rate=10.0,
                        latency_pairs=2, storm=(200, 400), storm_hold=2.0,
                        storm_connect_rate=1000.0, retained=1000,
                        queued=200, curve_points=(1.0,), idle_timeout=5.0)


@dataclasses.dataclass
class Scenario:
    name: str
    kind: str                 # bench | storm | retained | drain
    title: str
    group: str                # table it belongs to
    rounds: int
    scenario: str = ""        # mqtt-bench --scenario
    qos: int = 0
    publishers: int = 0
    subscribers: int = 0
    closed_loop: bool = False
    rate: float = 0.0         # msg/s per publisher (open loop), unless rate_of is set
    rate_of: str = ""         # name of the saturation scenario the rate derives from
    rate_fraction: float = 0.0
    rate_base: str = ""       # "mosquitto": of Mosquitto's saturation; "max": of the fastest
    splittable: bool = False  # independent units: spread over the cluster's frontends
    duration: float = 0.0
    connections: int = 0      # storm
    count: int = 0            # retained topics / queued messages
    max_queued: int = 0
    depends: tuple = ()


def plan(s, storm_cap):
    """Every scenario, in run order. storm_cap: most connections one process may hold."""
    out = []

    def bench(name, title, group, **kw):
        kw.setdefault("rounds", s.rounds)
        kw.setdefault("duration", s.duration)
        kw.setdefault("max_queued", s.max_queued)
        out.append(Scenario(name=name, kind="bench", title=title, group=group, **kw))

    for q in (0, 1):
        bench(f"p2p-qos{q}-sat", f"p2p QoS {q}, {s.pairs} pairs, closed loop (saturation)",
              "saturation", scenario="p2p", qos=q, publishers=s.pairs, subscribers=s.pairs,
              closed_loop=True, splittable=True)
    for q in (0, 1):
        bench(f"p2p-qos{q}-rate",
              f"p2p QoS {q}, {s.pairs} pairs, open loop at {s.rate_fraction:.0%} of "
              f"Mosquitto's saturation", "fixed-rate", scenario="p2p", qos=q,
              publishers=s.pairs, subscribers=s.pairs, rate_of=f"p2p-qos{q}-sat",
              rate_fraction=s.rate_fraction, rate_base="mosquitto", splittable=True,
              depends=(f"p2p-qos{q}-sat",))
    bench("fanout-qos0", f"fan-out QoS 0, 1 -> {s.fanout_subscribers}, closed loop",
          "saturation", scenario="fanout", qos=0, publishers=1,
          subscribers=s.fanout_subscribers, closed_loop=True)
    bench("fanin-qos0", f"fan-in QoS 0, {s.fanin_publishers} -> 1 (fanin/+), closed loop",
          "saturation", scenario="fanin", qos=0, publishers=s.fanin_publishers, subscribers=1,
          closed_loop=True)
    bench("fanout-qos0-rate",
          f"fan-out QoS 0, 1 -> {s.fanout_subscribers} at {s.fanout_rate:g} msg/s "
          f"({s.fanout_rate * s.fanout_subscribers:,.0f} deliveries/s)", "fixed-rate",
          scenario="fanout", qos=0, publishers=1, subscribers=s.fanout_subscribers,
          rate=s.fanout_rate)
    bench("fanin-qos0-rate",
          f"fan-in QoS 0, {s.fanin_publishers} -> 1 at {s.fanin_rate:g} msg/s each "
          f"({s.fanin_rate * s.fanin_publishers:,.0f} msg/s)", "fixed-rate", scenario="fanin",
          qos=0, publishers=s.fanin_publishers, subscribers=1, rate=s.fanin_rate)
    for q in (0, 1):
        bench(f"latency-qos{q}",
              f"latency probe QoS {q}, {s.latency_pairs} pairs at {s.latency_rate:g} msg/s each",
              "latency", scenario="p2p", qos=q, publishers=s.latency_pairs,
              subscribers=s.latency_pairs, rate=s.latency_rate, splittable=True)
    for n, label in zip(s.storm, ("storm-10k", "storm-50k")):
        conns = min(n, storm_cap)
        capped = f" (asked {n:,}, capped: see notes)" if conns < n else ""
        out.append(Scenario(name=label, kind="storm", group="storm", rounds=s.storm_rounds,
                            title=f"{conns:,} idle connections{capped}", connections=conns,
                            duration=s.storm_hold, splittable=True, max_queued=s.max_queued))
    out.append(Scenario(name="retained", kind="retained", group="retained", rounds=s.rounds,
                        title=f"{s.retained:,} retained topics, then one '#' subscription",
                        count=s.retained, max_queued=s.retained + 1000))
    out.append(Scenario(name="queue-drain", kind="drain", group="drain", rounds=s.rounds,
                        title=f"QoS 1 offline queue of {s.queued:,} messages, drained on "
                              f"reconnect", count=s.queued, max_queued=s.queued + 1000))
    for q in (0, 1):
        for f in s.curve_points:
            bench(f"curve-qos{q}@{f:g}", f"p2p QoS {q} at {f:.0%} of the fastest saturation",
                  f"curve-qos{q}", scenario="p2p", qos=q, publishers=s.pairs,
                  subscribers=s.pairs, rate_of=f"p2p-qos{q}-sat", rate_fraction=f,
                  rate_base="max", splittable=True, rounds=s.curve_rounds,
                  duration=s.curve_duration, depends=(f"p2p-qos{q}-sat",))
    return out


def matches(name, selector):
    return name == selector or name.startswith(selector + "-") or name.startswith(selector + "@")


def select(scenarios, only):
    """The scenarios named by `only` (list of names or prefixes) and their dependencies, in
    plan order. Raises ValueError for a selector that matches nothing."""
    if not only:
        return scenarios
    wanted = set()
    for sel in only:
        hit = [sc.name for sc in scenarios if matches(sc.name, sel)]
        if not hit:
            raise ValueError(f"--only: no scenario matches '{sel}' "
                             f"(scenarios: {', '.join(sc.name for sc in scenarios)})")
        wanted.update(hit)
    for sc in scenarios:
        if sc.name in wanted:
            wanted.update(sc.depends)
    return [sc for sc in scenarios if sc.name in wanted]
