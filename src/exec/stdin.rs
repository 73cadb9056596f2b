//! `--stdin`: the new file holds rtmp's standard input before the command starts (issue 14,
//! section 3; docs/behaviour.md C9).
//!
//! Invariants:
//! * the copy runs after the file exists (and after the guardian started) and before the
//!   command does, so the command never sees a partial file, and a failed copy means the
//!   command never runs;
//! * it is streamed: [`std::io::copy`] from a duplicate of descriptor 0 into the file, which
//!   uses `copy_file_range` (file to file) or `splice` (pipe to file) where the kernel can and
//!   a fixed buffer otherwise, so memory does not grow with the input;
//! * descriptor 0 is read as the caller gave it (a closed one is an error, `Bad file
//!   descriptor`, not an empty input, even when one of rtmp's own descriptors took the number
//!   0: see `inherited_stdin`), and its duplicate shares the offset, so the command's standard
//!   input is what is left (end of file);
//! * a named file is reopened through its pinned parent, without following a symlink, and
//!   must still be a regular file; an anonymous file is written through a duplicate of its
//!   descriptor and rewound to offset 0, which the command's inherited descriptor shares;
//! * on a failure the caller gets one message and removes the path; a signal that arrived
//!   during the copy ends rtmp with that signal after the path is removed, as before any
//!   command started (rtmp's handlers restart an interrupted read, so the signal acts when
//!   the copy ends: at end of input or at the next error).

use std::fmt;
use std::fs::File;
use std::io::{self, Seek, SeekFrom};

use super::target::Target;
use crate::errors::os_error_text;
use crate::exit::Outcome;
use crate::output::warn;
use crate::quote::quote;
use crate::request::Exec;
use crate::supervise::Supervisor;
use crate::sys::fs::{inherited_stdin, open_regular_at};

/// With `--stdin`, fills `target` with standard input; without it, does nothing.
///
/// Output: `None` to go on and start the command; `Some(outcome)` to end rtmp with it, the path
/// already removed: [`Outcome::ExecFailed`] after a failed copy (reported as `rtmp: cannot copy
/// standard input to 'PATH': <OS text>`), [`Outcome::Signaled`] for a signal that arrived
/// meanwhile.
pub(super) fn fill(exec: &Exec, target: &Target, supervisor: &mut Supervisor) -> Option<Outcome> {
    if !exec.modes.stdin() {
        return None;
    }
    let end = match copy_stdin(target) {
        Ok(()) => supervisor.pending_signal().map(Outcome::Signaled),
        Err(e) => {
            warn(&e.to_string());
            Some(Outcome::ExecFailed)
        }
    };
    if end.is_some() {
        if let Target::Named(_, pinned) = target {
            // Nothing ran yet; the removal of a file rtmp just made can only fail if the
            // directory changed under it, and the message above already says what went wrong.
            let _ = pinned.remove();
        }
    }
    end
}

/// A failed copy: `cannot copy standard input to 'PATH': <OS text>`.
#[derive(Debug)]
struct CopyError {
    /// The path as the command gets it, quoted; `an unnamed file` with `--anonymous`.
    to: String,
    source: io::Error,
}

impl fmt::Display for CopyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot copy standard input to {}: {}",
            self.to,
            os_error_text(&self.source)
        )
    }
}

/// Copies all of descriptor 0 into the target; rewinds an anonymous file.
fn copy_stdin(target: &Target) -> Result<(), CopyError> {
    let (to, file) = match target {
        Target::Named(created, pinned) => (
            quote(&created.path),
            open_regular_at(pinned.parent(), pinned.name(), true),
        ),
        Target::Anonymous(fd) => ("an unnamed file".to_owned(), fd.try_clone().map(File::from)),
    };
    let fail = |source| CopyError {
        to: to.clone(),
        source,
    };
    let mut file = file.map_err(fail)?;
    let mut input = inherited_stdin().map_err(fail)?;
    io::copy(&mut input, &mut file).map_err(fail)?;
    if matches!(target, Target::Anonymous(_)) {
        file.seek(SeekFrom::Start(0)).map_err(fail)?;
    }
    Ok(())
}
