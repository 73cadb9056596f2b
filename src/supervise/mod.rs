//! Child supervision for `rtmp --exec`: owns the command's process tree and rtmp's signals
//! (docs/design/process-tree.md; README, "Signals in `--exec` mode").
//!
//! `crate::exec` asks this module to [`Supervisor::install`] signal handling *before* the path
//! exists, checks [`Supervisor::pending_signal`] after creating it, hands the command to
//! [`Supervisor::spawn_and_wait`], removes the path, and finally ends with the command's status
//! or [`die_of_signal`]. The goal is to be as transparent as GNU `timeout --foreground`: a shell
//! that runs `rtmp --exec ... cmd` must not be able to tell, from signals or exit status, that
//! `rtmp` sat between it and `cmd`, and when rtmp is done nothing it started still runs.
//!
//! * here: the signal table (`action_for`), the last signal check before the start and the
//!   wait loop;
//! * [`child`]: rtmp's own spawn of the command (`CLONE_VM | CLONE_VFORK`) and everything
//!   between it and `exec`;
//! * `tree`: finding and signalling the command's process tree.
//!
//! # Invariants
//!
//! * **Never exits before the tree.** [`Supervisor::spawn_and_wait`] returns only once the
//!   command has been reaped *and* no other descendant of rtmp (but the guardian) is left: rtmp
//!   is a child subreaper, so whatever the command leaves behind is re-parented to rtmp; it is
//!   ended (SIGTERM and SIGCONT, then SIGKILL after `--kill-after`) or, with
//!   `--wait-children`, waited for. Orphans are reaped all along (`waitid(P_ALL)`).
//! * **Once a signal has arrived, the command never starts.** The caught signals are blocked
//!   from [`Supervisor::install`] until the last look at the handler's pipe right before the
//!   spawn; one that arrives after it reaches the command's process before its `exec` through
//!   `crate::sys::signal::arrived` (a `clone` that a signal interrupts is restarted after the
//!   handler ran), and that process then ends without starting the command ([`child`]).
//! * **Each signal reaches each process of the tree once.** rtmp stays in the caller's process
//!   group (no `setpgid`/`setsid`), so terminal job control works and a signal the kernel sends
//!   to the foreground group (Ctrl-C, Ctrl-\, Ctrl-Z; `si_code == SI_KERNEL`) reaches rtmp *and*
//!   the command: not sent again, except a hang-up when rtmp leads its session (the kernel sent
//!   it to rtmp alone). A signal another process sent to rtmp is sent to every process of the
//!   tree, through pidfds. Documented limit: `kill(0, sig)`/`killpg` by another process hits
//!   rtmp's whole group, and rtmp cannot tell it from a `kill` of its own pid (both `SI_USER`):
//!   the group's members see it twice (GNU `timeout` has the same limit; README, "Design").
//! * **The command gets the caller's signal mask and ignored set** ([`child`]).
//! * **No descriptor leaks**: the handler's pipe and the guardian's socket are close-on-exec.
//!
//! No function here panics on anything the OS or the user can influence, and the module never
//! calls `process::exit` except as the fallback inside [`die_of_signal`].

pub mod child;
mod tree;

use std::io;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::libc;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use nix::sys::signal::SigSet;
use nix::unistd::Pid;

use crate::exit::{Outcome, Termination};
use crate::sys::process::{self, Ended};
use crate::sys::signal::{self, Catcher, Caught, Disposition};
use child::{ChildSetup, Prepared, Spawned, Startup};
use tree::Tree;

/// Signals whose default action ends a process and that rtmp catches and passes on to the
/// tree: everything catchable but the synchronous faults (SEGV, BUS, ILL, FPE, TRAP, SYS, which
/// are rtmp's own bugs), the stop and continue signals (below) and those ignored by default.
/// The real-time signals (`SIGRTMIN`..=`SIGRTMAX`) are added by [`caught_signals`]; 32 and 33
/// are glibc's own and cannot be caught through it (a documented limit).
pub const TERMINATING: &[i32] = &[
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGABRT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGPIPE,
    libc::SIGALRM,
    libc::SIGTERM,
    libc::SIGSTKFLT,
    libc::SIGXCPU,
    libc::SIGXFSZ,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGIO,
    libc::SIGPWR,
];

