//! Server-level options: [`ServerOpts`] from a configuration file (Go: `processConfigFileLine`).

use std::collections::BTreeSet;
use std::path::Path;

use super::access::{as_bool, as_i64, as_str, parse_listen};
use super::conf::{self, Kind, Map, Value};
use super::duration::GoDuration;
use super::error::{Abort, ConfigError, Diagnostics, OptionError, ProcessErrors, Reason};
use super::mqtt::{MqttOpts, parse_mqtt};
use super::nkey::{NkeyKind, is_valid_public_key};
use super::permissions::parse_permissions;
use super::tls::{TlsConfig, parse_tls};
use super::users::{
    Account, NkeyUser, User, account_limits, apply_default_permissions, go_quoted_value,
    parse_authorization, parse_users,
};
use super::websocket::{WebsocketOpts, parse_duration_field, parse_websocket};
use crate::goquote::quote;

/// Top-level keys of subsystems this server does not implement and whose absence changes
/// nothing a client can see (docs/CONFORMANCE.md, "Accepted and ignored"). They are
/// accepted and reported as warnings, never as `unknown field` errors. Keys that would
/// change behaviour are in [`crate::options::REFUSED_KEYS`].
pub const IGNORED_KEYS: &[&str] = &[
    "client_advertise",
    "disable_sublist_cache",
    "no_sublist_cache",
    "store_dir",
    "storedir",
    "jetstream",
    "prof_block_rate",
    "resolver_tls",
    "connect_error_reports",
    "reconnect_error_reports",
    "feature_flags",
    "default_js_domain",
    "ocsp_cache",
    "no_fast_producer_stall",
];

/// The `resolver` option.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Resolver {
    /// `MEMORY` / `MEM` (any string containing `mem`, ignoring case, as in Go).
    Memory,
    /// `URL("...")`, kept as written.
    Url(String),
    /// A map (`dir`, `type`, ...), kept unparsed.
    Other(Value),
}

