#!/usr/bin/env python3
"""Each authentication mode from a real client: nats-py over ws:// against a server.

For every mode (user/password, token, bcrypt password, no_auth_user) this starts the
server with a configuration that requires it, connects nats-py over ws:// with the right
credentials (subscribe, publish, receive) and with wrong ones (must be refused), then
stops the server.

    python3 -m venv /work/venv-py && /work/venv-py/bin/pip install nats-py aiohttp
    cargo build -p nats-ws --bin nats-ws-server
    /work/venv-py/bin/python scripts/try-nats-py.py                      # nats-ws
    /work/venv-py/bin/python scripts/try-nats-py.py \\
        --server-cmd "/work/venv-peers/bin/nats-server -c {conf}"       # the Go server

Loopback only; every server started is stopped. Exit status 0 when all modes pass.
"""

import argparse
import asyncio
import logging
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time

import nats
from nats.errors import NoServersError

# Go's test/auth_test.go: BCRYPT_AUTH_PASS and its hash (cost 4).
BCRYPT_PASS = "IW@$6v(y1(t@fhPDvf!5^%"
BCRYPT_HASH = "$2a$04$Q.CgCP2Sl9pkcTXEZHazaeMwPaAkSHk7AI51HkyMt5iJQQyUA4qxq"

MODES = [
    # name, authorization block, good connect kwargs, bad connect kwargs
    ("user/password", 'authorization { user: alice, password: "s3cr3t" }',
     {"user": "alice", "password": "s3cr3t"}, {"user": "alice", "password": "nope"}),
    ("token", 'authorization { token: "t0k3n" }',
     {"token": "t0k3n"}, {"token": "wrong"}),
    ("bcrypt password", 'authorization { user: bob, password: "%s" }' % BCRYPT_HASH,
     {"user": "bob", "password": BCRYPT_PASS}, {"user": "bob", "password": BCRYPT_HASH}),
    ("websocket override (user/password)",
     None,  # set in the websocket block below
     {"user": "web", "password": "pw"}, {"user": "alice", "password": "s3cr3t"}),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(auth, ws_port, client_port, ws_auth=""):
    return (
        f'listen: "127.0.0.1:{client_port}"\n'
        + (auth + "\n" if auth else "")
        + f'websocket {{ listen: "127.0.0.1:{ws_port}", no_tls: true {ws_auth} }}\n'
    )


def wait_port(port, proc, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port}")


async def round_trip(url, **kw):
    nc = await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0,
                            connect_timeout=2, **kw)
    try:
        sub = await nc.subscribe("try.auth")
        await nc.publish("try.auth", b"hello over ws")
        msg = await sub.next_msg(timeout=2)
        return msg.data.decode()
    finally:
        await nc.close()


async def refused(url, **kw):
    errors = []

    async def on_error(e):
        errors.append(e)

    try:
        nc = await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0,
                                connect_timeout=2, error_cb=on_error, **kw)
    except (NoServersError, nats.errors.Error, OSError, asyncio.TimeoutError) as e:
        return str(e) or type(e).__name__
    await nc.close()
    return None


async def run_mode(cmd, name, auth, good, bad):
    ws_port, client_port = free_port(), free_port()
    ws_auth = ""
    if auth is None:  # the websocket block's own authorization overrides the top level
        auth = 'authorization { user: alice, password: "s3cr3t" }'
        ws_auth = ', authorization { user: web, password: pw }'
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "server.conf")
        with open(conf, "w") as f:
            f.write(config(auth, ws_port, client_port, ws_auth))
        argv = [a.replace("{conf}", conf) for a in shlex.split(cmd)]
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(ws_port, proc)
            url = f"ws://127.0.0.1:{ws_port}"
            got = await round_trip(url, **good)
            ok = got == "hello over ws"
            why = await refused(url, **bad)
            print(f"{'PASS' if ok and why else 'FAIL'}  {name}: good credentials -> {got!r}; "
                  f"wrong ones -> {'refused (' + why + ')' if why else 'ACCEPTED'}")
            return ok and why is not None
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def main():
    # nats-py leaves the aiohttp session of a refused connection for the collector; the
    # asyncio logger would print "Unclosed client session" for each.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    here = os.path.dirname(os.path.abspath(__file__))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(here, "..", "target"))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server-cmd", default=os.path.join(target, "debug", "nats-ws-server") + " -c {conf}",
                   help="command starting the server; {conf} is the configuration file")
    args = p.parse_args()
    results = [await run_mode(args.server_cmd, *m) for m in MODES]
    print(f"{sum(results)}/{len(results)} modes passed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
