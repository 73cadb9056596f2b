//! `--exec` mode: create the path, run the command with it, remove the path, end as the
//! command ended (README, "Exit status" and "Signals in `--exec` mode, and why not ctrlc").
//!
//! * here: the life cycle, [`run_exec`];
//! * `target`: the path (or unnamed file) the command gets;
//! * `command`: `{}` substitution and the command's spec;
//! * `stdin`: `--stdin`, the file filled before the command starts (issue 14);
//! * `replace`: `--replace DEST`, the path moved over DEST when the command succeeded.
//!
//! Order matters for "nothing left behind": signal handling is installed before the path
//! exists, the guardian is started before the path exists and creates it (no guardian, no
//! path: 125), a signal that arrives before the child starts removes the path and ends rtmp
//! with that signal, and every way out after creation goes through `finish`, which removes
//! the path (unless `--keep`, `RTMP_KEEP` or `--keep-on-failure` applies). The one exception is
//! a failed `waitpid`: the child may still run, so the path is kept and named. rtmp writes
//! nothing to stdout in this mode.
//!
//! Messages name paths and commands quoted as GNU quotes them (`crate::quote`, as mktemp mode
//! and GNU `env` do): one line, every byte shown or escaped, never a lossy conversion; and
//! they say only what is true (`kept 'PATH'` only when something is there to keep).

mod command;
mod replace;
mod stdin;
mod target;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::path::Path;

use crate::errors::os_error_text;
use crate::exit::Outcome;
use crate::output::warn;
use crate::quote::quote;
use crate::request::{Exec, Request};
use crate::supervise::{ChildEnd, Leftovers, SpawnError, Supervisor};
use crate::sys::fs::entry_exists;
use command::child_spec;
use target::{Target, make_target};

/// Runs `--exec` mode: `request`'s shared part (suffix, location, `-q`) and its `exec` part.
///
/// Output: [`Outcome::ChildExited`] with the child's status, [`Outcome::Signaled`] if it died
/// of a signal (or rtmp got one before it started), [`Outcome::ExecFailed`],
/// [`Outcome::CannotRun`] or [`Outcome::NotFound`] for rtmp's own failures. Every failure is
/// reported on stderr as `rtmp: ...`.
pub fn run_exec(request: &Request, exec: &Exec, env_tmpdir: Option<&OsStr>) -> Outcome {
    let mut supervisor = match Supervisor::install() {
        Ok(s) => s,
        Err(e) => {
            warn(&format!("cannot handle signals: {}", os_error_text(&e)));
            return Outcome::ExecFailed;
        }
    };
    supervisor.set_leftovers(Leftovers {
        kill_after: exec.kill_after,
        wait_children: exec.wait_children,
    });
    // Issue 14: a --replace DEST that is a symlink or of the wrong kind creates nothing.
    if let Some(end) = replace::refuse_dest(exec) {
        return end;
    }
    // `guardian` is dropped (dismissed and reaped) only when this function returns, after
    // `finish`: until then a `kill -9` of rtmp still gets the path removed once the child is
    // gone.
    // rtmp's children are listed while the guardian creates the path (the command's tree will
    // be the others): a /proc read that would otherwise come before the spawn. Not with
    // --stdin: the copy comes in between and lasts as long as the input does, and a process
    // re-parented to rtmp (a subreaper) meanwhile, orphaned by a job the caller's shell left,
    // is not the command's either; `spawn_and_wait` lists them itself after the copy.
    let stdin = exec.modes.stdin();
    let noted = &mut || {
        if !stdin {
            supervisor.note_children();
        }
    };
    let (target, guardian) = match make_target(request, exec, env_tmpdir, noted) {
        Ok(made) => made,
        Err(e) => {
            if e.is_reported(request.quiet) {
                warn(&e.to_string());
            }
            return Outcome::ExecFailed;
        }
    };
    if let Some(sig) = supervisor.pending_signal() {
        return not_started(&target, sig);
    }
    // Issue 14: --stdin fills the file now, before the command exists (the guardian, started
    // before the creation, already covers a kill -9 during the copy).
    if let Some(end) = stdin::fill(exec, &target, &mut supervisor) {
        return end;
    }
    let spec = child_spec(exec, &target, guardian.as_ref());
    // Before the fork, so the guardian has it before the pid: rtmp's leftovers rule, for the
    // guardian to apply if rtmp dies.
    if let Some(guardian) = &guardian {
        guardian.announce_run(
            &spec.marker,
            Leftovers {
                kill_after: exec.kill_after,
                wait_children: exec.wait_children,
            },
        );
    }
    // For the message if it cannot run: the name after `{}` was replaced, as it was tried.
    let program = spec.command.get_program().to_owned();
    let end = match supervisor.spawn_and_wait(spec.command, spec.setup) {
        Ok(end) => end,
        Err(SpawnError::WaitFailed(e)) => {
            // The child's state is unknown and it may still run: never remove a path under a
            // running child. Say where the path is instead.
            let kept = match &target {
                Target::Named(created, _) => format!("; kept {}", quote(&created.path)),
                Target::Anonymous(_) => String::new(),
            };
            warn(&format!(
                "error waiting for command: {}{kept}",
                os_error_text(&e)
            ));
            return Outcome::ExecFailed;
        }
        Err(e) => {
            // rtmp's own spawn or `--cd` failed: say so, not as if the command had failed.
            let what = match (&e, &target) {
                (SpawnError::CannotStart(_), _) => format!("cannot start {}", quote(&program)),
                (SpawnError::CannotChdir(_), Target::Named(created, _)) => {
                    format!("cannot change directory to {}", quote(&created.path))
                }
                _ => quote(&program),
            };
            warn(&format!("{what}: {}", os_error_text(e.io_error())));
            // The command did not run: that is a failure, so `--keep-on-failure` keeps the
            // path as it does for a command that ran and failed.
            if let Err(e) = finish(&target, exec, true) {
                warn(&e.to_string());
            }
            return e.outcome();
        }
    };
    let (outcome, child_failed) = match end {
        ChildEnd::Exited(code) => (
            Outcome::ChildExited(u8::try_from(code).unwrap_or(u8::MAX)),
            code != 0,
        ),
        ChildEnd::Signaled(sig) => (Outcome::Signaled(sig), true),
        ChildEnd::NotStarted(sig) => return not_started(&target, sig),
    };
    // Issue 14: --replace moves the path over DEST now, if the command succeeded.
    let (outcome, child_failed) = replace::commit(exec, &target, outcome, child_failed);
    match finish(&target, exec, child_failed) {
        Ok(()) => outcome,
        Err(e) => {
            warn(&e.to_string());
            // A failed cleanup only changes the status of a child that succeeded (README,
            // "Exit status": 125 when rtmp could not remove the path after success).
            if child_failed {
                outcome
            } else {
                Outcome::ExecFailed
            }
        }
    }
}

