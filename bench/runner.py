"""One benchmark run: start a fresh target, load it, measure, stop it. Returns a record
(a dict, written as one JSON line to runs.jsonl) with `ok`, `errors`, `metrics` (the flat
numbers the report takes medians of) and the raw material (mqtt-bench JSON of each part,
commands, memory samples).

Kinds: bench (mqtt-bench p2p / fanout / fanin), storm (idle connections; memory per
connection from the target processes' smaps_rollup), retained and drain (mqtt_raw clients).
The cluster target spreads the clients of splittable scenarios over its frontends: one
mqtt-bench per frontend, each with its share, results merged (sums; latency percentiles:
the worst part's, an upper bound). Used from the suite's main thread only.
"""

import json
import math
import os
import resource
import socket
import ssl
import threading
import time

import mqtt_raw
import procs

PAYLOAD = 64
OVERLOAD = 0.75  # open-loop runs above this fraction of a target's saturation may drop
PUBLISHERS = 4  # parallel connections that publish the retained set / the offline queue


class Context:
    """What every run needs: env (targets.Env), settings, results dir, storm limits."""

    def __init__(self, env, settings, results, per_dest_cap):
        self.env = env
        self.s = settings
        self.results = results
        self.per_dest_cap = per_dest_cap
        self.logdir = os.path.join(results, "logs")
        self.rawdir = os.path.join(results, "raw")
        os.makedirs(self.logdir, exist_ok=True)
        os.makedirs(self.rawdir, exist_ok=True)


# ---------------------------------------------------------------------------------------------
# mqtt-bench JSON of several parts -> one
# ---------------------------------------------------------------------------------------------

def _merge_hist(hs):
    hs = [h for h in hs if h and h.get("count")]
    if not hs:
        return {"count": 0}
    n = sum(h["count"] for h in hs)
    out = {"count": n, "min": min(h["min"] for h in hs), "max": max(h["max"] for h in hs),
           "mean": sum(h["mean"] * h["count"] for h in hs) / n}
    for k in ("p50", "p90", "p99", "p99_9"):
        out[k] = max(h[k] for h in hs)
    return out


def _sum_dicts(ds):
    out = {}
    for d in ds:
        for k, v in (d or {}).items():
            if isinstance(v, dict):
                out[k] = _sum_dicts([out.get(k, {}), v])
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                out[k] = out.get(k, 0) + v
            elif v is not None and k not in out:
                out[k] = v
    return out


def merge(docs):
    if len(docs) == 1:
        return docs[0]
    out = dict(docs[0])
    out["parts"] = len(docs)
    for key in ("connections", "messages", "throughput", "cpu"):
        out[key] = _sum_dicts([d.get(key) for d in docs])
    out["latency_us"] = _merge_hist([d.get("latency_us") for d in docs])
    out["connect_time_us"] = _merge_hist([d.get("connect_time_us") for d in docs])
    for key in ("connect_phase_s", "measured_s", "elapsed_s", "exit_code"):
        out[key] = max(d.get(key) or 0 for d in docs)
    out["interrupted"] = any(d.get("interrupted") for d in docs)
    return out


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

def _shares(total, parts):
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def tls_info(env, port):
    """(protocol, cipher) a Python/OpenSSL client negotiates with the target."""
    if env.transport != "tls":
        return None
    ctx = ssl.create_default_context(cafile=env.ca)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            return {"version": s.version(), "cipher": s.cipher()[0]}


class Meter:
    """CPU of the target, of this process and of the whole machine between start() and
    stop(): the rest is other work on the machine (other engineers' compilers)."""

    def __init__(self, pids):
        self.pids = pids

    def start(self):
        self.t0 = time.monotonic()
        self.cpu0 = sum(procs.cpu_seconds(p) for p in self.pids)
        self.busy0 = procs.system_busy_seconds()
        self.self0 = procs.self_cpu_seconds()
        self.children0 = resource.getrusage(resource.RUSAGE_CHILDREN)

    def stop(self, client_cpu_s=None):
        wall = time.monotonic() - self.t0
        target = sum(procs.cpu_seconds(p) for p in self.pids) - self.cpu0
        busy = procs.system_busy_seconds() - self.busy0
        own = procs.self_cpu_seconds() - self.self0
        if client_cpu_s is None:  # reaped children (mqtt-bench) since start()
            ch = resource.getrusage(resource.RUSAGE_CHILDREN)
            client_cpu_s = (ch.ru_utime + ch.ru_stime - self.children0.ru_utime -
                            self.children0.ru_stime)
        other = max(0.0, busy - target - own - client_cpu_s)
        return {"wall_s": wall, "target_cpu_s": target, "client_cpu_s": client_cpu_s + own,
                "other_cpu_cores": other / wall if wall > 0 else 0.0,
                "load1": os.getloadavg()[0]}


