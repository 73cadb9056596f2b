//! Nothing left behind, even after `kill -9` of rtmp or of its whole process group (README
//! "Nothing left behind: the guardian and `--anonymous`", man page CLEANUP); and `--anonymous`,
//! a file that never has a name.
//!
//! The start-up order is: the guardian is forked before anything exists, leaves rtmp's session,
//! and creates the path itself; without a guardian nothing is created (125). The SIGKILL
//! windows of that order are held open with strace in `tests/it/process_tree.rs`; here are the
//! guardian's steady-state behaviour, who creates the path, and the descriptor limit.
//!
//! The child announces itself through a [`Handshake`] and waits for the go-ahead; every wait
//! polls against the one deadline, and how fast the guardian acts is measured against
//! [`GUARDIAN_REACTS`].

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::{ANNOUNCE, AWAIT_GO, Handshake, TestEnv, holds_for, wait_until};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

/// Must match `rtmp::guardian::NAME`: the guardian's process name (`/proc/PID/comm`).
const NAME: &[u8] = b"rtmp-guardian\n";

/// How soon the guardian must act. It learns that rtmp is gone from end-of-file on its socket
/// and that the child is gone from a pidfd (polling every 100 ms only without pidfds), so it
/// acts within milliseconds; a second leaves room for a loaded machine. The same bound serves
/// both ways: the guardian must remove the path within it once the child has ended, and must
/// leave the path alone for as long while the child still runs (a guardian that removed the
/// path on rtmp's death without waiting for the child would do so within the same time).
const GUARDIAN_REACTS: Duration = Duration::from_secs(1);

/// Waits until `cond` holds and asserts that it took at most [`GUARDIAN_REACTS`] from `since`.
#[track_caller]
fn guardian_did(what: &str, since: Instant, cond: impl FnMut() -> bool) {
    wait_until(what, cond);
    let took = since.elapsed();
    assert!(
        took <= GUARDIAN_REACTS,
        "{what} took {took:?}, more than {GUARDIAN_REACTS:?}"
    );
}

/// Starts `rtmp -d --exec sh -c ...`, whose child announces itself and then waits for the
/// go-ahead, in its own process group; returns rtmp, the handshake and the path the child
/// reported once it is ready.
fn start_holding(env: &TestEnv) -> (Child, Handshake, PathBuf) {
    let hs = Handshake::new();
    let hold = format!("{ANNOUNCE}\n{AWAIT_GO}");
    let mut cmd = env.rtmp_cmd(["-d", "--exec", "sh", "-c", &hold, "sh", "{}"]);
    hs.env(&mut cmd).process_group(0).stdin(Stdio::null());
    let rtmp = cmd.spawn().expect("spawn rtmp");
    let path = hs.wait_ready();
    assert!(path.is_dir(), "{} was not created", path.display());
    (rtmp, hs, path)
}

fn pid_of(child: &Child) -> Pid {
    Pid::from_raw(i32::try_from(child.id()).expect("pid fits"))
}

/// Pids of live guardians of rtmp runs whose `TMPDIR` lies under `root` (the guardian is a
/// fork of rtmp, so it has rtmp's environment; [`TestEnv`] gives every run its own TMPDIR).
fn guardians_under(root: &Path) -> Vec<i32> {
    let mut wanted = b"TMPDIR=".to_vec();
    wanted.extend_from_slice(root.as_os_str().as_encoded_bytes());
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            if fs::read(format!("/proc/{pid}/comm")).ok().as_deref() != Some(NAME) {
                return false;
            }
            let Ok(environ) = fs::read(format!("/proc/{pid}/environ")) else {
                return false;
            };
            environ.split(|&b| b == 0).any(|v| v.starts_with(&wanted))
        })
        .collect()
}

/// Field `n` (1-based, after the command name) of `/proc/PID/stat`.
fn stat_field(pid: i32, n: usize) -> Option<i64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(n - 3)?.parse().ok()
}

