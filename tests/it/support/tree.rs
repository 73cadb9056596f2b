//! A command's whole process tree, found and cleaned up (issue 12, `process_tree.rs` and the
//! `#[ignore]`d `tests/process_tree_fuzz.rs`, which includes this module through `#[path]`).
//!
//! Every process a [`Run`] starts carries a marker in its environment ([`MARK`]), so "no process
//! left" is checked by scanning `/proc/*/environ`, and a run SIGKILLs whatever still carries its
//! marker when it is dropped, so that a broken rtmp cannot leave processes behind. Processes
//! announce themselves through readiness files in the run's `aux/`; the `/proc` readers below
//! (state, parent, children, the system call a process is in) let a test reach a precise instant.
//! Every wait is bounded by [`DEADLINE`].

use std::ffi::OsStr;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::libc;
use tempfile::TempDir;

use super::rtmp_bin;
use super::wait::{DEADLINE, STEP};

/// The environment variable that marks every process of a run.
pub const MARK: &str = "RTMP_TREE_MARK";
/// The guardian's `/proc/PID/comm`.
pub const GUARDIAN: &str = "rtmp-guardian";
/// x86_64 system call number of `clone`, as `/proc/PID/syscall` shows it.
pub const SYS_CLONE: i64 = 56;
/// x86_64 system call number of `setsid`, as `/proc/PID/syscall` shows it.
pub const SYS_SETSID: i64 = 112;
/// x86_64 system call number of `mkdirat`, as `/proc/PID/syscall` shows it.
pub const SYS_MKDIRAT: i64 = 258;

/// `Some(path)` if the tool exists; otherwise prints why the test is skipped.
pub fn tool(path: &str) -> Option<String> {
    if Path::new(path).exists() {
        Some(path.to_owned())
    } else {
        eprintln!("skipped: {path} is missing");
        None
    }
}

/// strace, if it exists and may trace here (ptrace allowed).
pub fn strace() -> Option<String> {
    static WORKS: OnceLock<bool> = OnceLock::new();
    let path = tool("/usr/bin/strace")?;
    let works = *WORKS.get_or_init(|| {
        Command::new(&path)
            .args(["-qq", "-o", "/dev/null", "/bin/true"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if works {
        Some(path)
    } else {
        eprintln!("skipped: strace cannot trace here (ptrace not allowed?)");
        None
    }
}

/// Quotes `s` for `sh`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Polls `cond` until it holds (true) or `limit` passes (false): for the waits whose outcome the
/// test reports itself, or that may end either way (unlike [`super::wait::wait_until`], which
/// fails the test).
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(STEP);
    }
}

/// Sends `sig` to `pid`, ignoring a process that is already gone (the tree's processes may end at
/// any instant; unlike [`super::process::send`], which fails the test on an error).
pub fn send(pid: u32, sig: i32) {
    let pid = libc::pid_t::try_from(pid).expect("pid fits");
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid, sig) };
}

/// Sends `sig` to the process group `pgid`, ignoring errors, as [`send`].
pub fn send_group(pgid: u32, sig: i32) {
    let pgid = libc::pid_t::try_from(pgid).expect("pid fits");
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(-pgid, sig) };
}

/// Field `n` (1-based, as in proc(5), n >= 4) of `/proc/PID/stat`.
pub fn stat_field(pid: u32, n: usize) -> Option<i64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(n - 3)?.parse().ok()
}

