"""Medians, the Markdown report (docs/benchmarks.md) and its gnuplot PNGs, from the run
records of runner.py. Ratios are always target / Mosquitto of the same figure: above 1 is
better for throughput, below 1 is better for latency, time and memory.
"""

import datetime
import glob
import os
import platform
import shlex
import shutil
import statistics
import subprocess

import plots

TARGET_LABEL = {"ours": "mqtt-broker", "cluster": "cluster", "mosquitto": "Mosquitto"}


# ---------------------------------------------------------------------------------------------
# Progress, medians
# ---------------------------------------------------------------------------------------------

def one_line(rec):
    head = f"{rec['scenario']} {rec['target']} r{rec['round']}"
    if not rec.get("ok"):
        return f"{head} FAILED: {'; '.join(rec.get('errors', []))}"
    m = rec["metrics"]
    if "received_per_s" in m:
        return (f"{head} ok: {m['received_per_s']:,.0f} msg/s, p50 {_f(m['p50_ms'], 2)} ms, "
                f"p99 {_f(m['p99_ms'], 2)} ms, lost {m['lost']}, other CPU "
                f"{m['other_cpu_cores']:.2f}")
    if "pss_per_conn_kib" in m:
        return (f"{head} ok: {m['held']:,} held, {m['pss_per_conn_kib']:.1f} KiB PSS/conn, "
                f"{_f(m.get('anon_per_conn_kib'), 1)} KiB anonymous/conn, "
                f"connect p99 {m['connect_p99_ms']:.1f} ms")
    if "deliver_s" in m:
        return (f"{head} ok: published in {m['publish_s']:.2f}s, '#' got {m['received']:,} in "
                f"{m['deliver_s']:.3f}s")
    return f"{head} ok: published in {m['publish_s']:.2f}s, drained in {m['drain_s']:.3f}s"


def _median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def summarize(records, plan, names):
    """{scenario: {target: {"runs": n, "ok": n, "metrics": {key: median}, "errors": [...]}}}"""
    out = {}
    for sc in plan:
        out[sc.name] = {}
        for t in names:
            recs = [r for r in records if r["scenario"] == sc.name and r["target"] == t]
            good = [r for r in recs if r.get("ok")]
            keys = sorted({k for r in good for k in r["metrics"]})
            vals = {k: [r["metrics"][k] for r in good if r["metrics"].get(k) is not None]
                    for k in keys}
            out[sc.name][t] = {
                "runs": len(recs), "ok": len(good),
                "metrics": {k: _median(v) for k, v in vals.items()},
                "range": {k: [min(v), max(v)] for k, v in vals.items() if v},
                "errors": [e for r in recs for e in r.get("errors", [])],
                "anomalies": [a for r in recs for a in r.get("anomalies", [])],
                "notes": [f"r{r['round']}: {x}" for r in recs for x in r.get("notes", [])],
            }
    return out


# ---------------------------------------------------------------------------------------------
# Machine, versions, commands
# ---------------------------------------------------------------------------------------------

def _sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def _mem_total_gib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return 0


def _span(records):
    """When the runs were made: 'YYYY-MM-DD HH:MM–HH:MM UTC'."""
    if not records:
        return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    utc = datetime.timezone.utc
    t0 = datetime.datetime.fromtimestamp(min(r["started"] for r in records), utc)
    t1 = datetime.datetime.fromtimestamp(max(r["started"] + r.get("elapsed_s", 0)
                                             for r in records), utc)
    return f"{t0:%Y-%m-%d %H:%M}–{t1:%H:%M} UTC"


