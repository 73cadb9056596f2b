//! Issue 13, items 1-7: the `--exec` corners a script meets (docs/design/corners.md has the
//! plan and the decisions). One test (or a few) per item, black-box through the built binary,
//! each named after its case; the tests written before the fix failed against the binary of
//! that day. Items 8-19 (GNU mode, completions, the repository) are in a module of their own.
//!
//! Decisions the issue left open are written in the doc comment of the test that pins them.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;

use crate::support::{Run, TestEnv, full_match, rnd, rtmp_bin};

/// stderr as text, as [`stdout`].
fn stderr(run: &Run) -> String {
    String::from_utf8_lossy(&run.output.stderr).into_owned()
}

// ================================================================== item 4

/// Item 4: `kept PATH` is one line and names the real path. Decision: every path or command
/// name in an exec-mode message is quoted as mktemp mode quotes templates (gnulib `quote()`,
/// C locale: always in `'...'`, `\n` and `\377` escaped), as GNU `env` does for a command it
/// cannot run. So a plain path prints as `rtmp: kept './dirAb3'` too.
#[test]
fn kept_message_quotes_a_newline_path() {
    let env = TestEnv::new();
    let run = env.run([
        "-d",
        "--keep-on-failure",
        "-p",
        ".",
        "a\nbXXX",
        "--exec",
        "false",
    ]);
    run.code(1);
    let err = stderr(&run);
    assert!(
        full_match(&format!("rtmp: kept '\\./a\\\\nb{}'\n", rnd(3)), &err),
        "{}",
        run.context()
    );
    let kept = err
        .trim_end()
        .strip_prefix("rtmp: kept './")
        .and_then(|r| r.strip_suffix('\''))
        .expect("kept line")
        .replace("\\n", "\n");
    assert!(
        env.path(&kept).is_dir(),
        "the printed path exists{}",
        run.context()
    );

    // A byte that is not UTF-8 is escaped in octal, never shown as U+FFFD.
    let mut cmd = env.rtmp_cmd(["-d", "--keep-on-failure", "-p", "."]);
    cmd.arg(OsStr::from_bytes(b"c\xffXXX"))
        .args(["--exec", "false"]);
    let run = env.run_cmd(cmd);
    run.code(1);
    assert!(
        full_match(
            &format!("rtmp: kept '\\./c\\\\377({})'\n", rnd(3)),
            &stderr(&run)
        ),
        "bytes are escaped, never U+FFFD{}",
        run.context()
    );
    let random = &stderr(&run)["rtmp: kept './c\\377".len()..][..3];
    let mut name = b"c\xff".to_vec();
    name.extend_from_slice(random.as_bytes());
    assert!(
        env.path(OsStr::from_bytes(&name)).is_dir(),
        "the printed path exists{}",
        run.context()
    );
}

/// Item 4: a command that cannot be found is named as GNU `env` names it
/// (`env: 'no\nsuch': No such file or directory`, status 127).
#[test]
fn command_not_found_message_quotes_the_name() {
    let env = TestEnv::new();
    env.run(["--exec", "no\nsuch"])
        .code(127)
        .stderr("rtmp: 'no\\nsuch': No such file or directory\n")
        .nothing_left();
    let mut cmd = env.rtmp_cmd(["--exec"]);
    cmd.arg(OsStr::from_bytes(b"./no\xffsuch"));
    env.run_cmd(cmd)
        .code(127)
        .stderr("rtmp: './no\\377such': No such file or directory\n")
        .nothing_left();
}

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