#[test]
fn kill_9_of_rtmp_waits_for_the_child_then_removes_the_path() {
    let env = TestEnv::new();
    let (mut rtmp, hs, path) = start_holding(&env);
    kill(pid_of(&rtmp), Signal::SIGKILL).expect("kill rtmp");
    let _ = rtmp.wait();
    // The guardian must not touch the path while the child runs.
    holds_for(GUARDIAN_REACTS, "the path under a running child", || {
        path.is_dir()
    });
    hs.go();
    let released = Instant::now();
    guardian_did("the path to go after the child ended", released, || {
        !path.exists()
    });
    guardian_did("the guardian to exit", released, || {
        guardians_under(env.root()).is_empty()
    });
}

#[test]
fn kill_9_of_the_whole_group_removes_the_path() {
    let env = TestEnv::new();
    let (mut rtmp, _hs, path) = start_holding(&env);
    killpg(pid_of(&rtmp), Signal::SIGKILL).expect("killpg");
    let killed = Instant::now();
    let _ = rtmp.wait();
    guardian_did("the path to go after the group was killed", killed, || {
        !path.exists()
    });
    guardian_did("the guardian to exit", killed, || {
        guardians_under(env.root()).is_empty()
    });
}

#[test]
fn guardian_has_its_own_session_and_no_terminal() {
    let env = TestEnv::new();
    let (mut rtmp, hs, path) = start_holding(&env);
    let guardians = guardians_under(env.root());
    assert_eq!(guardians.len(), 1, "one guardian per run");
    let g = guardians[0];
    let rtmp_pid = i64::from(pid_of(&rtmp).as_raw());
    // stat fields: 4 ppid, 5 pgrp, 6 session, 7 tty_nr.
    assert_eq!(
        stat_field(g, 4),
        Some(rtmp_pid),
        "rtmp is the guardian's parent"
    );
    assert_eq!(
        stat_field(g, 6),
        Some(i64::from(g)),
        "guardian leads its session"
    );
    assert_ne!(
        stat_field(g, 5),
        Some(rtmp_pid),
        "guardian is not in rtmp's group"
    );
    assert_eq!(
        stat_field(g, 7),
        Some(0),
        "guardian has no controlling terminal"
    );
    for fd in [1, 2] {
        let target = fs::read_link(format!("/proc/{g}/fd/{fd}")).expect("readlink");
        assert_eq!(target, Path::new("/dev/null"));
    }
    hs.go();
    let status = rtmp.wait().expect("wait rtmp");
    assert!(status.success());
    assert!(!path.exists());
}

#[test]
fn normal_run_leaves_no_guardian_behind() {
    let env = TestEnv::new();
    for args in [
        &["-d", "--exec", "true"][..],
        &["--exec", "sh", "-c", "exit 7"][..],
        &["--exec", "rtmp-no-such-command"][..],
    ] {
        let out = env.rtmp_cmd(args).output().expect("run rtmp");
        assert!(out.stdout.is_empty());
        assert_eq!(
            guardians_under(env.root()),
            Vec::<i32>::new(),
            "guardian left after {args:?}"
        );
    }
    assert_eq!(fs::read_dir(env.tmpdir()).expect("ls").count(), 0);
}

#[test]
fn keep_on_failure_survives_the_guardian() {
    let env = TestEnv::new();
    let out = env
        .rtmp_cmd(["-d", "--keep-on-failure", "--exec", "false"])
        .output()
        .expect("run rtmp");
    assert_eq!(out.status.code(), Some(1));
    // The guardian was dismissed, not left to remove the kept directory.
    assert_eq!(fs::read_dir(env.tmpdir()).expect("ls").count(), 1);
}

#[test]
fn anonymous_file_is_usable_and_never_appears() {
    let env = TestEnv::new();
    let script = r#"ls -A "$TMPDIR"; echo hi > "$1"; cat "$1"; printf '%s\n' "$RTMP_PATH""#;
    let out = env
        .rtmp_cmd(["--anonymous", "--exec", "sh", "-c", script, "sh", "{}"])
        .output()
        .expect("run rtmp");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    // Nothing listed by `ls -A`: the directory stayed empty while the child ran.
    assert_eq!(lines.len(), 2, "{stdout:?}");
    assert_eq!(lines[0], "hi");
    assert!(
        lines[1]
            .strip_prefix("/dev/fd/")
            .is_some_and(|n| n.parse::<u32>().is_ok()),
        "{stdout:?}"
    );
    assert_eq!(fs::read_dir(env.tmpdir()).expect("ls").count(), 0);
    assert!(guardians_under(env.root()).is_empty());
}

