//! Issue 13, items 1-7: the `--exec` corners a script meets (docs/design/corners.md has the
//! plan and the decisions). One test (or a few) per item, black-box through the built binary,
//! each named after its case; the tests written before the fix failed against the binary of
//! that day. Items 8-19 (GNU mode, completions, the repository) are in a module of their own.
//!
//! Decisions the issue left open are written in the doc comment of the test that pins them.

use std::fs;

use crate::support::{TestEnv, rtmp_bin};

// ================================================================== item 6

/// Item 6: with descriptors 0-2 closed, the anonymous file must not become descriptor 0, 1
/// or 2 (the command's stderr would go into its data file): it is always 3 or more.
#[test]
fn anonymous_fd_is_at_least_3_with_std_fds_closed() {
    let env = TestEnv::new();
    let report = env.path("fd.txt");
    let mut cmd = env.command("/bin/bash");
    cmd.arg("-c")
        .arg(r#"exec 0<&- 1>&- 2>&- "$@""#)
        .arg("bash")
        .arg(rtmp_bin())
        .args([
            "--anonymous",
            "--exec",
            "sh",
            "-c",
            r#"printf '%s' "$1" > "$2""#,
            "sh",
            "{}",
        ])
        .arg(&report);
    let run = env.run_cmd(cmd);
    run.success();
    let shown = fs::read_to_string(&report).expect("the command wrote its {}");
    let fd: u32 = shown
        .strip_prefix("/dev/fd/")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not /dev/fd/N: {shown:?}"));
    assert!(fd >= 3, "the anonymous file is descriptor {fd}");
}
