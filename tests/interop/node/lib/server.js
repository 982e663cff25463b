// Starts and stops nats-ws-server (the release binary), the test CA, and the nats-py TCP peer.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { once } from "node:events";
import { createInterface } from "node:readline";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const BINARY = process.env.NATS_WS_SERVER ?? join(ROOT, "target/release/nats-ws-server");
const PYTHON = process.env.INTEROP_PYTHON ?? join(ROOT, ".venv-interop/bin/python");
const START_TIMEOUT_MS = 10_000;

/** A throwaway CA and server certificate for 127.0.0.1, made by tests/interop/gen-certs.sh. */
export function makeCerts() {
  const dir = mkdtempSync(join(tmpdir(), "nats-ws-certs-"));
  execFileSync("bash", [join(ROOT, "tests/interop/gen-certs.sh"), dir]);
  return {
    dir,
    ca: join(dir, "ca.pem"),
    cert: join(dir, "server-cert.pem"),
    key: join(dir, "server-key.pem"),
  };
}

export function tlsBlock(certs) {
  return `tls { cert_file: "${certs.cert}", key_file: "${certs.key}" }`;
}

/** One server process on ephemeral ports; `restart()` comes back on the same ports. */
export class NatsWsServer {
  constructor({ websocket = "no_tls: true", extra = "", debug = false } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), "nats-ws-interop-"));
    this.conf = join(this.dir, "server.conf");
    this.websocket = websocket;
    this.extra = extra;
    this.#writeConf(-1, -1);
    this.debug = debug;
    this.lines = [];
    this.port = 0;
    this.wsPort = 0;
    this.mqttPort = 0;
    this.proc = null;
  }

  static async start(opts) {
    const s = new NatsWsServer(opts);
    await s.#spawn();
    return s;
  }

  #writeConf(port, wsPort) {
    writeFileSync(
      this.conf,
      `host: 127.0.0.1\nport: ${port}\n${this.extra}\nwebsocket {\n  host: 127.0.0.1\n  port: ${wsPort}\n  ${this.websocket}\n}\n`,
    );
  }

  async #spawn() {
    if (!existsSync(BINARY)) throw new Error(`${BINARY} not built (scripts/interop.sh builds it)`);
    const args = ["-c", this.conf, ...(this.debug ? ["-D"] : [])];
    const proc = spawn(BINARY, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    this.proc = proc;
    const ready = new Promise((res, rej) => {
      const timer = setTimeout(
        () => rej(new Error(`server did not start:\n${this.lines.join("\n")}`)),
        START_TIMEOUT_MS,
      );
      const onLine = (line) => {
        this.lines.push(line);
        let m = line.match(/Listening for websocket clients on wss?:\/\/[^:]+:(\d+)/);
        if (m) this.wsPort = Number(m[1]);
        m = line.match(/Listening for client connections on [^:]+:(\d+)/);
        if (m) this.port = Number(m[1]);
        m = line.match(/Listening for MQTT clients on (?:mqtt|tls):\/\/[^:]+:(\d+)/);
        if (m) this.mqttPort = Number(m[1]);
        if (line.includes("Server is ready")) {
          clearTimeout(timer);
          res();
        }
      };
      createInterface({ input: proc.stdout }).on("line", onLine);
      createInterface({ input: proc.stderr }).on("line", onLine);
      proc.once("exit", (code) => {
        clearTimeout(timer);
        rej(new Error(`server exited (${code}):\n${this.lines.join("\n")}`));
      });
    });
    await ready;
  }

  get tcpUrl() {
    return `nats://127.0.0.1:${this.port}`;
  }

  wsUrl(scheme = "ws") {
    return `${scheme}://127.0.0.1:${this.wsPort}`;
  }

  /** SIGTERM (graceful: WebSocket clients get 1001), SIGKILL after 10 s. */
  async stop() {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = once(p, "exit");
    p.kill("SIGTERM");
    const timer = setTimeout(() => p.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async restart(pauseMs = 300) {
    await this.stop();
    await new Promise((r) => setTimeout(r, pauseMs));
    // The same ports, written into the file (the Go server has no --ws_port flag, and
    // these helpers also drive it: NATS_WS_SERVER=.../nats-server).
    this.#writeConf(this.port, this.wsPort);
    await this.#spawn();
  }

  logHas(text) {
    return this.lines.some((l) => l.includes(text));
  }
}

/** The nats-py TCP peer of tests/interop/python/tcp_peer.py, ready when this resolves. */
export async function startTcpPeer(tcpUrl, args = []) {
  const script = join(ROOT, "tests/interop/python/tcp_peer.py");
  const proc = spawn(PYTHON, [script, tcpUrl, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const rl = createInterface({ input: proc.stdout });
  const first = await Promise.race([
    once(rl, "line").then(([l]) => l),
    once(proc, "exit").then(([code]) => `exited ${code}`),
    new Promise((r) => setTimeout(() => r("timeout"), 15_000).unref()),
  ]);
  if (first !== "READY") {
    proc.kill("SIGKILL");
    throw new Error(`tcp peer did not start: ${first}`);
  }
  return {
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = once(proc, "exit");
      proc.stdin.end();
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
