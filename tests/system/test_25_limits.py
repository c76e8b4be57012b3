"""25 limits (README "Limits"), with real clients over TLS against mqtt-broker:

- --max-connections-per-address: N connections from 127.0.0.1 work, one more is closed before
  its TLS handshake, another address (127.0.0.2) is not affected, a closed one makes room; the
  refusals are counted and logged as one summary line, not one line each; loopback is exempt
  by default;
- --max-connections: the frontend-wide count, whatever the address;
- --connection-rate: connections beyond the burst wait (none is refused) and are counted;
- --max-topic-length / --max-topic-levels: a PUBLISH over them closes the connection (3.1.1
  cannot refuse one PUBLISH), a SUBSCRIBE filter over them gets 0x80 next to granted ones, a
  will topic over them closes without CONNACK;
- the failed-login slowdown: a second bad login from one address is answered about a second
  later while a client from another address connects at once; the wrong password never
  appears in the broker's log;
- --max-subscriptions-per-client: a new filter beyond it gets SUBACK 0x80.

Clients from 127.0.0.2, 127.0.0.3, ... are other source addresses on the loopback interface.
"""

import re
import socket
import ssl
import threading
import time
import unittest

from harness import HOST, BrokerTestCase, RawClient, free_port, main, ours_only, packet
from test_20_counters import snapshot

CONNACK_OK = packet("20 02 00 00")            # CONNACK, rc 0 accepted
CONNACK_BAD_CREDENTIALS = packet("20 02 00 04")  # CONNACK, rc 4 bad user name or password
PINGREQ = packet("c0 00")                     # PINGREQ
PINGRESP = packet("d0 00")                    # PINGRESP


def connect_packet(client_id, user="alice", password="alicepw", will_topic=None):
    """CONNECT (3.1.1, clean session, keep-alive 60), built field by field."""
    def utf8(s):
        b = s.encode()
        return len(b).to_bytes(2, "big") + b
    flags = 0xC2 | (0x04 if will_topic is not None else 0)  # user, password, [will], clean
    body = (bytes.fromhex("0004 4d515454 04")   # protocol name "MQTT", level 4
            + bytes([flags])                    # connect flags
            + bytes.fromhex("003c")             # keep-alive 60 s
            + utf8(client_id))                  # client id
    if will_topic is not None:
        body += utf8(will_topic) + utf8("gone")  # will topic, will payload "gone"
    body += utf8(user) + utf8(password)          # user name, password
    return bytes([0x10, len(body)]) + body


def publish_qos1(topic, packet_id):
    """PUBLISH QoS 1, payload "x", built field by field."""
    t = topic.encode()
    body = len(t).to_bytes(2, "big") + t + packet_id.to_bytes(2, "big") + b"x"
    assert len(body) < 128
    return bytes([0x32, len(body)]) + body


def subscribe_packet(packet_id, filters):
    """SUBSCRIBE with (filter, qos) pairs, built field by field."""
    body = packet_id.to_bytes(2, "big")
    for f, qos in filters:
        b = f.encode()
        body += len(b).to_bytes(2, "big") + b + bytes([qos])
    assert len(body) < 128
    return bytes([0x82, len(body)]) + body


def suback(packet_id, codes):
    return bytes([0x90, 2 + len(codes)]) + packet_id.to_bytes(2, "big") + bytes(codes)


def raw_from(source, pki, port, timeout=5.0):
    """A RawClient whose TCP connection starts from `source` (e.g. 127.0.0.2)."""
    sock = socket.create_connection((HOST, port), timeout=timeout, source_address=(source, 0))
    r = RawClient.__new__(RawClient)
    try:
        r.sock = pki.client_context().wrap_socket(sock, server_hostname=HOST)
    except BaseException as e:
        # A reset that arrives before the handshake starts (refused at accept) makes Python's
        # wrap_socket raise without closing the SSLSocket it made: close it here.
        tb = e.__traceback__
        while tb is not None:
            made = tb.tb_frame.f_locals.get("self")
            if isinstance(made, ssl.SSLSocket):
                made.close()
            tb = tb.tb_next
        sock.close()
        raise
    r.buf = b""
    r.closed_by_peer = False
    return r


