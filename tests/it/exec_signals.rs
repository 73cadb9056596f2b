//! `--exec` mode and signals, through the real binary (README "Exit status" and "Signals in
//! `--exec` mode"): a child's signal death becomes rtmp's, signals sent to rtmp reach the child
//! exactly once, Ctrl-C on a terminal is not sent twice, and rtmp never exits before its child.
//!
//! Children announce readiness through a [`Handshake`] (a file written atomically, holding the
//! path) and wait for the test's go-ahead; "rtmp stayed" is read back from the child itself at
//! the end ([`REPORT_PARENT_AND_PATH`]), and "no second delivery" is settled by a probe signal
//! (see [`trapper`]): nothing is watched for a fixed time.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;

use crate::support::{
    ANNOUNCE, AWAIT_GO, Handshake, Pty, REPORT_PARENT_AND_PATH, TestEnv, aux_dir, exists,
    is_pending, reported_path, rtmp_bin, send, spawn_piped, wait_output, wait_until,
};
use nix::libc;

// ---------------------------------------------------------------- signal death

/// Runs a child that kills itself with `sig` and checks rtmp died of the same signal, without
/// a core dump, and removed the path (the child reports it in `path` first).
fn child_dies_of(sig: i32, name: &str, dir: bool) {
    let env = TestEnv::new();
    let aux = aux_dir();
    let script = format!(
        "ulimit -c 0; cd \"$AUX\" && printf '%s' \"$RTMP_PATH\" > path && kill -{name} $$; exit 9"
    );
    let mut cmd = env.rtmp_cmd(if dir { &["-d"][..] } else { &[][..] });
    cmd.args(["--exec", "sh", "-c", &script, "sh"])
        .env("AUX", aux.path());
    let run = env.run_cmd(cmd);
    assert_eq!(
        run.status().signal(),
        Some(sig),
        "rtmp must die of SIG{name}{}",
        run.context()
    );
    assert!(!run.status().core_dumped(), "core dumped{}", run.context());
    run.stdout("").stderr("").nothing_left();
    let path = reported_path(&aux.path().join("path"));
    assert!(
        !path.as_os_str().is_empty(),
        "child did not run{}",
        run.context()
    );
    assert!(!exists(&path), "{path:?} left behind");
}

#[test]
fn child_killed_by_term_kills_rtmp_with_term() {
    child_dies_of(libc::SIGTERM, "TERM", false);
}

#[test]
fn child_killed_by_int_kills_rtmp_with_int() {
    child_dies_of(libc::SIGINT, "INT", true);
}

#[test]
fn child_killed_by_kill_kills_rtmp_with_kill() {
    child_dies_of(libc::SIGKILL, "KILL", true);
}

#[test]
fn child_killed_by_hup_and_usr1_kill_rtmp_alike() {
    child_dies_of(libc::SIGHUP, "HUP", false);
    child_dies_of(libc::SIGUSR1, "USR1", true);
}

/// rtmp is started with core dumps allowed (soft RLIMIT_CORE raised to the hard limit) in the
/// scratch directory; the child forbids its own. No `core` file may appear, and the status
/// must not say "core dumped".
#[test]
fn child_killed_by_quit_leaves_no_core_dump() {
    let env = TestEnv::new();
    let mut cmd = env.rtmp_cmd(["--exec", "sh", "-c", "ulimit -c 0; kill -QUIT $$"]);
    // SAFETY: getrlimit/setrlimit are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::getrlimit(libc::RLIMIT_CORE, &mut lim) == 0 {
                lim.rlim_cur = lim.rlim_max;
                libc::setrlimit(libc::RLIMIT_CORE, &lim);
            }
            Ok(())
        });
    }
    let run = env.run_cmd(cmd);
    assert_eq!(
        run.status().signal(),
        Some(libc::SIGQUIT),
        "{}",
        run.context()
    );
    assert!(
        !run.status().core_dumped(),
        "rtmp dumped core{}",
        run.context()
    );
    // The scratch tree must be as before: no `core` or `core.PID` file.
    run.nothing_left();
}

// ---------------------------------------------------------------- forwarding

/// The child for forwarding tests: logs every delivery of `$SIG` and of the probe signal
/// `$PROBE` to `$LOG`, announces itself, and once told to go on logs `end` and exits `$CODE`.
///
/// "Exactly once" needs an end to the wait for a second delivery. rtmp takes signals one after
/// another and sends its forwards in order, so once the child has logged the probe, which the
/// test sends to rtmp only after the child logged `$SIG`, any second `$SIG` that rtmp sent
/// while handling the first has reached the child too and is in the log.
fn trapper() -> String {
    format!(
        r#"
trap 'echo "$SIG" >> "$LOG"' "$SIG"
trap 'echo probe >> "$LOG"' "$PROBE"
{ANNOUNCE}
{AWAIT_GO}
echo end >> "$LOG"
exit "$CODE"
"#
    )
}

