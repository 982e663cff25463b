//! Tests of [`super::ConfigAuth`].

use base64::Engine;

use super::*;
use crate::auth::TlsIdentity;
use crate::handshake::AuthCookies;

fn opts(text: &str) -> ServerOpts {
    ServerOpts::from_str(text, std::path::Path::new("."))
        .unwrap()
        .opts
}

fn connect(user: &str, pass: &str) -> ConnectInfo {
    ConnectInfo {
        user: user.into(),
        pass: pass.into(),
        ..ConnectInfo::default()
    }
}

fn check(a: &ConfigAuth, c: &ConnectInfo, t: Transport) -> Result<Identity, AuthError> {
    a.authenticate(&AuthRequest {
        connect: c,
        cookies: None,
        transport: t,
        nonce: None,
        tls: None,
    })
}

#[test]
fn accounts_and_connection_types() {
    let a = ConfigAuth::new(&opts(
        r#"accounts { A: { users: [ {user: a, password: pwd, allowed_connection_types: ["STANDARD"]} ] }, B: { users: [ {user: b, password: pwd} ] } }"#,
    ))
    .unwrap();
    assert!(a.auth_required(Transport::Standard));
    let id = check(&a, &connect("a", "pwd"), Transport::Standard).unwrap();
    assert_eq!(id.account, "A");
    assert!(check(&a, &connect("a", "pwd"), Transport::Websocket).is_err());
    assert!(check(&a, &connect("a", "bad"), Transport::Standard).is_err());
    assert_eq!(
        check(&a, &connect("b", "pwd"), Transport::Websocket)
            .unwrap()
            .account,
        "B"
    );
}

#[test]
fn websocket_token_override() {
    let a = ConfigAuth::new(&opts(
        "authorization { token: clienttoken }\nwebsocket { no_tls: true, port: -1, authorization { token: websockettoken } }",
    ))
    .unwrap();
    let tok = |t: &str| ConnectInfo {
        auth_token: t.into(),
        ..ConnectInfo::default()
    };
    assert!(check(&a, &tok("clienttoken"), Transport::Websocket).is_err());
    assert!(check(&a, &tok("websockettoken"), Transport::Websocket).is_ok());
    assert!(check(&a, &tok("clienttoken"), Transport::Standard).is_ok());
}

#[test]
fn no_auth_user() {
    let a = ConfigAuth::new(&opts(
        "accounts { N: { users: [ {user: noauth, password: x} ] } }\nno_auth_user: noauth",
    ))
    .unwrap();
    let id = check(&a, &ConnectInfo::default(), Transport::Standard).unwrap();
    assert_eq!(id.user.as_deref(), Some("noauth"));
    assert_eq!(id.account, "N");
    assert!(a.no_auth_user(Transport::Websocket).is_some());
}

fn request<'a>(
    c: &'a ConnectInfo,
    cookies: Option<&'a AuthCookies>,
    nonce: Option<&'a str>,
    tls: Option<&'a TlsIdentity>,
) -> AuthRequest<'a> {
    AuthRequest {
        connect: c,
        cookies,
        transport: Transport::Websocket,
        nonce,
        tls,
    }
}

#[test]
fn cookies_fill_empty_fields_and_connect_wins() {
    let a = ConfigAuth::new(&opts(
        "authorization { user: me, password: \"s3cr3t!\" }\nwebsocket { port: -1, no_tls: true, user_cookie: un, pass_cookie: pw }",
    ))
    .unwrap();
    let cookies = AuthCookies {
        username: Some("me".into()),
        password: Some("s3cr3t!".into()),
        ..AuthCookies::default()
    };
    let empty = ConnectInfo::default();
    assert!(
        a.authenticate(&request(&empty, Some(&cookies), None, None))
            .is_ok()
    );
    let bad_cookies = AuthCookies {
        password: Some("nope".into()),
        ..cookies.clone()
    };
    assert!(
        a.authenticate(&request(&empty, Some(&bad_cookies), None, None))
            .is_err()
    );
    // CONNECT values win over the cookies.
    let c = connect("me", "s3cr3t!");
    assert!(
        a.authenticate(&request(&c, Some(&bad_cookies), None, None))
            .is_ok()
    );
}

#[test]
fn bcrypt_passwords_and_tokens() {
    // Go's test/auth_test.go BCRYPT_AUTH_HASH / BCRYPT_AUTH_PASS.
    let hash = "$2a$04$Q.CgCP2Sl9pkcTXEZHazaeMwPaAkSHk7AI51HkyMt5iJQQyUA4qxq";
    assert!(is_bcrypt(hash) && !is_bcrypt("$2plain") && !is_bcrypt("plain"));
    assert!(password_matches(hash, "IW@$6v(y1(t@fhPDvf!5^%"));
    assert!(!password_matches(hash, hash));
    assert!(password_matches("", "") && !password_matches("a", "ab"));
}

