"""Soak test of mqtt-broker or the local cluster (driven by tests/soak/soak.sh; run that).

For a bounded time, on 127.0.0.1 with TLS and a password file: well-behaved persistent QoS 1
publishers and subscribers (some of them flapping), a steady churn of short-lived clients,
slow and misbehaving clients, and mqtt-bench in the background (idle connections, a busy
fan-out topic, QoS 1 pairs with their own loss accounting). Memory of every process sampled
each second. At the end: nothing acknowledged lost, wills right, the broker alive and
serving, its gauges back to what the persistent sessions hold, its memory bounded
(memory.py says how). Prints a summary, optionally writes it as Markdown (--report).
Exit code: 0 pass, 1 a check failed, 2 bad usage or setup, 130 interrupted.
"""

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import target  # noqa: E402  (puts bench/ and tests/system/ on sys.path)
import procs  # noqa: E402
import churn  # noqa: E402
import memory  # noqa: E402
import misbehave  # noqa: E402
import summary  # noqa: E402
import wellbehaved  # noqa: E402
from mqtt_async import ClientError  # noqa: E402
from plan import Plan  # noqa: E402
from world import World  # noqa: E402

FAULTS = ("queue-limit", "kill", "grow")


def parse_args(argv):
    p = argparse.ArgumentParser(prog="tests/soak/soak.sh", description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, help="seconds of load (default 600; --smoke 60)")
    p.add_argument("--smoke", action="store_true", help="about 60 s, fewer connections (CI)")
    p.add_argument("--target", choices=("broker", "cluster"), default="broker")
    p.add_argument("--report", help="also write the summary as Markdown to this file")
    p.add_argument("--seed", type=int, help="seed of the random choices (default: time)")
    p.add_argument("--log-level", default="info", help="of the processes under test (info)")
    p.add_argument("--keep", action="store_true", help="keep the work dir (logs) after a pass")
    p.add_argument("--fault", choices=FAULTS,
                   help="plant a fault to see the checks catch it: queue-limit (offline "
                   "queues of 5 messages), kill (SIGKILL the broker/router half-way), grow "
                   "(idle connections piling up all run)")
    a = p.parse_args(argv)
    if a.duration is not None and a.duration < 20:
        p.error("--duration must be at least 20 s")
    return a


