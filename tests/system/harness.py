"""Black-box system test harness: starts a real broker, talks to it over TLS.

Which broker:
  MQTT_TEST_BROKER=ours (default)  -> $MQTT_BIN_DIR/mqtt-broker (default /work/main/build/bin)
  MQTT_TEST_BROKER=mosquitto       -> /usr/sbin/mosquitto with an equivalent generated config
  MQTT_TEST_BROKER_ARGS="..."      -> more options for every mqtt-broker (--router-thread yes)
Mosquitto is the reference: a test that fails on it for a rule both brokers must follow is a
wrong test. Where mosquitto deliberately differs from our spec the test carries
@skip_on_mosquitto("why").

Per test class (BrokerTestCase): a temp dir with a throwaway CA + server certificate
(openssl CLI, CN localhost, SAN IP:127.0.0.1), a password file (alice/alicepw, bob/bobpw),
a free loopback port and one broker process, always stopped in tearDownClass. The broker's
stderr/stdout go to a file that is printed when a test fails; tearDownClass checks the broker
is still alive (did not crash).

Clients: MqttClient (paho-mqtt 1.6.1 with blocking helpers), mosquitto_pub()/MosquittoSub
(the mosquitto CLI tools), RawClient (exact bytes over TLS, or plain TCP). Every wait is bounded.
Raw packets are written as commented hex: packet("10 0c  # CONNECT ...").

Run one file: MQTT_TEST_BROKER=mosquitto /usr/bin/python3 tests/system/test_03_pubsub.py -v
"""

import collections
import os
import queue
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import paho.mqtt.client as mqtt

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from ports import free_port  # noqa: E402  (one helper for the suite and the tests; re-exported)

BROKER_KIND = (os.environ.get("MQTT_TEST_BROKER") or "ours").strip().lower()
IS_MOSQUITTO = BROKER_KIND == "mosquitto"
BIN_DIR = os.environ.get("MQTT_BIN_DIR") or "/work/main/build/bin"
MOSQUITTO = "/usr/sbin/mosquitto"
USERS = {"alice": "alicepw", "bob": "bobpw"}
HOST = "127.0.0.1"

if BROKER_KIND not in ("ours", "mosquitto"):
    raise SystemExit(f"MQTT_TEST_BROKER must be 'ours' or 'mosquitto', not {BROKER_KIND!r}")


def skip_on_mosquitto(reason):
    """Skip a test (or class) on mosquitto, where it deliberately differs from our spec."""
    return unittest.skipIf(IS_MOSQUITTO, "mosquitto differs: " + reason)


def ours_only(reason):
    """Skip a feature that only our broker has (e.g. the RSA password scheme)."""
    return unittest.skipIf(IS_MOSQUITTO, "not a mosquitto feature: " + reason)


# ---------------------------------------------------------------------------------------------
# Hand-written hex
# ---------------------------------------------------------------------------------------------

def hexbytes(text):
    """Bytes from hex text; '#' starts a comment that runs to the end of the line."""
    lines = [line.split("#", 1)[0] for line in text.splitlines()]
    return bytes.fromhex(" ".join(lines))


def split_packets(data):
    """Split a byte string into MQTT packets by their fixed headers; ValueError if malformed."""
    packets, i = [], 0
    while i < len(data):
        start, i = i, i + 1
        length, mult = 0, 1
        for n in range(4):
            if i >= len(data):
                raise ValueError(f"truncated remaining length at {start}")
            b = data[i]
            i += 1
            length += (b & 0x7F) * mult
            mult *= 128
            if not b & 0x80:
                break
            if n == 3:
                raise ValueError("remaining length longer than 4 bytes")
        if i + length > len(data):
            raise ValueError(f"packet at {start} says {length} bytes, only {len(data) - i} left")
        i += length
        packets.append(data[start:i])
    return packets


def packet(text):
    """Well-formed packet(s) from commented hex; the remaining-length fields are checked so a
    typo in a hand-written length fails loudly instead of testing the wrong thing."""
    data = hexbytes(text)
    split_packets(data)
    return data


def malformed(text):
    """Deliberately malformed bytes from commented hex (no framing check)."""
    return hexbytes(text)


