//! Leafnodes in operator (JWT) mode, our server as the HUB: the operator JWT is trusted,
//! the account JWT is preloaded in a memory resolver, and the Go server v2.15.1 is the
//! leaf, soliciting with `credentials: "<file>.creds"` (the user JWT and its seed, in
//! Go's format) over TCP and over ws://. The leaf binds to the user's account, messages
//! cross both ways, and a user JWT whose `allowed_connection_types` lacks the leaf's
//! connection type is refused: the Go hub's log line, with the reason we add to it
//! (docs/CONFORMANCE.md row 20). The reverse too: our server as the leaf with
//! `credentials`, soliciting the Go server as the operator-mode hub.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "support/process.rs"]
mod process;

#[path = "support/go_peer.rs"]
mod go_peer;

#[path = "support/leaf.rs"]
mod leaf;

use std::path::{Path, PathBuf};

use async_nats::{Client, ConnectOptions};
use leaf::{
    Dir, GoServer, Listeners, connect, connect_with, crossing, go_leaf, hub_conf, leaf_conf, leafs,
    ours, wait_line,
};
use nats_ws::auth::jwt;
use nats_ws::server::ServerHandle;
use nkeys::KeyPair;
use serde_json::{Map, Value, json};
use tokio::time::sleep;

const ISSUED_AT: i64 = 1_700_000_000;

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// An operator, one account and its user: fresh keys, JWTs signed in the test.
struct Trust {
    operator_jwt: String,
    account: KeyPair,
    account_jwt: String,
}

impl Trust {
    fn new() -> Trust {
        let op = KeyPair::new_operator();
        let account = KeyPair::new_account();
        let operator_jwt = jwt::encode(
            obj(json!({"sub": op.public_key(), "name": "O", "nats": {"type": "operator"}})),
            &op,
            ISSUED_AT,
        )
        .unwrap();
        let account_jwt = jwt::encode(
            obj(json!({"sub": account.public_key(), "name": "A", "nats": {
                "type": "account",
                "limits": {"subs": -1, "data": -1, "payload": -1, "imports": -1,
                    "exports": -1, "wildcards": true, "conn": -1, "leaf": -1},
                "default_permissions": {"pub": {}, "sub": {}}
            }})),
            &op,
            ISSUED_AT,
        )
        .unwrap();
        Trust {
            operator_jwt,
            account,
            account_jwt,
        }
    }

    /// The configuration lines that put a server in operator mode (`dir` holds the
    /// operator JWT file).
    fn config(&self, dir: &Path) -> String {
        let op = dir.join("op.jwt");
        std::fs::write(&op, &self.operator_jwt).unwrap();
        format!(
            "operator: \"{}\"\nresolver: MEMORY\nresolver_preload: {{ {}: \"{}\" }}\n",
            op.display(),
            self.account.public_key(),
            self.account_jwt
        )
    }

    /// A `.creds` file (Go's layout) for a new user of the account, with
    /// `allowed_connection_types` when given.
    fn creds(&self, dir: &Path, name: &str, types: Option<&[&str]>) -> PathBuf {
        self.user(dir, name, types, false).0
    }

    /// [`Trust::creds`], also returning the user JWT and seed; a `bearer` JWT needs no
    /// nonce signature (async-nats is built without its `nkeys` feature).
    fn user(
        &self,
        dir: &Path,
        name: &str,
        types: Option<&[&str]>,
        bearer: bool,
    ) -> (PathBuf, String, String) {
        let user = KeyPair::new_user();
        let mut nats = obj(
            json!({"type": "user", "subs": -1, "data": -1, "payload": -1,
            "pub": {}, "sub": {}}),
        );
        if let Some(t) = types {
            nats.insert("allowed_connection_types".into(), json!(t));
        }
        if bearer {
            nats.insert("bearer_token".into(), json!(true));
        }
        let token = jwt::encode(
            obj(json!({"sub": user.public_key(), "name": name, "nats": nats})),
            &self.account,
            ISSUED_AT,
        )
        .unwrap();
        let path = dir.join(format!("{name}.creds"));
        std::fs::write(
            &path,
            format!(
                "-----BEGIN NATS USER JWT-----\n{token}\n------END NATS USER JWT------\n\n\
                 ************************* IMPORTANT *************************\n\
                 NKEY Seed printed below can be used to sign and prove identity.\n\
                 NKEYs are sensitive and should be treated as secrets.\n\n\
                 -----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n\n\
                 *************************************************************\n",
                user.seed().unwrap()
            ),
        )
        .unwrap();
        (path, token, user.seed().unwrap())
    }
}

