//! The guardian: a watchdog that creates the `--exec` path and removes it when rtmp itself is
//! killed (README, "Nothing left behind: the guardian and `--anonymous`"; SECURITY.md, "What
//! rtmp cannot guarantee"; docs/design/process-tree.md, section 3).
//!
//! * [`Guardian`] (here): rtmp's handle. [`Guardian::create`] forks the guardian **before
//!   anything exists**; the guardian creates the path and answers with its name; dropping the
//!   handle dismisses it and reaps it, within a bound.
//! * [`protocol`]: the bytes on the socket between the two, pure and table-tested.
//! * `serve`: the forked side.
//! * `leftovers`: the run's processes, found by their marker once rtmp is dead, and ended.
//! * [`until`]: `--until PID` (mktemp mode), the same start-up (fork before anything exists,
//!   the guardian creates) for several templates, kept until a pinned process exits.
//!
//! # Start-up order, and why each window is closed
//!
//! 1. rtmp plans the name and opens the template's directory (`O_PATH`, close-on-exec): the
//!    pinned parent. Nothing exists yet; a failure here is a creation failure, GNU's message.
//! 2. `socketpair`, then `fork`. A failure of either (`EMFILE`, `EAGAIN`, `ENOMEM`) is
//!    `cannot start the guardian`, exit 125, and nothing was created. A SIGKILL of rtmp or of
//!    its group up to here leaves nothing: nothing exists.
//! 3. The guardian calls `setsid` **first**. Only the child moves itself: if rtmp also called
//!    `setpgid(pid, pid)` (issue 16's idea for saving the ready round trip) the two calls
//!    would race: whichever ran second fails with `EPERM` (the child's `setsid` once it leads
//!    a process group, rtmp's `setpgid` once the child is in another session). A SIGKILL of
//!    rtmp's group before `setsid` returns kills the guardian too, but then nothing exists
//!    yet, because the guardian creates only after `setsid`.
//! 4. The guardian creates the path itself, relative to the inherited directory descriptor
//!    ([`crate::create::create_at`]: `O_EXCL`, tempfile's names and retries). It is the only
//!    process that knows which attempt succeeded: a name that failed with `EEXIST` was never
//!    its own and is never recorded, so however rtmp is killed during the retries the guardian
//!    can only ever remove the entry it made. From here a SIGKILL of rtmp (alone or with its
//!    group) means end-of-file on the guardian's socket: it finishes the creation, sees no
//!    command was announced, and removes the path at once.
//! 5. It answers with the created name as planned (or the errno of the failed creation). That one reply
//!    replaces the old "ready" round trip: rtmp needs the name before the command can start
//!    anyway, so the exchange costs no wake-up more than before.
//!
//! The plan and the directory descriptor reach the guardian through the `fork` itself (its
//! copy of rtmp's memory and descriptor table), not over the socket as the design note first
//! proposed: a message and `SCM_RIGHTS` would add a wake-up to every run for nothing. Nor does
//! a file's descriptor come back: rtmp never keeps the file open (the command opens it by
//! name), and the pinned parent is the descriptor rtmp opened itself and still holds.
//!
//! Remaining window: a SIGKILL of the *guardian* between its `mkdirat` and its reply (a
//! `kill -9` of its pid, the OOM killer, a cgroup-wide kill) leaves the path, and rtmp exits
//! 125 without knowing its name.
//!
//! # Never blocked for ever on the guardian
//!
//! rtmp's end of the socket is non-blocking. The reply is awaited with `poll` and a bound
//! ([`REPLY_TIMEOUT`]); on timeout rtmp closes its end and exits 125: a stopped guardian that
//! is continued later finishes its creation, reads end-of-file without a command's pid, and
//! removes what it created. The final `D` is a non-blocking send (two or three bytes into an
//! empty socket buffer), and the guardian is reaped within [`REAP_TIMEOUT`] (a pidfd polled,
//! or `waitpid(WNOHANG)` every millisecond without one); a guardian still there after that is
//! stopped: rtmp exits without it, and it reads `D` and exits touching nothing once continued
//! (its new parent reaps it).
//!
//! # The forked process
//!
//! rtmp is single-threaded when it forks the guardian (its signal handler writes to a pipe and starts no thread),
//! so the forked process may run ordinary code (allocate, read files) without the
//! async-signal-safety limits of a multi-threaded `fork`; a re-exec of `/proc/self/exe` would
//! give a fresh image too, but cost a second start-up of rtmp (about 0.2 ms more per `--exec`
//! run, measured in the README) for nothing rtmp needs. The guardian
//!
//! * starts with every signal blocked (rtmp blocks them across the `fork`), so nothing can
//!   end it or run one of rtmp's inherited handlers in it during its start-up; once it has
//!   answered, it ignores every signal whose default action would end or stop it (all but
//!   SIGKILL, SIGSTOP and the synchronous faults), resets the others, and unblocks them all;
//!   a signal that arrived meanwhile is then discarded;
//! * calls `setsid` (above): its own session, so no controlling terminal, and a signal to
//!   rtmp's process group (Ctrl-C, `kill -9 -PGID`) does not reach it;
//! * puts its end of a `socketpair` on stdin, `/dev/null` on stdout and stderr, the pinned
//!   parent on descriptor 3, closes every other descriptor (rtmp's end included), creates the
//!   path, and moves to `/`: it writes nothing anywhere and pins no mount.
//!
//! rtmp keeps the other end, `SOCK_CLOEXEC`, so the command never inherits it. After the
//! reply (see [`protocol`] for the bytes):
//!
//! * `P<pid>\n` is written by the **command's own process**, between `fork` and `exec`
//!   ([`crate::supervise::child`]). That process holds rtmp's end until its `exec`, so the
//!   guardian cannot see end-of-file before it knows the pid, even when rtmp is killed in the
//!   middle of spawning; and rtmp cannot have reaped the command yet, so the pid is the
//!   command's. The guardian opens a pidfd on it as soon as it reads it.
//! * `D` ("done") is written by rtmp after its own cleanup ([`Guardian`]'s `Drop`): the guardian
//!   exits at once, touching nothing. rtmp then reaps it (bounded, above).
//! * `R...` is written by rtmp just before it forks the command ([`Guardian::announce_run`]):
//!   the exact `RTMP_PATH=<path>` entry of the command's environment (the marker every process
//!   of the run inherits), the `--kill-after` grace and `--wait-children`. Being written before
//!   the fork, it always comes before `P`.
//! * End-of-file without `D` means rtmp died. The guardian waits until the command has exited
//!   (a pidfd becomes readable; without pidfd, `kill(pid, 0)` every 100 ms plus a check of the
//!   start time in `/proc/PID/stat`); then it ends every other process of the run, found by the
//!   marker, as rtmp ends leftovers (`leftovers`: SIGTERM and SIGCONT, SIGKILL after the
//!   grace, or only a wait), and only when none is left removes the path with
//!   [`crate::cleanup::remove_entry`] in the pinned parent (symlink-safe, as every cleanup) and
//!   exits. Without a `P` message no command was ever started, so it removes the path at once
//!   (after a look for marked processes, which finds none).
//!
//! Writes on the socket use `MSG_NOSIGNAL`, so a dead guardian never kills rtmp or the command
//! with SIGPIPE. The guardian is not the command's parent, so it cannot `waitpid` it, and it
//! cannot know the command's status: after a `kill -9` of rtmp, `--keep-on-failure` does not
//! apply and the path is always removed.
//!
//! # Limits
//!
//! * The guardian cannot tell a reused pid from the command if the command exits, is reaped by
//!   rtmp, rtmp is killed and the pid space wraps around, all before the guardian reads `P`.
//! * A guardian that dies while the command runs (`kill -9` of its pid) is not replaced.
//! * After rtmp died, a process of the run that cleared or rewrote its `RTMP_PATH` entry, or
//!   that the guardian may not read or signal, is not found (`leftovers`, "Limits").

