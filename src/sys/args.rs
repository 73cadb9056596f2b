//! The arguments as the C runtime passes them to `main` (`argc`, `argv`): rtmp defines the C
//! `main` itself (README, "Design"), so this is the one place that reads them.
//!
//! Invariant: every argument stays the bytes before its NUL, non-UTF-8 included; nothing past
//! `argv[argc]` or past a null entry is read.

use std::ffi::{CStr, OsString, c_char, c_int};
use std::os::unix::ffi::OsStringExt;

/// The arguments after the program name, from the `argc` and `argv` that the C runtime passes
/// to `main`: each is the bytes before its NUL, kept as they are (non-UTF-8 included).
///
/// rtmp defines the C `main` itself, and then `std::env::args_os()` is filled only where std
/// collects the arguments on its own (glibc Linux, macOS); on musl it is empty. Reading
/// `argv` works wherever a C `main` does. A null `argv`, `argc` below 1, or a null entry before
/// `argc` (C11 5.1.2.2.1 puts the terminating null at `argv[argc]`) ends the list early.
///
/// # Safety
///
/// `argv` must be null or point to `argc` readable pointers, each null or pointing to a
/// NUL-terminated string, all valid for the duration of the call: what the C runtime passes to
/// `main` (C11 5.1.2.2.1, POSIX `exec`).
pub unsafe fn from_c_main(argc: c_int, argv: *const *const c_char) -> Vec<OsString> {
    let count = usize::try_from(argc).unwrap_or(0);
    if argv.is_null() || count == 0 {
        return Vec::new();
    }
    // SAFETY: `argv` is not null and points to `argc` pointers (the caller's contract).
    let slots = unsafe { std::slice::from_raw_parts(argv, count) };
    let mut args = Vec::with_capacity(count - 1);
    for &arg in &slots[1..] {
        if arg.is_null() {
            break;
        }
        // SAFETY: a non-null entry of `argv` points to a NUL-terminated string (the caller's
        // contract), which outlives this loop.
        let arg = unsafe { CStr::from_ptr(arg) };
        args.push(OsString::from_vec(arg.to_bytes().to_vec()));
    }
    args
}

/// `strings` laid out as the C runtime does it, passed through [`from_c_main`] (also used by
/// the parser's tests).
#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The layout the C runtime hands to `main`: NUL-terminated byte strings, an array of
    /// pointers to them with a null pointer at `argv[argc]`.
    pub(crate) fn from_c_layout(strings: &[&[u8]]) -> Vec<OsString> {
        let owned: Vec<Vec<u8>> = strings
            .iter()
            .map(|s| {
                let mut bytes = s.to_vec();
                bytes.push(0);
                bytes
            })
            .collect();
        let mut argv: Vec<*const c_char> = owned.iter().map(|s| s.as_ptr().cast()).collect();
        argv.push(std::ptr::null());
        let argc = c_int::try_from(strings.len()).expect("few arguments");
        // SAFETY: `argv` holds `argc` pointers to NUL-terminated strings in `owned`, then a
        // null; both outlive the call.
        unsafe { from_c_main(argc, argv.as_ptr()) }
    }

    #[test]
    fn arguments_come_from_argv_as_bytes() {
        let args = from_c_layout(&[b"rtmp", b"-u", b"a\xff\xfeXXX", b"", b"--suffix=\x80"]);
        let want: Vec<OsString> = [&b"-u"[..], b"a\xff\xfeXXX", b"", b"--suffix=\x80"]
            .iter()
            .map(|a| OsString::from_vec(a.to_vec()))
            .collect();
        assert_eq!(args, want);
        assert_eq!(from_c_layout(&[b"rtmp"]), Vec::<OsString>::new());
        // SAFETY: a null argv is allowed by the contract.
        assert!(unsafe { from_c_main(0, std::ptr::null()) }.is_empty());
        // SAFETY: as above; argc is ignored when argv is null.
        assert!(unsafe { from_c_main(3, std::ptr::null()) }.is_empty());
    }
}
