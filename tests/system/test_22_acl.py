"""22 ACL: --acl-file in Mosquitto's acl_file format, enforced by the router, with real clients
(paho-mqtt, mosquitto_pub, mosquitto_sub).

A refused PUBLISH is acknowledged as usual (MQTT-3.3.5-2) and goes nowhere, retained or not; a
refused SUBSCRIBE filter gets 0x80; a deny inside an allowed subtree is filtered at delivery;
patterns substitute %u and %c; $SYS is read by rule only; SIGHUP reloads the file while
subscribers stay connected (mqtt-broker and mqtt-router); a file with a bad line stops the start
with one line naming FILE:LINE.

Mosquitto 2.0 is the reference for what both do; it grants every SUBSCRIBE (its acl_file filters
at delivery only), so the 0x80 checks are skipped there.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import (BIN_DIR, HOST, IS_MOSQUITTO, USERS, BrokerTestCase, MqttClient, Pki,
                     free_port, ours_only, skip_on_mosquitto, write_password_file)

REFUSED = 0x80

ACL = """\
# Clients without a username: nothing (there are none: authentication is always on).
topic read anonymous/#

user alice
topic readwrite shared/#
topic deny shared/secret/#
topic read news/#

user bob
topic readwrite shared/#
topic write news/#
topic read devices/#
topic read $SYS/broker/clients/#

