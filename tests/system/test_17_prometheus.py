"""mqtt-stat --prometheus against real processes: one mqtt-router and one mqtt-frontend, each
with its own --stats port on loopback, and mqtt-stat serving them over HTTP on a free loopback
port. A known load (one subscriber; 50 QoS 1 and 30 QoS 0 publishes) must show up exactly in
GET /metrics, which a strict parser of the text format (0.0.4) written here must accept whole.
Wrong paths are 404, wrong methods 405; a 100 KB header, garbage bytes and a client that never
finishes its request get an error or a close and do not stop the next scrape; scrapes run in
parallel; a process that stops goes stale (mqtt_up 0, its samples gone); SIGINT/SIGTERM exit 0
and nothing is printed on stdout.
"""

import math
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from harness import BIN_DIR, HOST, IS_MOSQUITTO, USERS, MqttClient, Pki, free_port, write_password_file
from test_10_tiers import Process, wait_port

MQTT_STAT = os.path.join(BIN_DIR, "mqtt-stat")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# ---------------------------------------------------------------------------------------------
# A strict parser of the Prometheus text exposition format 0.0.4
# ---------------------------------------------------------------------------------------------

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class ParseError(AssertionError):
    pass


def parse_labels(text, lineno):
    """'a="x",b="y\\"z"' -> {"a": "x", "b": 'y"z'}; escapes \\\\, \\" and \\n only."""
    labels, i = {}, 0
    while i < len(text):
        m = LABEL_NAME.match(text, i)
        if not m:
            raise ParseError(f"line {lineno}: bad label name at {text[i:]!r}")
        name, i = m.group(0), m.end()
        if text[i:i + 2] != '="':
            raise ParseError(f"line {lineno}: expected =\" after label {name}")
        i += 2
        value = []
        while True:
            if i >= len(text):
                raise ParseError(f"line {lineno}: unterminated value of label {name}")
            c = text[i]
            if c == '"':
                i += 1
                break
            if c == "\\":
                nxt = text[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ParseError(f"line {lineno}: bad escape \\{nxt} in label {name}")
                value.append("\n" if nxt == "n" else nxt)
                i += 2
                continue
            if c == "\n":
                raise ParseError(f"line {lineno}: raw newline in label {name}")
            value.append(c)
            i += 1
        if name in labels:
            raise ParseError(f"line {lineno}: label {name} twice")
        labels[name] = "".join(value)
        if i < len(text):
            if text[i] != ",":
                raise ParseError(f"line {lineno}: expected , after label {name}")
            i += 1
    return labels


def split_sample(line, lineno):
    m = METRIC_NAME.match(line)
    if not m:
        raise ParseError(f"line {lineno}: not a metric name: {line!r}")
    name, rest = m.group(0), line[m.end():]
    labels = {}
    if rest.startswith("{"):
        # The closing brace: the first } outside a quoted value.
        i, quoted = 1, False
        while i < len(rest):
            c = rest[i]
            if quoted and c == "\\":
                i += 2
                continue
            if c == '"':
                quoted = not quoted
            elif c == "}" and not quoted:
                break
            i += 1
        else:
            raise ParseError(f"line {lineno}: no closing brace")
        labels = parse_labels(rest[1:i], lineno)
        rest = rest[i + 1:]
    if not rest.startswith(" "):
        raise ParseError(f"line {lineno}: expected a space before the value: {line!r}")
    parts = rest[1:].split(" ")
    if len(parts) not in (1, 2) or (len(parts) == 2 and not re.fullmatch(r"-?\d+", parts[1])):
        raise ParseError(f"line {lineno}: expected 'value [timestamp]': {line!r}")
    try:
        value = float(parts[0])  # also +Inf, -Inf, NaN
    except ValueError:
        raise ParseError(f"line {lineno}: not a number: {parts[0]!r}") from None
    return name, labels, value


def family_of(sample_name, family, ftype):
    if ftype == "histogram":
        return sample_name in (family + "_bucket", family + "_sum", family + "_count")
    if ftype == "summary":
        return sample_name in (family, family + "_sum", family + "_count")
    return sample_name == family


def parse_exposition(text):
    """{family: {"type", "help", "samples": [(name, labels, value)]}}, or ParseError. Every line
    must be '# HELP', '# TYPE' or a sample; a family's TYPE comes before its samples, which are
    contiguous; no family twice; no series twice; histograms cumulative with +Inf == _count."""
    if not text.endswith("\n"):
        raise ParseError("the body does not end with a newline")
    families, series, current = {}, set(), None
    for lineno, line in enumerate(text[:-1].split("\n"), 1):
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) ([^ ]+) (.*)", line)
            if not m or not METRIC_NAME.fullmatch(m.group(2)):
                raise ParseError(f"line {lineno}: not '# HELP name text' nor '# TYPE name type'")
            kind, name, rest = m.groups()
            if name != current and name in families:
                raise ParseError(f"line {lineno}: family {name} appears twice")
            f = families.setdefault(name, {"type": None, "help": None, "samples": []})
            if f["samples"]:
                raise ParseError(f"line {lineno}: {kind} of {name} after its samples")
            if kind == "HELP":
                if f["help"] is not None:
                    raise ParseError(f"line {lineno}: second HELP for {name}")
                f["help"] = rest
            else:
                if f["type"] is not None:
                    raise ParseError(f"line {lineno}: second TYPE for {name}")
                if rest not in TYPES:
                    raise ParseError(f"line {lineno}: unknown type {rest!r}")
                f["type"] = rest
            current = name
            continue
        name, labels, value = split_sample(line, lineno)
        if current is None or families[current]["type"] is None:
            raise ParseError(f"line {lineno}: sample {name} before any TYPE")
        if not family_of(name, current, families[current]["type"]):
            raise ParseError(f"line {lineno}: sample {name} is not of family {current} "
                             "(no TYPE for it before its samples, or families interleaved)")
        key = (name, tuple(sorted(labels.items())))
        if key in series:
            raise ParseError(f"line {lineno}: series {key} twice")
        series.add(key)
        families[current]["samples"].append((name, labels, value))
    for name, f in families.items():
        if f["type"] == "histogram":
            check_histogram(name, f["samples"])
    return families


