//! The differential fuzzer flags only real differences: the Go server against itself,
//! over a bounded number of generated sessions, differs in none (Go's racy loss of its
//! close frame after a protocol error is recognised, not reported).

use nats_ws_harness::diff::{CaseResult, Pair, Tally, campaign};

#[test]
#[ignore = "needs the Go server at .venv-peers/bin/nats-server (bash scripts/install-peers.sh); \
            .ci/run runs it with --ignored"]
fn go_against_go_finds_no_difference() {
    let go = nats_ws_harness::repo_root().join(".venv-peers/bin/nats-server");
    assert!(go.exists(), "{} is missing", go.display());
    let cmd = format!("{} -c {{conf}}", go.display());
    let pair = Pair {
        a: cmd.clone(),
        b: cmd,
    };
    let dir = std::env::temp_dir().join(format!("nats-ws-diff-go-{}", std::process::id()));
    let report = |r: &CaseResult| {
        if !matches!(r.verdict, Ok(nats_ws_harness::diff::compare::Verdict::Same))
            && !matches!(r.verdict, Ok(nats_ws_harness::diff::compare::Verdict::Racy))
        {
            println!("case 11:{}: {:?}", r.index, r.verdict);
        }
    };
    let results = campaign(&pair, 11, 80, 2, &dir, &report);
    let _ = std::fs::remove_dir_all(&dir);
    let t = Tally::of(&results);
    assert_eq!(results.len(), 80);
    assert_eq!((t.differ, t.errors), (0, 0), "{t:?}");
    assert!(
        t.documented.is_empty(),
        "Go is not documented against itself: {t:?}"
    );
    assert!(t.same > 40, "most sessions are plainly equal: {t:?}");
}
