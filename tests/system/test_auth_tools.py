"""mqtt-passwd against the reference tools.

- Password files written by mqtt-passwd are accepted by Debian's real mosquitto broker
  (password_file + allow_anonymous false): mosquitto_pub with the right password connects,
  a wrong password or an unknown user is refused.
- Editing (-c, -b, -D) keeps other lines byte for byte, writes mode 0600, leaves no temp files.
- `mqtt-passwd --rsa KEY USER` equals `openssl pkeyutl -sign -pkeyopt rsa_padding_mode:pkcs1`.
- Usage errors: one line on stderr, exit status 2.

(The other direction, mosquitto_passwd output read by our password_file, is pinned by the
unit test tests/unit/auth_password_file.cpp.)

Run: MQTT_BIN_DIR=/work/main/build/bin /usr/bin/python3 tests/system/test_auth_tools.py -v
"""

import base64
import hashlib
import os
import pty
import re
import select
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import unittest

BIN_DIR = os.environ.get("MQTT_BIN_DIR") or "/work/main/build/bin"
MQTT_PASSWD = os.path.join(BIN_DIR, "mqtt-passwd")
MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_PUB = "/usr/bin/mosquitto_pub"
MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"
HOST = "127.0.0.1"
TIMEOUT = 20

# user:$7$101$<16 base64 chars = 12-byte salt>$<88 base64 chars = 64-byte hash>
PBKDF2_LINE = re.compile(r"^([^:]+):\$7\$101\$([A-Za-z0-9+/]{16})\$([A-Za-z0-9+/]{86}==)$")


def run(*args, stdin=None):
    return subprocess.run(list(args), input=stdin, capture_output=True, timeout=TIMEOUT)


def passwd(*args):
    return run(MQTT_PASSWD, *args)


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def read_lines(path):
    with open(path) as f:
        return f.read().splitlines()


class TempDirTestCase(unittest.TestCase):
    def setUp(self):
        if not os.access(MQTT_PASSWD, os.X_OK):
            self.fail(f"{MQTT_PASSWD} not built (set MQTT_BIN_DIR)")
        self.dir = tempfile.mkdtemp(prefix="auth_tools.")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def check_ok(self, proc):
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        return proc


