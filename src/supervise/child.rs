//! Starting the command: rtmp's own spawn, everything the command's process does before
//! `exec`, and the rule that a signal which reached rtmp first stops the start
//! (docs/design/process-tree.md, section 5).
//!
//! The parent side (`spawn`) turns the `std::process::Command` that `crate::exec` built into C
//! strings *before* the spawn and starts the process with
//! `crate::sys::process::spawn_shared`: `clone(CLONE_VM | CLONE_VFORK)`, as glibc's
//! `posix_spawn` does, so there is no copy of rtmp's page tables and no copy-on-write fault
//! afterwards, and rtmp is suspended until the child has `exec`ed or ended. The child
//! (`child_steps`), in this order:
//!
//! 1. `--anonymous`: the unnamed file's descriptor loses `FD_CLOEXEC` in the child's
//!    descriptor table only (the table is the child's own copy), so the command inherits it as
//!    `/dev/fd/N` and rtmp's copy stays close-on-exec;
//! 2. the guardian is told the command's pid (`P<pid>\n`, [`crate::guardian::protocol`]). This
//!    process holds rtmp's end of the guardian's socket until its `exec`, so the guardian cannot
//!    see end-of-file before it knows the pid, even when rtmp is killed in the middle of
//!    spawning, and rtmp cannot have reaped this pid yet;
//! 3. the stop check: rtmp's caught signals are unblocked during the spawn, so a terminating
//!    signal that reaches rtmp after its last look at its pipe either interrupts the `clone`
//!    (the kernel restarts it after rtmp's handler has run) or waits until the child is done
//!    (rtmp is suspended in `CLONE_VFORK`). In the first case rtmp's handler has marked the
//!    signal in `crate::sys::signal::arrived`, which the child reads in the memory it shares
//!    with rtmp: the command then never starts (the child reports the signal and exits 125).
//!    In the second, the command has started, and the signal is passed on to it like any later
//!    one;
//! 4. `--cd`'s directory (the child's own current directory: no `CLONE_FS`); a failure is
//!    rtmp's (`cannot change directory to DIR`, 125, as GNU `env --chdir`), not the command's;
//! 5. the caller's signal state comes back: `SIGCHLD` ignored again if the caller had it so, and
//!    the caller's mask. Every signal rtmp caught is still caught by rtmp's handler here, which
//!    in any process but rtmp resets the signal to its default action and raises it again
//!    (`crate::sys::signal`), so a signal sent to this process before `exec` acts as it would on
//!    the command; `exec` then resets every caught signal to `SIG_DFL` and keeps the mask and
//!    whatever the caller left ignored;
//! 6. `execvpe`. If any step fails, the errno is written to the reply rtmp reads once the spawn
//!    returns, and the process ends with `_exit(127)`.
//!
//! # Why the child is sound (the argument, once)
//!
//! The child shares rtmp's memory while rtmp's spawning thread is suspended, and the parent may
//! have other threads (the test harness has). So the child calls nothing but single system
//! calls (`fcntl`, `getpid`, `send`, `chdir`, `sigaction`, `pthread_sigmask`, `execvpe`,
//! `_exit`) through [`crate::sys`] and nix, on data prepared before the spawn, and writes
//! nothing but its own stack (a separate mapping with a guard page, sized for `execvpe`'s
//! candidate paths and its script fallback's argument copy) and the two atomics of its reply.
//! It allocates nothing (an `io::Error` made from an errno does not allocate, and the pid
//! message is formatted into a stack buffer), takes no lock and cannot panic. Its `errno` is
//! the suspended thread's thread-local one, which that thread does not read across the call.

use std::ffi::{CStr, CString, OsStr, c_char};
use std::io;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::libc;
use nix::sys::signal::SigSet;
use nix::unistd::Pid;

use crate::guardian::protocol;
use crate::sys::{fs, process, signal};

/// What the command's process needs besides the caller's signal state: built by `--exec`
/// (`crate::exec`), applied in the child.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChildSetup {
    /// A descriptor of rtmp's (close-on-exec) that the command inherits at the same number:
    /// the `--anonymous` file.
    pub inherit_fd: Option<RawFd>,
    /// rtmp's end of the guardian's socket: the command's process writes its pid there.
    pub announce_pid_to: Option<RawFd>,
}

/// The signal mask and `SIGCHLD` disposition rtmp was started with, recorded by
/// [`crate::supervise::Supervisor::install`] and given back to the command.
#[derive(Debug, Clone, Copy)]
pub(super) struct Startup {
    /// The calling thread's signal mask.
    pub mask: SigSet,
    /// `SIGCHLD` was `SIG_IGN`. rtmp must catch it to reap, and `exec` would turn a caught
    /// signal into `SIG_DFL`; an ignored `SIGCHLD` is put back in the child.
    pub chld_ignored: bool,
}