def _bench_cmd(ctx, url, sc, publishers, subscribers, rate, seed, connections=0):
    env, s = ctx.env, ctx.s
    cmd = [env.bin("mqtt-bench"), "--url", url, "-u", env.user, "-P", env.password]
    if env.transport == "tls":
        cmd += ["--cafile", env.ca]
    if sc.kind == "storm":
        return cmd + ["--scenario", "storm", "--connections", str(connections),
                      "--connect-rate", f"{s.storm_connect_rate:g}", "--connect-timeout", "60",
                      "--duration", f"{sc.duration:g}", "--seed", str(seed), "--json"]
    cmd += ["--scenario", sc.scenario, "--publishers", str(publishers), "--subscribers",
            str(subscribers), "--qos", str(sc.qos), "--payload", str(s.payload),
            "--warmup", f"{s.warmup:g}", "--duration", f"{sc.duration:g}",
            "--drain", f"{s.drain:g}", "--connect-rate", f"{s.connect_rate:g}",
            "--connect-timeout", f"{s.connect_timeout:g}",
            "--seed", str(seed), "--json"]
    if sc.closed_loop:
        cmd += ["--closed-loop", "--inflight", str(s.inflight)]
    else:
        cmd += ["--rate", f"{rate:.6g}"]
    return cmd


def _run_parts(ctx, target, cmds, tag, timeout, on_poll=None, poll_s=0.5):
    """Runs the mqtt-bench commands at once; returns (docs, errors). on_poll() every poll_s."""
    outs, ps, errors = [], [], []
    for i, cmd in enumerate(cmds):
        out = os.path.join(ctx.rawdir, f"{tag}-part{i}.json")
        outs.append(out)
        ps.append(procs.spawn_capture(cmd, out, os.path.join(ctx.logdir, f"{tag}-bench.log")))
    deadline = time.monotonic() + timeout
    while any(p.poll() is None for p in ps):
        if on_poll:
            on_poll()
        if time.monotonic() > deadline:
            errors.append(f"mqtt-bench still running after {timeout:.0f}s: stopped")
            break
        time.sleep(poll_s)
    docs = []
    for p, out in zip(ps, outs):
        procs.stop(p, timeout=5.0)
        try:
            with open(out) as f:
                doc = json.load(f)
            docs.append(doc)
            if doc.get("exit_code"):
                c = doc.get("connections", {})
                errors.append(f"mqtt-bench exit {doc['exit_code']}: connections failed "
                              f"{c.get('failed')}, lost {c.get('lost')}, errors "
                              f"{c.get('errors')}, lost_reasons {c.get('lost_reasons')}")
        except (OSError, ValueError) as e:
            errors.append(f"mqtt-bench gave no JSON (exit {p.returncode}): {e}")
    return docs, errors


def ms(us):
    return us / 1000 if us is not None else None


def _bench_metrics(doc, meter):
    m = doc["messages"]
    lat = doc.get("latency_us") or {}
    if not lat.get("count"):  # QoS 0 closed loop: the backlog sent in the warmup arrives
        lat = {}              # in the window; nothing sent in the window got through
    rx = doc["throughput"]["received_per_s"]
    return {
        "received_per_s": rx,
        "sent_per_s": doc["throughput"]["sent_per_s"],
        "p50_ms": ms(lat.get("p50")), "p99_ms": ms(lat.get("p99")),
        "p99_9_ms": ms(lat.get("p99_9")), "max_ms": ms(lat.get("max")),
        "lost": m["lost"], "duplicated": m["duplicated"], "not_sent": m["not_sent"],
        "loss_pct": 100.0 * m["lost"] / m["expected"] if m["expected"] else 0.0,
        "received": m["received"],
        "target_cpu_us_per_msg": (1e6 * meter["target_cpu_s"] / m["received"]
                                  if m["received"] else None),
        "target_cpu_cores": meter["target_cpu_s"] / meter["wall_s"],
        "other_cpu_cores": meter["other_cpu_cores"],
        "connected": doc["connections"]["connected"],
    }


# ---------------------------------------------------------------------------------------------
# The kinds of run
# ---------------------------------------------------------------------------------------------

