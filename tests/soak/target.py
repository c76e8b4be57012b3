"""The system under soak and the tools around it.

- make_target(): `broker` (one mqtt-broker) or `cluster` (1 mqtt-router + 2 mqtt-frontend,
  ZeroMQ over loopback TCP), on 127.0.0.1 with free ports, TLS + password file, each process
  with its own --stats endpoint. Built on bench/targets.py (Env, Target: readiness probe,
  died(), stop()) and bench/procs.py (children that die with the soak, stop_all()); the
  certificates and password file come from tests/system/harness.py (Pki,
  write_password_file).
- read_stats(): one `mqtt-stat --json` snapshot of every process, with by-kind lookups.
- start_bench(): an mqtt-bench run in the background (its JSON on stdout goes to a file).

Blocking calls of a few seconds at most: the target is started and stopped from the soak's
main thread before and after its event loop runs; read_stats also runs in the loop's
executor.
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.append(os.path.join(ROOT, "bench"))
sys.path.append(os.path.join(ROOT, "tests", "system"))

import harness  # noqa: E402  (Pki, write_password_file)
import procs  # noqa: E402
import targets  # noqa: E402

HOST = targets.HOST
USER, PASSWORD = "soak", "soakpw"
CONNECT_TIMEOUT_S = 10  # the production default, stated so the no-CONNECT check knows it


class Setup:
    """Work dir, PKI and password file shared by the target and the clients."""

    def __init__(self, bin_dir, work):
        self.bin_dir = bin_dir
        self.work = work
        self.pki = harness.Pki(work)
        self.passwd = os.path.join(work, "passwd")
        harness.write_password_file(self.passwd, {USER: PASSWORD})
        self.env = targets.Env(bin_dir, work, "tls", USER, PASSWORD)
        # bench's Env names its own files; point it at the harness' PKI.
        self.env.ca, self.env.cert, self.env.key = self.pki.ca, self.pki.cert, self.pki.key
        self.env.passwd_ours = self.passwd
        self.logdir = os.path.join(work, "logs")
        os.makedirs(self.logdir, exist_ok=True)


def _common(max_queued, log_level):
    return ["--log-level", log_level, "--max-queued-messages", str(max_queued),
            "--max-inflight-messages", "20"]


class SoakBroker(targets.Target):
    name = "broker"
    label = "mqtt-broker"

    def start(self, setup, max_queued, log_level):
        self.ports = [targets.free_port()]
        self.stats = [f"tcp://{HOST}:{targets.free_port()}"]
        cmd = ([self.env.bin("mqtt-broker")] + self._listen_urls(self.ports) +
               ["--tls-cert", self.env.cert, "--tls-key", self.env.key,
                "--password-file", self.env.passwd_ours, "--connect-timeout",
                str(CONNECT_TIMEOUT_S), "--stats", self.stats[0]] + _common(max_queued, log_level))
        self.procs = [procs.spawn(cmd, os.path.join(setup.logdir, "broker.log"))]
        self.names = ["broker"]
        self.wait_ready(timeout=30.0)


class SoakCluster(targets.Target):
    name = "cluster"
    label = "cluster: 1 mqtt-router + 2 mqtt-frontend"

    def start(self, setup, max_queued, log_level):
        router_ep = f"tcp://{HOST}:{targets.free_port()}"
        self.ports = [targets.free_port(), targets.free_port()]
        self.stats = [f"tcp://{HOST}:{targets.free_port()}" for _ in range(3)]
        self.procs, self.names = [], ["router", "frontend0", "frontend1"]
        cmd = ([self.env.bin("mqtt-router"), "--bind", router_ep, "--router-id", "soak-r0",
                "--stats", self.stats[0]] + _common(max_queued, log_level))
        self.procs.append(procs.spawn(cmd, os.path.join(setup.logdir, "router.log")))
        for f, port in enumerate(self.ports):
            cmd = ([self.env.bin("mqtt-frontend"), "--routers", router_ep,
                    "--frontend-id", f"soak-fe{f}"] + self._listen_urls([port]) +
                   ["--tls-cert", self.env.cert, "--tls-key", self.env.key,
                    "--password-file", self.env.passwd_ours,
                    "--connect-timeout", str(CONNECT_TIMEOUT_S), "--stats", self.stats[f + 1],
                    "--log-level", log_level])
            self.procs.append(procs.spawn(cmd, os.path.join(setup.logdir, f"frontend{f}.log")))
        self.wait_ready(timeout=30.0)


def make_target(kind, setup):
    return (SoakCluster if kind == "cluster" else SoakBroker)(setup.env)


def log_tail(target, lines=40):
    out = []
    for p in target.procs:
        try:
            with open(p.log_path, "rb") as f:
                text = f.read().decode(errors="replace").splitlines()
        except OSError:
            continue
        out.append(f"----- {os.path.basename(p.log_path)} (last {lines} lines) -----")
        out += text[-lines:]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Statistics (docs/stats.md)
# ---------------------------------------------------------------------------------------------

class Stats:
    """One mqtt-stat --json answer. kinds: the process kinds a name is read from: the
    connection side ('frontend', or the all-in-one 'broker') or the session side ('router',
    'broker'); values are summed over the processes of those kinds."""

    FRONT = ("frontend", "broker")
    BACK = ("router", "broker")

    def __init__(self, doc):
        self.doc = doc
        self.processes = doc.get("processes", [])

    def _value(self, section, name, kinds):
        vals = [p.get(section, {}).get(name) for p in self.processes if p.get("kind") in kinds]
        vals = [v for v in vals if v is not None]
        return sum(vals) if vals else None

    def counter(self, name, kinds):
        return self._value("counters", name, kinds)

    def gauge(self, name, kinds):
        return self._value("gauges", name, kinds)

    def by_kind(self):
        """{kind: {"counters": {...}, "gauges": {...}}} summed per kind."""
        out = {}
        for p in self.processes:
            k = out.setdefault(p.get("kind", "?"), {"counters": {}, "gauges": {}})
            for section in ("counters", "gauges"):
                for name, v in p.get(section, {}).items():
                    k[section][name] = k[section].get(name, 0) + v
        return out


def read_stats(bin_dir, endpoints, timeout=10):
    """A Stats, or None with the error text."""
    cmd = [os.path.join(bin_dir, "mqtt-stat"), "--json", "--timeout", str(timeout)] + endpoints
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 20)
    except subprocess.TimeoutExpired:
        return None, "mqtt-stat did not answer"
    if r.returncode != 0:
        return None, f"mqtt-stat exit {r.returncode}: {r.stderr.strip()[:300]}"
    try:
        return Stats(json.loads(r.stdout)), None
    except ValueError as e:
        return None, f"mqtt-stat output: {e}"


# ---------------------------------------------------------------------------------------------
# mqtt-bench in the background
# ---------------------------------------------------------------------------------------------

class BenchRun:
    """One mqtt-bench process: start() at once, result() after it exits."""

    def __init__(self, name, setup, port, args):
        self.name = name
        self.out = os.path.join(setup.logdir, f"bench-{name}.json")
        err = os.path.join(setup.logdir, f"bench-{name}.log")
        self.cmd = [setup.env.bin("mqtt-bench"), "--url", f"mqtts://{HOST}:{port}",
                    "--cafile", setup.env.ca, "-u", USER, "-P", PASSWORD, "--json",
                    "--threads", "1", "--connect-timeout", "60"] + [str(a) for a in args]
        self.proc = procs.spawn_capture(self.cmd, self.out, err)
        self.err = err

    def running(self):
        return self.proc.poll() is None

    def stop(self):
        return procs.stop(self.proc, timeout=10.0)

    def result(self):
        """(exit code, parsed JSON or None)."""
        rc = self.proc.poll()
        try:
            with open(self.out) as f:
                return rc, json.load(f)
        except (OSError, ValueError):
            return rc, None