def check_histogram(name, samples):
    groups = {}
    for sample, labels, value in samples:
        base = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        g = groups.setdefault(base, {"buckets": [], "count": None, "sum": None})
        if sample.endswith("_bucket"):
            if "le" not in labels:
                raise ParseError(f"{name}: a bucket without le")
            g["buckets"].append((float(labels["le"]), value))
        elif sample.endswith("_count"):
            g["count"] = value
        else:
            g["sum"] = value
    for base, g in groups.items():
        les = [le for le, _ in g["buckets"]]
        counts = [c for _, c in g["buckets"]]
        if les != sorted(les) or not les or les[-1] != math.inf:
            raise ParseError(f"{name}{base}: buckets not increasing up to +Inf: {les}")
        if counts != sorted(counts):
            raise ParseError(f"{name}{base}: buckets not cumulative: {counts}")
        if g["count"] != counts[-1] or g["sum"] is None:
            raise ParseError(f"{name}{base}: _count {g['count']} != +Inf bucket {counts[-1]}")


def samples(families, name, **labels):
    """Values of sample `name` whose labels include `labels`."""
    out = []
    for f in families.values():
        for n, l, v in f["samples"]:
            if n == name and all(l.get(k) == want for k, want in labels.items()):
                out.append(v)
    return out


def one(families, name, **labels):
    values = samples(families, name, **labels)
    if len(values) != 1:
        raise AssertionError(f"{name}{labels}: {len(values)} samples, wanted 1")
    return values[0]


# ---------------------------------------------------------------------------------------------
# HTTP helpers
# ---------------------------------------------------------------------------------------------

