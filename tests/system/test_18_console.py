"""The web console (frontend/console, served by frontend/net/console_assets.* on wss listeners),
over HTTPS and in headless Chromium.

One mqtt-router (--sys-interval 1) and one mqtt-frontend with a TLS and a wss listener on free
loopback ports. (a) raw HTTPS: GET / is the page with the security headers, the assets are
served, unknown paths 404, and the WSS upgrade on /mqtt still works. In Chromium (Debian's
/usr/bin/chromium, driven by puppeteer-core from tests/system/js/console_browser.js, talking to
127.0.0.1 only): (b) a wrong password shows the CONNACK refusal, the right one shows the $SYS
numbers, and a paho client connecting over TLS raises the connected-clients number; (c) the
topic browser shows what paho publishes over TLS; (d) the publish form reaches a paho subscriber
over TLS. Every wait polls up to a deadline.

Skips (exit code 77, ctest SKIP_RETURN_CODE) only when chromium is not installed, or the broker
under test is mosquitto. puppeteer-core and MQTT.js are installed with `npm ci` into <build
dir>/js like test_14's.
"""

import http.client
import json
import os
import queue
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from harness import (BIN_DIR, HOST, IS_MOSQUITTO, USERS, MqttClient, Pki, free_port,
                     write_password_file)
from test_10_tiers import Process, wait_port
from test_14_websocket import JS_DIR, install_js_modules

CHROMIUM = "/usr/bin/chromium"
SKIP = 77
CSP = ("default-src 'self'; connect-src 'self' wss: ws:; img-src 'self' data:; "
       "style-src 'self'; script-src 'self'")
SYS_CONNECTED = "$SYS/broker/clients/connected"
DEADLINE = 15.0  # seconds for anything the page shows (the $SYS interval is 1 s)


def skip_reason():
    if IS_MOSQUITTO:
        return "the web console is ours only"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    return None


def poll(fetch, accept, timeout, what):
    """fetch() until accept(value) holds; returns the value, or fails showing the last one."""
    deadline = time.monotonic() + timeout
    value = None
    while True:
        value = fetch()
        if accept(value):
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout}s; last seen: {value!r}")
        time.sleep(0.1)


class Browser:
    """console_browser.js under node: Chromium and one page, driven by JSON commands."""

    def __init__(self, workdir, modules):
        node = shutil.which("node")
        if not node:
            raise AssertionError("node is not installed (apt-get install nodejs npm)")
        self.profile = tempfile.mkdtemp(prefix="chromium-", dir=workdir)
        self.stderr_path = os.path.join(workdir, "console_browser.stderr")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [node, os.path.join(JS_DIR, "console_browser.js"), CHROMIUM, self.profile],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, text=True,
            env=dict(os.environ, NODE_PATH=modules), start_new_session=True)
        self.chromium_pid = None
        self._lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._next_id = 0
        launched = self._line(60, "Chromium launch")
        if launched.get("event") != "launched":
            raise AssertionError(f"Chromium did not start: {launched}\n{self.stderr()}")
        self.chromium_pid = launched["pid"]
        self.version = launched["version"]

    def _read(self):
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _line(self, timeout, what):
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{what}: no answer from console_browser.js in {timeout}s")
        if line is None:
            raise AssertionError(f"{what}: console_browser.js exited\n{self.stderr()}")
        return json.loads(line)

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    def call(self, op, timeout=30, **args):
        self._next_id += 1
        self.proc.stdin.write(json.dumps(dict(args, id=self._next_id, op=op)) + "\n")
        self.proc.stdin.flush()
        answer = self._line(timeout, op)
        if answer.get("id") != self._next_id or not answer.get("ok"):
            raise AssertionError(f"{op} {args}: {answer}")
        return answer["result"]

    def text(self, selector):
        found = self.call("text", selector=selector)
        return found["text"] if found else None

    def visible_text(self, selector):
        found = self.call("text", selector=selector)
        return found["text"] if found and found["visible"] else None

    def close(self):
        """Quit Chromium and node; kill whatever is left of either (their process groups)."""
        try:
            if self.proc.poll() is None:
                self.call("quit", timeout=15)
                self.proc.wait(timeout=10)
        except Exception:
            pass
        for pgid in (self.proc.pid, self.chromium_pid):
            if pgid is None:
                continue
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)
        self.proc.stdin.close()
        self.proc.stdout.close()
        self._stderr.close()