#[test]
fn anonymous_path_is_appended_without_placeholder() {
    let env = TestEnv::new();
    let out = env
        .rtmp_cmd([
            "--anonymous",
            "--exec",
            "sh",
            "-c",
            r#"test -w "$1" && echo "$1""#,
            "sh",
        ])
        .output()
        .expect("run rtmp");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("/dev/fd/"));
}

#[test]
fn anonymous_exit_status_is_the_childs() {
    let env = TestEnv::new();
    for (script, code) in [("exit 0", 0), ("exit 7", 7)] {
        let out = env
            .rtmp_cmd(["--anonymous", "--exec", "sh", "-c", script])
            .output()
            .expect("run rtmp");
        assert_eq!(out.status.code(), Some(code), "{script}");
    }
    assert_eq!(fs::read_dir(env.tmpdir()).expect("ls").count(), 0);
}

/// Misuses of `--anonymous` with `--exec` (or `--shell`) on the line are exec-mode usage
/// errors: 125. (`--anonymous` alone is a mktemp-mode usage error, status 1 as every usage error
/// without `--exec`: `corners::usage_errors_without_exec_exit_1`.)
#[test]
fn anonymous_usage_errors_exit_125() {
    let env = TestEnv::new();
    for (args, message) in [
        (
            &["--anonymous", "-d", "--exec", "true"][..],
            "rtmp: --anonymous cannot be combined with -d\n",
        ),
        (
            &["--anonymous", "-u", "--exec", "true"][..],
            "rtmp: -u cannot be combined with --exec\n",
        ),
        (
            &["--anonymous", "a.XXX", "b.XXX", "--exec", "true"][..],
            "rtmp: --exec takes at most one template\n",
        ),
        (
            &["--anonymous", "--shell"][..],
            "rtmp: --anonymous cannot be combined with --shell\n",
        ),
    ] {
        let out = env.rtmp_cmd(args).output().expect("run rtmp");
        assert_eq!(out.status.code(), Some(125), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with(message), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
    assert_eq!(fs::read_dir(env.tmpdir()).expect("ls").count(), 0);
}

/// The path is created by the guardian (a process in a session of its own), not by rtmp: the
/// `mkdirat` of the trace comes from a process other than the one strace started.
#[test]
fn the_guardian_creates_the_path() {
    const STRACE: &str = "/usr/bin/strace";
    let env = TestEnv::new();
    let log = env.path("trace");
    let probe = std::process::Command::new(STRACE)
        .args(["-qq", "-o", "/dev/null", "/bin/true"])
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("skipped: {STRACE} is missing or cannot trace here");
        return;
    }
    let mut cmd = env.command(STRACE);
    cmd.args(["-qq", "-f", "-e", "trace=execve,mkdir,mkdirat,setsid", "-o"])
        .arg(&log)
        .arg(crate::support::rtmp_bin())
        .args(["-d", "--exec", "true"]);
    let out = cmd.output().expect("run strace");
    assert!(out.status.success(), "{out:?}");
    let trace = fs::read_to_string(&log).expect("trace");
    let pid_of_line = |l: &str| l.split_whitespace().next().map(str::to_owned);
    let rtmp = trace
        .lines()
        .find(|l| l.contains("execve(") && l.contains("rtmp"))
        .and_then(pid_of_line)
        .expect("rtmp's execve");
    let creators: Vec<String> = trace
        .lines()
        .filter(|l| l.contains("mkdir") && l.ends_with("= 0"))
        .filter_map(pid_of_line)
        .collect();
    let leaders: Vec<String> = trace
        .lines()
        .filter(|l| l.contains("setsid()") && !l.contains("= -1"))
        .filter_map(pid_of_line)
        .collect();
    assert_eq!(creators.len(), 1, "one creation:\n{trace}");
    assert_ne!(creators[0], rtmp, "rtmp created the path itself:\n{trace}");
    assert_eq!(leaders, creators, "the creator is the guardian:\n{trace}");
    assert_eq!(fs::read_dir(env.tmpdir()).expect("ls").count(), 0);
}

/// Under every descriptor limit from 3 up, rtmp either runs the command, or fails with one line
/// and 125: the creation's own message, or `cannot start the guardian: Too many open files`
/// (which some limit must give: the guardian's socket needs two more descriptors than the
/// directory). Never is the command run without a guardian, and never is anything left.
#[test]
fn descriptor_limit_means_no_guardian_and_nothing_created() {
    use nix::sys::resource::{Resource, setrlimit};
    let env = TestEnv::new();
    let mut saw_guardian_failure = false;
    for limit in 3..24u64 {
        let ran = env.path("ran");
        let mut cmd = env.rtmp_cmd(["-d", "--exec", "touch"]);
        cmd.arg(&ran);
        // SAFETY: setrlimit is async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                setrlimit(Resource::RLIMIT_NOFILE, limit, limit)?;
                Ok(())
            });
        }
        let out = cmd.output().expect("run rtmp");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let code = out.status.code();
        if code == Some(0) {
            assert!(
                ran.exists() && stderr.is_empty(),
                "limit {limit}: {stderr:?}"
            );
            fs::remove_file(&ran).expect("rm ran");
        } else {
            assert_eq!(code, Some(125), "limit {limit}: {stderr:?}");
            assert!(!ran.exists(), "limit {limit}: ran without a guardian");
            assert_eq!(stderr.lines().count(), 1, "limit {limit}: {stderr:?}");
            saw_guardian_failure |=
                stderr == "rtmp: cannot start the guardian: Too many open files\n";
        }
        assert_eq!(
            fs::read_dir(env.tmpdir()).expect("ls").count(),
            0,
            "limit {limit}: left behind ({stderr:?})"
        );
    }
    assert!(saw_guardian_failure, "no limit made the guardian fail");
}