# ---------------------------------------------------------------------------------------------
# Environment: PKI, password file, port, broker process
# ---------------------------------------------------------------------------------------------

def cut_connection(sock):
    """Cuts a client's TCP connection (both directions, no DISCONNECT, no close_notify) while
    its paho thread may be reading it. Not SSLSocket.shutdown(): that drops the TLS object
    first, so a concurrent read takes the raw ciphertext as MQTT bytes."""
    sock = getattr(sock, "_socket", sock)  # paho's WebsocketWrapper holds the socket
    if sock is None:
        return
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except (OSError, TypeError):
        pass


def run(cmd, **kw):
    kw.setdefault("check", True)
    kw.setdefault("timeout", 30)
    kw.setdefault("capture_output", True)
    return subprocess.run(cmd, **kw)


class Pki:
    """Throwaway CA and a server certificate for CN localhost, SAN IP:127.0.0.1."""

    def __init__(self, directory):
        self.dir = directory
        self.ca = os.path.join(directory, "ca.pem")
        self.ca_key = os.path.join(directory, "ca.key")
        self.cert = os.path.join(directory, "server.pem")
        self.key = os.path.join(directory, "server.key")
        csr = os.path.join(directory, "server.csr")
        ext = os.path.join(directory, "server.ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n"
                    "keyUsage=digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\n"
                    "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
             "-keyout", self.ca_key, "-out", self.ca, "-days", "2", "-subj", "/CN=mqtt-test-ca"])
        run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key,
             "-out", csr, "-subj", "/CN=localhost"])
        run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
             "-CAcreateserial", "-out", self.cert, "-days", "2", "-sha256", "-extfile", ext])

    def client_context(self, client_cert=None):
        """client_cert: a (cert, key) pair from client_cert(), presented to the server."""
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.check_hostname = True  # server_hostname=127.0.0.1 matches the IP SAN
        if client_cert:
            ctx.load_cert_chain(*client_cert)
        return ctx

    def client_cert(self, cn, name=None):
        """A client certificate (P-256 key, extendedKeyUsage clientAuth) signed by this CA, for
        subject CN=cn, or without any CN when cn is None. Returns (cert path, key path)."""
        name = name or cn or "no-cn"
        cert = os.path.join(self.dir, f"client-{name}.pem")
        key = os.path.join(self.dir, f"client-{name}.key")
        csr = os.path.join(self.dir, f"client-{name}.csr")
        ext = os.path.join(self.dir, "client.ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n"
                    "keyUsage=digitalSignature\n"
                    "extendedKeyUsage=clientAuth\n")
        subject = f"/CN={cn}" if cn is not None else "/O=mqtt-test/OU=no common name"
        run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", key, "-out", csr, "-subj", subject])
        run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
             "-CAcreateserial", "-out", cert, "-days", "2", "-sha256", "-extfile", ext])
        return cert, key


def write_password_file(path, users):
    """Mosquitto-format password file. Our mqtt-passwd when testing ours (if built), else
    mosquitto_passwd. Both take: [-c] -b FILE USER PASS."""
    tool = os.path.join(BIN_DIR, "mqtt-passwd")
    if IS_MOSQUITTO or not os.access(tool, os.X_OK):
        tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    first = True
    for user, password in users.items():
        cmd = [tool] + (["-c"] if first else []) + ["-b", path, user, password]
        run(cmd)
        first = False
    os.chmod(path, 0o600)