/// The command as C strings, made before the fork (the child must not allocate).
pub(super) struct Prepared {
    program: CString,
    _args: Vec<CString>,
    argv: Vec<*const c_char>,
    _env: Vec<CString>,
    /// rtmp's own environment entries that `envp` passes on (the C library's strings).
    _inherited: Vec<&'static CStr>,
    envp: Option<Vec<*const c_char>>,
    cwd: Option<CString>,
}

fn c_string(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

impl Prepared {
    /// `cmd`'s program, arguments (the program is `argv[0]`), environment changes and
    /// directory. Its stdio settings and an `env_clear` are not seen (std offers no getter for
    /// either; rtmp uses neither): the command inherits rtmp's stdin, stdout and stderr, as
    /// `--exec` wants, and rtmp's environment with the changes applied.
    ///
    /// # Errors
    /// `EINVAL` for a word with a NUL byte.
    pub(super) fn new(cmd: &Command) -> io::Result<Prepared> {
        let program = c_string(cmd.get_program())?;
        let mut args = vec![program.clone()];
        for a in cmd.get_args() {
            args.push(c_string(a)?);
        }
        let mut argv: Vec<*const c_char> = args.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        let mut inherited = Vec::new();
        let (env, envp) = if cmd.get_envs().next().is_none() {
            (Vec::new(), None)
        } else {
            // rtmp's own entries are passed on as the C library holds them (no copy: rtmp
            // never changes its environment), less those the command's changes replace; the
            // changes follow, in std's order.
            let changed = |entry: &CStr| {
                let bytes = entry.to_bytes();
                let key = bytes.split(|&b| b == b'=').next().unwrap_or(bytes);
                cmd.get_envs().any(|(k, _)| k.as_bytes() == key)
            };
            inherited = process::environment_entries();
            inherited.retain(|e| !changed(e));
            let mut envp: Vec<*const c_char> = inherited.iter().map(|e| e.as_ptr()).collect();
            let mut env = Vec::new();
            for (k, v) in cmd.get_envs() {
                if let Some(v) = v {
                    let mut kv = k.as_bytes().to_vec();
                    kv.push(b'=');
                    kv.extend_from_slice(v.as_bytes());
                    env.push(
                        CString::new(kv).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?,
                    );
                }
            }
            envp.extend(env.iter().map(|e| e.as_ptr()));
            envp.push(std::ptr::null());
            (env, Some(envp))
        };
        let cwd = cmd
            .get_current_dir()
            .map(|d| c_string(d.as_os_str()))
            .transpose()?;
        Ok(Prepared {
            program,
            _args: args,
            argv,
            _env: env,
            _inherited: inherited,
            envp,
            cwd,
        })
    }
}

/// How a spawn ended, once [`spawn`] has returned (the child has `exec`ed or ended).
#[derive(Debug)]
pub(super) enum Spawned {
    /// The command runs.
    Started(Pid),
    /// A terminating signal had reached rtmp (this one, the lowest of those seen): the child
    /// ended with 125 before `exec`. It is not reaped yet.
    Stopped(Pid, i32),
    /// The child could not `exec` (or a step before failed) with this error and ended with
    /// 127. It is not reaped yet.
    Failed(Pid, io::Error),
    /// The child could not change to `cmd`'s directory (step 4) and ended with 125. It is not
    /// reaped yet.
    NoDirectory(Pid, io::Error),
}

/// rtmp's own failure to start the command (`mmap` of the child's stack, `clone`): not the
/// command's.
#[derive(Debug)]
pub(super) struct CannotStart(pub io::Error);

/// What the child writes for rtmp to read after the spawn: [`Reply::NONE`] (it `exec`ed), or
/// what stopped it and a number.
struct Reply {
    what: AtomicI32,
    value: AtomicI32,
}

impl Reply {
    const NONE: i32 = 0;
    const FAILED: i32 = 1;
    const STOPPED: i32 = 2;
    const NO_DIRECTORY: i32 = 3;

    fn set(&self, what: i32, value: i32) {
        self.value.store(value, Ordering::SeqCst);
        self.what.store(what, Ordering::SeqCst);
    }
}

/// The child's stack: room for `execvpe`'s candidate path (`PATH_MAX` + `NAME_MAX`, on the
/// stack), for the argument vector its script fallback copies onto the stack, and a margin
/// for the child's own frames (64 KiB, glibc's `posix_spawn` margin).
fn stack_size(prepared: &Prepared) -> usize {
    const MARGIN: usize = 64 * 1024;
    let path = usize::try_from(libc::PATH_MAX).unwrap_or(4096) + 256;
    MARGIN + path + (prepared.argv.len() + 3) * std::mem::size_of::<*const c_char>()
}

/// Starts the command's process (module doc); returns once it has `exec`ed or ended.
/// `stop_on` is the set ([`signal::bit`]s) of signals that, once they have reached rtmp, keep
/// the command from starting (step 3). rtmp's caught signals must be unblocked in the calling
/// thread.
pub(super) fn spawn(
    prepared: &Prepared,
    setup: ChildSetup,
    startup: Startup,
    stop_on: u64,
) -> Result<Spawned, CannotStart> {
    let mut stack = process::ChildStack::new(stack_size(prepared)).map_err(CannotStart)?;
    let reply = Reply {
        what: AtomicI32::new(Reply::NONE),
        value: AtomicI32::new(0),
    };
    let mut child = || -> std::convert::Infallible {
        match child_steps(prepared, setup, startup, stop_on) {
            Stop::Signal(sig) => {
                reply.set(Reply::STOPPED, sig);
                process::exit_now(125)
            }
            Stop::Error(e) => {
                reply.set(Reply::FAILED, e.raw_os_error().unwrap_or(libc::EINVAL));
                process::exit_now(127)
            }
            Stop::Directory(e) => {
                reply.set(
                    Reply::NO_DIRECTORY,
                    e.raw_os_error().unwrap_or(libc::EINVAL),
                );
                process::exit_now(125)
            }
        }
    };
    let pid = process::spawn_shared(&mut stack, &mut child).map_err(CannotStart)?;
    let value = reply.value.load(Ordering::SeqCst);
    Ok(match reply.what.load(Ordering::SeqCst) {
        Reply::STOPPED => Spawned::Stopped(pid, value),
        Reply::FAILED => Spawned::Failed(pid, io::Error::from_raw_os_error(value)),
        Reply::NO_DIRECTORY => Spawned::NoDirectory(pid, io::Error::from_raw_os_error(value)),
        _ => Spawned::Started(pid),
    })
}

/// Why the child did not `exec`.
enum Stop {
    Signal(i32),
    /// The directory change of step 4: rtmp's to report, not the command's.
    Directory(io::Error),
    Error(io::Error),
}

/// Steps 1 to 6 of the module doc; returns only when the command cannot start.
fn child_steps(prepared: &Prepared, setup: ChildSetup, startup: Startup, stop_on: u64) -> Stop {
    if let Some(fd) = setup.inherit_fd
        && let Err(e) = fs::clear_close_on_exec(fd)
    {
        return Stop::Error(e);
    }
    if let Some(fd) = setup.announce_pid_to {
        announce_pid(fd);
    }
    let seen = signal::arrived() & stop_on;
    if seen != 0 {
        // The lowest signal number seen (bit N - 1 is signal N).
        return Stop::Signal(seen.trailing_zeros() as i32 + 1);
    }
    if let Some(dir) = &prepared.cwd
        && let Err(e) = nix::unistd::chdir(dir.as_c_str())
    {
        return Stop::Directory(e.into());
    }
    if startup.chld_ignored
        && let Err(e) = signal::set_disposition(libc::SIGCHLD, signal::Disposition::Ignore)
    {
        return Stop::Error(e);
    }
    if let Err(e) = startup.mask.thread_set_mask() {
        return Stop::Error(e.into());
    }
    Stop::Error(process::exec_with(
        &prepared.program,
        &prepared.argv,
        prepared.envp.as_deref(),
    ))
}

/// Writes `P<own pid>\n` to the guardian's socket; errors are ignored.
fn announce_pid(fd: RawFd) {
    let mut buf = [0u8; protocol::PID_MESSAGE_MAX];
    let len = protocol::pid_message(nix::unistd::getpid().as_raw(), &mut buf);
    let _ = fs::send_all(fd, &buf[..len]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepared_command_keeps_words_and_adds_changed_variables() {
        let mut cmd = Command::new("echo");
        cmd.args(["a", "b c"])
            .env("RTMP_TEST_X", "1")
            .current_dir("/");
        let p = Prepared::new(&cmd).expect("prepare");
        assert_eq!(p.program.as_bytes(), b"echo");
        assert_eq!(p.argv.len(), 4);
        assert!(p.argv[3].is_null());
        assert!(p._env.iter().any(|e| e.as_bytes() == b"RTMP_TEST_X=1"));
        assert_eq!(p.cwd.as_deref().map(|c| c.to_bytes()), Some(&b"/"[..]));
        // rtmp's own entries are passed on, less the one a change replaces.
        let mut path = Command::new("true");
        path.env("PATH", "/rtmp-test-path");
        let p = Prepared::new(&path).expect("prepare");
        let envp = p.envp.as_deref().expect("an environment");
        assert_eq!(envp.len(), p._inherited.len() + p._env.len() + 1);
        let entries: Vec<&[u8]> = p
            ._inherited
            .iter()
            .map(|e| e.to_bytes())
            .chain(p._env.iter().map(|e| e.to_bytes()))
            .collect();
        let paths: Vec<&&[u8]> = entries.iter().filter(|e| e.starts_with(b"PATH=")).collect();
        assert_eq!(paths, [&&b"PATH=/rtmp-test-path"[..]]);
        assert_eq!(
            entries.len(),
            std::env::vars_os().count() + usize::from(std::env::var_os("PATH").is_none())
        );
        let plain = Prepared::new(&Command::new("true")).expect("prepare");
        assert!(
            plain.envp.is_none(),
            "no change: the environment is rtmp's own"
        );
    }
}