def http(url, method="GET", data=None, timeout=5):
    """(status, headers, body) for any status."""
    req = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        try:
            return e.code, e.headers, e.read()
        finally:
            e.close()


def wait_until(what, predicate, timeout=15.0, period=0.2):
    """Polls predicate() (a value, or None/False to go on) until it answers or the deadline."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            got = predicate()
            if got:
                return got
        except (OSError, AssertionError) as e:
            last_error = e
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s (last error: {last_error})")
        time.sleep(period)


class Exporter:
    """One `mqtt-stat --prometheus 127.0.0.1:PORT ENDPOINT...` with its output captured."""

    def __init__(self, workdir, name, endpoints):
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.out_path = os.path.join(workdir, name + ".out")
        self.err_path = os.path.join(workdir, name + ".err")
        self.out = open(self.out_path, "wb")
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([MQTT_STAT, "--prometheus", f"{HOST}:{self.port}", *endpoints],
                                     stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL)
        wait_port(self.port)

    def scrape(self):
        status, headers, body = http(self.url + "/metrics")
        if status != 200:
            raise AssertionError(f"GET /metrics: {status}")
        if headers["Content-Type"] != CONTENT_TYPE:
            raise AssertionError(f"Content-Type {headers['Content-Type']!r}")
        return parse_exposition(body.decode("utf-8"))

    def stop(self, sig=signal.SIGTERM, timeout=5):
        """Exit code after `sig`."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
                self.close_files()
                raise AssertionError(f"mqtt-stat did not exit within {timeout}s of {sig}")
        self.close_files()
        return self.proc.returncode

    def close_files(self):
        for f in (self.out, self.err):
            if not f.closed:
                f.close()

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read()

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")


