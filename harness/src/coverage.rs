//! The porting catalog: every Go WebSocket test (the 73 of `server/websocket_test.go` and
//! the WebSocket tests of other files, from the catalog in `shared/go-tests.md` §1 and §3),
//! embedded as data so that no file outside the repository is read at run time; and each
//! test's status here: passing, failing, skipped (with the written reason), or not ported.
//!
//! Layers are the catalog's (§1.1). The catalog gives none for §3, so those tests take the
//! section's subject (`leafnode`, `mqtt`, `auth`) or, for §3.4, the closest §1.1 layer
//! (`monitoring` is added for the `/varz` tests).

use std::collections::BTreeMap;

use crate::fixture::{Fixture, Layer};
use crate::report::{ImplRun, Verdict};

/// One Go test of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoTest {
    /// The Go test name, exactly (typos included); a port's fixture is `fixtures/<name>.yaml`.
    pub name: &'static str,
    /// The Go file.
    pub file: &'static str,
    /// The catalog layer (`frame-decode`, `handshake/upgrade`, `auth`, ...).
    pub layer: &'static str,
    /// The catalog section it is listed in (`§1`, `§3.1`, ...).
    pub section: &'static str,
}

const fn go(
    name: &'static str,
    file: &'static str,
    layer: &'static str,
    section: &'static str,
) -> GoTest {
    GoTest {
        name,
        file,
        layer,
        section,
    }
}

