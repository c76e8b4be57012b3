"""The three systems under test, each started fresh for one benchmark run, on loopback only,
with free ports, the same TLS certificate and the same user/password:

- OursBroker: one mqtt-broker process.
- OursCluster: mqtt-router process(es) + 2 mqtt-frontend processes (ZeroMQ over loopback TCP).
- Mosquitto: /usr/sbin/mosquitto with a generated mosquitto.conf.

A target has `listeners` client URLs (storm runs ask for several when one destination's
ephemeral ports would not suffice; the cluster has at least one per frontend), its process
ids (memory and CPU are summed over them) and died() naming any process that exited while
it should run. Env holds the shared files (certificates, password files), the transport
(tls or tcp) and the bin dir. Used from the suite's main thread only.
"""

import os
import time

import mqtt_raw
import procs
from ports import free_port

HOST = "127.0.0.1"
MOSQUITTO = "/usr/sbin/mosquitto"
CONNECT_TIMEOUT_S = 60


class Env:
    def __init__(self, bin_dir, work, transport, user, password):
        self.bin_dir = bin_dir
        self.work = work
        self.transport = transport  # "tls" | "tcp"
        self.user = user
        self.password = password
        self.ca = os.path.join(work, "ca.crt")
        self.cert = os.path.join(work, "server.crt")
        self.key = os.path.join(work, "server.key")
        self.passwd_ours = os.path.join(work, "passwd.ours")
        self.passwd_mosquitto = os.path.join(work, "passwd.mosquitto")

    def bin(self, name):
        return os.path.join(self.bin_dir, name)

    def url(self, port):
        return f"{'mqtts' if self.transport == 'tls' else 'mqtt'}://{HOST}:{port}"

    def cafile(self):
        return self.ca if self.transport == "tls" else None


class Target:
    name = "?"
    label = "?"
    split = 1  # clients of splittable scenarios are spread over this many URLs

    def __init__(self, env):
        self.env = env
        self.procs = []
        self.ports = []

    def pids(self):
        return [p.pid for p in self.procs]

    def urls(self):
        return [self.env.url(p) for p in self.ports]

    def died(self):
        return [f"{os.path.basename(p.log_path)} (exit {p.returncode})"
                for p in self.procs if p.poll() is not None]

    def wait_ready(self, timeout=20.0):
        """Every listener answers a CONNECT with CONNACK 0. Raises RuntimeError."""
        for i, port in enumerate(self.ports):
            err = mqtt_raw.wait_connack(HOST, port, self.env.cafile(), self.env.user,
                                        self.env.password, f"bench-probe-{i}", timeout,
                                        alive=lambda: not self.died())
            if err is not None:
                dead = self.died()
                raise RuntimeError(f"{self.name}: port {port} not serving: {err}"
                                   f"{'; died: ' + ', '.join(dead) if dead else ''}")

    def stop(self):
        """Stops every process; returns the names of those that had died before."""
        dead = self.died()
        for p in reversed(self.procs):
            procs.stop(p, timeout=5.0)
        return dead

    def _listen_urls(self, ports):
        scheme = "tls" if self.env.transport == "tls" else "tcp"
        return [a for port in ports for a in ("--listen", f"{scheme}://{HOST}:{port}")]

    def _tls_args(self):
        # --connect-timeout: Mosquitto never times out a TLS handshake; ours closes a
        # connection without CONNECT after 10 s by default, which a storm of handshakes
        # queued for seconds on a busy machine runs into.
        args = ["--connect-timeout", str(CONNECT_TIMEOUT_S)]
        if self.env.transport != "tls":
            return args
        return args + ["--tls-cert", self.env.cert, "--tls-key", self.env.key]