def collect_meta(root, env, args, commands, s, lim, tlist, records):
    first = {}
    for r in records:
        first.setdefault(r["target"], r)
    confs = sorted(glob.glob(os.path.join(os.path.dirname(env.work), "logs", "*mosquitto.conf")))
    conf = open(confs[0]).read() if confs else ""
    others = [r["meter"]["other_cpu_cores"] for r in records if r.get("meter")]
    loads = [r["meter"]["load1"] for r in records if r.get("meter")]
    bench_cmds = {}
    for r in records:
        if r.get("commands") and r["scenario"] not in bench_cmds:
            bench_cmds[r["scenario"]] = (r["target"], r["commands"])
    return {
        "date": _span(records),
        "commands": commands,
        "nproc": os.cpu_count(), "cpu": _cpu_model(), "kernel": platform.release(),
        "ram_gib": _mem_total_gib(),
        "git": _sh(f"git -C {shlex.quote(root)} describe --always --dirty --tags"),
        "mosquitto": _sh("/usr/sbin/mosquitto -h 2>&1 | head -1"),
        "openssl": _sh("openssl version"),
        "gnuplot": _sh("gnuplot --version"),
        "uptime_end": _sh("uptime"),
        "transport": env.transport, "routers": args.routers, "smoke": args.smoke,
        "settings": vars(s), "limits": lim,
        "other_cpu_median": _median(others), "other_cpu_max": max(others) if others else None,
        "load1_max": max(loads) if loads else None,
        "target_commands": {t: r.get("target_commands") for t, r in first.items()},
        "tls": {t: r.get("tls") for t, r in first.items()},
        "labels": {t.name: t.label for t in tlist},
        "mosquitto_conf": conf, "bench_commands": bench_cmds,
    }


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------

def _f(v, digits=0, unit=""):
    if v is None:
        return "–"
    if digits == 0:
        return f"{v:,.0f}{unit}"
    return f"{v:,.{digits}f}{unit}"


def _ratio(v, ref):
    if v is None or not ref:
        return "–"
    return f"{v / ref:.2f}×"


def _range(cell, key, digits=0):
    r = cell.get("range", {}).get(key)
    if not r or cell["ok"] < 2:
        return "–"
    return f"{_f(r[0], digits)}–{_f(r[1], digits)}"


def _runs(cell):
    return f"{cell['ok']}/{cell['runs']}"


def _metric(summary, sc, t, key):
    cell = summary.get(sc, {}).get(t)
    return cell["metrics"].get(key) if cell else None


def _bench_table(summary, plan, names, labels, group, rate_col):
    rows = ["| scenario | target | " + ("offered msg/s | " if rate_col else "") +
            "received msg/s | range | × Mosquitto | p50 ms | p99 ms | p99 range | p99.9 ms | "
            "lost (%) | target CPU µs/msg | target CPU cores | other CPU cores | runs ok |",
            "|---|---|" + ("---:|" if rate_col else "") + "---:|---:|---:|---:|---:|---:|---:|"
            "---:|---:|---:|---:|---:|"]
    for sc in [x for x in plan if x.group == group]:
        ref = _metric(summary, sc.name, "mosquitto", "received_per_s")
        for t in names:
            cell = summary[sc.name][t]
            m = cell["metrics"]
            lost = (f"{_f(m.get('lost'))} ({m['loss_pct']:.2f} %)"
                    if m.get("loss_pct") is not None else "–")
            rows.append(
                f"| `{sc.name}` | {labels[t]} | " +
                (f"{_f(m.get('offered_per_s'))} | " if rate_col else "") +
                f"{_f(m.get('received_per_s'))} | {_range(cell, 'received_per_s')} | "
                f"{_ratio(m.get('received_per_s'), ref)} | "
                f"{_f(m.get('p50_ms'), 2)} | {_f(m.get('p99_ms'), 2)} | "
                f"{_range(cell, 'p99_ms', 2)} | {_f(m.get('p99_9_ms'), 2)} | {lost} | "
                f"{_f(m.get('target_cpu_us_per_msg'), 1)} | {_f(m.get('target_cpu_cores'), 2)} | "
                f"{_f(m.get('other_cpu_cores'), 2)} | {_runs(cell)} |")
    return rows


def paired_rounds(records, sc, t, key, higher):
    """(better, rounds): in how many rounds target t's figure beat Mosquitto's of the same round
    (a tie is not better), over the rounds where both runs succeeded. Medians hide how often each
    side wins; on a noisy machine that count says whether a small difference of medians is more
    than noise. Every invocation of the suite on a results dir numbers its rounds from 1: the
    n-th run of round r of one target pairs with the n-th of the other."""
    def by_round(name):
        seen, out = {}, {}
        for r in records:
            if r["scenario"] != sc or r["target"] != name:
                continue
            nth = seen[r["round"]] = seen.get(r["round"], 0) + 1
            if r.get("ok"):
                out[(r["round"], nth)] = r["metrics"].get(key)
        return out
    ours, ref = by_round(t), by_round("mosquitto")
    pairs = [(ours[k], ref[k]) for k in ours if k in ref and None not in (ours[k], ref[k])]
    better = sum(1 for v, m in pairs if (v > m if higher else v < m))
    return better, len(pairs)