/// The probe signal for a test of `sig`: another signal that rtmp forwards.
fn probe_for(sig: i32) -> (i32, &'static str) {
    if sig == libc::SIGUSR2 {
        (libc::SIGUSR1, "USR1")
    } else {
        (libc::SIGUSR2, "USR2")
    }
}

struct Trapper {
    env: TestEnv,
    hs: Handshake,
    before: Vec<String>,
}

impl Trapper {
    fn new() -> Self {
        let env = TestEnv::new();
        let before = env.listing();
        Trapper {
            env,
            hs: Handshake::new(),
            before,
        }
    }

    /// The rtmp command running [`trapper`] for signal `sig` (named `name`), exiting with
    /// `code`.
    fn command(&self, dir: bool, sig: i32, name: &str, code: u8) -> std::process::Command {
        let mut cmd = self.env.rtmp_cmd(if dir { &["-d"][..] } else { &[][..] });
        cmd.args(["--exec", "sh", "-c", &trapper(), "sh"])
            .env("SIG", name)
            .env("PROBE", probe_for(sig).1)
            .env("CODE", code.to_string());
        self.hs.env(&mut cmd);
        cmd
    }

    fn wait_ready(&self) -> std::path::PathBuf {
        let path = self.hs.wait_ready();
        assert!(exists(&path), "{path:?} missing while the child runs");
        path
    }

    /// Once the child has logged `sig` (named `name`), sends the probe to rtmp (`pid`), waits
    /// for the child to log it, and lets the child finish.
    #[track_caller]
    fn probe_and_go(&self, pid: u32, sig: i32, name: &str) {
        wait_until(&format!("the child to log {name}"), || {
            self.hs.log().iter().any(|l| l == name)
        });
        send(pid, probe_for(sig).0);
        wait_until("the child to log the probe", || {
            self.hs.log().iter().any(|l| l == "probe")
        });
        self.hs.go();
    }

    #[track_caller]
    fn check_gone(&self, path: &Path) {
        assert!(!exists(path), "{path:?} left behind");
        assert_eq!(self.env.listing(), self.before, "something was left behind");
    }
}

