//! Child supervision for `rtmp --exec`: owns the child process and rtmp's signals.
//!
//! The module that creates and removes the temporary path is not here; it asks this module to
//! [`Supervisor::install`] signal handling *before* the path exists, checks
//! [`Supervisor::pending_signal`] right before spawning, hands the command to
//! [`Supervisor::run`], removes the path, and finally exits with the child's status or
//! [`die_of_signal`]. The goal is to be as transparent as GNU `timeout --foreground`: a shell
//! that runs `rtmp --exec ... cmd` must not be able to tell, from signals or exit status, that
//! `rtmp` sat between it and `cmd`.
//!
//! # Invariants
//!
//! * **Never exits before the child.** [`Supervisor::run`] returns only once the child has
//!   been reaped (or `waitpid` itself failed, which cannot happen while our `SIGCHLD` handler
//!   is installed). A signal only makes rtmp forward it and keep waiting; whether the child
//!   dies of it is the child's business.
//! * **Forwards each signal at most once, and only if the child cannot already have it.**
//!   rtmp stays in the caller's process group (no `setpgid`/`setsid`), so terminal job control
//!   works and a signal the kernel sends to the foreground group (Ctrl-C, Ctrl-\, hang-up;
//!   `si_code == SI_KERNEL`) reaches rtmp *and* the child. Such signals are not sent again. A
//!   signal another process sent to rtmp's pid (`kill`, `sigqueue`, `tgkill`; `si_code` of
//!   `SI_USER`, `SI_QUEUE`, `SI_TKILL`) is forwarded with `kill(child, sig)`.
//!   See [`Supervisor::run`] for the documented limit with `kill(0, sig)`/`killpg`.
//! * **The child gets the caller's signal mask and ignored set.** Whatever was blocked or set
//!   to `SIG_IGN` when [`Supervisor::install`] ran is exactly what the command starts with;
//!   nothing rtmp itself blocks, ignores or catches leaks into it (POSIX: `exec` keeps the mask
//!   and `SIG_IGN`, and resets caught signals to `SIG_DFL`).
//! * **No descriptor leaks.** The only descriptors this module opens are signal-hook's
//!   self-pipe, a `socketpair` that std creates with `SOCK_CLOEXEC`.
//!
//! No function here panics on anything the OS or the user can influence, and the module never
//! calls `process::exit` except as the unreachable fallback inside [`die_of_signal`].

use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use nix::libc;
use signal_hook::SigId;
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::iterator::exfiltrator::origin::Origin;
use signal_hook::low_level::siginfo::Cause;

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

/// The pid of the process that installed a [`Supervisor`], so that a signal handler can tell
/// whether it runs in rtmp or in a freshly forked child that has not reached `exec` yet.
static SUPERVISOR_PID: AtomicI32 = AtomicI32::new(0);

/// Bit `1 << sig` is set when a signal from [`FORWARDED`] hit a forked child between `fork`
/// and `exec`, where the inherited handler swallowed it. Only ever non-zero in such a child.
static CAUGHT_IN_CHILD: AtomicU32 = AtomicU32::new(0);

/// Dispositions and mask as they were when [`Supervisor::install`] ran, replayed in the child.
#[derive(Clone, Copy)]
struct Startup {
    /// The calling thread's signal mask.
    mask: libc::sigset_t,
    /// `SIGPIPE` was `SIG_IGN`. std's `Command` resets `SIGPIPE` to `SIG_DFL` in every child,
    /// because std itself ignores it before `main` in normal binaries; rtmp's binary must not
    /// let std touch it (it uses its own C `main`), so what we see here is the caller's choice.
    pipe_ignored: bool,
    /// `SIGCHLD` was `SIG_IGN`. We must catch it to supervise, which `exec` would turn into
    /// `SIG_DFL`; an ignored `SIGCHLD` is put back in the child.
    chld_ignored: bool,
}

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
/// The exit statuses follow GNU `env`, `nice` and `timeout` (and POSIX for the shell's own
/// command search): 127 when the command is not found, 126 when it was found but could not be
/// executed. The `io::Error` is kept so the caller can print `rtmp: CMD: <OS text>`.
#[derive(Debug)]
pub enum SpawnError {
    /// `exec` failed with `ENOENT`: no such command in `PATH`, or a path with a slash that does
    /// not exist. Exit status 127.
    NotFound(io::Error),
    /// Any other spawn failure (`EACCES`, `ENOEXEC`, `EISDIR`, `E2BIG`, a failed `fork`, ...).
    /// Exit status 126.
    CannotRun(io::Error),
    /// The child was started but `waitpid` failed, so its status is unknown. Not part of the
    /// original API: it is needed because the alternatives were a panic or a made-up status.
    /// It mirrors GNU `timeout`'s "error waiting for command", exit status 125.
    WaitFailed(io::Error),
    /// rtmp ran out of resources while starting the child (`EAGAIN`/`ENOMEM` from `fork`,
    /// `EMFILE`/`ENFILE` for std's status pipe): rtmp's own failure, not the command's, so 125
    /// as GNU `timeout` does when its `fork` fails. (`exec` can report these too, rarely; rtmp
    /// cannot tell the two apart and takes the more common reading.)
    NoResources(io::Error),
}

