"""24 reload on SIGHUP: the password file, the RSA key and the TLS certificate are read again
while clients stay connected.

- Password file: a user added can log in, a user removed gets CONNACK 4 (Mosquitto: 5, as for
  every failed password check), a changed password takes effect; a subscriber that was already
  connected stays connected and keeps receiving (ours: even one whose password changed;
  Mosquitto re-checks connected clients). A broken file is logged as one error line naming it
  and the previous users keep working (ours only).
- RSA scheme (ours only): a new public key replaces the old one; a broken key keeps the old.
- TLS (ours only): a new certificate and key are presented to new connections (cert rotation),
  connections already up stay; a broken key file keeps the previous certificate.

Run: /usr/bin/python3 tests/system/test_24_reload.py -v
"""

import os
import signal
import socket
import ssl
import time

import harness
from harness import BrokerTestCase, Pki, main, ours_only, write_password_file
from test_02_auth import rsa_password

# Our rc for an unknown user or wrong password is 4; Mosquitto 2 answers 5 (see test_02_auth).
BAD_CREDENTIALS_RC = 5 if harness.IS_MOSQUITTO else 4


class ReloadCase(BrokerTestCase):

    def sighup(self):
        self.broker.proc.send_signal(signal.SIGHUP)

    def log_count(self, text):
        return self.broker.log(tail=100000).count(text)

    def wait_log(self, text, before, timeout=5.0):
        """Waits until `text` appears in the broker log more often than `before` times."""
        deadline = time.monotonic() + timeout
        while self.log_count(text) <= before:
            if time.monotonic() > deadline:
                self.fail(f"no new log line {text!r} within {timeout}s:\n{self.broker.log()}")
            time.sleep(0.05)

    def connack_rc(self, client_id, username, password):
        c = self.client(client_id, username=username, password=password)
        rc = c.connect()[0]
        c.close()
        return rc

    def wait_connack(self, rc, client_id, username, password, timeout=5.0):
        """Retries a CONNECT until it is answered with `rc` (the reload is asynchronous)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.connack_rc(client_id, username, password)
            if got == rc or time.monotonic() > deadline:
                self.assertEqual(got, rc, f"CONNACK for {username!r} after SIGHUP")
                return
            time.sleep(0.1)

    def reload_password_file(self, users, expect_ok_user):
        """Writes `users` to the password file, sends SIGHUP and waits until it applies."""
        write_password_file(self.password_file, users)
        self.sighup()
        self.wait_connack(0, "w-" + expect_ok_user, expect_ok_user, users[expect_ok_user])


# Every PasswordFileReloadTest starts from these users.
BASE_USERS = dict(harness.USERS, dave="davepw")


class PasswordFileReloadTest(ReloadCase):

    def setUp(self):
        super().setUp()
        self.reload_password_file(BASE_USERS, "bob")

    def test_users_added_removed_and_changed_on_sighup(self):
        sub = self.connected("reload-sub", username="dave", password="davepw")
        sub.subscribe("reload/t", qos=1)
        alice = self.connected("reload-alice")  # with the password about to change
        alice.subscribe("reload/t", qos=1)
        self.assertEqual(self.connack_rc("c-early", "carol", "carolpw"), BAD_CREDENTIALS_RC)

        # carol added, bob removed, alice's password changed, dave unchanged.
        self.reload_password_file({"alice": "alicepw2", "carol": "carolpw", "dave": "davepw"},
                                  "carol")
        self.assertEqual(self.connack_rc("b-gone", "bob", "bobpw"), BAD_CREDENTIALS_RC)
        self.assertEqual(self.connack_rc("a-old", "alice", "alicepw"), BAD_CREDENTIALS_RC)
        self.assertEqual(self.connack_rc("a-new", "alice", "alicepw2"), 0)

        # The subscriber connected before the reload is still there and receives.
        self.assertFalse(sub.disconnected.is_set(), "the subscriber was disconnected")
        carol = self.connected("c-pub", username="carol", password="carolpw")
        self.assert_roundtrip(sub, carol, topic="reload/t")
        if not harness.IS_MOSQUITTO:
            # Ours checks credentials at CONNECT only: alice's session outlives her old
            # password (Mosquitto re-checks connected clients on reload and drops her).
            self.assertFalse(alice.disconnected.is_set(), "alice was disconnected")
            self.assertEqual(alice.get_message().topic, "reload/t")
        self.assert_broker_alive()

    @ours_only("the reload's log lines")
    def test_reload_logs_one_info_line(self):
        before = self.log_count("reload: credentials re-read: --password-file " +
                                self.password_file)
        self.sighup()
        self.wait_log("reload: credentials re-read: --password-file " + self.password_file, before)

    @ours_only("our rule: a broken file keeps the previous credentials, logged as one line")
    def test_broken_password_file_keeps_the_previous_users(self):
        sub = self.connected("broken-sub")
        sub.subscribe("broken/t", qos=1)
        with open(self.password_file, "w") as f:
            f.write("alice:$7$this-is-no-hash\ncarol:$7$nor-this\n")
        error = f"reload: --password-file: {self.password_file}:1: "
        before = self.log_count(error)
        self.sighup()
        self.wait_log(error, before)
        line = [l for l in self.broker.log(tail=100000).splitlines() if error in l][-1]
        self.assertTrue(line.endswith("; keeping the previous credentials"), line)
        for user, password in BASE_USERS.items():
            self.assertEqual(self.connack_rc("old-" + user, user, password), 0, user)
        self.assertEqual(self.connack_rc("no-carol", "carol", "x"), 4)
        self.assert_roundtrip(sub, topic="broken/t")
        self.assert_broker_alive()


@ours_only("RSA signature passwords (--rsa-key) are our product's scheme")
class RsaKeyReloadTest(ReloadCase):

    @classmethod
    def prepare_class(cls):
        cls.key_a = os.path.join(cls.tmp, "rsa-a.pem")
        cls.key_b = os.path.join(cls.tmp, "rsa-b.pem")
        cls.rsa_pub = os.path.join(cls.tmp, "rsa.pub.pem")
        for key in (cls.key_a, cls.key_b):
            harness.run(["openssl", "genrsa", "-out", key, "512"])
        harness.run(["openssl", "rsa", "-in", cls.key_a, "-pubout", "-out", cls.rsa_pub])

    @classmethod
    def options(cls):
        return dict(rsa_key=cls.rsa_pub)

    def install_public_key(self, private_key):
        tmp = self.rsa_pub + ".new"
        harness.run(["openssl", "rsa", "-in", private_key, "-pubout", "-out", tmp])
        os.replace(tmp, self.rsa_pub)

    def test_key_rotation_and_broken_key(self):
        sub = self.connected("rsa-sub", username="carol",
                             password=rsa_password(self.key_a, "carol"))
        sub.subscribe("rsa/t", qos=1)

        # Rotation: key B replaces key A.
        self.install_public_key(self.key_b)
        self.sighup()
        self.wait_connack(0, "rsa-b", "dave", rsa_password(self.key_b, "dave"))
        self.assertEqual(self.connack_rc("rsa-a", "dave", rsa_password(self.key_a, "dave")), 4)
        self.assertEqual(self.connack_rc("rsa-pw", "bob", "bobpw"), 0)  # the password file too

        # A broken key file: logged, key B stays.
        with open(self.rsa_pub, "w") as f:
            f.write("-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n")
        error = "reload: --rsa-key: " + self.rsa_pub
        before = self.log_count(error)
        self.sighup()
        self.wait_log(error, before)
        self.assertEqual(self.connack_rc("rsa-b2", "dave", rsa_password(self.key_b, "dave")), 0)

        # The subscriber logged in with key A's signature is still connected.
        self.assertFalse(sub.disconnected.is_set(), "the subscriber was disconnected")
        self.assert_roundtrip(sub, topic="rsa/t")


def server_certificate_subject(port, ca):
    """The CN of the certificate the server presents to a client trusting `ca`, or raises
    ssl.SSLError when the certificate does not verify against it."""
    ctx = ssl.create_default_context(cafile=ca)
    with socket.create_connection((harness.HOST, port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname=harness.HOST) as t:
            subject = dict(x[0] for x in t.getpeercert()["subject"])
            issuer = dict(x[0] for x in t.getpeercert()["issuer"])
            return subject.get("commonName"), issuer.get("commonName")


@ours_only("our frontend's TLS reload (file names in its log lines)")
class TlsReloadTest(ReloadCase):
    """The broker's certificate and key files are replaced by ones from another CA."""

    @classmethod
    def prepare_class(cls):
        new = os.path.join(cls.tmp, "new-ca")
        os.makedirs(new)
        cls.new_pki = Pki(new)

    def test_certificate_rotation_and_broken_key(self):
        old_ca = self.pki.ca
        self.assertEqual(server_certificate_subject(self.port, old_ca)[0], "localhost")
        sub = self.connected("tls-sub")
        sub.subscribe("tls/t", qos=1)

        # Rotate: the new CA's server certificate and key, written over the old files.
        for src, dst in ((self.new_pki.cert, self.pki.cert), (self.new_pki.key, self.pki.key)):
            with open(src, "rb") as f:
                data = f.read()
            with open(dst + ".new", "wb") as f:
                f.write(data)
            os.replace(dst + ".new", dst)
        before = self.log_count("reload: TLS re-read")
        self.sighup()
        self.wait_log("reload: TLS re-read", before)
        # New connections get the new certificate: they verify against the new CA only.
        server_certificate_subject(self.port, self.new_pki.ca)
        with self.assertRaises(ssl.SSLError):
            server_certificate_subject(self.port, old_ca)
        # The connection made before the rotation is untouched.
        self.assertFalse(sub.disconnected.is_set(), "the subscriber was disconnected")
        pub = harness.MqttClient(self.new_pki, self.port, "tls-pub", username="bob",
                                 password="bobpw")
        self._clients.append(pub)
        self.assertEqual(pub.connect(), (0, 0))
        self.assert_roundtrip(sub, pub, topic="tls/t")

        # A broken key: logged, the new certificate stays in use.
        with open(self.pki.key, "w") as f:
            f.write("not a key\n")
        error = "reload: --tls-key " + self.pki.key + ": "
        before = self.log_count(error)
        self.sighup()
        self.wait_log(error, before)
        server_certificate_subject(self.port, self.new_pki.ca)
        self.assert_broker_alive()


if __name__ == "__main__":
    main()