/// `kill -SIG <rtmp pid>`: the child sees the signal exactly once, rtmp waits for it and exits
/// with its status, and the path is gone.
fn forwarded_once(sig: i32, name: &str, dir: bool) {
    let t = Trapper::new();
    let child = spawn_piped(t.command(dir, sig, name, 5));
    let pid = child.id();
    let path = t.wait_ready();
    send(pid, sig);
    t.probe_and_go(pid, sig, name);
    let out = wait_output(child);
    assert_eq!(
        out.status.code(),
        Some(5),
        "rtmp status {:?}, stderr {:?}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"");
    assert_eq!(out.stderr, b"");
    assert_eq!(
        t.hs.log(),
        [name, "probe", "end"],
        "the child must see SIG{name} exactly once"
    );
    t.check_gone(&path);
}

#[test]
fn term_sent_to_rtmp_reaches_the_child_once() {
    forwarded_once(libc::SIGTERM, "TERM", true);
}

#[test]
fn hup_sent_to_rtmp_reaches_the_child_once() {
    forwarded_once(libc::SIGHUP, "HUP", false);
}

#[test]
fn usr1_sent_to_rtmp_reaches_the_child_once() {
    forwarded_once(libc::SIGUSR1, "USR1", true);
}

#[test]
fn int_and_usr2_sent_to_rtmp_reach_the_child_once() {
    forwarded_once(libc::SIGINT, "INT", false);
    forwarded_once(libc::SIGUSR2, "USR2", true);
}

/// Ctrl-C typed on the terminal goes to the whole foreground group (rtmp and the child); rtmp
/// must not send it again.
#[test]
fn ctrl_c_on_a_terminal_reaches_the_child_once() {
    let t = Trapper::new();
    let mut session = Pty::spawn(t.command(true, libc::SIGINT, "INT", 6));
    let path = t.wait_ready();
    session.type_bytes(b"\x03");
    t.probe_and_go(session.child.id(), libc::SIGINT, "INT");
    let (status, text) = session.finish();
    assert_eq!(
        status.code(),
        Some(6),
        "status {status:?}, terminal: {text:?}"
    );
    assert_eq!(
        t.hs.log(),
        ["INT", "probe", "end"],
        "the child must see Ctrl-C exactly once; terminal: {text:?}"
    );
    t.check_gone(&path);
}

/// Ctrl-C on a terminal with a child that does not catch it: both die of SIGINT, rtmp removes
/// the path first.
#[test]
fn ctrl_c_on_a_terminal_kills_rtmp_with_int_after_cleanup() {
    let env = TestEnv::new();
    let hs = Handshake::new();
    let before = env.listing();
    let script = format!("{ANNOUNCE}; exec sleep 20");
    let mut cmd = env.rtmp_cmd(["-d", "--exec", "sh", "-c", &script, "sh"]);
    hs.env(&mut cmd);
    let mut session = Pty::spawn(cmd);
    let path = hs.wait_ready();
    session.type_bytes(b"\x03");
    let (status, text) = session.finish();
    assert_eq!(
        status.signal(),
        Some(libc::SIGINT),
        "status {status:?}, terminal: {text:?}"
    );
    assert!(!exists(&path), "{path:?} left behind");
    assert_eq!(env.listing(), before);
}

/// A child that catches TERM and keeps running until told to stop: rtmp forwards each TERM and
/// stays (not exited, the path in place) as long as the child runs. The child itself reports at
/// the end who its parent is and whether its path exists, which covers its whole run.
#[test]
fn rtmp_never_exits_before_its_child() {
    let env = TestEnv::new();
    let hs = Handshake::new();
    let before = env.listing();
    let script = format!(
        r#"
trap 'echo TERM >> "$LOG"' TERM
{ANNOUNCE}
{AWAIT_GO}
{REPORT_PARENT_AND_PATH}
exit 4
"#
    );
    let mut cmd = env.rtmp_cmd(["--exec", "sh", "-c", &script, "sh"]);
    hs.env(&mut cmd);
    let mut rtmp = spawn_piped(cmd);
    let pid = rtmp.id();
    let path = hs.wait_ready();
    send(pid, libc::SIGTERM);
    // rtmp got TERM and passed it on.
    wait_until("the child to log TERM", || hs.log().len() == 1);
    // A second TERM is forwarded too: rtmp was still there, and still forwarding, after the
    // first.
    send(pid, libc::SIGTERM);
    wait_until("the child to log the second TERM", || hs.log().len() == 2);
    assert!(rtmp.try_wait().expect("try_wait").is_none());
    hs.go();
    let out = wait_output(rtmp);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert_eq!(
        hs.log(),
        vec![
            "TERM".to_owned(),
            "TERM".to_owned(),
            format!("parent {pid}"),
            "path yes".to_owned()
        ],
        "rtmp must stay the child's parent, with the path in place, until the child ends"
    );
    assert!(!exists(&path), "{path:?} left behind");
    assert_eq!(env.listing(), before);
}

/// A child that ignores TERM outright: rtmp keeps waiting for it after TERM.
///
/// Nothing shows that a TERM reached a child that ignores it, so the test probes rtmp instead:
/// once rtmp has taken the TERM (it is no longer pending), a USR1 is sent and the child logs it
/// when rtmp forwards it, so rtmp's signal loop went on past the TERM. The child's report at
/// the end then shows that rtmp stayed, with the path in place, for the rest of its run.
#[test]
fn rtmp_waits_for_a_child_that_ignores_term() {
    let env = TestEnv::new();
    let hs = Handshake::new();
    let script = format!(
        r#"
trap '' TERM
trap 'echo USR1 >> "$LOG"' USR1
{ANNOUNCE}
{AWAIT_GO}
{REPORT_PARENT_AND_PATH}
exit 0
"#
    );
    let mut cmd = env.rtmp_cmd(["-d", "--exec", "sh", "-c", &script, "sh"]);
    hs.env(&mut cmd);
    let mut rtmp = spawn_piped(cmd);
    let pid = rtmp.id();
    let path = hs.wait_ready();
    send(pid, libc::SIGTERM);
    wait_until("rtmp to take the TERM", || !is_pending(pid, libc::SIGTERM));
    send(pid, libc::SIGUSR1);
    wait_until("the child to log the USR1 probe", || !hs.log().is_empty());
    assert!(
        rtmp.try_wait().expect("try_wait").is_none(),
        "rtmp exited while its child was still running"
    );
    hs.go();
    let out = wait_output(rtmp);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        hs.log(),
        vec![
            "USR1".to_owned(),
            format!("parent {pid}"),
            "path yes".to_owned()
        ],
        "rtmp must stay the child's parent, with the path in place, until the child ends"
    );
    assert!(!exists(&path), "{path:?} left behind");
}

