"""Free loopback ports, for the benchmark suite and the system tests (tests/system/harness.py
imports this module): free_port() is a loopback port nothing listens on, never one this process
handed out before. The kernel may give a just-closed port to the next bind(0), and two processes
told the same port fail at start-up. Not thread-safe: call it from one thread."""

import socket

HOST = "127.0.0.1"
_handed_out = set()


def free_port():
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
