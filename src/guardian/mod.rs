//! The guardian: a watchdog that removes the `--exec` path when rtmp itself is killed
//! (README, "Nothing left behind: the guardian and `--anonymous`"; SECURITY.md, "What rtmp
//! cannot guarantee").
//!
//! * [`Guardian`] (here): rtmp's handle. [`Guardian::start`] forks the guardian right after the
//!   path is created; dropping the handle dismisses it and reaps it.
//! * [`protocol`]: the bytes on the socket between the two, pure and table-tested.
//! * `serve`: the forked side.
//!
//! # Design
//!
//! rtmp is single-threaded when it forks the guardian (signal-hook's iterator starts no thread),
//! so the forked process may run ordinary code (allocate, read files) without the
//! async-signal-safety limits of a multi-threaded `fork`; a re-exec of `/proc/self/exe` would
//! give a fresh image too, but cost a second start-up of rtmp (about 0.2 ms more per `--exec`
//! run, measured in the README) for nothing rtmp needs. Right after `fork` the guardian
//!
//! * calls `setsid`: its own session, so no controlling terminal, and a signal to rtmp's process
//!   group (Ctrl-C, `kill -9 -PGID`) does not reach it; only then does it tell rtmp it is
//!   ready, so the command never runs before the guardian is out of rtmp's group;
//! * ignores SIGINT, SIGHUP, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2 and SIGPIPE and resets SIGCHLD,
//!   so none of rtmp's inherited signal handlers can run in it;
//! * puts its end of a `socketpair` on stdin, `/dev/null` on stdout and stderr, closes every
//!   other descriptor (rtmp's end included), and moves to `/`: it writes nothing anywhere and
//!   pins no mount.
//!
//! rtmp keeps the other end, `SOCK_CLOEXEC`, so the command never inherits it. The protocol:
//!
//! * `P<pid>\n` is written by the **command's own process**, between `fork` and `exec`
//!   ([`crate::supervise::child`]). That process holds rtmp's end until its `exec`, so the
//!   guardian cannot see end-of-file before it knows the pid, even when rtmp is killed in the
//!   middle of spawning; and rtmp cannot have reaped the command yet, so the pid is the
//!   command's. The guardian opens a pidfd on it as soon as it reads it.
//! * `D` ("done") is written by rtmp after its own cleanup ([`Guardian`]'s `Drop`): the guardian
//!   exits at once, touching nothing. rtmp then reaps it, so no guardian outlives a normal run.
//! * End-of-file without `D` means rtmp died. The guardian waits until the command has exited
//!   (a pidfd becomes readable; without pidfd, `kill(pid, 0)` every 100 ms plus a check of the
//!   start time in `/proc/PID/stat`), then removes the path with
//!   [`crate::cleanup::remove_entry`] in the pinned parent (symlink-safe, as every cleanup) and
//!   exits. Without a `P` message no command was ever started, so it removes the path at once.
//!
//! Writes on the socket use `MSG_NOSIGNAL`, so a dead guardian never kills rtmp or the command
//! with SIGPIPE. The guardian is not the command's parent, so it cannot `waitpid` it, and it
//! cannot know the command's status: after a `kill -9` of rtmp, `--keep-on-failure` does not
//! apply and the path is always removed.
//!
//! # Limits
//!
//! * A `kill -9` that hits rtmp in the microseconds between the creation of the path and the
//!   `fork` of the guardian leaves the path behind.
//! * The guardian cannot tell a reused pid from the command if the command exits, is reaped by
//!   rtmp, rtmp is killed and the pid space wraps around, all before the guardian reads `P`.

pub mod protocol;
mod serve;

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

use nix::errno::Errno;
use nix::sys::wait::waitpid;
use nix::unistd::{self, ForkResult, Pid};

use crate::cleanup::Pinned;
use crate::sys::{fs, process};
use protocol::ReadyReply;

pub use serve::NAME;

/// rtmp's handle on a running guardian.
///
/// Invariant: while it exists, the guardian is alive (or has died on its own) and will remove
/// the path if rtmp dies. Dropping it dismisses the guardian (sends `D`) and reaps it, so drop
/// it only after rtmp has finished with the path (removed or deliberately kept).
pub struct Guardian {
    /// rtmp's end of the socketpair; `SOCK_CLOEXEC`.
    socket: OwnedFd,
    pid: Pid,
}

impl Guardian {
    /// Starts a guardian for the `pinned` path.
    ///
    /// Returns once the guardian is in its own session (it says so on the socket).
    /// Must be called while rtmp is single-threaded (see the module doc).
    ///
    /// # Errors
    /// The OS error from `socketpair` or `fork`, the errno of the step the guardian failed at
    /// (it says which), or an error without errno when the guardian ended before it was ready.
    pub fn start(pinned: &Pinned) -> io::Result<Guardian> {
        let (ours, theirs) = UnixStream::pair()?;
        let (ours, theirs) = (OwnedFd::from(ours), OwnedFd::from(theirs));
        match process::fork_single_threaded()? {
            ForkResult::Child => serve::run_guardian(theirs, ours, pinned),
            ForkResult::Parent { child } => {
                drop(theirs);
                let guardian = Guardian {
                    socket: ours,
                    pid: child,
                };
                // On error, dropping `guardian` reaps the process that gave up.
                read_ready(&guardian.socket)?;
                Ok(guardian)
            }
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
        let _ = fs::send_all(self.socket.as_raw_fd(), protocol::DONE);
        // The guardian exits as soon as it reads `D`; reaping it here means no guardian (not
        // even a zombie) outlives rtmp. If it already died, this just reaps it.
        while waitpid(self.pid, None) == Err(Errno::EINTR) {}
    }
}

/// Waits for the guardian's first word: `R` (ready), or `E` and the errno of what failed.
fn read_ready(socket: &OwnedFd) -> io::Result<()> {
    let mut buf = [0u8; 5];
    let mut got = 0;
    loop {
        let n = match unistd::read(socket, &mut buf[got..]) {
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        };
        got += n;
        match ReadyReply::parse(&buf[..got]) {
            ReadyReply::Ready => return Ok(()),
            ReadyReply::Failed(errno) => return Err(io::Error::from_raw_os_error(errno)),
            ReadyReply::Incomplete if n == 0 => {
                return Err(io::Error::other("the guardian ended before it was ready"));
            }
            ReadyReply::Incomplete => {}
        }
    }
}
