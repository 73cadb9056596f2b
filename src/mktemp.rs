//! mktemp mode: plan each template, create it, print the names (README, "Use in scripts";
//! GNU `mktemp`, plus BSD's several templates).
//!
//! Every failure is reported once on stderr as `rtmp: ...`; the other templates are still
//! attempted (BSD), and the exit status is 1 if anything failed. `-q` hides creation failures,
//! never a broken template rule (GNU). If the names cannot be written to stdout, everything
//! created is removed again, as GNU does, and nothing is left behind.

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;

use crate::create::{CreateError, Created, create};
use crate::errors::os_error_text;
use crate::exit::Outcome;
use crate::output::{warn, write_stdout};
use crate::request::{Mktemp, Request};
use crate::template::TemplateError;

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
/// Inputs: the request's shared part (suffix, location, `-q`), its mktemp part, and `$TMPDIR`
/// as the caller read it. Output: [`Outcome::Success`], or [`Outcome::Failure`] when any
/// template failed or stdout could not be written; each failure is reported on stderr.
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
    let mut failed = false;
    let mut created: Vec<Created> = Vec::new();
    for template in templates {
        let result = request
            .plan(template, env_tmpdir)
            .map_err(Failure::Template)
            .and_then(|plan| create(&plan, mktemp.kind, mktemp.dry_run).map_err(Failure::Create));
        match result {
            Ok(c) => created.push(c),
            Err(failure) => {
                failed = true;
                if !(request.quiet && failure.hidden_by_quiet()) {
                    warn(&failure.to_string());
                }
            }
        }
    }
    if let Err(e) = print_names(&created) {
        if !mktemp.dry_run {
            for c in &created {
                // The name is useless to the caller if it was never printed.
                let _ = c.remove_fresh();
            }
        }
        if !request.quiet || mktemp.dry_run {
            warn(&format!("write error: {}", os_error_text(&e)));
        }
        return Outcome::Failure;
    }
    if failed {
        Outcome::Failure
    } else {
        Outcome::Success
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