class LimitsCase(BrokerTestCase):
    """Each class gets its own stats endpoint, read with mqtt-stat."""

    stats = None

    @classmethod
    def options(cls):
        cls.stats = f"tcp://{HOST}:{free_port()}"
        opts = dict(cls.broker_options)
        opts["extra_args"] = list(opts.get("extra_args", [])) + ["--stats", cls.stats]
        return opts

    def stats_of(self):
        procs = snapshot(self.stats)
        self.assertEqual(len(procs), 1)
        return next(iter(procs.values()))

    def counter(self, name):
        return self.stats_of()["counters"].get(name)

    def assert_counter_reaches(self, name, at_least, timeout=5.0):
        """Snapshots come once a second: the latest may predate what just happened."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.counter(name)
            if value is not None and value >= at_least:
                return value
            if time.monotonic() > deadline:
                self.fail(f"counter {name} is {value}, expected at least {at_least}")
            time.sleep(0.2)

    def wait_connections(self, n, timeout=10.0):
        """Until the broker holds exactly n client connections (gauge connections.current)."""
        deadline = time.monotonic() + timeout
        while True:
            now = self.stats_of()["gauges"]["connections.current"]
            if now == n:
                return
            if time.monotonic() > deadline:
                self.fail(f"connections.current is {now}, expected {n}")
            time.sleep(0.2)

    def open(self, source, client_id):
        """A connected raw client from `source` (CONNACK 0 checked), closed after the test."""
        r = raw_from(source, self.pki, self.port)
        self._clients.append(r)
        r.send(connect_packet(client_id))
        r.expect(CONNACK_OK, msg=f"CONNACK for {client_id} from {source}")
        return r

    def assert_refused_at_accept(self, source):
        """The TCP connection is accepted by the kernel, then closed before the TLS handshake
        completes (a reset, or an end of stream)."""
        started = time.monotonic()
        with self.assertRaises((ssl.SSLError, OSError)):
            r = raw_from(source, self.pki, self.port)
            r.send(connect_packet("never"))
            r.recv_exact(4, timeout=5)  # not reached: the handshake fails first
        self.assertLess(time.monotonic() - started, 3.0, "refusal was not immediate")


@ours_only("connection limits are ours")
class PerAddressLimitTest(LimitsCase):
    broker_options = dict(extra_args=["--max-connections-per-address", "3",
                                      "--exempt-addresses", "none"])

    def test_one_more_from_an_address_is_closed_others_unaffected(self):
        self.wait_connections(0)  # the harness's readiness probe has gone
        held = [self.open("127.0.0.1", f"pa-{i}") for i in range(3)]
        self.assert_refused_at_accept("127.0.0.1")
        # Another address has its own budget.
        other = self.open("127.0.0.2", "pa-other")
        # The three are unaffected.
        for r in held + [other]:
            r.send(PINGREQ)
            r.expect(PINGRESP)
        # A closed connection makes room (once the broker has seen it go).
        held.pop().drop()
        deadline = time.monotonic() + 5
        while True:
            try:
                held.append(self.open("127.0.0.1", "pa-again"))
                break
            except (AssertionError, ssl.SSLError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.assert_counter_reaches("connections.refused.max_per_address", 1)
        self.assertEqual(self.counter("connections.refused.max_connections"), 0)

    def test_refusals_are_logged_as_a_summary(self):
        self.wait_connections(0)
        held = [self.open("127.0.0.3", f"pl-{i}") for i in range(3)]
        for _ in range(20):
            self.assert_refused_at_accept("127.0.0.3")
        lines = [line for line in self.broker.log(tail=100000).splitlines()
                 if "closed at accept" in line]
        self.assertGreaterEqual(len(lines), 1)
        self.assertLessEqual(len(lines), 3, "one log line per refusal:\n" + "\n".join(lines))
        self.assertIn("--max-connections-per-address", lines[-1])
        self.assertEqual(len(held), 3)


@ours_only("connection limits are ours")
class LoopbackExemptTest(LimitsCase):
    """Defaults: 127.0.0.0/8 and ::1 are exempt from the per-address limits."""
    broker_options = dict(extra_args=["--max-connections-per-address", "1"])

    def test_loopback_is_not_limited_per_address_nor_slowed_down(self):
        for i in range(3):
            self.open("127.0.0.1", f"ex-{i}")
        bad = connect_packet("ex-bad", password="wrong")
        for _ in range(3):  # no wait after failed logins either
            r = raw_from("127.0.0.1", self.pki, self.port)
            self._clients.append(r)
            started = time.monotonic()
            r.send(bad)
            r.expect(CONNACK_BAD_CREDENTIALS)
            self.assertLess(time.monotonic() - started, 0.8)
        self.assertEqual(self.counter("connections.auth_delayed"), 0)


@ours_only("connection limits are ours")
class MaxConnectionsTest(LimitsCase):
    broker_options = dict(extra_args=["--max-connections", "2"])

    def test_the_frontend_wide_count_applies_to_every_address(self):
        self.wait_connections(0)
        a = self.open("127.0.0.1", "mc-1")
        b = self.open("127.0.0.2", "mc-2")
        self.assert_refused_at_accept("127.0.0.3")
        self.assert_refused_at_accept("127.0.0.1")
        for r in (a, b):
            r.send(PINGREQ)
            r.expect(PINGRESP)
        self.assert_counter_reaches("connections.refused.max_connections", 2)


@ours_only("connection limits are ours")
class ConnectionRateTest(LimitsCase):
    RATE = 5
    broker_options = dict(extra_args=["--connection-rate", str(RATE)])

    def test_connections_beyond_the_rate_wait_and_none_is_refused(self):
        time.sleep(1.5)  # the bucket refills after the readiness probe
        n = 15
        results = [None] * n
        done = [None] * n
        started = time.monotonic()

        def one(i):
            try:
                r = raw_from("127.0.0.1", self.pki, self.port, timeout=15)
                r.send(connect_packet(f"rate-{i}"))
                r.expect(CONNACK_OK, timeout=15)
                done[i] = time.monotonic() - started
                results[i] = r
            except Exception as e:  # reported below
                results[i] = e

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self._clients.extend(r for r in results if isinstance(r, RawClient))
        errors = [r for r in results if not isinstance(r, RawClient)]
        self.assertEqual(errors, [], "connections refused or failed")
        # A burst of 5, then 5 a second: the last of 15 waits about 2 s.
        self.assertGreaterEqual(max(done), 1.6, f"connected after {sorted(done)}")
        self.assertLess(max(done), 10.0)
        self.assert_counter_reaches("connections.rate_delayed", n - 2 * self.RATE)


@ours_only("topic limits are ours")
class TopicLimitsTest(LimitsCase):
    broker_options = dict(extra_args=["--max-topic-length", "16", "--max-topic-levels", "4"])

    def test_publish_within_the_limits_passes(self):
        r = self.open("127.0.0.1", "tl-ok")
        r.send(publish_qos1("a/b/c/d", 1))                    # 4 levels
        r.expect(packet("40 02 00 01  # PUBACK id 1"))
        r.send(publish_qos1("0123456789abcdef", 2))           # 16 bytes
        r.expect(packet("40 02 00 02  # PUBACK id 2"))

    def test_publish_over_the_levels_closes_the_connection(self):
        sub = self.connected("tl-sub")
        sub.subscribe("#", qos=1)
        r = self.open("127.0.0.1", "tl-levels")
        r.send(publish_qos1("a/b/c/d/e", 3))                  # 5 levels: no PUBACK
        r.assert_closed(timeout=5)
        sub.expect_no_message(wait=0.5)  # it was not routed

    def test_publish_over_the_length_closes_the_connection(self):
        r = self.open("127.0.0.1", "tl-length")
        r.send(publish_qos1("0123456789abcdefg", 4))          # 17 bytes
        r.assert_closed(timeout=5)
        self.assert_counter_reaches("connections.closed.topic_limit", 1)

    def test_subscribe_filter_over_the_limits_gets_0x80_next_to_granted_ones(self):
        r = self.open("127.0.0.1", "tl-sub2")
        r.send(subscribe_packet(7, [("a/+/c/#", 1),          # 4 levels: granted
                                    ("a/b/c/d/#", 1),        # 5 levels: refused
                                    ("x", 2)]))
        r.expect(suback(7, [0x01, 0x80, 0x02]))
        r.send(PINGREQ)  # still connected
        r.expect(PINGRESP)
        self.assert_counter_reaches("subscriptions.refused.topic_limit", 1)

    def test_will_topic_over_the_limits_closes_without_connack(self):
        r = raw_from("127.0.0.1", self.pki, self.port)
        self._clients.append(r)
        r.send(connect_packet("tl-will", will_topic="w/1/2/3/4"))  # 5 levels
        r.assert_closed(timeout=5)


@ours_only("the failed-login slowdown is ours")
class FailedLoginTest(LimitsCase):
    # Loopback is exempt by default; here it is not, and each test uses its own source address.
    broker_options = dict(extra_args=["--exempt-addresses", "none"])

    def login(self, source, client_id, password):
        """Sends CONNECT from `source`; returns (client, time it was sent)."""
        r = raw_from(source, self.pki, self.port, timeout=40)
        self._clients.append(r)
        sent = time.monotonic()
        r.send(connect_packet(client_id, password=password))
        return r, sent

    def test_second_bad_login_waits_while_another_address_connects_at_once(self):
        r, sent = self.login("127.0.0.4", "fl-1", "wrong")
        r.expect(CONNACK_BAD_CREDENTIALS)
        self.assertLess(time.monotonic() - sent, 0.8, "the first failure is answered at once")

        r2, sent2 = self.login("127.0.0.4", "fl-2", "wrong")
        same, sent_same = self.login("127.0.0.4", "fl-3", "alicepw")  # right, same address
        # Meanwhile another address is not slowed down.
        other, sent_other = self.login("127.0.0.5", "fl-4", "alicepw")
        other.expect(CONNACK_OK)
        self.assertLess(time.monotonic() - sent_other, 0.8, "another address was slowed down")
        r2.expect(CONNACK_BAD_CREDENTIALS, timeout=10)
        self.assertGreaterEqual(time.monotonic() - sent2, 0.9, "second bad login not delayed")
        same.expect(CONNACK_OK, timeout=10)  # every CONNECT from that address waits
        self.assertGreaterEqual(time.monotonic() - sent_same, 0.9)
        # Two failures in a row now: the next waits 2 s after the last one.
        r3, sent3 = self.login("127.0.0.4", "fl-5", "wrong")
        r3.expect(CONNACK_BAD_CREDENTIALS, timeout=10)
        self.assertGreaterEqual(time.monotonic() - sent3, 1.8, "the wait did not double")
        self.assert_counter_reaches("connections.auth_delayed", 3)
        self.assert_counter_reaches("connections.refused.bad_credentials", 3)

    def test_passwords_never_appear_in_the_log(self):
        secret = "Zebra-Tango-4711-not-logged"
        typo = "alicepw-typed-as-user-9931"  # a password typed into the user name field
        r, _ = self.login("127.0.0.6", "fl-secret", secret)
        r.expect(CONNACK_BAD_CREDENTIALS, timeout=10)
        r = raw_from("127.0.0.7", self.pki, self.port)
        self._clients.append(r)
        r.send(connect_packet("fl-typo", user=typo, password="x"))
        r.expect(CONNACK_BAD_CREDENTIALS, timeout=10)
        ok, _ = self.login("127.0.0.8", "fl-good", "alicepw")
        ok.expect(CONNACK_OK)
        time.sleep(0.3)  # the log lines of the close
        log = self.broker.log(tail=100000)
        # The refusals are in the log (debug level)...
        self.assertGreaterEqual(log.count("closing: bad credentials"), 2, log)
        # ... their passwords are not, in any form.
        for text in (secret, typo, "alicepw"):
            self.assertNotIn(text, log)
            self.assertNotIn(text.encode().hex(), log.replace(" ", ""))
        self.assertIsNone(re.search(r"password\s*[=:]\s*\S", log, re.IGNORECASE))


@ours_only("--max-subscriptions-per-client is ours")
class SubscriptionLimitTest(LimitsCase):
    broker_options = dict(extra_args=["--max-subscriptions-per-client", "3"])

    def test_a_new_filter_beyond_the_limit_gets_0x80(self):
        r = self.open("127.0.0.1", "sl-1")
        r.send(subscribe_packet(1, [("s/1", 0), ("s/2", 1), ("s/3", 2), ("s/4", 1)]))
        r.expect(suback(1, [0x00, 0x01, 0x02, 0x80]))
        # A filter it holds may be subscribed again; a new one may not.
        r.send(subscribe_packet(2, [("s/1", 1), ("s/5", 0)]))
        r.expect(suback(2, [0x01, 0x80]))
        # UNSUBSCRIBE makes room.
        r.send(packet("a2 07 00 03 00 03 73 2f 32  # UNSUBSCRIBE id 3, filter 's/2'"))
        r.expect(packet("b0 02 00 03  # UNSUBACK id 3"))
        r.send(subscribe_packet(4, [("s/5", 0)]))
        r.expect(suback(4, [0x00]))
        self.assert_counter_reaches("subscriptions.refused.limit", 2)


if __name__ == "__main__":
    main()
