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
//! exists, a signal that arrives before the child starts removes the path and ends rtmp with
//! that signal, the guardian is started before the command, and every way out after creation
//! goes through `finish`, which removes the path (unless `--keep-on-failure` applies). The one
//! exception is a failed `waitpid`: the child may still run, so the path is kept and named.
//! rtmp writes nothing to stdout in this mode.

mod command;
mod replace;
mod stdin;
mod target;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;

use crate::errors::os_error_text;
use crate::exit::Outcome;
use crate::guardian::Guardian;
use crate::output::warn;
use crate::request::{Exec, Request};
use crate::supervise::{ChildEnd, SpawnError, Supervisor};
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
    // Issue 14: a --replace DEST that is a symlink or of the wrong kind creates nothing.
    if let Some(end) = replace::refuse_dest(exec) {
        return end;
    }
    let target = match make_target(request, exec, env_tmpdir) {
        Ok(t) => t,
        Err(e) => {
            if e.is_reported(request.quiet) {
                warn(&e.to_string());
            }
            return Outcome::ExecFailed;
        }
    };
    if let Some(sig) = supervisor.pending_signal() {
        // Nothing ran yet: undo the creation and end the way the signal asked.
        if let Target::Named(_, pinned) = &target {
            let _ = pinned.remove();
        }
        return Outcome::Signaled(sig);
    }
    // Dropped (dismissed and reaped) only when this function returns, after `finish`: from
    // here on a `kill -9` of rtmp still gets the path removed once the child is gone.
    let guardian = start_guardian(&target);
    // Issue 14: --stdin fills the file now, before the command exists.
    if let Some(end) = stdin::fill(exec, &target, &mut supervisor) {
        return end;
    }
    let spec = child_spec(exec, &target, guardian.as_ref());
    // For the message if it cannot run: the name after `{}` was replaced, as it was tried.
    let program = spec.command.get_program().to_owned();
    let end = match supervisor.spawn_and_wait(spec.command, spec.setup) {
        Ok(end) => end,
        Err(SpawnError::WaitFailed(e)) => {
            // The child's state is unknown and it may still run: never remove a path under a
            // running child. Say where the path is instead.
            let kept = match &target {
                Target::Named(created, _) => {
                    format!("; kept {}", created.path.to_string_lossy())
                }
                Target::Anonymous(_) => String::new(),
            };
            warn(&format!(
                "error waiting for command: {}{kept}",
                os_error_text(&e)
            ));
            return Outcome::ExecFailed;
        }
        Err(e) => {
            warn(&format!(
                "{}: {}",
                program.to_string_lossy(),
                os_error_text(e.io_error())
            ));
            if let Err(e) = finish(&target, exec, false) {
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

/// Starts the guardian for a named path. An anonymous file has no name to remove, so it needs
/// none; a guardian that cannot start is reported, and rtmp runs without it (it only matters
/// if rtmp is killed).
fn start_guardian(target: &Target) -> Option<Guardian> {
    let Target::Named(_, pinned) = target else {
        return None;
    };
    Guardian::start(pinned)
        .map_err(|e| warn(&format!("cannot start the guardian: {}", os_error_text(&e))))
        .ok()
}

/// The path could not be removed: `failed to remove PATH: <OS text>`.
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
            self.path.to_string_lossy(),
            os_error_text(&self.source)
        )
    }
}

impl std::error::Error for RemoveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Removes the path, or keeps it with `--keep-on-failure` when the child failed (and says so
/// on stderr). An anonymous file has nothing to remove or keep.
fn finish(target: &Target, exec: &Exec, child_failed: bool) -> Result<(), RemoveError> {
    let Target::Named(created, pinned) = target else {
        return Ok(());
    };
    if child_failed && exec.keep_on_failure {
        warn(&format!("kept {}", created.path.to_string_lossy()));
        return Ok(());
    }
    pinned.remove().map_err(|source| RemoveError {
        path: created.path.clone(),
        source,
    })
}