def _headline(summary, names, labels, s, records):
    def val(sc, t, key):
        return _metric(summary, sc, t, key)

    figs = [
        ("fan-in QoS 0 saturated throughput, msg/s", "fanin-qos0", "received_per_s", 1.5, True),
        ("fan-out QoS 0 saturated throughput, msg/s", "fanout-qos0", "received_per_s", 1.5,
         True),
        (f"p2p QoS 1 saturated throughput, {2 * s.pairs} clients, msg/s", "p2p-qos1-sat",
         "received_per_s", 1.0, True),
        ("p2p QoS 0 p99 latency at 50 % of Mosquitto's saturation, ms", "p2p-qos0-rate",
         "p99_ms", 1.0, False),
        ("p2p QoS 1 p99 latency at 50 % of Mosquitto's saturation, ms", "p2p-qos1-rate",
         "p99_ms", 1.0, False),
        ("memory per idle connection (PSS), `storm-10k`, KiB", "storm-10k", "pss_per_conn_kib",
         1.0, False),
        ("memory per idle connection (PSS), `storm-50k`, KiB", "storm-50k", "pss_per_conn_kib",
         1.0, False),
        ("memory per idle connection (anonymous), `storm-10k`, KiB", "storm-10k",
         "anon_per_conn_kib", 1.0, False),
        ("memory per idle connection (anonymous), `storm-50k`, KiB", "storm-50k",
         "anon_per_conn_kib", 1.0, False),
    ]
    others = [t for t in names if t != "mosquitto"]
    head = "| figure | goal (× Mosquitto) | Mosquitto | " + " | ".join(
        f"{labels[t]} | ratio | met | rounds better" for t in others) + " |"
    rows = [head, "|---|---|---:|" + "---:|---:|:-:|---:|" * len(others)]
    for title, sc, key, goal, higher in figs:
        if sc not in summary:
            continue
        ref = val(sc, "mosquitto", key)
        digits = 0 if key == "received_per_s" else 2
        cells = []
        for t in others:
            v = val(sc, t, key)
            met = "–"
            if v is not None and ref:
                met = "yes" if (v / ref >= goal if higher else v / ref <= goal) else "**no**"
            better, n = paired_rounds(records, sc, t, key, higher)
            cells.append(f"{_f(v, digits)} | {_ratio(v, ref)} | {met} | "
                         + (f"{better} of {n}" if n else "–"))
        goal_s = f"≥ {goal:g}" if higher else f"≤ {goal:g}"
        rows.append(f"| {title} | {goal_s} | {_f(ref, digits)} | " + " | ".join(cells) + " |")
    return rows


