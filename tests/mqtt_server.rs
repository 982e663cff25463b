//! MQTT served end to end: our server in process, MQTT packets written by hand here (not
//! by our writer) over TCP and ws:// (tokio-tungstenite), async-nats on the NATS side.
//! The bytes expected are those the Go server 2.15.1 sends for the same exchanges.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use nats_ws::server::{ConnType, ServerHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[path = "support/inproc.rs"]
mod inproc;
#[path = "support/tls.rs"]
mod tls;

const T: Duration = Duration::from_secs(5);

async fn start(extra: &str) -> ServerHandle {
    inproc::start(&format!(
        "host: 127.0.0.1\nport: -1\nwebsocket {{ host: 127.0.0.1, port: -1, no_tls: true }}\n{extra}\n"
    ))
    .await
}

const MQTT: &str = "mqtt { host: 127.0.0.1, port: -1 }";

fn remaining_length(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut b = (n & 0x7f) as u8;
        n >>= 7;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            return out;
        }
    }
}

fn string(s: &[u8]) -> Vec<u8> {
    let mut v = u16::try_from(s.len()).unwrap().to_be_bytes().to_vec();
    v.extend_from_slice(s);
    v
}

fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![first];
    p.extend(remaining_length(body.len()));
    p.extend_from_slice(body);
    p
}

/// CONNECT, protocol level 4, clean session, keep-alive 30s.
fn connect(client_id: &str, user: Option<(&str, &str)>) -> Vec<u8> {
    let mut flags = 0x02;
    if user.is_some() {
        flags |= 0xc0;
    }
    let mut body = string(b"MQTT");
    body.extend([4, flags, 0, 30]);
    body.extend(string(client_id.as_bytes()));
    if let Some((u, p)) = user {
        body.extend(string(u.as_bytes()));
        body.extend(string(p.as_bytes()));
    }
    packet(0x10, &body)
}

fn subscribe(pi: u16, filter: &str, qos: u8) -> Vec<u8> {
    let mut body = pi.to_be_bytes().to_vec();
    body.extend(string(filter.as_bytes()));
    body.push(qos);
    packet(0x82, &body)
}

fn publish(topic: &str, payload: &[u8], qos: u8, pi: u16) -> Vec<u8> {
    let mut body = string(topic.as_bytes());
    if qos > 0 {
        body.extend(pi.to_be_bytes());
    }
    body.extend_from_slice(payload);
    packet(0x30 | (qos << 1), &body)
}

/// Reads exactly `n` bytes.
async fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    timeout(T, s.read_exact(&mut buf))
        .await
        .expect("in time")
        .expect("read");
    buf
}

async fn mqtt_tcp(server: &ServerHandle, client_id: &str) -> TcpStream {
    let mut s = TcpStream::connect(server.mqtt_addr().expect("mqtt port"))
        .await
        .unwrap();
    s.write_all(&connect(client_id, None)).await.unwrap();
    assert_eq!(read_n(&mut s, 4).await, [0x20, 0x02, 0x00, 0x00], "CONNACK");
    s
}

async fn nats(server: &ServerHandle) -> async_nats::Client {
    let c = async_nats::ConnectOptions::new()
        .connection_timeout(T)
        .connect(format!("nats://{}", server.client_addr()))
        .await
        .expect("connect");
    c.flush().await.unwrap();
    c
}