def run_bench(ctx, target, sc, rnd, tag, rate, sat):
    parts = target.split if sc.splittable else 1
    urls = target.urls()
    pubs, subs = _shares(sc.publishers, parts), _shares(sc.subscribers, parts)
    cmds = [_bench_cmd(ctx, urls[i % len(urls)], sc, pubs[i], subs[i], rate, 1000 * rnd + i)
            for i in range(parts)]
    clients = sc.publishers + sc.subscribers
    timeout = (clients / ctx.s.connect_rate + ctx.s.connect_timeout + ctx.s.warmup + sc.duration
               + ctx.s.drain + 30)
    meter = Meter(target.pids())
    meter.start()
    docs, errors = _run_parts(ctx, target, cmds, tag, timeout)
    mt = meter.stop(sum(d["cpu"]["user_s"] + d["cpu"]["system_s"] for d in docs))
    rec = {"commands": cmds, "meter": mt, "errors": errors}
    if len(docs) == len(cmds):
        doc = merge(docs)
        rec["bench"] = doc
        rec["metrics"] = _bench_metrics(doc, mt)
        per_message = sc.subscribers if sc.scenario == "fanout" else 1  # deliveries
        rec["metrics"]["offered_per_s"] = (rate * sc.publishers * per_message
                                           if not sc.closed_loop else None)
        lost = doc["messages"]["lost"]
        if sc.qos > 0 and lost:
            text = (f"QoS {sc.qos}: {lost} of {doc['messages']['expected']} acknowledged "
                    "messages lost")
            offered = rate * sc.publishers if not sc.closed_loop else None
            if offered and sat and offered > OVERLOAD * sat:
                # Beyond what this target can deliver, a subscriber's queue overflows
                # (--max-queued-messages / max_queued_messages): dropped by design.
                rec["notes"] = [f"{text}, offered {offered:,.0f} msg/s > {OVERLOAD:g} x its "
                                f"saturation {sat:,.0f} msg/s: queue limit"]
            elif sc.closed_loop:
                # Saturation by definition: a publisher's PUBACK means accepted, not
                # delivered, so a publisher faster than its subscriber's window fills
                # that subscriber's queue, and the queue limit drops (by design; seen
                # with 5 pairs over plain TCP: lost = messages.dropped.queue_full).
                rec["notes"] = [f"{text}, closed loop (saturation): queue limit"]
            else:
                rec["anomalies"] = [text]
    return rec


def run_storm(ctx, target, sc, rnd, tag):
    parts = len(target.urls())
    shares = _shares(sc.connections, parts)
    cmds = [_bench_cmd(ctx, url, sc, 0, 0, 0, 1000 * rnd + i, connections=n)
            for i, (url, n) in enumerate(zip(target.urls(), shares))]
    pids = target.pids()
    time.sleep(0.5)
    base_fds, base_mem = procs.fd_count(pids), procs.memory_sum(pids)
    best = {"fds": base_fds, "mem": base_mem}

    def poll():
        fds = procs.fd_count(pids)
        if fds >= best["fds"] and fds > base_fds:  # ties: the later sample, in the hold
            best["fds"], best["mem"] = fds, procs.memory_sum(pids)

    timeout = max(shares) / ctx.s.storm_connect_rate + 60 + sc.duration + 30
    meter = Meter(pids)
    meter.start()
    # Each part holds its connections for sc.duration once all of its own are up; the
    # parts' holds overlap only when they finish connecting within sc.duration of each other
    # (the smoke's 2 s allows for a slow sanitizer build), and the samples must land there.
    docs, errors = _run_parts(ctx, target, cmds, tag, timeout, on_poll=poll, poll_s=0.1)
    mt = meter.stop(sum(d["cpu"]["user_s"] + d["cpu"]["system_s"] for d in docs))
    rec = {"commands": cmds, "meter": mt, "errors": errors,
           "memory": {"before_kib": base_mem, "held_kib": best["mem"],
                      "fds_before": base_fds, "fds_held": best["fds"]}}
    if len(docs) == len(cmds):
        doc = merge(docs)
        rec["bench"] = doc
        held_conns = best["fds"] - base_fds
        ct = doc.get("connect_time_us") or {}
        per = (lambda k: (best["mem"][k] - base_mem[k]) / held_conns if held_conns > 0
               else None)
        rec["metrics"] = {
            "held": doc["connections"].get("held") or 0,
            "sampled_connections": held_conns,
            "pss_per_conn_kib": per("pss"), "rss_per_conn_kib": per("rss"),
            "anon_per_conn_kib": per("anon"),
            "pss_total_mib": best["mem"]["pss"] / 1024,
            "connect_p50_ms": (ct.get("p50") or 0) / 1000,
            "connect_p99_ms": (ct.get("p99") or 0) / 1000,
            "connect_phase_s": doc.get("connect_phase_s"),
            "target_cpu_ms_per_conn": (1000 * mt["target_cpu_s"] / sc.connections),
            "other_cpu_cores": mt["other_cpu_cores"],
        }
        if held_conns < sc.connections * 0.99:
            errors.append(f"only {held_conns} of {sc.connections} connections seen at the "
                          "target (fd count)")
    return rec