/// The state letter of `/proc/PID/stat` (R, S, T, t, Z...).
pub fn state_of(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

/// Whether `pid` is inside (or stopped on entry to / exit from) system call `nr`.
pub fn in_syscall(pid: u32, nr: i64) -> bool {
    fs::read_to_string(format!("/proc/{pid}/syscall"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<i64>().ok())
        == Some(nr)
}

/// The NUL-terminated string that argument `n` (0-based) of the system call `pid` is held
/// in points to: `/proc/PID/syscall` gives the address, `/proc/PID/mem` the bytes (the
/// test process is an ancestor of the tracee, which ptrace's access check asks for).
pub fn syscall_string_arg(pid: u32, n: usize) -> Option<String> {
    use std::os::unix::fs::FileExt;
    let syscall = fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
    let hex = syscall.split_whitespace().nth(1 + n)?;
    let addr = u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok()?;
    let mem = fs::File::open(format!("/proc/{pid}/mem")).ok()?;
    let mut buf = vec![0u8; 256];
    let got = mem.read_at(&mut buf, addr).ok()?;
    let end = buf[..got].iter().position(|&b| b == 0)?;
    String::from_utf8(buf[..end].to_vec()).ok()
}

/// Direct children of `pid` (every thread's).
#[allow(dead_code)] // used by tests/process_tree_fuzz.rs only
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out: Vec<u32> = tasks
        .filter_map(Result::ok)
        .filter_map(|t| fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|s| {
            s.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect();
    out.sort_unstable();
    out
}

/// The name of `pid` (`/proc/PID/comm`), empty if it is gone.
fn comm(pid: u32) -> String {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim_end().to_owned())
        .unwrap_or_default()
}

/// A marked process: pid, name and state letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub pid: u32,
    pub comm: String,
    pub state: Option<char>,
}

/// One run: a scratch root on /dev/shm with `tmp/` (rtmp's TMPDIR) and `aux/` (readiness
/// files, logs, stdout/stderr), and a marker unique to the run.
pub struct Run {
    root: TempDir,
    pub mark: String,
}

impl Run {
    /// A new scratch root and marker.
    pub fn new() -> Run {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let root = tempfile::Builder::new()
            .prefix("rtmp-tree.")
            .tempdir_in("/dev/shm")
            .or_else(|_| tempfile::Builder::new().prefix("rtmp-tree.").tempdir())
            .expect("scratch root");
        fs::create_dir(root.path().join("tmp")).expect("tmp");
        fs::create_dir(root.path().join("aux")).expect("aux");
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mark = format!(
            "{}-{}-{nanos}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        Run { root, mark }
    }

    /// `tmp/`, rtmp's TMPDIR.
    pub fn tmp(&self) -> PathBuf {
        self.root.path().join("tmp")
    }

    /// `name` in `aux/`.
    pub fn aux(&self, name: &str) -> PathBuf {
        self.root.path().join("aux").join(name)
    }

    /// `program` with the run's environment, in a process group of its own, stdin from
    /// /dev/null, stdout and stderr to files in `aux/`.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env(MARK, &self.mark)
            .env("TMPDIR", self.tmp())
            .env("AUX", self.root.path().join("aux"))
            .env_remove("RTMP_PATH")
            .current_dir(self.root.path().join("aux"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(fs::File::create(self.aux("stdout")).expect("stdout file"))
            .stderr(fs::File::create(self.aux("stderr")).expect("stderr file"));
        // SAFETY: setrlimit is async-signal-safe; no core files from rtmp or its children.
        unsafe {
            cmd.pre_exec(|| {
                let zero = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                libc::setrlimit(libc::RLIMIT_CORE, &zero);
                Ok(())
            });
        }
        cmd
    }

    /// rtmp with `args`, started through [`Run::command`].
    pub fn spawn_rtmp(&self, args: &[&str]) -> Child {
        let mut cmd = self.command(rtmp_bin());
        cmd.args(args);
        cmd.spawn().expect("spawn rtmp")
    }

    /// Waits for the readiness file `aux/NAME`; returns its content as a path.
    #[track_caller]
    pub fn wait_ready(&self, name: &str) -> PathBuf {
        let file = self.aux(name);
        assert!(
            wait_for(DEADLINE, || file.exists()),
            "timed out waiting for {name}; stderr {:?}",
            self.stderr()
        );
        PathBuf::from(fs::read_to_string(&file).expect("read readiness file"))
    }

    /// Waits (bounded) for `child` to end.
    #[track_caller]
    pub fn wait_exit(&self, child: &mut Child, what: &str) -> ExitStatus {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; processes {:?}, stderr {:?}",
                self.processes(),
                self.stderr()
            );
            std::thread::sleep(STEP);
        }
    }

    /// What the started program wrote to stderr so far.
    pub fn stderr(&self) -> String {
        fs::read_to_string(self.aux("stderr")).unwrap_or_default()
    }

    /// The lines of `aux/NAME` (none if it does not exist).
    pub fn lines(&self, name: &str) -> Vec<String> {
        fs::read_to_string(self.aux(name))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// What rtmp created in its TMPDIR.
    pub fn created(&self) -> Vec<PathBuf> {
        fs::read_dir(self.tmp())
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default()
    }

    /// Live (not zombie) processes that carry this run's marker, except the tools the
    /// tests wrap rtmp in (strace, script).
    pub fn processes(&self) -> Vec<Proc> {
        let wanted = format!("{MARK}={}", self.mark);
        let Ok(entries) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        let mut out: Vec<Proc> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == wanted.as_bytes()))
            })
            .map(|pid| Proc {
                pid,
                comm: comm(pid),
                state: state_of(pid),
            })
            .filter(|p| p.state != Some('Z') && p.comm != "strace" && p.comm != "script")
            .collect();
        out.sort_by_key(|p| p.pid);
        out
    }

    /// Marked processes named `rtmp`.
    pub fn rtmp_processes(&self) -> Vec<u32> {
        self.processes()
            .into_iter()
            .filter(|p| p.comm == "rtmp")
            .map(|p| p.pid)
            .collect()
    }

    /// The rtmp that `parent` (strace) started: a marked process named `rtmp` whose parent
    /// is `parent`. (strace forks short-lived test children of its own at start-up, so its
    /// first child is not always rtmp; the command's child before `exec` is named `rtmp`
    /// too, but its parent is rtmp.)
    pub fn rtmp_under(&self, parent: u32) -> Option<u32> {
        self.rtmp_processes()
            .into_iter()
            .find(|&p| stat_field(p, 4) == Some(i64::from(parent)))
    }

    /// Marked processes named [`GUARDIAN`].
    pub fn guardians(&self) -> Vec<u32> {
        self.processes()
            .into_iter()
            .filter(|p| p.comm == GUARDIAN)
            .map(|p| p.pid)
            .collect()
    }

    /// Marked processes other than rtmp (`pid`) and its guardians: the command's tree.
    pub fn tree_processes(&self, rtmp: u32) -> Vec<Proc> {
        self.processes()
            .into_iter()
            .filter(|p| p.pid != rtmp && p.comm != GUARDIAN)
            .collect()
    }

    /// The pids of [`Run::tree_processes`].
    pub fn tree(&self, rtmp: u32) -> Vec<u32> {
        self.tree_processes(rtmp).iter().map(|p| p.pid).collect()
    }

    /// Within [`DEADLINE`]: no marked process and nothing in TMPDIR.
    #[track_caller]
    pub fn assert_nothing_left(&self) {
        let clean = wait_for(DEADLINE, || {
            self.processes().is_empty() && self.created().is_empty()
        });
        assert!(
            clean,
            "left behind: processes {:?}, paths {:?}",
            self.processes(),
            self.created()
        );
    }
}

impl Drop for Run {
    /// SIGKILLs whatever still carries the marker (a broken rtmp must not leave processes
    /// running), a few rounds for processes that fork meanwhile.
    fn drop(&mut self) {
        for _ in 0..20 {
            let left = self.processes();
            if left.is_empty() {
                break;
            }
            for p in left {
                send(p.pid, libc::SIGKILL);
            }
            std::thread::sleep(STEP);
        }
    }
}
