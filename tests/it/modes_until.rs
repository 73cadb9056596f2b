//! `--until PID` through the binary (issue 14, section 1; README "Scripts without trap"): the
//! paths are created and printed at once, and a detached guardian removes them when process
//! PID exits, however it exits; PID is pinned before anything is created; a PID that does not
//! exist is status 1 with nothing created; `--until` with `--exec`, `-u` or `--anonymous` is a
//! usage error.
//!
//! PID is a `sleep` the test starts (and kills); every wait is for a path's removal or
//! appearance with the suite's bounded deadline ([`wait_until`]), never a fixed sleep.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{TestEnv, holds_for, rtmp_bin, send, wait_exit, wait_until};
use nix::libc;

/// A `sleep` to tie paths to; killed and reaped by the caller.
fn sleeper() -> Child {
    Command::new("sleep")
        .arg("600")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn sleep")
}

/// The paths rtmp printed, one a line, resolved against the scratch directory (rtmp's
/// working directory) when relative.
fn printed(env: &TestEnv, out: &crate::support::Run) -> Vec<PathBuf> {
    out.stdout_str().lines().map(|p| env.path(p)).collect()
}

fn gone(path: &Path) -> bool {
    fs::symlink_metadata(path).is_err()
}

#[track_caller]
fn wait_removed(paths: &[PathBuf]) {
    wait_until("the paths to be removed", || paths.iter().all(|p| gone(p)));
}

/// The guardians (by process name) that hold the scratch `$TMPDIR` of `env` open.
fn guardians_of(env: &TestEnv) -> Vec<u32> {
    let tmpdir = env.tmpdir();
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim_end() != "rtmp-guardian" {
            continue;
        }
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        if fds
            .flatten()
            .any(|fd| fs::read_link(fd.path()).is_ok_and(|l| l == tmpdir))
        {
            found.push(pid);
        }
    }
    found
}

#[test]
fn a_directory_is_removed_when_pid_exits() {
    let env = TestEnv::new();
    let mut pid = sleeper();
    let out = env.run(["-d", "--until", &pid.id().to_string()]);
    out.success();
    let paths = printed(&env, &out);
    assert_eq!(paths.len(), 1);
    assert!(paths[0].is_dir(), "{}", out.context());
    fs::write(paths[0].join("inside"), "x").expect("write inside");
    send(pid.id(), libc::SIGTERM);
    wait_exit(&mut pid);
    wait_removed(&paths);
}

#[test]
fn a_file_is_removed_after_a_sigkill_of_pid() {
    let env = TestEnv::new();
    let mut pid = sleeper();
    let out = env.run(["--until", &pid.id().to_string(), "-p", "."]);
    out.success();
    let paths = printed(&env, &out);
    assert!(paths[0].is_file(), "{}", out.context());
    send(pid.id(), libc::SIGKILL);
    wait_exit(&mut pid);
    wait_removed(&paths);
}

#[test]
fn several_templates_share_one_guardian() {
    let env = TestEnv::new();
    let mut pid = sleeper();
    let out = env.run([
        "--until",
        &pid.id().to_string(),
        "--tmpdir",
        "a.XXXXXX",
        "b.XXXXXX",
        "c.XXXXXX",
    ]);
    out.success();
    let paths = printed(&env, &out);
    assert_eq!(paths.len(), 3, "{}", out.context());
    assert!(paths.iter().all(|p| p.is_file()));
    assert_eq!(guardians_of(&env).len(), 1);
    send(pid.id(), libc::SIGKILL);
    wait_exit(&mut pid);
    wait_removed(&paths);
    wait_until("the guardian to exit", || guardians_of(&env).is_empty());
}

#[test]
fn a_failing_template_creates_nothing() {
    let env = TestEnv::new();
    let mut pid = sleeper();
    let out = env.run([
        "--until",
        &pid.id().to_string(),
        "--tmpdir",
        "a.XXXXXX",
        "missing/b.XXXXXX",
    ]);
    out.code(1);
    assert_eq!(out.stdout_str(), "");
    assert!(out.stderr_str().starts_with("rtmp: "), "{}", out.context());
    out.nothing_left();
    send(pid.id(), libc::SIGKILL);
    wait_exit(&mut pid);
}

