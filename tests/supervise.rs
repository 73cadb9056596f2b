//! End-to-end tests of `rtmp::supervise`, with the supervisor in a process of its own.
//!
//! Signals are process-wide, so a supervisor cannot be tested inside the shared test process
//! (it would leave SIGINT, SIGTERM and the rest swallowed for every other test).
//! Each `outer_*` test re-executes this very test binary, running exactly one `hook_*` test
//! (selected with `--exact` and enabled by the `RTMP_SUPERVISE_HOOK` variable); that process
//! plays rtmp. Hooks are `#[ignore]`d so a normal `cargo test` does not run them directly, and
//! they do nothing when the variable does not name them.

#[path = "testenv/child.rs"]
mod child;
mod testenv;

use std::fs;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::libc;
use rtmp::supervise::child::ChildSetup;
use rtmp::supervise::{ChildEnd, SpawnError, Supervisor, die_of_signal};

const HOOK_VAR: &str = "RTMP_SUPERVISE_HOOK";
const DIR_VAR: &str = "RTMP_SUPERVISE_DIR";

/// The child: logs each caught signal, announces readiness, keeps running for ~0.3 s after the
/// first signal (so a duplicate delivery would be logged too), then logs `end` and exits 3.
/// It gives up after ~30 s so a broken supervisor cannot leave it running forever.
const SCRIPT: &str = r#"
trap 'echo TERM >> "$LOG"; got=1' TERM
trap 'echo HUP >> "$LOG"; got=1' HUP
trap 'echo USR1 >> "$LOG"; got=1' USR1
trap 'echo INT >> "$LOG"; got=1' INT
echo ready > "$READY"
n=0
i=0
while :; do
  sleep 0.05 & wait $!
  i=$((i + 1))
  if [ "$i" -ge 600 ]; then echo timeout >> "$LOG"; exit 99; fi
  if [ -n "$got" ]; then
    n=$((n + 1))
    if [ "$n" -ge 6 ]; then echo end >> "$LOG"; exit 3; fi
  fi
done
"#;

/// The hook's scratch directory when this process is the hook `name`, else `None`.
fn hook_dir(name: &str) -> Option<PathBuf> {
    if std::env::var(HOOK_VAR).ok()? != name {
        return None;
    }
    std::env::var_os(DIR_VAR).map(PathBuf::from)
}

fn hook_command(name: &str, dir: &Path) -> Command {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = Command::new(exe);
    cmd.args([name, "--exact", "--nocapture", "--include-ignored"])
        .args(["--test-threads", "1"])
        .env(HOOK_VAR, name)
        .env(DIR_VAR, dir)
        .stdin(Stdio::null());
    cmd
}

