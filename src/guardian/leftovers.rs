//! After rtmp died: the guardian finds every process of the run and ends it as rtmp ends
//! leftovers, so that the path is removed only once none is left (README, "Nothing left
//! behind"; docs/design/process-tree.md, section 3).
//!
//! While rtmp lives it is a child subreaper and the run is its tree. Once rtmp is SIGKILLed the
//! tree falls apart: the command and its orphans are re-parented to init (or to a subreaper
//! above rtmp), and nothing links them to the guardian any more. What still links them is the
//! **marker**: the exact environment entry `RTMP_PATH=<path>` rtmp gives the command, which
//! every process of the run inherits (rtmp tells the guardian its bytes in the `R` message,
//! before the command's fork). A process is taken as a **member** when
//!
//! * a pidfd on it is open (**pinned** first, so that the checks below describe this process
//!   and no later one with a reused pid),
//! * it started no earlier than the guardian (every process of the run was forked after it: a
//!   leftover of an earlier run that happened to get the same name is not taken),
//! * its initial environment (`/proc/PID/environ`) holds the marker entry exactly,
//! * and it is still alive after those reads (its pid was not freed meanwhile).
//!
//! Signals go through the pidfd (`kill` by pid right after the checks on a kernel without
//! pidfds, as `crate::supervise` does). The guardian is not the members' parent and reaps
//! nothing: a member counts as gone once it has exited (a zombie's environment is empty).
//!
//! What it does with them is what rtmp does with leftovers: SIGTERM and SIGCONT to each, then
//! after the grace period SIGSTOP (until no new member appears) and SIGKILL; a zero grace skips
//! the SIGTERM; `--wait-children` only waits. The members are found again on every wake-up, so
//! a process forked meanwhile is found too.
//!
//! # Limits (README and SECURITY.md say them too)
//!
//! * A process that clears or rewrites its environment (`env -i`, `env -u RTMP_PATH`, a
//!   nested `rtmp --exec`, which sets its own `RTMP_PATH`) or that replaces its initial
//!   environment block is not found once rtmp is dead.
//! * A process the guardian may not read or signal (setuid, another user) is not found.
//! * A process outside the run that was given the same entry on purpose, after the guardian
//!   started, is taken as a member.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::libc;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::{Pid, getpid};

use super::protocol::RunMessage;
use crate::sys::process;

/// How often the guardian looks for members while some are left: forks between two looks are
/// found at the next one; an exit of a known member wakes it at once (its pidfd).
const RESCAN: Duration = Duration::from_millis(20);

/// How long apart the two empty looks are that end the guardian's wait (`Run::none_after_a_pause`).
const SETTLE: Duration = Duration::from_millis(20);

/// One pinned member.
type Member = process::PinnedProcess;

/// The run's processes, as far as the guardian can see them.
struct Run<'a> {
    marker: &'a [u8],
    me: Pid,
    /// The guardian's own start time: no member started earlier.
    since: u64,
}

impl Run<'_> {
    /// Every live member, pinned (module doc).
    fn members(&self) -> Vec<Member> {
        process::all_pids()
            .into_iter()
            .filter(|&pid| pid != self.me)
            .filter_map(|pid| self.pin(pid))
            .collect()
    }

    fn pin(&self, pid: Pid) -> Option<Member> {
        Member::pin(pid, |stat| {
            stat.start_time >= self.since
                && stat.state != 'Z'
                && process::environ_has(pid, self.marker)
        })
    }

    /// Whether a second look, [`SETTLE`] later, finds no member either. One empty look is not
    /// enough: a member forked by one that exits during the look can be missed (`/proc` is
    /// listed in pid order, and a pid can wrap below the listing's position), and so can one
    /// whose environment is read across its `execve` (the old image's memory is gone: the read
    /// is empty). Neither lasts: the next look sees the child, or the new image (which
    /// inherited the same entry).
    fn none_after_a_pause(&self) -> bool {
        std::thread::sleep(SETTLE);
        self.members().is_empty()
    }

    /// Sends `sig` to every member once, in passes until one finds no member it had not
    /// signalled.
    fn signal_all(&self, sig: libc::c_int) {
        process::signal_each_once(sig, || self.members());
    }
}