@unittest.skipIf(IS_MOSQUITTO, "the tiers are ours only")
class PrometheusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mqtt-prom-")
        cls.pki = Pki(cls.tmp)
        cls.passwd = os.path.join(cls.tmp, "passwd")
        write_password_file(cls.passwd, USERS)
        router_ep = f"tcp://{HOST}:{free_port()}"
        cls.router_stats = f"tcp://{HOST}:{free_port()}"
        cls.frontend_stats = f"tcp://{HOST}:{free_port()}"
        cls.port = free_port()
        cls.router = Process("router", [
            os.path.join(BIN_DIR, "mqtt-router"), "--bind", router_ep, "--router-id", "r-prom",
            "--stats", cls.router_stats], cls.tmp)
        cls.frontend = Process("frontend", [
            os.path.join(BIN_DIR, "mqtt-frontend"), "--routers", router_ep,
            "--listen", f"tls://{HOST}:{cls.port}", "--tls-cert", cls.pki.cert,
            "--tls-key", cls.pki.key, "--password-file", cls.passwd, "--frontend-id", "fe-prom",
            "--stats", cls.frontend_stats], cls.tmp)
        cls.exporter = None
        try:
            cls.router.start()
            cls.frontend.start()
            wait_port(cls.port)
            cls.exporter = Exporter(cls.tmp, "mqtt-stat", [cls.router_stats, cls.frontend_stats])
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        ok = cls.router.alive() and cls.frontend.alive()
        rc = None
        if cls.exporter:
            ok = ok and cls.exporter.proc.poll() is None
            rc = cls.exporter.stop(signal.SIGINT)
        cls.frontend.stop()
        cls.router.stop()
        if not ok or rc not in (0, None):
            print(f"----- router -----\n{cls.router.log()}\n----- frontend -----\n"
                  f"{cls.frontend.log()}\n----- mqtt-stat (rc {rc}) -----\n"
                  f"{cls.exporter.stderr() if cls.exporter else ''}")
        shutil.rmtree(cls.tmp, True)
        if rc not in (0, None):
            raise AssertionError(f"mqtt-stat --prometheus exited {rc} after SIGINT")

    def setUp(self):
        self.assertIsNone(self.exporter.proc.poll(), "mqtt-stat died:\n" + self.exporter.stderr())

    def connected(self, client_id):
        deadline = time.monotonic() + 10
        while True:
            c = MqttClient(self.pki, self.port, client_id)
            try:
                rc, _ = c.connect(timeout=2)
                if rc == 0:
                    self.addCleanup(c.close)
                    return c
            except AssertionError:
                pass
            c.close()
            if time.monotonic() > deadline:
                self.fail(f"{client_id} could not connect")
            time.sleep(0.2)

    def both_up(self):
        fams = self.exporter.scrape()
        up = {(l["kind"], l["id"], l["endpoint"]): v
              for n, l, v in fams.get("mqtt_up", {"samples": []})["samples"]}
        want = {("router", "r-prom", self.router_stats), ("frontend", "fe-prom", self.frontend_stats)}
        return fams if set(up) == want and all(v == 1 for v in up.values()) else None

    def test_a_known_load_is_counted_exactly(self):
        wait_until("both processes up", self.both_up)
        sub = self.connected("prom-sub")
        self.assertEqual(sub.subscribe("prom/#", qos=1), [1])
        pub = self.connected("prom-pub")
        for i in range(50):
            pub.publish("prom/x", f"q1-{i}".encode(), qos=1)
        for i in range(30):
            pub.publish("prom/x", f"q0-{i}".encode(), qos=0)
        got = sub.get_messages(80, timeout=15)
        received_qos1 = sum(1 for m in got if m.qos == 1)
        received_qos0 = sum(1 for m in got if m.qos == 0)
        self.assertEqual((received_qos1, received_qos0), (50, 30))

        router = {"kind": "router", "id": "r-prom"}
        frontend = {"kind": "frontend", "id": "fe-prom"}

        def settled():
            fams = self.exporter.scrape()
            done = (samples(fams, "mqtt_messages_in_total", **router) == [80]
                    and samples(fams, "mqtt_messages_out_total", **router) == [80]
                    and samples(fams, "mqtt_messages_in_total", **frontend) == [80]
                    and samples(fams, "mqtt_messages_out_total", **frontend) == [80])
            return fams if done else None

        fams = wait_until("the load in /metrics", settled)
        self.assertEqual(one(fams, "mqtt_up", endpoint=self.router_stats, **router), 1)
        self.assertEqual(one(fams, "mqtt_up", endpoint=self.frontend_stats, **frontend), 1)
        self.assertEqual(one(fams, "mqtt_messages_in_qos1_total", **router), 50)
        self.assertEqual(one(fams, "mqtt_messages_in_qos0_total", **router), 30)
        self.assertEqual(one(fams, "mqtt_messages_in_qos1_total", **frontend), 50)
        self.assertEqual(one(fams, "mqtt_messages_in_qos0_total", **frontend), 30)
        # Delivered: what the subscriber received, split by delivery QoS.
        self.assertEqual(one(fams, "mqtt_messages_out_qos1_total", **router), received_qos1)
        self.assertEqual(one(fams, "mqtt_messages_out_qos0_total", **router), received_qos0)
        self.assertEqual(one(fams, "mqtt_messages_out_qos1_total", **frontend), received_qos1)
        self.assertEqual(one(fams, "mqtt_messages_out_qos0_total", **frontend), received_qos0)
        self.assertEqual(one(fams, "mqtt_connections_current", **frontend), 2)
        self.assertEqual(one(fams, "mqtt_sessions_online", **router), 2)
        self.assertGreater(one(fams, "mqtt_uptime_seconds", **router), 0)
        self.assertGreater(one(fams, "mqtt_uptime_seconds", **frontend), 0)
        # Types and names follow docs/stats.md "Prometheus".
        self.assertEqual(fams["mqtt_up"]["type"], "gauge")
        self.assertEqual(fams["mqtt_messages_in_total"]["type"], "counter")
        self.assertEqual(fams["mqtt_subscriptions"]["type"], "gauge")
        for name, f in fams.items():
            self.assertTrue(name.startswith("mqtt_"), name)
            self.assertIsNotNone(f["help"], name)
            if f["type"] == "counter":
                self.assertTrue(name.endswith("_total"), name)
            if f["type"] == "histogram":
                self.assertTrue(name.endswith("_seconds"), name)
            for _, labels, _ in f["samples"]:
                self.assertIn(labels.get("kind"), ("router", "frontend"), (name, labels))
                self.assertIn(labels.get("id"), ("r-prom", "fe-prom"), (name, labels))

    def test_index_page_links_to_metrics(self):
        status, headers, body = http(self.exporter.url + "/")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/html"), headers["Content-Type"])
        self.assertIn(b'href="/metrics"', body)

    def test_wrong_path_is_404_and_wrong_method_405(self):
        for path in ("/nope", "/metrics/", "/metricsx", "/index.html"):
            status, _, _ = http(self.exporter.url + path)
            self.assertEqual(status, 404, path)
        for method in ("POST", "PUT", "DELETE"):
            status, headers, _ = http(self.exporter.url + "/metrics", method=method, data=b"")
            self.assertEqual(status, 405, method)
            self.assertIn("GET", headers["Allow"])
        status, headers, body = http(self.exporter.url + "/metrics", method="HEAD")
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(headers["Content-Type"], CONTENT_TYPE)
        self.assertGreater(int(headers["Content-Length"]), 0)
        self.exporter.scrape()

    def raw_exchange(self, data, timeout=10):
        """Sends `data` (as far as the server takes it); returns what came back before the close
        or reset, and whether the server closed within `timeout`."""
        s = socket.create_connection((HOST, self.exporter.port), timeout=timeout)
        got = b""
        closed = False
        try:
            try:
                s.sendall(data)
            except OSError:
                pass  # the server gave up reading: fine
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    chunk = s.recv(65536)
                except (socket.timeout, TimeoutError):
                    break
                except OSError:  # reset
                    closed = True
                    break
                if not chunk:
                    closed = True
                    break
                got += chunk
        finally:
            s.close()
        return got, closed

    def test_oversized_and_garbage_requests_get_an_error_or_a_close(self):
        huge = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"
        got, closed = self.raw_exchange(huge)
        self.assertTrue(closed, "the server kept the connection open")
        self.assertTrue(got == b"" or got.startswith(b"HTTP/1.1 431"), got[:200])
        got, closed = self.raw_exchange(b"\x00\xff\x16\x03\x01 garbage\r\n\r\n")
        self.assertTrue(closed)
        self.assertTrue(got == b"" or got.startswith(b"HTTP/1.1 400"), got[:200])
        got, closed = self.raw_exchange(b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                        b"\r\nhello")
        self.assertTrue(closed)
        self.assertTrue(got == b"" or got.startswith(b"HTTP/1.1 413"), got[:200])
        self.exporter.scrape()  # still serving

    def test_a_client_that_never_finishes_is_closed_and_blocks_nobody(self):
        slow = socket.create_connection((HOST, self.exporter.port), timeout=20)
        self.addCleanup(slow.close)
        slow.sendall(b"GET /metr")
        for _ in range(3):
            self.exporter.scrape()  # served while the slow one waits
        start = time.monotonic()
        self.assertEqual(slow.recv(100), b"")  # closed by the read deadline (10 s)
        self.assertLess(time.monotonic() - start, 15)
        self.exporter.scrape()

    def test_parallel_scrapes(self):
        errors = []

        def scraper():
            try:
                for _ in range(5):
                    fams = self.exporter.scrape()
                    if "mqtt_up" not in fams:
                        errors.append("no mqtt_up")
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        # Two keep-alive connections held open at the same time as the scrapers.
        held = [socket.create_connection((HOST, self.exporter.port), timeout=5) for _ in range(2)]
        for s in held:
            self.addCleanup(s.close)
        threads = [threading.Thread(target=scraper) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(errors, [])
        # A keep-alive connection answers two requests in a row.
        s = held[0]
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        deadline = time.monotonic() + 5
        while got.count(b"HTTP/1.1 ") < 2 and time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        self.assertTrue(got.startswith(b"HTTP/1.1 200"), got[:100])
        self.assertIn(b"HTTP/1.1 404", got)

    def test_a_stopped_process_goes_stale_and_silent_endpoints_are_down(self):
        stats = f"tcp://{HOST}:{free_port()}"
        silent = f"tcp://{HOST}:{free_port()}"
        router = Process("router-stale", [
            os.path.join(BIN_DIR, "mqtt-router"), "--bind", f"tcp://{HOST}:{free_port()}",
            "--router-id", "r-stale", "--stats", stats], self.tmp)
        router.start()
        self.addCleanup(router.stop)
        exporter = Exporter(self.tmp, "mqtt-stat-stale", [stats, silent])
        self.addCleanup(exporter.stop)
        fams = wait_until("r-stale up", lambda: (lambda f: f if samples(
            f, "mqtt_up", id="r-stale") == [1] else None)(exporter.scrape()))
        self.assertEqual(one(fams, "mqtt_up", endpoint=silent), 0)
        self.assertEqual(one(fams, "mqtt_up", endpoint=silent, kind="", id=""), 0)
        self.assertEqual(samples(fams, "mqtt_messages_in_total", id="r-stale"), [0])
        router.stop()
        stop = time.monotonic()
        fams = wait_until("r-stale down", lambda: (lambda f: f if samples(
            f, "mqtt_up", id="r-stale") == [0] else None)(exporter.scrape()), timeout=10)
        self.assertGreater(time.monotonic() - stop, 1.5)  # not before ~3 s without snapshots
        self.assertEqual(one(fams, "mqtt_up", kind="router", id="r-stale", endpoint=stats), 0)
        self.assertEqual(samples(fams, "mqtt_messages_in_total", id="r-stale"), [])
        self.assertEqual(samples(fams, "mqtt_uptime_seconds", id="r-stale"), [])
        self.assertEqual(exporter.stop(signal.SIGTERM), 0)
        self.assertEqual(exporter.stdout(), b"")  # no table in this mode

    def test_bad_arguments_and_a_busy_port(self):
        for args in (["--prometheus"], ["--prometheus", "9464", self.router_stats],
                     ["--prometheus", "::1:9464", self.router_stats],
                     ["--prometheus", "127.0.0.1:99999", self.router_stats],
                     ["--prometheus", "127.0.0.1:x", self.router_stats],
                     ["--prometheus", f"{HOST}:{free_port()}"],
                     ["--json", "--prometheus", f"{HOST}:{free_port()}", self.router_stats]):
            r = subprocess.run([MQTT_STAT, *args], capture_output=True, timeout=10, text=True)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, (args, r.stderr))
        busy = subprocess.run([MQTT_STAT, "--prometheus", f"{HOST}:{self.exporter.port}",
                               self.router_stats], capture_output=True, timeout=10, text=True)
        self.assertEqual(busy.returncode, 1, busy.stderr)
        self.assertIn(str(self.exporter.port), busy.stderr)
        r = subprocess.run([MQTT_STAT, "--help"], capture_output=True, timeout=10, text=True)
        self.assertIn("--prometheus", r.stdout)

    def test_ipv6_listener(self):
        if not socket.has_ipv6:
            self.skipTest("no IPv6")
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
                s.bind(("::1", 0))
                port = s.getsockname()[1]
        except OSError:
            self.skipTest("no ::1")
        p = subprocess.Popen([MQTT_STAT, "--prometheus", f"[::1]:{port}", self.router_stats],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            def scraped():
                status, _, body = http(f"http://[::1]:{port}/metrics")
                return status == 200 and b'mqtt_up{kind="router",id="r-prom"' in body
            wait_until("a scrape over IPv6", scraped)
        finally:
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=5)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(out, b"")


if __name__ == "__main__":
    unittest.main(verbosity=2)