class MqttPasswdFileTests(TempDirTestCase):
    def assert_private(self, path):
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)

    def assert_no_leftovers(self, *expected):
        self.assertEqual(sorted(os.listdir(self.dir)), sorted(expected))

    def test_lines_are_pbkdf2_sha512_as_mosquitto_passwd_writes_them(self):
        f = self.path("passwd")
        self.check_ok(passwd("-c", "-b", f, "alice", "correct horse"))
        lines = read_lines(f)
        self.assertEqual(len(lines), 1)
        m = PBKDF2_LINE.match(lines[0])
        self.assertIsNotNone(m, lines[0])
        self.assertEqual(m.group(1), "alice")
        # Recompute with an independent implementation (Python's hashlib).
        salt = base64.b64decode(m.group(2))
        expected = hashlib.pbkdf2_hmac("sha512", b"correct horse", salt, 101)
        self.assertEqual(base64.b64decode(m.group(3)), expected)
        self.assert_private(f)

    def test_create_add_update_delete(self):
        f = self.path("passwd")
        self.check_ok(passwd("-c", "-b", f, "alice", "pw1"))
        self.check_ok(passwd("-b", f, "bob", "pw2"))
        self.check_ok(passwd("-b", f, "carol", "pw3"))
        before = read_lines(f)
        self.assertEqual([l.split(":")[0] for l in before], ["alice", "bob", "carol"])
        self.assert_private(f)

        # Update bob: only bob's line changes, in place.
        self.check_ok(passwd("-b", f, "bob", "pw2-new"))
        after = read_lines(f)
        self.assertEqual(after[0], before[0])
        self.assertNotEqual(after[1], before[1])
        self.assertTrue(after[1].startswith("bob:$7$101$"))
        self.assertEqual(after[2], before[2])
        self.assert_private(f)

        # Delete bob; deleting again fails and leaves the file alone.
        self.check_ok(passwd("-D", f, "bob"))
        self.assertEqual(read_lines(f), [after[0], after[2]])
        again = passwd("-D", f, "bob")
        self.assertEqual(again.returncode, 1)
        self.assertIn(b"bob", again.stderr)
        self.assertEqual(read_lines(f), [after[0], after[2]])

        # -c overwrites.
        self.check_ok(passwd("-c", "-b", f, "dave", "pw4"))
        self.assertEqual([l.split(":")[0] for l in read_lines(f)], ["dave"])
        self.assert_private(f)
        self.assert_no_leftovers("passwd")

    def test_existing_mosquitto_passwd_lines_and_comments_are_kept(self):
        f = self.path("passwd")
        self.check_ok(run(MOSQUITTO_PASSWD, "-c", "-b", f, "alice", "pw1"))
        self.check_ok(run(MOSQUITTO_PASSWD, "-H", "sha512", "-b", f, "bob", "pw2"))
        with open(f, "a") as out:
            out.write("# a comment\n\n")
        original = read_lines(f)
        self.check_ok(passwd("-b", f, "carol", "pw3"))
        lines = read_lines(f)
        self.assertEqual(lines[:4], original)
        self.assertTrue(lines[4].startswith("carol:$7$101$"))
        self.assert_private(f)

    def test_adding_to_a_missing_file_fails(self):
        proc = passwd("-b", self.path("nope"), "alice", "pw")
        self.assertEqual(proc.returncode, 1)
        self.assertFalse(os.path.exists(self.path("nope")))

    def test_corrupt_file_is_not_rewritten(self):
        f = self.path("passwd")
        with open(f, "w") as out:
            out.write("garbage line\n")
        proc = passwd("-b", f, "alice", "pw")
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b":1:", proc.stderr)
        self.assertEqual(read_lines(f), ["garbage line"])

    def test_usage_errors_exit_2_with_one_line(self):
        f = self.path("passwd")
        cases = [
            [],
            ["-c", "-D", f, "alice"],
            ["-D", "-b", f, "alice", "pw"],
            ["-b", f, "alice"],
            ["-c", "-b", f, "alice", "pw", "extra"],
            ["-x", f, "alice"],
            ["-I", "zero", "-b", f, "alice", "pw"],
            ["-b", f, "al:ice", "pw"],
            ["-b", f, "", "pw"],
            ["--rsa", "key.pem"],
            ["--rsa", "key.pem", "alice", "extra"],
        ]
        for args in cases:
            with self.subTest(args=args):
                proc = passwd(*args)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertEqual(proc.stderr.count(b"\n"), 1, proc.stderr)
                self.assertEqual(proc.stdout, b"")
        self.assertFalse(os.path.exists(f))

    def test_password_prompt_on_a_terminal_does_not_echo(self):
        f = self.path("passwd")
        pid, fd = pty.fork()
        if pid == 0:  # child: the terminal is the pty
            os.execv(MQTT_PASSWD, [MQTT_PASSWD, "-c", f, "ttyuser"])
        output = b""

        def read_until(marker):
            nonlocal output
            deadline = time.monotonic() + TIMEOUT
            while marker not in output:
                self.assertLess(time.monotonic(), deadline, output)
                if select.select([fd], [], [], 1)[0]:
                    output += os.read(fd, 256)
        try:
            read_until(b"Password: ")
            os.write(fd, b"tty secret\n")
            read_until(b"Reenter password: ")
            os.write(fd, b"tty secret\n")
            _, status = os.waitpid(pid, 0)
        finally:
            os.close(fd)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, output)
        self.assertNotIn(b"tty secret", output)
        m = PBKDF2_LINE.match(read_lines(f)[0])
        self.assertIsNotNone(m)
        expected = hashlib.pbkdf2_hmac("sha512", b"tty secret", base64.b64decode(m.group(2)), 101)
        self.assertEqual(base64.b64decode(m.group(3)), expected)

    def test_help(self):
        proc = self.check_ok(passwd("--help"))
        self.assertIn(b"Usage:", proc.stdout)