class Run:
    """Everything one soak run started and measured."""

    def __init__(self, args, plan, setup, tgt):
        self.args = args
        self.plan = plan
        self.setup = setup
        self.target = tgt
        self.world = World(tgt.ports, setup.pki.ca, target.USER, target.PASSWORD, args.seed)
        self.sampler = memory.Sampler(tgt.names, tgt.pids(), time.monotonic())
        self.wills = churn.WillWatcher(self.world)
        self.qos1 = wellbehaved.QoS1Load(self.world, plan)
        self.churn = churn.ChurnLoad(self.world, self.wills, plan.churn_rate, plan.churn_max_live)
        self.bad = misbehave.Misbehaving(self.world, self.wills, plan.pools, plan.lifetime)
        self.hoarder = misbehave.Hoarder(self.world, 20.0) if args.fault == "grow" else None
        self.bench = []
        self.times = {}
        self.stats = None
        self.results = {}

    def fail(self, category, message):
        self.world.fail(category, message)

    def t(self):
        return time.monotonic() - self.sampler.t0

    # --- mqtt-bench ---

    def start_bench(self):
        p, d = self.plan, max(5.0, self.plan.duration - 3.0)
        ports = self.target.ports
        common = ["--warmup", "1", "--duration", f"{d:g}", "--drain", "5"]
        self.bench = [
            target.BenchRun("idle", self.setup, ports[-1], [
                "--scenario", "storm", "--connections", p.idle, "--connect-rate", 100,
                "--duration", f"{d:g}"]),
            target.BenchRun("busy", self.setup, ports[0], [
                "--scenario", "fanout", "--publishers", 1, "--subscribers", 2, "--qos", 0,
                "--rate", p.busy_rate, "--payload", p.busy_payload,
                "--topic-prefix", "soak/busy/"] + common),
            target.BenchRun("pairs", self.setup, ports[-1], [
                "--scenario", "p2p", "--publishers", p.pairs, "--qos", 1,
                "--rate", p.pair_rate, "--topic-prefix", "soak/pairs/"] + common),
        ]

    async def finish_bench(self, timeout):
        deadline = time.monotonic() + timeout
        while any(b.running() for b in self.bench) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        out = {}
        for b in self.bench:
            if b.running():
                self.fail("mqtt-bench did not end", b.name)
                b.stop()
            rc, doc = b.result()
            out[b.name] = summary.bench_figures(rc, doc)
            if rc != 0 or doc is None:
                self.fail(f"mqtt-bench {b.name} failed",
                          f"exit {rc}; {summary.bench_errors(doc)}; log {b.err}")
                continue
            m = doc["messages"]
            if b.name == "pairs" and (m["lost"] or m["duplicated"]):
                self.fail("mqtt-bench pairs: QoS 1 loss or duplicates",
                          f"lost {m['lost']}, duplicated {m['duplicated']}")
            if b.name == "idle" and doc["connections"].get("held") != self.plan.idle:
                self.fail("mqtt-bench idle connections not held",
                          f"held {doc['connections'].get('held')} of {self.plan.idle}")
        self.results["bench"] = out

    # --- the run ---

    async def watch(self, end):
        """Until `end` (monotonic): every second, is every process of the target alive?
        Plants the kill fault half-way."""
        killed = False
        half = time.monotonic() + (end - time.monotonic()) / 2
        while time.monotonic() < end:
            if self.args.fault == "kill" and not killed and time.monotonic() >= half:
                victim = self.target.procs[0]
                os.kill(victim.pid, signal.SIGKILL)
                killed = True
                print(f"soak: planted fault: SIGKILL {self.target.names[0]} (pid {victim.pid})",
                      flush=True)
            dead = self.target.died()
            if dead:
                self.fail("target died", ", ".join(dead))
                return
            await asyncio.sleep(1.0)

    async def probe(self):
        """A fresh client can still subscribe, publish at QoS 1 and get its message."""
        got = asyncio.Event()
        try:
            c = await self.world.connect("soak-probe", listener=1, clean=True,
                                         on_message=lambda *m: got.set())
            await c.subscribe([("soak/probe", 1)], timeout=30)
            await c.publish("soak/probe", b"still here", 1, timeout=30)
            await asyncio.wait_for(got.wait(), 30)
            await c.disconnect()
            return True
        except (ClientError, asyncio.TimeoutError) as e:
            self.fail("broker not serving at the end", f"probe: {type(e).__name__} {e}")
            return False

    async def settle_stats(self, timeout):
        """After every client left: the gauges must come back to the persistent sessions."""
        p = self.plan
        want = {("connections.current", target.Stats.FRONT): 0,
                ("sessions.online", target.Stats.BACK): 0,
                ("sessions.offline", target.Stats.BACK): p.publishers + p.subscribers,
                ("subscriptions", target.Stats.BACK): p.subscribers,
                ("messages.queued", target.Stats.BACK): 0,
                ("messages.inflight", target.Stats.BACK): 0}
        deadline = time.monotonic() + timeout
        while True:
            stats, err = await asyncio.get_running_loop().run_in_executor(
                None, target.read_stats, self.setup.bin_dir, self.target.stats)
            if stats is None:
                self.fail("stats unreadable", err)
                return
            self.stats = stats
            wrong = {name: (stats.gauge(name, kinds), v) for (name, kinds), v in want.items()
                     if stats.gauge(name, kinds) != v}
            if not wrong:
                break
            if time.monotonic() > deadline:
                for name, (got, v) in wrong.items():
                    self.fail("gauges not back at rest",
                              f"{name} = {got}, expected {v} {timeout:.0f} s after the last client")
                break
            await asyncio.sleep(1.0)
        checks = (("connections.refused.bad_credentials", "wrong_password", "CONNACK 4"),
                  ("connections.refused.connect_timeout", "no_connect", "closed by the broker"))
        for counter, kind, outcome in checks:
            seen = self.bad.outcomes[kind][outcome]
            have = stats.counter(counter, target.Stats.FRONT)
            if have is None or have < seen:
                self.fail("stats disagree with the clients",
                          f"{counter} = {have}, but {seen} {kind} clients saw '{outcome}'")

    async def main(self):
        loop = asyncio.get_running_loop()
        main_task = asyncio.current_task()
        loop.add_signal_handler(signal.SIGTERM, main_task.cancel)
        sampling = loop.create_task(self.sampler.run())
        tasks = []
        try:
            await self.wills.start()
            await self.qos1.start()
            self.times["load_start"] = self.t()
            self.start_bench()
            tasks = [loop.create_task(self.churn.run()), loop.create_task(self.bad.run())]
            if self.hoarder:
                tasks.append(loop.create_task(self.hoarder.run()))
            await self.watch(time.monotonic() + self.plan.duration)
            self.times["load_end"] = self.t()
            self.world.stop.set()
            done, pending = await asyncio.wait(tasks, timeout=240)
            for t in pending:
                t.cancel()
                self.fail("a client task did not end", repr(t))
            for t in done:
                if t.exception() is not None:
                    self.fail("client task crashed", repr(t.exception()))
            if not self.target.died():
                self.times["qos1_drain_s"] = await self.qos1.finish(timeout=120)
                await self.wills.finish(timeout=30)
            await self.finish_bench(timeout=120)
            alive = not self.target.died()
            self.results["probe"] = alive and await self.probe()
            if self.hoarder:
                await self.hoarder.close()
            await self.qos1.close()
            await self.wills.close()
            if alive:
                await self.settle_stats(timeout=30)
            dead = self.target.died()
            if dead and not self.world.failures["target died"]:
                self.fail("target died", ", ".join(dead))
            self.times["end"] = self.t()
        except asyncio.TimeoutError:
            self.fail("well-behaved clients did not finish", "timeout")
        except ClientError as e:
            self.fail("well-behaved clients failed", str(e))
        finally:
            sampling.cancel()
            for t in tasks:
                t.cancel()
            self.times.setdefault("load_end", self.t())
            self.times.setdefault("end", self.t())
        self.results["qos1"] = self.qos1.verify()
        self.results["wills"] = self.wills.verify()
        self.results["churn"] = self.churn.summary()
        self.results["misbehaving"] = self.bad.summary()


