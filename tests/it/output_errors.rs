//! Printing the name (README "Exit status": mktemp 1, nothing is left behind; "Design": why
//! stdout is written through fd 1): when stdout cannot be written, rtmp removes what it
//! created, says `rtmp: write error: <OS text>` (not with `-q`, except in dry-run mode) and
//! exits 1. `--help` and `--version` fail the same way (GNU).

use std::fs::OpenOptions;
use std::process::Command;

use crate::support::{Run, TestEnv, rnd, rtmp_bin};

const ENOSPC: &str = "rtmp: write error: No space left on device\n";
const EBADF: &str = "rtmp: write error: Bad file descriptor\n";

/// Runs rtmp with `args` and stdout on `/dev/full`.
fn run_full(env: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = env.rtmp_cmd(args);
    let full = OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    cmd.stdout(full);
    env.run_cmd(cmd)
}

/// Runs rtmp with `args` and stdout closed (`>&-`).
fn run_closed(env: &TestEnv, args: &[&str]) -> Run {
    let mut cmd: Command = env.command("/bin/sh");
    cmd.args(["-c", r#"exec "$0" "$@" >&-"#])
        .arg(rtmp_bin())
        .args(args);
    env.run_cmd(cmd)
}

#[test]
fn a3_stdout_full_removes_the_file_and_fails() {
    for args in [&["aXXX"][..], &["-d", "aXXX"][..], &[][..], &["-d"][..]] {
        let env = TestEnv::new();
        run_full(&env, args).failure().stderr(ENOSPC).nothing_left();
    }
}

#[test]
fn a3_stdout_full_with_quiet_is_silent_but_fails() {
    for args in [&["-q", "aXXX"][..], &["-q", "-d", "aXXX"][..]] {
        let env = TestEnv::new();
        run_full(&env, args).failure().stderr("").nothing_left();
    }
}

#[test]
fn a3_stdout_full_in_dry_run_is_reported_even_with_quiet() {
    for args in [
        &["-u", "aXXX"][..],
        &["-q", "-u", "aXXX"][..],
        &["-q", "-d", "-u", "aXXX"][..],
    ] {
        let env = TestEnv::new();
        run_full(&env, args).failure().stderr(ENOSPC).nothing_left();
    }
}

#[test]
fn a3_stdout_closed_removes_the_file_and_fails() {
    for args in [&["aXXX"][..], &["-d", "aXXX"][..]] {
        let env = TestEnv::new();
        run_closed(&env, args)
            .failure()
            .stderr(EBADF)
            .nothing_left();
    }
}

#[test]
fn a3_stdout_closed_with_quiet_is_silent_except_in_dry_run() {
    let env = TestEnv::new();
    run_closed(&env, &["-q", "aXXX"])
        .failure()
        .stderr("")
        .nothing_left();
    let env = TestEnv::new();
    run_closed(&env, &["-q", "-u", "aXXX"])
        .failure()
        .stderr(EBADF)
        .nothing_left();
}

#[test]
fn a3_stdout_ok_control_for_the_redirect_helpers() {
    // The same command with a working stdout succeeds: the failures above come from stdout.
    let env = TestEnv::new();
    env.run(["aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("a{}\n", rnd(3)))
        .tree(&[&format!("a{}", rnd(3)), "tmp/"]);
}

#[test]
fn a1_help_and_version_exit_0() {
    let env = TestEnv::new();
    let help = env.run(["--help"]);
    help.success().stderr("").nothing_left();
    let text = String::from_utf8_lossy(&help.output.stdout);
    assert!(
        text.contains("Usage: rtmp") && text.contains("--directory") && text.contains("--tmpdir"),
        "--help does not describe rtmp{}",
        help.context()
    );
    for flag in ["--version", "-V", "--vers"] {
        env.run([flag])
            .success()
            .stderr("")
            .stdout(&format!("rtmp {}\n", env!("CARGO_PKG_VERSION")))
            .nothing_left();
    }
}

#[test]
fn a3_help_and_version_on_full_stdout_fail_with_write_error() {
    for flag in ["--help", "--version", "-V"] {
        let env = TestEnv::new();
        run_full(&env, &[flag])
            .failure()
            .stderr(ENOSPC)
            .nothing_left();
    }
}

#[test]
fn a3_help_and_version_on_closed_stdout_fail_with_write_error() {
    for flag in ["--help", "--version"] {
        let env = TestEnv::new();
        run_closed(&env, &[flag])
            .failure()
            .stderr(EBADF)
            .nothing_left();
    }
}