/// A signal arrived before the command started, so it never ran: undo the creation (whatever
/// `--keep-on-failure` says: nothing ran) and end the way the signal asked.
fn not_started(target: &Target, sig: i32) -> Outcome {
    if let Target::Named(_, pinned) = target {
        let _ = pinned.remove();
    }
    Outcome::Signaled(sig)
}

/// The path could not be removed: `failed to remove 'PATH/ENTRY': <OS text>`, where
/// `PATH/ENTRY` is the entry removal stopped at, as the user knows it (the created path as
/// other messages print it, joined with the entry's path below it; `PATH` alone when the path
/// itself could not be removed).
#[derive(Debug)]
struct RemoveError {
    path: OsString,
    source: io::Error,
}

impl fmt::Display for RemoveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "failed to remove {}: {}",
            quote(&self.path),
            os_error_text(&self.source)
        )
    }
}

impl std::error::Error for RemoveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Removes the path, or keeps it when `exec.keep` says so for this end (`child_failed`) and
/// says `kept 'PATH'` on stderr, only if something is still at the name (the command may have
/// removed it). An anonymous file has nothing to remove or keep.
fn finish(target: &Target, exec: &Exec, child_failed: bool) -> Result<(), RemoveError> {
    let Target::Named(created, pinned) = target else {
        return Ok(());
    };
    if exec.keep.keeps(child_failed) {
        // An error other than "not there" (EACCES on the parent, say) still says "kept": the
        // name was not removed, so whatever is there stays.
        if entry_exists(pinned.parent(), pinned.name()).unwrap_or(true) {
            warn(&format!("kept {}", quote(&created.path)));
        }
        return Ok(());
    }
    pinned.remove().map_err(|e| RemoveError {
        path: e.path_in(Path::new(&created.path)).into_os_string(),
        source: e.into_error(),
    })
}