class MosquittoAcceptsOurFile(TempDirTestCase):
    """Debian's mosquitto reads a password file made by mqtt-passwd."""

    def start_mosquitto(self, password_file):
        port = free_port()
        conf = self.path("mosquitto.conf")
        with open(conf, "w") as out:
            out.write(f"listener {port} {HOST}\n"
                      "allow_anonymous false\n"
                      f"password_file {password_file}\n"
                      "user root\n"  # keep read access to our 0600 root-owned file
                      "persistence false\n")
        log = open(self.path("mosquitto.log"), "wb")
        self.addCleanup(log.close)
        proc = subprocess.Popen([MOSQUITTO, "-c", conf, "-v"], stdout=log, stderr=subprocess.STDOUT)

        def stop():
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.addCleanup(stop)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                return port
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    with open(self.path("mosquitto.log"), "rb") as f:
                        self.fail("mosquitto did not start: " + f.read().decode(errors="replace"))
                time.sleep(0.05)

    def publish(self, port, user, password):
        return run(MOSQUITTO_PUB, "-h", HOST, "-p", str(port), "-V", "mqttv311",
                   "-i", "auth-tools-test", "-u", user, "-P", password, "-t", "t", "-m", "m")

    def test_mosquitto_accepts_right_and_refuses_wrong_passwords(self):
        f = self.path("passwd")
        self.check_ok(passwd("-c", "-b", f, "alice", "alice secret"))
        self.check_ok(passwd("-b", f, "bob", "first"))
        self.check_ok(passwd("-b", f, "bob", "bob secret"))  # updated entry
        self.check_ok(passwd("-b", f, "carol", "gone"))
        self.check_ok(passwd("-D", f, "carol"))
        port = self.start_mosquitto(f)

        self.check_ok(self.publish(port, "alice", "alice secret"))
        self.check_ok(self.publish(port, "bob", "bob secret"))
        for user, password in [("alice", "alice secreT"), ("alice", ""), ("bob", "first"),
                               ("carol", "gone"), ("nobody", "alice secret")]:
            with self.subTest(user=user, password=password):
                proc = self.publish(port, user, password)
                self.assertNotEqual(proc.returncode, 0)
                self.assertIn(b"not authorised", proc.stderr.lower())


class RsaPasswordTests(TempDirTestCase):
    def make_key(self, bits):
        key = self.path(f"rsa{bits}.pem")
        self.check_ok(run("openssl", "genrsa", "-out", key, str(bits)))
        return key

    def openssl_reference(self, key, user):
        proc = self.check_ok(run("openssl", "pkeyutl", "-sign", "-inkey", key,
                                 "-pkeyopt", "rsa_padding_mode:pkcs1", stdin=user.encode()))
        return proc.stdout.hex().upper()

    def test_rsa_password_equals_openssl_pkeyutl(self):
        for bits in (512, 2048):
            key = self.make_key(bits)
            for user in ("testOne", "device/0042", "x"):
                with self.subTest(bits=bits, user=user):
                    proc = self.check_ok(passwd("--rsa", key, user))
                    expected = self.openssl_reference(key, user)
                    self.assertEqual(len(expected), bits // 4)
                    self.assertEqual(proc.stdout.decode(), expected + "\n")

    def test_traditional_rsa_private_key_pem(self):
        key = self.path("trad.pem")
        self.check_ok(run("openssl", "genrsa", "-traditional", "-out", key, "512"))
        with open(key) as f:
            self.assertIn("BEGIN RSA PRIVATE KEY", f.read())
        proc = self.check_ok(passwd("--rsa", key, "testOne"))
        self.assertEqual(proc.stdout.decode(), self.openssl_reference(key, "testOne") + "\n")

    def test_public_key_or_long_name_fails(self):
        key = self.make_key(512)
        pub = self.path("pub.pem")
        self.check_ok(run("openssl", "rsa", "-in", key, "-pubout", "-out", pub))
        proc = passwd("--rsa", pub, "testOne")
        self.assertEqual(proc.returncode, 1)
        self.assertIn(pub.encode(), proc.stderr)
        # 512-bit key: at most 64 - 11 = 53 bytes of user name.
        self.check_ok(passwd("--rsa", key, "u" * 53))
        proc = passwd("--rsa", key, "u" * 54)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b"too long", proc.stderr)
        proc = passwd("--rsa", self.path("missing.pem"), "testOne")
        self.assertEqual(proc.returncode, 1)


if __name__ == "__main__":
    unittest.main()
