//! End-to-end tests of `rtmp::supervise` (README "Signals in `--exec` mode"), with the
//! supervisor in a process of its own.
//!
//! Signals are process-wide, so a supervisor cannot be tested inside the shared test process
//! (it would leave SIGINT, SIGTERM and the rest swallowed for every other test). Each `outer_*`
//! test re-executes this test binary to run exactly one `hook_*` test (see
//! [`crate::support::hook`]); that process plays rtmp.

use std::fs;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{
    AWAIT_GO, Hook, Pty, check_hook, log_lines, scratch_dir, send, sig_bit, sig_masks, wait_exit,
    wait_for_file, wait_until,
};
use nix::libc;
use rtmp::supervise::child::ChildSetup;
use rtmp::supervise::{ChildEnd, SpawnError, Supervisor, die_of_signal};

const SUPERVISE_SCRIPT: Hook = Hook("supervise::hook_supervise_script");
const MASK_AND_IGNORED: Hook = Hook("supervise::hook_mask_and_ignored");
const EARLY_SIGNAL: Hook = Hook("supervise::hook_early_signal");
const DIE_OF_QUIT: Hook = Hook("supervise::hook_die_of_quit");
const TERMINAL_SCRIPT: Hook = Hook("supervise::hook_terminal_script");
const SPAWN: Hook = Hook("supervise::hook_spawn");

/// The child: logs each caught signal and the probe (USR2), announces readiness, and once told
/// to go on (`$GO`) logs `end` and exits 3. It gives up after ~20 s so a broken supervisor
/// cannot leave it running forever.
///
/// "Exactly once" needs an end to the wait for a second delivery: the outer test sends the
/// probe to the supervisor only after the child logged the signal, and the supervisor forwards
/// in order, so once the probe is logged any second delivery of the signal is logged too.
fn script() -> String {
    format!(
        r#"
trap 'echo TERM >> "$LOG"' TERM
trap 'echo HUP >> "$LOG"' HUP
trap 'echo USR1 >> "$LOG"' USR1
trap 'echo INT >> "$LOG"' INT
trap 'echo probe >> "$LOG"' USR2
echo ready > "$READY"
{AWAIT_GO}
echo end >> "$LOG"
exit 3
"#
    )
}

/// Once the child has logged `name`, sends the probe to the supervisor `pid`, waits until the
/// child logged it, and lets the child finish.
#[track_caller]
fn probe_and_go(pid: u32, dir: &Path, name: &str) {
    let log = dir.join("log");
    wait_until(&format!("the child to log {name}"), || {
        log_lines(&log).iter().any(|l| l == name)
    });
    send(pid, libc::SIGUSR2);
    wait_until("the child to log the probe", || {
        log_lines(&log).iter().any(|l| l == "probe")
    });
    fs::write(dir.join("go"), "").expect("create go");
}

/// The supervisor role shared by the signal tests: run SCRIPT, record how it ended.
fn supervise_script(dir: &Path) {
    let sup = Supervisor::install().expect("install");
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &script()])
        .env("LOG", dir.join("log"))
        .env("READY", dir.join("ready"))
        .env("GO", dir.join("go"));
    let end = sup.spawn_and_wait(cmd, ChildSetup::default()).expect("run");
    // Returning only after the child ended: its last act was logging `end`.
    assert_eq!(
        log_lines(&dir.join("log")).last().map(String::as_str),
        Some("end")
    );
    fs::write(dir.join("result"), format!("{end:?}")).expect("write result");
}

#[test]
#[ignore = "hook: run by outer_* tests in a separate process"]
fn hook_supervise_script() {
    if let Some(dir) = SUPERVISE_SCRIPT.dir() {
        supervise_script(&dir);
    }
}

