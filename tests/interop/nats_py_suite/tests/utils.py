"""The launcher nats.py's own WebSocket tests import as `tests.utils`.

nats-py's source distribution ships its test files but not the module they start the server
with, so this is ours, written for the two WebSocket test files of the pinned nats-py:
`NATSD` starts whatever `nats-server` is first on PATH exactly as nats.py's harness does
(`-p PORT -m HTTP_PORT -a 127.0.0.1 --config FILE`, plus Go's TLS flags for the TLS
class) and waits until `GET /varz` answers 200. `scripts/nats-py-suite.sh` puts
`nats-ws-server` on PATH under that name.
"""

import asyncio
import functools
import http.client
import os
import signal
import ssl
import subprocess
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CERTS = os.environ.get("NATS_PY_SUITE_CERTS", os.path.join(HERE, "..", "certs"))
START_TIMEOUT = 10.0


def get_config_file(name):
    return os.path.join(HERE, "..", name)


class NATSD:
    """One `nats-server` process, restartable (the reconnect tests stop and start it)."""

    def __init__(self, port=4222, http_port=8222, config_file=None, tls=False):
        self.port = port
        self.http_port = http_port
        self.config_file = config_file
        self.tls = tls
        self.proc = None

    def command(self):
        cmd = ["nats-server", "-p", str(self.port), "-m", str(self.http_port), "-a", "127.0.0.1"]
        if self.config_file:
            cmd += ["--config", self.config_file]
        if self.tls:
            cmd += [
                "--tls",
                "--tlscert", os.path.join(CERTS, "server-cert.pem"),
                "--tlskey", os.path.join(CERTS, "server-key.pem"),
                "--tlsverify",
                "--tlscacert", os.path.join(CERTS, "ca.pem"),
            ]
        return cmd

    def start(self):
        log = open(os.path.join(os.environ.get("NATS_PY_SUITE_LOGS", "/tmp"), "nats-server-%d.log" % self.port), "ab")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=log, cwd=os.path.join(HERE, ".."))
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nats-server exited with %s: %s" % (self.proc.returncode, self.command()))
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=1)
                conn.request("GET", "/varz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("nats-server did not answer /varz within %ss" % START_TIMEOUT)

    def stop(self):
        """Kills the server (SIGKILL, as nats.py's harness does): the reconnect tests
        expect the connection to drop at once, as in a crash."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None


class _ServerTestCase(unittest.TestCase):
    config = None
    tls = False

    def setUp(self):
        self.loop = asyncio.new_event_loop()
        self.server_pool = [NATSD(port=4222, config_file=get_config_file(self.config), tls=self.tls)]
        for server in self.server_pool:
            server.start()

    def tearDown(self):
        for server in self.server_pool:
            server.stop()
        self.loop.close()


class SingleWebSocketServerTestCase(_ServerTestCase):
    """A server with `websocket { port: 8080, no_tls: true }`."""

    config = "conf/ws.conf"


class SingleWebSocketTLSServerTestCase(_ServerTestCase):
    """A server with a `wss://` listener on 8081 and TLS (verifying clients) on 4222."""

    config = "conf/ws_tls.conf"
    tls = True

    def setUp(self):
        self.ssl_ctx = ssl.create_default_context(purpose=ssl.Purpose.SERVER_AUTH)
        self.ssl_ctx.load_verify_locations(os.path.join(CERTS, "ca.pem"))
        self.ssl_ctx.load_cert_chain(
            certfile=os.path.join(CERTS, "client-cert.pem"),
            keyfile=os.path.join(CERTS, "client-key.pem"),
        )
        super().setUp()


def async_test(test_case_fun, timeout=5):
    """Runs an `async def` test method on the test case's loop, bounded by `timeout` s."""

    @functools.wraps(test_case_fun)
    def wrapper(test_case, *args, **kw):
        asyncio.set_event_loop(test_case.loop)
        return asyncio.run(asyncio.wait_for(test_case_fun(test_case, *args, **kw), timeout))

    return wrapper
