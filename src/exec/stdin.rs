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
//! * on a failure [`fill`] prints one message and removes the path; a signal rtmp forwards
//!   that arrives during the copy stops it at once, even while the writer of a pipe stalls
//!   (rtmp waits for input in `ppoll`, never in a read that its handlers would restart), and
//!   ends rtmp with that signal after the path is removed, as before any command started.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::fd::AsFd;
use std::os::unix::fs::FileTypeExt;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::signal::SigSet;

use super::target::Target;
use crate::errors::os_error_text;
use crate::exit::Outcome;
use crate::output::warn;
use crate::quote::quote;
use crate::request::Exec;
use crate::supervise::{Supervisor, caught_signals};
use crate::sys::fs::{bytes_ready, inherited_stdin, open_regular_at};
use crate::sys::signal;

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
    let end = match copy_stdin(target, supervisor) {
        Ok(None) => supervisor.pending_signal().map(Outcome::Signaled),
        Ok(Some(sig)) => Some(Outcome::Signaled(sig)),
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
///
/// Output: `None` when everything was copied, `Some(sig)` when signal `sig` stopped the copy.
fn copy_stdin(target: &Target, supervisor: &mut Supervisor) -> Result<Option<i32>, CopyError> {
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
    let input = inherited_stdin().map_err(fail)?;
    if let Some(sig) = copy_until_end(&input, &mut file, supervisor).map_err(fail)? {
        return Ok(Some(sig));
    }
    if matches!(target, Target::Anonymous(_)) {
        file.seek(SeekFrom::Start(0)).map_err(fail)?;
    }
    Ok(None)
}

/// Copies `input` into `file` up to the end of input, unless one of the signals rtmp forwards
/// arrives first.
///
/// A regular file or a block device never blocks for long: one [`io::copy`]
/// (`copy_file_range`). A pipe, a terminal or a socket may stall forever, and rtmp's signals
/// stay blocked until the command starts, so a blocked read would not notice one: there rtmp
/// waits in `ppoll`, the only place where those signals are unblocked (so one that arrives between the check and
/// the wait wakes it at once), then copies what `FIONREAD` says is there (`splice`), which
/// never blocks. Where `FIONREAD` does not answer, the rest is copied in one go.
///
/// Output: `None` at the end of input, `Some(sig)` for a signal. Errors: the OS error of a
/// read, a write, `ppoll` or the signal mask.
fn copy_until_end(
    input: &File,
    file: &mut File,
    supervisor: &mut Supervisor,
) -> io::Result<Option<i32>> {
    let kind = input.metadata()?.file_type();
    if kind.is_file() || kind.is_block_device() {
        io::copy(&mut &*input, file)?;
        return Ok(None);
    }
    // The supervisor keeps its signals blocked until the command starts (they wait, pending,
    // for its checks); the wait below unblocks them for the `ppoll` alone, so that one arriving
    // while the input stalls runs the handler and ends the wait at once.
    let mut wait_mask = SigSet::thread_get_mask()?;
    for sig in caught_signals() {
        signal::remove(&mut wait_mask, sig)?;
    }
    copy_between_signals(input, file, supervisor, wait_mask)
}

/// The loop of [`copy_until_end`] for an input that may stall; `wait_mask` is the signal mask
/// to wait with (rtmp's own, without the block added around the loop).
fn copy_between_signals(
    input: &File,
    file: &mut File,
    supervisor: &mut Supervisor,
    wait_mask: SigSet,
) -> io::Result<Option<i32>> {
    /// A read when `FIONREAD` says 0 (the end of input, or a terminal's end-of-file).
    const AT_END: u64 = 64 * 1024;
    loop {
        if let Some(sig) = supervisor.pending_signal() {
            return Ok(Some(sig));
        }
        let mut fds = [PollFd::new(input.as_fd(), PollFlags::POLLIN)];
        match ppoll(&mut fds, None, Some(wait_mask)) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
        let limit = match bytes_ready(input.as_fd())? {
            None => {
                io::copy(&mut &*input, file)?;
                return Ok(None);
            }
            Some(0) => AT_END,
            Some(n) => n,
        };
        if io::copy(&mut input.take(limit), file)? == 0 {
            return Ok(None);
        }
    }
}
