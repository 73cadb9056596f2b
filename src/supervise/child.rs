//! Starting the command: rtmp's own `fork`, everything the command's process does between `fork`
//! and `exec`, and the start gate (docs/design/process-tree.md, section 5).
//!
//! The parent side (`spawn`) turns the `std::process::Command` that `crate::exec` built into C
//! strings *before* the fork, creates one `socketpair` (the gate and the error channel) and
//! forks. The child (`run_child`), in this order:
//!
//! 1. `--anonymous`: the unnamed file's descriptor loses `FD_CLOEXEC` in the child's copy
//!    only, so the command inherits it as `/dev/fd/N` and rtmp's copy stays close-on-exec;
//! 2. the guardian is told the command's pid (`P<pid>\n`, [`crate::guardian::protocol`]). This
//!    process holds rtmp's end of the guardian's socket until its `exec`, so the guardian cannot
//!    see end-of-file before it knows the pid, even when rtmp is killed in the middle of
//!    spawning, and rtmp cannot have reaped this pid yet;
//! 3. it waits on the gate for rtmp's "go". rtmp checks for signals once more while the caught
//!    ones are blocked, after the fork: a signal that has arrived by then means the command never
//!    starts (rtmp SIGKILLs this process instead). End-of-file (rtmp died) ends it too;
//! 4. `--cd`'s directory;
//! 5. the caller's signal state comes back: `SIGCHLD` ignored again if the caller had it so, and
//!    the caller's mask. Every signal rtmp caught is still caught by rtmp's handler here, which
//!    in any process but rtmp resets the signal to its default action and raises it again
//!    (`crate::sys::signal`), so a signal that arrived since the fork acts now as it would on
//!    the command; `exec` then resets every caught signal to `SIG_DFL` and keeps the mask and
//!    whatever the caller left ignored;
//! 6. `execvp`. If any step fails, the errno goes back on the socket and the process ends with
//!    `_exit(127)`; rtmp reads end-of-file when `exec` succeeded (the socket is close-on-exec).
//!
//! # Why the child is async-signal-safe (the argument, once)
//!
//! The parent may have other threads (the test harness has), so between `fork` and `exec` only
//! async-signal-safe functions may run. The child calls nothing but single system calls
//! (`fcntl`, `getpid`, `send`, `read`, `chdir`, `sigaction`, `pthread_sigmask`, `execvp`, `write`,
//! `_exit`) through [`crate::sys`] and nix, on data prepared before the fork. It allocates
//! nothing (an `io::Error` made from an errno does not allocate, and the pid message is formatted
//! into a stack buffer), takes no lock and cannot panic. glibc's `execvp` builds the candidate
//! paths on the stack, as std's `Command` relies on too.

use std::ffi::{CString, OsStr, OsString, c_char};
use std::io;
use std::os::fd::{AsFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::net::UnixStream;
use std::process::Command;

use nix::libc;
use nix::sys::signal::SigSet;
use nix::unistd::{ForkResult, Pid};

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
        let (env, envp) = if cmd.get_envs().next().is_none() {
            (Vec::new(), None)
        } else {
            let mut vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
            for (key, value) in cmd.get_envs() {
                vars.retain(|(k, _)| k != key);
                if let Some(value) = value {
                    vars.push((key.to_owned(), value.to_owned()));
                }
            }
            let mut env = Vec::with_capacity(vars.len());
            for (k, v) in vars {
                let mut kv = k.into_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                env.push(CString::new(kv).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?);
            }
            let mut envp: Vec<*const c_char> = env.iter().map(|e| e.as_ptr()).collect();
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
            envp,
            cwd,
        })
    }
}

/// A child forked and waiting for "go": [`Gate::open`] lets it `exec`, [`Gate::cancel`] kills
/// it.
pub(super) struct Gate {
    pub pid: Pid,
    socket: OwnedFd,
}

/// rtmp's own failure to start the command (`socketpair`, `fork`): not the command's.
#[derive(Debug)]
pub(super) struct CannotStart(pub io::Error);