/// Server options built from a configuration file (Go: the parts of `Options` the
/// websocket transport uses). Defaults are Go's zero values.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ServerOpts {
    /// `host` / `net` (or from `listen`).
    pub host: String,
    /// `port` (or from `listen`).
    pub port: i64,
    /// `server_name`.
    pub server_name: String,
    /// `authorization { user }`.
    pub username: String,
    /// `authorization { password }`.
    pub password: String,
    /// `authorization { token }` (Go: `Authorization`).
    pub token: String,
    /// `authorization { timeout }` in seconds (Go: `AuthTimeout`).
    pub auth_timeout: f64,
    /// `authorization { proxy_required }`.
    pub proxy_required: bool,
    /// An `authorization {}` block was given (Go: `authBlockDefined`).
    pub auth_block_defined: bool,
    /// `authorization { users }` with passwords, and users of `accounts {}`.
    pub users: Vec<User>,
    /// NKey users of `authorization {}` and `accounts {}`.
    pub nkeys: Vec<NkeyUser>,
    /// `accounts {}`, in file order.
    pub accounts: Vec<Account>,
    /// `no_auth_user`.
    pub no_auth_user: String,
    /// `system_account` / `system`.
    pub system_account: String,
    /// `no_system_account` / `no_system` / `no_sys_acc`.
    pub no_system_account: bool,
    /// `max_payload` (at most 2^31-1).
    pub max_payload: i32,
    /// `max_control_line` (at most 2^31-1).
    pub max_control_line: i32,
    /// `max_connections` / `max_conn`; a configured 0 becomes -1 (unlimited).
    pub max_connections: i64,
    /// `max_subscriptions` / `max_subs` per connection (0: no limit). Go: `MaxSubs`.
    pub max_subs: i64,
    /// `max_pending`.
    pub max_pending: i64,
    /// `ping_interval`.
    pub ping_interval: GoDuration,
    /// `ping_max` (Go: `MaxPingsOut`).
    pub ping_max: i64,
    /// `write_deadline`.
    pub write_deadline: GoDuration,
    /// `tls {}`.
    pub tls: Option<TlsConfig>,
    /// `tls { timeout }`.
    pub tls_timeout: f64,
    /// `tls { verify_and_map }`.
    pub tls_map: bool,
    /// `tls { pinned_certs }`.
    pub tls_pinned_certs: Option<BTreeSet<String>>,
    /// `operator` and its aliases: JWT file names or inline JWTs, not read here.
    pub operators: Vec<String>,
    /// `trusted` / `trusted_keys`: public operator NKeys.
    pub trusted_keys: Vec<String>,
    /// `resolver` / `account_resolver` / `accounts_resolver`.
    pub resolver: Option<Resolver>,
    /// `resolver_preload`: account public key → JWT, unverified, in file order.
    pub resolver_preload: Vec<(String, String)>,
    /// `websocket {}` / `ws {}`.
    pub websocket: WebsocketOpts,
    /// `mqtt {}`.
    pub mqtt: MqttOpts,
    /// `leafnodes {}` / `leaf {}`.
    pub leafnode: super::leafnode::LeafNodeOpts,
    /// `debug`: log at debug level.
    pub debug: bool,
    /// `trace`: log the protocol.
    pub trace: bool,
    /// `trace_verbose`: trace the system account as well.
    pub trace_verbose: bool,
    /// `logtime` (unset: Go's default, timestamps on).
    pub logtime: Option<bool>,
    /// `logtime_utc`: timestamps in UTC instead of local time.
    pub logtime_utc: bool,
    /// `log_file` / `logfile`: log to this file instead of stderr.
    pub log_file: String,
    /// `pid_file` / `pidfile`: write the process id here.
    pub pid_file: String,
    /// `ports_file_dir`: write `<exe>_<pid>.ports` here once listening.
    pub ports_file_dir: String,
    /// `http` host (`http: "host:port"`); empty = the client `host`.
    pub http_host: String,
    /// `http` / `http_port` / `monitor_port` (0 = no monitoring, -1 = a random port).
    pub http_port: i64,
    /// `https` / `https_port` (refused at start: not implemented).
    pub https_port: i64,
    /// `http_base_path`: prefix of every monitoring path.
    pub http_base_path: String,
    /// `logfile_size_limit` / `log_size_limit` in bytes (0: no rotation).
    pub log_size_limit: i64,
    /// `logfile_max_num` / `log_max_num`: files kept by rotation (0: all).
    pub log_max_files: i64,
    /// `syslog`: log to the local syslog daemon.
    pub syslog: bool,
    /// `remote_syslog`: `udp://`, `tcp://` or `unix://` syslog collector.
    pub remote_syslog: String,
    /// `lame_duck_duration` (0: Go's default, [`DEFAULT_LAME_DUCK_DURATION`]).
    pub lame_duck_duration: GoDuration,
    /// `lame_duck_grace_period` (0: Go's default, [`DEFAULT_LAME_DUCK_GRACE_PERIOD`]).
    pub lame_duck_grace_period: GoDuration,
    /// `no_header_support`: INFO says `headers: false`, HPUB is refused.
    pub no_header_support: bool,
    /// `max_sub_tokens` / `max_subscription_tokens` (0: no limit; at most 255).
    pub max_sub_tokens: u8,
    /// `server_tags`: lower-cased, trimmed, without duplicates (Go: `jwt.TagList`).
    pub server_tags: Vec<String>,
    /// `server_metadata`.
    pub server_metadata: std::collections::BTreeMap<String, String>,
    /// `trace_headers`: trace message headers (sets `trace`, as Go).
    pub trace_headers: bool,
    /// `max_traced_msg_len`: payload bytes a trace line shows (0: all).
    pub max_traced_msg_len: i64,
    /// Keys set to something this server would not honour (`cluster { ... }`,
    /// `mappings`, `write_timeout: retry`, ...): the server refuses to start with them.
    pub refused: Vec<OptionError>,
    /// `max_closed_clients`: closed connections kept for `/connz` (0 = Go's default,
    /// 10000; negative = none).
    pub max_closed_clients: i64,
    /// The configuration file these options were read from (Go: `ConfigFile`); empty
    /// for text or defaults. The start log names it.
    pub config_file: String,
    /// Go's `configDigest` of that file ([`conf::digest`]): `sha256:` and 64 hex digits,
    /// empty without a file. The start log, `-t` and `/varz` show it.
    pub config_digest: String,
}

/// Go: `DEFAULT_LAME_DUCK_DURATION`, the time over which lame duck mode spreads the
/// closing of clients.
pub const DEFAULT_LAME_DUCK_DURATION: GoDuration = GoDuration(120 * GoDuration::SECOND);
/// Go: `DEFAULT_LAME_DUCK_GRACE_PERIOD`, the wait before lame duck mode starts closing.
pub const DEFAULT_LAME_DUCK_GRACE_PERIOD: GoDuration = GoDuration(10 * GoDuration::SECOND);

