// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) running mqtt.js's
// browser bundle over ws:// to the server's `/mqtt` path, with paho-mqtt (TCP and
// websockets) and nats-py on the other side (tests/interop/python/mqtt_peer.py): QoS 0/1/2
// both ways, retained messages, wills, persistent sessions, client-id takeover, MQTT <-> NATS.
// NATS_WS_SERVER=.venv-peers/bin/nats-server runs the same tests against the Go server (its
// MQTT needs the `jetstream` block; ours accepts it and keeps MQTT state in memory).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { NatsWsServer } from "./lib/server.js";
import { Site } from "./lib/site.js";
import { MqttPeer } from "./lib/mqtt_peer.js";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
// The flags this machine needs (no background traffic to the closed network).
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
// How long a test waits to be sure a message does NOT come.
const QUIET_S = 1;

let uniq = 0;
const u = () => `${process.pid}-${++uniq}`;

describe("headless Chromium + mqtt.js on /mqtt, with paho-mqtt and nats-py", () => {
  let browser;
  let server;
  let site;
  let peer;
  let wsUrl;
  const stops = [];

  before(async () => {
    const store = mkdtempSync(join(tmpdir(), "nats-ws-mqtt-js-"));
    server = await NatsWsServer.start({
      extra: `jetstream { store_dir: "${store}" }\nmqtt { host: 127.0.0.1, port: -1 }`,
    });
    stops.push(() => server.stop());
    assert.ok(server.mqttPort > 0, "no MQTT listener announced");
    site = await Site.start({ upstreamPort: server.wsPort });
    stops.push(() => site.stop());
    peer = MqttPeer.start();
    stops.push(() => peer.stop());
    await peer.call("nats_connect", { url: server.tcpUrl });
    wsUrl = `${server.wsUrl("ws")}/mqtt`;
    // playwright-core gives each launch a fresh temporary --user-data-dir.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      timeout: 30_000,
    });
  });
  after(async () => {
    await browser?.close();
    for (const s of stops.reverse()) await s();
  });

  /** A fresh browser context with the mqtt.js page loaded; `t(fn, ...args)` calls window.t. */
  async function openPage() {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(site.url() + "mqtt.html", { timeout: 10_000 });
    await page.waitForSelector("body[data-ready]", { state: "attached", timeout: 10_000 });
    const t = (fn, ...args) => page.evaluate(([f, a]) => window.t[f](...a), [fn, args]);
    return { context, page, t, close: () => context.close() };
  }

  function paho(name, { transport = "tcp", clientId = `paho-${u()}`, clean = true, will } = {}) {
    const port = transport === "tcp" ? server.mqttPort : server.wsPort;
    return peer.call("connect", { name, port, transport, client_id: clientId, clean, will });
  }

  it("QoS 0, 1 and 2 both ways with paho over TCP and over websockets", async () => {
    const b = await openPage();
    try {
      assert.match(await b.page.evaluate(() => navigator.userAgent), /Chrome\//);
      const c = await b.t("connect", "b", wsUrl, { clientId: `browser-${u()}` });
      assert.equal(c.sessionPresent, false);
      for (const transport of ["tcp", "websockets"]) {
        await paho("p", { transport });
        for (const qos of [0, 1, 2]) {
          const down = `qos/${u()}/to/browser`;
          const up = `qos/${u()}/to/paho`;
          assert.deepEqual(await b.t("subscribe", "b", down, qos), [qos]);
          assert.deepEqual((await peer.call("subscribe", { name: "p", topic: up, qos })).granted, [qos]);

          await peer.call("publish", { name: "p", topic: down, payload: `p${qos}`, qos });
          const got = await b.t("next", "b");
          assert.deepEqual(got, { topic: down, payload: `p${qos}`, qos, retain: false }, transport);

          await b.t("publish", "b", up, `b${qos}`, qos);
          const back = await peer.call("next", { name: "p" });
          assert.deepEqual(back, { topic: up, payload: `b${qos}`, qos, retain: false }, transport);
        }
        await peer.call("disconnect", { name: "p" });
      }
      await b.t("end", "b");
    } finally {
      await b.close();
    }
  });

  it("a retained message reaches the browser on subscribe, with the retain flag", async () => {
    const topic = `retained/${u()}`;
    await paho("p");
    await peer.call("publish", { name: "p", topic: `${topic}/a`, payload: "kept", qos: 1, retain: true });
    const b = await openPage();
    try {
      await b.t("connect", "b", wsUrl, { clientId: `browser-${u()}` });
      assert.deepEqual(await b.t("subscribe", "b", `${topic}/#`, 1), [1]);
      const got = await b.t("next", "b");
      assert.deepEqual(got, { topic: `${topic}/a`, payload: "kept", qos: 1, retain: true });
      // A live message on the same subscription carries no retain flag.
      await peer.call("publish", { name: "p", topic: `${topic}/b`, payload: "live", qos: 1, retain: true });
      assert.deepEqual(await b.t("next", "b"), { topic: `${topic}/b`, payload: "live", qos: 1, retain: false });
      // The browser sets a retained message; a later paho subscriber gets it.
      await b.t("publish", "b", `${topic}/c`, "from-browser", 1, true);
      await b.t("end", "b");
    } finally {
      await b.close();
    }
    await peer.call("subscribe", { name: "p", topic: `${topic}/c`, qos: 1 });
    assert.deepEqual(await peer.call("next", { name: "p" }), {
      topic: `${topic}/c`,
      payload: "from-browser",
      qos: 1,
      retain: true,
    });
    // Clear what this test retained (an empty retained payload deletes it).
    for (const x of ["a", "b", "c"]) {
      await peer.call("publish", { name: "p", topic: `${topic}/${x}`, payload: "", qos: 1, retain: true });
    }
    await peer.call("disconnect", { name: "p" });
  });

  it("the browser's will: published when its tab goes away, not after a clean end", async () => {
    const topic = `will/${u()}`;
    await paho("p");
    assert.deepEqual((await peer.call("subscribe", { name: "p", topic, qos: 1 })).granted, [1]);

    const clean = await openPage();
    try {
      const will = { topic, payload: "clean-end", qos: 1, retain: false };
      await clean.t("connect", "b", wsUrl, { clientId: `browser-${u()}`, will });
      await clean.t("end", "b");
    } finally {
      await clean.close();
    }

    const abrupt = await openPage();
    const will = { topic, payload: "tab-closed", qos: 1, retain: false };
    await abrupt.t("connect", "b", wsUrl, { clientId: `browser-${u()}`, will });
    // The context goes away with its WebSocket: no DISCONNECT packet was sent.
    await abrupt.close();
    // Had the clean end published its will, "clean-end" would come first.
    assert.deepEqual(await peer.call("next", { name: "p" }), { topic, payload: "tab-closed", qos: 1, retain: false });
    await assert.rejects(peer.call("next", { name: "p", timeout: QUIET_S }), /no message/);
    await peer.call("disconnect", { name: "p" });
  });

  it("a paho client's will reaches the browser when its socket dies; a takeover drops the will", async () => {
    const topic = `will/${u()}`;
    const b = await openPage();
    try {
      await b.t("connect", "b", wsUrl, { clientId: `browser-${u()}` });
      assert.deepEqual(await b.t("subscribe", "b", topic, 2), [2]);
      // Taken over: Go clears the old connection's will before closing it (processConnect),
      // so "taken-over" is never published.
      const id = `taken-${u()}`;
      await paho("p", { clientId: id, will: { topic, payload: "taken-over", qos: 2, retain: false } });
      const second = await openPage();
      try {
        await second.t("connect", "x", wsUrl, { clientId: id });
        await peer.call("wait_disconnect", { name: "p" });
        await peer.call("disconnect", { name: "p" });
        await second.t("end", "x");
      } finally {
        await second.close();
      }
      // The socket shut down under paho: no DISCONNECT, so the will goes out.
      await paho("p", { will: { topic, payload: "socket-died", qos: 2, retain: false } });
      await peer.call("abort", { name: "p" });
      assert.deepEqual(await b.t("next", "b"), { topic, payload: "socket-died", qos: 2, retain: false });
      await b.t("end", "b");
    } finally {
      await b.close();
    }
  });

  it("session resume: clean=false keeps the subscription and what was published meanwhile", async () => {
    const clientId = `resume-${u()}`;
    const topic = `resume/${u()}`;
    const b = await openPage();
    try {
      assert.equal((await b.t("connect", "b", wsUrl, { clientId, clean: false })).sessionPresent, false);
      assert.deepEqual(await b.t("subscribe", "b", topic, 1), [1]);
      await b.t("end", "b");

      await paho("p");
      await peer.call("publish", { name: "p", topic, payload: "while-away", qos: 1 });

      // Same client id, not clean: the session is there, with its subscription, and the
      // QoS 1 message published while away is delivered without subscribing again.
      const again = await b.t("connect", "b", wsUrl, { clientId, clean: false });
      assert.equal(again.sessionPresent, true);
      assert.deepEqual(await b.t("next", "b"), { topic, payload: "while-away", qos: 1, retain: false });
      await peer.call("publish", { name: "p", topic, payload: "live", qos: 1 });
      assert.deepEqual(await b.t("next", "b"), { topic, payload: "live", qos: 1, retain: false });
      await b.t("end", "b");

      // A clean connect drops the session.
      const fresh = await b.t("connect", "b", wsUrl, { clientId, clean: true });
      assert.equal(fresh.sessionPresent, false);
      await b.t("end", "b");
      await peer.call("publish", { name: "p", topic, payload: "nobody", qos: 1 });
      const last = await b.t("connect", "b", wsUrl, { clientId, clean: false });
      assert.equal(last.sessionPresent, false);
      await assert.rejects(b.t("next", "b", QUIET_S * 1000), /no message/);
      await b.t("end", "b");
      await peer.call("disconnect", { name: "p" });
    } finally {
      await b.close();
    }
  });

  it("client-id takeover: the browser takes paho's id, then paho takes it back", async () => {
    const clientId = `takeover-${u()}`;
    const topic = `takeover/${u()}`;
    await paho("p1", { clientId });
    const b = await openPage();
    try {
      await b.t("connect", "b", wsUrl, { clientId });
      await peer.call("wait_disconnect", { name: "p1" });
      await peer.call("disconnect", { name: "p1" });
      // The browser's connection works.
      await b.t("subscribe", "b", topic, 1);
      await b.t("publish", "b", topic, "mine-now", 1);
      assert.deepEqual(await b.t("next", "b"), { topic, payload: "mine-now", qos: 1, retain: false });
      // And back: a paho client with the same id closes the browser's connection. Not
      // within a second of the first takeover: Go holds such a "flapping" client id for
      // mqttSessJailDur (1 s) and then closes the newcomer instead (so does nats-ws).
      await new Promise((r) => setTimeout(r, 1200));
      await paho("p2", { clientId, transport: "websockets" });
      assert.equal(await b.t("waitClosed", "b"), true);
      await peer.call("disconnect", { name: "p2" });
    } finally {
      await b.close();
    }
  });

  it("browser MQTT <-> NATS: topics map to subjects, MQTT publishes carry Nmqtt-Pub", async () => {
    const id = u();
    const b = await openPage();
    try {
      await b.t("connect", "b", wsUrl, { clientId: `browser-${id}` });
      await peer.call("nats_sub", { subject: `bnats.${id}.up` });
      await b.t("publish", "b", `bnats/${id}/up`, "to-nats", 1);
      const m = await peer.call("nats_next", { subject: `bnats.${id}.up` });
      assert.equal(m.payload, "to-nats");
      assert.equal(m.headers["Nmqtt-Pub"], "1");

      await b.t("subscribe", "b", `bnats/${id}/+`, 0);
      await peer.call("nats_pub", { subject: `bnats.${id}.down`, payload: "to-browser" });
      assert.deepEqual(await b.t("next", "b"), {
        topic: `bnats/${id}/down`,
        payload: "to-browser",
        qos: 0,
        retain: false,
      });
      await b.t("end", "b");
    } finally {
      await b.close();
    }
  });
});