/// Ends (or with `wait_children` waits for) every process of the run described by `run`;
/// returns once none is left. The command itself has exited already (the caller waited for
/// it), so whatever is found is a leftover.
pub(super) fn end_all(run: &RunMessage<'_>) {
    let me = getpid();
    let Some(since) = process::proc_stat(me).map(|s| s.start_time) else {
        return;
    };
    let found = Run {
        marker: run.marker,
        me,
        since,
    };
    let mut members = found.members();
    if members.is_empty() && found.none_after_a_pause() {
        return;
    }
    let deadline = (!run.wait_children).then(|| Instant::now() + run.grace);
    if !run.wait_children && !run.grace.is_zero() {
        // CONT after TERM, so that a stopped process can act on the TERM.
        found.signal_all(libc::SIGTERM);
        found.signal_all(libc::SIGCONT);
    }
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            // Again on every wake-up past the deadline: a process that survived (forked
            // between two passes, say) gets its SIGKILL at the next look.
            found.signal_all(libc::SIGSTOP);
            found.signal_all(libc::SIGKILL);
        }
        let left = deadline.map_or(RESCAN, |d| {
            d.saturating_duration_since(Instant::now()).min(RESCAN)
        });
        wait_any(&members, left);
        members = found.members();
        if members.is_empty() && found.none_after_a_pause() {
            return;
        }
    }
}

/// Sleeps until one of `members` exits or `limit` has passed.
fn wait_any(members: &[Member], limit: Duration) {
    let mut fds: Vec<PollFd<'_>> = members
        .iter()
        .filter_map(|m| m.pidfd.as_ref())
        .map(|fd| PollFd::new(fd.as_fd(), PollFlags::POLLIN))
        .collect();
    // Rounded up, so that a short rest is not a busy loop.
    let ms = limit.as_micros().div_ceil(1000).max(1);
    let timeout = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
    if fds.is_empty() {
        std::thread::sleep(limit);
    } else {
        let _ = poll(&mut fds, timeout);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A child with the marker in its environment is found and ended; one without is not.
    #[test]
    fn marked_processes_are_found_and_ended() {
        let marker = format!(
            "RTMP_PATH=/nonexistent/leftovers-test-{}",
            std::process::id()
        );
        let (key, value) = marker.split_once('=').expect("entry");
        let mut marked = Command::new("sleep")
            .arg("30")
            .env(key, value)
            .spawn()
            .expect("spawn");
        let mut other = Command::new("sleep").arg("30").spawn().expect("spawn");
        let run = Run {
            marker: marker.as_bytes(),
            me: getpid(),
            since: 0,
        };
        let pid = |c: &std::process::Child| Pid::from_raw(c.id().try_into().expect("pid"));
        // `spawn` returns when the child's `execve` has released the old memory, before the
        // kernel has set up the new image's environment: a look in that instant reads it empty
        // (the reason `Run` looks twice). So look until the child is found, within a bound.
        let until = Instant::now() + Duration::from_secs(10);
        let mut found: Vec<Pid> = run.members().iter().map(|m| m.pid).collect();
        while found.is_empty() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
            found = run.members().iter().map(|m| m.pid).collect();
        }
        assert_eq!(found, vec![pid(&marked)]);
        // A process started before the guardian is not the run's, marker or not.
        let earlier = Run {
            marker: marker.as_bytes(),
            me: getpid(),
            since: u64::MAX,
        };
        assert!(earlier.members().is_empty());
        // Another entry, or a prefix of the marker, is not the marker.
        let prefix = Run {
            marker: &marker.as_bytes()[..marker.len() - 1],
            me: getpid(),
            since: 0,
        };
        assert!(prefix.members().is_empty());
        // The test process reaps its own children: a SIGKILL ends this one at once.
        run.signal_all(libc::SIGKILL);
        let _ = marked.wait();
        assert!(run.members().is_empty());
        let _ = other.kill();
        let _ = other.wait();
    }
}