#[test]
fn certificate_identities_need_a_certificate() {
    let text = "tls { cert_file: c, key_file: k, verify_and_map: true }\nauthorization { users: [ {user: \"CN=example.com,OU=NATS.io\"}, {user: scoped, allowed_connection_types: [WEBSOCKET]}, {user: pw, password: s3cr3t} ] }\nwebsocket { port: -1, no_tls: true }";
    let a = ConfigAuth::new(&opts(text)).unwrap();
    let ws = |u: &str, p: &str| check(&a, &connect(u, p), Transport::Websocket);
    assert!(ws("CN=example.com,OU=NATS.io", "").is_err());
    assert!(ws("", "").is_err());
    // Not selectable by the client port's mapping (not STANDARD): a plain user.
    assert!(ws("scoped", "").is_ok());
    assert!(ws("pw", "s3cr3t").is_ok());
    // On the mapping listener the certificate selects the user.
    let tls = TlsIdentity {
        subject: "CN=example.com,OU=NATS.io".into(),
        ..TlsIdentity::default()
    };
    let empty = ConnectInfo::default();
    let id = a
        .authenticate(&AuthRequest {
            transport: Transport::Standard,
            ..request(&empty, None, None, Some(&tls))
        })
        .unwrap();
    assert_eq!(id.user.as_deref(), Some("CN=example.com,OU=NATS.io"));
}

mod operator_mode {
    use serde_json::{Value, json};

    use super::*;
    use crate::auth::jwt::{KeyPair, encode};

    const OP: &str = "SOANHTFNC2NUOE7TCY3WKMRFKJJZLFL7DCKCJZ2VC4U7EOWTT4B5RAEWKI";
    const NOW: i64 = 1_800_000_000;

    fn sign(claims: Value, by: &KeyPair) -> String {
        let Value::Object(m) = claims else {
            unreachable!()
        };
        encode(m, by, 1_700_000_000).unwrap()
    }

    struct World {
        auth: ConfigAuth,
        acc: KeyPair,
        scoped: KeyPair,
        user: KeyPair,
    }

    fn world(template_types: &[&str]) -> World {
        world_until(template_types, None)
    }

    /// A world whose account JWT has this `exp`.
    fn world_until(template_types: &[&str], account_exp: Option<i64>) -> World {
        let op = KeyPair::from_seed(OP).unwrap();
        let acc = KeyPair::new_account();
        let scoped = KeyPair::new_account();
        let mut claims = json!({"sub": acc.public_key(), "nats": {"type": "account",
            "signing_keys": [{"kind": "user_scope", "key": scoped.public_key(),
                "template": {"allowed_connection_types": template_types}}]}});
        if let Some(exp) = account_exp {
            claims["exp"] = json!(exp);
        }
        let account = sign(claims, &op);
        World {
            auth: preloaded(&op, &acc, &account),
            acc,
            scoped,
            user: KeyPair::new_user(),
        }
    }

    /// Operator mode trusting `op`, with `account` (the JWT of `acc`) in the memory resolver.
    fn preloaded(op: &KeyPair, acc: &KeyPair, account: &str) -> ConfigAuth {
        let text = format!(
            "trusted_keys: [\"{}\"]\nresolver: MEMORY\nresolver_preload: {{ {}: \"{account}\" }}",
            op.public_key(),
            acc.public_key()
        );
        ConfigAuth::new(&opts(&text)).unwrap().with_clock(|| NOW)
    }

    fn login(w: &World, jwt: &str, sign_nonce: bool) -> Result<Identity, AuthError> {
        let nonce = "n0nc3";
        let sig = if sign_nonce {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(w.user.sign(nonce.as_bytes()).unwrap())
        } else {
            String::new()
        };
        let c = ConnectInfo {
            jwt: jwt.into(),
            sig,
            ..ConnectInfo::default()
        };
        w.auth.authenticate(&request(&c, None, Some(nonce), None))
    }