mod leftovers;
pub mod protocol;
mod serve;
pub mod until;

use std::ffi::OsStr;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, SigmaskHow};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{self, ForkResult, Pid};

use crate::create::Created;
use crate::request::Kind;
use crate::supervise::{DEFAULT_KILL_AFTER, Leftovers};
use crate::sys::{fs, process};
use crate::template::Plan;
use protocol::Reply;

pub use serve::NAME;

/// How long rtmp waits for the guardian's reply. The creation is one `mkdirat`/`openat` (a few
/// more on collisions); only a stopped guardian or a hung file system takes longer.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long rtmp waits for the guardian to exit once dismissed (it exits as soon as it reads
/// `D`; only a stopped guardian is slower).
pub const REAP_TIMEOUT: Duration = Duration::from_secs(1);

/// rtmp's handle on a running guardian that has created the path.
///
/// Invariant: while it exists, the guardian is alive (or has died on its own) and will remove
/// the path if rtmp dies. Dropping it dismisses the guardian (sends `D`) and reaps it within
/// [`REAP_TIMEOUT`], so drop it only after rtmp has finished with the path (removed or
/// deliberately kept).
pub struct Guardian {
    /// rtmp's end of the socketpair; `SOCK_CLOEXEC`, non-blocking.
    socket: UnixStream,
    process: Forked,
    /// Whether dropping the handle sends `D` (cleared by [`Guardian::abandon`]).
    dismiss: bool,
}

