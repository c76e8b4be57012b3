"""Memory of the processes under soak: sampled once a second, judged at the end.

Sampler.run() is an asyncio task (the soak's loop): every second it reads VmRSS from
/proc/PID/status and Pss from /proc/PID/smaps_rollup (when readable) of every process of the
target. judge() applies the bound to the samples taken under load after the warm-up:

  window     = [load start + warm-up, load end], cut into two halves
  plateau    = the highest RSS of the first half
  bound      : max RSS of the second half <= 1.25 x plateau + 32 MiB
  no trend   : the lowest RSS of each quarter of the window does not rise quarter after
               quarter by more than max(8 MiB, 10 % of the first quarter's) in all

Why these numbers: under a steady load a healthy process reaches its plateau once every kind
of client has cycled once (the warm-up); after that glibc's arenas and the TLS buffers move
with how many connections happen to be open at the same moment, a few MiB either way, and a
freed peak is not always returned to the kernel. 32 MiB absorbs that for a broker of a few
tens of MiB (where 25 % is a handful of MiB of noise); 25 % lets a bigger process (the
cluster's router after 10 minutes) breathe with its size. A leak that matters in a long run
passes the bound; a smaller one that grows steadily is caught by the trend: the troughs of
a healthy process stay put, a leak lifts the troughs of every quarter. Both are checked per
process (for the cluster the router and each frontend), never on a sum.
"""

import asyncio
import time

MIB = 1024


def read_kib(pid):
    """(rss KiB, pss KiB or None); (None, None) when the process is gone."""
    rss = pss = None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                    break
    except OSError:
        return None, None
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                    break
    except OSError:
        pass
    return rss, pss


class Sampler:
    def __init__(self, names, pids, t0):
        self.names = names
        self.pids = pids
        self.t0 = t0
        self.samples = []  # (seconds since t0, {name: (rss, pss)})

    def sample(self):
        now = time.monotonic() - self.t0
        self.samples.append((now, {n: read_kib(p) for n, p in zip(self.names, self.pids)}))

    async def run(self, period=1.0):
        while True:
            self.sample()
            await asyncio.sleep(period)

    def series(self, name, start=None, end=None):
        """[(t, rss KiB, pss KiB)] of one process, optionally within [start, end]."""
        out = []
        for t, by in self.samples:
            rss, pss = by.get(name, (None, None))
            if rss is None:
                continue
            if (start is None or t >= start) and (end is None or t <= end):
                out.append((t, rss, pss))
        return out


def _slope_mib_per_min(points):
    n = len(points)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    cov = sum((t - mt) * (v - mv) for t, v in points)
    return cov / var * 60 / MIB


def judge(sampler, start, end):
    """Per process: figures for the report and the failures ([] when bounded)."""
    results = []
    for name in sampler.names:
        all_pts = sampler.series(name)
        pts = sampler.series(name, start, end)
        r = {"name": name, "samples": len(all_pts), "window_samples": len(pts),
             "failures": []}
        if all_pts:
            r["rss_min"] = min(p[1] for p in all_pts)
            r["rss_max"] = max(p[1] for p in all_pts)
            r["rss_end"] = all_pts[-1][1]
            pss = [p[2] for p in all_pts if p[2] is not None]
            r["pss_max"] = max(pss) if pss else None
            r["pss_end"] = all_pts[-1][2]
        if len(pts) < 8:
            r["failures"].append(f"{name}: only {len(pts)} RSS samples in the judged window")
            results.append(r)
            continue
        half = start + (end - start) / 2
        first = [p[1] for p in pts if p[0] < half]
        second = [p[1] for p in pts if p[0] >= half]
        plateau, late_max = max(first), max(second)
        limit = 1.25 * plateau + 32 * MIB
        r.update(plateau=plateau, late_max=late_max, limit=int(limit),
                 slope_mib_per_min=_slope_mib_per_min([(p[0], p[1]) for p in pts]))
        if late_max > limit:
            r["failures"].append(
                f"{name}: RSS {late_max / MIB:.1f} MiB in the second half exceeds the bound "
                f"1.25 x plateau {plateau / MIB:.1f} MiB + 32 MiB = {limit / MIB:.1f} MiB")
        q = (end - start) / 4
        troughs = []
        for k in range(4):
            vals = [p[1] for p in pts if start + k * q <= p[0] < start + (k + 1) * q
                    or (k == 3 and p[0] == end)]
            if vals:
                troughs.append(min(vals))
        r["troughs"] = troughs
        if len(troughs) == 4:
            rising = all(b > a for a, b in zip(troughs, troughs[1:]))
            allowed = max(8 * MIB, 0.10 * troughs[0])
            if rising and troughs[3] - troughs[0] > allowed:
                r["failures"].append(
                    f"{name}: RSS troughs rise quarter after quarter "
                    f"({', '.join(f'{v / MIB:.1f}' for v in troughs)} MiB), "
                    f"{(troughs[3] - troughs[0]) / MIB:.1f} MiB in all > "
                    f"{allowed / MIB:.1f} MiB allowed: steady growth")
        results.append(r)
    return results