/// Every Go WebSocket test: `websocket_test.go` in file order, then the other files.
#[rustfmt::skip]
pub static CATALOG: &[GoTest] = &[
    go("TestWSGet", "server/websocket_test.go", "frame-decode", "§1"),
    go("TestWSIsControlFrame", "server/websocket_test.go", "frame-decode", "§1"),
    go("TestWSUnmask", "server/websocket_test.go", "frame-decode", "§1"),
    go("TestWSCreateCloseMessage", "server/websocket_test.go", "control/close", "§1"),
    go("TestWSCreateFrameHeader", "server/websocket_test.go", "frame-encode", "§1"),
    go("TestWSReadUncompressedFrames", "server/websocket_test.go", "frame-decode", "§1"),
    go("TestWSReadVariousFrameSizes", "server/websocket_test.go", "frame-decode", "§1"),
    go("TestWSReadFragmentedFrames", "server/websocket_test.go", "frame-decode", "§1"),
    go("TestWSReadPartialFrameHeaderAtEndOfReadBuffer", "server/websocket_test.go", "frame-decode", "§1"),
    go("TestWSReadPingFrame", "server/websocket_test.go", "control/close", "§1"),
    go("TestWSReadPongFrame", "server/websocket_test.go", "control/close", "§1"),
    go("TestWSReadCloseFrame", "server/websocket_test.go", "control/close", "§1"),
    go("TestWSReadControlFrameBetweebFragmentedFrames", "server/websocket_test.go", "frame-decode", "§1"),
    go("TestWSCloseFrameWithPartialOrInvalid", "server/websocket_test.go", "control/close", "§1"),
    go("TestWSReadGetErrors", "server/websocket_test.go", "frame-decode", "§1"),
    go("TestWSHandleControlFrameErrors", "server/websocket_test.go", "control/close", "§1"),
    go("TestWSReadErrors", "server/websocket_test.go", "frame-decode", "§1"),
    go("TestWSReadHugePayloadLenDoesNotPanic", "server/websocket_test.go", "frame-decode", "§1"),
    go("TestWSReadByteWithEmptyCompressedBufferDoesNotPanic", "server/websocket_test.go", "compression", "§1"),
    go("TestWSEnqueueCloseMsg", "server/websocket_test.go", "control/close", "§1"),
    go("TestWSCheckOrigin", "server/websocket_test.go", "origin", "§1"),
    go("TestWSUpgradeValidationErrors", "server/websocket_test.go", "handshake/upgrade", "§1"),
    go("TestWSUpgradeResponseWriteError", "server/websocket_test.go", "handshake/upgrade", "§1"),
    go("TestWSUpgradeNoHijacker", "server/websocket_test.go", "handshake/upgrade", "§1"),
    go("TestWSUpgradeConnDeadline", "server/websocket_test.go", "handshake/upgrade", "§1"),
    go("TestWSUpgradeWithEmptyXForwardedForSliceDoesNotPanic", "server/websocket_test.go", "handshake/upgrade", "§1"),
    go("TestWSCompressNegotiation", "server/websocket_test.go", "handshake/upgrade", "§1"),
    go("TestWSSetHeader", "server/websocket_test.go", "handshake/upgrade", "§1"),
    go("TestWSParseOptions", "server/websocket_test.go", "options-parse", "§1"),
    go("TestWSValidateOptions", "server/websocket_test.go", "options-validate", "§1"),
    go("TestWSSetOriginOptions", "server/websocket_test.go", "origin", "§1"),
    go("TestWSFailureToStartServer", "server/websocket_test.go", "server-lifecycle", "§1"),
    go("TestWSAbnormalFailureOfWebServer", "server/websocket_test.go", "server-lifecycle", "§1"),
    go("TestWSPubSub", "server/websocket_test.go", "nats-pubsub", "§1"),
    go("TestWSBatchedPubInSingleFrame", "server/websocket_test.go", "nats-pubsub", "§1"),
    go("TestWSCompressedPubInSingleFrame", "server/websocket_test.go", "compression", "§1"),
    go("TestWSCompressedSequentialFramesRemainResponsive", "server/websocket_test.go", "compression", "§1"),
    go("TestWSCompressedFragmentedFrame", "server/websocket_test.go", "compression", "§1"),
    go("TestWSCorruptedCompressedFrameIsRejected", "server/websocket_test.go", "compression", "§1"),
    go("TestWSFlushesBufferedDeliveryBeforeProtocolClose", "server/websocket_test.go", "control/close", "§1"),
    go("TestWSTLSConnection", "server/websocket_test.go", "tls", "§1"),
    go("TestWSTLSVerifyClientCert", "server/websocket_test.go", "tls", "§1"),
    go("TestWSTLSVerifyAndMap", "server/websocket_test.go", "tls", "§1"),
    go("TestWSHandshakeTimeout", "server/websocket_test.go", "handshake/upgrade", "§1"),
    go("TestWSServerReportUpgradeFailure", "server/websocket_test.go", "handshake/upgrade", "§1"),
    go("TestWSCloseMsgSendOnConnectionClose", "server/websocket_test.go", "control/close", "§1"),
    go("TestWSAdvertise", "server/websocket_test.go", "misc", "§1"),
    go("TestWSFrameOutbound", "server/websocket_test.go", "outbound-collapse", "§1"),
    go("TestWSWebrowserClient", "server/websocket_test.go", "outbound-collapse", "§1"),
    go("TestWSCompressionBasic", "server/websocket_test.go", "compression", "§1"),
    go("TestWSCompressionWithPartialWrite", "server/websocket_test.go", "compression", "§1"),
    go("TestWSCompressionFrameSizeLimit", "server/websocket_test.go", "compression", "§1"),
    go("TestWSCompressionPoolBufferRecycling", "server/websocket_test.go", "compression", "§1"),
    go("TestWSBasicAuth", "server/websocket_test.go", "auth", "§1"),
    go("TestWSAuthTimeout", "server/websocket_test.go", "auth", "§1"),
    go("TestWSTokenAuth", "server/websocket_test.go", "auth", "§1"),
    go("TestWSBindToProperAccount", "server/websocket_test.go", "auth", "§1"),
    go("TestWSUsersAuth", "server/websocket_test.go", "auth", "§1"),
    go("TestWSNoAuthUserValidation", "server/websocket_test.go", "options-validate", "§1"),
    go("TestWSNoAuthUser", "server/websocket_test.go", "auth", "§1"),
    go("TestWSNkeyAuth", "server/websocket_test.go", "auth", "§1"),
    go("TestWSSetHeaderServer", "server/websocket_test.go", "handshake/upgrade", "§1"),
    go("TestWSJWTWithAllowedConnectionTypes", "server/websocket_test.go", "jwt", "§1"),
    go("TestWSJWTCookieUser", "server/websocket_test.go", "jwt", "§1"),
    go("TestWSReloadTLSConfig", "server/websocket_test.go", "tls", "§1"),
    go("TestWSXForwardedFor", "server/websocket_test.go", "handshake/upgrade", "§1"),
    go("TestWSWithPartialWrite", "server/websocket_test.go", "outbound-collapse", "§1"),
    go("TestWSNoCorruptionWithFrameSizeLimit", "server/websocket_test.go", "outbound-collapse", "§1"),
    go("TestWSDecompressLimit", "server/websocket_test.go", "compression", "§1"),
    go("TestWSNoAuthUserOverride", "server/websocket_test.go", "auth", "§1"),
    go("TestWebsocketPingInterval", "server/websocket_test.go", "misc", "§1"),
    go("TestWSCompressedFragmentsDoNotShareNbPoolBuffer", "server/websocket_test.go", "compression", "§1"),
    go("TestWSUpgradeMQTTOnlyWhenEnabled", "server/websocket_test.go", "handshake/upgrade", "§1"),
    go("TestLeafNodeWSMixURLs", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeWSFIPSValidation", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeWSBasic", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeWSRemoteCompressAndMaskingOptions", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeWSNoMaskingRejected", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeWSSubPath", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeWSFailedConnection", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeWSAuth", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeWSGossip", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeWSNoBufferCorruption", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeWSRemoteNoTLSBlockWithWSSProto", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeWSNoAuthUser", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeNoCompressionWithWebsocket", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeWSAcceptInitialInfoSuppressesCompression", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeCompressionWithWSCompression", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeCompressionWithWSGetNeedsData", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeConnectionSucceedsEvenWithDelayedFirstINFO", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeDetectsStaleConnectionIfNoInfo", "server/leafnode_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeHttpProxyConfigParsing", "server/leafnode_proxy_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeHttpProxyConfigWarnings", "server/leafnode_proxy_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeHttpProxyConnection", "server/leafnode_proxy_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeHttpProxyWithAuthentication", "server/leafnode_proxy_test.go", "leafnode", "§3.1"),
    go("TestLeafNodeHttpProxyTLSMismatchDetection", "server/leafnode_proxy_test.go", "leafnode", "§3.1"),
    go("TestMQTTWebsocketToMQTTPort", "server/mqtt_test.go", "mqtt", "§3.2"),
    go("TestMQTTWebsocket", "server/mqtt_test.go", "mqtt", "§3.2"),
    go("TestMQTTPartial", "server/mqtt_test.go", "mqtt", "§3.2"),
    go("TestMQTTWebsocketTLS", "server/mqtt_test.go", "mqtt", "§3.2"),
    go("TestUserUnknownAllowedConnectionType", "server/auth_test.go", "auth", "§3.3"),
    go("TestAuthCertMappedUserNotPasswordAuthenticatable", "server/auth_test.go", "auth", "§3.3"),
    go("TestAuthCertMappedUserWithPassword", "server/auth_test.go", "auth", "§3.3"),
    go("TestAuthNoAuthUserWithoutPasswordAndCertMapping", "server/auth_test.go", "auth", "§3.3"),
    go("TestAuthCertMappedLeafNodeUsersScope", "server/auth_test.go", "auth", "§3.3"),
    go("TestAuthCertMappedUserConnectionTypeScope", "server/auth_test.go", "auth", "§3.3"),
    go("TestAuthCertMappedUserOnOtherListeners", "server/auth_test.go", "auth", "§3.3"),
    go("TestAuthCertMappedUserOverWebsocketTransport", "server/auth_test.go", "auth", "§3.3"),
    go("TestAuthCalloutWSClientTLSCerts", "server/auth_callout_test.go", "auth", "§3.4"),
    go("TestTlsPinnedCertificates", "server/opts_test.go", "options-parse", "§3.4"),
    go("TestWebsocketPingIntervalConfig", "server/opts_test.go", "options-parse", "§3.4"),
    go("TestConfigCheck", "server/config_check_test.go", "options-validate", "§3.4"),
    go("TestLameDuckModeInfo", "server/server_test.go", "misc", "§3.4"),
    go("TestServerShutdownDuringStart", "server/server_test.go", "server-lifecycle", "§3.4"),
    go("TestMonitorWebsocket", "server/monitor_test.go", "monitoring", "§3.4"),
    go("TestMonitorVarzTLSCertEndDate", "server/monitor_test.go", "monitoring", "§3.4"),
    go("TestParsePingNoAuthUserExceptionsAndRestrictions", "server/parser_test.go", "auth", "§3.4"),
    go("TestParsePingNoAuthUserEnforcesUserRestrictions", "server/parser_test.go", "auth", "§3.4"),
    go("TestClientConnectionName", "server/client_test.go", "misc", "§3.4"),
    go("TestJWTScopedSigningKeys", "server/jwt_test.go", "jwt", "§3.4"),
    go("TestNoRaceAcceptLoopsDoNotLeaveOpenedConn", "server/norace_1_test.go", "server-lifecycle", "§3.4"),
    go("TestNoRaceWSNoCorruptionWithFrameSizeLimit", "server/norace_2_test.go", "outbound-collapse", "§3.4"),
    go("TestNoRaceConnectionObjectReleased", "server/norace_2_test.go", "server-lifecycle", "§3.4"),
    go("TestPortsFile", "test/ports_test.go", "misc", "§3.4"),
    go("TestOCSPPeerMonitor", "test/ocsp_peer_test.go", "tls", "§3.4"),
    go("TestTLSClientCertificateCheckWithAllowedConnectionTypes", "test/tls_test.go", "tls", "§3.4"),
];

/// A Go test's status for one implementation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Ported; every case that ran passed (some may be skipped).
    Passing {
        /// Cases passed.
        passed: usize,
        /// Cases skipped.
        skipped: usize,
    },
    /// Ported; some case failed.
    Failing {
        /// Cases failed.
        failed: usize,
        /// Cases in all.
        cases: usize,
    },
    /// Ported; no failure, but some failure could not be judged (fixed target).
    Inconclusive {
        /// Cases inconclusive.
        inconclusive: usize,
        /// Cases in all.
        cases: usize,
    },
    /// Ported, but every case is skipped, for these reasons.
    Skipped {
        /// The written reasons, distinct, in order.
        reasons: Vec<String>,
    },
    /// Ported, but not run in this invocation (filtered out, not applicable, `--no-run`).
    NotRun {
        /// Why.
        reason: String,
    },
    /// No `fixtures/<name>.yaml`.
    NotPorted,
}

