"""Child processes and /proc readings for the benchmark suite.

- spawn(): a child that dies with the suite (PR_SET_PDEATHSIG), in its own session (a
  Ctrl-C on the terminal reaches the suite only, which then stops its children in order),
  output to a log file. Every child the suite starts is listed in LIVE until stopped, so the
  suite's exit path can stop them all.
- cpu_seconds / memory_kib / fd_count: what a process used, from /proc/PID/stat,
  smaps_rollup and fd/.
- system_busy_seconds: busy CPU time of the whole machine (/proc/stat), to tell how much
  other work ran beside a benchmark run.
Used from the suite's main thread only.
"""

import ctypes
import os
import signal
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
LIVE = []  # Popen objects started and not yet stopped

_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _die_with_parent():
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def term_with_parent():
    """SIGTERM to this process when its parent (suite.sh) dies."""
    _libc.prctl(1, signal.SIGTERM)
    if os.getppid() == 1:
        os.kill(os.getpid(), signal.SIGTERM)


def spawn(cmd, log_path, cwd=None):
    log = open(log_path, "ab")
    log.write(("$ " + " ".join(cmd) + "\n").encode())
    log.flush()
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         cwd=cwd, preexec_fn=_die_with_parent, start_new_session=True)
    log.close()
    p.log_path = log_path
    LIVE.append(p)
    return p


def spawn_capture(cmd, stdout_path, stderr_path):
    """A child whose stdout goes to its own file (mqtt-bench --json), stderr to a log."""
    out, err = open(stdout_path, "wb"), open(stderr_path, "ab")
    p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                         preexec_fn=_die_with_parent, start_new_session=True)
    out.close()
    err.close()
    LIVE.append(p)
    return p


def stop(p, timeout=5.0):
    """SIGTERM, then SIGKILL after timeout. Returns the exit code."""
    if p.poll() is None:
        try:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in LIVE:
        LIVE.remove(p)
    return p.returncode


def stop_all():
    for p in list(reversed(LIVE)):
        stop(p, timeout=3.0)


def cpu_seconds(pid):
    """utime + stime of a process, seconds (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def memory_kib(pid):
    """{'rss': KiB, 'pss': KiB, 'anon': KiB} from /proc/PID/smaps_rollup, and 'hwm' (peak RSS).

    'anon' (Anonymous: heap, stacks, anonymous maps) is what connections cost without the
    file-backed pages: PSS divides shared-library pages among every process mapping them, so
    a client starting (mqtt-bench maps libssl, libcrypto, libstdc++) lowers a target's PSS.
    """
    out = {"rss": 0, "pss": 0, "anon": 0, "hwm": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("Rss", "Pss"):
                    out[key.lower()] = int(rest.split()[0])
                elif key == "Anonymous":
                    out["anon"] = int(rest.split()[0])
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    out["hwm"] = int(line.split()[1])
    except OSError:
        pass
    return out


def memory_sum(pids):
    total = {"rss": 0, "pss": 0, "anon": 0, "hwm": 0}
    for pid in pids:
        for k, v in memory_kib(pid).items():
            total[k] += v
    return total


def fd_count(pids):
    n = 0
    for pid in pids:
        try:
            n += len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            pass
    return n


def system_busy_seconds():
    """Busy CPU seconds of the machine since boot, all cores (user nice system irq softirq
    steal)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / CLK_TCK


def self_cpu_seconds():
    t = os.times()
    return t.user + t.system


def wait_gone(p, timeout):
    deadline = time.monotonic() + timeout
    while p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return p.poll() is not None
