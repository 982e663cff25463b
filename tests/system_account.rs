//! The system account end to end: our server in process, async-nats (a third-party
//! client) as a system-account user over TCP and as account users over TCP and ws://.
//! Shapes and values are those the Go server 2.15.1 gives for the same requests.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use async_nats::{Client, Subscriber};
use futures_util::StreamExt;
use nats_ws::options::ServerOpts;
use nats_ws::server::{LogLevel, LogSink, Server, ServerHandle};
use serde_json::Value;
use tokio::time::timeout;

const T: Duration = Duration::from_secs(5);

const ACCOUNTS: &str = "server_name: sys-test\naccounts {\n  $SYS { users = [{user: sys, password: sys}] }\n  A { users = [{user: a, password: a}] }\n}\n";

fn opts(extra: &str) -> ServerOpts {
    let text = format!(
        "host: 127.0.0.1\nport: -1\n{extra}\nwebsocket {{ host: 127.0.0.1, port: -1, no_tls: true }}\n"
    );
    ServerOpts::from_str(&text, Path::new("."))
        .expect("config")
        .opts
}

async fn start(extra: &str) -> ServerHandle {
    let sink: LogSink = std::sync::Arc::new(|level: LogLevel, line: &str| {
        eprintln!("[server {level:?}] {line}");
    });
    Server::start(opts(extra), sink).await.expect("start")
}

/// Connects as `user` (whose password is the user name).
async fn connect(url: String, user: &str, name: &str) -> Client {
    connect_as(url, user, user, name).await
}

async fn connect_as(url: String, user: &str, password: &str, name: &str) -> Client {
    let c = async_nats::ConnectOptions::with_user_and_password(user.into(), password.into())
        .name(name)
        .connection_timeout(T)
        .connect(url)
        .await
        .expect("connect");
    c.flush().await.expect("flush");
    c
}

async fn tcp(s: &ServerHandle, user: &str) -> Client {
    connect(format!("nats://{}", s.client_addr()), user, user).await
}

async fn request(c: &Client, subject: &str, body: &str) -> Value {
    let m = timeout(T, c.request(subject.to_owned(), body.to_owned().into()))
        .await
        .expect("answer in time")
        .expect("answer");
    parse(&m.payload)
}

async fn next(sub: &mut Subscriber) -> Value {
    let m = timeout(T, sub.next())
        .await
        .expect("in time")
        .expect("open");
    parse(&m.payload)
}

/// The parsed answer, its raw text under `_raw` (for the key order).
fn parse(payload: &[u8]) -> Value {
    let mut v: Value = serde_json::from_slice(payload).expect("json");
    let raw = String::from_utf8_lossy(payload).into_owned();
    v.as_object_mut()
        .expect("object")
        .insert("_raw".to_owned(), Value::String(raw));
    v
}

/// A JSON document's object keys in the order they were written (serde_json's `Value`
/// sorts them), to compare with Go's field order.
#[derive(Debug)]
enum Shape {
    Object(Vec<(String, Shape)>),
    Other,
}

