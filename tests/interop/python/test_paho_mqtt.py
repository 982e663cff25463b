"""paho-mqtt (TCP and `transport="websockets"`) against nats-ws-server's MQTT listener and
its websocket `/mqtt` path, with nats-py on the NATS side: QoS 0/1/2, retained messages,
MQTT <-> NATS."""

from __future__ import annotations

import asyncio
import queue
import uuid

import nats
import paho.mqtt.client as mqtt
import pytest

T = 5.0


@pytest.fixture
def server(make_server, tmp_path):
    # The Go server's MQTT needs JetStream (NATS_WS_SERVER=.../nats-server runs these
    # against it); nats-ws accepts the block and keeps MQTT state in memory.
    return make_server(
        extra=f'jetstream {{ store_dir: "{tmp_path}" }}\nmqtt {{ host: 127.0.0.1, port: -1 }}'
    )


def client(server, transport: str, name: str) -> tuple[mqtt.Client, queue.Queue]:
    """A connected paho client (clean session); its messages arrive in the queue."""
    c = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"{name}-{uuid.uuid4().hex[:8]}",
        transport=transport,
        protocol=mqtt.MQTTv311,
    )
    got: queue.Queue = queue.Queue()
    connected: queue.Queue = queue.Queue()
    c.on_message = lambda _c, _u, msg: got.put((msg.topic, msg.payload, msg.qos, msg.retain))
    c.on_connect = lambda _c, _u, _f, rc, _p: connected.put(rc)
    if transport == "websockets":
        c.ws_set_options(path="/mqtt")
        port = server.ws_port
    else:
        port = server.mqtt_port
    c.connect("127.0.0.1", port, keepalive=30)
    c.loop_start()
    assert connected.get(timeout=T) == 0
    return c, got


def subscribe(c: mqtt.Client, topic: str, qos: int) -> None:
    done: queue.Queue = queue.Queue()
    c.on_subscribe = lambda _c, _u, _mid, codes, _p: done.put([int(x.value) for x in codes])
    c.subscribe(topic, qos)
    assert done.get(timeout=T) == [qos]


def stop(*clients: mqtt.Client) -> None:
    for c in clients:
        c.disconnect()
        c.loop_stop()


@pytest.mark.parametrize("transport", ["tcp", "websockets"])
@pytest.mark.parametrize("qos", [0, 1, 2])
def test_qos_exchange(server, transport, qos):
    sub, got = client(server, transport, "sub")
    pub, _ = client(server, "tcp" if transport == "websockets" else "websockets", "pub")
    subscribe(sub, "interop/qos", qos)
    info = pub.publish("interop/qos", b"hello", qos=qos)
    info.wait_for_publish(T)
    topic, payload, got_qos, retain = got.get(timeout=T)
    assert (topic, payload, got_qos, retain) == ("interop/qos", b"hello", qos, False)
    stop(sub, pub)


@pytest.mark.parametrize("transport", ["tcp", "websockets"])
def test_retained(server, transport):
    pub, _ = client(server, transport, "pub")
    pub.publish("interop/retained", b"kept", qos=1, retain=True).wait_for_publish(T)
    sub, got = client(server, transport, "sub")
    subscribe(sub, "interop/#", 1)
    assert got.get(timeout=T) == ("interop/retained", b"kept", 1, True)
    stop(sub, pub)


@pytest.mark.parametrize("transport", ["tcp", "websockets"])
def test_nats_exchange(server, transport):
    async def go():
        nc = await nats.connect(server.tcp_url)
        nsub = await nc.subscribe("interop.from.mqtt")
        await nc.flush()
        m, got = client(server, transport, "m")
        subscribe(m, "interop/from/nats", 0)
        await nc.publish("interop.from.nats", b"to-mqtt")
        await nc.flush()
        assert await asyncio.to_thread(got.get, timeout=T) == (
            "interop/from/nats",
            b"to-mqtt",
            0,
            False,
        )
        m.publish("interop/from/mqtt", b"to-nats", qos=1).wait_for_publish(T)
        msg = await nsub.next_msg(timeout=T)
        assert msg.data == b"to-nats"
        assert msg.headers and msg.headers.get("Nmqtt-Pub") == "1"
        stop(m)
        await nc.close()

    asyncio.run(asyncio.wait_for(go(), 60))