#[test]
fn command_substitution_returns_at_once() {
    let env = TestEnv::new();
    // The script exits right after printing: its guardian must hold no pipe of `$(...)`, or
    // `timeout` ends the shell with status 124.
    let out = env.run_cmd(
        env.command("timeout")
            .args([
                "10",
                "sh",
                "-c",
                r#"d=$("$1" -d --until $$) || exit 1; echo "$d""#,
                "sh",
            ])
            .arg(rtmp_bin()),
    );
    out.success();
    let paths = printed(&env, &out);
    assert_eq!(paths.len(), 1, "{}", out.context());
    // The script (PID) has exited: the guardian removes the directory.
    wait_removed(&paths);
}

#[test]
fn pid_pinned_before_creation_so_an_early_exit_still_removes() {
    let env = TestEnv::new();
    // PID is rtmp itself (`exec` keeps the shell's pid): it exits right after creating and
    // printing, so PID is gone before the guardian starts waiting; the pidfd taken before the
    // creation still says so and the path goes.
    let out = env.run_cmd(
        env.command("sh")
            .args(["-c", r#"exec "$1" -d --until $$"#, "sh"])
            .arg(rtmp_bin()),
    );
    out.success();
    let paths = printed(&env, &out);
    assert_eq!(paths.len(), 1, "{}", out.context());
    wait_removed(&paths);
}

#[test]
fn the_guardian_ignores_sigterm_and_sighup() {
    let env = TestEnv::new();
    let mut pid = sleeper();
    let out = env.run(["-d", "--until", &pid.id().to_string()]);
    out.success();
    let paths = printed(&env, &out);
    let guardians = guardians_of(&env);
    assert_eq!(guardians.len(), 1);
    for sig in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT] {
        send(guardians[0], sig);
    }
    // 200 ms: a guardian ended by these signals is gone in well under a millisecond.
    holds_for(Duration::from_millis(200), "the directory", || {
        paths[0].is_dir()
    });
    assert_eq!(guardians_of(&env), guardians);
    send(pid.id(), libc::SIGKILL);
    wait_exit(&mut pid);
    wait_removed(&paths);
}

#[test]
fn a_nonexistent_pid_is_status_1_and_creates_nothing() {
    let env = TestEnv::new();
    let mut gone_pid = sleeper();
    let id = gone_pid.id();
    send(id, libc::SIGKILL);
    wait_exit(&mut gone_pid);
    // Reaped: the pid names no process (unless reused in between, which would make the
    // test pass for the wrong reason, not fail).
    let out = env.run(["-d", "--until", &id.to_string()]);
    if out.status().success() {
        // Reused by another process: nothing to check here.
        return;
    }
    out.code(1)
        .stderr(&format!("rtmp: --until: no process with PID {id}\n"));
    out.nothing_left();
}

#[test]
fn usage_errors() {
    let env = TestEnv::new();
    for (args, code, message) in [
        (
            &["--until", "1", "--exec", "true"][..],
            125,
            "rtmp: --until cannot be combined with --exec",
        ),
        (
            &["--until", "1", "-u"][..],
            1,
            "rtmp: -u cannot be combined with --until",
        ),
        (
            &["--until", "1", "--anonymous"][..],
            1,
            "rtmp: --anonymous cannot be combined with --until",
        ),
        (
            &["--until", "x"][..],
            1,
            "rtmp: invalid PID for --until: 'x'",
        ),
        (
            &["--until", "0"][..],
            1,
            "rtmp: invalid PID for --until: '0'",
        ),
    ] {
        let out = env.run(args);
        out.code(code);
        assert!(
            out.stderr_str().starts_with(message),
            "{args:?}: {}",
            out.context()
        );
        out.nothing_left();
    }
}

#[test]
fn a_write_error_removes_everything_at_once() {
    let env = TestEnv::new();
    let mut pid = sleeper();
    // The names cannot be printed, so rtmp never confirms them: the guardian removes them
    // while PID still lives (all or nothing, as without --until).
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let mut cmd = env.rtmp_cmd(["-d", "--until", &pid.id().to_string(), "-p", "."]);
    cmd.stdout(full);
    let out = env.run_cmd(&mut cmd);
    out.code(1);
    assert!(
        out.stderr_str().starts_with("rtmp: write error"),
        "{}",
        out.context()
    );
    wait_until("the guardian to remove the directory", || {
        env.listing() == vec!["tmp/".to_owned()]
    });
    send(pid.id(), libc::SIGKILL);
    wait_exit(&mut pid);
}
