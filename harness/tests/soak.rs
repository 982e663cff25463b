//! `soak` (the diff's generator against one server per configuration): a short run
//! against the in-process nats-ws server passes its liveness and RSS oracles, and a
//! server that stops answering is caught, naming the case after which it was seen.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use nats_ws_harness::diff::soak::{SoakOpts, soak};
use nats_ws_harness::embedded::Embedded;
use nats_ws_harness::target::{ConnView, Placeholders, Running};

fn ephemeral() -> Placeholders {
    Placeholders {
        client_port: 0,
        ws_port: 0,
        http_port: 0,
        mqtt_port: 0,
        leaf_port: 0,
        cluster_port: 0,
        ephemeral: true,
        certs: PathBuf::from("/nonexistent"),
    }
}

#[test]
fn a_short_run_against_the_embedded_server_passes_both_oracles() {
    let opts = SoakOpts {
        seed: 20261203,
        indices: (0..40).collect(),
        jobs: 2,
        rss_limit: 64 * 1_048_576,
    };
    // In process, the RSS sampled is this test process's (server and clients together):
    // a looser oracle than against the binary, which `scripts/soak.sh` runs.
    let start = |config: &str, _name: &str| {
        let server = Embedded::start(&ephemeral().render(config))?;
        Ok((
            Box::new(server) as Box<dyn Running>,
            Some(std::process::id()),
        ))
    };
    let report = soak(&opts, &start, &|_| {});
    assert_eq!(report.failure, None, "{report:?}");
    assert_eq!(report.cases, 40);
    assert!(
        report.groups.len() > 1,
        "40 cases span several configurations"
    );
    assert!(report.max_rss() > 0, "RSS was sampled: {report:?}");
    assert!(
        report
            .groups
            .iter()
            .all(|g| g.max_probe < Duration::from_secs(5))
    );
}

/// Accepts connections and closes them at once: nothing ever answers.
struct Mute {
    addr: SocketAddr,
}

impl Running for Mute {
    fn ws_addr(&self) -> Option<SocketAddr> {
        Some(self.addr)
    }
    fn client_addr(&self) -> Option<SocketAddr> {
        Some(self.addr)
    }
    fn http_addr(&self) -> Option<SocketAddr> {
        None
    }
    fn logs(&self) -> Vec<String> {
        vec!["mute".to_owned()]
    }
    fn connections(&self) -> Option<Vec<ConnView>> {
        None
    }
    fn reload(&mut self, _config: &str) -> Result<(), String> {
        Err("mute".to_owned())
    }
    fn stop(self: Box<Self>) {}
}

#[test]
fn a_server_that_stops_answering_fails_the_run_at_its_case() {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string());
    let listener = listener.unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    // Bounded: the run stops at its first case; the thread ends with the test process
    // if fewer connections come.
    std::thread::spawn(move || {
        for s in listener.incoming().take(20) {
            drop(s);
        }
    });
    let opts = SoakOpts {
        seed: 9,
        indices: vec![4, 5, 6],
        jobs: 1,
        rss_limit: 64 * 1_048_576,
    };
    let start =
        |_config: &str, _name: &str| Ok((Box::new(Mute { addr }) as Box<dyn Running>, None));
    let report = soak(&opts, &start, &|_| {});
    let failure = report.failure.clone();
    let failure = failure.unwrap_or_else(|| panic!("no failure: {report:?}"));
    assert_eq!(failure.index, report_first(9, &[4, 5, 6]));
    assert!(failure.what.starts_with("liveness: "), "{failure:?}");
    assert_eq!(failure.logs, vec!["mute".to_owned()]);
    assert_eq!(report.cases, 0);
}

/// The first case soak runs: the first index of the first configuration group.
fn report_first(seed: u64, indices: &[u64]) -> u64 {
    nats_ws_harness::diff::soak::groups(seed, indices)[0].2[0]
}
