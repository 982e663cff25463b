//! The log file: appends, size-limit rotation to timestamped backups and the purge of
//! the oldest backups beyond `logfile_max_num` (Go: logger/log.go `fileLogger`).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::goquote::quote;

/// Go's `defaultLogPerms`.
const LOG_PERMS: u32 = 0o640;

/// When the file rotates and how many files are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rotation {
    /// `log_size_limit` in bytes: once the file grows past it, it is renamed to a
    /// timestamped backup and a new one started (0: never).
    pub size_limit: u64,
    /// `logfile_max_num`: the current file plus backups kept; older backups are deleted
    /// after each rotation (0: keep every backup).
    pub max_files: usize,
}

/// An open log file and its rotation state.
#[derive(Debug)]
pub(super) struct FileLog {
    path: PathBuf,
    file: File,
    /// Bytes in the current file.
    written: u64,
    rotation: Rotation,
    /// What every line starts with (`[pid] `), for the lines rotation writes itself.
    prefix: String,
    /// Whether lines carry a timestamp.
    time: bool,
}

impl FileLog {
    /// Opens `path` for appending (created 0640), counting what it already holds.
    pub(super) fn open(
        path: &Path,
        rotation: Rotation,
        prefix: &str,
        time: bool,
    ) -> std::io::Result<Self> {
        let file = open_append(path)?;
        let written = file.metadata()?.len();
        Ok(Self {
            path: path.to_owned(),
            file,
            written,
            rotation,
            prefix: prefix.to_owned(),
            time,
        })
    }

    /// Go `setLimit`: a file already over the limit rotates at the next line.
    pub(super) fn over_limit(&self) -> bool {
        self.rotation.size_limit > 0 && self.written > self.rotation.size_limit
    }

    /// Appends one line, then rotates when the file has grown past the limit.
    pub(super) fn write_line(&mut self, line: &[u8]) {
        // A log that cannot be written is not a reason to stop serving.
        if self.file.write_all(line).is_err() {
            return;
        }
        self.written += line.len() as u64;
        if self.over_limit() {
            self.rotate();
        }
    }

    // Go: fileLogger.Write, the rotation branch.
    fn rotate(&mut self) {
        let backup = backup_name(&self.path, &jiff::Zoned::now());
        // Go ignores a failed rename and starts the file again anyway.
        let _ = std::fs::rename(&self.path, &backup);
        match open_append(&self.path) {
            Ok(f) => self.file = f,
            Err(e) => {
                // Go panics here; we keep writing to the (renamed) file we have and
                // say so where someone will see it.
                let text = format!(
                    "Unable to re-open the logfile {} after rotation: {e}",
                    quote(&self.path.to_string_lossy())
                );
                self.direct(super::LogLevel::Error, &text);
                return;
            }
        }
        let text = format!(
            "Rotated log, backup saved as {}",
            quote(&backup.to_string_lossy())
        );
        // Go counts only this line in the new file, not the purge lines after it.
        self.written = self.direct(super::LogLevel::Info, &text);
        if self.rotation.max_files > 0 {
            self.purge();
        }
    }

    // Go: fileLogger.logPurge. Backups sort oldest first by their timestamped names.
    fn purge(&mut self) {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let Some(base) = self
            .path
            .file_name()
            .map(|b| b.to_string_lossy().into_owned())
        else {
            return;
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                let text = format!(
                    "Unable to read directory {} for log purge ({e}), will attempt next rotation",
                    quote(&dir.to_string_lossy())
                );
                self.direct(super::LogLevel::Error, &text);
                return;
            }
        };
        let mut backups: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| is_backup_of(&base, name))
            .collect();
        backups.sort();
        let keep = self.rotation.max_files - 1;
        let excess = backups.len().saturating_sub(keep);
        for name in backups.iter().take(excess) {
            if let Err(e) = std::fs::remove_file(dir.join(name)) {
                let text = format!(
                    "Unable to remove backup log file {} ({e}), will attempt next rotation",
                    quote(name)
                );
                self.direct(super::LogLevel::Error, &text);
                return;
            }
            self.direct(
                super::LogLevel::Info,
                &format!("Purged log file {}", quote(name)),
            );
        }
    }

    /// Go `logDirect`: a line rotation writes itself — local time whatever
    /// `logtime_utc` says, and `\r\n` at the end, as Go writes them. Returns its length.
    fn direct(&mut self, level: super::LogLevel, text: &str) -> u64 {
        let mut line = self.prefix.clone();
        if self.time {
            super::push_time(&mut line, super::Timestamps::Local);
        }
        line.push_str(&super::label(level, false));
        line.push_str(text);
        line.push_str("\r\n");
        let _ = self.file.write_all(line.as_bytes());
        line.len() as u64
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(LOG_PERMS)
        .open(path)
}

