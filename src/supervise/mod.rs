//! Child supervision for `rtmp --exec`: owns the command's process and rtmp's signals.
//!
//! `crate::exec` asks this module to [`Supervisor::install`] signal handling *before* the path
//! exists, checks [`Supervisor::pending_signal`] right before spawning, hands the command to
//! [`Supervisor::spawn_and_wait`], removes the path, and finally ends with the command's status
//! or [`die_of_signal`]. The goal is to be as transparent as GNU `timeout --foreground`: a shell
//! that runs `rtmp --exec ... cmd` must not be able to tell, from signals or exit status, that
//! `rtmp` sat between it and `cmd` (README, "Signals in `--exec` mode, and why not ctrlc").
//!
//! What the command's process does between `fork` and `exec` is in [`child`], the only
//! `pre_exec` hook of rtmp.
//!
//! # Invariants
//!
//! * **Never exits before the child.** [`Supervisor::spawn_and_wait`] returns only once the
//!   child has been reaped (or `waitpid` itself failed, which cannot happen while our `SIGCHLD`
//!   handler is installed). A signal only makes rtmp forward it and keep waiting; whether the
//!   child dies of it is the child's business.
//! * **Forwards each signal at most once, and only if the child cannot already have it.**
//!   rtmp stays in the caller's process group (no `setpgid`/`setsid`), so terminal job control
//!   works and a signal the kernel sends to the foreground group (Ctrl-C, Ctrl-\, hang-up;
//!   `si_code == SI_KERNEL`) reaches rtmp *and* the child. Such signals are not sent again. A
//!   signal another process sent to rtmp's pid (`kill`, `sigqueue`, `tgkill`; `si_code` of
//!   `SI_USER`, `SI_QUEUE`, `SI_TKILL`) is forwarded with `kill(child, sig)`.
//!   See [`Supervisor::spawn_and_wait`] for the documented limit with `kill(0, sig)`/`killpg`.
//! * **The child gets the caller's signal mask and ignored set.** Whatever was blocked or set
//!   to `SIG_IGN` when [`Supervisor::install`] ran is exactly what the command starts with;
//!   nothing rtmp itself blocks, ignores or catches leaks into it (POSIX: `exec` keeps the mask
//!   and `SIG_IGN`, and resets caught signals to `SIG_DFL`).
//! * **No descriptor leaks.** The only descriptors this module opens are signal-hook's
//!   self-pipe, a `socketpair` that std creates with `SOCK_CLOEXEC`.
//!
//! No function here panics on anything the OS or the user can influence, and the module never
//! calls `process::exit` except as the fallback inside [`die_of_signal`].

pub mod child;

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::Ordering;

use nix::errno::Errno;
use nix::libc;
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use nix::sys::signal::{SigSet, Signal, kill};
use nix::unistd::Pid;
use signal_hook::SigId;
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::iterator::exfiltrator::origin::Origin;
use signal_hook::low_level::siginfo::Cause;

use crate::exit::{Outcome, Termination};
use crate::sys::signal::{self, Disposition};
use child::{CAUGHT_IN_CHILD, ChildSetup, SUPERVISOR_PID, Startup};