def _storm_table(summary, plan, names, labels):
    rows = ["| scenario | target | connections held | PSS KiB/conn | × Mosquitto | RSS KiB/conn |"
            " anonymous KiB/conn | total PSS MiB | connect p50 ms | connect p99 ms | "
            "connect phase s | target CPU ms/conn | runs ok |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for sc in [x for x in plan if x.group == "storm"]:
        ref = _metric(summary, sc.name, "mosquitto", "pss_per_conn_kib")
        for t in names:
            cell = summary[sc.name][t]
            m = cell["metrics"]
            rows.append(
                f"| `{sc.name}` ({sc.connections:,}) | {labels[t]} | {_f(m.get('held'))} | "
                f"{_f(m.get('pss_per_conn_kib'), 1)} | {_ratio(m.get('pss_per_conn_kib'), ref)} | "
                f"{_f(m.get('rss_per_conn_kib'), 1)} | {_f(m.get('anon_per_conn_kib'), 1)} | "
                f"{_f(m.get('pss_total_mib'), 1)} | "
                f"{_f(m.get('connect_p50_ms'), 1)} | {_f(m.get('connect_p99_ms'), 1)} | "
                f"{_f(m.get('connect_phase_s'), 1)} | {_f(m.get('target_cpu_ms_per_conn'), 2)} | "
                f"{_runs(cell)} |")
    return rows


def _retained_table(summary, names, labels):
    ref = _metric(summary, "retained", "mosquitto", "deliver_s")
    rows = ["| target | publish s | publish msg/s | `#` delivery s | range | × Mosquitto (time) "
            "| delivered msg/s | received (median) | KiB PSS per retained topic | runs ok |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for t in names:
        cell = summary["retained"][t]
        m = cell["metrics"]
        rows.append(f"| {labels[t]} | {_f(m.get('publish_s'), 2)} | {_f(m.get('publish_per_s'))} "
                    f"| {_f(m.get('deliver_s'), 3)} | {_range(cell, 'deliver_s', 3)} | "
                    f"{_ratio(m.get('deliver_s'), ref)} | "
                    f"{_f(m.get('deliver_per_s'))} | {_f(m.get('received'))} | "
                    f"{_f(m.get('kib_per_retained'), 2)} | {_runs(cell)} |")
    return rows


def _drain_table(summary, names, labels):
    ref = _metric(summary, "queue-drain", "mosquitto", "drain_s")
    rows = ["| target | publish s | drain s | range | × Mosquitto (time) | drained msg/s | "
            "received (median) | duplicated | KiB PSS per queued message | runs ok |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for t in names:
        cell = summary["queue-drain"][t]
        m = cell["metrics"]
        rows.append(f"| {labels[t]} | {_f(m.get('publish_s'), 2)} | {_f(m.get('drain_s'), 3)} | "
                    f"{_range(cell, 'drain_s', 3)} | "
                    f"{_ratio(m.get('drain_s'), ref)} | {_f(m.get('drain_per_s'))} | "
                    f"{_f(m.get('received'))} | {_f(m.get('duplicated'))} | "
                    f"{_f(m.get('kib_per_queued'), 2)} | {_runs(cell)} |")
    return rows


def curve_points(summary, plan, names, qos):
    """{target: [(offered, received, p50, p99), ...]} sorted by offered load: the curve
    points and the fixed-rate p2p run of that QoS."""
    scs = [x for x in plan if x.group == f"curve-qos{qos}" or x.name == f"p2p-qos{qos}-rate"]
    out = {}
    for t in names:
        best = {}  # offered load (rounded) -> (ok runs, point): the better-measured one wins
        for sc in scs:
            cell = summary[sc.name][t]
            m = cell["metrics"]
            if m.get("offered_per_s") and m.get("received_per_s") is not None:
                key = round(m["offered_per_s"], -1)
                pt = (m["offered_per_s"], m["received_per_s"], m["p50_ms"], m["p99_ms"])
                if key not in best or cell["ok"] > best[key][0]:
                    best[key] = (cell["ok"], pt)
        out[t] = sorted(p for _, p in best.values())
    return out


def _curve_table(points, names, labels, sat):
    rows = ["| offered msg/s | " + " | ".join(f"{labels[t]} received / p50 / p99 ms"
                                              for t in names) + " |",
            "|---:|" + "---:|" * len(names)]
    offered = sorted({p[0] for t in names for p in points[t]})
    for o in offered:
        cells = []
        for t in names:
            p = next((p for p in points[t] if abs(p[0] - o) < 1e-6 * max(o, 1)), None)
            cells.append(f"{_f(p[1])} / {_f(p[2], 2)} / {_f(p[3], 2)}" if p else "–")
        rows.append(f"| {_f(o)} | " + " | ".join(cells) + " |")
    rows.append("")
    rows.append("Saturation (closed loop, median): " + ", ".join(
        f"{labels[t]} {_f(sat.get(t))} msg/s" for t in names) + ".")
    return rows


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------

def write(path, meta, summary, plan, tlist, records, results):
    names = [t.name for t in tlist]
    labels = {t.name: TARGET_LABEL.get(t.name, t.name) for t in tlist}
    s = _Settings(meta["settings"])
    img_dir = os.path.join(os.path.dirname(path), "benchmarks")
    L = []
    L += ["# Benchmarks: mqtt-broker, our cluster and Mosquitto 2, side by side", ""]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    cmds = " and ".join(
        "`" + " ".join(["bench/suite.sh"] + [shlex.quote(x.replace(root, "")) for x in c]) + "`"
        for c in meta["commands"])
    L += [f"Measured {meta['date']} with {cmds} "
          f"({'TLS' if meta['transport'] == 'tls' else 'plain TCP'}, password authentication "
          "everywhere). How to run it, what each scenario measures and how to read the ratios: "
          "[bench/README.md](../bench/README.md). Every figure is the median of "
          f"{s.rounds} alternating rounds (curve points: {s.curve_rounds}, storms: "
          f"{s.storm_rounds}); raw JSON of every "
          "run is in the results directory the suite prints.", ""]
    if meta["smoke"]:
        L += ["**Smoke run: tiny sizes, the numbers mean nothing.**", ""]
    L += ["Ratios are target ÷ Mosquitto of the same figure: above 1 is better for throughput, "
          "below 1 is better for latency, time and memory.", ""]
    L += ["## Targets of issue 6", ""]
    L += _headline(summary, names, labels, s, records) + [""]
    L += ["\"rounds better\": in how many rounds the target's figure beat Mosquitto's of the "
          "same round (rounds alternate the targets, so a pair shares the machine's state). "
          "Where the median ratio is near the goal, this says whether the difference is more "
          "than the spread between rounds.", ""]
    L += _environment(meta, names, labels)
    L += _setup(meta, names, labels, s)
    groups = [("saturation", "Throughput at saturation (closed loop)", False),
              ("fixed-rate", "p2p at a fixed rate (open loop)", True),
              ("latency", "Latency probe (low rate)", True)]
    L += ["## Results", ""]
    for group, title, rate_col in groups:
        if any(x.group == group for x in plan):
            L += [f"### {title}", ""]
            L += _bench_table(summary, plan, names, labels, group, rate_col) + [""]
    if any(x.group == "storm" for x in plan):
        L += ["### Idle connections (storm): memory per connection", ""]
        L += _storm_table(summary, plan, names, labels) + [""]
    if "retained" in summary:
        L += ["### Retained messages", ""]
        L += _retained_table(summary, names, labels) + [""]
    if "queue-drain" in summary:
        L += ["### Offline queue drain (QoS 1)", ""]
        L += _drain_table(summary, names, labels) + [""]
    for q in (0, 1):
        if not any(x.group == f"curve-qos{q}" for x in plan):
            continue
        pts = curve_points(summary, plan, names, q)
        sat = {t: _metric(summary, f"p2p-qos{q}-sat", t, "received_per_s") for t in names}
        files = plots.curve(img_dir, results, q, pts, sat, labels, names)
        L += [f"### Throughput and latency against offered load, p2p QoS {q}", ""]
        for f in files:
            L += [f"![{os.path.basename(f)}](benchmarks/{os.path.basename(f)})", ""]
        L += _curve_table(pts, names, labels, sat) + [""]
    if meta.get("notes"):
        L += ["## Observations", "", meta["notes"].rstrip(), ""]
    L += _problems(summary, plan, names, labels)
    L += _notes(meta, s)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(L).rstrip() + "\n")
    if os.path.abspath(os.path.dirname(path)) != os.path.abspath(results):
        shutil.copy(path, os.path.join(results, "benchmarks.md"))


class _Settings:
    def __init__(self, d):
        self.__dict__.update(d)


def _environment(meta, names, labels):
    L = ["## Machine and versions", ""]
    L += [f"- {meta['nproc']} cores ({meta['cpu']}), {meta['ram_gib']:.1f} GiB RAM, Linux "
          f"{meta['kernel']}",
          f"- iot-mqtt-server `{meta['git']}`; {meta['mosquitto']}; {meta['openssl']}",
          "- TLS as negotiated by a Python/OpenSSL client: " + ", ".join(
              f"{labels[t]} {v['version']} {v['cipher']}" for t, v in meta["tls"].items()
              if v and t in labels) if any(meta["tls"].values()) else "- plain TCP",
          f"- Load from other work on the machine during the runs (busy CPU not used by the "
          f"targets, the clients or the suite): median {_f(meta['other_cpu_median'], 2)} "
          f"cores, max {_f(meta['other_cpu_max'], 2)} cores of {meta['nproc']}; 1-minute "
          f"load average up to {_f(meta['load1_max'], 1)} (it includes the benchmark itself). "
          f"The clients (mqtt-bench) run on the same cores as the targets.",
          ""]
    return L


def _setup(meta, names, labels, s):
    L = ["## Setup", ""]
    L += [f"- Broker limits on every target: max queued messages {s.max_queued} (retained and "
          f"queue-drain runs: the message count + 1000), max inflight {s.max_inflight}; no "
          f"persistence; $SYS off; logging at warnings. Ours: `--connect-timeout 60` "
          "(Mosquitto never times out a TLS handshake).",
          f"- Clients: mqtt-bench, {s.payload}-byte payloads, warmup {s.warmup:g} s, measured "
          f"{s.duration:g} s (curve {s.curve_duration:g} s), drain ≤ {s.drain:g} s; closed loop "
          f"with {s.inflight} messages in flight per publisher; connects at "
          f"{s.connect_rate:g}/s (storms {s.storm_connect_rate:g}/s).",
          f"- p2p: {s.pairs} publisher/subscriber pairs ({2 * s.pairs} clients). The cluster "
          "gets the clients of p2p, latency and storm runs spread over its two frontends (one "
          "mqtt-bench per frontend, results summed; latency percentiles are the worse "
          "frontend's); fan-in and fan-out go through its first frontend (one mqtt-bench, "
          "same shape as for the other targets).", ""]
    L += ["Target commands (first run; ports are picked per run):", "", "```"]
    for t in names:
        for c in meta["target_commands"].get(t) or []:
            L.append(c)
    L += ["```", ""]
    if meta["mosquitto_conf"]:
        L += ["Generated mosquitto.conf:", "", "```", meta["mosquitto_conf"].rstrip(), "```", ""]
    L += ["mqtt-bench command of each scenario (first run):", "", "```"]
    for sc, (t, cmds) in meta["bench_commands"].items():
        L.append(f"# {sc} ({labels.get(t, t)})")
        L += [" ".join(shlex.quote(x) for x in c) if isinstance(c, list) else c for c in cmds]
    L += ["```", ""]
    return L


def _problems(summary, plan, names, labels):
    L = ["## Failures and anomalies", ""]
    n = 0
    for sc in plan:
        for t in names:
            cell = summary[sc.name][t]
            for e in sorted(set(cell["errors"])):
                L.append(f"- `{sc.name}` {labels[t]}: {e}")
                n += 1
            for a in sorted(set(cell["anomalies"])):
                L.append(f"- `{sc.name}` {labels[t]}: {a}")
                n += 1
    if not n:
        L.append("None: every run completed, no process died, no QoS 1 message was lost "
                 "below overload, every retained message and queued message arrived.")
    notes = [f"- `{sc.name}` {labels[t]} {x}" for sc in plan for t in names
             for x in summary[sc.name][t]["notes"]]
    if notes:
        L += ["", "Expected under overload (not counted as anomalies):", ""] + notes
    return L + [""]


def _notes(meta, s):
    lim = meta["limits"]
    L = ["## Notes", ""]
    asked = max(s.storm) if s.storm else 0
    if asked > lim["process_cap"]:
        L.append(f"- Idle connections are capped at {lim['process_cap']:,} per run: the "
                 f"open-files limit here is {lim['nofile_hard']:,} (hard) and the suite cannot "
                 "raise it (no CAP_SYS_RESOURCE), so one broker process cannot hold more. "
                 "mqtt-bench cannot bind source addresses; the suite gives a target several "
                 f"listeners instead when one destination's {lim['ports']:,} ephemeral ports "
                 "would not suffice.")
    L.append("- Open-loop latency counts from when a message was due, so an overloaded "
             "target shows seconds of latency (its backlog), not the time of the messages "
             "that did get through.")
    L.append("- Retained and queue-drain runs use a small Python client (bench/mqtt_raw.py), "
             "the same for every target; at these sizes it keeps up with the brokers but "
             "its own speed bounds the delivery rates it can see.")
    return L + [""]
