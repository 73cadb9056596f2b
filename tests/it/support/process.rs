//! Helpers for the `--exec` tests (SPEC.md C): running rtmp in the background, readiness files,
//! signal masks, a pseudo-terminal and an unprivileged runner.
//!
//! Part of [`crate::support`], which re-exports all of it.

use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::libc;
use tempfile::TempDir;

use super::{TestEnv, rtmp_bin};

/// How long any single wait in these tests may take before the test fails (a broken rtmp must
/// not hang the suite).
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The short polling step used for every wait.
const STEP: Duration = Duration::from_millis(5);

/// A scratch directory outside the [`TestEnv`] tree (so that its contents do not show in the
/// tree listing): logs, readiness files, "outside" targets. World-writable, so an unprivileged
/// rtmp and its child can use it too.
pub fn aux_dir() -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix("rtmp-aux.")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::Builder::new().prefix("rtmp-aux.").tempdir())
        .expect("cannot create an aux directory");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).expect("chmod aux");
    dir
}

/// Waits (polling) until `path` exists.
#[track_caller]
pub fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + DEADLINE;
    while fs::symlink_metadata(path).is_err() {
        assert!(Instant::now() < deadline, "timed out waiting for {path:?}");
        std::thread::sleep(STEP);
    }
}

/// Waits (polling) until `cond` holds.
#[track_caller]
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(STEP);
    }
}

/// Reads a file the child wrote, or "" if it does not exist.
pub fn read_or_empty(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// The lines of a log file the child appended to.
pub fn log_lines(path: &Path) -> Vec<String> {
    read_or_empty(path).lines().map(str::to_owned).collect()
}

/// Whether something (even a dangling symlink) exists at `path`.
pub fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Waits for `child` to end, polling; kills it and fails the test after [`DEADLINE`].
#[track_caller]
pub fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rtmp did not finish in time");
        }
        std::thread::sleep(STEP);
    }
}

/// Waits for a child spawned with piped stdout/stderr and collects its output (the outputs in
/// these tests are far smaller than a pipe buffer, so nothing blocks while we poll).
#[track_caller]
pub fn wait_output(mut child: Child) -> Output {
    let status = wait_exit(&mut child);
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    if let Some(mut s) = child.stdout.take() {
        s.read_to_end(&mut stdout).expect("read stdout");
    }
    if let Some(mut s) = child.stderr.take() {
        s.read_to_end(&mut stderr).expect("read stderr");
    }
    Output {
        status,
        stdout,
        stderr,
    }
}

/// Spawns `cmd` with stdin from /dev/null and stdout/stderr piped.
pub fn spawn_piped(mut cmd: Command) -> Child {
    isolate_fds(&mut cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rtmp")
}

/// Makes every descriptor above 2 close-on-exec in the started process, so that a descriptor
/// another test thread opened without `O_CLOEXEC` (openpty does) cannot reach rtmp and be
/// mistaken for one rtmp leaked.
pub fn isolate_fds(cmd: &mut Command) {
    // SAFETY: a raw close_range syscall is async-signal-safe; errors (old kernels) are ignored.
    unsafe {
        cmd.pre_exec(|| {
            libc::syscall(
                libc::SYS_close_range,
                3u32,
                u32::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            );
            Ok(())
        });
    }
}

/// Sends `sig` to `pid` with kill(2).
#[track_caller]
pub fn send(pid: u32, sig: i32) {
    let pid = libc::pid_t::try_from(pid).expect("pid");
    // SAFETY: plain syscall; the process is our unreaped child, so the pid is not reused.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(
        rc,
        0,
        "kill({pid}, {sig}): {}",
        std::io::Error::last_os_error()
    );
}

/// `1 << (sig - 1)`, the bit of `sig` in the `SigBlk`/`SigIgn` masks of /proc/PID/status.
pub fn sig_bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// `(SigBlk, SigIgn)` from the text of a /proc/PID/status file.
#[track_caller]
pub fn sig_masks(status: &str) -> (u64, u64) {
    let field = |name: &str| {
        let line = status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {status:?}"));
        u64::from_str_radix(line.trim(), 16).expect("hex mask")
    };
    (field("SigBlk:"), field("SigIgn:"))
}