class Broker:
    """One broker process. options: max_queued, max_inflight, connect_timeout, max_packet_size,
    acl_file (a file in Mosquitto's acl_file format: --acl-file, or mosquitto's acl_file),
    rsa_key (ours only), extra_args (ours only), extra_listeners (ours only): listeners besides
    the TLS one, as (scheme, path) pairs, e.g. [("wss", "/mqtt"), ("ws", "/mqtt")]; each gets a
    free port, found in broker.extra_ports[scheme]. Client certificates: tls_ca (CA file,
    mosquitto's cafile), require_client_cert, use_identity_as_username (True/False)."""

    def __init__(self, workdir, pki, password_file, **options):
        self.workdir = workdir
        self.pki = pki
        self.password_file = password_file
        self.options = options
        self.port = None
        self.extra_ports = {}
        self.proc = None
        self.log_path = os.path.join(workdir, "broker.log")
        self._log = None

    def _command(self):
        o = self.options
        if IS_MOSQUITTO:
            conf = os.path.join(self.workdir, "mosquitto.conf")
            lines = [
                f"listener {self.port} {HOST}",
                f"cafile {o.get('tls_ca') or self.pki.ca}",
                f"certfile {self.pki.cert}",
                f"keyfile {self.pki.key}",
                f"password_file {self.password_file}",
                "allow_anonymous false",
                f"max_queued_messages {o.get('max_queued', 1000)}",
                f"max_inflight_messages {o.get('max_inflight', 20)}",
                "persistence false",
                "user root",
                "log_dest stderr",
                "log_type all",
            ]
            if o.get("max_packet_size"):
                lines.append(f"max_packet_size {o['max_packet_size']}")
            if o.get("acl_file"):
                lines.append(f"acl_file {o['acl_file']}")
            if o.get("require_client_cert"):
                lines.append("require_certificate true")
            if o.get("use_identity_as_username"):
                lines.append("use_identity_as_username true")
            if (o.get("connect_timeout") or o.get("rsa_key") or o.get("extra_args")
                    or o.get("extra_listeners")):
                raise unittest.SkipTest("option not available on mosquitto")
            with open(conf, "w") as f:
                f.write("\n".join(lines) + "\n")
            return [MOSQUITTO, "-c", conf]
        binary = os.path.join(BIN_DIR, "mqtt-broker")
        if not os.access(binary, os.X_OK):
            raise RuntimeError(f"{binary} not found or not executable (set MQTT_BIN_DIR, or "
                               "MQTT_TEST_BROKER=mosquitto)")
        cmd = [binary, "--listen", f"tls://{HOST}:{self.port}", "--tls-cert", self.pki.cert,
               "--tls-key", self.pki.key, "--password-file", self.password_file,
               "--log-level", os.environ.get("MQTT_TEST_LOG_LEVEL", "debug")]
        flags = [("max_queued", "--max-queued-messages"), ("max_inflight", "--max-inflight-messages"),
                 ("connect_timeout", "--connect-timeout"), ("max_packet_size", "--max-packet-size"),
                 ("rsa_key", "--rsa-key"), ("acl_file", "--acl-file")]
        for key, flag in flags:
            if o.get(key) is not None:
                cmd += [flag, str(o[key])]
        for scheme, path in o.get("extra_listeners", ()):
            cmd += ["--listen", f"{scheme}://{HOST}:{self.extra_ports[scheme]}{path}"]
        if o.get("tls_ca"):
            cmd += ["--tls-ca", o["tls_ca"]]
        for key, flag in (("require_client_cert", "--require-client-cert"),
                          ("use_identity_as_username", "--use-identity-as-username")):
            if o.get(key):
                cmd.append(flag)
        # MQTT_TEST_BROKER_ARGS: more options for every mqtt-broker (e.g.
        # "--router-thread yes", tests/system/CMakeLists.txt and sanitize.sh tsan).
        return (cmd + os.environ.get("MQTT_TEST_BROKER_ARGS", "").split() +
                list(o.get("extra_args", ())))

    def start(self, ready_timeout=10.0):
        last_error = None
        for _attempt in range(3):  # a free port can be taken between probe and bind: retry
            self.port = free_port()
            self.extra_ports = {scheme: free_port()
                                for scheme, _ in self.options.get("extra_listeners", ())}
            cmd = self._command()
            self._log = open(self.log_path, "ab")
            self._log.write(("$ " + " ".join(cmd) + "\n").encode())
            self._log.flush()
            self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.workdir)
            try:
                self._wait_ready(ready_timeout)
                return
            except RuntimeError as e:
                last_error = e
                self.stop()
        raise RuntimeError(f"broker did not start: {last_error}\n{self.log()}")

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        ctx = self.pki.client_context()
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"broker exited with code {self.proc.returncode}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1.0) as s:
                    with ctx.wrap_socket(s, server_hostname=HOST):
                        return
            except (OSError, ssl.SSLError):
                time.sleep(0.05)
        raise RuntimeError(f"TLS port {self.port} not accepting connections after {timeout}s")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=5.0):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        rc = self.proc.returncode
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None
        return rc

    def log(self, tail=200):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return "(no broker log)"
        return "\n".join(lines[-tail:])