    #[test]
    fn user_jwt_chain_signature_expiry_and_bearer() {
        let w = world(&["STANDARD"]);
        assert!(w.auth.auth_required(Transport::Websocket));
        assert!(w.auth.nonce_required(Transport::Websocket));
        let user = |extra: Value| {
            let mut nats = json!({"type": "user"});
            if let (Value::Object(n), Value::Object(e)) = (&mut nats, extra) {
                n.extend(e);
            }
            sign(json!({"sub": w.user.public_key(), "nats": nats}), &w.acc)
        };
        let id = login(&w, &user(json!({})), true).unwrap();
        assert_eq!(id.account, w.acc.public_key());
        assert_eq!(id.user, Some(w.user.public_key()));
        assert!(login(&w, &user(json!({})), false).is_err());
        assert!(login(&w, &user(json!({"bearer_token": true})), false).is_ok());
        let expired = sign(
            json!({"sub": w.user.public_key(), "exp": NOW - 1, "nats": {"type": "user"}}),
            &w.acc,
        );
        assert_eq!(
            login(&w, &expired, true),
            Err(AuthError::Jwt("User JWT no longer valid"))
        );
        let types = |t: Value| user(json!({"allowed_connection_types": t}));
        assert!(login(&w, &types(json!(["STANDARD"])), true).is_err());
        assert!(login(&w, &types(json!(["websocket", "SomeNewType"])), true).is_ok());
        assert!(login(&w, &types(json!(["SomeNewType"])), true).is_err());
        // An account the resolver does not hold, and no JWT at all.
        let stranger = sign(
            json!({"sub": w.user.public_key(), "nats": {"type": "user"}}),
            &KeyPair::new_account(),
        );
        assert!(login(&w, &stranger, true).is_err());
        assert!(login(&w, "", true).is_err());
    }

    #[test]
    fn expiry_is_the_earlier_of_user_and_account() {
        use crate::auth::{Expired, Expiry};
        use std::time::Duration;
        let user_until = |w: &World, exp: Option<i64>| {
            let mut claims = json!({"sub": w.user.public_key(), "nats": {"type": "user"}});
            if let Some(exp) = exp {
                claims["exp"] = json!(exp);
            }
            login(w, &sign(claims, &w.acc), true).map(|id| id.expires)
        };
        let after = |secs, what| {
            Ok(Some(Expiry {
                after: Duration::from_secs(secs),
                what,
            }))
        };
        let w = world_until(&[], None);
        assert_eq!(user_until(&w, None), Ok(None));
        assert_eq!(user_until(&w, Some(NOW + 5)), after(5, Expired::User));
        // Expiring this very second: valid now, with a timer of 0 (Go's `>` check).
        assert_eq!(user_until(&w, Some(NOW)), after(0, Expired::User));
        let w = world_until(&[], Some(NOW + 3));
        assert_eq!(user_until(&w, None), after(3, Expired::Account));
        assert_eq!(user_until(&w, Some(NOW + 5)), after(3, Expired::Account));
        assert_eq!(user_until(&w, Some(NOW + 2)), after(2, Expired::User));
        assert_eq!(user_until(&w, Some(NOW + 3)), after(3, Expired::User));
        // An account is expired from its `exp` second on (Go: `<=`).
        let w = world_until(&[], Some(NOW));
        assert_eq!(
            user_until(&w, None),
            Err(AuthError::Jwt("Account JWT has expired"))
        );
    }