impl<'de> serde::Deserialize<'de> for Shape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Shape, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Shape;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Shape, A::Error> {
                let mut v = Vec::new();
                while let Some((k, s)) = m.next_entry::<String, Shape>()? {
                    v.push((k, s));
                }
                Ok(Shape::Object(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Shape, A::Error> {
                while s.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Shape::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_unit<E>(self) -> Result<Shape, E> {
                Ok(Shape::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// The keys, in written order, of the object at `path` in `v` (kept as raw text).
fn keys(v: &Value, path: &[&str]) -> Vec<String> {
    let Some(Value::String(raw)) = v.get("_raw") else {
        panic!("no raw text");
    };
    let mut shape: Shape = serde_json::from_str(raw).expect("json");
    for p in path {
        let Shape::Object(fields) = shape else {
            panic!("not an object at {p}");
        };
        shape = fields
            .into_iter()
            .find(|(k, _)| k == p)
            .map(|(_, s)| s)
            .expect("path");
    }
    match shape {
        Shape::Object(fields) => fields.into_iter().map(|(k, _)| k).collect(),
        Shape::Other => panic!("not an object"),
    }
}

/// Go's `ServerInfo` keys, in order.
const SERVER_KEYS: &[&str] = &[
    "name",
    "host",
    "id",
    "ver",
    "feature_flags",
    "jetstream",
    "flags",
    "seq",
    "time",
];

#[tokio::test]
async fn server_requests_answer_with_gos_envelope() {
    let s = start(ACCOUNTS).await;
    let sys = tcp(&s, "sys").await;
    let a = tcp(&s, "a").await;
    let id = sys.server_info().server_id;

    // IDZ has no envelope.
    let idz = request(&sys, "$SYS.REQ.SERVER.PING.IDZ", "").await;
    assert_eq!(keys(&idz, &[]), ["name", "host", "id"]);
    assert_eq!(idz["id"], id.as_str());
    assert_eq!(idz["name"], "sys-test");
    assert_eq!(idz["host"], "127.0.0.1");

    // STATSZ: the bare PING and the named service, and the server's own subject.
    let st = request(&sys, "$SYS.REQ.SERVER.PING", "").await;
    assert_eq!(keys(&st, &[]), ["server", "statsz"]);
    assert_eq!(keys(&st, &["server"]), SERVER_KEYS);
    assert_eq!(st["statsz"]["connections"], 2);
    assert_eq!(st["statsz"]["active_accounts"], 2);
    assert_eq!(st["statsz"]["active_servers"], 1);
    let seq1 = st["server"]["seq"].as_u64().unwrap();
    let st = request(&sys, &format!("$SYS.REQ.SERVER.{id}.STATSZ"), "").await;
    assert!(st["server"]["seq"].as_u64().unwrap() > seq1, "seq moves on");

    // VARZ data is /varz, with the system account.
    let v = request(&sys, "$SYS.REQ.SERVER.PING.VARZ", "").await;
    assert_eq!(keys(&v, &[]), ["server", "data"]);
    assert_eq!(v["data"]["server_id"], id.as_str());
    assert_eq!(v["data"]["system_account"], "$SYS");

    // CONNZ reads Go's ConnzOptions from the body.
    let c = request(&sys, "$SYS.REQ.SERVER.PING.CONNZ", r#"{"limit":1}"#).await;
    assert_eq!(c["data"]["limit"], 1);
    assert_eq!(c["data"]["num_connections"], 1);
    assert_eq!(c["data"]["total"], 2);
    // Bad JSON: status 400 and no data.
    let e = request(&sys, "$SYS.REQ.SERVER.PING.CONNZ", "{bad").await;
    assert_eq!(keys(&e, &[]), ["server", "error"]);
    assert_eq!(e["error"]["code"], 400);
    // A filter for another server: no answer at all (the request times out).
    let other = timeout(
        Duration::from_millis(300),
        sys.request(
            "$SYS.REQ.SERVER.PING.VARZ",
            r#"{"server_name":"elsewhere"}"#.into(),
        ),
    )
    .await;
    assert!(
        other.is_err() || other.unwrap().is_err(),
        "filtered out, no answer"
    );

    let h = request(&sys, "$SYS.REQ.SERVER.PING.HEALTHZ", "").await;
    assert_eq!(
        h["data"],
        serde_json::json!({"status": "ok", "status_code": 200})
    );
    let acc = request(&sys, "$SYS.REQ.SERVER.PING.ACCOUNTZ", "").await;
    assert_eq!(
        keys(&acc, &["data"]),
        ["server_id", "now", "system_account", "accounts"]
    );
    assert_eq!(
        acc["data"]["accounts"],
        serde_json::json!(["$G", "$SYS", "A"])
    );
    let j = request(&sys, "$SYS.REQ.ACCOUNT.A.JSZ", "").await;
    assert_eq!(keys(&j, &[]), ["server", "data", "error"]);
    assert_eq!(j["data"], Value::Null);
    assert_eq!(j["error"]["description"], "jetstream not enabled");

    let u = request(&sys, "$SYS.REQ.USER.INFO", "").await;
    assert_eq!(
        u["data"],
        serde_json::json!({"user": "sys", "account": "$SYS", "account_name": "$SYS"})
    );

    // Services Go does not have (or this server does not serve) have no responders.
    let none = sys.request("$SYS.REQ.SERVER.PING.NOSUCHZ", "".into()).await;
    assert!(none.is_err());
    drop(a);
    s.shutdown().await;
}

#[tokio::test]
async fn account_requests_see_one_account() {
    let s = start(ACCOUNTS).await;
    let sys = tcp(&s, "sys").await;
    let a = tcp(&s, "a").await;
    let _sub = a.subscribe("foo").await.unwrap();
    a.publish("foo", "hello".into()).await.unwrap();
    a.flush().await.unwrap();

    let c = request(&sys, "$SYS.REQ.ACCOUNT.A.CONNZ", "").await;
    assert_eq!(c["data"]["num_connections"], 1);
    assert_eq!(c["data"]["connections"][0]["name"], "a");

    let conns = request(&sys, "$SYS.REQ.ACCOUNT.A.CONNS", "").await;
    assert_eq!(
        keys(&conns, &[]),
        [
            "type",
            "id",
            "timestamp",
            "server",
            "acc",
            "name",
            "conns",
            "leafnodes",
            "total_conns",
            "num_subscriptions",
            "sent",
            "received",
            "slow_consumers"
        ]
    );
    assert_eq!(
        conns["type"],
        "io.nats.server.advisory.v1.account_connections"
    );
    assert_eq!(conns["conns"], 1);
    // Its subscription and the 4 services Go imports into every account.
    assert_eq!(conns["num_subscriptions"], 5);
    assert_eq!(conns["received"]["msgs"], 1);
    assert_eq!(conns["received"]["bytes"], 5);
    assert_eq!(conns["sent"]["msgs"], 1);

    let st = request(&sys, "$SYS.REQ.ACCOUNT.PING.STATZ", r#"{"accounts":["A"]}"#).await;
    let list = st["data"]["account_statz"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["acc"], "A");

    // An account user is not in the system account: nobody answers it there, except the
    // services Go imports into every account, about that account only.
    assert!(
        a.request("$SYS.REQ.SERVER.PING.IDZ", "".into())
            .await
            .is_err()
    );
    let u = request(&a, "$SYS.REQ.USER.INFO", "").await;
    assert_eq!(
        u["data"],
        serde_json::json!({"user": "a", "account": "A", "account_name": "A"})
    );
    for subject in ["$SYS.REQ.SERVER.PING.CONNZ", "$SYS.REQ.ACCOUNT.PING.CONNZ"] {
        let c = request(&a, subject, "").await;
        assert_eq!(c["data"]["num_connections"], 1, "{subject}");
        assert_eq!(c["data"]["connections"][0]["name"], "a");
    }
    let st = request(&a, "$SYS.REQ.ACCOUNT.PING.STATZ", "").await;
    assert_eq!(st["data"]["account_statz"][0]["acc"], "A");
    s.shutdown().await;
}

#[tokio::test]
async fn connect_and_disconnect_advisories() {
    let s = start(ACCOUNTS).await;
    let sys = tcp(&s, "sys").await;
    let mut connect = sys.subscribe("$SYS.ACCOUNT.A.CONNECT").await.unwrap();
    let mut disconnect = sys.subscribe("$SYS.ACCOUNT.A.DISCONNECT").await.unwrap();
    let mut counts = sys.subscribe("$SYS.ACCOUNT.A.SERVER.CONNS").await.unwrap();
    sys.flush().await.unwrap();

    let url = format!("ws://{}", s.ws_addr().unwrap());
    let a = connect_ws(url).await;
    let c = next(&mut connect).await;
    assert_eq!(
        keys(&c, &[]),
        ["type", "id", "timestamp", "server", "client"]
    );
    assert_eq!(c["type"], "io.nats.server.advisory.v1.client_connect");
    assert_eq!(c["id"].as_str().unwrap().len(), 22);
    assert_eq!(c["client"]["acc"], "A");
    assert_eq!(c["client"]["user"], "a");
    assert_eq!(c["client"]["name"], "ws-a");
    assert_eq!(c["client"]["kind"], "Client");
    assert_eq!(c["client"]["client_type"], "websocket");
    assert_eq!(next(&mut counts).await["conns"], 1);

    a.publish("x", "12345".into()).await.unwrap();
    a.flush().await.unwrap();
    drop(a);
    let d = next(&mut disconnect).await;
    assert_eq!(
        keys(&d, &[]),
        [
            "type",
            "id",
            "timestamp",
            "server",
            "client",
            "sent",
            "received",
            "reason"
        ]
    );
    assert_eq!(d["reason"], "Client Closed");
    assert_eq!(d["sent"], serde_json::json!({"msgs": 1, "bytes": 5}));
    assert!(d["client"]["stop"].is_string());
    assert_eq!(next(&mut counts).await["conns"], 0);
    s.shutdown().await;
}

async fn connect_ws(url: String) -> Client {
    connect(url, "a", "ws-a").await
}

#[tokio::test]
async fn statsz_is_broadcast_on_a_timer_and_on_request() {
    let s = start(ACCOUNTS).await;
    let sys = tcp(&s, "sys").await;
    let id = sys.server_info().server_id;
    let mut sub = sys
        .subscribe(format!("$SYS.SERVER.{id}.STATSZ"))
        .await
        .unwrap();
    sys.flush().await.unwrap();
    let started = Instant::now();
    let first = next(&mut sub).await;
    assert_eq!(keys(&first, &[]), ["server", "statsz"]);
    // Go's timer: 250 ms, then doubling; the first few come within 4 s of the start.
    let second = next(&mut sub).await;
    assert!(
        second["server"]["seq"].as_u64() > first["server"]["seq"].as_u64(),
        "{second}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // A PING without a reply asks for a broadcast now (Go: statszReq resets the rate
    // limit), well before the timer's next one (a second or more away by now).
    sys.publish("$SYS.REQ.SERVER.PING", "".into())
        .await
        .unwrap();
    sys.flush().await.unwrap();
    let third = timeout(Duration::from_millis(400), sub.next())
        .await
        .expect("broadcast on request")
        .expect("open");
    assert_eq!(parse(&third.payload)["statsz"]["connections"], 1);
    s.shutdown().await;
}

#[tokio::test]
async fn no_system_account_and_named_system_account() {
    // no_system_account: nobody answers, and /varz has no system account.
    let s = start(&format!("{ACCOUNTS}no_system_account: true\n")).await;
    let sys = tcp(&s, "sys").await;
    assert!(
        sys.request("$SYS.REQ.SERVER.PING.IDZ", "".into())
            .await
            .is_err()
    );
    s.shutdown().await;

    // system_account names a configured account: its users get the services.
    let conf = "accounts { OPS { users = [{user: ops, password: ops}] } }\nsystem_account: OPS\n";
    let s = start(conf).await;
    let ops = tcp(&s, "ops").await;
    let acc = request(&ops, "$SYS.REQ.SERVER.PING.ACCOUNTZ", "").await;
    assert_eq!(acc["data"]["system_account"], "OPS");
    let u = request(&ops, "$SYS.REQ.USER.INFO", "").await;
    assert_eq!(u["data"]["account"], "OPS");
    s.shutdown().await;

    // An account the configuration does not define: Go's startup error.
    let err = Server::start(opts("system_account: NOPE\n"), nats_ws::server::null_sink())
        .await
        .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "error resolving system account: account missing"
    );
}

#[tokio::test]
async fn only_a_system_account_leaves_global_open_and_failed_logins_are_reported() {
    // Go: with the system account the only configured account, clients without
    // credentials connect to $G.
    let conf = "accounts { $SYS { users [{user: \"admin\", password: \"pwd\"}] } }\n";
    let s = start(conf).await;
    let sys = connect_as(
        format!("nats://{}", s.client_addr()),
        "admin",
        "pwd",
        "admin",
    )
    .await;
    let id = sys.server_info().server_id;
    let mut auth_err = sys
        .subscribe(format!("$SYS.SERVER.{id}.CLIENT.AUTH.ERR"))
        .await
        .unwrap();
    let mut g_disconnect = sys.subscribe("$SYS.ACCOUNT.$G.DISCONNECT").await.unwrap();
    let mut g_connect = sys.subscribe("$SYS.ACCOUNT.$G.CONNECT").await.unwrap();
    sys.flush().await.unwrap();

    let anon = async_nats::connect(format!("nats://{}", s.client_addr()))
        .await
        .expect("no credentials: $G");
    let c = next(&mut g_connect).await;
    assert_eq!(c["client"]["acc"], "$G");
    let u = request(&anon, "$SYS.REQ.USER.INFO", "").await;
    assert_eq!(u["data"]["account"], "$G");
    drop(anon);
    assert_eq!(next(&mut g_disconnect).await["reason"], "Client Closed");

    // A wrong password: Go's auth error event, then the disconnect in $G.
    let bad = async_nats::ConnectOptions::with_user_and_password("admin".into(), "wrong".into())
        .retry_on_initial_connect()
        .max_reconnects(1)
        .connect(format!("nats://{}", s.client_addr()));
    let _ = timeout(Duration::from_millis(500), bad).await;
    let e = next(&mut auth_err).await;
    assert_eq!(e["type"], "io.nats.server.advisory.v1.client_disconnect");
    assert_eq!(e["reason"], "Authentication Failure");
    assert_eq!(e["client"]["acc"], "$G");
    assert_eq!(
        e["client"]["user"], "admin",
        "the CONNECT's user, as Go reports it"
    );
    assert_eq!(
        next(&mut g_disconnect).await["reason"],
        "Authentication Failure"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn user_info_shows_permissions_as_go() {
    let conf = r#"accounts {
  A { users [
    {user: p, password: p, permissions: {publish: {allow: ["foo", "$SYS.>"], deny: ["bar"]}, subscribe: {allow: [">"]}, allow_responses: true}}
    {user: r, password: r, permissions: {subscribe: {deny: ["x"]}}}
  ] }
}
"#;
    let s = start(conf).await;
    // The answers of Go 2.15.1 for the same users, byte for byte.
    let p = tcp(&s, "p").await;
    let m = p
        .request("$SYS.REQ.USER.INFO", "".into())
        .await
        .expect("answer");
    let text = String::from_utf8_lossy(&m.payload).into_owned();
    assert!(
        text.ends_with(r#""data":{"user":"p","account":"A","account_name":"A","permissions":{"publish":{"allow":["foo","$SYS.\u003e"],"deny":["bar"]},"subscribe":{"allow":["\u003e"]},"responses":{"max":1,"ttl":120000000000}}}}"#),
        "{text}"
    );
    let r = tcp(&s, "r").await;
    let m = r
        .request("$SYS.REQ.USER.INFO", "".into())
        .await
        .expect("answer");
    let text = String::from_utf8_lossy(&m.payload).into_owned();
    assert!(
        text.ends_with(r#""data":{"user":"r","account":"A","account_name":"A","permissions":{"publish":{},"subscribe":{"deny":["x"]}}}}"#),
        "{text}"
    );
    s.shutdown().await;
}