# Every client: its own home, its own device status.
pattern readwrite home/%u/#
pattern write devices/%c/status
"""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class AclTest(BrokerTestCase):

    @classmethod
    def prepare_class(cls):
        cls.acl = os.path.join(cls.tmp, "acl")
        write(cls.acl, ACL)

    @classmethod
    def options(cls):
        return dict(acl_file=cls.acl)

    def bob(self, client_id=""):
        return self.connected(client_id, username="bob", password=USERS["bob"])

    def test_granted_publish_and_subscribe(self):
        """alice reads news/#, bob writes it: both through."""
        alice = self.connected("acl-a1")
        self.assertEqual(alice.subscribe("news/#", 1), [1])
        self.bob().publish("news/today", b"sunny", qos=1)
        msg = alice.get_message()
        self.assertEqual((msg.topic, msg.payload, msg.qos), ("news/today", b"sunny", 1))
        # mosquitto_pub as bob too.
        self.mosquitto_pub("news/cli", "from-cli", qos=1, username="bob", password=USERS["bob"])
        self.assertEqual(alice.get_message().payload, b"from-cli")

    def test_refused_publish_is_acknowledged_and_goes_nowhere(self):
        """alice may only read news/#: her QoS 0/1/2 PUBLISHes there complete their flows
        (PUBACK, PUBREC/PUBREL/PUBCOMP) and reach no subscriber; a retained one is not kept."""
        watcher = self.connected("acl-w2")
        watcher.subscribe("news/#", 2)
        alice = self.connected("acl-a2")
        alice.publish("news/q0", b"x", qos=0)
        alice.publish("news/q1", b"x", qos=1)   # waits for PUBACK
        alice.publish("news/q2", b"x", qos=2)   # waits for PUBCOMP
        alice.publish("news/kept", b"x", qos=1, retain=True)
        watcher.expect_no_message(1.0)
        late = self.connected("acl-l2")
        late.subscribe("news/#", 1)
        late.expect_no_message(1.0)
        # The mosquitto_pub CLI gets its PUBACK too (exit 0); still nothing delivered.
        self.mosquitto_pub("news/cli", "x", qos=1)
        self.mosquitto_pub("elsewhere", "x", qos=2)
        watcher.expect_no_message(0.5)
        # The connection is fine afterwards.
        alice.publish("shared/ok", b"fine", qos=1)

    @skip_on_mosquitto("its acl_file grants every SUBSCRIBE and filters at delivery")
    def test_refused_filters_get_0x80_next_to_granted_ones(self):
        """One SUBACK code per filter: covered by a read rule -> granted, else 0x80."""
        alice = self.connected("acl-a3")
        codes = alice.subscribe([("news/#", 1), ("#", 0), ("home/bob/#", 1), ("shared/+", 2),
                                 ("shared/secret/#", 1), ("devices/#", 0)])
        self.assertEqual(codes, [1, REFUSED, REFUSED, 2, REFUSED, REFUSED])
        # Only the granted ones deliver; the connection stays up.
        bob = self.bob()
        bob.publish("home/bob/x", b"no", qos=1)
        bob.publish("shared/y", b"yes", qos=1)
        msg = alice.get_message()
        self.assertEqual((msg.topic, msg.payload), ("shared/y", b"yes"))
        alice.expect_no_message(0.5)
        # mosquitto_sub sees the refusal in its SUBACK.
        sub = self.mosquitto_sub(["#"], 1, wait_secs=2)
        sub.wait_subscribed()
        sub.finish()
        self.assertTrue(any("Subscribed (mid: 1): 128" in line for line in sub.lines), sub.lines)

    def test_deny_inside_an_allowed_subtree_is_filtered_at_delivery(self):
        alice = self.connected("acl-a4")
        alice.subscribe("shared/#", 1)
        bob = self.bob()
        bob.publish("shared/secret/plan", b"hidden", qos=1)
        bob.publish("shared/open", b"shown", qos=1)
        msg = alice.get_message()
        self.assertEqual((msg.topic, msg.payload), ("shared/open", b"shown"))
        alice.expect_no_message(0.5)
        # Retained messages sent on SUBSCRIBE are checked the same way.
        bob.publish("shared/secret/r", b"hidden", qos=1, retain=True)
        bob.publish("shared/r", b"shown", qos=1, retain=True)
        late = self.connected("acl-l4")
        late.subscribe("shared/#", 1)
        got = late.drain(1.0)
        self.assertEqual([(m.topic, m.payload, m.retain) for m in got],
                         [("shared/r", b"shown", True)])
        for topic in ("shared/secret/r", "shared/r"):
            bob.publish(topic, b"", qos=1, retain=True)  # clean up the retained set

    def test_patterns_substitute_username_and_client_id(self):
        """home/%u/# for each user; devices/%c/status writable by the client of that id."""
        alice = self.connected("acl-a5")
        alice.subscribe("home/alice/#", 1)
        alice_too = self.connected("acl-a5b")
        alice_too.publish("home/alice/lamp", b"on", qos=1)
        self.assertEqual(alice.get_message().payload, b"on")
        bob = self.bob("acl-b5")
        bob.subscribe("home/bob/#", 1)
        alice_too.publish("home/bob/lamp", b"off", qos=1)   # bob's home: refused
        bob.expect_no_message(0.5)
        # Client ids: bob reads devices/#; only the client named dev-1 writes dev-1's status.
        dev1 = self.connected("dev-1")
        dev2 = self.connected("dev-2")
        bob.subscribe("devices/#", 1)
        dev1.publish("devices/dev-1/status", b"ok", qos=1)
        dev2.publish("devices/dev-1/status", b"forged", qos=1)
        dev2.publish("devices/dev-2/status", b"ok2", qos=1)
        got = bob.drain(1.0)
        self.assertEqual(sorted((m.topic, m.payload) for m in got),
                         [("devices/dev-1/status", b"ok"), ("devices/dev-2/status", b"ok2")])

    def test_sys_needs_a_read_rule(self):
        """$SYS/broker/clients/# is readable by bob only; '#' never reaches $SYS."""
        bob = self.bob("acl-b6")
        self.assertEqual(bob.subscribe("$SYS/broker/clients/connected", 0), [0])
        msg = bob.get_message(timeout=15)  # retained, or at the next $SYS interval
        self.assertEqual(msg.topic, "$SYS/broker/clients/connected")
        alice = self.connected("acl-a6")
        codes = alice.subscribe("$SYS/broker/clients/connected", 0)
        if not IS_MOSQUITTO:
            self.assertEqual(codes, [REFUSED])
        alice.expect_no_message(1.0)