def judge_memory(run):
    start = run.times.get("load_start", 0.0) + run.plan.warmup
    end = run.times.get("load_end", run.t())
    verdicts = memory.judge(run.sampler, start, end)
    for v in verdicts:
        for f in v["failures"]:
            run.fail("memory not bounded", f)
    run.results["memory"] = {"window": (start, end), "processes": verdicts}


def interrupted(signum, frame):
    raise KeyboardInterrupt


def main(argv):
    a = parse_args(argv)
    plan = Plan.smoke(a.duration or 60.0) if a.smoke else Plan.full(a.duration or 600.0)
    if a.fault == "queue-limit":
        plan.max_queued = 5
    if a.seed is None:
        a.seed = int(time.time())
    bin_dir = os.environ.get("MQTT_BIN_DIR") or os.path.join(target.ROOT, "build", "bin")
    procs.term_with_parent()
    signal.signal(signal.SIGTERM, interrupted)
    work = tempfile.mkdtemp(prefix="mqtt-soak-")
    started = time.monotonic()
    run = None
    rc = 2
    try:
        setup = target.Setup(bin_dir, work)
        tgt = target.make_target(a.target, setup)
        tgt.start(setup, plan.max_queued, a.log_level)
        print(f"soak: {tgt.label} on ports {tgt.ports}, {plan.duration:g} s of load, "
              f"seed {a.seed}{', fault ' + a.fault if a.fault else ''}; work dir {work}",
              flush=True)
        run = Run(a, plan, setup, tgt)
        try:
            asyncio.run(run.main())
        except asyncio.CancelledError:
            raise KeyboardInterrupt from None
        judge_memory(run)
        run.results["stop_codes"] = {n: procs.stop(p, timeout=15.0)
                                     for n, p in zip(tgt.names, tgt.procs)}
        rc = 1 if run.world.failures else 0
    except KeyboardInterrupt:
        print("soak: interrupted", file=sys.stderr)
        rc = 130
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        print(f"soak: setup failed: {e}", file=sys.stderr)
        rc = 2
    finally:
        procs.stop_all()
    if run is not None and rc in (0, 1):
        text = summary.text(run, time.monotonic() - started, rc)
        print(text)
        if rc:
            print(target.log_tail(run.target))
        if a.report:
            with open(a.report, "w") as f:
                f.write(summary.markdown(run, time.monotonic() - started, rc))
            print(f"soak: report written to {a.report}")
    if rc == 0 and not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"soak: logs kept in {work}")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
