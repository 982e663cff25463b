//! The `nats-ws-server` process as an operator drives it: log file rotation and reopen
//! (SIGUSR1, `--signal reopen`), syslog, lame duck mode (SIGUSR2, `--signal ldm`).

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/process.rs"]
mod process;
use process::{Stopped, scratch, signal, terminate, wait_exit, wait_for};

const BIN: &str = env!("CARGO_BIN_EXE_nats-ws-server");

/// Waits (bounded) until one of the files in `dir` holds `needle` (a rotated log moves
/// lines into backups).
fn wait_in_dir(dir: &Path, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let all: String = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
            .collect();
        if all.contains(needle) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{needle:?} never appeared: {all}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn backups(dir: &Path, base: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(&format!("{base}.")))
        .collect();
    v.sort();
    v
}

#[test]
fn log_file_rotates_purges_and_reopens_on_signal() {
    let dir = scratch("ops", "rotate");
    let log = dir.join("s.log");
    let conf = dir.join("s.conf");
    // Go's test sizes: the startup lines alone pass 400 bytes, so it rotates at once.
    std::fs::write(
        &conf,
        format!(
            "port: -1\nlog_file: {:?}\nlog_size_limit: 400\nlogfile_max_num: 2\n",
            log.to_str().unwrap()
        ),
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .arg("-c")
        .arg(&conf)
        .stderr(Stdio::null())
        .spawn()
        .map(Stopped)
        .unwrap();
    // The ready line may itself have been rotated into a backup.
    wait_in_dir(&dir, "Server is ready");
    // Rotation happened, and the purge kept one backup (max 2 files = current + 1).
    let text = wait_for(&log, "Rotated log, backup saved as ");
    assert!(
        text.contains("\r\n"),
        "Go ends the rotation line with CRLF: {text:?}"
    );
    assert_eq!(backups(&dir, "s.log").len(), 1);

    // logrotate's way: rename the file, then ask for a reopen by pid file-less signal.
    let moved = dir.join("moved.log");
    std::fs::rename(&log, &moved).unwrap();
    let status = Command::new(BIN)
        .args(["--signal", &format!("reopen={}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
    wait_for(&moved, "Trapped \"user defined signal 1\" signal");
    let fresh = wait_for(&log, "File log re-opened");
    assert!(!fresh.contains("Trapped"), "{fresh}");
    assert!(terminate(&mut child).success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reopen_without_a_log_file_says_so_on_stderr() {
    let dir = scratch("ops", "reopen-stderr");
    let err = dir.join("stderr");
    let mut child = Command::new(BIN)
        .args(["-p", "-1", "--ws_port", "-1"])
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .map(Stopped)
        .unwrap();
    wait_for(&err, "Server is ready");
    signal(&child, "USR1");
    wait_for(&err, "[INF] File log re-open ignored, not a file logger");
    assert!(terminate(&mut child).success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn remote_syslog_over_udp_and_refusals() {
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let url = format!("udp://{}", udp.local_addr().unwrap());
    let mut child = Command::new(BIN)
        .args(["-p", "-1", "--ws_port", "-1", "-r", &url])
        .stderr(Stdio::null())
        .spawn()
        .map(Stopped)
        .unwrap();
    let pid = child.id();
    let mut buf = [0u8; 2048];
    let n = udp.recv(&mut buf).unwrap();
    let first = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(first.starts_with("<5>"), "{first}");
    assert!(
        first.ends_with(&format!(
            " nats-ws-server[{pid}]: Starting nats-ws-server\n"
        )),
        "{first}"
    );
    // Wait for the ready line: a TERM sent while starting would not be trapped yet.
    loop {
        let n = udp.recv(&mut buf).unwrap();
        if buf[..n].ends_with(b"]: Server is ready\n") {
            break;
        }
    }
    assert!(terminate(&mut child).success());

    for (args, want) in [
        (
            vec!["-r", "http://127.0.0.1:1"],
            " error invalid network type: \"http\"\n",
        ),
        (
            vec!["-r", "udp://127.0.0.1"],
            " error connecting to syslog: \"dial udp: address 127.0.0.1: missing port in address\"\n",
        ),
    ] {
        let out = Command::new(BIN)
            .args(["-p", "-1"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let text = String::from_utf8(out.stderr).unwrap();
        assert!(text.ends_with(want), "{args:?}: {text:?}");
    }
}

#[test]
fn lame_duck_by_signal_and_by_pid_file() {
    let dir = scratch("ops", "ldm");
    let (log, pid) = (dir.join("s.log"), dir.join("s.pid"));
    for how in ["USR2", "--signal"] {
        let _ = std::fs::remove_file(&log);
        let mut child = Command::new(BIN)
            .args(["-p", "-1", "--ws_port", "-1", "-l"])
            .arg(&log)
            .arg("-P")
            .arg(&pid)
            .stderr(Stdio::null())
            .spawn()
            .map(Stopped)
            .unwrap();
        wait_for(&log, "Server is ready");
        if how == "USR2" {
            signal(&child, "USR2");
        } else {
            let arg = format!("ldm={}", pid.display());
            let status = Command::new(BIN).args(["--signal", &arg]).status().unwrap();
            assert!(status.success());
        }
        // No client: lame duck mode shuts the server down without the grace period.
        assert!(wait_exit(&mut child).success());
        let text = std::fs::read_to_string(&log).unwrap();
        let tail: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.contains("Trapped"))
            .map(|l| l.split("] ").last().unwrap())
            .collect();
        assert_eq!(
            tail,
            [
                "Trapped \"user defined signal 2\" signal",
                "Entering lame duck mode, stop accepting new clients",
                "Initiating Shutdown...",
                "Server Exiting..",
            ],
            "{how}: {text}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn trace_with_max_traced_msg_len_from_the_command_line() {
    use std::io::{Read, Write};
    let dir = scratch("ops", "trace");
    let (log, ports) = (dir.join("s.log"), dir.clone());
    let mut child = Command::new(BIN)
        .args([
            "-p",
            "-1",
            "--ws_port",
            "-1",
            "-V",
            "--max_traced_msg_len",
            "5",
            "-l",
        ])
        .arg(&log)
        .arg("--ports_file_dir")
        .arg(&ports)
        .stderr(Stdio::null())
        .spawn()
        .map(Stopped)
        .unwrap();
    wait_for(&log, "Server is ready");
    let ports_file = dir.join(format!("nats-ws-server_{}.ports", child.id()));
    let text = wait_for(&ports_file, "nats://");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let url = json["nats"][0]
        .as_str()
        .unwrap()
        .trim_start_matches("nats://")
        .to_owned();
    let mut c = std::net::TcpStream::connect(url).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c.write_all(
        b"CONNECT {\"verbose\":false}\r\nSUB foo 1\r\nPUB foo 12\r\nhello world!\r\nPING\r\n",
    )
    .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("PONG\r\n") {
        let n = c.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    let text = wait_for(&log, "->> [PONG]");
    let traces: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("[TRC] "))
        .map(|l| l.split(" - ").last().unwrap())
        .collect();
    assert_eq!(
        traces,
        [
            "<<- [CONNECT {\"verbose\":false}]",
            "<<- [SUB foo 1]",
            "<<- [PUB foo 12]",
            "<<- MSG_PAYLOAD: [\"hello...\"]",
            "->> [MSG foo 1 12]",
            "->> MSG_PAYLOAD: [\"hello...\"]",
            "<<- [PING]",
            "->> [PONG]",
        ]
    );
    assert!(terminate(&mut child).success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn signal_command_errors_are_go_texts() {
    for (arg, want) in [
        (
            "reopen=/nonexistent/x.pid",
            "nats-ws-server: invalid pid: /nonexistent/x.pid\n",
        ),
        (
            "ldm=4194304",
            "nats-ws-server: \nsignal \"ldm\" 4194304: no such process\n",
        ),
        ("bogus=1", "nats-ws-server: unknown signal \"bogus\"\n"),
        ("a=b=c", "nats-ws-server: invalid signal parameters: [c]\n"),
    ] {
        let out = Command::new(BIN).args(["--signal", arg]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{arg}");
        assert_eq!(String::from_utf8(out.stderr).unwrap(), want, "{arg}");
    }
}

/// Go: TestProcessSignalTermDuringLameDuckMode — SIGTERM does not cut lame duck mode
/// short: the grace period still passes and the clients are closed before the exit.
#[test]
fn sigterm_during_lame_duck_mode_is_ignored() {
    let dir = scratch("ops", "ldm-term");
    let (log, conf) = (dir.join("s.log"), dir.join("s.conf"));
    std::fs::write(
        &conf,
        "listen: \"127.0.0.1:-1\"\nlame_duck_duration: \"30s\"\nlame_duck_grace_period: \"1s\"\n",
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .arg("-c")
        .arg(&conf)
        .arg("-l")
        .arg(&log)
        .arg("--ports_file_dir")
        .arg(&dir)
        .stderr(Stdio::null())
        .spawn()
        .map(Stopped)
        .unwrap();
    wait_for(&log, "Server is ready");
    let ports = dir.join(format!("nats-ws-server_{}.ports", child.id()));
    let json: serde_json::Value = serde_json::from_str(&wait_for(&ports, "nats://")).unwrap();
    let addr = json["nats"][0]
        .as_str()
        .unwrap()
        .trim_start_matches("nats://")
        .to_owned();
    let _client = std::net::TcpStream::connect(addr).unwrap();
    // The client must be registered before lame duck mode counts the clients.
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    signal(&child, "USR2");
    wait_for(&log, "Entering lame duck mode, stop accepting new clients");
    assert!(terminate(&mut child).success());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let term = text.find("Trapped \"terminated\" signal").unwrap();
    let closing = text.find("Closing existing clients").unwrap();
    assert!(term < closing, "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn log_size_limit_from_the_command_line() {
    let dir = scratch("ops", "rotate-cli");
    let log = dir.join("s.log");
    let mut child = Command::new(BIN)
        .args([
            "-p",
            "-1",
            "--ws_port",
            "-1",
            "--log_size_limit",
            "300",
            "-l",
        ])
        .arg(&log)
        .stderr(Stdio::null())
        .spawn()
        .map(Stopped)
        .unwrap();
    wait_in_dir(&dir, "Server is ready");
    wait_in_dir(&dir, "Rotated log, backup saved as ");
    assert!(terminate(&mut child).success());
    // No logfile_max_num: every backup is kept.
    assert!(!backups(&dir, "s.log").is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}