/// One test's set-up: its directory, a fresh operator and account, and the `.creds` of a
/// user for the leaf connection over `ws` or TCP: allowed on that connection type, or
/// (`allowed` false) only on STANDARD and the other leaf connection type.
struct Setup {
    dir: Dir,
    trust: Trust,
    creds: PathBuf,
}

fn setup(tag: &str, ws: bool, allowed: bool) -> Setup {
    let dir = Dir::new(tag);
    let trust = Trust::new();
    let types: &[&str] = match (allowed, ws) {
        (true, false) => &["LEAFNODE"],
        (true, true) => &["LEAFNODE_WS"],
        (false, false) => &["STANDARD", "LEAFNODE_WS"],
        (false, true) => &["STANDARD", "LEAFNODE"],
    };
    let creds = trust.creds(&dir, "leafuser", Some(types));
    Setup { dir, trust, creds }
}

/// A remote (or the whole remote list) to `url` logging in with `creds`.
fn remote(url: &str, creds: &Path) -> String {
    format!("{{ url: \"{url}\", credentials: \"{}\" }}", creds.display())
}

/// An operator-mode hub's configuration, named `name`.
fn operator_hub(name: &str, trust: &Trust, dir: &Path) -> String {
    hub_conf(name, "", ", no_tls: true") + &trust.config(dir)
}

/// Our server as the operator-mode hub; its log lines are kept.
async fn hub(trust: &Trust, dir: &Path) -> (ServerHandle, leaf::Log) {
    ours("hub", &operator_hub("rust-hub", trust, dir)).await
}

/// The Go server as the operator-mode hub.
async fn go_hub(trust: &Trust, dir: &Path) -> GoServer {
    GoServer::start(dir, "go-hub", &operator_hub("go-hub", trust, dir)).await
}

/// Our server as a leaf with one remote (`url`, `credentials`); its log lines are kept.
async fn our_leaf(url: &str, creds: &Path) -> (ServerHandle, leaf::Log) {
    ours("leaf", &leaf_conf("rust-leaf", &remote(url, creds))).await
}

/// A client of the account (a bearer user JWT) on `addr`.
async fn account_client(trust: &Trust, dir: &Path, addr: &str) -> Client {
    let (_, token, _) = trust.user(dir, "client", None, true);
    connect_with(addr, move || {
        let token = token.clone();
        ConnectOptions::with_auth_callback(move |_nonce| {
            let token = token.clone();
            async move {
                let mut auth = async_nats::Auth::new();
                auth.jwt = Some(token);
                Ok(auth)
            }
        })
    })
    .await
}

/// Waits for the first line of `lines()` that holds `needle`; returns it without the
/// connection prefix (`<addr> - lid:<n> - `) and, for Go, the pid, time and level
/// before it, and all the lines read.
async fn logged(
    what: &str,
    needle: &str,
    lines: impl Fn() -> Vec<String>,
) -> (String, Vec<String>) {
    let (line, all) = wait_line(what, needle, lines).await;
    let line = line.split(" - ").skip(2).collect::<Vec<_>>().join(" - ");
    (line, all)
}

