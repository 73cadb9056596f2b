//! What `--exec` makes for the command: a named path pinned to its parent directory and
//! created by the guardian, or an unnamed file (`--anonymous`).
//!
//! Invariant: a named path exists only together with a guardian that created it and removes it
//! if rtmp dies (docs/design/process-tree.md, section 3): the directory is opened first, the
//! guardian forked next, and the guardian creates the name relative to that descriptor, which
//! stays rtmp's pinned parent too, so rtmp and the guardian remove the same entry of the same
//! directory inode whatever the child does to the directories above it. No guardian, no path:
//! if it cannot start, nothing is created. An anonymous file has no name to remove, so it has
//! no guardian.

use std::ffi::{CString, OsStr};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use crate::cleanup::Pinned;
use crate::create::{CreateError, Created, create_anonymous};
use crate::errors::os_error_text;
use crate::guardian::{Guardian, StartError};
use crate::request::{Exec, Request};
use crate::sys::fs::open_anchor;
use crate::template::TemplateError;

/// What `--exec` made for the child.
pub(super) enum Target {
    /// A named file or directory, removed afterwards through its pinned parent.
    Named(Created, Pinned),
    /// `--anonymous`: an unnamed file, open for the child as `/dev/fd/N`; nothing to remove.
    Anonymous(OwnedFd),
}

/// Why no target could be made.
#[derive(Debug)]
pub(super) enum TargetError {
    /// The template is invalid: reported even with `-q`, as in mktemp mode.
    Template(TemplateError),
    /// Creation (or opening its directory) failed: reported unless `-q`.
    Create(CreateError),
    /// The guardian could not be started: `cannot start the guardian: ...`, reported even
    /// with `-q` (it is rtmp's failure, not the creation's).
    Guardian(io::Error),
}

impl TargetError {
    /// Whether the error is printed; `-q` (`quiet`) hides creation failures only.
    pub(super) fn is_reported(&self, quiet: bool) -> bool {
        match self {
            TargetError::Template(_) | TargetError::Guardian(_) => true,
            TargetError::Create(_) => !quiet,
        }
    }
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::Template(e) => e.fmt(f),
            TargetError::Create(e) => e.fmt(f),
            TargetError::Guardian(e) => {
                write!(f, "cannot start the guardian: {}", os_error_text(e))
            }
        }
    }
}

impl std::error::Error for TargetError {}

/// Plans the one template and makes it: a named path, created by a fresh guardian (returned
/// too: drop it only after the path is removed or kept), or an anonymous file.
/// `while_guardian_creates` runs while the guardian creates the path (not for an anonymous
/// file): see [`Guardian::create`].
pub(super) fn make_target(
    request: &Request,
    exec: &Exec,
    env_tmpdir: Option<&OsStr>,
    while_guardian_creates: &mut dyn FnMut(),
) -> Result<(Target, Option<Guardian>), TargetError> {
    let plan = request
        .plan(exec.template_to_plan().as_deref(), env_tmpdir)
        .map_err(TargetError::Template)?;
    let kind = exec.kind();
    if exec.anonymous() {
        let file = create_anonymous(&plan).map_err(TargetError::Create)?;
        return Ok((Target::Anonymous(file), None));
    }
    let fail = |e| TargetError::Create(CreateError::new(kind, &plan, e));
    // Followed as a `mkdir` of the whole path would follow it (the directories above the
    // path are trusted); its errors (ENOENT, ENOTDIR, EACCES, ELOOP...) are the creation's.
    let parent = open_anchor(plan.dir_path()).map_err(fail)?;
    let (guardian, created) = Guardian::create(&plan, kind, parent.as_fd(), while_guardian_creates)
        .map_err(|e| match e {
            StartError::Guardian(e) => TargetError::Guardian(e),
            StartError::Create(e) => fail(e),
        })?;
    let Some(name) = created
        .absolute
        .file_name()
        .and_then(|n| CString::new(n.as_bytes()).ok())
    else {
        // Cannot happen for a name tempfile made. rtmp could not remove it, so the guardian
        // does (it sees end-of-file without a command), and the run fails.
        guardian.abandon();
        return Err(fail(io::Error::from_raw_os_error(nix::libc::EINVAL)));
    };
    Ok((
        Target::Named(created, Pinned::in_dir(parent, name)),
        Some(guardian),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Kind;
    use crate::template::{Location, plan};
    use std::ffi::OsStr;
    use std::io;

    #[test]
    fn quiet_hides_creation_failures_only() {
        let planned = plan(Some(OsStr::new("aXXX")), None, &Location::default()).expect("plan");
        let create = CreateError::new(Kind::File, &planned, io::Error::from_raw_os_error(13));
        let template = TemplateError::TooFewXs("aX".into());
        // (error, reported without -q, reported with -q)
        let cases = [
            (TargetError::Template(template), true, true),
            (TargetError::Create(create), true, false),
        ];
        for (err, loud, quiet) in cases {
            assert_eq!(err.is_reported(false), loud, "{err:?}");
            assert_eq!(err.is_reported(true), quiet, "{err:?}");
        }
    }
}