class AclReloadBase:
    """SIGHUP re-reads the ACL file; connections stay; a bad file keeps the rules in force."""

    def sighup(self):
        raise NotImplementedError

    def wait_log(self, text, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log().count(text) > self.seen.get(text, 0):
                self.seen[text] = self.log().count(text)
                return
            time.sleep(0.05)
        self.fail(f"no {text!r} in the log within {timeout}s:\n{self.log()}")

    def reload_changes_rules_for_a_connected_subscriber(self, alice, bob):
        self.seen = {}
        alice.subscribe("news/#", 1)
        bob.publish("news/before", b"1", qos=1)
        self.assertEqual(alice.get_message().payload, b"1")

        # Narrower: alice may read news/keep only.
        write(self.acl, ACL.replace("topic read news/#", "topic read news/keep"))
        self.sighup()
        self.wait_log(self.reloaded_text)
        bob.publish("news/dropped", b"2", qos=1)
        bob.publish("news/keep", b"3", qos=1)
        msg = alice.get_message()
        self.assertEqual((msg.topic, msg.payload), ("news/keep", b"3"))
        alice.expect_no_message(0.5)
        self.assertFalse(alice.disconnected.is_set(), "the reload dropped the subscriber")
        if not IS_MOSQUITTO:
            self.assertEqual(alice.subscribe([("news/#", 1), ("news/keep", 1)]), [REFUSED, 1])

        if not IS_MOSQUITTO:
            # A file that does not parse: one error line, the rules in force stay.
            write(self.acl, ACL + "topic sometimes news/#\n")
            self.sighup()
            self.wait_log(f"{self.acl}:{ACL.count(chr(10)) + 1}: unknown access 'sometimes'")
            bob.publish("news/keep", b"4", qos=1)
            self.assertEqual(alice.get_message().payload, b"4")
            bob.publish("news/dropped", b"5", qos=1)
            alice.expect_no_message(0.5)

        # Wider again: news/# is back.
        write(self.acl, ACL)
        self.sighup()
        self.wait_log(self.reloaded_text)
        bob.publish("news/back", b"6", qos=1)
        self.assertEqual(alice.get_message().payload, b"6")
        self.assertFalse(alice.disconnected.is_set())


class AclReloadTest(AclReloadBase, BrokerTestCase):
    reloaded_text = "Reloading config" if IS_MOSQUITTO else "reloaded ACL file"

    @classmethod
    def prepare_class(cls):
        cls.acl = os.path.join(cls.tmp, "acl")
        write(cls.acl, ACL)

    @classmethod
    def options(cls):
        return dict(acl_file=cls.acl)

    def log(self):
        return self.broker.log(tail=100000)

    def sighup(self):
        self.broker.proc.send_signal(signal.SIGHUP)

    def test_sighup_reloads_while_subscribers_stay_connected(self):
        self.reload_changes_rules_for_a_connected_subscriber(
            self.connected("acl-r1"), self.connected("acl-r2", username="bob",
                                                     password=USERS["bob"]))


@unittest.skipIf(IS_MOSQUITTO, "the tiers are ours only")
class RouterTierReloadTest(AclReloadBase, unittest.TestCase):
    """mqtt-router (with the --acl-file) and mqtt-frontend as separate processes: SIGHUP to the
    router reloads its rules."""
    reloaded_text = "reloaded ACL file"

    def setUp(self):
        from test_10_tiers import Process, wait_port
        self.tmp = tempfile.mkdtemp(prefix="mqtt-acl-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        pki = Pki(self.tmp)
        passwd = os.path.join(self.tmp, "passwd")
        write_password_file(passwd, USERS)
        self.acl = os.path.join(self.tmp, "acl")
        write(self.acl, ACL)
        endpoint = f"tcp://{HOST}:{free_port()}"
        self.router = Process("router", [
            os.path.join(BIN_DIR, "mqtt-router"), "--bind", endpoint, "--router-id", "r0",
            "--acl-file", self.acl, "--stats", "none", "--log-level", "debug"], self.tmp)
        port = free_port()
        self.frontend = Process("frontend", [
            os.path.join(BIN_DIR, "mqtt-frontend"), "--routers", endpoint, "--listen",
            f"tls://{HOST}:{port}", "--tls-cert", pki.cert, "--tls-key", pki.key,
            "--password-file", passwd, "--stats", "none"], self.tmp)
        self.addCleanup(self._stop)
        self.router.start()
        self.frontend.start()
        wait_port(port)
        self.clients, self.users = [], []
        for client_id, user in (("acl-t1", "alice"), ("acl-t2", "bob")):
            deadline = time.monotonic() + 10
            while True:  # CONNACK 3 until the frontend knows the router
                c = MqttClient(pki, port, client_id, username=user, password=USERS[user])
                self.clients.append(c)
                if c.connect()[0] == 0:
                    self.users.append(c)
                    break
                self.assertLess(time.monotonic(), deadline, "no CONNACK 0 from the tiers")
                time.sleep(0.2)

    def _stop(self):
        for c in self.clients:
            c.close()
        alive = self.router.alive() and self.frontend.alive()
        self.router.stop()
        self.frontend.stop()
        if not alive:
            self.fail(f"a tier died:\n{self.router.log()}\n{self.frontend.log()}")

    def log(self):
        return self.router.log()

    def sighup(self):
        self.router.proc.send_signal(signal.SIGHUP)

    def test_sighup_to_the_router_reloads(self):
        self.reload_changes_rules_for_a_connected_subscriber(*self.users)


@ours_only("--acl-file is our option")
class BadAclFileTest(unittest.TestCase):
    """A file with a bad line stops the start: exit 2, one line naming FILE:LINE."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mqtt-acl-bad-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.pki = Pki(self.tmp)
        self.passwd = os.path.join(self.tmp, "passwd")
        write_password_file(self.passwd, USERS)
        self.acl = os.path.join(self.tmp, "bad.acl")
        write(self.acl, "user alice\ntopic read a/#\ntopic rw b/#\n")

    def run_program(self, args):
        return subprocess.run(args, capture_output=True, timeout=20, stdin=subprocess.DEVNULL)

    def test_mqtt_broker_refuses_to_start(self):
        r = self.run_program([
            os.path.join(BIN_DIR, "mqtt-broker"), "--listen", f"tls://{HOST}:{free_port()}",
            "--tls-cert", self.pki.cert, "--tls-key", self.pki.key, "--password-file",
            self.passwd, "--stats", "none", "--acl-file", self.acl])
        self.assertEqual(r.returncode, 2, r)
        self.assertEqual(r.stdout, b"")
        self.assertEqual(r.stderr.decode(), f"--acl-file {self.acl}:3: unknown access 'rw' "
                         "(expected read, write, readwrite or deny)\n")

    def test_mqtt_router_refuses_to_start(self):
        r = self.run_program([os.path.join(BIN_DIR, "mqtt-router"), "--bind",
                              f"tcp://{HOST}:{free_port()}", "--stats", "none",
                              "--acl-file", self.acl])
        self.assertEqual(r.returncode, 2, r)
        self.assertEqual(r.stderr.decode(), f"--acl-file {self.acl}:3: unknown access 'rw' "
                         "(expected read, write, readwrite or deny)\n")

    def test_a_missing_file_is_named(self):
        missing = os.path.join(self.tmp, "nope.acl")
        r = self.run_program([os.path.join(BIN_DIR, "mqtt-router"), "--bind",
                              f"tcp://{HOST}:{free_port()}", "--stats", "none",
                              "--acl-file", missing])
        self.assertEqual(r.returncode, 2, r)
        self.assertEqual(r.stderr.decode(), f"--acl-file {missing}: no such file\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
