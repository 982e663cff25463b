//! `nats-ws-conform`: replays the ported Go tests (YAML fixtures) against the embedded
//! nats-ws server, a server started from a command line, or one already running; compares
//! two implementations; reports coverage of the Go test catalog; writes HTML, Autobahn-style
//! JSON and JUnit reports.

// In a folder named after the binary, so that cargo does not take them for binaries.
#[path = "nats-ws-conform/console.rs"]
mod console;
#[path = "nats-ws-conform/diff.rs"]
mod diff;
#[path = "nats-ws-conform/exec.rs"]
mod exec;
#[path = "nats-ws-conform/soak.rs"]
mod soak;

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use nats_ws_harness::fixture::{Fixture, load_all};
use nats_ws_harness::report::coverage::Coverage;
use nats_ws_harness::report::{self, ImplRun, Report};
use nats_ws_harness::run::RunContext;
use nats_ws_harness::target::TargetSpec;

use exec::{Plan, ProgressMode, Settings};

const AFTER_HELP: &str = "\
Targets:
  (default)              the embedded nats-ws server; every fixture runs, in-memory layers
                         included, and transcripts are compared with golden/
  --server-cmd 'CMD'     a server started per case; {conf} becomes the path of the NATS
                         configuration the fixture needs (with {ws_port}/{client_port} filled)
  --target ws://H:P      a server already running on loopback; nothing is started and the
                         fixtures' configurations are NOT applied: cases that need one (auth,
                         TLS, compression, limits) may fail, and such failures are reported as
                         inconclusive, not failed
Black-box targets run only `layer: server` fixtures; the in-memory layers (frame, codec,
handshake, options) test nats-ws's own core.

Exit status: run: 1 if any case failed; compare: 1 if the implementations differ;
list/coverage: 0. 2 on usage or set-up errors.

Examples:
  nats-ws-conform
  nats-ws-conform --server-cmd 'nats-server -c {conf}' --out report/
  nats-ws-conform compare embedded 'go=nats-server -c {conf}' --out report/
  nats-ws-conform --target ws://127.0.0.1:8080 --client-port 4222
  nats-ws-conform coverage";

/// Conformance harness for NATS-over-WebSocket servers: the Go server's WebSocket tests as
/// language-neutral fixtures, run against any implementation.
#[derive(Debug, Parser)]
#[command(
    version,
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true,
    subcommand_value_name = "COMMAND"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every applicable fixture and print a summary (the default command).
    Run(RunArgs),
    /// List the fixtures: layer, cases, skips and in-process-only reasons.
    List(ListArgs),
    /// The porting view: every Go WebSocket test and its status here.
    Coverage(CoverageArgs),
    /// Run the server-layer fixtures against two implementations and show where they differ.
    Compare(CompareArgs),
    /// Differential fuzzing: seeded random sessions against two servers, compared.
    Diff(diff::DiffArgs),
    /// The diff's sessions against ONE server per configuration, checking after each case
    /// that it still answers PING and that its RSS stays bounded.
    Soak(soak::SoakArgs),
}

#[derive(Debug, Clone, Args)]
struct TargetArgs {
    /// Start the server under test with this command for each case; `{conf}` is replaced
    /// by the path of the configuration file the case needs (NATS format).
    #[arg(long, value_name = "CMD", conflicts_with = "target")]
    server_cmd: Option<String>,
    /// Run against a server already listening on this loopback WebSocket address
    /// (ws://HOST:PORT); fixture configurations are not applied.
    #[arg(long, value_name = "ws://HOST:PORT")]
    target: Option<String>,
    /// With --target: the plain NATS port of that server (for cases that use a NATS client).
    #[arg(long, value_name = "PORT", requires = "target")]
    client_port: Option<u16>,
    /// Name of the implementation in reports (default: nats-ws, the command's program
    /// name, or the address).
    #[arg(long)]
    name: Option<String>,
}

#[derive(Debug, Clone, Args)]
struct CommonArgs {
    /// Fixture folder (default: the repository's fixtures/).
    #[arg(long, value_name = "DIR")]
    fixtures: Option<PathBuf>,
    /// Only cases whose Go test name or case name contains PATTERN (case-sensitive).
    #[arg(long, value_name = "PATTERN")]
    filter: Option<String>,
    /// Run cases on N threads (server cases each start their own server on free ports).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..))]
    jobs: u16,
    /// Default wait for connections and replies, per case, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    timeout: f64,
    /// Write index.html, index.json, index-stable.json, junit.xml and coverage.json here.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    out: Option<PathBuf>,
    /// No progress bar or per-case lines; only the summary.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// The peer server of multi-server (leafnode) fixtures; `{conf}` is its configuration
    /// file (default: NATS_WS_PEER_CMD, else .venv-peers/bin/nats-server -c {conf}).
    #[arg(long, value_name = "CMD")]
    peer_cmd: Option<String>,
}

