//! GNU-style quoting of file names in messages.
//!
//! GNU coreutils quotes names in diagnostics with gnulib's `quote()`, which in the C locale uses
//! `locale_quoting_style`: the name is wrapped in `'...'`, a `'` or `\` inside is escaped with a
//! backslash, control characters with a C escape (`\n`, `\t`, ...) and every other byte that is
//! not printable ASCII as three octal digits (`\377`). rtmp matches it byte for byte so that
//! scripts (and tests) that compare messages see the same text. This module never fails and
//! never allocates more than four bytes per input byte.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// Quotes `name` as GNU `quote()` does in the C locale.
///
/// Input: any bytes. Output: a printable ASCII string, e.g. `a'b` becomes `'a\'b'` and the byte
/// 0xFF becomes `\377`. Source: gnulib `quotearg.c`, `locale_quoting_style`.
pub fn quote(name: &OsStr) -> String {
    let bytes = name.as_bytes();
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('\'');
    for &b in bytes {
        match b {
            b'\'' => out.push_str("\\'"),
            b'\\' => out.push_str("\\\\"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x0b => out.push_str("\\v"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                out.push('\\');
                out.push(char::from(b'0' + (b >> 6)));
                out.push(char::from(b'0' + ((b >> 3) & 7)));
                out.push(char::from(b'0' + (b & 7)));
            }
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::quote;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    fn q(bytes: &[u8]) -> String {
        quote(OsStr::from_bytes(bytes))
    }

    #[test]
    fn plain_names_are_wrapped_in_single_quotes() {
        assert_eq!(q(b"fooXXX"), "'fooXXX'");
        assert_eq!(q(b""), "''");
        assert_eq!(q(b"a b?*\""), "'a b?*\"'");
    }

    #[test]
    fn quote_and_backslash_are_escaped() {
        assert_eq!(q(b"a'b\\c"), "'a\\'b\\\\c'");
    }

    #[test]
    fn control_characters_use_c_escapes_or_octal() {
        // Checked against GNU mktemp 9.1: `mktemp $'a\'b\\c\td\n\x01\xff"?X'`.
        assert_eq!(
            q(b"a'b\\c\td\n\x01\xff\"?X"),
            "'a\\'b\\\\c\\td\\n\\001\\377\"?X'"
        );
        assert_eq!(q(b"\x07\x08\x0c\r\x0b"), "'\\a\\b\\f\\r\\v'");
        assert_eq!(q(b"\x7f\x1bXX"), "'\\177\\033XX'");
    }
}