/// Signals rtmp catches while it supervises (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
/// SIGUSR2).
///
/// These are the asynchronous signals a user or a service manager sends to "the program" and
/// expects it to act on; they are the set GNU `timeout` forwards minus the ones it uses itself.
/// `SIGTSTP`/`SIGCONT` are deliberately not caught: their default actions (stop, continue) must
/// apply to rtmp and, through the shared process group, to the child.
pub const FORWARDED: &[i32] = &[
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// Signal supervision state, created before the temporary path exists.
///
/// Holds signal-hook handlers (a [`SignalsInfo`] with the [`WithOrigin`] exfiltrator, so each
/// signal comes with its `si_code`-derived origin) for every signal in [`FORWARDED`] plus
/// `SIGCHLD`. A signal that the process was started with set to `SIG_IGN` is left ignored and
/// not registered: a command run from `cmd &` in a non-interactive shell inherits `SIGINT` and
/// `SIGQUIT` ignored (POSIX, "Shell Command Language", asynchronous lists) and must keep them
/// ignored with rtmp in between. Dropping the supervisor unregisters its handlers; note that
/// signal-hook then leaves a no-op handler installed, so a later signal is swallowed rather than
/// acted on (callers exit soon after anyway, via [`die_of_signal`] if needed).
pub struct Supervisor {
    signals: SignalsInfo<WithOrigin>,
    /// Signals already taken from `signals` before the child existed, oldest batch first.
    backlog: Vec<Origin>,
    /// Signals we put a handler on; `exec` resets those to `SIG_DFL`, and so does the child.
    caught: Vec<i32>,
    /// Low-level actions that notice signals arriving in the child before `exec`.
    child_watch: Vec<SigId>,
    startup: Startup,
}

/// How the supervised command ended, as `waitpid` reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildEnd {
    /// The command called `exit(code)`; the caller exits with the same code.
    Exited(i32),
    /// The command was killed by this signal; the caller removes the path and then
    /// [`die_of_signal`]s with it, so its own parent sees the same `WIFSIGNALED` status.
    Signaled(i32),
}

/// Why the command could not be run (or, rarely, not be waited for).
///
/// [`SpawnError::outcome`] gives rtmp's status for each (GNU `env`, `nice` and `timeout`, and
/// POSIX for the shell's own command search). The `io::Error` is kept so the caller can print
/// `rtmp: CMD: <OS text>`.
#[derive(Debug)]
pub enum SpawnError {
    /// `exec` failed with `ENOENT`: no such command in `PATH`, or a path with a slash that does
    /// not exist. [`Outcome::NotFound`].
    NotFound(io::Error),
    /// Any other failure to run the command (`EACCES`, `ENOEXEC`, `EISDIR`, `E2BIG`, a failure
    /// of the child's set-up before `exec`, ...). [`Outcome::CannotRun`].
    CannotRun(io::Error),
    /// The child was started but `waitpid` failed, so its status is unknown: GNU `timeout`'s
    /// "error waiting for command". [`Outcome::ExecFailed`].
    WaitFailed(io::Error),
    /// rtmp ran out of resources while starting the child (`EAGAIN`/`ENOMEM` from `fork`,
    /// `EMFILE`/`ENFILE` for std's status pipe): rtmp's own failure, not the command's, as GNU
    /// `timeout` treats a failed `fork`. [`Outcome::ExecFailed`]. (`exec` can report these
    /// too, rarely; rtmp cannot tell the two apart and takes the more common reading.)
    NoResources(io::Error),
}

impl SpawnError {
    fn from_spawn(err: io::Error) -> SpawnError {
        if err.kind() == io::ErrorKind::NotFound {
            return SpawnError::NotFound(err);
        }
        match err.raw_os_error().map(Errno::from_raw) {
            Some(Errno::EAGAIN | Errno::ENOMEM | Errno::EMFILE | Errno::ENFILE) => {
                SpawnError::NoResources(err)
            }
            _ => SpawnError::CannotRun(err),
        }
    }

    /// How rtmp ends after this error: [`Outcome::NotFound`] (127), [`Outcome::CannotRun`]
    /// (126), or [`Outcome::ExecFailed`] (125) when the failure was rtmp's own.
    pub fn outcome(&self) -> Outcome {
        match self {
            SpawnError::NotFound(_) => Outcome::NotFound,
            SpawnError::CannotRun(_) => Outcome::CannotRun,
            SpawnError::WaitFailed(_) | SpawnError::NoResources(_) => Outcome::ExecFailed,
        }
    }

    /// The underlying OS error, for the `rtmp: CMD: <OS text>` message.
    pub fn io_error(&self) -> &io::Error {
        match self {
            SpawnError::NotFound(e)
            | SpawnError::CannotRun(e)
            | SpawnError::WaitFailed(e)
            | SpawnError::NoResources(e) => e,
        }
    }
}

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.io_error(), f)
    }
}

impl std::error::Error for SpawnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.io_error())
    }
}

