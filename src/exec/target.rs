//! What `--exec` makes for the command: a named path pinned to its parent directory, or an
//! unnamed file (`--anonymous`).
//!
//! Invariant: a named path is pinned before any child process exists, so the removal happens
//! in the directory it was created in whatever the child does to the directories above it; if
//! pinning fails, the fresh path is removed again before the error is returned.

use std::ffi::OsStr;
use std::fmt;
use std::os::fd::OwnedFd;

use crate::cleanup::Pinned;
use crate::create::{CreateError, Created, create, create_anonymous};
use crate::request::{Exec, Request};
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
    /// Creation (or pinning) failed: reported unless `-q`.
    Create(CreateError),
}

impl TargetError {
    /// Whether the error is printed; `-q` (`quiet`) hides creation failures only.
    pub(super) fn is_reported(&self, quiet: bool) -> bool {
        match self {
            TargetError::Template(_) => true,
            TargetError::Create(_) => !quiet,
        }
    }
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::Template(e) => e.fmt(f),
            TargetError::Create(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for TargetError {}

/// Plans the one template and creates it: a named path, pinned at once, or an anonymous file.
pub(super) fn make_target(
    request: &Request,
    exec: &Exec,
    env_tmpdir: Option<&OsStr>,
) -> Result<Target, TargetError> {
    let plan = request
        .plan(exec.template_to_plan().as_deref(), env_tmpdir)
        .map_err(TargetError::Template)?;
    let created = if exec.anonymous() {
        create_anonymous(&plan).map(Target::Anonymous)
    } else {
        create(&plan, exec.kind(), false).and_then(|created| match Pinned::new(&created.absolute) {
            Ok(pinned) => Ok(Target::Named(created, pinned)),
            Err(e) => {
                let _ = created.remove_fresh();
                Err(CreateError::new(exec.kind(), &plan, e))
            }
        })
    };
    created.map_err(TargetError::Create)
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
