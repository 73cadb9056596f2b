//! mktemp mode: plan each template, create it, print the names (README, "Use in scripts";
//! GNU `mktemp`, plus BSD's several templates).
//!
//! Several templates (BSD) are all or nothing: every template is planned before any is created,
//! and a failure removes what the run created, so status 1 leaves nothing behind and prints no
//! name (docs/behaviour.md A3.6 and B2). Every failure is reported once on stderr as
//! `rtmp: ...`; `-q` hides creation failures, never a broken template rule (GNU). If the names
//! cannot be written to stdout, everything created is removed again, as GNU does.

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;

use crate::create::{CreateError, Created, create};
use crate::errors::os_error_text;
use crate::exit::Outcome;
use crate::guardian::until::{Until, UntilError};
use crate::output::{warn, write_stdout};
use crate::request::{Mktemp, Request};
use crate::template::{Plan, TemplateError};

/// Why one template gave no name.
#[derive(Debug)]
enum Failure {
    /// It breaks one of GNU's template rules: always reported.
    Template(TemplateError),
    /// The OS refused to create it: reported unless `-q`.
    Create(CreateError),
}

impl Failure {
    /// True when `-q` hides this failure (GNU: creation failures only).
    fn hidden_by_quiet(&self) -> bool {
        matches!(self, Self::Create(_))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Template(e) => e.fmt(f),
            Self::Create(e) => e.fmt(f),
        }
    }
}

/// Carries out mktemp mode: creates (or with `-u` only names) each template of `mktemp`, or
/// GNU's default one, and prints the names, one a line.
///
/// All or nothing (docs/behaviour.md B2; the man page's "status 1 leaves nothing behind"):
/// every template is planned first, and a template error stops the run before anything is
/// created (each error is printed, in template order); then the templates are created in
/// order, and a creation failure removes the ones already created, so nothing is printed;
/// last, all names go out in one write, and a write error removes everything created too.
///
/// Inputs: the request's shared part (suffix, location, `-q`), its mktemp part, and `$TMPDIR`
/// as the caller read it. Output: [`Outcome::Success`], or [`Outcome::Failure`] when any
/// template failed or stdout could not be written; each failure is reported on stderr (`-q`
/// hides creation and write failures, never a template error, as GNU).
pub fn create_and_print(request: &Request, mktemp: &Mktemp, env_tmpdir: Option<&OsStr>) -> Outcome {
    let templates: Vec<Option<&OsStr>> = if mktemp.templates.is_empty() {
        vec![None]
    } else {
        mktemp
            .templates
            .iter()
            .map(|t| Some(t.as_os_str()))
            .collect()
    };
    // Every template is planned before anything is created; the first that breaks a rule is
    // reported, alone: bad input gets one line, as GNU's one template does.
    let mut plans = Vec::with_capacity(templates.len());
    for template in templates {
        match request.plan(template, env_tmpdir) {
            Ok(plan) => plans.push(plan),
            Err(e) => {
                report(request, &Failure::Template(e));
                return Outcome::Failure;
            }
        }
    }
    if let Some(pid) = mktemp.until {
        return create_until(request, &plans, mktemp, pid);
    }
    let mut created: Vec<Created> = Vec::with_capacity(plans.len());
    for plan in &plans {
        match create(plan, mktemp.kind, mktemp.dry_run) {
            Ok(c) => created.push(c),
            Err(e) => {
                roll_back(mktemp, &created);
                report(request, &Failure::Create(e));
                return Outcome::Failure;
            }
        }
    }
    if let Err(e) = print_names(&created) {
        roll_back(mktemp, &created);
        if !request.quiet || mktemp.dry_run {
            warn(&format!("write error: {}", os_error_text(&e)));
        }
        return Outcome::Failure;
    }
    Outcome::Success
}

/// `--until PID`: PID pinned first, then one guardian creates every plan and keeps the paths
/// until PID exits ([`crate::guardian::until`]); all or nothing as without it: a creation or
/// write failure leaves nothing (the guardian removes what it made).
fn create_until(request: &Request, plans: &[Plan], mktemp: &Mktemp, pid: i32) -> Outcome {
    let pending = Until::pin(pid).and_then(|until| until.create(plans, mktemp.kind));
    let pending = match pending {
        Ok(pending) => pending,
        Err(UntilError::Create(_, e)) => {
            report(request, &Failure::Create(e));
            return Outcome::Failure;
        }
        // Not a creation failure: `-q` does not hide it.
        Err(UntilError::Pid(message)) => {
            warn(&message);
            return Outcome::Failure;
        }
        Err(UntilError::Guardian(e)) => {
            warn(&format!("cannot start the guardian: {}", os_error_text(&e)));
            return Outcome::Failure;
        }
    };
    if let Err(e) = print_names(&pending.created) {
        // Dropping `pending` without confirming makes the guardian remove them now.
        if !request.quiet {
            warn(&format!("write error: {}", os_error_text(&e)));
        }
        return Outcome::Failure;
    }
    pending.confirm();
    Outcome::Success
}

/// Prints `failure` as `rtmp: ...` unless `-q` hides it.
fn report(request: &Request, failure: &Failure) {
    if !(request.quiet && failure.hidden_by_quiet()) {
        warn(&failure.to_string());
    }
}

/// Removes what this run created (nothing in a dry run): a name that is not printed is of no
/// use to the caller. A removal that fails is not reported: the run already failed, and its
/// message says why.
fn roll_back(mktemp: &Mktemp, created: &[Created]) {
    if !mktemp.dry_run {
        for c in created {
            let _ = c.remove_fresh();
        }
    }
}

/// Writes each name and a newline to stdout in one write. Errors: the OS error of the write.
fn print_names(created: &[Created]) -> std::io::Result<()> {
    if created.is_empty() {
        return Ok(());
    }
    let mut out: Vec<u8> = Vec::new();
    for c in created {
        out.extend_from_slice(c.path.as_bytes());
        out.push(b'\n');
    }
    write_stdout(&out)
}