class OursBroker(Target):
    name = "ours"
    label = "mqtt-broker"

    def start(self, logdir, tag, max_queued, max_inflight, listeners=1):
        self.ports = [free_port() for _ in range(listeners)]
        cmd = ([self.env.bin("mqtt-broker")] + self._listen_urls(self.ports) + self._tls_args() +
               ["--password-file", self.env.passwd_ours, "--stats", "none",
                "--sys-interval", "0", "--log-level", "warn",
                "--max-queued-messages", str(max_queued),
                "--max-inflight-messages", str(max_inflight)])
        self.procs = [procs.spawn(cmd, os.path.join(logdir, f"{tag}-broker.log"))]
        self.wait_ready()


class OursCluster(Target):
    name = "cluster"

    def __init__(self, env, routers=1, frontends=2):
        super().__init__(env)
        self.routers = routers
        self.frontends = frontends
        self.split = frontends
        self.label = f"cluster {frontends} fe + {routers} router{'s' if routers > 1 else ''}"

    def start(self, logdir, tag, max_queued, max_inflight, listeners=1):
        endpoints = [f"tcp://{HOST}:{free_port()}" for _ in range(self.routers)]
        per_fe = max(1, -(-listeners // self.frontends))
        fe_ports = [[free_port() for _ in range(per_fe)] for _ in range(self.frontends)]
        # Interleaved, so that urls()[:frontends] names one listener of each frontend.
        self.ports = [fe_ports[f][k] for k in range(per_fe) for f in range(self.frontends)]
        self.procs = []
        for i, ep in enumerate(endpoints):
            # A lone router is not told about itself: listed, it would wait --peer-timeout
            # for a peer to copy the retained messages from before it serves.
            peers = ["--routers", ",".join(endpoints)] if self.routers > 1 else []
            cmd = [self.env.bin("mqtt-router"), "--bind", ep, "--router-id", f"r{i}"] + peers + [
                   "--stats", "none", "--sys-interval", "0",
                   "--log-level", "warn", "--max-queued-messages", str(max_queued),
                   "--max-inflight-messages", str(max_inflight)]
            self.procs.append(procs.spawn(cmd, os.path.join(logdir, f"{tag}-router{i}.log")))
        for f in range(self.frontends):
            cmd = ([self.env.bin("mqtt-frontend"), "--routers", ",".join(endpoints)] +
                   self._listen_urls(fe_ports[f]) + self._tls_args() +
                   ["--password-file", self.env.passwd_ours, "--frontend-id", f"fe{f}",
                    "--stats", "none", "--log-level", "warn"])
            self.procs.append(procs.spawn(cmd, os.path.join(logdir, f"{tag}-frontend{f}.log")))
        self.wait_ready()
        if self.routers > 1:
            # A frontend places clients on the routers it has heard from: let every frontend
            # hear every router (heartbeat 1 s) before clients arrive.
            time.sleep(2.5)


class Mosquitto(Target):
    name = "mosquitto"
    label = "Mosquitto 2"

    def start(self, logdir, tag, max_queued, max_inflight, listeners=1):
        self.ports = [free_port() for _ in range(listeners)]
        conf = os.path.join(logdir, f"{tag}-mosquitto.conf")
        lines = [
            "# generated by bench/suite.py",
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {self.env.passwd_mosquitto}",
            "persistence false",
            "sys_interval 0",
            f"max_queued_messages {max_queued}",
            f"max_inflight_messages {max_inflight}",
            "set_tcp_nodelay true",
            "connection_messages false",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "user root",
        ]
        for port in self.ports:
            lines += [f"listener {port} {HOST}", "max_connections -1"]
            if self.env.transport == "tls":
                lines += [f"certfile {self.env.cert}", f"keyfile {self.env.key}"]
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.procs = [procs.spawn([MOSQUITTO, "-c", conf],
                                  os.path.join(logdir, f"{tag}-mosquitto.log"))]
        self.wait_ready()


def make_targets(env, routers):
    return {"ours": OursBroker(env), "cluster": OursCluster(env, routers=routers),
            "mosquitto": Mosquitto(env)}
