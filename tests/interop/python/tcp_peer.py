"""The TCP half of the mixed-traffic tests: a nats-py client on the plain NATS port.

Usage: python tcp_peer.py nats://127.0.0.1:PORT [--user U --password P]

- `mixed.tcp.echo`: replies `tcp:` + the request payload, with the request's headers;
- `mixed.tcp.fwd`: republishes payload and headers to `mixed.ws.in`.

Prints `READY` once both subscriptions are registered at the server, and exits when its
stdin closes (the test that started it ended) or after LIFETIME seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import nats

LIFETIME = 120.0


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--user")
    p.add_argument("--password")
    a = p.parse_args()
    nc = await nats.connect(
        servers=[a.url], user=a.user, password=a.password, allow_reconnect=False, name="tcp-peer"
    )

    async def echo(msg):
        await nc.publish(msg.reply, b"tcp:" + msg.data, headers=msg.headers)

    async def forward(msg):
        await nc.publish("mixed.ws.in", msg.data, headers=msg.headers)

    await nc.subscribe("mixed.tcp.echo", cb=echo)
    await nc.subscribe("mixed.tcp.fwd", cb=forward)
    await nc.flush()
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    try:
        await asyncio.wait_for(stdin_closed, LIFETIME)
    except asyncio.TimeoutError:
        pass
    await nc.drain()


if __name__ == "__main__":
    asyncio.run(main())
