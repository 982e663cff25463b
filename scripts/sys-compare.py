#!/usr/bin/env python3
"""The system account's requests and advisories, side by side with the Go server.

  .venv-interop/bin/python scripts/sys-compare.py [OURS [GO]]

Starts each server (default: target/release/nats-ws-server and .venv-peers/bin/nats-server)
on a free loopback port with the same configuration ($SYS and one account A), connects
nats-py as a system user and as a user of A, sends every `$SYS.REQ...` request below,
collects the advisories, and prints, per request, whether the answers have the same JSON
shape: the same keys in the same order, with the same JSON types, at every level (values
such as ids and times differ by nature). Differences are expected only where
docs/CONFORMANCE.md lists them. Exit status 0; the report is the output.
"""
import asyncio, json, os, socket, subprocess, sys, tempfile, time

import nats

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "nats-ws-server")
GO = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, ".venv-peers", "bin", "nats-server")

CONF = """listen: 127.0.0.1:%d
server_name: compare
accounts {
  $SYS { users = [{user: sys, password: sys}] }
  A { users = [{user: a, password: a}] }
}
"""

# (requester, subject, body)
REQUESTS = [
    ("sys", "$SYS.REQ.SERVER.PING", ""),
    ("sys", "$SYS.REQ.SERVER.PING.STATSZ", ""),
    ("sys", "$SYS.REQ.SERVER.PING.IDZ", ""),
    ("sys", "$SYS.REQ.SERVER.PING.VARZ", ""),
    ("sys", "$SYS.REQ.SERVER.PING.CONNZ", ""),
    ("sys", "$SYS.REQ.SERVER.PING.CONNZ", '{"subscriptions":true,"limit":1}'),
    ("sys", "$SYS.REQ.SERVER.PING.CONNZ", "{bad"),
    ("sys", "$SYS.REQ.SERVER.PING.SUBSZ", ""),
    ("sys", "$SYS.REQ.SERVER.PING.HEALTHZ", ""),
    ("sys", "$SYS.REQ.SERVER.PING.ACCOUNTZ", ""),
    ("sys", "$SYS.REQ.SERVER.PING.ROUTEZ", ""),
    ("sys", "$SYS.REQ.SERVER.PING.GATEWAYZ", ""),
    ("sys", "$SYS.REQ.SERVER.PING.LEAFZ", ""),
    ("sys", "$SYS.REQ.SERVER.PING.JSZ", ""),
    ("sys", "$SYS.REQ.SERVER.PING.RAFTZ", ""),
    ("sys", "$SYS.REQ.SERVER.PING.VARZ", '{"server_name":"elsewhere"}'),
    ("sys", "$SYS.REQ.ACCOUNT.A.CONNZ", ""),
    ("sys", "$SYS.REQ.ACCOUNT.A.SUBSZ", ""),
    ("sys", "$SYS.REQ.ACCOUNT.A.CONNS", ""),
    ("sys", "$SYS.REQ.ACCOUNT.A.STATZ", ""),
    ("sys", "$SYS.REQ.ACCOUNT.A.LEAFZ", ""),
    ("sys", "$SYS.REQ.ACCOUNT.A.JSZ", ""),
    ("sys", "$SYS.REQ.ACCOUNT.PING.STATZ", '{"accounts":["A"]}'),
    ("sys", "$SYS.REQ.USER.INFO", ""),
    ("a", "$SYS.REQ.USER.INFO", ""),
    ("a", "$SYS.REQ.SERVER.PING.CONNZ", ""),
    ("a", "$SYS.REQ.ACCOUNT.PING.CONNZ", ""),
    ("a", "$SYS.REQ.ACCOUNT.PING.STATZ", ""),
    ("a", "$SYS.REQ.SERVER.PING", ""),
    ("sys", "$SYS.REQ.SERVER.PING.EXPVARZ", ""),
    ("sys", "$SYS.REQ.ACCOUNT.A.INFO", ""),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shape(v):
    """Keys in order and JSON types, recursively (the first element stands for a list)."""
    if isinstance(v, dict):
        return [(k, shape(x)) for k, x in v.items()]
    if isinstance(v, list):
        return ["list", shape(v[0]) if v else None]
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


async def exercise(port):
    url = f"nats://127.0.0.1:{port}"
    sysc = await nats.connect(url, user="sys", password="sys", name="sys")
    advisories = {}

    async def on_adv(m):
        if ".REQ." not in m.subject:
            key = "STATSZ broadcast" if m.subject.endswith(".STATSZ") else m.subject
            advisories.setdefault(key, m.data)

    await sysc.subscribe("$SYS.>", cb=on_adv)
    await sysc.flush()
    a = await nats.connect(url, user="a", password="a", name="a")
    await a.subscribe("foo")
    await a.publish("foo", b"hello")
    await a.flush()
    await asyncio.sleep(0.2)
    answers = {}
    for who, subject, body in REQUESTS:
        c = sysc if who == "sys" else a
        inbox = c.new_inbox()
        sub = await c.subscribe(inbox)
        await c.publish(subject, body.encode(), reply=inbox)
        await c.flush()
        got = []
        try:
            while True:
                got.append((await sub.next_msg(timeout=0.4)).data)
        except Exception:
            pass
        await sub.unsubscribe()
        answers[(who, subject, body)] = got
    await a.close()
    await asyncio.sleep(1.5)  # the disconnect advisories and one more STATSZ
    await sysc.close()
    return answers, advisories


def run(cmd_for, name):
    port = free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write(CONF % port)
    proc = subprocess.Popen(cmd_for(f.name), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        return asyncio.run(exercise(port))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        os.unlink(f.name)


def differences(go, ours, path="", out=None):
    """Where two shapes part: (path, Go's keys or type, ours), at most 4."""
    out = [] if out is None else out
    if len(out) >= 4:
        return out
    if isinstance(go, list) and isinstance(ours, list) and go and ours and go[0] != "list" and ours[0] != "list":
        gk, ok = [k for k, _ in go], [k for k, _ in ours]
        if gk != ok:
            out.append((path or ".", gk, ok))
        od = dict(ours)
        for k, v in go:
            if k in od:
                differences(v, od[k], f"{path}.{k}", out)
    elif isinstance(go, list) and isinstance(ours, list) and go[:1] == ["list"] and ours[:1] == ["list"]:
        if go[1] is not None and ours[1] is not None:
            differences(go[1], ours[1], f"{path}[0]", out)
    elif go != ours:
        out.append((path or ".", go, ours))
    return out


def describe(msgs):
    if not msgs:
        return "no answer"
    try:
        return shape(json.loads(msgs[0]))
    except ValueError:
        return "not JSON"


def main():
    ours = run(lambda conf: [OURS, "-c", conf], "nats-ws")
    go = run(lambda conf: [GO, "-c", conf], "go")
    same = 0
    for key in [(w, s, b) for w, s, b in REQUESTS]:
        o, g = describe(ours[0][key]), describe(go[0][key])
        label = f"{key[0]:>3} {key[1]} {key[2]}".rstrip()
        if o == g:
            same += 1
            print(f"same       {label}")
        else:
            print(f"DIFFERENT  {label}")
            for path, gv, ov in differences(g, o):
                print(f"    {path}\n      go:   {json.dumps(gv)[:300]}\n      ours: {json.dumps(ov)[:300]}")
    for subject in sorted(set(go[1]) | set(ours[1])):
        o, g = describe([ours[1].get(subject)] if subject in ours[1] else []), describe([go[1].get(subject)] if subject in go[1] else [])
        print(f"{'same      ' if o == g else 'DIFFERENT '} advisory {subject}")
        for path, gv, ov in (differences(g, o) if o != g else []):
            print(f"    {path}\n      go:   {json.dumps(gv)[:300]}\n      ours: {json.dumps(ov)[:300]}")
    print(f"{same}/{len(REQUESTS)} requests answered with the same shape")


if __name__ == "__main__":
    main()
