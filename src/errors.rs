//! Turning OS errors into the text GNU tools print.
//!
//! GNU tools end a failure message with `strerror(errno)`; Rust's `io::Error` prints the same
//! text plus ` (os error N)`. Messages in rtmp go through [`os_error_text`] so that they match
//! GNU's byte for byte (C locale). Error *types* live with the code that fails
//! ([`crate::create::CreateError`], [`crate::template::TemplateError`],
//! [`crate::cli::UsageError`]); this module only formats.

use std::io;

/// The OS's own text for `err`, as C's `strerror` gives it: `No such file or directory`, without
/// the ` (os error 2)` that Rust's `Display` adds. Errors that carry no errno print as Rust
/// prints them.
pub fn os_error_text(err: &io::Error) -> String {
    let text = err.to_string();
    match err.raw_os_error() {
        Some(code) => {
            let tail = format!(" (os error {code})");
            text.strip_suffix(&tail)
                .map_or_else(|| text.clone(), str::to_owned)
        }
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::os_error_text;
    use std::io;

    #[test]
    fn os_errors_lose_the_errno_tail() {
        let e = io::Error::from_raw_os_error(2);
        assert_eq!(os_error_text(&e), "No such file or directory");
        let e = io::Error::from_raw_os_error(17);
        assert_eq!(os_error_text(&e), "File exists");
    }

    #[test]
    fn other_errors_print_as_is() {
        let e = io::Error::other("boom");
        assert_eq!(os_error_text(&e), "boom");
    }
}
