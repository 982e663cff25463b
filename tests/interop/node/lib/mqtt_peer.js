// The Python side of the browser MQTT tests: tests/interop/python/mqtt_peer.py (paho-mqtt
// clients and a nats-py client) as a child process, one JSON request per line.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { ROOT } from "./server.js";

const PYTHON = process.env.INTEROP_PYTHON ?? join(ROOT, ".venv-interop/bin/python");
const ANSWER_TIMEOUT_MS = 20_000;

export class MqttPeer {
  static start() {
    const p = new MqttPeer();
    const script = join(ROOT, "tests/interop/python/mqtt_peer.py");
    p.proc = spawn(PYTHON, [script], { stdio: ["pipe", "pipe", "inherit"] });
    p.nextId = 1;
    p.pending = new Map();
    createInterface({ input: p.proc.stdout }).on("line", (line) => {
      const ans = JSON.parse(line);
      const w = p.pending.get(ans.id);
      if (!w) return;
      p.pending.delete(ans.id);
      w(ans);
    });
    p.proc.once("exit", (code) => {
      for (const w of p.pending.values()) w({ error: `mqtt_peer.py exited (${code})` });
      p.pending.clear();
    });
    return p;
  }

  /** One request; rejects with the peer's error text. */
  async call(op, args = {}) {
    const id = this.nextId++;
    const ans = await new Promise((res) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        res({ error: `${op}: no answer from mqtt_peer.py in ${ANSWER_TIMEOUT_MS} ms` });
      }, ANSWER_TIMEOUT_MS);
      this.pending.set(id, (a) => {
        clearTimeout(timer);
        res(a);
      });
      this.proc.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
    if (ans.error !== undefined) throw new Error(`mqtt_peer ${op}: ${ans.error}`);
    delete ans.id;
    return ans;
  }

  async stop() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = once(this.proc, "exit");
    this.proc.stdin.end();
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