/// Whether a caught signal must be sent on to the child, judged by its origin.
///
/// * `SI_KERNEL` (terminal Ctrl-C, Ctrl-\, hang-up of the foreground group): the kernel sent it
///   to the whole foreground process group, which includes the child. Not forwarded.
/// * `SI_USER` / `SI_QUEUE` / `SI_MESGQ`: another process targeted rtmp's pid. Forwarded.
/// * `SI_TKILL`: `tgkill` targets a single thread, so it can never have reached the child.
///   Forwarded.
/// * Unknown codes: forwarded. Missing a signal could leave rtmp waiting forever on a child
///   that was meant to stop; a duplicate is the lesser harm.
fn should_forward(cause: &Cause) -> bool {
    !matches!(cause, Cause::Kernel | Cause::Chld(_))
}

/// Sends `sig` to the child. Errors are ignored: there is nothing better to do than keep
/// waiting for it. The child has not been reaped yet (that happens right before
/// [`Supervisor::spawn_and_wait`] returns), so `pid` cannot have been reused.
fn forward(pid: Option<Pid>, sig: i32) {
    if let (Some(pid), Ok(sig)) = (pid, Signal::try_from(sig)) {
        let _ = kill(pid, sig);
    }
}

fn child_end(status: ExitStatus) -> Result<ChildEnd, SpawnError> {
    if let Some(code) = status.code() {
        Ok(ChildEnd::Exited(code))
    } else if let Some(sig) = status.signal() {
        Ok(ChildEnd::Signaled(sig))
    } else {
        // std's waitpid does not ask for stop/continue reports, so this is unreachable.
        Err(SpawnError::WaitFailed(io::Error::other(format!(
            "unexpected wait status {:#x}",
            status.into_raw()
        ))))
    }
}

impl Supervisor {
    /// Starts catching [`FORWARDED`] signals and `SIGCHLD`, and records the signal mask and the
    /// `SIGPIPE`/`SIGCHLD` dispositions the child must start with.
    ///
    /// Call it before creating the temporary path, so that a signal arriving while the path
    /// exists is never acted on by default (which would leave the path behind); use
    /// [`Supervisor::pending_signal`] to find out about such a signal. Signals already set to
    /// `SIG_IGN` (checked with `sigaction`) stay ignored and are not registered.
    ///
    /// # Errors
    /// An `io::Error` from `sigaction`, `pthread_sigmask` or signal-hook's registration (for
    /// example when the self-pipe cannot be created because the descriptor table is full).
    pub fn install() -> io::Result<Supervisor> {
        let startup = Startup {
            mask: SigSet::thread_get_mask()?,
            pipe_ignored: signal::is_ignored(libc::SIGPIPE)?,
            chld_ignored: signal::is_ignored(libc::SIGCHLD)?,
        };
        let mut caught = Vec::with_capacity(FORWARDED.len() + 1);
        for &sig in FORWARDED {
            if !signal::is_ignored(sig)? {
                caught.push(sig);
            }
        }
        // SIGCHLD is caught even if ignored: with SIG_IGN the kernel reaps the child itself
        // and waitpid could not report its status. The child gets SIG_IGN back (Startup).
        caught.push(libc::SIGCHLD);
        // A caller that blocked SIGCHLD would leave rtmp waiting forever for a wake-up that
        // never comes. rtmp unblocks it for itself; the child gets the recorded mask back.
        SigSet::from(Signal::SIGCHLD).thread_unblock()?;

        SUPERVISOR_PID.store(nix::unistd::getpid().as_raw(), Ordering::SeqCst);
        let signals = SignalsInfo::<WithOrigin>::new(&caught)?;
        let mut sup = Supervisor {
            signals,
            backlog: Vec::new(),
            caught,
            child_watch: Vec::new(),
            startup,
        };
        for &sig in sup.caught.iter().filter(|&&s| s != libc::SIGCHLD) {
            let id = signal::record_in_forked_child(sig, &SUPERVISOR_PID, &CAUGHT_IN_CHILD)?;
            sup.child_watch.push(id);
        }
        Ok(sup)
    }

