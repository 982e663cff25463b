"""The Python half of the browser MQTT tests (tests/interop/node/browser_mqtt.test.js):
paho-mqtt clients and one nats-py client, driven over stdin/stdout in JSON lines.

Usage: python mqtt_peer.py

Each request is one line `{"id": N, "op": OP, ...}`; each answer one line
`{"id": N, ...}`, with `"error": TEXT` when the operation failed. Requests are served one at
a time. Operations:

- `connect` name, port, transport (`tcp`|`websockets`), client_id, clean, [will]
  -> rc, session_present
- `subscribe` name, topic, qos -> granted
- `publish` name, topic, payload, qos, retain (returns once the QoS flow completed)
- `next` name, timeout -> topic, payload, qos, retain (the next message that client got)
- `wait_disconnect` name, timeout -> reason (once the server closed that client)
- `disconnect` name (a DISCONNECT packet, then the loop stops)
- `abort` name (TCP only: the socket is shut down, no DISCONNECT)
- `nats_connect` url; `nats_sub` subject; `nats_pub` subject, payload;
  `nats_next` subject, timeout -> payload, headers

Exits when stdin closes (the test that started it ended) or after LIFETIME seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import socket
import sys
import threading

import nats
import paho.mqtt.client as mqtt

LIFETIME = 300.0
OPS = {
    "connect",
    "subscribe",
    "publish",
    "next",
    "wait_disconnect",
    "disconnect",
    "abort",
    "nats_connect",
    "nats_sub",
    "nats_pub",
    "nats_next",
}
T = 5.0


class Peer:
    def __init__(self) -> None:
        self.clients: dict[str, tuple[mqtt.Client, queue.Queue, queue.Queue]] = {}
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.nc = None
        self.nsubs: dict[str, object] = {}

    def run_async(self, coro, timeout: float = 2 * T):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def connect(self, name, port, transport, client_id, clean, will=None):
        if name in self.clients:
            self.disconnect(name)
        c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean,
            transport=transport,
            protocol=mqtt.MQTTv311,
        )
        got: queue.Queue = queue.Queue()
        gone: queue.Queue = queue.Queue()
        connected: queue.Queue = queue.Queue()
        c.on_message = lambda _c, _u, m: got.put(
            {
                "topic": m.topic,
                "payload": m.payload.decode(),
                "qos": m.qos,
                "retain": bool(m.retain),
            }
        )
        c.on_connect = lambda _c, _u, flags, rc, _p: connected.put(
            (int(rc.value), bool(flags.session_present))
        )
        c.on_disconnect = lambda _c, _u, _f, rc, _p: gone.put(str(rc))
        if transport == "websockets":
            c.ws_set_options(path="/mqtt")
        if will:
            c.will_set(will["topic"], will["payload"], will["qos"], will["retain"])
        # Never reconnect by itself: a takeover must stay visible.
        c.reconnect_delay_set(60, 60)
        c.connect("127.0.0.1", port, keepalive=30)
        c.loop_start()
        rc, present = connected.get(timeout=T)
        self.clients[name] = (c, got, gone)
        return {"rc": rc, "session_present": present}

    def subscribe(self, name, topic, qos):
        c = self.clients[name][0]
        done: queue.Queue = queue.Queue()
        c.on_subscribe = lambda _c, _u, _mid, codes, _p: done.put([int(x.value) for x in codes])
        c.subscribe(topic, qos)
        return {"granted": done.get(timeout=T)}

    def publish(self, name, topic, payload, qos, retain=False):
        c = self.clients[name][0]
        info = c.publish(topic, payload.encode(), qos=qos, retain=retain)
        info.wait_for_publish(T)
        if not info.is_published():
            raise TimeoutError(f"publish to {topic} not completed")
        return {}

    def next(self, name, timeout=T):
        try:
            return self.clients[name][1].get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"{name}: no message in {timeout}s") from None

    def wait_disconnect(self, name, timeout=T):
        try:
            return {"reason": self.clients[name][2].get(timeout=timeout)}
        except queue.Empty:
            raise TimeoutError(f"{name}: still connected after {timeout}s") from None

    def disconnect(self, name):
        c, _, _ = self.clients.pop(name)
        c.disconnect()
        c.loop_stop()
        return {}

    def abort(self, name):
        """Shuts the TCP socket down under paho: the server sees the connection end without a
        DISCONNECT packet."""
        c, _, gone = self.clients.pop(name)
        c.socket().shutdown(socket.SHUT_RDWR)
        gone.get(timeout=T)
        c.loop_stop()
        return {}

    def nats_connect(self, url):
        async def go():
            self.nc = await nats.connect(servers=[url], allow_reconnect=False, name="mqtt-peer")

        self.run_async(go())
        return {}

    def nats_sub(self, subject):
        async def go():
            self.nsubs[subject] = await self.nc.subscribe(subject)
            await self.nc.flush()

        self.run_async(go())
        return {}

    def nats_pub(self, subject, payload):
        async def go():
            await self.nc.publish(subject, payload.encode())
            await self.nc.flush()

        self.run_async(go())
        return {}

    def nats_next(self, subject, timeout=T):
        async def go():
            m = await self.nsubs[subject].next_msg(timeout=timeout)
            return {"payload": m.data.decode(), "headers": dict(m.headers or {})}

        return self.run_async(go(), timeout + T)

    def close(self):
        for c, _, _ in self.clients.values():
            c.loop_stop()
        if self.nc is not None:
            self.run_async(self.nc.close())
        self.loop.call_soon_threadsafe(self.loop.stop)


def main() -> None:
    peer = Peer()
    timer = threading.Timer(LIFETIME, lambda: os._exit(3))
    timer.daemon = True
    timer.start()
    for line in sys.stdin:
        req = json.loads(line)
        rid = req.pop("id")
        op = req.pop("op")
        try:
            if op not in OPS:
                raise ValueError(f"unknown op {op}")
            ans = getattr(peer, op)(**req)
        except Exception as e:  # noqa: BLE001 (every failure goes back to the test)
            ans = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps({"id": rid, **ans}), flush=True)
    peer.close()


if __name__ == "__main__":
    main()