/// README "Signals in `--exec` mode": "A signal that arrives after the path exists but before
/// the child starts removes the path and ends rtmp with that signal." To hit that window
/// deterministically, rtmp runs under strace, which holds the creation for 0.5 s right after
/// its `mkdirat` returns (`inject=mkdir,mkdirat:delay_exit`; the guardian creates the path,
/// relative to the pinned parent, while rtmp waits for its answer); the test sends SIGTERM to
/// rtmp (not to strace) inside that pause. Skipped, with a message, without strace or where
/// ptrace is not allowed.
#[test]
fn signal_before_the_child_starts_removes_the_path_and_ends_rtmp() {
    const STRACE: &str = "/usr/bin/strace";
    if !Path::new(STRACE).exists() {
        eprintln!("skipped: {STRACE} is missing");
        return;
    }
    let env = TestEnv::new();
    let ran = env.path("ran");
    let trace = aux_dir();
    let log = trace.path().join("strace.log");
    let mut cmd = env.command(STRACE);
    cmd.args(["-qq", "-f", "-e", "trace=mkdir,mkdirat,execve", "-o"])
        .arg(&log)
        .args(["-e", "inject=mkdir,mkdirat:delay_exit=500000"])
        .arg(rtmp_bin())
        .args(["-d", "--exec", "touch"])
        .arg(&ran);
    let mut strace = cmd.spawn().expect("spawn strace");
    // rtmp's directory appears, then the guardian sits in the injected delay, rtmp waiting.
    let tmpdir = env.tmpdir();
    let created = || std::fs::read_dir(&tmpdir).expect("ls").next().is_some();
    let mut ended = None;
    wait_until("rtmp to create its directory", || {
        ended = strace.try_wait().expect("try_wait");
        created() || ended.is_some()
    });
    if let (Some(status), false) = (ended, created()) {
        eprintln!("skipped: strace could not trace rtmp here ({status})");
        return;
    }
    let children = format!("/proc/{}/task/{}/children", strace.id(), strace.id());
    let rtmp: u32 = std::fs::read_to_string(&children)
        .expect("strace's children")
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .expect("rtmp's pid");
    // strace has not reaped rtmp (it is paused inside strace), so the pid is still rtmp's.
    send(rtmp, libc::SIGTERM);
    let status = strace.wait().expect("wait strace");
    // strace ends the way its tracee did: killed by SIGTERM.
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    // The command was never even started (a forwarded signal could kill it before it acts).
    let log = std::fs::read_to_string(&log).expect("strace log");
    assert!(
        !log.lines().any(|l| l.contains("execve(\"/usr/bin/touch\"")),
        "the command was started after an early signal:\n{log}"
    );
    assert!(!exists(&ran), "the command ran after an early signal");
    assert_eq!(
        std::fs::read_dir(&tmpdir).expect("ls").count(),
        0,
        "the path was left behind"
    );
}

/// `--cd` into a directory that is gone by the time the command's process changes into it
/// (strace holds every `chdir` for 0.5 s, and the test removes the directory meanwhile): rtmp
/// says so as GNU `env --chdir` does, exits 125 and does not blame the command. Found by an
/// attack on issue 16's spawn: rtmp used to print `rtmp: 'pwd': No such file or directory` and
/// exit 127, as if `pwd` were missing. Skipped without strace.
#[test]
fn cd_into_a_directory_removed_before_the_command_starts_is_rtmps_failure() {
    const STRACE: &str = "/usr/bin/strace";
    if !Path::new(STRACE).exists() {
        eprintln!("skipped: {STRACE} is missing");
        return;
    }
    let env = TestEnv::new();
    let mut cmd = env.command(STRACE);
    cmd.args(["-qq", "-f", "-o", "/dev/null", "-e", "trace=chdir"])
        .args(["-e", "inject=chdir:delay_enter=500000"])
        .arg(rtmp_bin())
        .args(["-d", "--cd", "--exec", "pwd"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let strace = cmd.spawn().expect("spawn strace");
    let tmpdir = env.tmpdir();
    let entry = || {
        std::fs::read_dir(&tmpdir)
            .expect("ls")
            .next()
            .map(|e| e.expect("entry").path())
    };
    wait_until("rtmp to create its directory", || entry().is_some());
    let path = entry().expect("the directory");
    std::fs::remove_dir(&path).expect("rmdir");
    let out = strace.wait_with_output().expect("wait strace");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("ptrace") {
        eprintln!("skipped: strace could not trace rtmp here: {stderr}");
        return;
    }
    assert_eq!(
        stderr,
        format!(
            "rtmp: cannot change directory to '{}': No such file or directory\n",
            path.display()
        )
    );
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(out.stdout.is_empty(), "the command ran: {:?}", out.stdout);
    assert_eq!(std::fs::read_dir(&tmpdir).expect("ls").count(), 0);
}