/// Starts the supervisor, sends it `sig` with kill(2) once the child is ready, and checks the
/// child saw it exactly once and the supervisor reported the child's exit.
fn forwards_once(sig: i32, name: &str) {
    let dir = scratch_dir(0o700);
    let mut child = SUPERVISE_SCRIPT
        .command(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hook");
    wait_for_file(&dir.path().join("ready"));
    send(child.id(), sig);
    probe_and_go(child.id(), dir.path(), name);
    let status = wait_exit(&mut child);
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    assert!(status.success(), "hook failed: {status:?}\n{stderr}");
    assert_eq!(
        log_lines(&dir.path().join("log")),
        [name, "probe", "end"],
        "the child must see SIG{name} exactly once"
    );
    let result = fs::read_to_string(dir.path().join("result")).expect("result");
    assert_eq!(result, "Exited(3)");
}

#[test]
fn outer_forwards_term_once() {
    forwards_once(libc::SIGTERM, "TERM");
}

#[test]
fn outer_forwards_hup_once() {
    forwards_once(libc::SIGHUP, "HUP");
}

#[test]
fn outer_forwards_usr1_once() {
    forwards_once(libc::SIGUSR1, "USR1");
}

/// Every descriptor open now that was not open in `before` must be close-on-exec.
fn assert_new_fds_cloexec(before: &[i32]) {
    for entry in fs::read_dir("/proc/self/fd").expect("read /proc/self/fd") {
        let fd: i32 = entry
            .expect("dir entry")
            .file_name()
            .to_string_lossy()
            .parse()
            .expect("fd number");
        if before.contains(&fd) {
            continue;
        }
        // SAFETY: F_GETFD on a number is harmless even if it was the (now closed) dir fd.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        assert!(flags < 0 || flags & libc::FD_CLOEXEC != 0, "fd {fd} leaks");
    }
}

fn open_fds() -> Vec<i32> {
    fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

#[test]
#[ignore = "hook: run by outer_* tests in a separate process"]
fn hook_mask_and_ignored() {
    let Some(dir) = MASK_AND_IGNORED.dir() else {
        return;
    };
    let mine = fs::read_to_string("/proc/thread-self/status").expect("own status");
    fs::write(dir.join("supervisor"), &mine).expect("write");
    let fds = open_fds();
    let sup = Supervisor::install().expect("install");
    assert_new_fds_cloexec(&fds);
    // The command inherits the supervisor's stdio (no redirection through `Command`): `cp`
    // copies its own status.
    let mut cmd = Command::new("cp");
    cmd.arg("/proc/self/status").arg(dir.join("child"));
    assert_eq!(
        sup.spawn_and_wait(cmd, ChildSetup::default()).expect("run"),
        ChildEnd::Exited(0)
    );
}

/// SAFETY: async-signal-safe calls only (runs between fork and exec).
fn start_with_odd_signals() -> std::io::Result<()> {
    // SAFETY: sigaction/sigprocmask on fully initialised local data.
    unsafe {
        let mut ign: libc::sigaction = std::mem::zeroed();
        ign.sa_sigaction = libc::SIG_IGN;
        for sig in [libc::SIGUSR2, libc::SIGINT, libc::SIGCHLD] {
            if libc::sigaction(sig, &ign, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGWINCH);
        libc::sigaddset(&mut set, libc::SIGUSR1);
        if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

#[test]
fn outer_child_gets_callers_mask_and_ignored_set() {
    let dir = scratch_dir(0o700);
    let mut cmd = MASK_AND_IGNORED.command(dir.path());
    // SAFETY: the closure only calls async-signal-safe functions.
    unsafe {
        cmd.pre_exec(start_with_odd_signals);
    }
    check_hook(&cmd.output().expect("run hook"));
    let sup = sig_masks(&fs::read_to_string(dir.path().join("supervisor")).expect("sup"));
    let child = sig_masks(&fs::read_to_string(dir.path().join("child")).expect("child"));
    assert_eq!(
        child, sup,
        "child (SigBlk, SigIgn) differs from the supervisor's start"
    );
    let (blk, ign) = child;
    for sig in [libc::SIGUSR2, libc::SIGINT, libc::SIGCHLD] {
        assert_ne!(ign & sig_bit(sig), 0, "signal {sig} should stay ignored");
    }
    for sig in [libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGUSR1] {
        assert_eq!(ign & sig_bit(sig), 0, "signal {sig} must not be ignored");
    }
    assert_eq!(blk, sig_bit(libc::SIGWINCH) | sig_bit(libc::SIGUSR1));
}

#[test]
#[ignore = "hook: run by outer_* tests in a separate process"]
fn hook_early_signal() {
    let Some(dir) = EARLY_SIGNAL.dir() else {
        return;
    };
    let mut sup = Supervisor::install().expect("install");
    assert_eq!(sup.pending_signal(), None);
    // raise() (tgkill to this thread) runs the handler before it returns; a process-directed
    // kill() could be handled by another thread of the test harness a moment later.
    // SAFETY: plain call; the supervisor catches SIGUSR1.
    assert_eq!(unsafe { libc::raise(libc::SIGUSR1) }, 0);
    assert_eq!(sup.pending_signal(), Some(libc::SIGUSR1));
    // Once a signal has arrived the command never starts: the spawn reports the signal.
    let ran = dir.join("ran");
    let mut cmd = Command::new("touch");
    cmd.arg(&ran);
    assert_eq!(
        sup.spawn_and_wait(cmd, ChildSetup::default()).expect("run"),
        ChildEnd::NotStarted(libc::SIGUSR1)
    );
    assert!(!ran.exists(), "the command ran after the signal");
}

#[test]
fn outer_early_signal_is_reported_and_stops_the_start() {
    let dir = scratch_dir(0o700);
    check_hook(&EARLY_SIGNAL.command(dir.path()).output().expect("run hook"));
}

#[test]
#[ignore = "hook: run by outer_* tests in a separate process"]
fn hook_die_of_quit() {
    if DIE_OF_QUIT.dir().is_some() {
        let _sup = Supervisor::install().expect("install");
        die_of_signal(libc::SIGQUIT);
    }
}

#[test]
fn outer_die_of_signal_kills_without_core() {
    let dir = scratch_dir(0o700);
    let out = DIE_OF_QUIT
        .command(dir.path())
        .current_dir(dir.path())
        .output()
        .expect("run hook");
    assert_eq!(out.status.signal(), Some(libc::SIGQUIT), "{out:?}");
    assert!(!out.status.core_dumped());
}

#[test]
#[ignore = "hook: run by outer_* tests in a separate process"]
fn hook_terminal_script() {
    if let Some(dir) = TERMINAL_SCRIPT.dir() {
        supervise_script(&dir);
    }
}

/// Ctrl-C typed on a terminal reaches the whole foreground group (kernel origin); the child
/// must see it once, not a second time through rtmp.
#[test]
fn outer_ctrl_c_on_a_terminal_reaches_child_once() {
    let dir = scratch_dir(0o700);
    // The hook becomes a session leader with the pty as controlling terminal, so it is the
    // terminal's foreground process group.
    let mut pty = Pty::spawn(TERMINAL_SCRIPT.command(dir.path()));
    wait_for_file(&dir.path().join("ready"));
    pty.type_bytes(b"\x03");
    probe_and_go(pty.child.id(), dir.path(), "INT");
    let (status, text) = pty.finish();
    assert!(status.success(), "hook failed: {status:?}\n{text}");
    assert_eq!(
        log_lines(&dir.path().join("log")),
        ["INT", "probe", "end"],
        "the child must see Ctrl-C exactly once; terminal: {text:?}"
    );
    let result = fs::read_to_string(dir.path().join("result")).expect("result");
    assert_eq!(result, "Exited(3)");
}

/// The hook for the spawn tests: the case to run is in `SPAWN_CASE_VAR`; it writes how the
/// spawn ended (`Debug` of the result, and the outcome of an error) to `result`.
const SPAWN_CASE_VAR: &str = "RTMP_SUPERVISE_SPAWN_CASE";

#[test]
#[ignore = "hook: run by outer_* tests in a separate process"]
fn hook_spawn() {
    let Some(dir) = SPAWN.dir() else {
        return;
    };
    let case = std::env::var(SPAWN_CASE_VAR).expect("spawn case");
    let cmd = match case.as_str() {
        "missing" => Command::new("rtmp-no-such-command-xyz"),
        "missing_with_slash" => Command::new("/nonexistent-dir-rtmp/cmd"),
        "directory" => Command::new(std::env::temp_dir()),
        "true" => Command::new("true"),
        "missing_cwd" => {
            let mut cmd = Command::new("true");
            cmd.current_dir("/nonexistent-dir-rtmp");
            cmd
        }
        "exit_7" => {
            let mut cmd = Command::new("sh");
            cmd.args(["-c", "exit 7"]);
            cmd
        }
        "killed" => {
            let mut cmd = Command::new("sh");
            cmd.args(["-c", "kill -TERM $$"]);
            cmd
        }
        other => panic!("unknown spawn case {other}"),
    };
    let sup = Supervisor::install().expect("install");
    let result = match sup.spawn_and_wait(cmd, ChildSetup::default()) {
        Ok(end) => format!("{end:?}"),
        Err(e) => format!(
            "{} {:?} errno={:?}",
            match e {
                SpawnError::NotFound(_) => "NotFound",
                SpawnError::CannotRun(_) => "CannotRun",
                SpawnError::WaitFailed(_) => "WaitFailed",
                SpawnError::NoResources(_) => "NoResources",
                SpawnError::CannotStart(_) => "CannotStart",
                SpawnError::CannotChdir(_) => "CannotChdir",
            },
            e.outcome(),
            e.io_error().raw_os_error()
        ),
    };
    fs::write(dir.join("result"), result).expect("write result");
}

/// Runs spawn case `case` under a supervisor in a process of its own; how it ended.
fn spawn_case(case: &str) -> String {
    let dir = scratch_dir(0o700);
    let out = SPAWN
        .command(dir.path())
        .env(SPAWN_CASE_VAR, case)
        .output()
        .expect("run hook");
    check_hook(&out);
    fs::read_to_string(dir.path().join("result")).expect("result")
}

#[test]
fn outer_missing_command_is_not_found() {
    let result = spawn_case("missing");
    assert!(result.starts_with("NotFound NotFound "), "{result}");
}

#[test]
fn outer_missing_path_with_slash_is_not_found() {
    let result = spawn_case("missing_with_slash");
    assert!(result.starts_with("NotFound NotFound "), "{result}");
}

#[test]
fn outer_directory_cannot_run() {
    let result = spawn_case("directory");
    assert_eq!(
        result,
        format!("CannotRun CannotRun errno=Some({})", libc::EACCES)
    );
}

/// A directory the command's process cannot change to is rtmp's failure (125), told apart
/// from the command's own (`--cd`; issue 16).
#[test]
fn outer_missing_directory_is_rtmps_failure() {
    let result = spawn_case("missing_cwd");
    assert_eq!(
        result,
        format!("CannotChdir ExecFailed errno=Some({})", libc::ENOENT)
    );
}

#[test]
fn outer_true_exits_zero() {
    assert_eq!(spawn_case("true"), format!("{:?}", ChildEnd::Exited(0)));
}

#[test]
fn outer_exit_code_is_reported() {
    assert_eq!(spawn_case("exit_7"), format!("{:?}", ChildEnd::Exited(7)));
}

#[test]
fn outer_death_by_signal_is_reported() {
    assert_eq!(
        spawn_case("killed"),
        format!("{:?}", ChildEnd::Signaled(libc::SIGTERM))
    );
}
