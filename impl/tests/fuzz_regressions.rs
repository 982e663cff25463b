//! Replays the fuzz regressions and seeds (`fuzz/regressions/<target>/`,
//! `fuzz/seeds/<target>/`) through the same `nats_ws::fuzzing` oracles the cargo-fuzz
//! targets call, so every CI run checks them on stable. Raw-byte targets always run;
//! the `arbitrary` targets run with `--features fuzzing` (as `fuzz/ci.sh` does).

use std::path::{Path, PathBuf};

use nats_ws::fuzzing;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Runs every file of `<kind>/<target>/` through its target; returns how many ran.
fn replay(kind: &str, targets: &[fuzzing::Target]) -> usize {
    let mut ran = 0;
    for (name, target) in targets {
        let dir = fuzz_dir().join(kind).join(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for file in files.iter().filter(|f| f.is_file()) {
            let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            // Printed only if the oracle panics: names the input that failed.
            eprintln!("replaying {}", file.display());
            target(&data);
            ran += 1;
        }
    }
    ran
}

#[test]
fn raw_regressions_pass() {
    let ran = replay("regressions", fuzzing::RAW_TARGETS);
    assert!(
        ran > 0,
        "no regression inputs found under {}",
        fuzz_dir().display()
    );
}

#[test]
fn raw_seeds_pass() {
    assert!(replay("seeds", fuzzing::RAW_TARGETS) > 0, "no seeds found");
}

#[cfg(feature = "fuzzing")]
#[test]
fn structured_regressions_and_seeds_pass() {
    let ran = replay("regressions", fuzzing::STRUCTURED_TARGETS)
        + replay("seeds", fuzzing::STRUCTURED_TARGETS);
    assert!(ran > 0, "no structured inputs found");
}

/// The Go server's WebSocket bugs stay in the regression set.
#[test]
fn known_nats_bugs_are_kept() {
    for file in [
        "frame_decoder/cve-2026-27889-msb-length",
        "frame_decoder/length-2-pow-62",
        "frame_decoder/empty-compressed-frame",
        "frame_decoder/one-byte-close",
        "close_payload/one-byte-close",
    ] {
        let path = fuzz_dir().join("regressions").join(file);
        assert!(path.is_file(), "{} is missing", path.display());
    }
}
