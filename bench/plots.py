"""PNG plots of the throughput/latency curve with gnuplot (Debian package gnuplot-nox): for
one QoS (the plotted numbers in data_dir, the PNGs in img_dir), received msg/s against offered msg/s, and p50/p99 latency (log scale) against
offered msg/s, one line per target, Mosquitto's saturation marked. Returns the files
written; none (and a note on stderr) when gnuplot is missing.
"""

import os
import shutil
import subprocess
import sys

COLORS = {"ours": "#1f77b4", "cluster": "#2ca02c", "mosquitto": "#d62728"}


def _write_data(path, pts):
    with open(path, "w") as f:
        for offered, received, p50, p99 in pts:
            lat = ["NaN" if v is None else f"{max(v, 1e-3):.4f}" for v in (p50, p99)]
            f.write(f"{offered:.3f} {received:.3f} {lat[0]} {lat[1]}\n")


def curve(img_dir, data_dir, qos, points, sat, labels, names):
    if not shutil.which("gnuplot"):
        print("suite: gnuplot not found (apt-get install gnuplot-nox): no plots",
              file=sys.stderr)
        return []
    os.makedirs(img_dir, exist_ok=True)
    data = {}
    for t in names:
        if points.get(t):
            data[t] = os.path.join(data_dir, f"curve-qos{qos}-{t}.dat")
            _write_data(data[t], points[t])
    if not data:
        return []
    tput = os.path.join(img_dir, f"curve-qos{qos}-throughput.png")
    lat = os.path.join(img_dir, f"curve-qos{qos}-latency.png")
    top = max(p[0] for t in data for p in points[t])
    mark = ""
    if sat.get("mosquitto"):
        mark = (f"set arrow from {sat['mosquitto']:.1f}, graph 0 to {sat['mosquitto']:.1f}, "
                "graph 1 nohead dt 3 lc rgb '#888888'\n"
                f"set label 'Mosquitto saturation' at {sat['mosquitto']:.1f}, graph 0.95 "
                "offset 0.5,0 font ',9' tc rgb '#666666'\n")
    common = ("set terminal pngcairo size 900,560 font 'sans,10'\n"
              "set grid\nset key top left\nset format x '%.0s%c'\n"
              f"set xrange [0:{top * 1.05:.1f}]\n"
              "set xlabel 'offered load, msg/s (all publishers)'\n" + mark)
    t_lines = [f"'{data[t]}' using 1:2 with linespoints lw 2 pt 7 lc rgb '{COLORS[t]}' "
               f"title '{labels[t]}'" for t in data]
    t_lines.append("x with lines dt 2 lc rgb '#999999' title 'received = offered'")
    l_lines = []
    for t in data:
        l_lines.append(f"'{data[t]}' using 1:4 with linespoints lw 2 pt 7 lc rgb '{COLORS[t]}' "
                       f"title '{labels[t]} p99'")
        l_lines.append(f"'{data[t]}' using 1:3 with linespoints lw 1 dt 2 pt 6 "
                       f"lc rgb '{COLORS[t]}' title '{labels[t]} p50'")
    script = (common + f"set output '{tput}'\n"
              f"set title 'p2p QoS {qos}: throughput against offered load'\n"
              "set ylabel 'received msg/s'\nset format y '%.0s%c'\nset yrange [0:*]\n"
              "plot " + ", \\\n  ".join(t_lines) + "\n"
              f"set output '{lat}'\n"
              f"set title 'p2p QoS {qos}: latency against offered load'\n"
              "set ylabel 'latency, ms (log)'\nset logscale y\nset format y '%g'\n"
              "set yrange [*:*]\nset key top left\n"
              "plot " + ", \\\n  ".join(l_lines) + "\n")
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True, timeout=60)
    if r.returncode != 0:
        print(f"suite: gnuplot failed: {r.stderr.strip()}", file=sys.stderr)
        return []
    return [tput, lat]