fn check_hook(out: &Output) {
    assert!(
        out.status.success(),
        "hook failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !path.exists() {
        assert!(Instant::now() < deadline, "timed out waiting for {path:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits for a hook, killing it (and failing) if it outlives a generous deadline, so a
/// supervisor that never returns fails the test instead of hanging it.
fn wait_hook(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait hook") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hook did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn log_lines(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The supervisor role shared by the signal tests: run SCRIPT, record how it ended.
fn supervise_script(dir: &Path) {
    let sup = Supervisor::install().expect("install");
    let mut cmd = Command::new("sh");
    cmd.args(["-c", SCRIPT])
        .env("LOG", dir.join("log"))
        .env("READY", dir.join("ready"));
    let end = sup.spawn_and_wait(cmd, ChildSetup::default()).expect("run");
    // Returning only after the child ended: its last act was logging `end`.
    assert_eq!(log_lines(dir).last().map(String::as_str), Some("end"));
    fs::write(dir.join("result"), format!("{end:?}")).expect("write result");
}

#[test]
#[ignore = "hook: run by outer_* tests in a separate process"]
fn hook_supervise_script() {
    if let Some(dir) = hook_dir("hook_supervise_script") {
        supervise_script(&dir);
    }
}

/// Starts the supervisor, sends it `sig` with kill(2) once the child is ready, and checks the
/// child saw it exactly once and the supervisor reported the child's exit.
fn forwards_once(sig: i32, name: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = hook_command("hook_supervise_script", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hook");
    wait_for_file(&dir.path().join("ready"));
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: plain syscall; `pid` is our unreaped child.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
    let status = wait_hook(&mut child);
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    assert!(status.success(), "hook failed: {status:?}\n{stderr}");
    assert_eq!(
        log_lines(dir.path()),
        vec![name.to_owned(), "end".to_owned()]
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

/// `SigBlk` and `SigIgn` lines of a `/proc/.../status` file.
fn sig_lines(status: &str) -> (u64, u64) {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .expect("status field")
    };
    (field("SigBlk:"), field("SigIgn:"))
}

fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
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
    let Some(dir) = hook_dir("hook_mask_and_ignored") else {
        return;
    };
    let mine = fs::read_to_string("/proc/thread-self/status").expect("own status");
    fs::write(dir.join("supervisor"), &mine).expect("write");
    let fds = open_fds();
    let sup = Supervisor::install().expect("install");
    assert_new_fds_cloexec(&fds);
    let out = fs::File::create(dir.join("child")).expect("create");
    let mut cmd = Command::new("cat");
    cmd.arg("/proc/self/status").stdout(out);
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
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = hook_command("hook_mask_and_ignored", dir.path());
    // SAFETY: the closure only calls async-signal-safe functions.
    unsafe {
        cmd.pre_exec(start_with_odd_signals);
    }
    check_hook(&cmd.output().expect("run hook"));
    let sup = sig_lines(&fs::read_to_string(dir.path().join("supervisor")).expect("sup"));
    let child = sig_lines(&fs::read_to_string(dir.path().join("child")).expect("child"));
    assert_eq!(
        child, sup,
        "child (SigBlk, SigIgn) differs from the supervisor's start"
    );
    let (blk, ign) = child;
    for sig in [libc::SIGUSR2, libc::SIGINT, libc::SIGCHLD] {
        assert_ne!(ign & bit(sig), 0, "signal {sig} should stay ignored");
    }
    for sig in [libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGUSR1] {
        assert_eq!(ign & bit(sig), 0, "signal {sig} must not be ignored");
    }
    assert_eq!(blk, bit(libc::SIGWINCH) | bit(libc::SIGUSR1));
}

#[test]
#[ignore = "hook: run by outer_* tests in a separate process"]
fn hook_early_signal() {
    let Some(_dir) = hook_dir("hook_early_signal") else {
        return;
    };
    let mut sup = Supervisor::install().expect("install");
    assert_eq!(sup.pending_signal(), None);
    // raise() (tgkill to this thread) runs the handler before it returns; a process-directed
    // kill() could be handled by another thread of the test harness a moment later.
    // SAFETY: plain call; the supervisor catches SIGUSR1.
    assert_eq!(unsafe { libc::raise(libc::SIGUSR1) }, 0);
    assert_eq!(sup.pending_signal(), Some(libc::SIGUSR1));
    // The child did not exist when the signal came, so it is forwarded once it does; `sleep`
    // has no handler and dies of it.
    let mut cmd = Command::new("sleep");
    cmd.arg("30");
    assert_eq!(
        sup.spawn_and_wait(cmd, ChildSetup::default()).expect("run"),
        ChildEnd::Signaled(libc::SIGUSR1)
    );
}

#[test]
fn outer_early_signal_is_reported_and_forwarded() {
    let dir = tempfile::tempdir().expect("tempdir");
    check_hook(
        &hook_command("hook_early_signal", dir.path())
            .output()
            .expect("run hook"),
    );
}

#[test]
#[ignore = "hook: run by outer_* tests in a separate process"]
fn hook_die_of_quit() {
    if hook_dir("hook_die_of_quit").is_some() {
        let _sup = Supervisor::install().expect("install");
        die_of_signal(libc::SIGQUIT);
    }
}

#[test]
fn outer_die_of_signal_kills_without_core() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = hook_command("hook_die_of_quit", dir.path())
        .current_dir(dir.path())
        .output()
        .expect("run hook");
    assert_eq!(out.status.signal(), Some(libc::SIGQUIT), "{out:?}");
    assert!(!out.status.core_dumped());
}

#[test]
#[ignore = "hook: run by outer_* tests in a separate process"]
fn hook_terminal_script() {
    if let Some(dir) = hook_dir("hook_terminal_script") {
        supervise_script(&dir);
    }
}

/// Ctrl-C typed on a terminal reaches the whole foreground group (kernel origin); the child
/// must see it once, not a second time through rtmp.
#[test]
fn outer_ctrl_c_on_a_terminal_reaches_child_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The hook becomes a session leader with the pty as controlling terminal, so it is the
    // terminal's foreground process group.
    let (mut child, mut master) =
        child::spawn_on_pty(hook_command("hook_terminal_script", dir.path()));
    let mut reader = master.try_clone().expect("dup master");
    // Drain the terminal so the hook never blocks writing to it; EIO ends it once it exits.
    let drain = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = reader.read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    });
    wait_for_file(&dir.path().join("ready"));
    std::io::Write::write_all(&mut master, b"\x03").expect("type Ctrl-C");
    let status = wait_hook(&mut child);
    drop(master);
    let text = drain.join().unwrap_or_default();
    assert!(status.success(), "hook failed: {status:?}\n{text}");
    assert_eq!(
        log_lines(dir.path()),
        vec!["INT".to_owned(), "end".to_owned()]
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
    let Some(dir) = hook_dir("hook_spawn") else {
        return;
    };
    let case = std::env::var(SPAWN_CASE_VAR).expect("spawn case");
    let mut cmd = match case.as_str() {
        "missing" => Command::new("rtmp-no-such-command-xyz"),
        "missing_with_slash" => Command::new("/nonexistent-dir-rtmp/cmd"),
        "directory" => Command::new(std::env::temp_dir()),
        "true" => Command::new("true"),
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
    cmd.stdin(Stdio::null());
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
            },
            e.outcome(),
            e.io_error().raw_os_error()
        ),
    };
    fs::write(dir.join("result"), result).expect("write result");
}

/// Runs spawn case `case` under a supervisor in a process of its own; how it ended.
fn spawn_case(case: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = hook_command("hook_spawn", dir.path())
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