/// The stop signals rtmp catches: passed on when sent with `kill`, then rtmp stops itself.
pub const STOPPING: &[i32] = &[libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU];

/// Every signal rtmp catches (unless the caller left it ignored) besides `SIGCHLD`:
/// [`TERMINATING`], the real-time signals, [`STOPPING`] and `SIGCONT`.
pub fn caught_signals() -> Vec<i32> {
    let mut all = TERMINATING.to_vec();
    all.extend(libc::SIGRTMIN()..=libc::SIGRTMAX());
    all.extend_from_slice(STOPPING);
    all.push(libc::SIGCONT);
    all
}

/// Whether `sig` ends a process by default (and so is passed on, and stops a start).
fn is_terminating(sig: i32) -> bool {
    TERMINATING.contains(&sig) || (libc::SIGRTMIN()..=libc::SIGRTMAX()).contains(&sig)
}

/// What to do with the leftovers: processes of the tree still running when the command has
/// exited (README, "Leftovers").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Leftovers {
    /// `--kill-after=DURATION`: the grace period between SIGTERM and SIGKILL (default
    /// [`DEFAULT_KILL_AFTER`]); with `wait_children`, counted from a signal rtmp passed on.
    pub kill_after: Option<Duration>,
    /// `--wait-children`: wait for them to end on their own instead.
    pub wait_children: bool,
}

/// The grace period of the leftovers when `--kill-after` is not given.
pub const DEFAULT_KILL_AFTER: Duration = Duration::from_secs(2);

/// Signal supervision state, created before the temporary path exists.
///
/// Holds rtmp's handler on every signal of [`caught_signals`] and on `SIGCHLD`, with those
/// signals blocked until the command has been told to start. A signal that the process was
/// started with set to `SIG_IGN` is left ignored and not caught: a command run from `cmd &` in
/// a non-interactive shell inherits `SIGINT` and `SIGQUIT` ignored (POSIX, "Shell Command
/// Language", asynchronous lists) and must keep them ignored with rtmp in between. Dropping the
/// supervisor blocks the caught signals again: one arriving while rtmp cleans up afterwards is
/// not acted on (rtmp ends as the command did, and soon).
pub struct Supervisor {
    catcher: Catcher,
    /// The caught signals and `SIGCHLD`, as a mask.
    blocked: SigSet,
    /// Signals taken from the handler's pipe before the command started, oldest first.
    backlog: Vec<Caught>,
    startup: Startup,
    leads_session: bool,
    leftovers: Leftovers,
    /// rtmp's children as [`Supervisor::note_children`] found them (or why it could not).
    tree: Option<io::Result<Tree>>,
}

/// How the supervised command ended, as `waitid` reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildEnd {
    /// The command called `exit(code)`; the caller exits with the same code.
    Exited(i32),
    /// The command was killed by this signal; the caller removes the path and then
    /// [`die_of_signal`]s with it, so its own parent sees the same `WIFSIGNALED` status.
    Signaled(i32),
    /// This signal arrived before the command could start, so it never ran: the caller removes
    /// the path and [`die_of_signal`]s with it, as the command would have died of it.
    NotStarted(i32),
}

