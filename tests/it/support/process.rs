//! Running rtmp as a process the test talks to (README "Use in scripts" with `--exec`, and
//! "Signals in `--exec` mode"): in the background, with a file handshake, with signals, with
//! its signal masks read back, and as an unprivileged user.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use nix::libc;
use tempfile::TempDir;

use super::{TestEnv, rtmp_bin, scratch_dir, wait_for_file};

/// A scratch directory outside the [`TestEnv`] tree (so that its contents do not show in the
/// tree listing): logs, readiness files, "outside" targets. World-writable, so an unprivileged
/// rtmp and its child can use it too.
pub fn aux_dir() -> TempDir {
    scratch_dir(0o777)
}

/// Shell code for an `--exec` child: announces that it runs by writing `$RTMP_PATH` to
/// `$READY`, atomically (a rename), so the test never reads a half-written file.
pub const ANNOUNCE: &str = r#"printf '%s' "$RTMP_PATH" > "$READY.tmp" && mv "$READY.tmp" "$READY""#;

/// Shell code for an `--exec` child: waits until `$GO` exists. `sleep & wait` lets a trapped
/// signal run its trap at once. rtmp passes a signal on to every process of the tree, so the
/// `sleep` dies of it too; `wait`'s stderr is dropped so that the shell's report of that death
/// ("User defined signal 1") does not mix with rtmp's messages. Gives up with exit 99 after about 20 s (1000 × 0.02 s), so a
/// broken test cannot leave the child running.
pub const AWAIT_GO: &str = r#"i=0
while [ ! -e "$GO" ]; do
  sleep 0.02 & wait $! 2>/dev/null
  i=$((i + 1))
  if [ "$i" -ge 1000 ]; then echo timeout >> "$LOG"; exit 99; fi
done"#;

/// Shell code for an `--exec` child, run after [`AWAIT_GO`]: appends to `$LOG` the pid of its
/// parent *now* (`parent <pid>`) and whether its path still exists (`path yes|no`). The parent
/// is rtmp as long as rtmp runs; once rtmp has exited the child has been given to another
/// process. So these two lines say, without any sleep, that rtmp stayed and left the path in
/// place for the whole time the child ran.
pub const REPORT_PARENT_AND_PATH: &str = r#"read -r _ _ _ ppid _ < /proc/$$/stat
echo "parent $ppid" >> "$LOG"
if [ -e "$RTMP_PATH" ]; then echo "path yes" >> "$LOG"; else echo "path no" >> "$LOG"; fi"#;

/// The files an `--exec` child and the test talk through, in an [`aux_dir`]: `$READY` (see
/// [`ANNOUNCE`]), `$GO` (see [`AWAIT_GO`]) and `$LOG`, a log the child appends to.
pub struct Handshake {
    dir: TempDir,
}

impl Default for Handshake {
    fn default() -> Self {
        Self::new()
    }
}

impl Handshake {
    /// A new, empty handshake directory.
    pub fn new() -> Self {
        Handshake { dir: aux_dir() }
    }

    /// `name` in the handshake directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Sets `READY`, `GO` and `LOG` in `cmd`'s environment.
    pub fn env<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        cmd.env("READY", self.file("ready"))
            .env("GO", self.file("go"))
            .env("LOG", self.file("log"))
    }

    /// Waits until the child announced itself; returns the path it reported.
    #[track_caller]
    pub fn wait_ready(&self) -> PathBuf {
        wait_for_file(&self.file("ready"));
        reported_path(&self.file("ready"))
    }

    /// Lets the child go on past [`AWAIT_GO`].
    pub fn go(&self) {
        fs::write(self.file("go"), "").expect("create go");
    }

    /// The lines the child appended to `$LOG`.
    pub fn log(&self) -> Vec<String> {
        log_lines(&self.file("log"))
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

/// The path the child reported in a readiness file, as written (no trailing newline).
pub fn reported_path(file: &Path) -> PathBuf {
    PathBuf::from(read_or_empty(file))
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
/// mistaken for one rtmp leaked, or keep a test's pseudo-terminal open.
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

/// `1 << (sig - 1)`, the bit of `sig` in the signal masks of /proc/PID/status.
pub fn sig_bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// The signal mask `field` (`SigBlk`, `SigIgn`, `SigPnd`, `ShdPnd`) from the text of a
/// /proc/PID/status file.
#[track_caller]
pub fn sig_mask(status: &str, field: &str) -> u64 {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {field} in {status:?}"));
    u64::from_str_radix(line.trim(), 16).expect("hex mask")
}

/// `(SigBlk, SigIgn)` from the text of a /proc/PID/status file.
#[track_caller]
pub fn sig_masks(status: &str) -> (u64, u64) {
    (sig_mask(status, "SigBlk"), sig_mask(status, "SigIgn"))
}

/// Whether `sig` is pending for process `pid` (for the process or one of its threads).
pub fn is_pending(pid: u32, sig: i32) -> bool {
    let status = read_or_empty(Path::new(&format!("/proc/{pid}/status")));
    !status.is_empty()
        && (sig_mask(&status, "ShdPnd") | sig_mask(&status, "SigPnd")) & sig_bit(sig) != 0
}

/// Whether this test process runs as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// util-linux `setpriv`, which runs a command as another user.
pub const SETPRIV: &str = "/usr/bin/setpriv";

/// The uid/gid that rtmp runs as under [`unprivileged_rtmp`] when the tests run as root.
pub const NOBODY: u32 = 65534;

/// The words that run a command as [`NOBODY`] with no supplementary groups (root only).
pub const AS_NOBODY: [&str; 5] = [
    SETPRIV,
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    "--",
];

/// An rtmp command with `args` that runs as an unprivileged user: through [`AS_NOBODY`] when
/// the tests run as root, directly otherwise. Makes the scratch directory traversable and its
/// `tmp/` (`$TMPDIR`) world-writable so that the unprivileged rtmp can create its path there.
/// `None` (after printing why) when running as root without setpriv: the caller skips the test.
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
    let mut cmd = env.command(AS_NOBODY[0]);
    cmd.args(&AS_NOBODY[1..]).arg(rtmp_bin()).args(args);
    Some(cmd)
}

/// Makes the directory `path` owned by the unprivileged user of [`unprivileged_rtmp`] (a no-op
/// when not root).
pub fn give_to_nobody(path: &Path) {
    if is_root() {
        std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY)).expect("chown");
    }
}
