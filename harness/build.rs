//! Generates one `#[test]` per fixture, named exactly after the Go test, so that
//! `cargo test TestWSReadErrors` selects it.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<(String, Option<String>)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            println!("cargo:rerun-if-changed={}", path.display());
            if path.extension().is_some_and(|e| e == "yaml")
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
            {
                // A fixture-level skip, or a pending fixture (which this test, against the
                // embedded server, would skip), becomes #[ignore] with its reason (read
                // loosely here; the loader checks the schema strictly).
                let skip = std::fs::read_to_string(&path).ok().and_then(|t| {
                    t.lines().find_map(|l| {
                        l.strip_prefix("skip:")
                            .map(|r| r.trim().trim_matches('"').to_owned())
                            .or_else(|| {
                                l.strip_prefix("pending:")
                                    .map(|r| format!("pending: {}", r.trim().trim_matches('"')))
                            })
                    })
                });
                names.push((stem.to_owned(), skip));
            }
        }
    }
    names.sort();
    let mut out = String::new();
    for (name, skip) in names {
        let ident: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if let Some(reason) = skip {
            let _ = writeln!(out, "#[ignore = {reason:?}]");
        }
        let _ = writeln!(
            out,
            "#[test]\n#[allow(non_snake_case)]\nfn {ident}() {{ replay({name:?}); }}\n"
        );
    }
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("fixture_tests.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        println!("cargo:warning=cannot write {}: {e}", dest.display());
    }
}
