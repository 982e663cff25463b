// nats.ws 1.30.3 (Node 20, the `ws` package as WebSocket) against nats-ws-server.
import { connect, headers } from "nats.ws";
import { clientSuite } from "./lib/suite.js";

clientSuite("nats.ws", { connect, headers });