#[derive(Debug, Clone, Args)]
struct RunArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Compare two implementations (give it twice): `embedded`, a command with {conf}, or
    /// ws://HOST:PORT; prefix NAME= to name one. Same as the `compare` command.
    #[arg(long, value_name = "TARGET", num_args = 1, conflicts_with_all = ["server_cmd", "target"])]
    compare: Vec<String>,
    #[command(flatten)]
    common: CommonArgs,
    /// Do not compare embedded transcripts with golden/.
    #[arg(long)]
    no_golden: bool,
}

#[derive(Debug, Clone, Args)]
struct ListArgs {
    /// Fixture folder (default: the repository's fixtures/).
    #[arg(long, value_name = "DIR")]
    fixtures: Option<PathBuf>,
    /// Only cases whose Go test name or case name contains PATTERN.
    #[arg(long, value_name = "PATTERN")]
    filter: Option<String>,
}

#[derive(Debug, Clone, Args)]
struct CoverageArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    common: CommonArgs,
    /// Do not run anything: show only which Go tests have fixtures.
    #[arg(long)]
    no_run: bool,
    /// Do not compare embedded transcripts with golden/.
    #[arg(long)]
    no_golden: bool,
}

#[derive(Debug, Clone, Args)]
struct CompareArgs {
    /// First implementation: `embedded`, a command with {conf}, or ws://HOST:PORT; prefix
    /// NAME= to name it (e.g. 'go=nats-server -c {conf}').
    a: String,
    /// Second implementation, as the first.
    b: String,
    /// With a ws:// target: its plain NATS port.
    #[arg(long, value_name = "PORT")]
    client_port: Option<u16>,
    #[command(flatten)]
    common: CommonArgs,
}

