//! Fuzzes `rtmp::template::plan` over arbitrary bytes.
//!
//! Input layout: the first byte holds flags (bit 0: a TEMPLATE is given, bit 1: `--suffix`,
//! bit 2: `-p DIR`, bit 3: `--tmpdir` without a value, bit 4: `-t`, bit 5: `$TMPDIR` is set);
//! the rest is split on NUL (which no path can hold) into TEMPLATE, SUFF, DIR and `$TMPDIR`.
//! Besides "never panics", every accepted plan is checked for its shape.
#![no_main]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use libfuzzer_sys::fuzz_target;
use rtmp::template::{Location, plan};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut fields = rest.split(|&b| b == 0).map(OsStr::from_bytes);
    let mut field = |bit: u8| {
        let value = fields.next().unwrap_or(OsStr::new(""));
        (flags & (1 << bit) != 0).then_some(value)
    };
    let template = field(0);
    let suffix = field(1);
    let dir = field(2);
    let env_tmpdir = field(5);
    let location = Location {
        tmpdir_option: dir.is_some() || flags & (1 << 3) != 0,
        tmpdir_arg: dir,
        t_option: flags & (1 << 4) != 0,
        env_tmpdir,
    };
    match plan(template, suffix, &location) {
        Ok(p) => {
            assert!(p.x_count >= 3, "{p:?}");
            let dir = p.dir.as_bytes();
            assert!(dir.is_empty() || dir.ends_with(b"/"), "{p:?}");
            assert!(!p.prefix.as_bytes().contains(&b'/'), "{p:?}");
            let suffix = p.suffix.as_bytes();
            let body = suffix.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
            assert!(!suffix[..body].contains(&b'/'), "{p:?}");
            let random: Vec<u8> = (0..p.x_count).map(|i| b"a0Z9"[i % 4]).collect();
            let full = p.with_random(&random);
            let mut want = Vec::new();
            for part in [dir, p.prefix.as_bytes(), &random, suffix] {
                want.extend_from_slice(part);
            }
            assert_eq!(full.as_bytes(), &want[..]);
            assert_eq!(p.template().len(), full.len());
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.is_ascii() && !message.contains('\n'), "{message:?}");
        }
    }
});
