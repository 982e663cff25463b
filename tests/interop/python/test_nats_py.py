"""nats-py (aiohttp WebSocket transport) against nats-ws-server over ws:// and wss://."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
from pathlib import Path

import nats
import pytest
from nats.errors import NoServersError

T = 5.0
MIB = 1024 * 1024


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def tls_context(certs: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certs / "ca.pem"))


def websocket_block(scheme: str, certs: Path | None) -> str:
    if scheme == "ws":
        return "no_tls: true"
    assert certs is not None
    return f'tls {{ cert_file: "{certs / "server-cert.pem"}", key_file: "{certs / "server-key.pem"}" }}'


@pytest.fixture(params=["ws", "wss"])
def scheme(request):
    return request.param


@pytest.fixture
def server(scheme, certs, make_server):
    return make_server(websocket=websocket_block(scheme, certs))


async def connect(server, scheme, certs, **kw):
    tls = tls_context(certs) if scheme == "wss" else None
    return await nats.connect(servers=[server.ws_url(scheme)], tls=tls, connect_timeout=T, **kw)


def test_pub_sub_headers_request_reply(server, scheme, certs):
    async def go():
        nc = await connect(server, scheme, certs, name="nats-py")
        assert nc.is_connected
        assert nc.connected_url.scheme == scheme
        sub = await nc.subscribe("greet.*")
        await nc.publish("greet.joe", b"hello", headers={"X-Trace": "1", "X-Other": "two words"})
        msg = await sub.next_msg(T)
        assert msg.subject == "greet.joe"
        assert msg.data == b"hello"
        assert msg.headers == {"X-Trace": "1", "X-Other": "two words"}

        async def responder(m):
            await m.respond(b"re:" + m.data)

        await nc.subscribe("svc.echo", cb=responder)
        reply = await nc.request("svc.echo", b"ping", timeout=T)
        assert reply.data == b"re:ping"
        await nc.drain()

    run(go())


def test_queue_group(server, scheme, certs):
    async def go():
        nc = await connect(server, scheme, certs)
        got = {"a": 0, "b": 0}

        def counter(name):
            async def cb(_m):
                got[name] += 1

            return cb

        await nc.subscribe("work", queue="q", cb=counter("a"))
        await nc.subscribe("work", queue="q", cb=counter("b"))
        plain = await nc.subscribe("work")
        for i in range(200):
            await nc.publish("work", str(i).encode())
        for _ in range(200):
            await plain.next_msg(T)
        await nc.flush()
        await asyncio.sleep(0.1)
        assert got["a"] + got["b"] == 200, got
        assert got["a"] > 0 and got["b"] > 0, got
        await nc.drain()

    run(go())


def test_one_mib_message(server, scheme, certs):
    async def go():
        nc = await connect(server, scheme, certs)
        assert nc.max_payload == MIB
        payload = bytes(range(256)) * (MIB // 256)
        sub = await nc.subscribe("big")
        await nc.publish("big", payload)
        msg = await sub.next_msg(T)
        assert len(msg.data) == MIB
        assert msg.data == payload
        await nc.drain()

    run(go())


def test_reconnect_after_server_restart(server, scheme, certs):
    async def go():
        reconnected = asyncio.Event()

        async def on_reconnect():
            reconnected.set()

        nc = await connect(
            server,
            scheme,
            certs,
            reconnect_time_wait=0.2,
            max_reconnect_attempts=100,
            reconnected_cb=on_reconnect,
        )
        sub = await nc.subscribe("after.restart")
        await nc.flush()
        await asyncio.to_thread(server.restart)
        await asyncio.wait_for(reconnected.wait(), 15)
        await nc.publish("after.restart", b"back")
        msg = await sub.next_msg(T)
        assert msg.data == b"back"
        await nc.drain()

    run(go())


@pytest.mark.parametrize("scheme", ["ws"])
def test_user_password(scheme, certs, make_server):
    server = make_server(
        websocket="no_tls: true", extra="authorization { user: alice, password: s3cret }"
    )

    async def go():
        nc = await connect(server, scheme, certs, user="alice", password="s3cret")
        sub = await nc.subscribe("auth.ok")
        await nc.publish("auth.ok", b"yes")
        assert (await sub.next_msg(T)).data == b"yes"
        await nc.drain()
        errors = []

        async def on_error(e):
            errors.append(e)

        with pytest.raises((NoServersError, nats.errors.Error)):
            await connect(
                server,
                scheme,
                certs,
                user="alice",
                password="wrong",
                allow_reconnect=False,
                error_cb=on_error,
            )
        assert any("authorization violation" in str(e).lower() for e in errors), errors

    run(go())


@pytest.mark.parametrize("scheme", ["wss"])
def test_token(scheme, certs, make_server):
    server = make_server(
        websocket=websocket_block("wss", certs), extra="authorization { token: t0ken }"
    )

    async def go():
        nc = await connect(server, scheme, certs, token="t0ken")
        sub = await nc.subscribe("auth.ok")
        await nc.publish("auth.ok", b"yes")
        assert (await sub.next_msg(T)).data == b"yes"
        await nc.drain()
        with pytest.raises((NoServersError, nats.errors.Error)):
            await connect(server, scheme, certs, token="nope", allow_reconnect=False)

    run(go())


def test_cookie_auth(certs, make_server):
    """The WebSocket upgrade's Cookie header carries the credentials (no CONNECT user)."""
    server = make_server(
        websocket='no_tls: true\n  user_cookie: "nuser"\n  pass_cookie: "npass"',
        extra="authorization { user: alice, password: s3cret }",
    )

    async def go():
        nc = await connect(
            server, "ws", certs, ws_connection_headers={"Cookie": ["nuser=alice; npass=s3cret"]}
        )
        sub = await nc.subscribe("cookie.ok")
        await nc.publish("cookie.ok", b"yes")
        assert (await sub.next_msg(T)).data == b"yes"
        await nc.drain()
        with pytest.raises((NoServersError, nats.errors.Error)):
            await connect(
                server,
                "ws",
                certs,
                ws_connection_headers={"Cookie": ["nuser=alice; npass=bad"]},
                allow_reconnect=False,
            )

    run(go())


def test_mixed_tcp_and_ws(server, scheme, certs):
    """The TCP peer (another nats-py process) and a WebSocket nats-py client talk."""
    peer = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "tcp_peer.py"), server.tcp_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert peer.stdout is not None
        assert peer.stdout.readline().strip() == "READY"

        async def go():
            nc = await connect(server, scheme, certs)
            inbox = await nc.subscribe("mixed.ws.in")
            reply = await nc.request("mixed.tcp.echo", b"hi", timeout=T, headers={"K": "v"})
            assert reply.data == b"tcp:hi"
            assert reply.headers == {"K": "v"}
            await nc.publish("mixed.tcp.fwd", b"x" * 70000, headers={"From": "ws"})
            msg = await inbox.next_msg(T)
            assert msg.data == b"x" * 70000
            assert msg.headers == {"From": "ws"}
            await nc.drain()

        run(go())
    finally:
        assert peer.stdin is not None
        peer.stdin.close()
        try:
            peer.wait(10)
        except subprocess.TimeoutExpired:
            peer.kill()
            peer.wait(5)
