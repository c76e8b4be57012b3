"""A small MQTT 3.1.1 client on asyncio streams (TLS), for the soak test.

One Client is one connection, used from the soak's single event loop. It can behave (a reader
task answers PINGRESP/SUBACK/PUBACK and acknowledges QoS 1 deliveries, a pinger keeps the
connection alive) or misbehave on request: stop reading (pause_reading), stop acknowledging,
stop pinging, send raw bytes (half a packet, garbage), or vanish without DISCONNECT (abort).
Every wait is bounded by a timeout; errors are ClientError with a short reason.
"""

import asyncio
import ssl
import time

HOST = "127.0.0.1"

CONNACK_REASONS = {1: "unacceptable protocol version", 2: "identifier rejected",
                   3: "server unavailable", 4: "bad user name or password", 5: "not authorized"}


class ClientError(Exception):
    pass


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def mqtt_str(s):
    b = s.encode() if isinstance(s, str) else s
    return len(b).to_bytes(2, "big") + b


def connect_packet(client_id, username, password, clean=True, keepalive=60, will=None):
    """will: (topic, payload, qos, retain) or None."""
    flags = 0x02 if clean else 0
    payload = mqtt_str(client_id)
    if will:
        topic, message, qos, retain = will
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        payload += mqtt_str(topic) + mqtt_str(message)
    if username is not None:
        flags |= 0x80
        payload += mqtt_str(username)
    if password is not None:
        flags |= 0x40
        payload += mqtt_str(password)
    body = mqtt_str("MQTT") + bytes([4, flags]) + keepalive.to_bytes(2, "big") + payload
    return b"\x10" + varint(len(body)) + body


def publish_packet(topic, payload, qos=0, packet_id=0, dup=False, retain=False):
    body = mqtt_str(topic) + (packet_id.to_bytes(2, "big") if qos else b"") + payload
    first = 0x30 | (0x08 if dup else 0) | (qos << 1) | (0x01 if retain else 0)
    return bytes([first]) + varint(len(body)) + body


def subscribe_packet(packet_id, filters):
    body = packet_id.to_bytes(2, "big")
    for topic, qos in filters:
        body += mqtt_str(topic) + bytes([qos])
    return b"\x82" + varint(len(body)) + body


PINGREQ = b"\xc0\x00"
DISCONNECT = b"\xe0\x00"


def client_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = True  # server_hostname 127.0.0.1 matches the certificate's IP SAN
    return ctx


async def open_tls(port, ctx, timeout):
    """(reader, writer) of a TLS connection to 127.0.0.1:port, handshake done."""
    try:
        return await asyncio.wait_for(
            asyncio.open_connection(HOST, port, ssl=ctx, server_hostname=HOST,
                                    ssl_handshake_timeout=timeout), timeout)
    except (OSError, ssl.SSLError, asyncio.TimeoutError) as e:
        raise ClientError(f"tls connect: {type(e).__name__} {e}".strip()) from None


async def read_packet(reader):
    """(first byte, body) of the next packet; ClientError on EOF."""
    try:
        head = await reader.readexactly(1)
        length, mult = 0, 1
        for _ in range(4):
            b = (await reader.readexactly(1))[0]
            length += (b & 0x7F) * mult
            mult *= 128
            if not b & 0x80:
                break
        body = await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError:
        raise ClientError("closed by the broker") from None
    except (OSError, ssl.SSLError) as e:
        raise ClientError(f"read: {type(e).__name__}") from None
    return head[0], body


def parse_publish(first, body):
    """(topic, payload, qos, dup, packet_id)."""
    qos = (first >> 1) & 3
    n = int.from_bytes(body[:2], "big")
    topic = body[2:2 + n].decode(errors="replace")
    i = 2 + n
    packet_id = 0
    if qos:
        packet_id = int.from_bytes(body[i:i + 2], "big")
        i += 2
    return topic, body[i:], qos, bool(first & 0x08), packet_id


def close_transport(writer):
    try:
        writer.transport.abort()
    except Exception:
        pass