/// Nothing but SIGKILL ends the guardian and nothing but SIGSTOP stops it: every other signal
/// whose default would (TERM, ALRM, PWR, TSTP, the real-time ones...) is ignored, none is left
/// blocked, and the run still ends normally.
#[test]
fn guardian_ignores_every_signal_that_would_end_or_stop_it() {
    use nix::libc;
    let env = TestEnv::new();
    let (mut rtmp, hs, path) = start_holding(&env);
    let guardians = guardians_under(env.root());
    assert_eq!(guardians.len(), 1, "one guardian per run");
    let g = guardians[0];
    let status = |field: &str| -> u64 {
        let text = fs::read_to_string(format!("/proc/{g}/status")).expect("status");
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .expect("field");
        u64::from_str_radix(line.trim(), 16).expect("hex mask")
    };
    assert_eq!(status("SigBlk:"), 0, "the guardian leaves nothing blocked");
    let ignored = status("SigIgn:");
    let signals = [
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGTERM,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGALRM,
        libc::SIGPWR,
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGXCPU,
        libc::SIGXFSZ,
        libc::SIGIO,
        libc::SIGSTKFLT,
        libc::SIGPIPE,
        libc::SIGTSTP,
        libc::SIGTTIN,
        libc::SIGTTOU,
        libc::SIGRTMIN(),
        libc::SIGRTMAX(),
    ];
    for sig in signals {
        assert_ne!(ignored & (1 << (sig - 1)), 0, "signal {sig} is not ignored");
        // Raw: nix's `Signal` cannot name the real-time ones.
        // SAFETY: kill has no memory-safety preconditions.
        let rc = unsafe { libc::kill(g, sig) };
        assert_eq!(rc, 0, "kill -{sig} {g}");
    }
    holds_for(Duration::from_millis(200), "the guardian to stay", || {
        stat_field(g, 4) == Some(i64::from(pid_of(&rtmp).as_raw()))
            && fs::read_to_string(format!("/proc/{g}/stat")).is_ok_and(|s| {
                s.rsplit(')')
                    .next()
                    .is_some_and(|r| r.trim_start().starts_with('S'))
            })
    });
    hs.go();
    let status = rtmp.wait().expect("wait rtmp");
    assert!(status.success(), "{status}");
    assert!(!path.exists());
    wait_until("the guardian to exit", || {
        guardians_under(env.root()).is_empty()
    });
}
