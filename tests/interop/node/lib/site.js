// The page's origin for the browser tests: a tiny static HTTP server on 127.0.0.1 that
// serves the test pages and the nats.ws and mqtt.js browser bundles, can set cookies, and forwards
// WebSocket upgrades byte for byte to nats-ws-server while reading both directions with a
// FrameTap (so the page can also reach the server from its own origin).
import http from "node:http";
import net from "node:net";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { once } from "node:events";
import { FrameTap } from "./frames.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const FILES = {
  "/": ["text/html", join(HERE, "../browser/page.html")],
  "/page.js": ["text/javascript", join(HERE, "../browser/page.js")],
  "/nats.js": ["text/javascript", join(HERE, "../node_modules/nats.ws/esm/nats.js")],
  "/mqtt.html": ["text/html", join(HERE, "../browser/mqtt.html")],
  "/mqtt_page.js": ["text/javascript", join(HERE, "../browser/mqtt_page.js")],
  "/mqtt.js": ["text/javascript", join(HERE, "../node_modules/mqtt/dist/mqtt.esm.js")],
};

export class Site {
  /** `cookies`: Set-Cookie values sent with the page; `upstreamPort`: the server's ws port. */
  static async start({ cookies = [], upstreamPort }) {
    const site = new Site();
    site.upgrades = [];
    site.sockets = new Set();
    site.server = http.createServer((req, res) => {
      const path = new URL(req.url, "http://x").pathname;
      const file = FILES[path];
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      const h = { "content-type": file[0], "cache-control": "no-store" };
      if (path === "/" && cookies.length) h["set-cookie"] = cookies;
      res.writeHead(200, h).end(readFileSync(file[1]));
    });
    site.server.on("connection", (s) => {
      site.sockets.add(s);
      s.on("close", () => site.sockets.delete(s));
    });
    site.server.on("upgrade", (req, client, head) => {
      const rec = {
        request: req.headers,
        toServer: new FrameTap({ http: false }),
        fromServer: new FrameTap({ http: true }),
      };
      site.upgrades.push(rec);
      const upstream = net.connect(upstreamPort, "127.0.0.1");
      site.sockets.add(upstream);
      upstream.on("close", () => site.sockets.delete(upstream));
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      }
      upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length) {
        rec.toServer.feed(head);
        upstream.write(head);
      }
      client.on("data", (d) => {
        rec.toServer.feed(d);
        upstream.write(d);
      });
      upstream.on("data", (d) => {
        rec.fromServer.feed(d);
        client.write(d);
      });
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
    });
    site.server.listen(0, "127.0.0.1");
    await once(site.server, "listening");
    site.port = site.server.address().port;
    return site;
  }

  url(host = "127.0.0.1") {
    return `http://${host}:${this.port}/`;
  }

  /** A ws:// URL that reaches the server through this site's own origin. */
  get wsUrl() {
    return `ws://127.0.0.1:${this.port}/`;
  }

  async stop() {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}
