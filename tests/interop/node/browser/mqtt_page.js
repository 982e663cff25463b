// Runs in headless Chromium: mqtt.js (its browser bundle, the browser's own WebSocket)
// against a server's `/mqtt` path. The test drives it with page.evaluate through
// `window.t`: named clients, each with the messages it received, in order.
import mqtt from "/mqtt.js";

const T = 5000;
const clients = new Map();

function withTimeout(p, what) {
  return Promise.race([
    p,
    new Promise((_, rej) => setTimeout(() => rej(new Error(`${what}: timed out`)), T)),
  ]);
}

window.t = {
  /** Connects; resolves with the CONNACK's session-present flag. `will`: {topic, payload, qos, retain}. */
  async connect(name, url, { clientId, clean = true, will } = {}) {
    const c = mqtt.connect(url, {
      clientId,
      clean,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: T,
      keepalive: 30,
      will,
    });
    const st = { c, got: [], waiters: [], closed: false };
    c.on("message", (topic, payload, packet) => {
      st.got.push({
        topic,
        payload: new TextDecoder().decode(payload),
        qos: packet.qos,
        retain: packet.retain,
      });
      for (const w of st.waiters.splice(0)) w();
    });
    c.on("close", () => {
      st.closed = true;
      for (const w of st.waiters.splice(0)) w();
    });
    clients.set(name, st);
    const connack = await withTimeout(
      new Promise((res, rej) => {
        c.once("connect", res);
        c.once("error", rej);
        c.once("close", () => rej(new Error("closed before CONNACK")));
      }),
      `${name} connect`,
    );
    return { sessionPresent: connack.sessionPresent, protocol: c.stream?.socket?.protocol };
  },

  /** Subscribes; resolves with the granted QoS values of the SUBACK. */
  async subscribe(name, topic, qos) {
    const { c } = clients.get(name);
    const granted = await withTimeout(c.subscribeAsync(topic, { qos }), `${name} subscribe`);
    return granted.map((g) => g.qos);
  },

  /** Publishes; resolves once the QoS 1/2 flow completed. */
  async publish(name, topic, payload, qos, retain = false) {
    const { c } = clients.get(name);
    await withTimeout(c.publishAsync(topic, payload, { qos, retain }), `${name} publish`);
  },

  /** The next message this client received (waits up to `ms`). */
  async next(name, ms = T) {
    const st = clients.get(name);
    const deadline = Date.now() + ms;
    while (st.got.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${name}: no message in ${ms} ms`);
      await new Promise((res) => {
        st.waiters.push(res);
        setTimeout(res, left);
      });
    }
    return st.got.shift();
  },

  /** Resolves once the server closed this client's connection. */
  async waitClosed(name) {
    const st = clients.get(name);
    const deadline = Date.now() + T;
    while (!st.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${name}: still connected after ${T} ms`);
      await new Promise((res) => {
        st.waiters.push(res);
        setTimeout(res, left);
      });
    }
    return true;
  },

  /** A clean end: DISCONNECT, then the WebSocket closes. */
  async end(name) {
    const { c } = clients.get(name);
    await withTimeout(c.endAsync(), `${name} end`);
    clients.delete(name);
  },
};
document.body.dataset.ready = "1";