impl SpawnError {
    fn from_spawn(err: io::Error) -> SpawnError {
        match err.raw_os_error() {
            _ if err.kind() == io::ErrorKind::NotFound => SpawnError::NotFound(err),
            Some(libc::EAGAIN | libc::ENOMEM | libc::EMFILE | libc::ENFILE) => {
                SpawnError::NoResources(err)
            }
            _ => SpawnError::CannotRun(err),
        }
    }

    /// The exit status rtmp should use: 127 for [`SpawnError::NotFound`], 126 for
    /// [`SpawnError::CannotRun`], 125 for [`SpawnError::WaitFailed`] and
    /// [`SpawnError::NoResources`] (GNU conventions).
    pub fn exit_status(&self) -> u8 {
        match self {
            SpawnError::NotFound(_) => 127,
            SpawnError::CannotRun(_) => 126,
            SpawnError::WaitFailed(_) | SpawnError::NoResources(_) => 125,
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

/// The current disposition of `sig` is `SIG_IGN`.
fn is_ignored(sig: i32) -> io::Result<bool> {
    // SAFETY: a null `act` only queries; `old` is a valid out-pointer for the call.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    if unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(old.sa_sigaction == libc::SIG_IGN)
}

fn current_mask() -> io::Result<libc::sigset_t> {
    // SAFETY: a null `set` only queries the calling thread's mask into `old`.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, std::ptr::null(), &mut old) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(old)
}

/// Removes `sig` from this thread's blocked set.
fn unblock(sig: i32) -> io::Result<()> {
    // SAFETY: `set` is a valid, initialised sigset for the calls that fill and use it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        let rc = libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
    }
    Ok(())
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
fn should_forward(origin: &Origin) -> bool {
    !matches!(origin.cause, Cause::Kernel | Cause::Chld(_))
}

fn forward(pid: Option<libc::pid_t>, sig: i32) {
    if let Some(pid) = pid {
        // SAFETY: plain syscall. The child has not been reaped yet (we only reap it right
        // before returning), so `pid` cannot have been reused by another process. Errors are
        // ignored: there is nothing better to do than keep waiting for the child.
        unsafe {
            libc::kill(pid, sig);
        }
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
            mask: current_mask()?,
            pipe_ignored: is_ignored(libc::SIGPIPE)?,
            chld_ignored: is_ignored(libc::SIGCHLD)?,
        };
        let mut caught = Vec::with_capacity(FORWARDED.len() + 1);
        for &sig in FORWARDED {
            if !is_ignored(sig)? {
                caught.push(sig);
            }
        }
        // SIGCHLD is caught even if ignored: with SIG_IGN the kernel reaps the child itself
        // and waitpid could not report its status. The child gets SIG_IGN back (Startup).
        caught.push(libc::SIGCHLD);
        // A caller that blocked SIGCHLD would leave rtmp waiting forever for a wake-up that
        // never comes. rtmp unblocks it for itself; the child gets the recorded mask back.
        unblock(libc::SIGCHLD)?;

        SUPERVISOR_PID.store(std::process::id() as i32, Ordering::SeqCst);
        let signals = SignalsInfo::<WithOrigin>::new(&caught)?;
        let mut sup = Supervisor {
            signals,
            backlog: Vec::new(),
            caught,
            child_watch: Vec::new(),
            startup,
        };
        for &sig in sup.caught.iter().filter(|&&s| s != libc::SIGCHLD) {
            let action = move || {
                // SAFETY: getpid is async-signal-safe and cannot fail.
                if unsafe { libc::getpid() } != SUPERVISOR_PID.load(Ordering::Relaxed) {
                    CAUGHT_IN_CHILD.fetch_or(1 << sig, Ordering::SeqCst);
                }
            };
            // SAFETY: the action only calls getpid and an atomic fetch_or, both
            // async-signal-safe.
            let id = unsafe { signal_hook::low_level::register(sig, action) }?;
            sup.child_watch.push(id);
        }
        Ok(sup)
    }

    /// Non-blocking: the first signal from [`FORWARDED`] received since
    /// [`Supervisor::install`], whatever its origin, or `None`.
    ///
    /// "First" means lowest-numbered among those pending: signal-hook does not keep the
    /// arrival order across different signals. The signal stays recorded, so calling
    /// [`Supervisor::run`] afterwards would still forward it to the child.
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

    /// Spawns `cmd` and waits for it, forwarding signals; returns how it ended.
    ///
    /// The command keeps rtmp's process group and its stdin/stdout/stderr (whatever `cmd` was
    /// configured with; rtmp configures nothing). In the child, before `exec`, the signal mask
    /// and the `SIGPIPE`/`SIGCHLD` dispositions recorded by [`Supervisor::install`] are
    /// restored, undoing both std's reset (empty mask, `SIGPIPE` to `SIG_DFL`) and rtmp's own
    /// handlers.
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
    /// [`SpawnError::NotFound`] when `exec` fails with `ENOENT`, [`SpawnError::CannotRun`] for
    /// every other spawn failure (including a failure of the pre-`exec` restore step),
    /// [`SpawnError::WaitFailed`] if `waitpid` fails.
    ///
    /// # Panics
    /// Only if signal-hook fails to read its own self-pipe, which it treats as a bug (its
    /// `wait` panics); nothing the OS or the user controls leads there.
    pub fn run(mut self, mut cmd: Command) -> Result<ChildEnd, SpawnError> {
        let startup = self.startup;
        let caught = self.caught.clone();
        // SAFETY: the closure runs in the forked child; it only calls sigfillset, sigaction,
        // pthread_sigmask, raise and atomic loads on data prepared before the fork, all
        // async-signal-safe, and allocates nothing.
        unsafe {
            cmd.pre_exec(move || restore_in_child(&startup, &caught));
        }
        self.drain();
        let mut child: Child = cmd.spawn().map_err(SpawnError::from_spawn)?;
        let pid = libc::pid_t::try_from(child.id()).ok();

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
                if FORWARDED.contains(&origin.signal) && should_forward(&origin) {
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

/// Runs in the child between `fork` and `exec`; async-signal-safe calls only.
///
/// std has already emptied the mask and set `SIGPIPE` to `SIG_DFL`. Order matters: block
/// everything first so nothing is delivered to rtmp's inherited handlers (which would swallow
/// it), reset those handlers, re-raise whatever they swallowed since the fork (a terminal
/// Ctrl-C sent to the group in this window reached the child only through them, and rtmp will
/// not forward a kernel-origin signal), then install the caller's mask, which delivers those
/// signals with their default action or keeps them pending across `exec`.
fn restore_in_child(startup: &Startup, caught: &[i32]) -> io::Result<()> {
    // SAFETY: all pointers are to valid local or captured data; the calls are
    // async-signal-safe.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        for &sig in caught {
            let ignore = sig == libc::SIGCHLD && startup.chld_ignored;
            set_disposition(sig, if ignore { libc::SIG_IGN } else { libc::SIG_DFL })?;
        }
        let pipe = if startup.pipe_ignored {
            libc::SIG_IGN
        } else {
            libc::SIG_DFL
        };
        set_disposition(libc::SIGPIPE, pipe)?;
        let swallowed = CAUGHT_IN_CHILD.load(Ordering::SeqCst);
        for &sig in FORWARDED {
            if swallowed & (1 << sig) != 0 {
                libc::raise(sig);
            }
        }
        let rc = libc::pthread_sigmask(libc::SIG_SETMASK, &startup.mask, std::ptr::null_mut());
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
    }
    Ok(())
}

/// Async-signal-safe `sigaction(sig, handler)` with an empty mask and no flags.
fn set_disposition(sig: i32, handler: libc::sighandler_t) -> io::Result<()> {
    // SAFETY: `act` is fully initialised; a null old-action pointer is allowed.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = handler;
        libc::sigemptyset(&mut act.sa_mask);
        if libc::sigaction(sig, &act, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Terminates this process with signal `sig`, so that rtmp's parent sees the same
/// `WIFSIGNALED`/`WTERMSIG` status the command produced (what a shell needs to, e.g., stop a
/// script on Ctrl-C; this is how GNU `timeout` and `env` propagate a child's death).
///
/// Resets `sig` to `SIG_DFL` (replacing any handler, including this module's), sets the
/// `RLIMIT_CORE` soft limit to 0 so `SIGQUIT`, `SIGABRT` and the like dump no core of rtmp
/// (the command already dumped its own if it was going to), unblocks `sig` and raises it.
/// Works for real-time signals too. If the process is still alive afterwards (a signal whose
/// default action is to ignore or stop, or an invalid number), it exits with `128 + sig`, the
/// shell's convention for "killed by a signal".
pub fn die_of_signal(sig: i32) -> ! {
    // SAFETY: plain libc calls on valid local data. Errors are ignored on purpose: each step
    // only makes the death more faithful, and the exit below is the fallback.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_CORE, &mut lim) == 0 {
            lim.rlim_cur = 0;
            libc::setrlimit(libc::RLIMIT_CORE, &lim);
        }
        let _ = set_disposition(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
    }
    std::process::exit(128_i32.saturating_add(sig))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cmd: Command) -> Result<ChildEnd, SpawnError> {
        let sup = Supervisor::install().expect("install");
        sup.run(cmd)
    }

    #[test]
    fn spawn_error_statuses() {
        let nf = SpawnError::NotFound(io::Error::from_raw_os_error(libc::ENOENT));
        let cr = SpawnError::CannotRun(io::Error::from_raw_os_error(libc::EACCES));
        let wf = SpawnError::WaitFailed(io::Error::from_raw_os_error(libc::ECHILD));
        assert_eq!(nf.exit_status(), 127);
        assert_eq!(cr.exit_status(), 126);
        assert_eq!(wf.exit_status(), 125);
        assert_eq!(cr.io_error().raw_os_error(), Some(libc::EACCES));
    }

    /// Regression (black-box test with `ulimit -n 9`): running out of descriptors while
    /// starting the child is rtmp's failure (125), not "cannot run the command" (126).
    #[test]
    fn resource_exhaustion_while_spawning_is_rtmps_failure() {
        for errno in [libc::EMFILE, libc::ENFILE, libc::EAGAIN, libc::ENOMEM] {
            let e = SpawnError::from_spawn(io::Error::from_raw_os_error(errno));
            assert!(matches!(e, SpawnError::NoResources(_)), "{errno}: {e:?}");
            assert_eq!(e.exit_status(), 125);
        }
        for errno in [libc::EACCES, libc::ENOEXEC, libc::E2BIG, libc::EISDIR] {
            let e = SpawnError::from_spawn(io::Error::from_raw_os_error(errno));
            assert_eq!(e.exit_status(), 126, "{errno}");
        }
        let e = SpawnError::from_spawn(io::Error::from_raw_os_error(libc::ENOENT));
        assert_eq!(e.exit_status(), 127);
    }

    #[test]
    fn missing_command_is_not_found() {
        let err = run(Command::new("rtmp-no-such-command-xyz")).expect_err("must fail");
        assert!(matches!(err, SpawnError::NotFound(_)), "{err:?}");
        assert_eq!(err.exit_status(), 127);
    }

    #[test]
    fn missing_path_with_slash_is_not_found() {
        let err = run(Command::new("/nonexistent-dir-rtmp/cmd")).expect_err("must fail");
        assert!(matches!(err, SpawnError::NotFound(_)), "{err:?}");
    }

    #[test]
    fn directory_cannot_run() {
        let dir = std::env::temp_dir();
        let err = run(Command::new(dir)).expect_err("must fail");
        assert!(matches!(err, SpawnError::CannotRun(_)), "{err:?}");
        assert_eq!(err.exit_status(), 126);
        assert_eq!(err.io_error().raw_os_error(), Some(libc::EACCES));
    }

    #[test]
    fn true_exits_zero() {
        assert_eq!(run(Command::new("true")).ok(), Some(ChildEnd::Exited(0)));
    }

    #[test]
    fn exit_code_is_reported() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "exit 7"]);
        assert_eq!(run(cmd).ok(), Some(ChildEnd::Exited(7)));
    }

    #[test]
    fn death_by_signal_is_reported() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "kill -TERM $$"]);
        assert_eq!(run(cmd).ok(), Some(ChildEnd::Signaled(libc::SIGTERM)));
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