impl Status {
    /// A short label: `passing`, `failing`, `inconclusive`, `skipped`, `not run`,
    /// `not ported`.
    pub fn label(&self) -> &'static str {
        match self {
            Status::Passing { .. } => "passing",
            Status::Failing { .. } => "failing",
            Status::Inconclusive { .. } => "inconclusive",
            Status::Skipped { .. } => "skipped",
            Status::NotRun { .. } => "not run",
            Status::NotPorted => "not ported",
        }
    }

    /// Counts or reasons, for a table cell.
    pub fn detail(&self) -> String {
        match self {
            Status::Passing { passed, skipped: 0 } => format!("{passed} cases"),
            Status::Passing { passed, skipped } => format!("{passed} cases, {skipped} skipped"),
            Status::Failing { failed, cases } => format!("{failed} of {cases} cases failed"),
            Status::Inconclusive {
                inconclusive,
                cases,
            } => format!("{inconclusive} of {cases} cases inconclusive"),
            Status::Skipped { reasons } => reasons.join("; "),
            Status::NotRun { reason } => reason.clone(),
            Status::NotPorted => String::new(),
        }
    }

    /// The status labels in report order.
    pub const LABELS: [&'static str; 6] = [
        "passing",
        "failing",
        "inconclusive",
        "skipped",
        "not run",
        "not ported",
    ];
}