@unittest.skipIf(skip_reason(), skip_reason())
class ConsoleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mqtt-console-")
        cls.procs = []
        cls.browser = None
        try:
            cls._start()
        except BaseException:
            cls._stop(show_logs=True)
            raise

    @classmethod
    def _start(cls):
        cls.pki = Pki(cls.tmp)
        cls.passwd = os.path.join(cls.tmp, "passwd")
        write_password_file(cls.passwd, USERS)
        router = f"tcp://{HOST}:{free_port()}"
        cls.tls_port, cls.wss_port = free_port(), free_port()
        level = os.environ.get("MQTT_TEST_LOG_LEVEL", "debug")
        cls.procs = [
            Process("router", [os.path.join(BIN_DIR, "mqtt-router"), "--bind", router,
                               "--sys-interval", "1", "--stats", "none", "--log-level", level],
                    cls.tmp),
            Process("frontend", [
                os.path.join(BIN_DIR, "mqtt-frontend"), "--routers", router,
                "--listen", f"tls://{HOST}:{cls.tls_port}",
                "--listen", f"wss://{HOST}:{cls.wss_port}/mqtt",
                "--tls-cert", cls.pki.cert, "--tls-key", cls.pki.key,
                "--password-file", cls.passwd, "--stats", "none", "--log-level", level], cls.tmp),
        ]
        for p in cls.procs:
            p.start()
        wait_port(cls.tls_port)
        wait_port(cls.wss_port)
        cls._wait_router_reachable()
        npm = shutil.which("npm")
        if not npm:
            raise AssertionError("npm is not installed (apt-get install nodejs npm)")
        cls.browser = Browser(cls.tmp, install_js_modules(npm))
        cls.page_url = f"https://{HOST}:{cls.wss_port}/"

    @classmethod
    def _wait_router_reachable(cls, timeout=10.0):
        """CONNACK 0 once the frontend has found its router (until then: CONNACK 3)."""
        deadline = time.monotonic() + timeout
        rc = None
        while time.monotonic() < deadline:
            c = MqttClient(cls.pki, cls.tls_port, "console-ready-probe")
            try:
                rc, _ = c.connect()
                if rc == 0:
                    c.disconnect()
                    return
            except AssertionError:
                pass
            finally:
                c.close()
            time.sleep(0.2)
        raise AssertionError(f"frontend never accepted a CONNECT (last rc {rc})")

    @classmethod
    def _stop(cls, show_logs):
        if cls.browser:
            cls.browser.close()
            cls.browser = None
        died = [p.name for p in cls.procs if not p.alive()]
        for p in cls.procs:
            p.stop()
        if show_logs or died:
            for p in cls.procs:
                sys.stderr.write(f"----- {p.name} -----\n{p.log()}\n")
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if died:
            raise AssertionError(f"died during the test: {died}")

    @classmethod
    def tearDownClass(cls):
        cls._stop(show_logs=False)

    def setUp(self):
        self.clients = []
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for c in self.clients:
            try:
                c.close()
            except Exception:
                pass
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        if result and (result.failures or result.errors) and self.browser:
            try:
                shot = os.path.join(tempfile.gettempdir(), f"console-{self._testMethodName}.png")
                self.browser.call("screenshot", path=shot)
                sys.stderr.write(f"screenshot: {shot}\nbrowser log: "
                                 f"{self.browser.call('log')}\n")
            except Exception as e:
                sys.stderr.write(f"(no screenshot: {e})\n")
            for p in self.procs:
                sys.stderr.write(f"----- {p.name} -----\n{p.log()}\n")

    # --- helpers ---

    def paho(self, client_id, port=None, **kw):
        """A paho client over TLS (port: the wss listener's, with websocket_path="/mqtt")."""
        c = MqttClient(self.pki, port or self.tls_port, client_id, **kw)
        self.clients.append(c)
        return c

    def connected(self, client_id, **kw):
        c = self.paho(client_id, **kw)
        rc, _ = c.connect()
        self.assertEqual(rc, 0, f"CONNACK for {client_id}")
        return c

    def https(self, method, path, headers=None):
        conn = http.client.HTTPSConnection(HOST, self.wss_port, timeout=5,
                                           context=self.pki.client_context())
        try:
            conn.request(method, path, headers=headers or {})
            res = conn.getresponse()
            return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
        finally:
            conn.close()

    def open_console(self):
        b = self.browser
        self.assertEqual(b.call("open", url=self.page_url), 200)
        poll(lambda: b.call("text", selector="body[data-ready]"), lambda v: v is not None, 10,
             "page ready")
        return b

    def login(self, username, password):
        b = self.browser
        b.call("fill", selector="#login-username", value=username)
        b.call("fill", selector="#login-password", value=password)
        b.call("click", selector="#login-submit")

    def logged_in_console(self):
        b = self.open_console()
        self.login("alice", USERS["alice"])
        poll(lambda: b.visible_text("#status"), lambda t: t and t.startswith("Connected"),
             DEADLINE, "status 'Connected'")
        self.assertIsNotNone(b.visible_text("#console"))
        return b

    def connected_clients(self):
        text = self.browser.text("#stat-clients-connected")
        return int(text) if text and text.isdigit() else None

    def assert_clean_page_log(self):
        log = self.browser.call("log")
        self.assertEqual(log["errors"], [], "page errors")
        self.assertEqual(log["blocked"], [], "requests to other hosts than 127.0.0.1")
        csp = [m for m in log["console"] if "Content Security Policy" in m]
        self.assertEqual(csp, [], "CSP violations")

    # --- (a) HTTPS ---

    def test_a_page_and_assets_over_https(self):
        status, headers, body = self.https("GET", "/")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
        self.assertEqual(headers["content-security-policy"], CSP)
        self.assertEqual(headers["x-content-type-options"], "nosniff")
        self.assertEqual(headers["x-frame-options"], "DENY")
        self.assertEqual(headers["cache-control"], "no-cache")
        self.assertEqual(int(headers["content-length"]), len(body))
        self.assertIn(b'<form id="login-form"', body)
        self.assertIn(b'<script src="/console/mqtt.min.js"', body)

        # One answer per connection: the server closes it after the response.
        with socket.create_connection((HOST, self.wss_port), timeout=5) as raw:
            with self.pki.client_context().wrap_socket(raw, server_hostname=HOST) as tls:
                tls.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}\r\n"
                            "Connection: keep-alive\r\n\r\n".encode())
                data = b""
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    try:
                        chunk = tls.recv(65536)
                    except TimeoutError:
                        self.fail("connection still open 5 s after the response")
                    except (ssl.SSLError, OSError):
                        break  # closed without close_notify
                    if not chunk:
                        break
                    data += chunk
                else:
                    self.fail("connection still open 5 s after the response")
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK\r\n"), data[:100])
        self.assertIn(b"\r\nConnection: close\r\n", data)
        self.assertTrue(data.endswith(body))

        status, headers, head_body = self.https("HEAD", "/")
        self.assertEqual((status, head_body), (200, b""))
        self.assertEqual(int(headers["content-length"]), len(body))

        for path, ctype, marker in [
                ("/console/app.js", "text/javascript; charset=utf-8", b"'use strict';"),
                ("/console/style.css", "text/css; charset=utf-8", b"[hidden]"),
                ("/console/mqtt.min.js", "text/javascript; charset=utf-8", b"var mqtt="),
                ("/console/config.json", "application/json", b'{"mqttPath":"/mqtt"}')]:
            status, headers, asset = self.https("GET", path)
            self.assertEqual((path, status, headers["content-type"]), (path, 200, ctype))
            self.assertEqual(headers["content-security-policy"], CSP)
            self.assertIn(marker, asset, path)

        for path in ("/nope", "/console/", "/favicon.ico"):
            status, headers, _ = self.https("GET", path)
            self.assertEqual((path, status), (path, 404))
            self.assertEqual(headers["x-content-type-options"], "nosniff")
        status, headers, _ = self.https("POST", "/")
        self.assertEqual((status, headers["allow"]), (405, "GET, HEAD"))
        # A plain GET on the MQTT path is still refused as no upgrade.
        status, _, _ = self.https("GET", "/mqtt")
        self.assertEqual(status, 400)

        # The WSS upgrade on /mqtt works as before, with a TLS client on the other side.
        ws = self.paho("console-wss-check", port=self.wss_port, websocket_path="/mqtt")
        rc, _ = ws.connect()
        self.assertEqual(rc, 0)
        ws.subscribe("console/http-check", qos=1)
        tls = self.connected("console-tls-check", username="bob", password="bobpw")
        tls.publish("console/http-check", b"over wss", qos=1)
        msg = ws.get_message(timeout=5)
        self.assertEqual((msg.topic, msg.payload), ("console/http-check", b"over wss"))
        # Clean DISCONNECTs: paho's websocket socket would stay open until garbage-collected,
        # and the next test counts connected clients.
        ws.disconnect()
        tls.disconnect()

    # --- (b) login and the numbers ---

    def test_b_login_and_live_numbers(self):
        b = self.open_console()
        # The default server: this page's origin, wss:, and the listener's MQTT path.
        self.assertEqual(b.call("value", selector="#login-url"),
                         f"wss://{HOST}:{self.wss_port}/mqtt")
        self.login("alice", "wrong-password")
        error = poll(lambda: b.visible_text("#login-error"), lambda t: bool(t), DEADLINE,
                     "login error")
        self.assertIn("bad user name or password", error)
        self.assertIn("CONNACK return code 4", error)
        self.assertIsNone(b.visible_text("#console"))

        self.login("alice", USERS["alice"])
        poll(lambda: b.visible_text("#status"), lambda t: t and t.startswith("Connected"),
             DEADLINE, "status 'Connected'")
        self.assertIsNone(b.visible_text("#login-error"))
        self.assertIn(f"wss://{HOST}:{self.wss_port}/mqtt", b.text("#status"))
        rows = poll(lambda: b.call("rows", selector="#sys-rows tr"),
                    lambda r: any(x["data"].get("topic") == SYS_CONNECTED for x in r), DEADLINE,
                    f"{SYS_CONNECTED} in the $SYS table")
        self.assertTrue(any(x["data"].get("topic") == "$SYS/broker/uptime" for x in rows))
        # Only the page is connected now; one more paho client over TLS, then it leaves.
        poll(self.connected_clients, lambda n: n == 1, DEADLINE, "connected clients == 1")
        other = self.connected("console-extra")
        poll(self.connected_clients, lambda n: n == 2, DEADLINE, "connected clients == 2")
        other.disconnect()
        poll(self.connected_clients, lambda n: n == 1, DEADLINE, "connected clients back to 1")
        uptime = b.text("#stat-uptime")
        self.assertRegex(uptime, r"^(\d+[dhm] )*\d+s$")
        self.assert_clean_page_log()

    # --- (c) topic browser ---

    def test_c_topic_browser_shows_paho_messages(self):
        publisher = self.connected("console-paho-pub", username="bob", password="bobpw")
        nonce = str(time.monotonic_ns())
        publisher.publish("test/retained", f"kept {nonce}".encode(), qos=1, retain=True)
        self.addCleanup(lambda: publisher.publish("test/retained", b"", qos=1, retain=True))
        b = self.logged_in_console()
        b.call("fill", selector="#browse-filter", value="test/#")
        b.call("select", selector="#browse-qos", value="1")
        b.call("click", selector="#browse-subscribe")
        poll(lambda: b.call("rows", selector='#subscriptions li[data-state="subscribed"]'),
             lambda r: [x["data"]["filter"] for x in r] == ["test/#"], DEADLINE,
             "test/# subscribed")

        def rows():
            return [x["cells"] for x in b.call("rows", selector="#messages tr")]

        retained = poll(rows, lambda r: any(c["payload"] == f"kept {nonce}" for c in r), DEADLINE,
                        "the retained message")
        self.assertIn({"topic": "test/retained", "qos": "1", "retain": "yes",
                       "payload": f"kept {nonce}"},
                      [{k: c[k] for k in ("topic", "qos", "retain", "payload")} for c in retained])

        text = f"hello from paho over TLS, ünïcode ✓ {nonce}"
        publisher.publish("test/console/1", text.encode(), qos=1)
        publisher.publish("test/console/binary", b"\xff\x00\x01", qos=0)
        publisher.publish("other/topic", b"not shown", qos=0)
        seen = poll(rows, lambda r: (any(c["payload"] == text for c in r)
                                     and any(c["topic"] == "test/console/binary" for c in r)),
                    DEADLINE, "paho's messages in the page")
        got = {c["topic"]: (c["qos"], c["retain"], c["payload"]) for c in seen}
        self.assertEqual(got["test/console/1"], ("1", "no", text))
        self.assertEqual(got["test/console/binary"], ("0", "no", "hex: ff 00 01"))
        self.assertNotIn("other/topic", got)
        self.assertFalse(any(t.startswith("$SYS") for t in got))
        # Unsubscribed: nothing more arrives in the list.
        b.call("click", selector='#subscriptions li[data-filter="test/#"] button.unsubscribe')
        before = len(rows())
        publisher.publish("test/console/after", b"after unsubscribe", qos=1)
        marker = self.connected("console-marker")
        marker.subscribe("test/console/after", qos=1)
        publisher.publish("test/console/after", b"after unsubscribe 2", qos=1)
        marker.get_messages(1, timeout=5)  # the broker has routed past the unsubscribe
        self.assertEqual(len(rows()), before)
        self.assert_clean_page_log()

    # --- (d) publish form ---

    def test_d_publish_form_reaches_paho(self):
        sink = self.connected("console-paho-sink", username="bob", password="bobpw")
        sink.subscribe("console/out/#", qos=1)
        b = self.logged_in_console()
        payload = f"from the browser {time.monotonic_ns()}"
        b.call("fill", selector="#publish-topic", value="console/out/1")
        b.call("fill", selector="#publish-payload", value=payload)
        b.call("select", selector="#publish-qos", value="1")
        b.call("click", selector="#publish-submit")
        msg = sink.get_message(timeout=DEADLINE)
        self.assertEqual((msg.topic, msg.payload.decode(), msg.qos, msg.retain),
                         ("console/out/1", payload, 1, False))
        poll(lambda: b.text("#publish-result"), lambda t: t and t.startswith("Published"),
             DEADLINE, "publish result")

        b.call("fill", selector="#publish-topic", value="console/out/retained")
        b.call("fill", selector="#publish-payload", value="kept")
        b.call("select", selector="#publish-qos", value="0")
        b.call("check", selector="#publish-retain", checked=True)
        b.call("click", selector="#publish-submit")
        self.addCleanup(lambda: self.connected("console-clean").publish(
            "console/out/retained", b"", qos=1, retain=True))
        live = sink.get_message(timeout=DEADLINE)  # routed, so stored as retained by now
        self.assertEqual((live.topic, live.payload, live.retain),
                         ("console/out/retained", b"kept", False))
        late = self.connected("console-paho-late")
        late.subscribe("console/out/retained", qos=1)
        msg = late.get_message(timeout=DEADLINE)
        self.assertEqual((msg.payload, msg.retain), (b"kept", True))

        b.call("fill", selector="#publish-topic", value="console/+/bad")
        b.call("click", selector="#publish-submit")
        poll(lambda: b.text("#publish-result"), lambda t: t and "without + or #" in t, DEADLINE,
             "wildcard topic refused")
        self.assert_clean_page_log()


if __name__ == "__main__":
    why = skip_reason()
    if why:
        print(f"SKIP: {why}")
        sys.exit(SKIP)
    sys.stderr.write(f"[web console tests: {BIN_DIR}/mqtt-router + mqtt-frontend, {CHROMIUM}]\n")
    unittest.main(verbosity=2)