/// Options and the warnings that did not stop them.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// The options.
    pub opts: ServerOpts,
    /// Go's warnings, plus one per key of an unimplemented subsystem.
    pub warnings: Vec<OptionError>,
}

impl ServerOpts {
    /// Reads a configuration file (Go: `ProcessConfigFile`). Only warnings → `Ok`.
    pub fn from_file(path: &Path) -> Result<Loaded, ConfigError> {
        let map = conf::parse_file(path)?;
        let file = path.to_string_lossy();
        let mut loaded = Self::from_map(&map, &file)?;
        loaded.opts.config_file = file.into_owned();
        loaded.opts.config_digest = conf::digest(&map);
        Ok(loaded)
    }

    /// Parses configuration text (Go: `ProcessConfigString`); includes resolve against
    /// `base_dir` and positions name file `""`.
    pub fn from_str(text: &str, base_dir: &Path) -> Result<Loaded, ConfigError> {
        let map = conf::parse_str(text, base_dir)?;
        Self::from_map(&map, "")
    }

    /// Builds options from a parsed map (Go: `processConfigFile`); `file` names it in
    /// the empty-config warning.
    pub fn from_map(map: &Map, file: &str) -> Result<Loaded, ConfigError> {
        let mut opts = ServerOpts::default();
        let mut diag = Diagnostics::default();
        if map.is_empty() {
            diag.warnings.push(OptionError {
                pos: None,
                reason: Reason::msg(format!("{file}: config has no values or is empty")),
            });
        }
        // Go: configureSystemAccount runs first, from the exact lower-case keys.
        if let Some(v) = map.get("system_account").or_else(|| map.get("system")) {
            match &v.kind {
                Kind::String(s) => opts.system_account.clone_from(s),
                _ => diag.error(v, Reason::msg("system account name must be a string")),
            }
        }
        for (key, value) in map {
            let result = opts.process_line(key, value, &mut diag);
            diag.recover(result);
        }
        if diag.errors.is_empty() {
            Ok(Loaded {
                opts,
                warnings: diag.warnings,
            })
        } else {
            Err(ConfigError::Invalid(ProcessErrors {
                warnings: diag.warnings,
                errors: diag.errors,
            }))
        }
    }