/// One catalog row: the Go test, its fixture's layer if ported, a status per implementation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The Go test.
    pub test: GoTest,
    /// The fixture's layer, when there is a fixture.
    pub fixture_layer: Option<Layer>,
    /// One status per implementation, in [`Coverage::implementations`] order.
    pub statuses: Vec<Status>,
}

/// The porting view of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The implementations, in run order.
    pub implementations: Vec<String>,
    /// One row per catalog test, in catalog order.
    pub rows: Vec<Row>,
    /// Fixtures whose Go test is not in the catalog.
    pub extra: Vec<String>,
}

impl Coverage {
    /// Computes the statuses from the fixtures on disk (`ported`, all of them, unfiltered)
    /// and the runs; with no runs, statuses say only ported or not.
    pub fn compute(ported: &[Fixture], runs: &[ImplRun]) -> Coverage {
        let by_name: BTreeMap<&str, &Fixture> =
            ported.iter().map(|f| (f.go_test.as_str(), f)).collect();
        let rows = CATALOG
            .iter()
            .map(|test| {
                let fixture = by_name.get(test.name).copied();
                let statuses = if runs.is_empty() {
                    vec![static_status(fixture)]
                } else {
                    runs.iter()
                        .map(|r| run_status(fixture, r, test.name))
                        .collect()
                };
                Row {
                    test: *test,
                    fixture_layer: fixture.map(|f| f.layer),
                    statuses,
                }
            })
            .collect();
        let extra = ported
            .iter()
            .filter(|f| !CATALOG.iter().any(|t| t.name == f.go_test))
            .map(|f| f.go_test.clone())
            .collect();
        let implementations = if runs.is_empty() {
            vec!["fixtures".to_owned()]
        } else {
            runs.iter().map(|r| r.name.clone()).collect()
        };
        Coverage {
            implementations,
            rows,
            extra,
        }
    }

