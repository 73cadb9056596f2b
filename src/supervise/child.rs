//! What the command's process does between `fork` and `exec`: rtmp's only `pre_exec` hook.
//!
//! Everything rtmp sets up in the child happens in `install_hook`, in this order:
//!
//! 1. `--anonymous`: the unnamed file's descriptor loses `FD_CLOEXEC` in the child's copy
//!    only, so the command inherits it as `/dev/fd/N` and rtmp's copy stays close-on-exec;
//! 2. the guardian is told the command's pid (`P<pid>\n`, [`crate::guardian::protocol`]). This
//!    process holds rtmp's end of the guardian's socket until its `exec`, so the guardian cannot
//!    see end-of-file before it knows the pid, even when rtmp is killed in the middle of
//!    spawning, and rtmp cannot have reaped this pid yet;
//! 3. the caller's signal state comes back: everything is blocked first so that nothing is
//!    delivered to rtmp's inherited handlers (which would swallow it), the caught signals are
//!    reset (and `SIGCHLD`/`SIGPIPE` put back to what the caller had), whatever those handlers
//!    did swallow since the fork is raised again (a terminal Ctrl-C sent to the group in this
//!    window reached the child only through them, and rtmp does not forward a kernel-origin
//!    signal), and finally the caller's mask is installed, which delivers those signals with
//!    their default action or keeps them pending across `exec`.
//!
//! # Why the hook is async-signal-safe (the argument, once)
//!
//! Between `fork` and `exec` only async-signal-safe functions may run. The hook calls nothing
//! but single system calls (`fcntl`, `getpid`, `send`, `pthread_sigmask`, `sigaction`, `raise`)
//! through [`crate::sys`] and nix, on data prepared before the fork: integers, a signal mask, and
//! a list of signals captured by value and only read. It allocates nothing (an `io::Error` made
//! from an errno does not allocate, and the pid message is formatted into a stack buffer), takes
//! no lock and cannot panic. Errors of steps 1 and 3 fail the spawn (std reports them as the
//! spawn's error); step 2 ignores them, since a guardian that is gone cannot be told anything.

use std::io;
use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use nix::libc;
use nix::sys::signal::SigSet;

use super::FORWARDED;
use crate::guardian::protocol;
use crate::sys::{fs, signal};

/// The pid of the process that installed a [`crate::supervise::Supervisor`], so that the
/// handler [`signal::record_in_forked_child`] installs can tell rtmp from a freshly forked
/// child that has not reached `exec` yet.
pub(super) static SUPERVISOR_PID: AtomicI32 = AtomicI32::new(0);

/// Bit `1 << sig` is set when a signal from [`FORWARDED`] hit a forked child between `fork`
/// and `exec`, where the inherited handler swallowed it. Only ever non-zero in such a child.
pub(super) static CAUGHT_IN_CHILD: AtomicU32 = AtomicU32::new(0);

/// What the command's process needs besides the caller's signal state: built by `--exec`
/// (`crate::exec`), applied by `install_hook`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChildSetup {
    /// A descriptor of rtmp's (close-on-exec) that the command inherits at the same number:
    /// the `--anonymous` file.
    pub inherit_fd: Option<RawFd>,
    /// rtmp's end of the guardian's socket: the command's process writes its pid there.
    pub announce_pid_to: Option<RawFd>,
}

/// The signal mask and dispositions rtmp was started with, recorded by
/// [`crate::supervise::Supervisor::install`] and given back to the command.
#[derive(Debug, Clone, Copy)]
pub(super) struct Startup {
    /// The calling thread's signal mask.
    pub mask: SigSet,
    /// `SIGPIPE` was `SIG_IGN`. std's `Command` resets `SIGPIPE` to `SIG_DFL` in every child,
    /// because std itself ignores it before `main` in normal binaries; rtmp's binary does not
    /// let std touch it (it defines its own C `main`), so what was seen is the caller's choice.
    pub pipe_ignored: bool,
    /// `SIGCHLD` was `SIG_IGN`. rtmp must catch it to supervise, which `exec` would turn into
    /// `SIG_DFL`; an ignored `SIGCHLD` is put back in the child.
    pub chld_ignored: bool,
}

/// Registers the one `pre_exec` hook on `cmd`: `setup`, then the signal state of `startup`,
/// resetting the handlers rtmp put on `caught` (see the module doc for the order and why it
/// is async-signal-safe).
pub(super) fn install_hook(
    cmd: &mut Command,
    setup: ChildSetup,
    startup: Startup,
    caught: Vec<libc::c_int>,
) {
    let hook = move || {
        if let Some(fd) = setup.inherit_fd {
            fs::clear_close_on_exec(fd)?;
        }
        if let Some(fd) = setup.announce_pid_to {
            announce_pid(fd);
        }
        restore_signals(&startup, &caught)
    };
    // SAFETY: the hook is async-signal-safe, as the module doc argues: single system calls on
    // data captured before the fork, no allocation, no lock, no panic.
    unsafe {
        cmd.pre_exec(hook);
    }
}

/// Writes `P<own pid>\n` to the guardian's socket; errors are ignored.
fn announce_pid(fd: RawFd) {
    let mut buf = [0u8; protocol::PID_MESSAGE_MAX];
    let len = protocol::pid_message(nix::unistd::getpid().as_raw(), &mut buf);
    let _ = fs::send_all(fd, &buf[..len]);
}

/// Step 3 of the module doc. std has already emptied the mask and set `SIGPIPE` to `SIG_DFL`.
fn restore_signals(startup: &Startup, caught: &[libc::c_int]) -> io::Result<()> {
    SigSet::all().thread_block()?;
    for &sig in caught {
        let ignore = sig == libc::SIGCHLD && startup.chld_ignored;
        signal::set_disposition(sig, disposition(ignore))?;
    }
    signal::set_disposition(libc::SIGPIPE, disposition(startup.pipe_ignored))?;
    let swallowed = CAUGHT_IN_CHILD.load(Ordering::SeqCst);
    for &sig in FORWARDED {
        if swallowed & (1 << sig) != 0 {
            signal::raise(sig);
        }
    }
    startup.mask.thread_set_mask()?;
    Ok(())
}

fn disposition(ignored: bool) -> signal::Disposition {
    if ignored {
        signal::Disposition::Ignore
    } else {
        signal::Disposition::Default
    }
}