/// A set-up error: printed, exit status 2.
struct Fatal(String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Fatal {
        Fatal(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Run(cli.run)) {
        Command::Run(args) if !args.compare.is_empty() => {
            if args.compare.len() != 2 {
                Err(Fatal("--compare needs exactly two targets".to_owned()))
            } else {
                compare(
                    &args.compare[0],
                    &args.compare[1],
                    args.target.client_port,
                    &args.common,
                )
            }
        }
        Command::Run(args) => run(&args),
        Command::List(args) => list(&args),
        Command::Coverage(args) => coverage(&args),
        Command::Compare(args) => compare(&args.a, &args.b, args.client_port, &args.common),
        Command::Diff(args) => diff::diff(&args),
        Command::Soak(args) => soak::soak(&args),
    };
    match result {
        Ok(code) => code,
        Err(Fatal(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &RunArgs) -> Result<ExitCode, Fatal> {
    let target = target_from(&args.target)?;
    let fixtures = load(args.common.fixtures.as_deref())?;
    let run = execute(&fixtures, target, &args.common, !args.no_golden)?;
    console::summary(&run);
    let failed = run.count(report::Verdict::Fail) > 0;
    let coverage = Coverage::compute(&fixtures, std::slice::from_ref(&run));
    console::coverage_line(&coverage);
    write_reports(&args.common, vec![run], Vec::new(), coverage)?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn list(args: &ListArgs) -> Result<ExitCode, Fatal> {
    let fixtures = load(args.fixtures.as_deref())?;
    console::list(&fixtures, args.filter.as_deref());
    Ok(ExitCode::SUCCESS)
}

fn coverage(args: &CoverageArgs) -> Result<ExitCode, Fatal> {
    let fixtures = load(args.common.fixtures.as_deref())?;
    let runs = if args.no_run {
        Vec::new()
    } else {
        let target = target_from(&args.target)?;
        vec![execute(&fixtures, target, &args.common, !args.no_golden)?]
    };
    let coverage = Coverage::compute(&fixtures, &runs);
    console::coverage(&coverage);
    if !runs.is_empty() {
        write_reports(&args.common, runs, Vec::new(), coverage)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn compare(
    a: &str,
    b: &str,
    client_port: Option<u16>,
    common: &CommonArgs,
) -> Result<ExitCode, Fatal> {
    let mut ta = parse_target(a, client_port)?;
    let mut tb = parse_target(b, client_port)?;
    if ta.name() == tb.name() {
        let (na, nb) = (format!("{}-a", ta.name()), format!("{}-b", tb.name()));
        rename(&mut ta, &na);
        rename(&mut tb, &nb);
    }
    let fixtures = load(common.fixtures.as_deref())?;
    // Only the server layer can be compared: force black-box planning for both sides.
    let ra = execute_black_box(&fixtures, ta, common)?;
    let rb = execute_black_box(&fixtures, tb, common)?;
    let diffs = report::compare(&ra, &rb);
    console::diffs(&diffs, &ra, &rb);
    if !ra.not_applicable.is_empty() {
        println!(
            "{} in-memory fixtures not applicable to an external server were left out",
            ra.not_applicable.len()
        );
    }
    let differ = !diffs.is_empty();
    let runs = vec![ra, rb];
    let coverage = Coverage::compute(&fixtures, &runs);
    write_reports(common, runs, diffs, coverage)?;
    Ok(if differ {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn load(dir: Option<&Path>) -> Result<Vec<Fixture>, Fatal> {
    let dir = dir.map_or_else(nats_ws_harness::fixtures_dir, Path::to_path_buf);
    Ok(load_all(&dir)?)
}

fn context(target: TargetSpec, common: &CommonArgs) -> Result<RunContext, Fatal> {
    if let TargetSpec::Fixed { ws, client, .. } = &target {
        // Fail once, up front, rather than in every case.
        nats_ws_harness::target::Fixed::new(*ws, *client).map_err(Fatal)?;
    }
    if !(common.timeout.is_finite() && common.timeout > 0.0) {
        return Err(Fatal(
            "--timeout must be a positive number of seconds".to_owned(),
        ));
    }
    let mut ctx = RunContext::new(target, nats_ws_harness::embedded::starter())?;
    ctx.timeout = Duration::from_secs_f64(common.timeout);
    if let Some(cmd) = &common.peer_cmd {
        ctx.peer_cmd = cmd.clone();
    }
    Ok(ctx)
}

fn settings(common: &CommonArgs, target: &TargetSpec, golden: bool) -> Settings {
    let mut jobs = usize::from(common.jobs);
    if jobs > 1 && matches!(target, TargetSpec::Fixed { .. }) {
        // Cases would share the one server (and its subjects): run them one at a time.
        eprintln!(
            "note: --jobs ignored for {}: cases against a fixed target run one at a time",
            target.name()
        );
        jobs = 1;
    }
    Settings {
        jobs,
        golden,
        progress: if common.quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        },
    }
}

fn execute(
    fixtures: &[Fixture],
    target: TargetSpec,
    common: &CommonArgs,
    golden: bool,
) -> Result<ImplRun, Fatal> {
    let black_box = target != TargetSpec::Embedded;
    let plan = Plan::new(fixtures, common.filter.as_deref(), black_box);
    let settings = settings(common, &target, golden);
    let ctx = context(target, common)?;
    Ok(exec::execute(&plan, &ctx, settings))
}

fn execute_black_box(
    fixtures: &[Fixture],
    target: TargetSpec,
    common: &CommonArgs,
) -> Result<ImplRun, Fatal> {
    let plan = Plan::new(fixtures, common.filter.as_deref(), true);
    let settings = settings(common, &target, false);
    let ctx = context(target, common)?;
    Ok(exec::execute(&plan, &ctx, settings))
}

fn write_reports(
    common: &CommonArgs,
    runs: Vec<ImplRun>,
    diffs: Vec<report::CaseDiff>,
    coverage: Coverage,
) -> Result<(), Fatal> {
    let Some(dir) = &common.out else {
        return Ok(());
    };
    let report = Report {
        runs,
        diffs,
        coverage,
    };
    let files = report::write_all(&report, dir)
        .map_err(|e| Fatal(format!("writing reports to {}: {e}", dir.display())))?;
    println!(
        "\nreports: {}",
        files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// The target of `run`/`coverage` from --server-cmd / --target / neither.
fn target_from(args: &TargetArgs) -> Result<TargetSpec, Fatal> {
    let mut target = match (&args.server_cmd, &args.target) {
        (Some(cmd), _) => command_target(cmd),
        (None, Some(url)) => fixed_target(url, args.client_port)?,
        (None, None) => TargetSpec::Embedded,
    };
    if let Some(name) = &args.name {
        rename(&mut target, name);
    }
    Ok(target)
}

/// `embedded`, `ws://HOST:PORT`, or a command; `NAME=` in front names it.
fn parse_target(spec: &str, client_port: Option<u16>) -> Result<TargetSpec, Fatal> {
    let (name, rest) = match spec.split_once('=') {
        Some((n, r))
            if !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) =>
        {
            (Some(n), r)
        }
        _ => (None, spec),
    };
    let rest = rest.trim();
    let mut target = if rest == "embedded" {
        TargetSpec::Embedded
    } else if rest.starts_with("ws://") || rest.starts_with("wss://") {
        fixed_target(rest, client_port)?
    } else {
        command_target(rest)
    };
    if let Some(n) = name {
        rename(&mut target, n);
    }
    Ok(target)
}

fn command_target(cmd: &str) -> TargetSpec {
    let program = cmd.split_whitespace().next().unwrap_or("server");
    let name = Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(program);
    if !cmd.contains("{conf}") {
        eprintln!("warning: the server command has no {{conf}}: fixtures cannot configure it");
    }
    TargetSpec::Command {
        name: name.to_owned(),
        cmd: cmd.to_owned(),
    }
}

/// `ws://HOST:PORT` on loopback (a `/path` or trailing `/` is ignored).
fn fixed_target(url: &str, client_port: Option<u16>) -> Result<TargetSpec, Fatal> {
    if url.starts_with("wss://") {
        return Err(Fatal(
            "wss:// targets are not supported: whether a case uses TLS is the fixture's choice"
                .to_owned(),
        ));
    }
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| Fatal(format!("{url:?}: expected ws://HOST:PORT")))?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let ws = loopback(authority)?;
    let client = client_port.map(|p| SocketAddr::new(ws.ip(), p));
    Ok(TargetSpec::Fixed {
        name: authority.to_owned(),
        ws,
        client,
    })
}

/// Resolves `HOST:PORT` and insists on a loopback address.
fn loopback(authority: &str) -> Result<SocketAddr, Fatal> {
    let addrs: Vec<SocketAddr> = authority
        .to_socket_addrs()
        .map_err(|e| Fatal(format!("{authority:?}: {e}")))?
        .collect();
    addrs
        .iter()
        .copied()
        .find(|a| a.ip().is_loopback())
        .ok_or_else(|| {
            let shown: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
            Fatal(format!(
                "{authority} ({shown:?}) is not a loopback address: only local servers can be targets"
            ))
        })
}

fn rename(target: &mut TargetSpec, new: &str) {
    match target {
        TargetSpec::Embedded => {
            // The embedded target's name is fixed (`nats-ws`); wrap it as-is.
            eprintln!("note: the embedded target is always named nats-ws; ignoring {new:?}");
        }
        TargetSpec::Command { name, .. } | TargetSpec::Fixed { name, .. } => *name = new.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(spec: &str) -> Result<TargetSpec, String> {
        parse_target(spec, Some(4222)).map_err(|Fatal(m)| m)
    }

    #[test]
    fn targets_embedded_commands_and_names() {
        assert_eq!(target("embedded"), Ok(TargetSpec::Embedded));
        assert_eq!(
            target("/opt/bin/nats-server -c {conf}"),
            Ok(TargetSpec::Command {
                name: "nats-server".to_owned(),
                cmd: "/opt/bin/nats-server -c {conf}".to_owned()
            })
        );
        assert_eq!(
            target("go=nats-server -c {conf} --a=b"),
            Ok(TargetSpec::Command {
                name: "go".to_owned(),
                cmd: "nats-server -c {conf} --a=b".to_owned()
            })
        );
    }

    #[test]
    fn fixed_targets_are_loopback_only() {
        assert_eq!(
            target("ws://127.0.0.1:8080/"),
            Ok(TargetSpec::Fixed {
                name: "127.0.0.1:8080".to_owned(),
                ws: SocketAddr::from(([127, 0, 0, 1], 8080)),
                client: Some(SocketAddr::from(([127, 0, 0, 1], 4222))),
            })
        );
        assert!(target("ws://[::1]:8080").is_ok());
        assert!(target("ws://10.1.2.3:8080").is_err_and(|e| e.contains("not a loopback")));
        assert!(target("wss://127.0.0.1:8443").is_err());
        assert!(target("ws://127.0.0.1").is_err());
    }
}