/// Why [`Guardian::create`] made nothing for rtmp.
#[derive(Debug)]
pub enum StartError {
    /// No guardian could be started, or it did not answer: `cannot start the guardian: ...`.
    /// rtmp created nothing; whatever a late guardian creates it removes again itself.
    Guardian(io::Error),
    /// The guardian is fine but the creation failed with this OS error (GNU's message).
    Create(io::Error),
}

/// Forks a guardian (the `--exec` one or `--until`'s) with every signal blocked across the
/// fork, so it starts with all of them blocked: none can end it or run one of rtmp's handlers
/// in it before it has replaced them (`serve`). rtmp has its own mask back right after; a
/// signal sent to rtmp in between is only delayed, never lost.
///
/// Must be called while rtmp is single-threaded (see the module doc).
///
/// # Errors
/// The OS error of `pthread_sigmask` or `fork`.
pub(super) fn fork_with_signals_blocked() -> io::Result<ForkResult> {
    let mask = SigSet::all().thread_swap_mask(SigmaskHow::SIG_SETMASK)?;
    let forked = process::fork_single_threaded();
    if !matches!(forked, Ok(ForkResult::Child)) {
        // Cannot fail: the mask is one `thread_swap_mask` just returned.
        let _ = mask.thread_set_mask();
    }
    forked
}

impl Guardian {
    /// Forks the guardian, which leaves rtmp's session and creates `plan` as a `kind` in the
    /// directory open as `dir` (the opened `plan.dir`); returns the handle and what was created.
    /// `while_waiting` runs in rtmp once the guardian is forked, before rtmp waits for its
    /// reply: work that needs neither the path nor the reply overlaps the guardian's (issue 16).
    ///
    /// Must be called while rtmp is single-threaded (see the module doc).
    ///
    /// # Errors
    /// [`StartError`]: the OS error of `socketpair` or `fork`, the errno of the step the
    /// guardian failed at, or an error without errno when the guardian ended or did not answer
    /// within [`REPLY_TIMEOUT`]; or the creation's own OS error.
    pub fn create(
        plan: &Plan,
        kind: Kind,
        dir: BorrowedFd<'_>,
        while_waiting: &mut dyn FnMut(),
    ) -> Result<(Guardian, Created), StartError> {
        let (ours, theirs) = UnixStream::pair().map_err(StartError::Guardian)?;
        // Only rtmp's end: every read and write of rtmp's on it is bounded by construction.
        ours.set_nonblocking(true).map_err(StartError::Guardian)?;
        let theirs = OwnedFd::from(theirs);
        match fork_with_signals_blocked().map_err(StartError::Guardian)? {
            ForkResult::Child => serve::run_guardian(theirs, ours.into(), dir, plan, kind),
            ForkResult::Parent { child } => {
                drop(theirs);
                let process = Forked::new(child);
                while_waiting();
                let failed = match read_reply(&ours, REPLY_TIMEOUT) {
                    Err(e) => StartError::Guardian(e),
                    Ok(reply) => match Reply::parse(&reply) {
                        Reply::Created(path) => {
                            let path = OsStr::from_bytes(path).to_os_string();
                            let created = Created::from_planned(kind, path);
                            let guardian = Guardian {
                                socket: ours,
                                process,
                                dismiss: true,
                            };
                            return Ok((guardian, created));
                        }
                        Reply::CreateFailed(errno) => {
                            StartError::Create(io::Error::from_raw_os_error(errno))
                        }
                        Reply::SetupFailed(errno) => {
                            StartError::Guardian(io::Error::from_raw_os_error(errno))
                        }
                        Reply::Incomplete | Reply::Invalid => StartError::Guardian(
                            io::Error::other("it gave an answer that makes no sense"),
                        ),
                    },
                };
                // No `D`: a guardian that created something after all (a late answer) sees
                // end-of-file without a pid and removes it.
                drop(ours);
                process.reap_within(REAP_TIMEOUT);
                Err(failed)
            }
        }
    }

    /// Leaves the path to the guardian: rtmp closes its end without `D`, so the guardian
    /// removes the path at once (no command was announced) or once the announced command has
    /// exited; it is reaped within [`REAP_TIMEOUT`].
    pub fn abandon(mut self) {
        self.dismiss = false;
    }

