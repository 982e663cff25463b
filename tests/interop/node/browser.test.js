// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) running
// nats.ws's browser build against nats-ws-server: browser framing with Chrome's own
// permessage-deflate, cookie authentication, and the origin policy with real Origin headers.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { NatsWsServer, startTcpPeer } from "./lib/server.js";
import { Site } from "./lib/site.js";

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
const FRAME_SIZE_FOR_BROWSERS = 4096;

describe("headless Chromium + nats.ws browser build", () => {
  let browser;
  const stops = [];
  before(async () => {
    // playwright-core gives each launch a fresh temporary --user-data-dir.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      timeout: 30_000,
    });
  });
  after(async () => {
    for (const s of stops.reverse()) await s();
    await browser?.close();
  });

  async function server(opts) {
    const s = await NatsWsServer.start(opts);
    stops.push(() => s.stop());
    return s;
  }

  async function site(opts) {
    const s = await Site.start(opts);
    stops.push(() => s.stop());
    return s;
  }

  /** Opens `pageUrl?ws=wsUrl&mode=mode` in a fresh context; returns the page's report. */
  async function visit(pageUrl, wsUrl, mode = "connect") {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const u = `${pageUrl}?ws=${encodeURIComponent(wsUrl)}&mode=${mode}`;
      await page.goto(u, { timeout: 10_000 });
      await page.waitForSelector("body[data-done]", { timeout: 20_000 });
      return JSON.parse(await page.textContent("#result"));
    } finally {
      await context.close();
    }
  }

  it("pub/sub and a 200 KiB message in ≤ 4096-byte compressed frames, with a nats-py TCP peer", async () => {
    const s = await server({ websocket: "no_tls: true\n  compression: true" });
    const peer = await startTcpPeer(s.tcpUrl);
    stops.push(() => peer.stop());
    const origin = await site({ upstreamPort: s.wsPort });
    // Through the page's own origin, so the test sees every byte both ways.
    const r = await visit(origin.url(), origin.wsUrl, "full");
    assert.equal(r.error, undefined, JSON.stringify(r));
    assert.match(r.userAgent, /^Mozilla\/5\.0 .*Chrome\//);
    assert.equal(r.echo, "hello");
    assert.equal(r.tcpEcho, "tcp:hi");
    assert.equal(r.bigLen, 200 * 1024);
    assert.equal(r.bigOk, true);

    assert.equal(origin.upgrades.length, 1);
    const up = origin.upgrades[0];
    assert.match(up.request["sec-websocket-extensions"] ?? "", /permessage-deflate/);
    assert.equal(up.fromServer.status(), 101);
    assert.match(up.fromServer.extensions() ?? "", /^permessage-deflate/);
    // Server → browser: no frame over 4096 payload bytes, compressed (RSV1 on the first
    // frame of a message), and the 200 KiB MSG needed ≥ 50 of them.
    const down = up.fromServer.frames.filter((f) => f.opcode !== 8);
    const tooBig = down.filter((f) => f.len > FRAME_SIZE_FOR_BROWSERS);
    assert.deepEqual(tooBig, [], "frames over 4096 bytes to a browser");
    assert.ok(down.some((f) => f.rsv1), "no compressed frame from the server");
    assert.ok(down.length >= 50, `only ${down.length} frames for 200 KiB`);
    // Browser → server: Chrome compressed its own frames, all masked.
    const upFrames = up.toServer.frames;
    assert.ok(upFrames.every((f) => f.masked), "unmasked client frame");
    assert.ok(upFrames.some((f) => f.rsv1), "Chrome sent no compressed frame");
  });

  it("cookie authentication: the page's origin sets user and password cookies", async () => {
    const s = await server({
      websocket: 'no_tls: true\n  user_cookie: "nuser"\n  pass_cookie: "npass"',
      extra: "authorization { user: alice, password: s3cret }",
    });
    const good = await site({
      upstreamPort: s.wsPort,
      cookies: ["nuser=alice; Path=/", "npass=s3cret; Path=/"],
    });
    // Straight to the server's port: the browser sends the 127.0.0.1 cookies there too.
    const ok = await visit(good.url(), s.wsUrl("ws"));
    assert.equal(ok.error, undefined, JSON.stringify(ok));
    assert.equal(ok.echo, "hello");

    const bad = await site({
      upstreamPort: s.wsPort,
      cookies: ["nuser=alice; Path=/", "npass=wrong; Path=/"],
    });
    const no = await visit(bad.url(), s.wsUrl("ws"));
    assert.equal(no.connected, undefined);
    assert.match(`${no.error} ${no.code}`, /authorization violation/i, JSON.stringify(no));

    const none = await site({ upstreamPort: s.wsPort });
    const anon = await visit(none.url(), s.wsUrl("ws"));
    assert.match(`${anon.error} ${anon.code}`, /authorization violation/i, JSON.stringify(anon));
  });

  it("same_origin: the page's own origin is accepted, another port is refused with 403", async () => {
    const s = await server({ websocket: "no_tls: true\n  same_origin: true" });
    const origin = await site({ upstreamPort: s.wsPort });
    const other = await site({ upstreamPort: s.wsPort });
    const ok = await visit(origin.url(), origin.wsUrl);
    assert.equal(ok.error, undefined, JSON.stringify(ok));
    assert.equal(ok.echo, "hello");
    assert.equal(origin.upgrades[0].request.origin, `http://127.0.0.1:${origin.port}`);

    const no = await visit(origin.url(), other.wsUrl);
    assert.equal(no.connected, undefined, JSON.stringify(no));
    assert.equal(other.upgrades.length, 1);
    assert.equal(other.upgrades[0].request.origin, `http://127.0.0.1:${origin.port}`);
    assert.equal(other.upgrades[0].fromServer.status(), 403);
  });

  it("allowed_origins: the listed origin is accepted, another host is refused with 403", async () => {
    const pages = await site({ upstreamPort: 1 });
    const s = await server({
      websocket: `no_tls: true\n  allowed_origins: ["http://127.0.0.1:${pages.port}"]`,
    });
    const gate = await site({ upstreamPort: s.wsPort });
    const ok = await visit(pages.url("127.0.0.1"), gate.wsUrl);
    assert.equal(ok.error, undefined, JSON.stringify(ok));
    assert.equal(ok.echo, "hello");

    const no = await visit(pages.url("localhost"), gate.wsUrl);
    assert.equal(no.connected, undefined, JSON.stringify(no));
    const last = gate.upgrades.at(-1);
    assert.equal(last.request.origin, `http://localhost:${pages.port}`);
    assert.equal(last.fromServer.status(), 403);
  });
});