/// Why the command could not be run (or, rarely, not be waited for).
///
/// [`SpawnError::outcome`] gives rtmp's status for each (GNU `env`, `nice` and `timeout`, and
/// POSIX for the shell's own command search). The `io::Error` is kept so the caller can print
/// `rtmp: CMD: <OS text>` (or `rtmp: cannot start CMD: <OS text>` for [`SpawnError::CannotStart`]).
#[derive(Debug)]
pub enum SpawnError {
    /// `exec` failed with `ENOENT`: no such command in `PATH`, or a path with a slash that does
    /// not exist. [`Outcome::NotFound`].
    NotFound(io::Error),
    /// Any other failure to run the command (`EACCES`, `ENOEXEC`, `EISDIR`, `E2BIG`, a failure
    /// of the child's set-up before `exec`, ...). [`Outcome::CannotRun`].
    CannotRun(io::Error),
    /// `waitid` failed, so the command's status is unknown: GNU `timeout`'s "error waiting for
    /// command". [`Outcome::ExecFailed`].
    WaitFailed(io::Error),
    /// `exec` itself reported a lack of resources (`EAGAIN`, `ENOMEM`, `EMFILE`, `ENFILE`):
    /// rtmp's lot as much as the command's, as GNU `timeout` treats them. [`Outcome::ExecFailed`].
    NoResources(io::Error),
    /// rtmp's own spawn failed (`mmap` of the child's stack, `clone`), or rtmp could not read
    /// its own children to tell the guardian from the command's tree (`EMFILE`): the command
    /// was never started.
    /// [`Outcome::ExecFailed`], reported as `cannot start CMD`.
    CannotStart(io::Error),
    /// The command's process could not change to the directory `cmd` asked for (`--cd`): the
    /// command never ran. [`Outcome::ExecFailed`], reported as GNU `env --chdir` does:
    /// `cannot change directory to DIR`.
    CannotChdir(io::Error),
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
            SpawnError::WaitFailed(_)
            | SpawnError::NoResources(_)
            | SpawnError::CannotStart(_)
            | SpawnError::CannotChdir(_) => Outcome::ExecFailed,
        }
    }

    /// The underlying OS error, for the message.
    pub fn io_error(&self) -> &io::Error {
        match self {
            SpawnError::NotFound(e)
            | SpawnError::CannotRun(e)
            | SpawnError::WaitFailed(e)
            | SpawnError::NoResources(e)
            | SpawnError::CannotStart(e)
            | SpawnError::CannotChdir(e) => e,
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

/// What rtmp does with a caught signal (docs/design/process-tree.md, section 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Nothing (the command's tree already has it, or it is rtmp's own); `SIGCHLD` only wakes
    /// the wait loop.
    None,
    /// Send it to every process of the tree.
    PassOn,
    /// Send it to every process of the tree, then stop rtmp with it.
    PassOnAndStop,
    /// Stop rtmp with it (the kernel stopped the foreground group already).
    Stop,
    /// Continue every stopped process of the tree.
    ContinueTree,
}

/// The signal table and its origin rules.
///
/// * Sent by a process (`si_code <= 0`: `SI_USER`, `SI_QUEUE`, `SI_TKILL`, ...) to rtmp: passed
///   on; a stop signal then stops rtmp too. A `SI_USER` signal from rtmp's own pid is one the
///   kernel generated for rtmp itself (`SIGPIPE`, `SIGXFSZ` of its own write) or its own
///   `raise`: not passed on.
/// * Generated by the kernel (`SI_KERNEL` or another positive code): the terminal sent it to the
///   whole foreground group, or it is rtmp's own (its CPU limit): not passed on, not fatal;
///   except a hang-up when rtmp leads its session, which the kernel sent to rtmp alone.
/// * `SIGCONT`, whatever its origin: continue the tree's stopped processes.
fn action_for(caught: &Caught, me: libc::pid_t, leads_session: bool) -> Action {
    let sent = caught.code <= 0 && !(caught.code == libc::SI_USER && caught.pid == me);
    let sig = caught.signal;
    if sig == libc::SIGCHLD {
        Action::None
    } else if sig == libc::SIGCONT {
        Action::ContinueTree
    } else if STOPPING.contains(&sig) {
        if sent {
            Action::PassOnAndStop
        } else {
            Action::Stop
        }
    } else if sent || (sig == libc::SIGHUP && leads_session) {
        Action::PassOn
    } else {
        Action::None
    }
}

impl Supervisor {
    /// Starts catching the signals of [`caught_signals`] and `SIGCHLD`, blocked until the
    /// command starts, makes rtmp a child subreaper, and records the signal mask and the
    /// `SIGCHLD` disposition the command must start with.
    ///
    /// Call it before creating the temporary path, so that a signal arriving while the path
    /// exists is never acted on by default (which would leave the path behind); use
    /// [`Supervisor::pending_signal`] to find out about such a signal.
    ///
    /// # Errors
    /// An `io::Error` from `sigaction`, `pthread_sigmask`, `pipe2` (for example when the
    /// descriptor table is full) or `prctl`.
    pub fn install() -> io::Result<Supervisor> {
        let mask = SigSet::thread_get_mask()?;
        let chld_ignored = signal::is_ignored(libc::SIGCHLD)?;
        let wanted = caught_signals();
        let mut blocked = SigSet::empty();
        for &sig in wanted.iter().chain(&[libc::SIGCHLD]) {
            signal::add(&mut blocked, sig)?;
        }
        // Blocked first: a signal from here on waits, pending, for the check before the start.
        blocked.thread_block()?;
        // SIGCHLD is caught even if ignored: with SIG_IGN the kernel reaps the children itself
        // and waitid could not report the command's status. The command gets SIG_IGN back.
        let (catcher, _ignored) = Catcher::install(&wanted, &[libc::SIGCHLD])?;
        process::become_subreaper()?;
        Ok(Supervisor {
            catcher,
            blocked,
            backlog: Vec::new(),
            startup: Startup { mask, chld_ignored },
            leads_session: process::leads_session(),
            leftovers: Leftovers::default(),
            tree: None,
        })
    }

    /// Records rtmp's children at this moment (the guardian, once forked, and any that a shell
    /// which `exec`ed into rtmp left) as not part of the command's tree, as
    /// [`Supervisor::spawn_and_wait`] otherwise does right before its spawn. Lets that `/proc`
    /// read overlap the guardian's creation of the path; nothing else may be forked between
    /// this call and the spawn, and it must come shortly before the spawn: a process
    /// re-parented to rtmp in between would be taken for the command's (so not before
    /// anything that waits, as `--stdin`'s copy does).
    pub fn note_children(&mut self) {
        self.tree = Some(Tree::new());
    }

    /// What to do with processes the command leaves running (default: end them).
    pub fn set_leftovers(&mut self, leftovers: Leftovers) {
        self.leftovers = leftovers;
    }

    /// Non-blocking: a terminating signal received since [`Supervisor::install`] (any origin),
    /// or `None`. Stop and continue signals are kept for the wait loop.
    ///
    /// The caller checks this after creating the path: `Some(sig)` means rtmp was asked to
    /// stop while it was setting up, so it removes the path and calls
    /// [`die_of_signal`]`(sig)`, the way the command would have died had it been running.
    /// [`Supervisor::spawn_and_wait`] looks once more right before its spawn.
    pub fn pending_signal(&mut self) -> Option<i32> {
        self.backlog.extend(self.catcher.drain());
        let me = nix::unistd::getpid().as_raw();
        if let Some(c) = self
            .backlog
            .iter()
            .find(|c| is_terminating(c.signal) && !(c.code == libc::SI_USER && c.pid == me))
        {
            return Some(c.signal);
        }
        let pending = signal::pending().ok()?;
        self.catcher
            .caught()
            .iter()
            .copied()
            .find(|&s| is_terminating(s) && signal::contains(&pending, s))
    }

    /// Spawns `cmd` with `setup`, waits for it and for the rest of its tree, passing signals
    /// on; returns how the command ended.
    ///
    /// The command keeps rtmp's process group and its stdin, stdout and stderr (the stdio
    /// settings of `cmd` are not used). If a terminating signal reaches rtmp before the
    /// command's process `exec`s, that process ends without starting it ([`child`], step 3)
    /// and [`ChildEnd::NotStarted`] is returned.
    ///
    /// The wait neither polls nor sleeps: it reaps every ended child, then waits on the
    /// handler's pipe, which `SIGCHLD` (and every other caught signal) wakes; with a timeout
    /// only while a grace period runs.
    ///
    /// # Errors
    /// A [`SpawnError`]: [`SpawnError::CannotStart`] when rtmp's own spawn failed or it
    /// could not list its children, [`SpawnError::NotFound`] when `exec` fails with `ENOENT`,
    /// [`SpawnError::NoResources`] when it reports a lack of resources,
    /// [`SpawnError::CannotChdir`] when the command's process cannot enter `cmd`'s directory,
    /// [`SpawnError::CannotRun`] for every other failure before or at `exec`,
    /// [`SpawnError::WaitFailed`] if `waitid` fails.
    pub fn spawn_and_wait(
        mut self,
        cmd: Command,
        setup: ChildSetup,
    ) -> Result<ChildEnd, SpawnError> {
        let prepared = Prepared::new(&cmd).map_err(SpawnError::CannotRun)?;
        // rtmp's children (the guardian, or any a shell `exec`ed into rtmp left) are not the
        // command's tree: as listed by `note_children`, or now.
        let mut tree = match self.tree.take() {
            Some(noted) => noted,
            None => Tree::new(),
        }
        .map_err(SpawnError::CannotStart)?;
        // From here signals are handled as they come. One that arrives after this last look
        // at the pipe but before the command's `exec` still stops the start (child.rs, step 3).
        let _ = self.blocked.thread_unblock();
        if let Some(sig) = self.pending_signal() {
            return Ok(ChildEnd::NotStarted(sig));
        }
        let stop_on = self
            .catcher
            .caught()
            .iter()
            .filter(|&&s| is_terminating(s))
            .fold(0, |set, &s| set | signal::bit(s));
        match child::spawn(&prepared, setup, self.startup, stop_on) {
            Err(e) => Err(SpawnError::CannotStart(e.0)),
            Ok(Spawned::Started(pid)) => self.wait(pid, &mut tree),
            Ok(Spawned::Failed(pid, e)) => Err(Self::exec_failed(pid, e)),
            Ok(Spawned::NoDirectory(pid, e)) => {
                reap(pid);
                Err(SpawnError::CannotChdir(e))
            }
            Ok(Spawned::Stopped(pid, sig)) => {
                reap(pid);
                // The signal's own record, in arrival order with any other, is in the pipe.
                Ok(ChildEnd::NotStarted(self.pending_signal().unwrap_or(sig)))
            }
        }
    }

    /// The command's process `pid` could not `exec`: reap it, classify the error.
    fn exec_failed(pid: Pid, err: io::Error) -> SpawnError {
        reap(pid);
        SpawnError::from_spawn(err)
    }

    /// Reaps every ended child; returns them.
    fn reap_until_gone() -> io::Result<Vec<(Pid, Ended)>> {
        let mut out = Vec::new();
        while let Some(one) = process::reap_any()? {
            out.push(one);
        }
        Ok(out)
    }

    /// Stops rtmp with the stop signal `sig` (as the kernel would have, had rtmp not caught
    /// it), unless a SIGCONT has already come after it: in `pending` after position `next`, or
    /// in the handler's pipe (read now, and appended to `pending`). A SIGCONT that came first
    /// was consumed by the handler and would not continue rtmp once stopped: rtmp and the tree
    /// would stay stopped for good (`kill -TSTP $p; kill -CONT $p`, found by a black-box test).
    /// A SIGCONT in the microseconds between this check and the stop itself is still lost
    /// (a stop signal discards a pending SIGCONT): documented in the README.
    fn stop_self_unless_continued(&mut self, sig: i32, pending: &mut Vec<Caught>, next: usize) {
        pending.extend(self.catcher.drain());
        if pending[next..].iter().any(|c| c.signal == libc::SIGCONT) {
            return;
        }
        signal::stop_self_with(sig);
    }

    /// The wait loop: see [`Supervisor::spawn_and_wait`] and the module doc.
    fn wait(mut self, command: Pid, tree: &mut Tree) -> Result<ChildEnd, SpawnError> {
        let me = nix::unistd::getpid().as_raw();
        let mut end: Option<ChildEnd> = None;
        let mut leftovers_seen = false;
        let mut deadline: Option<Instant> = None;
        let mut killed = false;
        let mut passed_on = false;
        let mut pending = std::mem::take(&mut self.backlog);
        // rtmp passed a stop on to the tree and no SIGCONT has come since: the next SIGCONT
        // continues every member, not only those already seen stopped (a member may not have
        // stopped yet when the CONT is handled, and would then stay stopped).
        let mut tree_stopped = false;
        loop {
            let mut i = 0;
            while i < pending.len() {
                let caught = pending[i];
                i += 1;
                match action_for(&caught, me, self.leads_session) {
                    Action::None => {}
                    Action::PassOn => {
                        tree.signal_all(caught.signal);
                        passed_on = true;
                    }
                    Action::PassOnAndStop => {
                        tree.signal_all(caught.signal);
                        tree_stopped = true;
                        self.stop_self_unless_continued(caught.signal, &mut pending, i);
                    }
                    Action::Stop => {
                        self.stop_self_unless_continued(caught.signal, &mut pending, i);
                    }
                    Action::ContinueTree if tree_stopped => {
                        tree.signal_all(libc::SIGCONT);
                        tree_stopped = false;
                    }
                    Action::ContinueTree => tree.continue_stopped(),
                }
            }
            pending.clear();
            for (pid, ended) in Self::reap_until_gone().map_err(SpawnError::WaitFailed)? {
                tree.reaped(pid);
                if pid == command {
                    end = Some(match ended {
                        Ended::Exited(code) => ChildEnd::Exited(code),
                        Ended::Signaled(sig) => ChildEnd::Signaled(sig),
                    });
                }
            }
            if let Some(end) = end {
                if tree.is_empty() {
                    return Ok(end);
                }
                let now = Instant::now();
                let grace = self.leftovers.kill_after.unwrap_or(DEFAULT_KILL_AFTER);
                if !leftovers_seen {
                    leftovers_seen = true;
                    if !self.leftovers.wait_children {
                        if !grace.is_zero() {
                            // CONT after TERM, so that a stopped process can act on the TERM.
                            tree.signal_all(libc::SIGTERM);
                            tree.signal_all(libc::SIGCONT);
                        }
                        deadline = Some(now + grace);
                    }
                }
                if self.leftovers.wait_children
                    && deadline.is_none()
                    && passed_on
                    && let Some(grace) = self.leftovers.kill_after
                {
                    deadline = Some(now + grace);
                }
                if !killed && deadline.is_some_and(|d| now >= d) {
                    tree.freeze_and_kill();
                    killed = true;
                    // The killed processes end at once; their SIGCHLDs wake the loop.
                    continue;
                }
            }
            let timeout = match deadline {
                Some(d) if !killed => {
                    let left = d.saturating_duration_since(Instant::now());
                    // Rounded up, so that the loop does not wake a moment before the deadline.
                    let ms = left.as_micros().div_ceil(1000);
                    PollTimeout::try_from(i32::try_from(ms).unwrap_or(i32::MAX))
                        .unwrap_or(PollTimeout::MAX)
                }
                _ => PollTimeout::NONE,
            };
            let mut fds = [PollFd::new(self.catcher.fd(), PollFlags::POLLIN)];
            match poll(&mut fds, timeout) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(SpawnError::WaitFailed(e.into())),
            }
            pending = self.catcher.drain();
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        let _ = self.blocked.thread_block();
    }
}

/// Waits for the child `pid`, which has ended or is ending on its own (a spawn that did not
/// `exec`: `CLONE_VFORK` returns as the child exits, a moment before it can be reaped), and
/// reaps it; how it ended is known already.
fn reap(pid: Pid) {
    while nix::sys::wait::waitpid(pid, None) == Err(Errno::EINTR) {}
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
            (
                SpawnError::CannotStart(error(libc::EAGAIN)),
                Outcome::ExecFailed,
            ),
        ];
        for (err, outcome) in table {
            assert_eq!(err.outcome(), outcome, "{err:?}");
        }
        let cr = SpawnError::CannotRun(error(libc::EACCES));
        assert_eq!(cr.io_error().raw_os_error(), Some(libc::EACCES));
    }

    /// Regression (black-box test with `ulimit -n 9`): running out of resources at `exec` is
    /// rtmp's failure (125), not "cannot run the command" (126).
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

    fn caught(signal: i32, code: i32, pid: i32) -> Caught {
        Caught { signal, code, pid }
    }

    #[test]
    fn terminal_signals_are_not_passed_on_sent_ones_are() {
        let me = 100;
        let (kernel, user, queue, tkill) = (
            libc::SI_KERNEL,
            libc::SI_USER,
            libc::SI_QUEUE,
            libc::SI_TKILL,
        );
        for sig in [
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGTERM,
            libc::SIGALRM,
            libc::SIGRTMAX(),
        ] {
            assert_eq!(action_for(&caught(sig, kernel, 0), me, false), Action::None);
            assert_eq!(action_for(&caught(sig, kernel, 0), me, true), Action::None);
            for code in [user, queue, tkill] {
                assert_eq!(action_for(&caught(sig, code, 7), me, false), Action::PassOn);
            }
            // rtmp's own (a SIGPIPE of its write, its raise): never passed on.
            assert_eq!(action_for(&caught(sig, user, me), me, false), Action::None);
        }
    }

    #[test]
    fn a_hangup_from_the_kernel_is_passed_on_only_by_a_session_leader() {
        let hup = caught(libc::SIGHUP, libc::SI_KERNEL, 0);
        assert_eq!(action_for(&hup, 1, false), Action::None);
        assert_eq!(action_for(&hup, 1, true), Action::PassOn);
    }

    #[test]
    fn stop_and_continue_follow_the_table() {
        for sig in STOPPING.iter().copied() {
            assert_eq!(
                action_for(&caught(sig, libc::SI_USER, 7), 1, false),
                Action::PassOnAndStop
            );
            assert_eq!(
                action_for(&caught(sig, libc::SI_KERNEL, 0), 1, false),
                Action::Stop
            );
        }
        for code in [libc::SI_USER, libc::SI_KERNEL] {
            assert_eq!(
                action_for(&caught(libc::SIGCONT, code, 7), 1, false),
                Action::ContinueTree
            );
        }
        assert_eq!(
            action_for(&caught(libc::SIGCHLD, libc::CLD_EXITED, 7), 1, false),
            Action::None
        );
    }

    #[test]
    fn caught_set_is_as_specified() {
        let all = caught_signals();
        for never in [
            libc::SIGKILL,
            libc::SIGSTOP,
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGILL,
            libc::SIGFPE,
            libc::SIGTRAP,
            libc::SIGSYS,
            libc::SIGCHLD,
            libc::SIGWINCH,
            libc::SIGURG,
            32,
            33,
        ] {
            assert!(!all.contains(&never), "{never}");
        }
        for sig in [
            libc::SIGALRM,
            libc::SIGPWR,
            libc::SIGSTKFLT,
            libc::SIGRTMIN(),
            libc::SIGRTMAX(),
            libc::SIGTSTP,
            libc::SIGCONT,
        ] {
            assert!(all.contains(&sig), "{sig}");
        }
        // Every signal 1..=SIGRTMAX is either caught or deliberately left alone.
        assert_eq!(all.len(), libc::SIGRTMAX() as usize - 13);
        assert!(is_terminating(libc::SIGRTMIN()) && !is_terminating(libc::SIGTSTP));
    }
}
