// A `wsFactory` for nats.ws and @nats-io/nats-core that opens each connection with the
// `ws` package (as `globalThis.WebSocket` would), trusting the test CA, and records for
// every connection the 101 response headers and a FrameTap of the bytes the server sent.
import net from "node:net";
import tls from "node:tls";
import { readFileSync } from "node:fs";
import WebSocket from "ws";
import { FrameTap } from "./frames.js";

export function recordingFactory({ ca } = {}) {
  const conns = [];
  const caPem = ca ? readFileSync(ca) : undefined;
  const factory = async (url) => {
    const rec = {
      url,
      upgrade: null,
      fromServer: new FrameTap({ http: false }),
      socket: null,
      close: null,
    };
    conns.push(rec);
    const socket = new WebSocket(url, {
      ca: caPem,
      createConnection: (opts) => {
        const s = url.startsWith("wss:") ? tls.connect(opts) : net.connect(opts);
        rec.socket = s;
        return s;
      },
    });
    // `ws` emits "upgrade", then unshifts the bytes read past the 101 onto the socket and
    // only then adds its own "data" listener. A listener added synchronously here would
    // take those bytes alone (an unshift onto a flowing stream emits at once); one added
    // on the next tick sees them, and every later chunk, with `ws`.
    socket.on("upgrade", (res) => {
      rec.upgrade = { status: res.statusCode, headers: res.headers };
      process.nextTick(() => rec.socket.on("data", (d) => rec.fromServer.feed(d)));
    });
    socket.on("close", (code, reason) => {
      rec.close = { code, reason: String(reason) };
    });
    return { socket, encrypted: url.startsWith("wss:") };
  };
  return { factory, conns };
}