#[tokio::test]
async fn nats_and_mqtt_exchange_over_tcp() {
    let server = start(MQTT).await;
    let mut m = mqtt_tcp(&server, "c1").await;
    m.write_all(&subscribe(1, "foo/bar", 1)).await.unwrap();
    assert_eq!(
        read_n(&mut m, 5).await,
        [0x90, 0x03, 0x00, 0x01, 0x01],
        "SUBACK"
    );

    // NATS → MQTT: delivered at QoS 0, topic from the subject.
    let n = nats(&server).await;
    let mut sub = n.subscribe("foo.>").await.unwrap();
    n.flush().await.unwrap();
    n.publish("foo.bar", "hello".into()).await.unwrap();
    n.flush().await.unwrap();
    let want = publish("foo/bar", b"hello", 0, 0);
    assert_eq!(read_n(&mut m, want.len()).await, want);
    let got = timeout(T, sub.next()).await.unwrap().unwrap();
    assert_eq!(got.payload.as_ref(), b"hello");

    // MQTT → NATS: with Go's `Nmqtt-Pub` header; the publisher gets its own copy
    // (QoS 1, the server's packet identifier) before its PUBACK.
    m.write_all(&publish("foo/bar", b"from-mqtt", 1, 7))
        .await
        .unwrap();
    let got = timeout(T, sub.next()).await.unwrap().unwrap();
    assert_eq!(got.subject.as_str(), "foo.bar");
    assert_eq!(got.payload.as_ref(), b"from-mqtt");
    let h = got.headers.expect("headers");
    assert_eq!(h.get("Nmqtt-Pub").map(|v| v.as_str()), Some("1"));
    let own = publish("foo/bar", b"from-mqtt", 1, 1);
    assert_eq!(read_n(&mut m, own.len()).await, own);
    assert_eq!(read_n(&mut m, 4).await, [0x40, 0x02, 0x00, 0x07], "PUBACK");

    let types: Vec<ConnType> = server.connz().into_iter().map(|c| c.kind).collect();
    assert!(types.contains(&ConnType::Mqtt), "{types:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn takeover_closes_the_old_connection() {
    let server = start(MQTT).await;
    let mut old = mqtt_tcp(&server, "same").await;
    let _new = mqtt_tcp(&server, "same").await;
    let mut rest = Vec::new();
    let n = timeout(T, old.read_to_end(&mut rest))
        .await
        .expect("closed in time")
        .unwrap_or(0);
    assert_eq!(n, 0, "nothing more for the old connection: {rest:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn users_and_connection_types() {
    let server = start(&format!(
        "authorization {{ users: [\n  {{user: m, password: pw, allowed_connection_types: [MQTT]}}\n  {{user: w, password: pw, allowed_connection_types: [MQTT_WS]}}\n] }}\n{MQTT}"
    ))
    .await;
    let addr = server.mqtt_addr().unwrap();
    // Allowed on this listener.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&connect("a", Some(("m", "pw")))).await.unwrap();
    assert_eq!(read_n(&mut s, 4).await, [0x20, 0x02, 0x00, 0x00]);
    // Wrong password, and a user allowed on MQTT_WS only: CONNACK 0x05, then closed.
    for (user, pass) in [("m", "bad"), ("w", "pw")] {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&connect("b", Some((user, pass))))
            .await
            .unwrap();
        let mut all = Vec::new();
        timeout(T, s.read_to_end(&mut all)).await.unwrap().unwrap();
        assert_eq!(all, [0x20, 0x02, 0x00, 0x05], "{user}/{pass}");
    }
    // MQTT_WS over the websocket port's /mqtt.
    let mut ws = ws_mqtt(&server).await;
    ws.send(Message::binary(connect("c", Some(("w", "pw")))))
        .await
        .unwrap();
    let m = timeout(T, ws.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(m.into_data().as_ref(), [0x20, 0x02, 0x00, 0x00]);
    server.shutdown().await;
}

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

async fn ws_mqtt(server: &ServerHandle) -> Ws {
    let addr = server.ws_addr().unwrap();
    let mut req = format!("ws://{addr}/mqtt").into_client_request().unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "mqtt".parse().unwrap());
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (ws, resp) = tokio_tungstenite::client_async(req, tcp)
        .await
        .expect("upgrade");
    assert_eq!(
        resp.headers()
            .get("Sec-WebSocket-Protocol")
            .map(|v| v.to_str().unwrap()),
        Some("mqtt")
    );
    ws
}

#[tokio::test]
async fn websocket_to_tcp() {
    let server = start(MQTT).await;
    let mut ws = ws_mqtt(&server).await;
    ws.send(Message::binary(connect("ws", None))).await.unwrap();
    let m = timeout(T, ws.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(m.into_data().as_ref(), [0x20, 0x02, 0x00, 0x00]);
    ws.send(Message::binary(subscribe(1, "a/+", 0)))
        .await
        .unwrap();
    let m = timeout(T, ws.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(m.into_data().as_ref(), [0x90, 0x03, 0x00, 0x01, 0x00]);
    let mut tcp = mqtt_tcp(&server, "tcp").await;
    tcp.write_all(&publish("a/b", b"x", 0, 0)).await.unwrap();
    let m = timeout(T, ws.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(m.into_data().as_ref(), publish("a/b", b"x", 0, 0));
    let types: Vec<ConnType> = server.connz().into_iter().map(|c| c.kind).collect();
    assert!(types.contains(&ConnType::MqttWebsocket), "{types:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn tls_listener() {
    use std::io::{Read, Write};
    let dir = std::env::temp_dir().join(format!("nats-ws-mqtt-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pem = tls::self_signed(&dir);
    let server = start(&format!(
        "mqtt {{ host: 127.0.0.1, port: -1, tls {{ cert_file: \"{0}/cert.pem\", key_file: \"{0}/key.pem\" }} }}",
        dir.display()
    ))
    .await;
    let addr = server.mqtt_addr().unwrap();
    // A blocking client on its own thread: the server runs on this runtime.
    let got = tokio::task::spawn_blocking(move || {
        let mut tls = tls::connect(addr, &pem);
        tls.write_all(&connect("tls", None)).unwrap();
        let mut connack = [0u8; 4];
        tls.read_exact(&mut connack).unwrap();
        connack
    })
    .await
    .unwrap();
    assert_eq!(got, [0x20, 0x02, 0x00, 0x00]);
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Reads what arrives until the server closes the connection.
async fn until_closed(s: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    timeout(T, s.read_to_end(&mut all))
        .await
        .expect("closed in time")
        .unwrap();
    all
}

#[tokio::test]
async fn token_in_password() {
    let server = start("mqtt { host: 127.0.0.1, port: -1, authorization { token: tok } }").await;
    let addr = server.mqtt_addr().unwrap();
    let mut ok = TcpStream::connect(addr).await.unwrap();
    ok.write_all(&connect("t1", Some(("any", "tok"))))
        .await
        .unwrap();
    assert_eq!(read_n(&mut ok, 4).await, [0x20, 0x02, 0x00, 0x00]);
    let mut bad = TcpStream::connect(addr).await.unwrap();
    bad.write_all(&connect("t2", Some(("any", "nope"))))
        .await
        .unwrap();
    assert_eq!(until_closed(&mut bad).await, [0x20, 0x02, 0x00, 0x05]);
    let mut none = TcpStream::connect(addr).await.unwrap();
    none.write_all(&connect("t3", None)).await.unwrap();
    assert_eq!(until_closed(&mut none).await, [0x20, 0x02, 0x00, 0x05]);
    server.shutdown().await;
}

#[tokio::test]
async fn no_auth_user_account_and_permissions() {
    let server = start(
        "accounts {\n  A { users [ {user: a, password: a, permissions: {publish: {deny: \"secret.>\"}}} ] }\n}\n\
         mqtt { host: 127.0.0.1, port: -1, no_auth_user: a }",
    )
    .await;
    // A NATS client of account A, and one of the global account.
    let in_a = async_nats::ConnectOptions::with_user_and_password("a".into(), "a".into())
        .connect(format!("nats://{}", server.client_addr()))
        .await
        .unwrap();
    let mut sub_a = in_a.subscribe(">").await.unwrap();
    in_a.flush().await.unwrap();
    // An MQTT client without credentials becomes `a` (account A).
    let mut m = mqtt_tcp(&server, "anon").await;
    m.write_all(&publish("secret/x", b"no", 0, 0))
        .await
        .unwrap();
    m.write_all(&publish("open/x", b"yes", 0, 0)).await.unwrap();
    let got = timeout(T, sub_a.next()).await.unwrap().unwrap();
    assert_eq!(
        (got.subject.as_str(), got.payload.as_ref()),
        ("open.x", b"yes".as_ref()),
        "the denied publish is dropped, the next one arrives in account A"
    );
    let info = server
        .connz()
        .into_iter()
        .find(|c| c.kind == ConnType::Mqtt)
        .unwrap();
    assert_eq!(info.account.as_deref(), Some("A"));
    assert_eq!(info.user.as_deref(), Some("a"));
    server.shutdown().await;
}

#[tokio::test]
async fn ack_wait_redelivers_with_dup_and_keep_alive_closes() {
    let server = start("mqtt { host: 127.0.0.1, port: -1, ack_wait: \"200ms\" }").await;
    let mut sub = mqtt_tcp(&server, "slow").await;
    sub.write_all(&subscribe(1, "r", 1)).await.unwrap();
    assert_eq!(read_n(&mut sub, 5).await, [0x90, 0x03, 0x00, 0x01, 0x01]);
    let mut publisher = mqtt_tcp(&server, "p").await;
    publisher
        .write_all(&publish("r", b"m", 1, 9))
        .await
        .unwrap();
    assert_eq!(read_n(&mut publisher, 4).await, [0x40, 0x02, 0x00, 0x09]);
    let first = publish("r", b"m", 1, 1);
    assert_eq!(read_n(&mut sub, first.len()).await, first);
    // Not acknowledged: sent again after ack_wait, DUP set, same packet identifier.
    let mut again = first.clone();
    again[0] |= 0x08;
    assert_eq!(read_n(&mut sub, again.len()).await, again);
    sub.write_all(&[0x40, 0x02, 0x00, 0x01]).await.unwrap();

    // Keep-alive 1s: closed after Go's read deadline without a packet, 1.5 x 1s truncated to
    // whole seconds (`time.Duration(float64(ka)*1.5) * time.Second`): 1s.
    let mut idle = TcpStream::connect(server.mqtt_addr().unwrap())
        .await
        .unwrap();
    let mut c = connect("idle", None);
    c[11] = 1; // keep-alive low byte (after "MQTT", level, flags, high byte)
    c[10] = 0;
    idle.write_all(&c).await.unwrap();
    assert_eq!(read_n(&mut idle, 4).await, [0x20, 0x02, 0x00, 0x00]);
    let started = std::time::Instant::now();
    assert_eq!(until_closed(&mut idle).await, Vec::<u8>::new());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(950) && waited < Duration::from_millis(2500),
        "{waited:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn flapping_client_id_is_jailed() {
    let server = start(MQTT).await;
    let _a = mqtt_tcp(&server, "flap").await;
    let _b = mqtt_tcp(&server, "flap").await;
    // A third CONNECT with the id taken over a moment ago: held, nothing sent, then closed
    // (Go: mqttSessJailDur, 1s).
    let mut c = TcpStream::connect(server.mqtt_addr().unwrap())
        .await
        .unwrap();
    c.write_all(&connect("flap", None)).await.unwrap();
    let started = std::time::Instant::now();
    assert_eq!(until_closed(&mut c).await, Vec::<u8>::new());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_millis(2500),
        "{waited:?}"
    );
    server.shutdown().await;
}
