"""MQTT over WebSocket (MQTT 3.1.1 section 6, RFC 6455): wss:// and ws:// listeners.

The broker runs a TLS listener plus wss://.../mqtt and ws://.../mqtt. Raw tests speak HTTP and
hand-built WebSocket frames (masked, as a client must) over TLS; paho-mqtt over websockets and
MQTT.js (Node, npm "mqtt", from tests/system/js) exchange messages with TLS paho clients.

MQTT.js is installed at test time with `npm ci` into <build dir>/js (package-lock.json pins it);
the test skips only when node/npm are absent.
"""

import base64
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import time
import unittest

from harness import (BIN_DIR, HOST, USERS, BrokerTestCase, RawClient, main, ours_only, packet)

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE = 0x0, 0x1, 0x2, 0x8

CONNECT = packet("""
    10 20                       # CONNECT, remaining length 32
    00 04 4d 51 54 54           # protocol name "MQTT"
    04                          # protocol level 4 (3.1.1)
    c2                          # flags: user name, password, clean session
    00 3c                       # keep alive 60 s
    00 04 77 73 2d 31           # client id "ws-1"
    00 05 61 6c 69 63 65        # user name "alice"
    00 07 61 6c 69 63 65 70 77  # password "alicepw"
""")
CONNECT_BAD_PASSWORD = packet("""
    10 20                       # CONNECT, remaining length 32
    00 04 4d 51 54 54           # protocol name "MQTT"
    04                          # protocol level 4 (3.1.1)
    c2                          # flags: user name, password, clean session
    00 3c                       # keep alive 60 s
    00 04 77 73 2d 32           # client id "ws-2"
    00 05 61 6c 69 63 65        # user name "alice"
    00 07 77 72 6f 6e 67 70 77  # password "wrongpw"
""")
CONNACK_OK = packet("20 02 00 00")               # CONNACK, no session present, rc 0 accepted
CONNACK_BAD_CREDENTIALS = packet("20 02 00 04")  # CONNACK, rc 4 bad user name or password
SUBSCRIBE = packet("""
    82 0a                       # SUBSCRIBE, remaining length 10
    00 01                       # packet id 1
    00 05 77 73 2f 74 31        # filter "ws/t1"
    01                          # requested QoS 1
""")
SUBACK = packet("90 03 00 01 01")  # SUBACK, packet id 1, granted QoS 1
PUBLISH_T1 = packet("""
    30 0a                       # PUBLISH QoS 0, remaining length 10
    00 05 77 73 2f 74 31        # topic "ws/t1"
    68 69 21                    # payload "hi!"
""")
DISCONNECT = packet("e0 00")  # DISCONNECT


def ws_frame(payload, opcode=OP_BINARY, fin=True, masked=True):
    """One client frame: FIN/opcode, MASK bit and length, masking key, masked payload."""
    first = (0x80 if fin else 0) | opcode
    mask_bit = 0x80 if masked else 0
    n = len(payload)
    if n < 126:
        head = bytes([first, mask_bit | n])
    elif n < 65536:
        head = bytes([first, mask_bit | 126]) + struct.pack("!H", n)
    else:
        head = bytes([first, mask_bit | 127]) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class WsRawClient:
    """A hand-driven WebSocket client over a RawClient (TLS or plain TCP)."""

    def __init__(self, raw, port):
        self.raw = raw
        self.port = port
        self.stream = b""  # payload bytes of binary messages not consumed yet

    def upgrade_request(self, path="/mqtt", protocols=("mqtt",), key=None):
        self.key = key or base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{self.port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {self.key}",
                 "Sec-WebSocket-Version: 13"]
        if protocols is not None:
            lines.append("Sec-WebSocket-Protocol: " + ", ".join(protocols))
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def read_response_head(self, timeout=5.0):
        """(status, {lower-case header: value}) of the HTTP response; its head is consumed."""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.raw.buf:
            if self.raw.closed_by_peer or not self.raw._fill(deadline):
                raise AssertionError(f"no HTTP response head, got {self.raw.buf!r}")
        head, self.raw.buf = self.raw.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    def upgrade(self, path="/mqtt", protocols=("mqtt",)):
        self.raw.send(self.upgrade_request(path, protocols))
        return self.read_response_head()

    def read_frame(self, timeout=5.0):
        """(fin, opcode, payload) of one server frame, which must be unmasked."""
        first, second = self.raw.recv_exact(2, timeout)
        if second & 0x80:
            raise AssertionError("server frame is masked")
        n = second & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.raw.recv_exact(2, timeout))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.raw.recv_exact(8, timeout))[0]
        payload = self.raw.recv_exact(n, timeout) if n else b""
        return bool(first & 0x80), first & 0x0F, payload

    def recv_mqtt(self, n, timeout=5.0):
        """The next n bytes of the MQTT byte stream (payloads of binary frames)."""
        deadline = time.monotonic() + timeout
        while len(self.stream) < n:
            _, opcode, payload = self.read_frame(max(deadline - time.monotonic(), 0.001))
            if opcode not in (OP_BINARY, OP_CONT):
                raise AssertionError(f"frame opcode {opcode} while waiting for MQTT bytes")
            self.stream += payload
        out, self.stream = self.stream[:n], self.stream[n:]
        return out

    def expect_mqtt(self, expected, timeout=5.0):
        got = self.recv_mqtt(len(expected), timeout)
        if got != expected:
            raise AssertionError(f"expected {expected.hex(' ')}, got {got.hex(' ')}")


