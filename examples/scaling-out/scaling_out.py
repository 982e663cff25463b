#!/usr/bin/env python3
"""Scaling out: leaf servers joined to a three-node Go cluster, checked end to end.

  scaling_out.py topology   three Go nodes (routes) as hub; leaf-ws joins over ws://,
                            leaf-tcp over TCP; clients on all five servers
  scaling_out.py pair --transport ws|wss|tcp [--hub-bin B] [--leaf-bin B]
                            one hub and one leaf over the given transport

Binaries: --leaf-bin (or LEAF_SERVER), default target/release/nats-ws-server; --hub-bin
(or HUB_SERVER), default the Go server .venv-peers/bin/nats-server. The cluster nodes
are always the Go server (nats-ws has no routes). Needs nats-py (.venv-interop).

Checks (topology): pub/sub from every server to every server; a queue group with members
on four servers gets each of 200 messages exactly once; request/reply across; headers;
unsubscribe propagation (the hub's and the other leaf's view of the interest, /leafz);
account isolation (APP and OTHER); fail-over: the hub node holding leaf-ws's APP
connection is killed, leaf-ws reconnects to another node within the reconnect window and
its subscription still gets messages. Prints each check and its time; exit 1 on failure.
Every server is stopped at the end, also on an error or a signal.
"""
import argparse
import asyncio
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import nats

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GO = os.path.join(ROOT, ".venv-peers", "bin", "nats-server")
OURS = os.path.join(ROOT, "target", "release", "nats-ws-server")
FAILOVER_WINDOW = 10.0  # seconds: reconnect_interval 250ms, plus the hub noticing the loss


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Servers:
    """Started server processes; every one is stopped by stop_all (also on a signal)."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = {}
        self.ports = {}
        # A safety net: whatever ends the run (an error, a signal cancelling the event
        # loop), no server outlives it.
        atexit.register(self.stop_all)
        atexit.register(shutil.rmtree, tmp, True)

    def ports_for(self, name):
        if name not in self.ports:
            self.ports[name] = {k: free_port() for k in ("client_port", "http_port", "ws_port", "leaf_port", "cluster_port")}
        return self.ports[name]

    def start(self, name, binary, template, **extra):
        ports = self.ports_for(name)
        text = open(os.path.join(HERE, template)).read()
        for k, v in dict(ports, name=name, **extra).items():
            text = text.replace("{{%s}}" % k, str(v))
        conf = os.path.join(self.tmp, f"{name}.conf")
        with open(conf, "w") as f:
            f.write(text)
        log = open(os.path.join(self.tmp, f"{name}.log"), "w")
        self.procs[name] = subprocess.Popen([binary, "-c", conf], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited at start:\n{self.log(name)}")
            try:
                socket.create_connection(("127.0.0.1", ports["client_port"]), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{name} did not listen within 10 s:\n{self.log(name)}")

    def log(self, name):
        try:
            return open(os.path.join(self.tmp, f"{name}.log")).read()[-3000:]
        except OSError:
            return ""

    def stop(self, name):
        p = self.procs.pop(name, None)
        if p and p.poll() is None:
            p.kill()
            p.wait(5)

    def stop_all(self):
        for name in list(self.procs):
            p = self.procs.pop(name)
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)

    def url(self, name, user="app"):
        return f"nats://{user}:{user}@127.0.0.1:{self.ports[name]['client_port']}"

    def leafz(self, name):
        port = self.ports[name]["http_port"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/leafz?subs=1", timeout=2) as r:
            return json.load(r)


class Checks:
    def __init__(self):
        self.failed = []
        self.t0 = time.time()

    def ok(self, what, cond, detail=""):
        mark = "ok  " if cond else "FAIL"
        print(f"  {mark} {what}{(' — ' + detail) if detail else ''}", flush=True)
        if not cond:
            self.failed.append(what)


async def until(pred, timeout=5.0, step=0.05):
    """Polls pred() (sync or async) until true or timeout; returns the last value."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if asyncio.iscoroutine(v):
            v = await v
        if v or time.time() >= deadline:
            return v
        await asyncio.sleep(step)


class Inbox:
    """A subscription whose messages are kept in a list."""

    def __init__(self):
        self.msgs = []

    async def cb(self, msg):
        self.msgs.append(msg)

    def real(self):
        return [m for m in self.msgs if not m.data.startswith(b"probe")]