/// The Go leaf logs in with its `.creds`, binds to the account of the user JWT, and
/// messages cross both ways.
async fn binds_and_crosses(ws: bool) {
    let tag = if ws { "ws" } else { "tcp" };
    let Setup { dir, trust, creds } = setup(tag, ws, true);
    let (hub, _log) = hub(&trust, &dir).await;
    let name = format!("go-leaf-{tag}");
    let leaf = go_leaf(&dir, &name, &remote(&hub.remote_url(ws), &creds)).await;
    leafs(&hub, 1).await;
    let lz = hub.leafz();
    assert_eq!(lz.leafs[0].name, name);
    assert_eq!(lz.leafs[0].account, trust.account.public_key());

    // A client of the account on our side (a user JWT allowed on STANDARD), and one on
    // the leaf (the leaf's global account is bound to the remote's account).
    let h = account_client(&trust, &dir, &hub.client_url()).await;
    let l = connect(&leaf.client_url()).await;
    crossing(&h, &l, "to.leaf").await;
    crossing(&l, &h, "to.hub").await;
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_leaf_with_creds_over_tcp() {
    binds_and_crosses(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_leaf_with_creds_over_websocket() {
    binds_and_crosses(true).await;
}

/// A user JWT allowed only on the other leaf connection type (and STANDARD) is refused:
/// nothing in /leafz binds to the account, and our log has the line the Go hub logs in
/// the same setup, with the reason Go logs at debug level appended (docs/CONFORMANCE.md
/// row 20).
async fn refused(ws: bool) {
    let tag = if ws { "ws-refused" } else { "tcp-refused" };
    let Setup { dir, trust, creds } = setup(tag, ws, false);

    // The Go server as the hub, same trust and user: its log line is the reference.
    let go_hub = go_hub(&trust, &dir).await;
    let go_leaf_proc = go_leaf(&dir, "go-leaf-a", &remote(&go_hub.remote_url(ws), &creds)).await;
    let no_error = "no authorization error logged";
    let (go_line, _) = logged(no_error, "authentication error", || go_hub.log_lines()).await;
    drop(go_leaf_proc);
    drop(go_hub);

    let (hub, log) = hub(&trust, &dir).await;
    let _leaf = go_leaf(&dir, "go-leaf-b", &remote(&hub.remote_url(ws), &creds)).await;
    let (ours, all) = logged(no_error, "authentication error", || log.lines()).await;
    // docs/CONFORMANCE.md row 20: Go logs the JWT reason at debug level and then
    // `authentication error`; we put the reason on the error line.
    assert_eq!(go_line, "authentication error");
    assert_eq!(
        ours,
        format!("{go_line} - Connection type not allowed"),
        "our log: {all:#?}"
    );
    // A leaf connection is listed from its admission on, so the Go leaf's next retry
    // may show for a moment; none ever binds to the account.
    for _ in 0..10 {
        let lz = hub.leafz();
        assert!(
            lz.leafs
                .iter()
                .all(|l| l.account != trust.account.public_key()),
            "a refused leaf bound to the account"
        );
        sleep(std::time::Duration::from_millis(50)).await;
    }
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leafnode_type_missing_is_refused_over_tcp() {
    refused(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leafnode_ws_type_missing_is_refused_over_websocket() {
    refused(true).await;
}

/// Our leaf logs in to the Go operator-mode hub with its `.creds`: messages cross both
/// ways between our leaf's global account and the user's account on the hub (the hub
/// has no other account they could meet in).
async fn our_leaf_binds_and_crosses(ws: bool) {
    let tag = if ws { "rev-ws" } else { "rev-tcp" };
    let Setup { dir, trust, creds } = setup(tag, ws, true);
    let hub = go_hub(&trust, &dir).await;
    let (ours, _log) = our_leaf(&hub.remote_url(ws), &creds).await;
    leafs(&ours, 1).await;
    assert_eq!(ours.leafz().leafs[0].name, "go-hub");
    let h = account_client(&trust, &dir, &hub.client_url()).await;
    let l = connect(&ours.client_url()).await;
    crossing(&h, &l, "to.leaf").await;
    crossing(&l, &h, "to.hub").await;
    ours.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_with_creds_solicits_a_go_operator_hub_over_tcp() {
    our_leaf_binds_and_crosses(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_with_creds_solicits_a_go_operator_hub_over_websocket() {
    our_leaf_binds_and_crosses(true).await;
}

/// A user JWT without the leaf's connection type: the Go hub refuses our leaf, which
/// logs what the Go leaf logs in the same setup. (No /leafz check: our /leafz lists
/// a leaf connection from its admission on, before the hub answers the CONNECT, and
/// its account is our local one either way.)
async fn our_leaf_refused(ws: bool) {
    let tag = if ws {
        "rev-ws-refused"
    } else {
        "rev-tcp-refused"
    };
    let Setup { dir, trust, creds } = setup(tag, ws, false);
    let hub = go_hub(&trust, &dir).await;
    let url = hub.remote_url(ws);

    let go_leaf_proc = go_leaf(&dir, "go-leaf", &remote(&url, &creds)).await;
    let violation = "Authorization Violation";
    let what = "the Go leaf logged no refusal";
    let (go_line, _) = logged(what, violation, || go_leaf_proc.log_lines()).await;
    drop(go_leaf_proc);

    let (ours, log) = our_leaf(&url, &creds).await;
    let (line, _) = logged("our leaf logged no refusal", violation, || log.lines()).await;
    assert_eq!(line, go_line);
    assert_eq!(go_line, "Leafnode Error 'Authorization Violation'");
    ours.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_without_the_leafnode_type_is_refused_over_tcp() {
    our_leaf_refused(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_without_the_leafnode_ws_type_is_refused_over_websocket() {
    our_leaf_refused(true).await;
}