    /// Per catalog layer (in first-appearance order), then `total`: for each
    /// implementation, the number of tests per status label ([`Status::LABELS`] order).
    pub fn totals(&self) -> Vec<(String, Vec<[usize; 6]>)> {
        let mut layers: Vec<String> = Vec::new();
        for r in &self.rows {
            if !layers.iter().any(|l| l == r.test.layer) {
                layers.push(r.test.layer.to_owned());
            }
        }
        let count = |rows: &mut dyn Iterator<Item = &Row>| {
            let mut per_impl = vec![[0usize; 6]; self.implementations.len()];
            for r in rows {
                for (i, s) in r.statuses.iter().enumerate() {
                    if let Some(k) = Status::LABELS.iter().position(|l| *l == s.label())
                        && let Some(slot) = per_impl.get_mut(i)
                    {
                        slot[k] += 1;
                    }
                }
            }
            per_impl
        };
        let mut out: Vec<(String, Vec<[usize; 6]>)> = layers
            .into_iter()
            .map(|l| {
                let c = count(&mut self.rows.iter().filter(|r| r.test.layer == l));
                (l, c)
            })
            .collect();
        out.push(("total".to_owned(), count(&mut self.rows.iter())));
        out
    }
}

fn static_status(fixture: Option<&Fixture>) -> Status {
    match fixture {
        None => Status::NotPorted,
        Some(f) => match &f.skip {
            Some(reason) => Status::Skipped {
                reasons: vec![reason.clone()],
            },
            None => Status::NotRun {
                reason: "ported (not run)".to_owned(),
            },
        },
    }
}