    // Go: processConfigFileLine
    fn process_line(&mut self, key: &str, v: &Value, diag: &mut Diagnostics) -> Result<(), Abort> {
        let lower = key.to_lowercase();
        match lower.as_str() {
            "listen" => match parse_listen(v) {
                Ok((host, port)) => {
                    self.host = host;
                    self.port = port;
                }
                Err(reason) => diag.error(v, reason),
            },
            "port" => self.port = as_i64(v)?,
            "host" | "net" => self.host = as_str(v)?.to_owned(),
            "server_name" => {
                let name = as_str(v)?;
                if name.contains(' ') {
                    diag.error(v, Reason::msg("server name cannot contain spaces"));
                } else {
                    self.server_name = name.to_owned();
                }
            }
            "authorization" => self.authorization(v, diag)?,
            "accounts" => self.accounts(v, diag),
            "no_auth_user" => self.no_auth_user = as_str(v)?.to_owned(),
            "debug" => self.debug = as_bool(v)?,
            "trace" => self.trace = as_bool(v)?,
            "trace_verbose" => {
                self.trace_verbose = as_bool(v)?;
                self.trace = self.trace_verbose;
            }
            "logtime" => self.logtime = Some(as_bool(v)?),
            "logtime_utc" => self.logtime_utc = as_bool(v)?,
            "logfile" | "log_file" => self.log_file = as_str(v)?.to_owned(),
            "pidfile" | "pid_file" => self.pid_file = as_str(v)?.to_owned(),
            "ports_file_dir" => self.ports_file_dir = as_str(v)?.to_owned(),
            // Go: processConfigFileLine's monitoring keys.
            "http" => match parse_listen(v) {
                Ok((host, port)) => {
                    self.http_host = host;
                    self.http_port = port;
                }
                Err(reason) => diag.error(v, reason),
            },
            "https" => match parse_listen(v) {
                Ok((host, port)) => {
                    self.http_host = host;
                    self.https_port = port;
                }
                Err(reason) => diag.error(v, reason),
            },
            "http_port" | "monitor_port" => self.http_port = as_i64(v)?,
            "https_port" => self.https_port = as_i64(v)?,
            "http_base_path" => self.http_base_path = as_str(v)?.to_owned(),
            "max_closed_clients" => self.max_closed_clients = as_i64(v)?,
            "system_account" | "system" => {}
            "no_system_account" | "no_system" | "no_sys_acc" => {
                self.no_system_account = as_bool(v)?;
            }
            "max_control_line" | "max_payload" => {
                let n = as_i64(v)?;
                match i32::try_from(n) {
                    Ok(n) if lower == "max_payload" => self.max_payload = n,
                    // Go converts with int32(), wrapping negative values below -2^31.
                    Ok(n) => self.max_control_line = n,
                    Err(_) if n > 0 => {
                        diag.error(v, Reason::msg(format!("{key} value is too big")))
                    }
                    #[allow(clippy::cast_possible_truncation)]
                    Err(_) if lower == "max_payload" => self.max_payload = n as i32,
                    #[allow(clippy::cast_possible_truncation)]
                    Err(_) => self.max_control_line = n as i32,
                }
            }
            "max_pending" => self.max_pending = as_i64(v)?,
            "max_subscriptions" | "max_subs" => self.max_subs = as_i64(v)?,
            "max_connections" | "max_conn" => {
                self.max_connections = as_i64(v)?;
                if self.max_connections == 0 {
                    self.max_connections = -1;
                }
            }
            "ping_interval" => self.ping_interval = parse_duration_field("ping_interval", v, diag)?,
            "ping_max" => self.ping_max = as_i64(v)?,
            "write_deadline" => {
                self.write_deadline = parse_duration_field("write_deadline", v, diag)?;
            }
            "tls" => match parse_tls(v, true) {
                Ok(tc) => {
                    self.tls_timeout = tc.timeout;
                    self.tls_map = tc.map;
                    self.tls_pinned_certs = tc.pinned_certs.clone();
                    self.tls = Some(tc);
                }
                Err(e) => diag.errors.push(e),
            },
            "operator" | "operators" | "roots" | "root" | "root_operators" | "root_operator" => {
                self.operators = match &v.kind {
                    Kind::String(s) => vec![s.clone()],
                    Kind::Array(values) => {
                        let mut out = Vec::new();
                        for item in values {
                            match &item.kind {
                                Kind::String(s) => out.push(s.clone()),
                                _ => diag.error(
                                    v,
                                    Reason::msg(
                                        "error parsing operators: unsupported type *conf.token where string is expected",
                                    ),
                                ),
                            }
                        }
                        out
                    }
                    other => {
                        diag.error(
                            v,
                            Reason::msg(format!(
                                "error parsing operators: unsupported type {}",
                                other.go_type()
                            )),
                        );
                        Vec::new()
                    }
                };
            }
            "resolver" | "account_resolver" | "accounts_resolver" => self.resolver(v, diag),
            "resolver_preload" => {
                let Kind::Map(preload) = &v.kind else {
                    diag.error(
                        v,
                        Reason::msg("preload should be a map of account_public_key:account_jwt"),
                    );
                    return Ok(());
                };
                self.resolver_preload.clear();
                for (account, jwt) in preload {
                    match &jwt.kind {
                        Kind::String(s) => {
                            self.resolver_preload.push((account.to_owned(), s.clone()))
                        }
                        _ => {
                            diag.error(jwt, Reason::msg("preload map value should be a string JWT"))
                        }
                    }
                }
            }
            "trusted" | "trusted_keys" => {
                self.trusted_keys = match &v.kind {
                    Kind::String(s) => vec![s.clone()],
                    Kind::Array(values) => {
                        let mut keys = Vec::new();
                        for item in values {
                            match &item.kind {
                                Kind::String(s) => keys.push(s.clone()),
                                other => diag.error(
                                    item,
                                    Reason::msg(format!(
                                        "error parsing trusted: unsupported type in array {}",
                                        other.go_type()
                                    )),
                                ),
                            }
                        }
                        keys
                    }
                    other => {
                        diag.error(
                            v,
                            Reason::msg(format!(
                                "error parsing trusted: unsupported type {}",
                                other.go_type()
                            )),
                        );
                        Vec::new()
                    }
                };
                for k in &self.trusted_keys {
                    if !is_valid_public_key(k, NkeyKind::Operator) {
                        diag.error(
                            v,
                            Reason::msg(format!(
                                "trust key {} required to be a valid public operator nkey",
                                quote(k)
                            )),
                        );
                    }
                }
            }
            "websocket" | "ws" => parse_websocket(v, &mut self.websocket, diag),
            "mqtt" => parse_mqtt(v, &mut self.mqtt, diag),
            "leaf" | "leafnodes" => self.leafnodes(v, diag),
            // Logging, lame duck mode, limits and keys refused or ignored: options/ops.rs.
            _ if super::ops::handles(&lower) => self.ops_line(key, &lower, v, diag)?,
            _ if IGNORED_KEYS.contains(&lower.as_str()) => {
                diag.warn(v, Reason::Ignored(key.to_owned()))
            }
            _ => diag.unknown_field(key, v),
        }
        Ok(())
    }