class BrokerTestCase(unittest.TestCase):
    """Base class: one broker per test class. Set broker_options = dict(max_queued=5, ...)."""

    broker_options = {}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mqtt-system-")
        try:
            cls.pki = Pki(cls.tmp)
            cls.password_file = os.path.join(cls.tmp, "passwd")
            write_password_file(cls.password_file, USERS)
            cls.prepare_class()
            cls.broker = Broker(cls.tmp, cls.pki, cls.password_file, **cls.options())
            cls.broker.start()
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise
        cls.port = cls.broker.port

    @classmethod
    def prepare_class(cls):
        """Hook for subclasses to create extra files in cls.tmp before the broker starts."""

    @classmethod
    def options(cls):
        return dict(cls.broker_options)

    @classmethod
    def tearDownClass(cls):
        alive = cls.broker.alive()
        rc = cls.broker.stop()
        log = cls.broker.log()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if not alive:
            raise AssertionError(f"broker died during {cls.__name__} (exit code {rc})\n{log}")

    def setUp(self):
        self._clients = []
        result = getattr(getattr(self, "_outcome", None), "result", None)
        self._bad_before = self._bad_count(result)
        self.addCleanup(self._after_test, result)
        self.assertTrue(self.broker.alive(), "broker is not running at test start:\n" + self.broker.log())

    @staticmethod
    def _bad_count(result):
        if result is None:
            return 0
        return len(getattr(result, "failures", [])) + len(getattr(result, "errors", []))

    def _after_test(self, result):
        for c in reversed(self._clients):
            try:
                c.close()
            except Exception:
                pass
        if self._bad_count(result) > self._bad_before or not self.broker.alive():
            sys.stderr.write(f"\n----- broker log ({BROKER_KIND}) for {self.id()} -----\n"
                             f"{self.broker.log()}\n----- end of broker log -----\n")

    # --- client factories (closed automatically after the test) ---

    def client(self, client_id="", port=None, **kw):
        """port: another listener's (default: the TLS one)."""
        c = MqttClient(self.pki, port or self.port, client_id, **kw)
        self._clients.append(c)
        return c

    def connected(self, client_id="", **kw):
        """A paho client that is connected (CONNACK 0 checked)."""
        c = self.client(client_id, **kw)
        rc, _ = c.connect()
        self.assertEqual(rc, 0, f"CONNACK rc for {client_id!r}")
        return c

    def raw(self, **kw):
        c = RawClient(self.pki, self.port, **kw)
        self._clients.append(c)
        return c

    def mosquitto_sub(self, topics, count, wait_secs=5, **kw):
        s = MosquittoSub(self.pki, self.port, topics, count, wait_secs, **kw)
        self._clients.append(s)
        return s

    def mosquitto_pub(self, topic, message=None, **kw):
        return mosquitto_pub(self.pki, self.port, topic, message, **kw)

    # --- common assertions ---

    def assert_broker_alive(self):
        self.assertTrue(self.broker.alive(), "broker died:\n" + self.broker.log())

    def assert_roundtrip(self, subscriber, publisher=None, topic="health/check", payload=None):
        """Publish on `topic` and check `subscriber` (already subscribed to it) gets it."""
        payload = payload if payload is not None else f"ping-{time.monotonic()}".encode()
        own = publisher is None
        publisher = publisher or self.connected("", username="bob", password="bobpw")
        publisher.publish(topic, payload, qos=1)
        msg = subscriber.get_message(timeout=5)
        self.assertEqual((msg.topic, msg.payload), (topic, payload))
        if own:
            publisher.disconnect()


# ---------------------------------------------------------------------------------------------
# paho client with blocking helpers
# ---------------------------------------------------------------------------------------------

Message = collections.namedtuple("Message", "topic payload qos retain dup mid")


