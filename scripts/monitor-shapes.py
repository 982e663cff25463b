#!/usr/bin/env python3
"""Monitoring shapes, ours against Go: both servers started the same way, a few WebSocket
clients connected (one closed again), then /varz, /connz, /subsz, /accountz, /accstatz
and /healthz fetched from each. Then both again with MQTT (and the `jetstream` block Go's
MQTT needs), two MQTT clients (one gone with DISCONNECT), and the `mqtt` section of /varz
and the MQTT entries of /connz (open and closed) compared. Key sets and JSON types are compared (values legitimately
differ: ids, times, ports); every difference is printed, and one not explained below
fails the check. Bounded: each server start, request and read has a timeout, the whole
run takes a few seconds.

  monitor-shapes.py [OUR_SERVER] [GO_SERVER]

Defaults: target/debug/nats-ws-server (built by `cargo test --workspace`; built here if
missing) and .venv-peers/bin/nats-server (scripts/install-peers.sh).
"""
import base64, glob, json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 5

# Differences with a reason (docs/CONFORMANCE.md row): path regex -> why.
EXPLAINED = {
    r"^/varz \.git_commit$": "row 35: no Go build commit",
    r"^/varz \.feature_flags(\..*)?$": "JetStream feature flags: no JetStream here",
    r"^/(varz|accountz) \.system_account$": "row 34: no system account yet",
    r"^/accountz \.account_detail\.imports": "row 34: Go's $G imports the system account's services",
}

CONFIG = """listen: "127.0.0.1:-1"
http: "127.0.0.1:-1"
ports_file_dir: "{dir}"
websocket {{ listen: "127.0.0.1:-1", no_tls: true }}
"""

MQTT_CONFIG = CONFIG + """jetstream {{ store_dir: "{dir}/js" }}
mqtt {{ listen: "127.0.0.1:-1" }}
"""
# Only these parts are compared in the MQTT run (Go's JetStream adds its own elsewhere).
MQTT_PATHS = {"/varz": ".mqtt", "/connz?state=all": ".connections"}

PATHS = ["/varz", "/connz?subs=1", "/connz?subs=detail&auth=true", "/connz?state=closed&subs=detail",
         "/subsz?subs=1", "/accountz", "/accountz?acc=%24G", "/accstatz?unused=1", "/healthz"]


def start(cmd, name, tmp, config=CONFIG):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    conf = os.path.join(d, "server.conf")
    with open(conf, "w") as f:
        f.write(config.format(dir=d))
    log = open(os.path.join(d, "log"), "w")
    p = subprocess.Popen([cmd, "-c", conf], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        files = glob.glob(os.path.join(d, "*.ports"))
        if files:
            try:
                ports = json.load(open(files[0]))
                if ports.get("websocket") and ports.get("monitoring"):
                    return p, ports
            except ValueError:
                pass
        if p.poll() is not None:
            break
        time.sleep(0.05)
    p.kill()
    raise SystemExit(f"{name}: did not start ({open(os.path.join(d, 'log')).read()[-500:]})")


def ws_frame(payload):
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x82]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big"))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def ws_client(url, name):
    host, port = url.split("//")[1].rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    # Go refuses data sent before its 101: wait for it.
    seen, deadline = b"", time.time() + TIMEOUT
    while b"\r\n\r\n" not in seen and time.time() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        seen += chunk
    s.sendall(ws_frame((f'CONNECT {{"verbose":false,"name":"{name}","lang":"python","version":"1"}}\r\n'
                        f"SUB shapes.{name} 1\r\nSUB shapes.* q 2\r\nPUB shapes.{name} 5\r\nhello\r\nPING\r\n").encode()))
    while b"PONG" not in seen and time.time() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        seen += chunk
    if b"PONG" not in seen:
        raise SystemExit(f"{url}: no PONG for {name}: {seen[:300]!r}")
    return s


def mqtt_client(port, client_id, disconnect=False):
    """An MQTT 3.1.1 client on the MQTT port: CONNECT (clean session), CONNACK accepted."""
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    cid = client_id.encode()
    body = b"\x00\x04MQTT\x04\x02\x00\x1e" + len(cid).to_bytes(2, "big") + cid
    s.sendall(bytes([0x10, len(body)]) + body)
    seen, deadline = b"", time.time() + TIMEOUT
    while len(seen) < 4 and time.time() < deadline:
        chunk = s.recv(4)
        if not chunk:
            break
        seen += chunk
    if seen != b"\x20\x02\x00\x00":
        raise SystemExit(f"MQTT port {port}: no CONNACK for {client_id}: {seen!r}")
    if disconnect:
        s.sendall(b"\xe0\x00")
    return s