async def ready(pub, subject, inboxes, timeout=5.0, probe=b"probe"):
    """Publishes probes on subject until every inbox got one: interest has propagated."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        await pub.publish(subject, probe)
        await pub.flush()
        await asyncio.sleep(0.05)
        if all(any(m.data == probe for m in i.msgs) for i in inboxes):
            return True
    return False


async def connect(servers, name, user="app"):
    return await nats.connect(servers.url(name, user), allow_reconnect=False, connect_timeout=5)


async def pubsub_everywhere(c, clients, names):
    inboxes = {}
    for n in names:
        inboxes[n] = Inbox()
        await clients[n].subscribe("across", cb=inboxes[n].cb)
        await clients[n].flush()
    for p in names:
        ok = await ready(clients[p], "across", list(inboxes.values()), probe=f"probe from {p}".encode())
        c.ok(f"interest from every server reaches {p}", ok)
    for p in names:
        await clients[p].publish("across", f"from {p}".encode())
        await clients[p].flush()
    await until(lambda: all(len(i.real()) >= len(names) for i in inboxes.values()), 5)
    for n, i in inboxes.items():
        got = sorted(m.data.decode() for m in i.real())
        c.ok(f"{n} received one message from each server", got == sorted(f"from {p}" for p in names), str(got) if got != sorted(f"from {p}" for p in names) else "")


async def request_reply(c, clients, responder, requester):
    async def echo(msg):
        await msg.respond(b"echo " + msg.data)

    sub = await clients[responder].subscribe(f"svc.{responder}", cb=echo)
    await clients[responder].flush()
    reply = None
    for _ in range(50):
        try:
            reply = await clients[requester].request(f"svc.{responder}", b"hi", timeout=0.5)
            break
        except Exception:
            await asyncio.sleep(0.1)
    c.ok(f"request from {requester} answered by {responder}", reply is not None and reply.data == b"echo hi")
    await sub.unsubscribe()


async def headers(c, clients, sender, receiver):
    inbox = Inbox()
    await clients[receiver].subscribe("hdr", cb=inbox.cb)
    await clients[receiver].flush()
    await ready(clients[sender], "hdr", [inbox])
    await clients[sender].publish("hdr", b"with headers", headers={"X-Leaf": "yes", "X-Two": "2"})
    await clients[sender].flush()
    await until(lambda: inbox.real(), 3)
    m = inbox.real()[0] if inbox.real() else None
    c.ok(f"headers from {sender} reach {receiver}", m is not None and m.headers == {"X-Leaf": "yes", "X-Two": "2"}, str(m and m.headers))


async def topology(args):
    c = Checks()
    tmp = tempfile.mkdtemp(prefix="scaling-out-")
    servers = Servers(tmp)
    hubs = ["hub-a", "hub-b", "hub-c"]
    leaves = ["leaf-ws", "leaf-tcp"]
    clients = {}
    try:
        for h in hubs:
            servers.ports_for(h)
        for h in hubs:
            routes = ", ".join(f'"nats://127.0.0.1:{servers.ports[o]["cluster_port"]}"' for o in hubs if o != h)
            servers.start(h, args.hub_bin, "hub.conf", routes=routes)
        ws = lambda u: ", ".join(f'"ws://{u}:{u}@127.0.0.1:{servers.ports[h]["ws_port"]}"' for h in hubs)
        tcp = lambda u: ", ".join(f'"nats://{u}:{u}@127.0.0.1:{servers.ports[h]["leaf_port"]}"' for h in hubs)
        servers.start("leaf-ws", args.leaf_bin, "leaf.conf", app_urls=ws("app"), other_urls=ws("other"))
        servers.start("leaf-tcp", args.leaf_bin, "leaf.conf", app_urls=tcp("app"), other_urls=tcp("other"))
        print(f"started 3 hub nodes ({args.hub_bin}) and 2 leaves ({args.leaf_bin}) in {time.time() - c.t0:.1f}s")

        def leaf_links():
            total = 0
            for h in hubs:
                try:
                    total += servers.leafz(h).get("leafnodes", 0)
                except OSError:
                    pass
            return total == 4

        c.ok("4 leafnode connections (2 leaves x 2 accounts) on the hub", await until(leaf_links, 10))
        names = hubs + leaves
        for n in names:
            clients[n] = await connect(servers, n)

        print("pub/sub across")
        await pubsub_everywhere(c, clients, names)

        print("queue group: members on leaf-tcp, hub-a, hub-b, hub-c; 200 messages from leaf-ws")
        members = {n: Inbox() for n in ["leaf-tcp", "hub-a", "hub-b", "hub-c"]}
        for n, i in members.items():
            await clients[n].subscribe("q.work", queue="workers", cb=i.cb)
            await clients[n].flush()
        # Queue interest (LS+ with a weight) has no probe that does not consume: give it time.
        await asyncio.sleep(1.0)
        for k in range(200):
            await clients["leaf-ws"].publish("q.work", f"job {k}".encode())
        await clients["leaf-ws"].flush()
        await until(lambda: sum(len(i.real()) for i in members.values()) >= 200, 5)
        await asyncio.sleep(0.3)
        got = [m.data for i in members.values() for m in i.real()]
        spread = {n: len(i.real()) for n, i in members.items()}
        c.ok("each of 200 queue messages delivered exactly once", len(got) == 200 and len(set(got)) == 200, f"{len(got)} delivered, {len(set(got))} distinct, per member {spread}")

        print("request/reply across")
        await request_reply(c, clients, "leaf-tcp", "leaf-ws")
        await request_reply(c, clients, "hub-c", "leaf-ws")
        await request_reply(c, clients, "leaf-ws", "hub-a")

        print("headers")
        await headers(c, clients, "leaf-ws", "leaf-tcp")
        await headers(c, clients, "hub-b", "leaf-ws")

        print("unsubscribe propagation")
        un = Inbox()
        sub = await clients["leaf-tcp"].subscribe("un.x", cb=un.cb)
        await clients["leaf-tcp"].flush()
        await ready(clients["leaf-ws"], "un.x", [un])

        def interest_seen(where):
            # On the hub: interest leaf-tcp registered over its APP connection. On leaf-ws:
            # interest the hub registered with it.
            found = False
            for h in where:
                try:
                    for l in servers.leafz(h).get("leafs", []):
                        if "un.x" in (l.get("subscriptions_list") or []):
                            found = True
                except OSError:
                    pass
            return found

        c.ok("un.x is known on the hub and on leaf-ws", interest_seen(hubs) and interest_seen(["leaf-ws"]))
        await sub.unsubscribe()
        await clients["leaf-tcp"].flush()
        gone = await until(lambda: not interest_seen(hubs) and not interest_seen(["leaf-ws"]), 5)
        c.ok("after UNSUB, neither the hub nor leaf-ws has un.x", gone)

        print("account isolation")
        others = {n: await connect(servers, n, "other") for n in ["leaf-tcp", "hub-b", "leaf-ws"]}
        app_in, other_in = Inbox(), Inbox()
        await clients["leaf-tcp"].subscribe("iso.x", cb=app_in.cb)
        await others["leaf-tcp"].subscribe("iso.x", cb=other_in.cb)
        await clients["leaf-tcp"].flush()
        await others["leaf-tcp"].flush()
        await ready(clients["leaf-ws"], "iso.x", [app_in])
        await ready(others["hub-b"], "iso.x", [other_in])
        for k in range(10):
            await clients["leaf-ws"].publish("iso.x", b"app %d" % k)
            await others["leaf-ws"].publish("iso.x", b"other %d" % k)
        await clients["leaf-ws"].flush()
        await others["leaf-ws"].flush()
        await until(lambda: len(app_in.real()) >= 10 and len(other_in.real()) >= 10, 5)
        await asyncio.sleep(0.3)
        c.ok("APP subscriber got APP's 10 messages only", sorted(m.data for m in app_in.real()) == sorted(b"app %d" % k for k in range(10)))
        c.ok("OTHER subscriber got OTHER's 10 messages only", sorted(m.data for m in other_in.real()) == sorted(b"other %d" % k for k in range(10)))
        for o in others.values():
            await o.close()

        print("fail-over")
        fo = Inbox()
        await clients["leaf-ws"].subscribe("fo.x", cb=fo.cb)
        await clients["leaf-ws"].flush()
        await ready(clients["hub-a"], "fo.x", [fo])

        def holder():
            for h in hubs:
                if h not in servers.procs:
                    continue
                try:
                    for l in servers.leafz(h).get("leafs", []):
                        if l.get("name") == "leaf-ws" and l.get("account") == "APP":
                            return h
                except OSError:
                    pass
            return None

        victim = holder()
        c.ok("found the hub node holding leaf-ws's APP connection", victim is not None, str(victim))
        if victim:
            await clients.pop(victim).close()
            t_kill = time.time()
            servers.stop(victim)
            new = await until(lambda: holder(), FAILOVER_WINDOW, 0.05)
            took = time.time() - t_kill
            c.ok(f"leaf-ws reconnected to another node within {FAILOVER_WINDOW:.0f}s", new is not None and new != victim, f"{new} after {took:.2f}s")
            survivor = [h for h in hubs if h != victim][0]
            delivered = await ready(clients[survivor], "fo.x", [fo], FAILOVER_WINDOW, b"probe after fail-over")
            c.ok(f"the subscription on leaf-ws still gets messages from {survivor}", delivered)
            await clients["leaf-tcp"].publish("fo.x", b"from leaf-tcp after fail-over")
            await clients["leaf-tcp"].flush()
            got = await until(lambda: any(m.data == b"from leaf-tcp after fail-over" for m in fo.msgs), 5)
            c.ok("and from leaf-tcp", bool(got))
    except Exception as e:  # report, then stop everything
        c.ok(f"no error ({type(e).__name__}: {e})", False)
        for n in list(servers.procs):
            print(f"--- {n} log tail ---\n{servers.log(n)}")
    finally:
        for cl in clients.values():
            try:
                await cl.close()
            except Exception:
                pass
        servers.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    return c


def make_certs(tmp):
    """A CA and a server certificate for 127.0.0.1 (openssl)."""
    run = lambda *a: subprocess.run(a, cwd=tmp, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=scaling-out CA", "-keyout", "ca-key.pem", "-out", "ca.pem")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server-key.pem", "-out", "server.csr")
    with open(os.path.join(tmp, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server-cert.pem")


async def pair(args):
    c = Checks()
    tmp = tempfile.mkdtemp(prefix="leaf-pair-")
    servers = Servers(tmp)
    clients = {}
    try:
        hub_ports = servers.ports_for("hub")
        if args.transport == "wss":
            make_certs(tmp)
            ws_tls = f'tls {{ cert_file: "{tmp}/server-cert.pem", key_file: "{tmp}/server-key.pem" }}'
            url = f"wss://app:app@127.0.0.1:{hub_ports['ws_port']}"
            remote_tls = f', tls {{ ca_file: "{tmp}/ca.pem" }}'
        else:
            ws_tls, remote_tls = "no_tls: true", ""
            url = {"ws": f"ws://app:app@127.0.0.1:{hub_ports['ws_port']}", "tcp": f"nats://app:app@127.0.0.1:{hub_ports['leaf_port']}"}[args.transport]
        servers.start("hub", args.hub_bin, "pair-hub.conf", ws_tls=ws_tls)
        servers.start("leaf", args.leaf_bin, "pair-leaf.conf", url=url, remote_tls=remote_tls)
        ok = await until(lambda: servers.leafz("hub").get("leafnodes") == 1 and servers.leafz("leaf").get("leafnodes") == 1, 10)
        c.ok(f"leaf ({os.path.basename(args.leaf_bin)}) connected to hub ({os.path.basename(args.hub_bin)}) over {args.transport}", bool(ok))
        for n in ("hub", "leaf"):
            clients[n] = await connect(servers, n)
        await pubsub_everywhere(c, clients, ["hub", "leaf"])
        await request_reply(c, clients, "hub", "leaf")
        await request_reply(c, clients, "leaf", "hub")
        await headers(c, clients, "leaf", "hub")
        await headers(c, clients, "hub", "leaf")
    except Exception as e:
        c.ok(f"no error ({type(e).__name__}: {e})", False)
        for n in list(servers.procs):
            print(f"--- {n} log tail ---\n{servers.log(n)}")
    finally:
        for cl in clients.values():
            try:
                await cl.close()
            except Exception:
                pass
        servers.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["topology", "pair"])
    ap.add_argument("--transport", choices=["ws", "wss", "tcp"], default="ws")
    ap.add_argument("--leaf-bin", default=os.environ.get("LEAF_SERVER", OURS))
    ap.add_argument("--hub-bin", default=os.environ.get("HUB_SERVER", GO))
    args = ap.parse_args()
    if args.mode == "topology":
        args.hub_bin = GO  # the cluster is Go's: nats-ws has no routes
    for b in (args.leaf_bin, args.hub_bin):
        if not os.access(b, os.X_OK):
            sys.exit(f"no server binary at {b}")
    # A signal ends the run through the finally blocks above, which stop every server.
    def interrupted(*_):
        raise KeyboardInterrupt

    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, interrupted)
    started = time.time()
    try:
        c = asyncio.run(topology(args) if args.mode == "topology" else pair(args))
    except KeyboardInterrupt:
        sys.exit(f"{args.mode}: interrupted after {time.time() - started:.1f}s (servers stopped)")
    what = f"{args.mode}{'' if args.mode == 'topology' else ' ' + args.transport}"
    print(f"{what}: {'FAILED ' + ', '.join(c.failed) if c.failed else 'all checks passed'} ({time.time() - started:.1f}s)")
    sys.exit(1 if c.failed else 0)


if __name__ == "__main__":
    main()