/// A pseudo-terminal session running one command as session leader with the terminal as its
/// controlling terminal (so the command is the terminal's foreground process group).
pub struct PtySession {
    /// The command (rtmp).
    pub child: Child,
    master: fs::File,
    drain: Option<JoinHandle<String>>,
}

/// Spawns `cmd` as a session leader with a new pseudo-terminal as its controlling terminal
/// (and stdin, stdout, stderr); returns the child and the terminal's master side.
pub fn spawn_on_pty(mut cmd: Command) -> (Child, fs::File) {
    let pty = nix::pty::openpty(
        None::<&nix::pty::Winsize>,
        None::<&nix::sys::termios::Termios>,
    )
    .expect("openpty");
    // openpty(3) does not set close-on-exec; processes spawned by concurrent tests must
    // not hold the terminal open.
    for fd in [pty.master.as_raw_fd(), pty.slave.as_raw_fd()] {
        // SAFETY: F_SETFD on descriptors we own.
        assert_eq!(
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) },
            0
        );
    }
    let slave = &pty.slave;
    cmd.stdin(slave.try_clone().expect("dup"))
        .stdout(slave.try_clone().expect("dup"))
        .stderr(slave.try_clone().expect("dup"));
    // SAFETY: setsid and ioctl are async-signal-safe. The command becomes a session leader
    // with the pty (its stdin) as controlling terminal.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    isolate_fds(&mut cmd);
    let child = cmd.spawn().expect("spawn on pty");
    // The master reads EOF (EIO) only once no slave descriptor is left.
    drop(cmd);
    drop(pty.slave);
    (child, fs::File::from(pty.master))
}

impl PtySession {
    /// Spawns `cmd` on a new pseudo-terminal.
    pub fn spawn(cmd: Command) -> PtySession {
        let (child, master) = spawn_on_pty(cmd);
        let mut reader = master.try_clone().expect("dup master");
        // Drain the terminal so nothing blocks writing to it; EIO ends it.
        let drain = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = reader.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        });
        PtySession {
            child,
            master,
            drain: Some(drain),
        }
    }

    /// Types `bytes` on the terminal.
    pub fn type_bytes(&mut self, bytes: &[u8]) {
        std::io::Write::write_all(&mut self.master, bytes).expect("write to the terminal");
    }

    /// Waits for the command to end; returns its status and everything it wrote.
    pub fn finish(mut self) -> (ExitStatus, String) {
        let status = wait_exit(&mut self.child);
        let text = self
            .drain
            .take()
            .map(|d| d.join().unwrap_or_default())
            .unwrap_or_default();
        (status, text)
    }
}

/// Whether this test process runs as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

const SETPRIV: &str = "/usr/bin/setpriv";

/// The uid/gid that rtmp runs as under [`unprivileged_rtmp`] when the tests run as root.
pub const NOBODY: u32 = 65534;

/// An rtmp command with `args` that runs as an unprivileged user: through
/// `setpriv --reuid=65534 --regid=65534 --clear-groups` when the tests run as root, directly
/// otherwise. Makes the scratch directory traversable and its `tmp/` (`$TMPDIR`) world-writable
/// so that the unprivileged rtmp can create its path there. `None` (after printing why) when
/// running as root without setpriv: the caller skips the test.
pub fn unprivileged_rtmp<I, S>(env: &TestEnv, args: I) -> Option<Command>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    fs::set_permissions(env.root(), fs::Permissions::from_mode(0o755)).expect("chmod scratch");
    fs::set_permissions(env.tmpdir(), fs::Permissions::from_mode(0o777)).expect("chmod tmp");
    if !is_root() {
        return Some(env.rtmp_cmd(args));
    }
    if !Path::new(SETPRIV).exists() {
        eprintln!("skipped: running as root and {SETPRIV} is missing");
        return None;
    }
    let mut cmd = env.command(SETPRIV);
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(rtmp_bin())
        .args(args);
    Some(cmd)
}

/// Makes the directory `path` owned by the unprivileged user of [`unprivileged_rtmp`] (a no-op
/// when not root).
pub fn give_to_nobody(path: &Path) {
    if is_root() {
        std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY)).expect("chown");
    }
}

/// The path the child reported in a readiness file, as written (no trailing newline).
pub fn reported_path(file: &Path) -> PathBuf {
    PathBuf::from(read_or_empty(file))
}