    // Go: the "resolver" case of processConfigFileLine.
    fn resolver(&mut self, v: &Value, diag: &mut Diagnostics) {
        self.resolver = match &v.kind {
            Kind::String(s) if s.to_ascii_lowercase().contains("mem") => Some(Resolver::Memory),
            Kind::String(s) => url_resolver(s).map(Resolver::Url),
            Kind::Map(_) => Some(Resolver::Other(v.clone())),
            other => {
                diag.error(
                    v,
                    Reason::msg(format!(
                        "error parsing operator resolver, wrong type {}",
                        other.go_type()
                    )),
                );
                return;
            }
        };
        if self.resolver.is_none() {
            diag.error(
                v,
                Reason::msg(
                    "error parsing account resolver, should be MEM or  URL(\"url\") or a map containing dir and type state=[FULL|CACHE])",
                ),
            );
        }
    }
}

/// The `authorization` and `accounts` blocks: the parsers in `users.rs` return values,
/// applied here.
impl ServerOpts {
    // Go: the "authorization" case of processConfigFileLine.
    pub(super) fn authorization(&mut self, v: &Value, diag: &mut Diagnostics) -> Result<(), Abort> {
        // Go: after a panic parseAuthorization returns nil and the caller dereferences it.
        let Some(auth) = parse_authorization(v, diag)
            .ok_or_else(|| Abort(OptionError::at(v, Reason::NilDereference)))?
        else {
            return Ok(());
        };
        self.auth_block_defined = true;
        self.username = auth.user.clone();
        self.password = auth.pass.clone();
        self.proxy_required = auth.proxy_required;
        self.token = auth.token.clone();
        self.auth_timeout = auth.timeout;
        if (!auth.user.is_empty() || !auth.pass.is_empty()) && !auth.token.is_empty() {
            diag.error(v, Reason::msg("Cannot have a user/pass and token"));
            return Ok(());
        }
        let mut names = self.user_names();
        if auth.users.is_some() || !names.is_empty() {
            if !auth.user.is_empty() {
                diag.error(
                    v,
                    Reason::msg("Can not have a single user/pass and a users array"),
                );
                return Ok(());
            }
            if !auth.token.is_empty() {
                diag.error(v, Reason::msg("Can not have a token and a users array"));
                return Ok(());
            }
            for u in auth.users.iter().flatten() {
                if !names.insert(u.username.clone()) {
                    diag.error(
                        v,
                        Reason::msg(format!("Duplicate user {} detected", quote(&u.username))),
                    );
                    return Ok(());
                }
            }
            self.users.extend(auth.users.into_iter().flatten());
        }
        for n in &auth.nkeys {
            if !names.insert(n.nkey.clone()) {
                diag.error(
                    v,
                    Reason::msg(format!("Duplicate nkey {} detected", quote(&n.nkey))),
                );
                return Ok(());
            }
        }
        self.nkeys.extend(auth.nkeys);
        Ok(())
    }

    /// Go: setupUsersAndNKeysDuplicateCheckMap.
    fn user_names(&self) -> BTreeSet<String> {
        let users = self.users.iter().map(|u| u.username.clone());
        users
            .chain(self.nkeys.iter().map(|n| n.nkey.clone()))
            .collect()
    }

    // Go: parseAccounts (the user/nkey parts; imports, exports and limits are kept).
    pub(super) fn accounts(&mut self, v: &Value, diag: &mut Diagnostics) {
        let result = (|| -> Result<(), Abort> {
            match &v.kind {
                Kind::Array(names) => {
                    let mut seen = BTreeSet::new();
                    for n in names {
                        let name = as_str(n)?;
                        if name == "$G" {
                            diag.error(
                                n,
                                Reason::msg(format!("{} is a Reserved Account", quote(name))),
                            );
                        } else if !seen.insert(name.to_owned()) {
                            diag.error(n, Reason::msg(format!("Duplicate Account Entry: {name}")));
                        } else {
                            self.accounts.push(Account {
                                name: name.to_owned(),
                                ..Account::default()
                            });
                        }
                    }
                }
                Kind::Map(entries) => {
                    let mut names = self.user_names();
                    for (name, entry) in entries {
                        if entry.used_variable {
                            continue;
                        }
                        let Kind::Map(fields) = &entry.kind else {
                            diag.error(entry, Reason::msg("Expected map entries for accounts"));
                            continue;
                        };
                        if name == "$G" {
                            diag.error(
                                entry,
                                Reason::msg(format!("{} is a Reserved Account", quote(name))),
                            );
                            continue;
                        }
                        self.account(name, fields, &mut names, diag)?;
                    }
                }
                // Go: parseAccounts has no case for other types; they are ignored.
                _ => {}
            }
            Ok(())
        })();
        diag.recover(result);
    }

