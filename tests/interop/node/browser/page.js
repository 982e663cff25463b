// Runs in headless Chromium: nats.ws (browser build, the browser's own WebSocket) against
// nats-ws-server. `?ws=URL&mode=full|connect`. Writes what happened into #result as JSON
// and sets body[data-done].
import { connect } from "/nats.js";

const q = new URLSearchParams(location.search);
const out = { userAgent: navigator.userAgent };
const enc = new TextEncoder();
const dec = new TextDecoder();
const T = 5000;

function pseudoRandom(n) {
  // xorshift32: poorly compressible, so a 200 KiB message stays ~200 KiB deflated and
  // must cross as many browser-sized fragments.
  const a = new Uint8Array(n);
  let x = 2463534242;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    a[i] = x & 0xff;
  }
  return a;
}

function same(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function first(sub) {
  for await (const m of sub) return m;
  throw new Error("subscription closed");
}

async function main() {
  const nc = await connect({ servers: q.get("ws"), timeout: T, reconnect: false });
  out.connected = true;
  const sub = nc.subscribe("browser.echo", { max: 1 });
  nc.publish("browser.echo", enc.encode("hello"));
  out.echo = dec.decode((await first(sub)).data);
  if (q.get("mode") === "full") {
    const r = await nc.request("mixed.tcp.echo", enc.encode("hi"), { timeout: T });
    out.tcpEcho = dec.decode(r.data);
    const big = pseudoRandom(200 * 1024);
    // Round trip through the nats-py TCP peer: browser → server → TCP → server → browser.
    const inbox = nc.subscribe("mixed.ws.in", { max: 1 });
    nc.publish("mixed.tcp.fwd", big);
    const m = await first(inbox);
    out.bigLen = m.data.length;
    out.bigOk = same(m.data, big);
  }
  await nc.drain();
}

main()
  .catch((e) => {
    out.error = String(e?.message ?? e);
    out.code = e?.code;
  })
  .finally(() => {
    document.getElementById("result").textContent = JSON.stringify(out);
    document.body.dataset.done = "1";
  });