class MqttClient:
    """paho-mqtt 1.6.1 client over TLS, driven by its own loop thread (no auto-reconnect).
    websocket_path="/mqtt" makes it MQTT over WebSocket over TLS (port: a wss listener's).
    client_cert: a (cert, key) pair from Pki.client_cert() to present in the handshake."""

    def __init__(self, pki, port, client_id="", clean_session=True, username="alice",
                 password="alicepw", keepalive=60, will=None, protocol=mqtt.MQTTv311,
                 websocket_path=None, client_cert=None):
        self.port = port
        self.keepalive = keepalive
        self.client_id = client_id
        self.c = mqtt.Client(client_id=client_id, clean_session=clean_session, protocol=protocol,
                             reconnect_on_failure=False,
                             transport="websockets" if websocket_path else "tcp")
        if websocket_path:
            self.c.ws_set_options(path=websocket_path)
        self.c.tls_set_context(pki.client_context(client_cert))
        if username is not None:
            self.c.username_pw_set(username, password)
        if will:
            self.c.will_set(**will)
        # At most 10 unacknowledged outgoing QoS 1/2 messages: below any broker's in-flight
        # window (mosquitto silently drops inbound QoS 2 beyond its max_inflight_messages).
        self.c.max_inflight_messages_set(10)
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = self._on_subscribe
        self.c.on_unsubscribe = self._on_unsubscribe
        self.c.on_disconnect = self._on_disconnect
        self.messages = queue.Queue()
        self._connack = queue.Queue()
        self._acks = {}
        self._cond = threading.Condition()
        self.disconnected = threading.Event()

    # callbacks (loop thread)
    def _on_connect(self, client, userdata, flags, rc):
        self._connack.put((rc, flags.get("session present", 0)))

    def _on_message(self, client, userdata, m):
        self.messages.put(Message(m.topic, m.payload, m.qos, bool(m.retain), bool(m.dup), m.mid))

    def _on_subscribe(self, client, userdata, mid, granted):
        with self._cond:
            self._acks[mid] = list(granted)
            self._cond.notify_all()

    def _on_unsubscribe(self, client, userdata, mid):
        with self._cond:
            self._acks[mid] = True
            self._cond.notify_all()

    def _on_disconnect(self, client, userdata, rc):
        self.disconnected.set()

    # blocking API
    def connect(self, timeout=5.0):
        """Connect and wait for the CONNACK. Returns (return code, session present)."""
        self._stop_thread()
        self.disconnected.clear()
        self.c.connect(HOST, self.port, self.keepalive)
        # paho's own network thread; with reconnect_on_failure=False it ends when the connection
        # does (paho writes from this thread only, which an SSL socket needs).
        self.c.loop_start()
        try:
            return self._connack.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no CONNACK within {timeout}s for client {self.client_id!r}")

    def _wait_ack(self, mid, timeout, what):
        deadline = time.monotonic() + timeout
        with self._cond:
            while mid not in self._acks:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {what} within {timeout}s")
                self._cond.wait(left)
            return self._acks.pop(mid)

    def subscribe(self, topic, qos=0, timeout=5.0):
        """topic: a filter or a list of (filter, qos). Returns the granted QoS list."""
        rc, mid = self.c.subscribe(topic, qos) if isinstance(topic, str) else self.c.subscribe(topic)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            raise AssertionError(f"subscribe failed locally: rc {rc}")
        return self._wait_ack(mid, timeout, "SUBACK")

    def unsubscribe(self, topic, timeout=5.0):
        rc, mid = self.c.unsubscribe(topic)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            raise AssertionError(f"unsubscribe failed locally: rc {rc}")
        self._wait_ack(mid, timeout, "UNSUBACK")

    def publish(self, topic, payload=b"", qos=0, retain=False, timeout=5.0):
        """Publish; for QoS > 0 wait until the flow completes (PUBACK / PUBCOMP)."""
        info = self.c.publish(topic, payload, qos, retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise AssertionError(f"publish failed locally: rc {info.rc}")
        if qos > 0:
            info.wait_for_publish(timeout)
            if not info.is_published():
                raise AssertionError(f"QoS {qos} publish to {topic!r} not acknowledged in {timeout}s")
        return info

    def get_message(self, timeout=5.0):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no message within {timeout}s") from None

    def get_messages(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        got = []
        while len(got) < n:
            left = deadline - time.monotonic()
            try:
                got.append(self.messages.get(timeout=max(left, 0.001)))
            except queue.Empty:
                raise AssertionError(f"got {len(got)} of {n} messages within {timeout}s: {got}") from None
        return got

    def drain(self, wait=1.0):
        """All messages arriving within `wait` seconds."""
        deadline = time.monotonic() + wait
        got = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return got
            try:
                got.append(self.messages.get(timeout=left))
            except queue.Empty:
                return got

    def expect_no_message(self, wait=1.0):
        got = self.drain(wait)
        if got:
            raise AssertionError(f"unexpected message(s): {got}")

    def wait_disconnected(self, timeout=5.0):
        return self.disconnected.wait(timeout)

    def disconnect(self, timeout=5.0):
        """Clean DISCONNECT."""
        if not self.disconnected.is_set():
            self.c.disconnect()
            if not self.disconnected.wait(timeout):
                raise AssertionError("DISCONNECT did not complete")
        self._stop_thread()

    def drop(self):
        """Close the TCP connection without DISCONNECT (the will, if any, must be published)."""
        self._shutdown_socket()
        self.disconnected.wait(5)
        self._stop_thread()

    def _shutdown_socket(self):
        cut_connection(self.c.socket())

    def _stop_thread(self):
        if self.c._thread is not None:  # paho keeps the thread object until loop_stop()
            if not self.disconnected.is_set():
                self._shutdown_socket()
            self.c.loop_stop()

    def close(self):
        try:
            self._stop_thread()
            sock = self.c.socket()
            if sock is not None:
                sock.close()
        except Exception:
            pass


# ---------------------------------------------------------------------------------------------
# mosquitto_pub / mosquitto_sub
# ---------------------------------------------------------------------------------------------

def _cli_common(pki, port, username, password):
    args = ["-h", HOST, "-p", str(port), "--cafile", pki.ca, "-V", "mqttv311"]
    if username is not None:
        args += ["-u", username]
    if password is not None:
        args += ["-P", password]
    return args


def mosquitto_pub(pki, port, topic, message=None, qos=0, retain=False, username="alice",
                  password="alicepw", extra=(), timeout=10):
    """Publish one message with mosquitto_pub. message: str/bytes, or None for a zero-length
    payload (-n). Returns the CompletedProcess (check=True)."""
    args = ["mosquitto_pub"] + _cli_common(pki, port, username, password)
    args += ["-t", topic, "-q", str(qos)] + (["-r"] if retain else []) + list(extra)
    stdin = None
    if message is None:
        args.append("-n")
    elif isinstance(message, bytes):
        args.append("-s")  # payload from stdin: binary safe
        stdin = message
    else:
        args += ["-m", message]
    return subprocess.run(args, input=stdin, capture_output=True, timeout=timeout, check=True)


SubMessage = collections.namedtuple("SubMessage", "topic payload qos retain")


class MosquittoSub:
    """mosquitto_sub -C count -W wait_secs in the background. wait_subscribed() blocks until its
    SUBACK arrived; finish() returns the received messages."""

    def __init__(self, pki, port, topics, count, wait_secs, qos=0, username="alice",
                 password="alicepw", extra=()):
        topics = [topics] if isinstance(topics, str) else list(topics)
        # stdbuf: line-buffered stdout, so the SUBACK line is seen while it runs
        args = ["stdbuf", "-oL", "mosquitto_sub"] + _cli_common(pki, port, username, password)
        args += ["-q", str(qos), "-C", str(count), "-W", str(wait_secs), "-d",
                 "-F", "MSG %q %r %x %t"]
        for t in topics:
            args += ["-t", t]
        args += list(extra)
        self.wait_secs = wait_secs
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.lines = []
        self.subscribed = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.lines.append(line)
            if "received SUBACK" in line:
                self.subscribed.set()

    def wait_subscribed(self, timeout=5.0):
        if not self.subscribed.wait(timeout):
            raise AssertionError("mosquitto_sub: no SUBACK in %ss: %s" % (timeout, self.lines))

    def finish(self, timeout=None):
        """Wait for exit (count reached or -W expired); returns [SubMessage]."""
        timeout = timeout if timeout is not None else self.wait_secs + 5
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.close()
        self._reader.join(timeout=2)
        self.proc.stdout.close()
        out = []
        for line in self.lines:
            if line.startswith("MSG "):
                _, q, r, x, t = line.split(" ", 4)
                out.append(SubMessage(t, bytes.fromhex(x), int(q), r == "1"))
        return out

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self._reader.join(timeout=2)
        if not self.proc.stdout.closed:
            self.proc.stdout.close()


# ---------------------------------------------------------------------------------------------
# Raw TLS socket client
# ---------------------------------------------------------------------------------------------

class RawClient:
    """Sends exact bytes, reads exact bytes back with a timeout. tls=False gives plain TCP."""

    def __init__(self, pki, port, tls=True, context=None, timeout=5.0):
        sock = socket.create_connection((HOST, port), timeout=timeout)
        if tls:
            ctx = context or pki.client_context()
            sock = ctx.wrap_socket(sock, server_hostname=HOST)
        self.sock = sock
        self.buf = b""
        self.closed_by_peer = False

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        """Read more bytes into buf. Returns False on timeout; sets closed_by_peer on EOF."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return False
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionError, ssl.SSLError, OSError):
            data = b""
        if not data:
            self.closed_by_peer = True
            return False
        self.buf += data
        return True

    def recv_exact(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while len(self.buf) < n:
            if self.closed_by_peer or not self._fill(deadline):
                why = "connection closed" if self.closed_by_peer else f"timeout {timeout}s"
                raise AssertionError(f"wanted {n} bytes, got {self.buf.hex(' ')!r} ({why})")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_packet(self, timeout=5.0):
        """One whole MQTT packet (fixed header included)."""
        deadline = time.monotonic() + timeout
        header = self.recv_exact(1, timeout)
        length, mult, lenbytes = 0, 1, b""
        for _ in range(4):
            b = self.recv_exact(1, max(deadline - time.monotonic(), 0.001))
            lenbytes += b
            length += (b[0] & 0x7F) * mult
            mult *= 128
            if not b[0] & 0x80:
                break
        body = self.recv_exact(length, max(deadline - time.monotonic(), 0.001)) if length else b""
        return header + lenbytes + body

    def expect(self, expected, timeout=5.0, msg=None):
        got = self.recv_exact(len(expected), timeout)
        if got != expected:
            raise AssertionError(f"{msg or 'unexpected bytes'}: expected {expected.hex(' ')}, "
                                 f"got {got.hex(' ')}")
        return got

    def wait_closed(self, timeout=5.0):
        """True if the server closes the connection within timeout. Bytes that arrive before
        the close are kept in self.buf."""
        deadline = time.monotonic() + timeout
        while not self.closed_by_peer:
            if not self._fill(deadline) and not self.closed_by_peer:
                return False
        return True

    def assert_closed(self, timeout=5.0, allow_data=False):
        closed = self.wait_closed(timeout)
        if not closed:
            raise AssertionError(f"server did not close the connection within {timeout}s")
        if not allow_data and self.buf:
            raise AssertionError(f"server sent {self.buf.hex(' ')} before closing")

    def assert_open_and_silent(self, duration):
        """Nothing arrives for `duration` seconds and the connection stays open."""
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            self._fill(deadline)
            if self.closed_by_peer:
                raise AssertionError(f"connection closed (after {self.buf.hex(' ')})")
        if self.buf:
            raise AssertionError(f"unexpected bytes: {self.buf.hex(' ')}")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def drop(self):
        """Abrupt close: no DISCONNECT, no TLS close_notify."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close()

    def reset(self):
        """Closes with a TCP reset instead of a FIN (SO_LINGER with a zero timeout)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()


def main():
    sys.stderr.write(f"[system tests against: {BROKER_KIND}"
                     f"{'' if IS_MOSQUITTO else ' ' + os.path.join(BIN_DIR, 'mqtt-broker')}]\n")
    unittest.main(verbosity=2)