    fn account(
        &mut self,
        name: &str,
        fields: &Map,
        names: &mut BTreeSet<String>,
        diag: &mut Diagnostics,
    ) -> Result<(), Abort> {
        let mut account = Account {
            name: name.to_owned(),
            ..Account::default()
        };
        let mut parsed = None;
        for (key, fv) in fields {
            match key.to_lowercase().as_str() {
                "nkey" => match &fv.kind {
                    Kind::String(nk) if is_valid_public_key(nk, NkeyKind::Account) => {
                        account.nkey.clone_from(nk);
                    }
                    _ => diag.error(
                        fv,
                        Reason::msg(format!(
                            "Not a valid public nkey for an account: {}",
                            go_quoted_value(fv)
                        )),
                    ),
                },
                "users" => {
                    if let Some(users) = parse_users(fv, diag) {
                        parsed = Some((fv, users));
                    }
                }
                "default_permissions" => {
                    if let Some(p) = parse_permissions(fv, diag) {
                        account.default_permissions = Some(p);
                    }
                }
                "limits" => account_limits(fv, &mut account, diag)?,
                // Sharing between accounts and subject mapping would route messages
                // differently: refused when set (docs/CONFORMANCE.md row O6).
                "imports" | "exports" | "mappings" | "maps" => {
                    if super::ops::takes_effect(fv) {
                        self.refuse(key, fv);
                    }
                    account.other.push((key.to_owned(), fv.clone()));
                }
                "jetstream" | "msg_trace" | "trace_dest" => {
                    account.other.push((key.to_owned(), fv.clone()));
                }
                _ => diag.unknown_field(key, fv),
            }
        }
        let defaults = account.default_permissions.clone();
        self.accounts.push(account);
        let Some((users_value, (mut nkeys, mut users))) = parsed else {
            return Ok(());
        };
        apply_default_permissions(&mut users, &mut nkeys, defaults.as_ref());
        if !nkeys.is_empty() || !users.is_empty() {
            if !self.username.is_empty() {
                diag.error(
                    users_value,
                    Reason::msg("Can not have a single user/pass and accounts"),
                );
                return Ok(());
            }
            if !self.token.is_empty() {
                diag.error(
                    users_value,
                    Reason::msg("Can not have a token and accounts"),
                );
                return Ok(());
            }
        }
        for mut n in nkeys {
            if !names.insert(n.nkey.clone()) {
                diag.error(
                    users_value,
                    Reason::msg(format!("Duplicate nkey {} detected", quote(&n.nkey))),
                );
                continue;
            }
            n.account = Some(name.to_owned());
            self.nkeys.push(n);
        }
        for mut u in users {
            if !names.insert(u.username.clone()) {
                diag.error(
                    users_value,
                    Reason::msg(format!("Duplicate user {} detected", quote(&u.username))),
                );
                continue;
            }
            u.account = Some(name.to_owned());
            self.users.push(u);
        }
        Ok(())
    }
}

/// Go: the `URL("...")` form of `resolver` (case-insensitive `URL`, optional quotes).
fn url_resolver(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    let start = lower.find("url(")?;
    let rest = s.get(start + 4..)?;
    let end = rest.find(')')?;
    let inner = rest.get(..end)?.trim().trim_matches('"');
    Some(inner.to_owned())
}

impl ServerOpts {
    /// `lame_duck_duration` and `lame_duck_grace_period` with Go's defaults for unset
    /// ones (Go: `setBaselineOptions`).
    pub fn lame_duck(&self) -> (GoDuration, GoDuration) {
        let pick = |d: GoDuration, default| if d.is_zero() { default } else { d };
        (
            pick(self.lame_duck_duration, DEFAULT_LAME_DUCK_DURATION),
            pick(self.lame_duck_grace_period, DEFAULT_LAME_DUCK_GRACE_PERIOD),
        )
    }
}