    #[test]
    fn jwt_permissions_and_refused_connect_restrictions() {
        let w = world(&[]);
        let user = |nats: Value| sign(json!({"sub": w.user.public_key(), "nats": nats}), &w.acc);
        let refused = Err(AuthError::Jwt(
            "User JWT src, times and payload restrictions are not supported by this server",
        ));
        for nats in [
            json!({"type": "user", "src": ["127.0.0.1/32"]}),
            json!({"type": "user", "times": [{"start": "08:00:00", "end": "09:00:00"}]}),
            json!({"type": "user", "payload": 0}),
        ] {
            assert_eq!(login(&w, &user(nats.clone()), true), refused, "{nats}");
        }
        // Go's NewUserClaims writes empty pub/sub: no permissions at all.
        let open = json!({"type": "user", "pub": {}, "sub": {}, "subs": -1, "payload": -1});
        assert_eq!(
            login(&w, &user(open), true).map(|id| id.permissions),
            Ok(None)
        );
        let id = login(
            &w,
            &user(
                json!({"type": "user", "pub": {"allow": ["a.>"], "deny": ["a.b"]},
                "sub": {"deny": ["s"]}}),
            ),
            true,
        )
        .unwrap();
        let p = id.permissions.unwrap();
        assert!(p.can_publish(b"a.c") && !p.can_publish(b"a.b") && !p.can_publish(b"x"));
        assert!(p.can_subscribe(b"t", None) && !p.can_subscribe(b"s", None));
        // resp: defaults for 0, and no blanket publish allow.
        let id = login(
            &w,
            &user(json!({"type": "user", "resp": {"max": 0, "ttl": 0}})),
            true,
        )
        .unwrap();
        let p = id.permissions.unwrap();
        assert_eq!(
            p.responses(),
            Some(crate::options::ResponsePermission::default())
        );
        assert!(p.restricts_publish() && !p.can_publish(b"anything"));

        // An account's default_permissions, for users that set none.
        let op = KeyPair::from_seed(OP).unwrap();
        let account = sign(
            json!({"sub": w.acc.public_key(), "nats": {"type": "account",
                "limits": {"conn": -1, "subs": -1, "payload": -1, "data": 5},
                "default_permissions": {"pub": {"deny": ["secret"]}, "sub": {}}}}),
            &op,
        );
        let strict = World {
            auth: preloaded(&op, &w.acc, &account),
            ..w
        };
        let plain = sign(
            json!({"sub": strict.user.public_key(), "nats": {"type": "user"}}),
            &strict.acc,
        );
        let p = login(&strict, &plain, true).unwrap().permissions.unwrap();
        assert!(!p.can_publish(b"secret") && p.can_publish(b"public"));
        let own = sign(
            json!({"sub": strict.user.public_key(), "nats": {"type": "user",
                "pub": {"allow": ["secret"]}}}),
            &strict.acc,
        );
        let p = login(&strict, &own, true).unwrap().permissions.unwrap();
        assert!(p.can_publish(b"secret") && !p.can_publish(b"public"));

        // Account limits this server does not enforce refuse the account's users.
        let limited = sign(
            json!({"sub": strict.acc.public_key(), "nats": {"type": "account",
                "limits": {"conn": 5, "subs": -1, "payload": -1}}}),
            &op,
        );
        let capped = World {
            auth: preloaded(&op, &strict.acc, &limited),
            ..strict
        };
        assert_eq!(
            login(&capped, &plain, true),
            Err(AuthError::Jwt(
                "Account JWT conn and payload limits are not supported by this server"
            ))
        );

        // So are sharing and mapping between accounts (empty lists change nothing).
        let mut w = capped;
        for (key, value) in [
            ("exports", json!([{"subject": "foo.>", "type": "stream"}])),
            (
                "imports",
                json!([{"subject": "foo.>", "account": "AXXX", "type": "stream"}]),
            ),
            (
                "mappings",
                json!({"foo": [{"subject": "bar", "weight": 100}]}),
            ),
            ("exports", json!([])),
        ] {
            let shared_acc = sign(
                json!({"sub": w.acc.public_key(), "nats": {"type": "account",
                    "limits": {"conn": -1, "subs": -1, "payload": -1}, key: value.clone()}}),
                &op,
            );
            w.auth = preloaded(&op, &w.acc, &shared_acc);
            let empty = value.as_array().is_some_and(Vec::is_empty);
            assert_eq!(
                login(&w, &plain, true).map(|_| ()),
                if empty {
                    Ok(())
                } else {
                    Err(AuthError::Jwt(
                        "Account JWT imports, exports and mappings are not supported by this server",
                    ))
                },
                "{key}: {value}"
            );
        }
    }

    #[test]
    fn scoped_signing_key_template_decides() {
        for (types, ok) in [
            (&["STANDARD"][..], false),
            (&["STANDARD", "WEBSOCKET"][..], true),
        ] {
            let w = world(types);
            let scoped_user = sign(
                json!({"sub": w.user.public_key(), "nats": {"type": "user",
                    "issuer_account": w.acc.public_key()}}),
                &w.scoped,
            );
            assert_eq!(login(&w, &scoped_user, true).is_ok(), ok, "{types:?}");
            // A scoped key's users may not carry limits of their own.
            let with_limits = sign(
                json!({"sub": w.user.public_key(), "nats": {"type": "user", "subs": -1,
                    "issuer_account": w.acc.public_key()}}),
                &w.scoped,
            );
            assert!(login(&w, &with_limits, true).is_err());
        }
    }
}

/// Go `checkAuthforWarnings`, each answer checked against nats-server 2.15.1's start log.
#[test]
fn plaintext_password_warning() {
    let hash = "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm7qhcQgXUAVWPZWtZ3/1Bpxb2a";
    let cases = [
        ("authorization { users [ {user: a, password: b} ] }", true),
        ("authorization { user: a, password: b }", true),
        ("accounts { A { users [ {user: a, password: b} ] } }", true),
        ("authorization { token: t }", false),
        (
            "authorization { users [ {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4} ] }",
            false,
        ),
        (
            &format!("authorization {{ users [ {{user: a, password: \"{hash}\"}} ] }}"),
            false,
        ),
        (
            &format!("authorization {{ user: a, password: \"{hash}\" }}"),
            false,
        ),
        // A user without a password is plaintext unless a certificate can select it.
        ("authorization { users [ {user: a} ] }", true),
    ];
    for (text, want) in cases {
        assert_eq!(has_plaintext_passwords(&opts(text)), want, "{text}");
    }
}