/// Go: `<file>.YYYY.MM.DD.hh.mm.ss.nnnnnnnnn` in local time.
fn backup_name(path: &Path, now: &jiff::Zoned) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(
        ".{:04}.{:02}.{:02}.{:02}.{:02}.{:02}.{:09}",
        now.year(),
        now.month(),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.subsec_nanosecond()
    ));
    PathBuf::from(name)
}

/// Go: a name is a backup of `base` when it is `base.` followed by a stamp that parses
/// as `2006.01.02.15.04.05[.fraction]` (its first five dots read as colons).
fn is_backup_of(base: &str, name: &str) -> bool {
    let Some(stamp) = name.strip_prefix(base).and_then(|s| s.strip_prefix('.')) else {
        return false;
    };
    let mut parts = stamp.splitn(7, '.');
    let widths_ranges: [(usize, u32, u32); 6] = [
        (4, 0, 9999),
        (2, 1, 12),
        (2, 1, 31),
        (2, 0, 23),
        (2, 0, 59),
        (2, 0, 59),
    ];
    for (width, min, max) in widths_ranges {
        let Some(p) = parts.next() else {
            return false;
        };
        let ok = p.len() == width
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| (min..=max).contains(&n));
        if !ok {
            return false;
        }
    }
    match parts.next() {
        None => true,
        Some(frac) => (1..=9).contains(&frac.len()) && frac.bytes().all(|b| b.is_ascii_digit()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn backup_names_are_go_stamps() {
        let now: jiff::Zoned = "2026-12-03T07:08:09.000000123[UTC]".parse().unwrap();
        let b = backup_name(Path::new("/var/log/s.log"), &now);
        assert_eq!(
            b,
            PathBuf::from("/var/log/s.log.2026.12.03.07.08.09.000000123")
        );
        assert!(is_backup_of("s.log", "s.log.2026.12.03.07.08.09.000000123"));
        assert!(is_backup_of("s.log", "s.log.2026.12.03.07.08.09"));
        assert!(!is_backup_of("s.log", "s.log"));
        assert!(!is_backup_of("s.log", "s.log.old"));
        assert!(!is_backup_of("s.log", "s.log.2026.13.03.07.08.09.1"));
        assert!(!is_backup_of(
            "s.log",
            "s.log.2026.12.03.07.08.09.1234567890"
        ));
        assert!(!is_backup_of("s.log", "s.logx.2026.12.03.07.08.09.1"));
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("nats-ws-log-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn rotates_past_the_limit_and_purges_to_max_files() {
        let d = dir("rotate");
        let path = d.join("s.log");
        // Two stale backups and an unrelated file: the purge counts only backups.
        std::fs::write(d.join("s.log.2000.01.01.00.00.00.000000001"), "old1").unwrap();
        std::fs::write(d.join("s.log.2000.01.01.00.00.00.000000002"), "old2").unwrap();
        std::fs::write(d.join("s.log.keep"), "x").unwrap();
        let rotation = Rotation {
            size_limit: 300,
            max_files: 2,
        };
        let first = format!("[7] [INF] {}\n", "x".repeat(300));
        let mut log = FileLog::open(&path, rotation, "[7] ", false).unwrap();
        log.write_line(b"[7] [INF] first\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[7] [INF] first\n");
        log.write_line(first.as_bytes());
        log.write_line(b"[7] [INF] second\n");
        let mut names: Vec<String> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), 3, "{names:?}");
        assert_eq!(names[0], "s.log");
        assert!(is_backup_of("s.log", &names[1]), "{names:?}");
        assert_eq!(names[2], "s.log.keep");
        let backup = std::fs::read_to_string(d.join(&names[1])).unwrap();
        assert_eq!(backup, format!("[7] [INF] first\n{first}"));
        let current = std::fs::read_to_string(&path).unwrap();
        let want = format!(
            "[7] [INF] Rotated log, backup saved as {}\r\n\
             [7] [INF] Purged log file \"s.log.2000.01.01.00.00.00.000000001\"\r\n\
             [7] [INF] Purged log file \"s.log.2000.01.01.00.00.00.000000002\"\r\n\
             [7] [INF] second\n",
            quote(&d.join(&names[1]).to_string_lossy())
        );
        assert_eq!(current, want);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