def _client(ctx, url):
    port = int(url.rsplit(":", 1)[1])
    return mqtt_raw.RawClient("127.0.0.1", port, ctx.env.cafile(), timeout=30.0)


def _payload(i):
    return i.to_bytes(8, "big") + b"x" * (PAYLOAD - 8)


def _publish_parallel(ctx, url, client_id, count, packet_of, connections=PUBLISHERS):
    """Publishes messages 0..count-1 at QoS 1 over `connections` connections at once (thread
    k sends every k-th message), each waiting for all its PUBACKs. Returns the seconds from
    the first CONNECT to the last PUBACK. Raises MqttError when one fails."""
    errors = []

    def one(k):
        try:
            c = _client(ctx, url)
            try:
                rc, _ = c.connect(f"{client_id}-{k}", ctx.env.user, ctx.env.password)
                if rc:
                    raise mqtt_raw.MqttError(f"publisher CONNACK {rc}")
                n = len(range(k, count, connections))
                c.publish_many(lambda i, pid: packet_of(k + i * connections, pid), n, qos=1)
                c.disconnect()
            finally:
                c.close()
        except (OSError, mqtt_raw.MqttError, ssl.SSLError) as e:
            errors.append(f"publisher {k}: {e}")

    start = time.perf_counter()
    threads = [threading.Thread(target=one, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise mqtt_raw.MqttError("; ".join(errors))
    return time.perf_counter() - start


def run_retained(ctx, target, sc, rnd, tag):
    urls, env = target.urls(), ctx.env
    pids = target.pids()
    rec = {"errors": [], "commands": ["(bench/mqtt_raw.py clients, see bench/README.md)"]}
    mem0 = procs.memory_sum(pids)
    meter = Meter(pids)
    meter.start()
    topics = [f"bench/retained/{i // 1000}/{i % 1000}" for i in range(sc.count)]
    publish_s = _publish_parallel(
        ctx, urls[0], f"bench-retained-pub-{rnd}", sc.count,
        lambda i, pid: mqtt_raw.publish_packet(topics[i], _payload(i), 1, True, pid))
    mem1 = procs.memory_sum(pids)
    sub = _client(ctx, urls[-1])
    got = {"n": 0}
    last = {"t": 0.0}

    def on_publish(first, body):
        if first & 1:
            got["n"] += 1
            last["t"] = time.perf_counter()
            return True
        return False

    try:
        rc, _ = sub.connect(f"bench-retained-sub-{rnd}", env.user, env.password)
        if rc:
            rec["errors"].append(f"subscriber CONNACK {rc}")
            return rec
        t0 = time.perf_counter()
        sub.subscribe("#", 0, on_publish=on_publish)
        suback_s = time.perf_counter() - t0
        remaining = sc.count - got["n"]
        if remaining > 0:
            sub.receive(remaining, on_publish, ctx.s.idle_timeout)
        deliver_s = (last["t"] - t0) if got["n"] else None
        sub.disconnect()
    except (OSError, mqtt_raw.MqttError) as e:
        rec["errors"].append(f"subscriber: {e}")
        deliver_s = suback_s = None
    finally:
        sub.close()
    mt = meter.stop()
    rec["meter"] = mt
    if got["n"] != sc.count:
        rec.setdefault("anomalies", []).append(
            f"'#' subscriber (QoS 0) got {got['n']} of {sc.count} retained messages "
            f"(stopped after {ctx.s.idle_timeout:g}s without data)")
    rec["metrics"] = {
        "publish_s": publish_s, "publish_per_s": sc.count / publish_s,
        "deliver_s": deliver_s, "received": got["n"], "suback_s": suback_s,
        "deliver_per_s": got["n"] / deliver_s if deliver_s else None,
        "kib_per_retained": (mem1["pss"] - mem0["pss"]) / sc.count,
        "other_cpu_cores": mt["other_cpu_cores"],
    }
    return rec


def run_drain(ctx, target, sc, rnd, tag):
    urls, env = target.urls(), ctx.env
    pids = target.pids()
    rec = {"errors": [], "commands": ["(bench/mqtt_raw.py clients, see bench/README.md)"]}
    sub_id, topic = f"bench-drain-sub-{rnd}", "bench/drain"
    sub = _client(ctx, urls[-1])
    try:
        rc, _ = sub.connect(sub_id, env.user, env.password, clean=False)
        granted = sub.subscribe(topic, 1) if rc == 0 else None
        sub.disconnect()
    finally:
        sub.close()
    if rc or granted != 1:
        rec["errors"].append(f"subscriber: CONNACK {rc}, SUBACK {granted}")
        return rec
    time.sleep(0.2)  # the broker notices the subscriber is gone
    mem0 = procs.memory_sum(pids)
    meter = Meter(pids)
    meter.start()
    publish_s = _publish_parallel(
        ctx, urls[0], f"bench-drain-pub-{rnd}", sc.count,
        lambda i, pid: mqtt_raw.publish_packet(topic, _payload(i), 1, False, pid))
    mem1 = procs.memory_sum(pids)
    seen = bytearray(sc.count)
    stats = {"dup": 0, "other": 0, "last": 0.0}

    def on_publish(first, body):
        p = mqtt_raw.payload_of(body, first)
        i = int.from_bytes(p[:8], "big") if len(p) >= 8 else -1
        if not 0 <= i < sc.count:
            stats["other"] += 1
            return False
        if seen[i]:
            stats["dup"] += 1
            return False
        seen[i] = 1
        stats["last"] = time.perf_counter()
        return True

    sub = _client(ctx, urls[-1])
    got, present = 0, None
    try:
        t0 = time.perf_counter()
        rc, present = sub.connect(sub_id, env.user, env.password, clean=False)
        if rc:
            rec["errors"].append(f"reconnect CONNACK {rc}")
        else:
            got = sub.receive(sc.count, on_publish, ctx.s.idle_timeout)
        sub.disconnect()
    except (OSError, mqtt_raw.MqttError) as e:
        rec["errors"].append(f"subscriber: {e}")
    finally:
        sub.close()
    mt = meter.stop()
    rec["meter"] = mt
    drain_s = stats["last"] - t0 if got else None
    if not present:
        rec["errors"].append("reconnect: no session present")
    if got != sc.count:
        rec["errors"].append(f"drained {got} of {sc.count} queued messages")
    rec["metrics"] = {
        "publish_s": publish_s, "drain_s": drain_s, "received": got,
        "drain_per_s": got / drain_s if drain_s else None, "duplicated": stats["dup"],
        "kib_per_queued": (mem1["pss"] - mem0["pss"]) / sc.count,
        "other_cpu_cores": mt["other_cpu_cores"],
    }
    return rec


def run(ctx, target, sc, rnd, rate=None, sat=None):
    """Starts the target, runs scenario sc (round rnd), stops the target. Never raises for a
    failed run: the record says ok False and why. sat: this target's saturation (msg/s) at
    the scenario's QoS, if measured: QoS 1 loss above OVERLOAD x sat is no anomaly."""
    tag = f"{sc.name.replace('@', '-at-')}-{target.name}-r{rnd}"
    rec = {"scenario": sc.name, "target": target.name, "round": rnd, "started": time.time()}
    listeners = 1
    if sc.kind == "storm":
        listeners = max(target.split, math.ceil(sc.connections / ctx.per_dest_cap))
    try:
        target.start(ctx.logdir, tag, sc.max_queued, ctx.s.max_inflight, listeners=listeners)
        rec["target_commands"] = [" ".join(p.args) for p in target.procs]
        rec["tls"] = tls_info(ctx.env, target.ports[0]) if rnd == 1 else None
        if sc.kind == "bench":
            rec.update(run_bench(ctx, target, sc, rnd, tag, rate, sat))
        elif sc.kind == "storm":
            rec.update(run_storm(ctx, target, sc, rnd, tag))
        elif sc.kind == "retained":
            rec.update(run_retained(ctx, target, sc, rnd, tag))
        else:
            rec.update(run_drain(ctx, target, sc, rnd, tag))
    except (RuntimeError, OSError, mqtt_raw.MqttError, ssl.SSLError) as e:
        rec.setdefault("errors", []).append(f"{type(e).__name__}: {e}")
    finally:
        died = target.stop()
        if died:
            rec.setdefault("errors", []).append("process died during the run: " +
                                                ", ".join(died))
            rec["crashed"] = died
    rec["ok"] = not rec.get("errors") and "metrics" in rec
    rec["elapsed_s"] = time.time() - rec["started"]
    return rec