    /// Non-blocking: the first signal from [`FORWARDED`] received since
    /// [`Supervisor::install`], whatever its origin, or `None`.
    ///
    /// "First" means lowest-numbered among those pending: signal-hook does not keep the
    /// arrival order across different signals. The signal stays recorded, so calling
    /// [`Supervisor::spawn_and_wait`] afterwards would still forward it to the child.
    ///
    /// The caller checks this right before spawning: `Some(sig)` means rtmp was asked to stop
    /// while it was setting up, so it removes the path and calls [`die_of_signal`]`(sig)`, the
    /// way the command would have died had it been running.
    pub fn pending_signal(&mut self) -> Option<i32> {
        self.drain();
        self.backlog
            .iter()
            .map(|o| o.signal)
            .find(|s| FORWARDED.contains(s))
    }

    fn drain(&mut self) {
        self.backlog.extend(self.signals.pending());
    }

    /// Spawns `cmd` with `setup` and waits for it, forwarding signals; returns how it ended.
    ///
    /// The command keeps rtmp's process group and its stdin/stdout/stderr (whatever `cmd` was
    /// configured with; rtmp configures nothing). Before `exec` the command's process applies
    /// `setup` and restores the signal mask and the `SIGPIPE`/`SIGCHLD` dispositions recorded
    /// by [`Supervisor::install`], undoing both std's reset (empty mask, `SIGPIPE` to
    /// `SIG_DFL`) and rtmp's own handlers ([`child`]).
    ///
    /// Supervision neither polls nor sleeps: it checks `try_wait`, then blocks on the signal
    /// iterator, which `SIGCHLD` wakes; checking before blocking covers a child that exits
    /// before the first wait, and any `SIGCHLD` (they coalesce) just triggers another check.
    ///
    /// Forwarding is decided per signal by origin (see the module docs). Signals received
    /// before the child existed are forwarded whatever their origin, because the child cannot
    /// have seen them. Documented limits:
    /// * `kill(0, sig)` / `killpg` by another process hits rtmp's whole group. The child gets it
    ///   directly, and rtmp cannot tell it from a `kill` of its own pid (both are `SI_USER`),
    ///   so rtmp forwards it and the child sees it twice. GNU `timeout --foreground` has the
    ///   same limit; putting the child in its own group would break terminal job control.
    /// * A kernel-origin signal arriving between the last check for early signals and the
    ///   `fork` (microseconds) reaches only rtmp and is not forwarded.
    ///
    /// # Errors
    /// A [`SpawnError`]: [`SpawnError::NotFound`] when `exec` fails with `ENOENT`,
    /// [`SpawnError::NoResources`] when rtmp ran out of processes, memory or descriptors,
    /// [`SpawnError::CannotRun`] for every other spawn failure (including a failure of the
    /// set-up before `exec`), [`SpawnError::WaitFailed`] if `waitpid` fails.
    ///
    /// # Panics
    /// Only if signal-hook fails to read its own self-pipe, which it treats as a bug (its
    /// `wait` panics); nothing the OS or the user controls leads there.
    pub fn spawn_and_wait(
        mut self,
        mut cmd: Command,
        setup: ChildSetup,
    ) -> Result<ChildEnd, SpawnError> {
        child::install_hook(&mut cmd, setup, self.startup, self.caught.clone());
        self.drain();
        let mut child: Child = cmd.spawn().map_err(SpawnError::from_spawn)?;
        let pid = libc::pid_t::try_from(child.id()).ok().map(Pid::from_raw);

        for origin in std::mem::take(&mut self.backlog) {
            if FORWARDED.contains(&origin.signal) {
                forward(pid, origin.signal);
            }
        }
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return child_end(status),
                Ok(None) => {}
                Err(e) => return Err(SpawnError::WaitFailed(e)),
            }
            for origin in self.signals.wait() {
                if FORWARDED.contains(&origin.signal) && should_forward(&origin.cause) {
                    forward(pid, origin.signal);
                }
            }
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        for id in self.child_watch.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

/// Terminates this process with signal `sig`, so that rtmp's parent sees the same
/// `WIFSIGNALED`/`WTERMSIG` status the command produced (what a shell needs to, e.g., stop a
/// script on Ctrl-C; this is how GNU `timeout` and `env` propagate a child's death).
///
/// Sets the `RLIMIT_CORE` soft limit to 0 so `SIGQUIT`, `SIGABRT` and the like dump no core of
/// rtmp (the command already dumped its own if it was going to), resets `sig` to `SIG_DFL`
/// (replacing any handler, including this module's), unblocks `sig` and raises it. Works for
/// real-time signals too. If the process is still alive afterwards (a signal whose default
/// action is to ignore or stop, or an invalid number), it exits as a shell reports a death by
/// that signal: status `128 + sig`, truncated to 8 bits as `exit` does.
pub fn die_of_signal(sig: i32) -> ! {
    // Errors are ignored on purpose: each step only makes the death more faithful, and the
    // exit below is the fallback.
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_CORE) {
        let _ = setrlimit(Resource::RLIMIT_CORE, 0, hard);
    }
    let _ = signal::set_disposition(sig, Disposition::Default);
    let _ = signal::unblock(sig);
    signal::raise(sig);
    let shell_status = Outcome::ChildExited((128_i32.saturating_add(sig) & 0xff) as u8);
    match shell_status.termination() {
        Termination::Exit(code) => std::process::exit(i32::from(code)),
        // `ChildExited` always ends with an exit status.
        Termination::Signal(_) => std::process::abort(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(errno: i32) -> io::Error {
        io::Error::from_raw_os_error(errno)
    }

    /// Every spawn error maps to its status; the table of statuses is `crate::exit`'s.
    #[test]
    fn spawn_errors_map_to_outcomes() {
        let table = [
            (SpawnError::NotFound(error(libc::ENOENT)), Outcome::NotFound),
            (
                SpawnError::CannotRun(error(libc::EACCES)),
                Outcome::CannotRun,
            ),
            (
                SpawnError::WaitFailed(error(libc::ECHILD)),
                Outcome::ExecFailed,
            ),
            (
                SpawnError::NoResources(error(libc::EMFILE)),
                Outcome::ExecFailed,
            ),
        ];
        for (err, outcome) in table {
            assert_eq!(err.outcome(), outcome, "{err:?}");
        }
        let cr = SpawnError::CannotRun(error(libc::EACCES));
        assert_eq!(cr.io_error().raw_os_error(), Some(libc::EACCES));
    }

    /// Regression (black-box test with `ulimit -n 9`): running out of descriptors while
    /// starting the child is rtmp's failure (125), not "cannot run the command" (126).
    #[test]
    fn resource_exhaustion_while_spawning_is_rtmps_failure() {
        for errno in [libc::EMFILE, libc::ENFILE, libc::EAGAIN, libc::ENOMEM] {
            let e = SpawnError::from_spawn(error(errno));
            assert!(matches!(e, SpawnError::NoResources(_)), "{errno}: {e:?}");
            assert_eq!(e.outcome(), Outcome::ExecFailed);
        }
        for errno in [libc::EACCES, libc::ENOEXEC, libc::E2BIG, libc::EISDIR] {
            let e = SpawnError::from_spawn(error(errno));
            assert_eq!(e.outcome(), Outcome::CannotRun, "{errno}");
        }
        let e = SpawnError::from_spawn(error(libc::ENOENT));
        assert_eq!(e.outcome(), Outcome::NotFound);
    }

    #[test]
    fn terminal_signals_are_not_forwarded_sent_ones_are() {
        assert!(!should_forward(&Cause::Kernel));
        for cause in [
            Cause::Sent(signal_hook::low_level::siginfo::Sent::User),
            Cause::Sent(signal_hook::low_level::siginfo::Sent::TKill),
            Cause::Sent(signal_hook::low_level::siginfo::Sent::Queue),
            Cause::Unknown,
        ] {
            assert!(should_forward(&cause), "{cause:?}");
        }
    }

    #[test]
    fn forwarded_set_is_as_specified() {
        let mut got = FORWARDED.to_vec();
        got.sort_unstable();
        let mut want = vec![
            libc::SIGHUP,
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGUSR1,
            libc::SIGUSR2,
            libc::SIGTERM,
        ];
        want.sort_unstable();
        assert_eq!(got, want);
        // CAUGHT_IN_CHILD uses one bit per forwarded signal.
        assert!(FORWARDED.iter().all(|&s| (1..32).contains(&s)));
    }
}