    /// Tells the guardian how to find and end the run's processes should rtmp die: `marker` is
    /// the exact environment entry the command is given (`RTMP_PATH=<path>`), `leftovers` what
    /// rtmp does with leftovers (the `leftovers` module). Call once, before the command's `fork`, so the
    /// message comes before the pid. One non-blocking send and no answer: it costs the common
    /// run no wake-up. A failed send means the guardian is gone; nothing is to be done then.
    pub fn announce_run(&self, marker: &[u8], leftovers: Leftovers) {
        let run = protocol::RunMessage {
            grace: leftovers.kill_after.unwrap_or(DEFAULT_KILL_AFTER),
            wait_children: leftovers.wait_children,
            marker,
        };
        if let Some(msg) = protocol::run_message(&run) {
            let _ = fs::send_all(self.socket.as_raw_fd(), &msg);
        }
    }

    /// The descriptor the command's process announces its pid on, between `fork` and `exec`
    /// (`crate::supervise::child::ChildSetup::announce_pid_to`). Valid while `self` lives.
    pub fn announce_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl Drop for Guardian {
    fn drop(&mut self) {
        if self.dismiss {
            // Non-blocking (the socket is): the buffer holds at most the pid line, so this
            // fits; if it did not, the guardian would be gone or stopped, and waiting would not
            // help.
            let _ = fs::send_all(self.socket.as_raw_fd(), protocol::DONE);
        } else {
            // End-of-file now, not when the socket is closed after this function.
            let _ = self.socket.shutdown(Shutdown::Both);
        }
        // The guardian exits as soon as it reads `D`; reaping it here means no guardian (not
        // even a zombie) outlives rtmp, unless it is stopped (module doc).
        self.process.reap_within(REAP_TIMEOUT);
    }
}

/// A forked guardian process, to be reaped.
struct Forked {
    pid: Pid,
    /// Readable once the process has exited; `None` without `pidfd_open` (Linux < 5.3).
    pidfd: Option<OwnedFd>,
}

impl Forked {
    fn new(pid: Pid) -> Forked {
        // Not reaped yet, so the pid is still the guardian's.
        let pidfd = process::pidfd_open(pid).ok();
        Forked { pid, pidfd }
    }

    /// Reaps the process if it exits within `limit`; otherwise leaves it (stopped, most
    /// likely) to its next parent.
    fn reap_within(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            // Wait first, reap after: the guardian has rarely exited yet when this starts, so
            // a `waitpid(WNOHANG)` up front would be a wasted system call on every run.
            let left = deadline.saturating_duration_since(Instant::now());
            match &self.pidfd {
                Some(fd) => {
                    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
                    let _ = poll(&mut fds, poll_timeout(left));
                }
                None => std::thread::sleep(left.min(Duration::from_millis(1))),
            }
            match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => {}
                Err(Errno::EINTR) => continue,
                // Reaped, or not ours to reap any more (ECHILD): either way, done.
                _ => return,
            }
            if Instant::now() >= deadline {
                return;
            }
        }
    }
}

/// `d` for `poll`, rounded up to the next millisecond (so a short rest is not a busy loop).
fn poll_timeout(d: Duration) -> PollTimeout {
    PollTimeout::try_from(d.as_millis().saturating_add(1)).unwrap_or(PollTimeout::MAX)
}

/// Waits at most `limit` for the guardian's one reply; returns its bytes, complete as far as
/// [`Reply::parse`] can tell (it may still be [`Reply::Invalid`]).
///
/// # Errors
/// The OS error of `poll` or `read`, or an error without errno when the guardian ended
/// (end-of-file) before a complete reply or did not answer in time.
fn read_reply(socket: &UnixStream, limit: Duration) -> io::Result<Vec<u8>> {
    let deadline = Instant::now() + limit;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::other(format!(
                "it did not answer within {} s",
                limit.as_secs()
            )));
        }
        let mut fds = [PollFd::new(socket.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, poll_timeout(left)) {
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
        let n = match unistd::read(socket, &mut chunk) {
            Ok(0) => return Err(io::Error::other("it ended before it answered")),
            Ok(n) => n,
            Err(Errno::EINTR | Errno::EAGAIN) => continue,
            Err(e) => return Err(e.into()),
        };
        buf.extend_from_slice(&chunk[..n]);
        if Reply::parse(&buf) != Reply::Incomplete {
            return Ok(buf);
        }
    }
}
