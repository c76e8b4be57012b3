"""The soak's summary: a few lines of text on stdout, the same as Markdown for --report.

Reads a finished soak.Run (plan, results, stats, world failures); writes nothing itself.
"""

import datetime

MIB = 1024.0

# Counters worth a line in the report (docs/stats.md); every connections.refused.* and
# messages.dropped.* name is listed too.
COUNTERS = ("connections.total", "messages.in", "messages.out", "messages.enqueued",
            "wills.published", "sessions.taken_over", "events.malformed")
GAUGES = ("connections.current", "sessions.online", "sessions.offline", "subscriptions",
          "messages.queued", "messages.inflight", "retained")


def bench_figures(rc, doc):
    if doc is None:
        return {"exit": rc}
    m, c = doc["messages"], doc["connections"]
    return {"exit": rc, "connected": c["connected"], "failed": c["failed"], "lost_conns": c["lost"],
            "held": c.get("held"), "sent": m["sent"], "acknowledged": m["acknowledged"],
            "received": m["received"], "lost": m["lost"], "duplicated": m["duplicated"],
            "reordered": m["reordered"], "qos": doc["config"]["qos"]}


def bench_errors(doc):
    if doc is None:
        return "no JSON"
    c = doc["connections"]
    return f"errors {c.get('errors')}, lost {c.get('lost_reasons')}"


def _mib(kib):
    return "-" if kib is None else f"{kib / MIB:.1f}"


def _stat_lines(run):
    if run.stats is None:
        return ["stats: (not read)"]
    out = []
    for kind, v in sorted(run.stats.by_kind().items()):
        c, g = v["counters"], v["gauges"]
        names = [n for n in COUNTERS if n in c]
        names += sorted(n for n in c if n.startswith(("connections.refused.", "messages.dropped."))
                        and c[n])
        out.append(f"stats {kind}: " + ", ".join(f"{n} {c[n]}" for n in names))
        out.append(f"gauges {kind} at rest: " +
                   ", ".join(f"{n} {g[n]}" for n in GAUGES if n in g))
    return out


def _lines(run, elapsed, rc):
    r, p = run.results, run.plan
    q = r.get("qos1", {})
    lines = [f"soak {'PASS' if rc == 0 else 'FAIL'}: {run.target.label}, "
             f"{p.duration:g} s of load, {elapsed:.0f} s in all, seed {run.args.seed}"
             + (f", planted fault {run.args.fault}" if run.args.fault else "")]
    if q:
        f = q["flaps"]
        lines.append(
            f"QoS 1 well-behaved: {q['publishers']} publishers x {p.rate:g} msg/s, "
            f"{q['subscribers']} persistent subscribers ({q['flapping']} flapping: "
            f"{f.get('disconnect', 0)} DISCONNECT, {f.get('abort', 0)} socket close, "
            f"{f.get('abort-unacked', 0)} close with unacknowledged deliveries); "
            f"published {q['published']}, acknowledged {q['acknowledged']}; due "
            f"{q['expected']}, received {q['received_unique']}, LOST {q['lost']}; "
            f"DUP re-deliveries {q['dup_redeliveries']}, duplicates without DUP "
            f"{q['dup_without_flag']}, reordered {q['reordered']}"
            + (f"; drained {run.times['qos1_drain_s']:.1f} s after the load"
               if "qos1_drain_s" in run.times else ""))
    for name, b in r.get("bench", {}).items():
        if "sent" not in b:
            lines.append(f"mqtt-bench {name}: exit {b['exit']}, no result")
            continue
        if name == "idle":
            lines.append(f"mqtt-bench idle: {b['held']} idle connections held of "
                         f"{b['connected']} connected (exit {b['exit']})")
        else:
            lines.append(f"mqtt-bench {name} (QoS {b['qos']}): sent {b['sent']}, acknowledged "
                         f"{b['acknowledged']}, received {b['received']}, lost {b['lost']}, "
                         f"duplicated {b['duplicated']} (exit {b['exit']})")
    c = r.get("churn")
    if c:
        lines.append(
            f"churn: {c['started']} cycles at {p.churn_rate:g}/s, {c['completed']} completed, "
            f"{c['failed']} failed ({c['dropped']['disconnect']} DISCONNECT, "
            f"{c['dropped']['close']} socket close); published {c['published']['qos0']} QoS 0 + "
            f"{c['published']['qos1']} QoS 1; QoS 1 echoes {c['echoes']['qos1_received']}/"
            f"{c['echoes']['qos1_expected']}")
    w = r.get("wills")
    if w:
        lines.append(f"wills: expected {w['expected']}, received {w['received']}, missing "
                     f"{w['missing']}, after DISCONNECT {w['after_disconnect']}")
    for kind, m in r.get("misbehaving", {}).items():
        closed = m["closed_after_s"]
        lines.append(f"misbehaving {kind}: {m['clients']} clients ({m['workers']} at a time); "
                     + ", ".join(f"{k} {v}" for k, v in sorted(m["outcomes"].items()))
                     + (f"; closed after {closed['min']}-{closed['max']} s (median "
                        f"{closed['median']})" if closed else ""))
    mem = r.get("memory")
    if mem:
        s, e = mem["window"]
        lines.append(f"memory (RSS MiB, judged over {s:.0f}-{e:.0f} s; bound: second half <= "
                     f"1.25 x plateau + 32 MiB, no rising troughs):")
        for v in mem["processes"]:
            lines.append(
                f"  {v['name']}: min {_mib(v.get('rss_min'))} plateau {_mib(v.get('plateau'))} "
                f"max {_mib(v.get('rss_max'))} end {_mib(v.get('rss_end'))} bound "
                f"{_mib(v.get('limit'))}; troughs "
                f"{'/'.join(_mib(x) for x in v.get('troughs', []))}; trend "
                f"{v.get('slope_mib_per_min', 0):+.2f} MiB/min; PSS max {_mib(v.get('pss_max'))}"
                f"; {v['samples']} samples")
    lines += _stat_lines(run)
    if "probe" in r:
        lines.append(f"alive at the end: {'yes, and serving' if r['probe'] else 'NO'}; "
                     f"stopped with exit codes {r.get('stop_codes', {})}")
    if run.world.failures:
        lines.append("FAILURES:")
        for cat, n in sorted(run.world.failures.items()):
            lines.append(f"  {cat} ({n}x): " + " | ".join(run.world.examples[cat]))
    return lines


def text(run, elapsed, rc):
    return "\n".join(_lines(run, elapsed, rc))


def markdown(run, elapsed, rc):
    lines = _lines(run, elapsed, rc)
    out = [f"# Soak test: {lines[0][len('soak '):]}", "",
           f"{datetime.datetime.now().isoformat(timespec='seconds')}, "
           f"`tests/soak/soak.sh {' '.join(_argv(run.args))}`", ""]
    body = lines[1:]
    for line in body:
        if line.startswith("  "):
            out.append(f"  - {line.strip()}")
        else:
            out.append(f"- {line}")
    return "\n".join(out) + "\n"


def _argv(a):
    out = ["--smoke"] if a.smoke else []
    if a.duration is not None:
        out += ["--duration", f"{a.duration:g}"]
    out += ["--target", a.target, "--seed", str(a.seed)]
    if a.fault:
        out += ["--fault", a.fault]
    return out
