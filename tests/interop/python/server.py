"""Starts and stops nats-ws-server (the release binary) for the interop tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BINARY = Path(os.environ.get("NATS_WS_SERVER", ROOT / "target" / "release" / "nats-ws-server"))
START_TIMEOUT = 10.0

WS_RE = re.compile(r"Listening for websocket clients on wss?://[^:]+:(\d+)")
CLIENT_RE = re.compile(r"Listening for client connections on [^:]+:(\d+)")
MQTT_RE = re.compile(r"Listening for MQTT clients on (?:mqtt|tls)://[^:]+:(\d+)")


class NatsWsServer:
    """One server process on ephemeral ports; `restart()` comes back on the same ports."""

    def __init__(self, websocket: str = "no_tls: true", extra: str = "", debug: bool = False):
        self.dir = Path(tempfile.mkdtemp(prefix="nats-ws-interop-"))
        self.conf = self.dir / "server.conf"
        self.websocket = websocket
        self.extra = extra
        self._write_conf(-1, -1)
        self.debug = debug
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self.port = 0
        self.ws_port = 0
        self.mqtt_port = 0
        self._start()

    def _write_conf(self, port: int, ws_port: int) -> None:
        self.conf.write_text(
            f"host: 127.0.0.1\nport: {port}\n{self.extra}\n"
            f"websocket {{\n  host: 127.0.0.1\n  port: {ws_port}\n  {self.websocket}\n}}\n"
        )

    def _start(self) -> None:
        if not BINARY.exists():
            raise RuntimeError(f"{BINARY} not built (scripts/interop.sh builds it)")
        args = [str(BINARY), "-c", str(self.conf)]
        if self.debug:
            args.append("-D")
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
        ready = threading.Event()

        def pump(proc: subprocess.Popen[str]) -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                self.lines.append(line.rstrip("\n"))
                if m := WS_RE.search(line):
                    self.ws_port = int(m.group(1))
                if m := CLIENT_RE.search(line):
                    self.port = int(m.group(1))
                if m := MQTT_RE.search(line):
                    self.mqtt_port = int(m.group(1))
                if "Server is ready" in line:
                    ready.set()
            ready.set()

        threading.Thread(target=pump, args=(self.proc,), daemon=True).start()
        if not ready.wait(START_TIMEOUT) or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("server did not start:\n" + "\n".join(self.lines))

    @property
    def tcp_url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def ws_url(self, scheme: str = "ws") -> str:
        return f"{scheme}://127.0.0.1:{self.ws_port}"

    def stop(self) -> None:
        """SIGTERM (graceful: WebSocket clients get 1001), then SIGKILL after 10 s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self, pause: float = 0.3) -> None:
        self.stop()
        time.sleep(pause)
        # The same ports, written into the file (the Go server has no --ws_port flag, and
        # this helper also drives it: NATS_WS_SERVER=.../nats-server).
        self._write_conf(self.port, self.ws_port)
        self._start()

    def log_has(self, text: str) -> bool:
        return any(text in line for line in self.lines)