class Client:
    """A connected MQTT session. Create with `await Client.connect(...)`.

    on_message(topic, payload, qos, dup) is called from the reader task for every PUBLISH;
    QoS 1 deliveries are acknowledged after it returns while `acking` is True. `closed` is
    set when the connection ends, `close_reason` says why."""

    def __init__(self, reader, writer, keepalive, on_message):
        self.reader = reader
        self.writer = writer
        self.keepalive = keepalive
        self.on_message = on_message
        self.acking = True
        self.closed = asyncio.Event()
        self.close_reason = None
        self.closed_by_us = False
        self.session_present = False
        self._next_id = 0
        self._waiting = {}  # (kind, packet id) -> future
        self._tasks = []
        self.last_send = time.monotonic()

    @classmethod
    async def connect(cls, port, ctx, client_id, username, password, clean=True, keepalive=60,
                      will=None, on_message=None, timeout=30.0, ping=True):
        """TLS + CONNECT + CONNACK. ClientError (with the CONNACK code as `.rc`) on failure."""
        reader, writer = await open_tls(port, ctx, timeout)
        try:
            writer.write(connect_packet(client_id, username, password, clean, keepalive, will))
            first, body = await asyncio.wait_for(read_packet(reader), timeout)
        except asyncio.TimeoutError:
            close_transport(writer)
            raise ClientError("no CONNACK in time") from None
        except ClientError as e:
            close_transport(writer)
            raise ClientError(f"before CONNACK: {e}") from None
        if first != 0x20 or len(body) != 2:
            close_transport(writer)
            raise ClientError(f"expected CONNACK, got {first:#x}")
        if body[1] != 0:
            close_transport(writer)
            err = ClientError(f"connack {body[1]} ({CONNACK_REASONS.get(body[1], '?')})")
            err.rc = body[1]
            raise err
        c = cls(reader, writer, keepalive, on_message)
        c.session_present = bool(body[0] & 1)
        c._tasks.append(asyncio.get_running_loop().create_task(c._read_loop()))
        if ping and keepalive:
            c._tasks.append(asyncio.get_running_loop().create_task(c._ping_loop()))
        return c

    # --- sending ---

    def send(self, data):
        if self.closed.is_set():
            raise ClientError(f"connection closed: {self.close_reason}")
        self.writer.write(data)
        self.last_send = time.monotonic()

    def packet_id(self):
        for _ in range(65535):
            self._next_id = self._next_id % 65535 + 1
            if ("puback", self._next_id) not in self._waiting and \
                    ("suback", self._next_id) not in self._waiting:
                return self._next_id
        raise ClientError("no free packet id")

    def _expect(self, kind, packet_id):
        """A future for the acknowledgement (registered before the request is sent)."""
        fut = asyncio.get_running_loop().create_future()
        self._waiting[(kind, packet_id)] = fut
        return fut

    async def _wait(self, kind, packet_id, fut, timeout):
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise ClientError(f"no {kind.upper()} in {timeout:.0f}s") from None
        finally:
            self._waiting.pop((kind, packet_id), None)

    async def subscribe(self, filters, timeout=30.0):
        """filters: [(topic filter, qos)]. Returns the granted codes."""
        pid = self.packet_id()
        fut = self._expect("suback", pid)
        self.send(subscribe_packet(pid, filters))
        granted = await self._wait("suback", pid, fut, timeout)
        if any(g == 0x80 for g in granted):
            raise ClientError(f"subscription refused: {list(granted)}")
        return granted

    def publish_nowait(self, topic, payload, qos=0):
        """Sends a PUBLISH. QoS 1: returns (packet id, future of its PUBACK), to pass to
        wait_puback; QoS 0: None."""
        if qos == 0:
            self.send(publish_packet(topic, payload))
            return None
        pid = self.packet_id()
        fut = self._expect("puback", pid)
        self.send(publish_packet(topic, payload, qos, pid))
        return pid, fut

    async def wait_puback(self, pending, timeout=30.0):
        pid, fut = pending
        await self._wait("puback", pid, fut, timeout)

    async def publish(self, topic, payload, qos=0, timeout=30.0):
        pending = self.publish_nowait(topic, payload, qos)
        if pending is not None:
            await self.wait_puback(pending, timeout)
        else:
            await self.drain(timeout)

    async def drain(self, timeout=30.0):
        try:
            await asyncio.wait_for(self.writer.drain(), timeout)
        except (OSError, ssl.SSLError, ConnectionError, asyncio.TimeoutError) as e:
            raise ClientError(f"write: {type(e).__name__}") from None

    def stop_reading(self):
        """From now on nothing is read: the kernel's receive buffer, then the broker's send
        window fill up. The pinger keeps running."""
        self._tasks[0].cancel()
        self.writer.transport.pause_reading()

    def take_reader(self):
        """Stops the reader task and hands the stream over (to read it some other way)."""
        self._tasks[0].cancel()
        return self.reader

    # --- ending ---

    async def disconnect(self, timeout=10.0):
        """DISCONNECT, then close (the broker discards the will)."""
        if not self.closed.is_set():
            try:
                self.send(DISCONNECT)
                await self.drain(timeout)
            except ClientError:
                pass
        self.closed_by_us = True
        await self._finish("disconnected by us")

    async def abort(self):
        """Close the socket without DISCONNECT or TLS close_notify (the will fires)."""
        self.closed_by_us = True
        close_transport(self.writer)
        await self._finish("aborted by us")

    async def _finish(self, reason):
        if not self.closed.is_set():
            self.close_reason = reason
            self.closed.set()
        for t in self._tasks:
            if t is not asyncio.current_task():
                t.cancel()
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_exception(ClientError(f"connection closed: {self.close_reason}"))
        close_transport(self.writer)

    # --- background ---

    async def _read_loop(self):
        reason = "closed by the broker"
        try:
            while True:
                first, body = await read_packet(self.reader)
                kind = first & 0xF0
                if kind == 0x30:
                    topic, payload, qos, dup, pid = parse_publish(first, body)
                    if self.on_message:
                        self.on_message(topic, payload, qos, dup)
                    if qos == 1 and self.acking:
                        self.send(b"\x40\x02" + pid.to_bytes(2, "big"))
                    elif qos == 2:
                        raise ClientError("unexpected QoS 2 delivery")
                elif kind in (0x40, 0x90):
                    pid = int.from_bytes(body[:2], "big")
                    fut = self._waiting.get(("puback" if kind == 0x40 else "suback", pid))
                    if fut and not fut.done():
                        fut.set_result(body[2:] if kind == 0x90 else None)
                elif kind == 0xD0:
                    pass  # PINGRESP
                else:
                    raise ClientError(f"unexpected packet {first:#04x}")
        except ClientError as e:
            reason = str(e)
        except asyncio.CancelledError:
            return
        if not self.closed.is_set():
            self.close_reason = reason
        await self._finish(reason)

    async def _ping_loop(self):
        try:
            while not self.closed.is_set():
                await asyncio.sleep(max(1.0, self.keepalive / 4))
                if time.monotonic() - self.last_send >= self.keepalive / 2:
                    self.send(PINGREQ)
        except (asyncio.CancelledError, ClientError):
            return