def shape(v, path="", out=None):
    """path -> JSON type; array elements merged under `[]`."""
    out = {} if out is None else out
    if isinstance(v, dict):
        out[path] = "object"
        for k, x in v.items():
            shape(x, f"{path}.{k}", out)
    elif isinstance(v, list):
        out[path] = "array"
        for x in v:
            shape(x, f"{path}[]", out)
    elif isinstance(v, bool):
        out[path] = "bool"
    elif isinstance(v, (int, float)):
        out[path] = "number"  # Go writes a whole float64 bare: 0 and 0.5 are one type
    else:
        out[path] = "null" if v is None else "string"
    return out


def fetch(base, path):
    with urllib.request.urlopen(base + path, timeout=TIMEOUT) as r:
        return r.status, r.headers.get("Content-Type"), r.read()


def main():
    ours = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "debug", "nats-ws-server")
    go = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, ".venv-peers", "bin", "nats-server")
    if not os.path.exists(ours):
        subprocess.run(["cargo", "build", "-p", "nats-ws", "--bin", "nats-ws-server"], cwd=ROOT, check=True)
    if not os.path.exists(go):
        raise SystemExit(f"{go} missing: run scripts/install-peers.sh")
    tmp = tempfile.mkdtemp(prefix="monitor-shapes-")
    procs, answers = [], {}
    try:
        for name, cmd in [("go", go), ("ours", ours)]:
            p, ports = start(cmd, name, tmp)
            procs.append(p)
            clients = [ws_client(ports["websocket"][0], f"c{i}") for i in range(3)]
            clients.pop().close()
            time.sleep(0.3)  # the close reaches the server, which records it
            base = ports["monitoring"][0]
            answers[name] = {path: fetch(base, path) for path in PATHS}
            for c in clients:
                c.close()
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    mqtt_answers = mqtt_run(ours, go)
    unexplained = 0
    runs = [(path, answers["go"][path], answers["ours"][path], "") for path in PATHS]
    runs += [(path, mqtt_answers["go"][path], mqtt_answers["ours"][path], only)
             for path, only in MQTT_PATHS.items()]
    for path, (gs, gt, gb), (os_, ot, ob), only in runs:
        endpoint = path.split("?")[0]
        diffs = []
        if (gs, gt) != (os_, ot):
            diffs.append((f"{path} status/type", f"go {gs} {gt}, ours {os_} {ot}"))
        g, o = shape(json.loads(gb)), shape(json.loads(ob))
        g = {k: v for k, v in g.items() if k.startswith(only)}
        o = {k: v for k, v in o.items() if k.startswith(only)}
        if only:
            path = f"{path} (MQTT run, {only})"
        for k in sorted(set(g) | set(o)):
            if g.get(k) != o.get(k):
                diffs.append((f"{endpoint} {k}", f"go {g.get(k)}, ours {o.get(k)}"))
        for where, what in diffs:
            why = next((w for rx, w in EXPLAINED.items() if re.search(rx, where)), None)
            print(f"{'  explained' if why else 'UNEXPLAINED'} {path}: {where}: {what}" + (f" ({why})" if why else ""))
            unexplained += why is None
        if not diffs:
            print(f"  same shape  {path}")
    if unexplained:
        print(f"{unexplained} unexplained difference(s)")
        sys.exit(1)
    print("monitoring shapes: no unexplained difference")


def mqtt_run(ours, go):
    """Both servers with MQTT: one MQTT client open, one gone with DISCONNECT."""
    tmp = tempfile.mkdtemp(prefix="monitor-shapes-mqtt-")
    procs, answers = [], {}
    try:
        for name, cmd in [("go", go), ("ours", ours)]:
            p, ports = start(cmd, name, tmp, MQTT_CONFIG)
            procs.append(p)
            base = ports["monitoring"][0]
            port = json.loads(fetch(base, "/varz")[2])["mqtt"]["port"]
            open_ = mqtt_client(port, "shapes-open")
            gone = mqtt_client(port, "shapes-gone", disconnect=True)
            time.sleep(0.3)  # the DISCONNECT reaches the server, which records the close
            answers[name] = {path: fetch(base, path) for path in MQTT_PATHS}
            gone.close()
            open_.close()
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return answers


if __name__ == "__main__":
    main()
