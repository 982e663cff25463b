//! Go's texts for operating-system errors, for messages that must match the Go server's.

/// Go's syscall error text: the C library's text with a lower-case first letter (`no
/// such file or directory`), without Rust's ` (os error N)` suffix.
pub(crate) fn errno_text(err: &std::io::Error) -> String {
    let text = err.to_string();
    let text = match text.find(" (os error ") {
        Some(i) => text.get(..i).unwrap_or(&text).to_owned(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::errno_text;

    #[test]
    fn as_go_writes_it() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(errno_text(&e), "no such file or directory");
        let e = std::io::Error::from_raw_os_error(98);
        assert_eq!(errno_text(&e), "address already in use");
    }
}
