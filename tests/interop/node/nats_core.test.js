// @nats-io/nats-core 3.4.0 `wsconnect` (Node 20, the `ws` package as WebSocket).
import { wsconnect, headers } from "@nats-io/nats-core";
import { clientSuite } from "./lib/suite.js";

clientSuite("@nats-io/nats-core", { connect: wsconnect, headers });
