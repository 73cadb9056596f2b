//! The command's process tree: every live descendant of rtmp but the guardian, found, pinned and
//! signalled without ever reaching a process that merely reuses a pid
//! (docs/design/process-tree.md, section 2).
//!
//! rtmp is a child subreaper while it supervises, so every process the command orphans is
//! re-parented to rtmp and the tree stays connected: walking `/proc/P/task/*/children` down from
//! rtmp finds all of it. Each process found is **pinned, then checked**: a pidfd is opened on
//! it, then its `/proc/PID/stat` is read, then the pidfd is asked whether the process still
//! lives (and so is its parent's). A live process's pid is not reused, so the stat read
//! described that very process, and it is a member if its parent is rtmp or a member already
//! pinned. Signals go through the pidfd. A pid recycled between the listing and the pin fails
//! the parent check and is never signalled.
//!
//! Without pidfds (Linux < 5.3) a member is signalled with `kill` right after the stat check:
//! the pid could be reused in those microseconds (README, "Limits").
//!
//! Invariant: nothing here waits or reaps; the supervisor owns all waiting.

use nix::libc;
use nix::unistd::Pid;

use crate::sys::process;

/// One pinned member.
type Member = process::PinnedProcess;

/// rtmp's view of its descendants.
#[derive(Debug)]
pub(super) struct Tree {
    me: Pid,
    /// rtmp's children that are not the command's (the guardian), until they are reaped.
    excluded: Vec<Pid>,
}

impl Tree {
    /// A tree rooted at this process. Its children at this moment (the guardian, forked before
    /// the command, and any a shell that `exec`ed into rtmp left) are not part of it.
    ///
    /// # Errors
    /// The OS error of reading rtmp's children (`EMFILE` under a low descriptor limit): the
    /// command must not start when rtmp cannot tell its tree from the guardian, or it would
    /// take the guardian for a leftover it cannot end and wait for it forever.
    pub(super) fn new() -> std::io::Result<Tree> {
        let me = nix::unistd::getpid();
        let excluded = match process::children_of_checked(me)? {
            Some(children) => children,
            None => scan_children(me),
        };
        Ok(Tree { me, excluded })
    }

    /// Called for every reaped child, so that an excluded pid is forgotten once it is free for
    /// reuse by a member.
    pub(super) fn reaped(&mut self, pid: Pid) {
        self.excluded.retain(|&p| p != pid);
    }

    /// rtmp's own children that belong to the tree (zombies included: they are reaped next).
    fn top(&self) -> Vec<Pid> {
        let mut top = match process::children_of(self.me) {
            Some(children) => children,
            // No `children` files (CONFIG_PROC_CHILDREN off): scan every process's parent.
            None => scan_children(self.me),
        };
        top.retain(|p| !self.excluded.contains(p));
        top
    }

    /// Whether no process of the tree is left (one `children` read: the common end of a run).
    pub(super) fn is_empty(&self) -> bool {
        self.top().is_empty()
    }

    /// Every live member, pinned, parents before children.
    fn members(&self) -> Vec<Member> {
        let mut out: Vec<Member> = Vec::new();
        // (parent index into `out`, or None for rtmp; the parent's pid; its children).
        let mut queue: Vec<(Option<usize>, Pid, Vec<Pid>)> = vec![(None, self.me, self.top())];
        while let Some((parent, parent_pid, children)) = queue.pop() {
            for pid in children {
                let Some(member) = pin(pid, parent_pid) else {
                    continue;
                };
                // The child's stat named `parent_pid` as its parent; that is our member only
                // if the member still lives now, after the read.
                if let Some(i) = parent {
                    if !out[i].alive() {
                        continue;
                    }
                }
                let grandchildren = process::children_of(pid).unwrap_or_else(|| scan_children(pid));
                out.push(member);
                queue.push((Some(out.len() - 1), pid, grandchildren));
            }
        }
        out
    }

    /// Sends `sig` to every member once, in passes until a pass finds no member it had not
    /// signalled (processes forked meanwhile). Returns how many were signalled.
    pub(super) fn signal_all(&self, sig: libc::c_int) -> usize {
        process::signal_each_once(sig, || self.members())
    }

    /// Sends SIGCONT to every member that is stopped (state `T`).
    pub(super) fn continue_stopped(&self) {
        for m in self.members() {
            if m.state == 'T' {
                m.send(libc::SIGCONT);
            }
        }
    }

    /// Stops every member (SIGSTOP, in passes until no new process appears, so that nothing
    /// can fork any more), then kills each one with SIGKILL. The caller reaps.
    pub(super) fn freeze_and_kill(&self) {
        self.signal_all(libc::SIGSTOP);
        self.signal_all(libc::SIGKILL);
    }
}

/// Pins `pid` and checks that its parent is `parent` (see the module doc).
fn pin(pid: Pid, parent: Pid) -> Option<Member> {
    Member::pin(pid, |stat| stat.ppid == parent)
}

/// The children of `parent` found by one scan of `/proc/*/stat`: the fallback for kernels
/// without `/proc/PID/task/TID/children`.
fn scan_children(parent: Pid) -> Vec<Pid> {
    process::all_pids()
        .into_iter()
        .filter(|&p| process::proc_stat(p).is_some_and(|s| s.ppid == parent))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Child, Command};

    fn pid_of(child: &Child) -> Pid {
        Pid::from_raw(libc::pid_t::try_from(child.id()).expect("pid"))
    }

    /// A child's own tree: `sh` with a `sleep` of its own. The test process has other children
    /// (other tests run in threads), so a tree rooted here is not used: the members below the
    /// shell are found through the same walk.
    #[test]
    fn a_forked_tree_is_found_and_killed_whole() {
        let mut sh = Command::new("sh")
            .args(["-c", "sleep 30 & sleep 31; wait"])
            .spawn()
            .expect("spawn");
        let root = pid_of(&sh);
        let sleeps = loop {
            let kids = process::children_of(root).unwrap_or_else(|| scan_children(root));
            if kids.len() == 2 {
                break kids;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        // A tree rooted at the shell, as rtmp's is rooted at rtmp.
        let tree = Tree {
            me: root,
            excluded: Vec::new(),
        };
        let members = tree.members();
        let mut found: Vec<Pid> = members.iter().map(|m| m.pid).collect();
        found.sort_unstable();
        let mut want = sleeps.clone();
        want.sort_unstable();
        assert_eq!(found, want);
        assert_eq!(tree.signal_all(libc::SIGSTOP), 2);
        tree.freeze_and_kill();
        // The shell's `wait` returns once both sleeps are dead.
        let status = sh.wait().expect("wait");
        assert!(status.success() || status.code().is_some(), "{status}");
        assert!(tree.is_empty());
    }

    /// A pid whose stat names another parent (a recycled pid, as far as the walk can tell) is
    /// never pinned as a member.
    #[test]
    fn a_process_with_another_parent_is_not_a_member() {
        let mut child = Command::new("sleep").arg("30").spawn().expect("spawn");
        let pid = pid_of(&child);
        assert!(pin(pid, nix::unistd::getpid()).is_some());
        // Claimed as a child of pid 1: its stat disagrees, so it is not taken.
        assert!(pin(pid, Pid::from_raw(1)).is_none());
        let _ = child.kill();
        let _ = child.wait();
        assert!(pin(pid, nix::unistd::getpid()).is_none());
    }
}
