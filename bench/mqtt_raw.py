"""A minimal blocking MQTT 3.1.1 client on a raw socket (plain TCP or TLS), for the parts of
the benchmark suite mqtt-bench does not cover: the readiness probe, publishing many retained
topics, and draining an offline queue. Pure Python, so it is the same client for every
target; it pipelines (QoS 1 with a window of packet ids, PUBACKs batched per read) so that
at the sizes the suite uses, the brokers rather than this client set the pace.

One RawClient is one connection, used by one thread.
"""

import select
import socket
import ssl
import time


class MqttError(Exception):
    pass


def _varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _str(s):
    b = s.encode() if isinstance(s, str) else s
    return len(b).to_bytes(2, "big") + b


def publish_packet(topic, payload, qos=0, retain=False, packet_id=0):
    body = _str(topic) + (packet_id.to_bytes(2, "big") if qos else b"") + payload
    return bytes([0x30 | (qos << 1) | (1 if retain else 0)]) + _varint(len(body)) + body


class RawClient:
    """connect() -> (return code, session present); then subscribe / publish_many /
    receive. Every wait is bounded by `timeout` seconds without progress."""

    def __init__(self, host, port, cafile=None, timeout=10.0):
        self.timeout = timeout
        raw = socket.create_connection((host, port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if cafile:
            ctx = ssl.create_default_context(cafile=cafile)
            self.sock = ctx.wrap_socket(raw, server_hostname=host)
        else:
            self.sock = raw
        self.buf = bytearray()
        self.pos = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # --- reading ---

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise MqttError("connection closed by the broker")
        if self.pos:
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += data

    def _fill_more(self):
        """Blocks for data, then takes whatever else has arrived, so that one wakeup handles
        many packets (a broker that writes one TLS record per packet would otherwise be paced
        by this client's wakeups)."""
        self._fill()
        while True:
            if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
                self._fill()
            elif select.select([self.sock], [], [], 0)[0]:
                self._fill()
            else:
                return

    def _next_packet(self):
        """(first byte, body) of the next complete buffered packet, or None."""
        buf, i, n = self.buf, self.pos, len(self.buf)
        if n - i < 2:
            return None
        length, mult, j = 0, 1, i + 1
        while True:
            if j >= n:
                return None
            b = buf[j]
            j += 1
            length += (b & 0x7F) * mult
            mult *= 128
            if not b & 0x80:
                break
        if j + length > n:
            return None
        self.pos = j + length
        return buf[i], bytes(buf[j:j + length])

    def read_packet(self):
        while True:
            p = self._next_packet()
            if p is not None:
                return p
            self._fill()

    # --- requests ---

    def connect(self, client_id, username=None, password=None, clean=True, keepalive=60):
        flags = (0x02 if clean else 0) | (0x80 if username else 0) | (0x40 if password else 0)
        body = _str("MQTT") + bytes([4, flags]) + keepalive.to_bytes(2, "big") + _str(client_id)
        if username:
            body += _str(username)
        if password:
            body += _str(password)
        self.sock.sendall(b"\x10" + _varint(len(body)) + body)
        first, body = self.read_packet()
        if first != 0x20 or len(body) != 2:
            raise MqttError(f"expected CONNACK, got {first:#04x}")
        return body[1], bool(body[0] & 1)

    def subscribe(self, topic_filter, qos, packet_id=1, on_publish=None):
        """Sends SUBSCRIBE and waits for its SUBACK; PUBLISH packets that come first go to
        on_publish(first byte, body). Returns the granted QoS."""
        body = packet_id.to_bytes(2, "big") + _str(topic_filter) + bytes([qos])
        self.sock.sendall(b"\x82" + _varint(len(body)) + body)
        while True:
            first, body = self.read_packet()
            if first == 0x90:
                return body[2]
            if first >> 4 == 3 and on_publish:
                on_publish(first, body)

    def disconnect(self):
        try:
            self.sock.sendall(b"\xe0\x00")
        except OSError:
            pass
        self.close()

    def publish_many(self, packets_of, count, qos, window=1000):
        """Publishes `count` messages: packets_of(i, packet_id) -> PUBLISH bytes. QoS 1: at
        most `window` (< 65535) unacknowledged, packet ids 1..65535 in turn; returns once
        every PUBACK is in. QoS 0: then a PINGREQ/PINGRESP round trip, so the broker has read
        them all. Returns the seconds it took."""
        start = time.perf_counter()
        sent, outstanding, next_id = 0, 0, 1
        while sent < count or outstanding:
            batch = []
            while sent < count and (qos == 0 or outstanding < window) and len(batch) < 512:
                batch.append(packets_of(sent, next_id if qos else 0))
                sent += 1
                if qos:
                    outstanding += 1
                    next_id = next_id % 65535 + 1
            if batch:
                self.sock.sendall(b"".join(batch))
            if qos == 0:
                continue
            # Refill the window once half of it is acknowledged: batches, not ping-pong.
            while outstanding and (sent == count or outstanding > window // 2):
                self._fill_more()
                while True:
                    p = self._next_packet()
                    if p is None:
                        break
                    if p[0] == 0x40:
                        outstanding -= 1
        if qos == 0:
            self.sock.sendall(b"\xc0\x00")
            while self.read_packet()[0] != 0xD0:
                pass
        return time.perf_counter() - start

    def receive(self, count, on_publish, idle_timeout):
        """Reads PUBLISH packets until on_publish(first byte, body) returned True `count`
        times, or nothing came for idle_timeout seconds. QoS 1 deliveries are acknowledged
        (one write per read). Returns how many returned True."""
        self.sock.settimeout(idle_timeout)
        got = 0
        try:
            while got < count:
                acks = []
                while True:
                    p = self._next_packet()
                    if p is None:
                        break
                    first, body = p
                    if first >> 4 != 3:
                        continue
                    if first & 0x06:  # QoS 1 (or 2, which the suite does not use)
                        tlen = (body[0] << 8) | body[1]
                        acks.append(b"\x40\x02" + body[2 + tlen:4 + tlen])
                    if on_publish(first, body):
                        got += 1
                if acks:
                    self.sock.sendall(b"".join(acks))
                if got >= count:
                    break
                self._fill_more()
        except (socket.timeout, TimeoutError):
            pass
        finally:
            self.sock.settimeout(self.timeout)
        return got


def payload_of(body, first):
    """The payload of a PUBLISH body (first byte gives the QoS)."""
    tlen = (body[0] << 8) | body[1]
    return body[2 + tlen + (2 if first & 0x06 else 0):]


def wait_connack(host, port, cafile, username, password, client_id, timeout, alive=None):
    """Connects until a CONNACK 0 arrives (the broker or cluster serves clients), timeout
    seconds pass or alive() says the broker is gone. Returns None when ready, else the last
    error text."""
    deadline = time.monotonic() + timeout
    last = "no attempt"
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            return f"exited ({last})"
        try:
            c = RawClient(host, port, cafile, timeout=2.0)
            try:
                rc, _ = c.connect(client_id, username, password)
                if rc == 0:
                    c.disconnect()
                    return None
                last = f"CONNACK {rc}"
            finally:
                c.close()
        except (OSError, MqttError, ssl.SSLError) as e:
            last = str(e) or type(e).__name__
        time.sleep(0.05)
    return f"nothing after {timeout:g}s; last: {last}"