fn run_status(fixture: Option<&Fixture>, run: &ImplRun, name: &str) -> Status {
    let Some(fixture) = fixture else {
        return Status::NotPorted;
    };
    if run.not_applicable.iter().any(|n| n == name) {
        return Status::NotRun {
            reason: format!(
                "{} layer: tests nats-ws's in-memory core, not applicable to an external server",
                fixture.layer.name()
            ),
        };
    }
    let Some(result) = run.fixture(name) else {
        return Status::NotRun {
            reason: "filtered out".to_owned(),
        };
    };
    let cases = result.cases.len();
    let (passed, failed, inconclusive, skipped) = (
        result.count(Verdict::Pass),
        result.count(Verdict::Fail),
        result.count(Verdict::Inconclusive),
        result.count(Verdict::Skip),
    );
    if failed > 0 {
        Status::Failing { failed, cases }
    } else if inconclusive > 0 {
        Status::Inconclusive {
            inconclusive,
            cases,
        }
    } else if passed == 0 {
        let mut reasons: Vec<String> = Vec::new();
        for c in &result.cases {
            if let Some(r) = &c.skip_reason
                && !reasons.contains(r)
            {
                reasons.push(r.clone());
            }
        }
        Status::Skipped { reasons }
    } else {
        Status::Passing { passed, skipped }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn catalog_matches_go_tests_md() {
        let ws = CATALOG
            .iter()
            .filter(|t| t.file == "server/websocket_test.go")
            .count();
        assert_eq!(ws, 73);
        assert_eq!(CATALOG.len(), 126);
        let mut names: Vec<&str> = CATALOG.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOG.len(), "duplicate names");
        // §1.1 counts per layer.
        let layer = |l: &str| {
            CATALOG
                .iter()
                .filter(|t| t.section == "§1" && t.layer == l)
                .count()
        };
        assert_eq!(layer("frame-decode"), 11);
        assert_eq!(layer("compression"), 11);
        assert_eq!(layer("handshake/upgrade"), 12);
        assert_eq!(layer("auth"), 8);
        assert_eq!(layer("misc"), 2);
    }

    #[test]
    fn statuses_from_a_run() {
        let yaml = |name: &str, layer: &str| -> Fixture {
            let text = format!(
                "go_test: {name}\ngo_source: x\nlayer: {layer}\ndescription: d\nsteps: []\n"
            );
            match Fixture::parse(&text) {
                Ok(f) => f,
                Err(e) => panic!("{e}"),
            }
        };
        let ported = vec![
            yaml("TestWSPubSub", "server"),
            yaml("TestWSGet", "codec"),
            yaml("TestWSUnmask", "frame"),
            yaml("TestNotInCatalog", "frame"),
        ];
        let cov = Coverage::compute(&ported, &[sample::run("nats-ws")]);
        let status = |n: &str| {
            cov.rows
                .iter()
                .find(|r| r.test.name == n)
                .map(|r| r.statuses[0].clone())
        };
        assert_eq!(
            status("TestWSPubSub"),
            Some(Status::Failing {
                failed: 1,
                cases: 2
            })
        );
        assert_eq!(
            status("TestWSGet"),
            Some(Status::Skipped {
                reasons: vec!["needs <nats.go> & \"jwt\"".to_owned()]
            })
        );
        assert_eq!(status("TestWSUnmask").map(|s| s.label()), Some("not run"));
        assert_eq!(status("TestWSAdvertise"), Some(Status::NotPorted));
        assert_eq!(cov.extra, vec!["TestNotInCatalog".to_owned()]);
        let totals = cov.totals();
        let (name, total) = &totals[totals.len() - 1];
        assert_eq!(name, "total");
        assert_eq!(total[0], [0, 1, 0, 1, 1, 123]);
    }
}
