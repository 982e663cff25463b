//! Golden snapshots in `golden/`: one insta settings helper, and a reader for the
//! conformance binary, which compares without insta.

use std::path::PathBuf;

/// The insta settings every snapshot uses: `golden/`, no module prefix, no input file.
pub fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(crate::golden_dir());
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

/// The path of a named snapshot.
pub fn path(name: &str) -> PathBuf {
    crate::golden_dir().join(format!("{name}.snap"))
}

/// The committed content of a snapshot, if there is one (the text after the header).
pub fn read(name: &str) -> Option<String> {
    let text = std::fs::read_to_string(path(name)).ok()?;
    let body = text.strip_prefix("---")?;
    let end = body.find("\n---\n")?;
    Some(body[end + 5..].to_owned())
}

/// Whether `transcript` equals the committed snapshot (trailing newlines ignored).
pub fn matches(name: &str, transcript: &str) -> Option<bool> {
    read(name).map(|g| g.trim_end() == transcript.trim_end())
}