def accept_value(key):
    return base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()


@ours_only("wss/ws listeners are given on our command line")
class WebSocketTest(BrokerTestCase):
    # A short connect deadline: it also bounds the TLS handshake and the HTTP upgrade.
    broker_options = dict(connect_timeout=3, extra_listeners=[("wss", "/mqtt"), ("ws", "/mqtt")])

    def ws(self, tls=True):
        port = self.broker.extra_ports["wss" if tls else "ws"]
        return WsRawClient(self.raw_to(port, tls), port)

    def raw_to(self, port, tls):
        c = RawClient(self.pki, port, tls=tls)
        self._clients.append(c)
        return c

    def upgraded(self, tls=True):
        w = self.ws(tls)
        status, headers = w.upgrade()
        self.assertEqual(status, 101)
        self.assertEqual(headers.get("sec-websocket-protocol"), "mqtt")
        self.assertEqual(headers.get("sec-websocket-accept"), accept_value(w.key))
        return w

    # --- the upgrade ---

    def test_upgrade_answers_mqtt_subprotocol(self):
        self.upgraded()

    def test_mqttv31_subprotocol_accepted(self):
        w = self.ws()
        status, headers = w.upgrade(protocols=("mqttv3.1",))
        self.assertEqual(status, 101)
        self.assertEqual(headers.get("sec-websocket-protocol"), "mqttv3.1")

    def test_mqtt_preferred_when_both_offered(self):
        w = self.ws()
        status, headers = w.upgrade(protocols=("chat", "mqttv3.1", "mqtt"))
        self.assertEqual(status, 101)
        self.assertEqual(headers.get("sec-websocket-protocol"), "mqtt")

    def test_wrong_path_is_404(self):
        w = self.ws()
        status, _ = w.upgrade(path="/other")
        self.assertEqual(status, 404)
        w.raw.assert_closed(allow_data=True)

    def test_query_string_ignored_in_path(self):
        w = self.ws()
        status, _ = w.upgrade(path="/mqtt?client=1")
        self.assertEqual(status, 101)

    def test_missing_subprotocol_refused(self):
        w = self.ws()
        status, headers = w.upgrade(protocols=None)
        self.assertEqual(status, 400)
        self.assertNotIn("sec-websocket-accept", headers)
        w.raw.assert_closed(allow_data=True)

    def test_unknown_subprotocol_refused(self):
        w = self.ws()
        status, _ = w.upgrade(protocols=("chat", "MQTT"))  # names are case-sensitive
        self.assertEqual(status, 400)
        w.raw.assert_closed(allow_data=True)

    def test_plain_http_request_refused(self):
        w = self.ws()
        w.raw.send(f"GET /mqtt HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        status, _ = w.read_response_head()
        self.assertEqual(status, 400)
        w.raw.assert_closed(allow_data=True)

    def test_oversized_upgrade_request_closed(self):
        w = self.ws()
        request = w.upgrade_request()
        padding = b"X-Padding: " + b"a" * 16384 + b"\r\n"
        w.raw.send(request[:-2] + padding + b"\r\n")
        w.raw.wait_closed(timeout=5)
        self.assertTrue(w.raw.closed_by_peer, "oversized request not closed")
        self.assertNotIn(b" 101 ", w.raw.buf)

    def test_no_upgrade_within_deadline_closes(self):
        w = self.ws()
        w.raw.send(w.upgrade_request()[:20])  # a request that never ends
        started = time.monotonic()
        w.raw.assert_closed(timeout=8, allow_data=True)
        self.assertGreater(time.monotonic() - started, 2.0, "closed before the 3 s deadline")
        self.assertNotIn(b" 101 ", w.raw.buf)

    def test_silent_tcp_connection_closed_at_deadline(self):
        raw = self.raw_to(self.broker.extra_ports["ws"], tls=False)
        raw.assert_closed(timeout=8)

    # --- framing ---

    def test_connect_split_across_three_frames_of_one_message(self):
        w = self.upgraded()
        w.raw.send(ws_frame(CONNECT[:5], OP_BINARY, fin=False))
        w.raw.send(ws_frame(CONNECT[5:17], OP_CONT, fin=False))
        w.raw.send(ws_frame(CONNECT[17:], OP_CONT, fin=True))
        w.expect_mqtt(CONNACK_OK)

    def test_connect_split_across_three_messages(self):
        w = self.upgraded()
        for part in (CONNECT[:1], CONNECT[1:10], CONNECT[10:]):
            w.raw.send(ws_frame(part))
            time.sleep(0.05)
        w.expect_mqtt(CONNACK_OK)

    def test_one_frame_with_connect_and_subscribe(self):
        w = self.upgraded()
        w.raw.send(ws_frame(CONNECT + SUBSCRIBE))
        w.expect_mqtt(CONNACK_OK)
        w.expect_mqtt(SUBACK)
        w.raw.send(ws_frame(PUBLISH_T1))  # own message comes back
        w.expect_mqtt(PUBLISH_T1)

    def test_ping_frame_answered_between_mqtt_bytes(self):
        w = self.upgraded()
        w.raw.send(ws_frame(CONNECT[:8], OP_BINARY, fin=False))
        w.raw.send(ws_frame(b"abc", 0x9))  # PING in the middle of a fragmented message
        fin, opcode, payload = w.read_frame()
        self.assertEqual((fin, opcode, payload), (True, 0xA, b"abc"))  # PONG
        w.raw.send(ws_frame(CONNECT[8:], OP_CONT))
        w.expect_mqtt(CONNACK_OK)

    def test_text_frame_closes(self):
        w = self.upgraded()
        w.raw.send(ws_frame(CONNECT))
        w.expect_mqtt(CONNACK_OK)
        w.raw.send(ws_frame(b"hello", OP_TEXT))
        w.raw.assert_closed(allow_data=True)

    def test_text_frame_before_connect_closes(self):
        w = self.upgraded()
        w.raw.send(ws_frame(b"\x10\x1f", OP_TEXT))
        w.raw.assert_closed(allow_data=True)
        self.assertNotIn(CONNACK_OK, w.raw.buf)

    def test_unmasked_frame_closes(self):
        w = self.upgraded()
        w.raw.send(ws_frame(CONNECT, masked=False))
        # Beast fails the connection: a close frame with 1002 (protocol error), then EOF.
        fin, opcode, payload = w.read_frame()
        self.assertEqual((opcode, payload[:2]), (OP_CLOSE, struct.pack("!H", 1002)))
        w.raw.assert_closed(allow_data=True)

    def test_disconnect_sends_close_frame(self):
        w = self.upgraded()
        w.raw.send(ws_frame(CONNECT))
        w.expect_mqtt(CONNACK_OK)
        w.raw.send(ws_frame(DISCONNECT))
        fin, opcode, payload = w.read_frame()
        self.assertEqual((opcode, payload[:2]), (OP_CLOSE, struct.pack("!H", 1000)))
        w.raw.send(ws_frame(payload[:2], OP_CLOSE))  # answer it, as a client does
        w.raw.assert_closed(allow_data=True)

    def test_client_close_frame_answered(self):
        w = self.upgraded()
        w.raw.send(ws_frame(CONNECT))
        w.expect_mqtt(CONNACK_OK)
        w.raw.send(ws_frame(struct.pack("!H", 1000), OP_CLOSE))
        fin, opcode, payload = w.read_frame()
        self.assertEqual(opcode, OP_CLOSE)
        w.raw.assert_closed(allow_data=True)

    # --- same rules as TLS ---

    def test_bad_password_refused(self):
        w = self.upgraded()
        w.raw.send(ws_frame(CONNECT_BAD_PASSWORD))
        w.expect_mqtt(CONNACK_BAD_CREDENTIALS)

    def test_connect_deadline_after_upgrade(self):
        w = self.upgraded()
        w.raw.assert_closed(timeout=8, allow_data=True)

    def test_plain_ws_listener(self):
        w = self.ws(tls=False)
        status, _ = w.upgrade()
        self.assertEqual(status, 101)
        w.raw.send(ws_frame(CONNECT + SUBSCRIBE))
        w.expect_mqtt(CONNACK_OK)
        w.expect_mqtt(SUBACK)

    # --- real clients across transports ---

    def test_paho_websocket_and_tls_both_ways(self):
        wss_port = self.broker.extra_ports["wss"]
        ws_client = self.connected("paho-wss", port=wss_port, websocket_path="/mqtt")
        tls_client = self.connected("paho-tls", username="bob", password="bobpw")
        self.assertEqual(ws_client.subscribe("cross/to-ws", qos=1), [1])
        self.assertEqual(tls_client.subscribe("cross/to-tls", qos=1), [1])
        tls_client.publish("cross/to-ws", b"from tls", qos=1)
        msg = ws_client.get_message(timeout=5)
        self.assertEqual((msg.topic, msg.payload, msg.qos), ("cross/to-ws", b"from tls", 1))
        big = bytes(range(256)) * 400  # 100 KiB: many frames' worth of TLS records
        ws_client.publish("cross/to-tls", big, qos=1)
        msg = tls_client.get_message(timeout=5)
        self.assertEqual((msg.topic, msg.payload, msg.qos), ("cross/to-tls", big, 1))
        ws_client.disconnect()
        tls_client.disconnect()

    def test_mqttjs_over_wss_with_tls_client(self):
        node, npm = shutil.which("node"), shutil.which("npm")
        if not node or not npm:
            self.skipTest("node and npm are not installed (apt-get install nodejs npm)")
        modules = install_js_modules(npm)
        tls_client = self.connected("paho-tls-js", username="bob", password="bobpw")
        tls_client.subscribe("js/from-js", qos=1)
        url = f"wss://{HOST}:{self.broker.extra_ports['wss']}/mqtt"
        proc = subprocess.Popen(
            [node, os.path.join(JS_DIR, "wss_pubsub.js"), url, self.pki.ca, "alice",
             USERS["alice"], "js/to-js", "js/from-js", "hello from mqtt.js", "10000"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, NODE_PATH=modules))
        events = []
        try:
            for line in proc.stdout:
                event = json.loads(line)
                events.append(event)
                if event["event"] == "subscribed":
                    msg = tls_client.get_message(timeout=5)
                    self.assertEqual((msg.topic, msg.payload), ("js/from-js", b"hello from mqtt.js"))
                    tls_client.publish("js/to-js", b"hello from paho/tls", qos=1)
                if event["event"] in ("done", "error"):
                    break
            rc = proc.wait(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        self.assertEqual(rc, 0, f"node failed: {events} {stderr}")
        self.assertIn({"event": "subscribed", "granted": [1]}, events)
        self.assertIn({"event": "message", "topic": "js/to-js", "payload": "hello from paho/tls"},
                      events)
        self.assertEqual(events[-1], {"event": "done"})


def install_js_modules(npm):
    """`npm ci` of tests/system/js into <build dir>/js (not the source tree), once per lock file.
    Returns the node_modules directory."""
    target = os.path.join(os.path.dirname(os.path.abspath(BIN_DIR)), "js")
    os.makedirs(target, exist_ok=True)
    lock = os.path.join(JS_DIR, "package-lock.json")
    with open(lock, "rb") as f:
        lock_bytes = f.read()
    stamp = os.path.join(target, "node_modules", ".installed-lock")
    try:
        with open(stamp, "rb") as f:
            if f.read() == lock_bytes:
                return os.path.join(target, "node_modules")
    except OSError:
        pass
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(os.path.join(JS_DIR, name), os.path.join(target, name))
    # Its own cache in the build dir: CI may run without a usable HOME.
    env = dict(os.environ, npm_config_cache=os.path.join(target, ".npm-cache"))
    result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target,
                            capture_output=True, text=True, timeout=240, env=env)
    if result.returncode != 0:
        raise AssertionError(f"npm ci in {target} failed:\n{result.stdout}\n{result.stderr}")
    with open(stamp, "wb") as f:
        f.write(lock_bytes)
    return os.path.join(target, "node_modules")


if __name__ == "__main__":
    main()