/// Forks the command's process; it stops at the gate (module doc, step 3).
pub(super) fn spawn(
    prepared: &Prepared,
    setup: ChildSetup,
    startup: Startup,
) -> Result<Gate, CannotStart> {
    let (ours, theirs) = UnixStream::pair().map_err(CannotStart)?;
    let (ours, theirs) = (OwnedFd::from(ours), OwnedFd::from(theirs));
    match process::fork_for_exec().map_err(CannotStart)? {
        ForkResult::Child => {
            drop(ours);
            run_child(prepared, setup, startup, &theirs)
        }
        ForkResult::Parent { child } => {
            drop(theirs);
            Ok(Gate {
                pid: child,
                socket: ours,
            })
        }
    }
}

impl Gate {
    /// Lets the child go on to `exec`. From here on the command has started.
    pub(super) fn open(&self) {
        // A child that is already gone (killed meanwhile) cannot be told; [`Gate::started`]
        // then sees end-of-file and the wait loop learns how it ended.
        let _ = fs::send_all(std::os::fd::AsRawFd::as_raw_fd(&self.socket), b"g");
    }

    /// After [`Gate::open`]: returns once the child has `exec`ed (or ended), or with the error
    /// that kept it from `exec` (the child has then ended with 127, not yet reaped).
    pub(super) fn started(self) -> io::Result<Pid> {
        let mut buf = [0u8; 4];
        let mut got = 0;
        loop {
            match nix::unistd::read(&self.socket, &mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => {
                    got += n;
                    if got == buf.len() {
                        break;
                    }
                }
                Err(nix::errno::Errno::EINTR) => {}
                Err(_) => break,
            }
        }
        if got == buf.len() {
            return Err(io::Error::from_raw_os_error(i32::from_ne_bytes(buf)));
        }
        Ok(self.pid)
    }

    /// Kills the gated child before it could `exec` (a signal arrived first) and reaps it.
    pub(super) fn cancel(self) {
        let _ = process::kill_any(self.pid, libc::SIGKILL);
        while nix::sys::wait::waitpid(self.pid, None) == Err(nix::errno::Errno::EINTR) {}
    }
}

/// The child: steps 1 to 6 of the module doc. Never returns.
fn run_child(prepared: &Prepared, setup: ChildSetup, startup: Startup, gate: &OwnedFd) -> ! {
    let errno = match child_steps(prepared, setup, startup, gate) {
        Err(e) => e.raw_os_error().unwrap_or(libc::EINVAL),
        Ok(()) => {
            // No "go": rtmp died or cancelled the start. Nothing ran.
            process::exit_now(125)
        }
    };
    let _ = fs::send_all(std::os::fd::AsRawFd::as_raw_fd(gate), &errno.to_ne_bytes());
    process::exit_now(127)
}

/// Steps 1 to 6; `Ok(())` only when no "go" came, otherwise the error that stopped the start.
fn child_steps(
    prepared: &Prepared,
    setup: ChildSetup,
    startup: Startup,
    gate: &OwnedFd,
) -> io::Result<()> {
    if let Some(fd) = setup.inherit_fd {
        fs::clear_close_on_exec(fd)?;
    }
    if let Some(fd) = setup.announce_pid_to {
        announce_pid(fd);
    }
    let mut go = [0u8; 1];
    loop {
        match nix::unistd::read(gate.as_fd(), &mut go) {
            Ok(1) if go[0] == b'g' => break,
            Err(nix::errno::Errno::EINTR) => {}
            _ => return Ok(()),
        }
    }
    if let Some(dir) = &prepared.cwd {
        nix::unistd::chdir(dir.as_c_str())?;
    }
    if startup.chld_ignored {
        signal::set_disposition(libc::SIGCHLD, signal::Disposition::Ignore)?;
    }
    startup.mask.thread_set_mask()?;
    Err(process::exec_with(
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
        let plain = Prepared::new(&Command::new("true")).expect("prepare");
        assert!(
            plain.envp.is_none(),
            "no change: the environment is rtmp's own"
        );
    }
}
