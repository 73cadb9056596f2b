//! mktemp mode: plan each template, create it, print the names (SPEC.md A and B).
//!
//! Every failure is reported once on stderr as `rtmp: ...`; the other templates are still
//! attempted (BSD), and the exit status is 1 if anything failed. If the names cannot be written
//! to stdout, everything created is removed again, as GNU does.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use crate::cli::Request;
use crate::create::{Created, create};
use crate::errors::os_error_text;
use crate::exit::Outcome;
use crate::output::{warn, write_stdout};
use crate::template::{Location, Plan, TemplateError, plan};

/// The location options of `request`, with `$TMPDIR` as the caller read it.
pub fn location<'a>(request: &'a Request, env_tmpdir: Option<&'a OsStr>) -> Location<'a> {
    Location {
        tmpdir_option: request.tmpdir_option,
        tmpdir_arg: request.tmpdir_arg.as_deref(),
        t_option: request.t_option,
        env_tmpdir,
    }
}

/// Plans every template of `request` (or the default one), in order.
pub fn plans(request: &Request, env_tmpdir: Option<&OsStr>) -> Vec<Result<Plan, TemplateError>> {
    let loc = location(request, env_tmpdir);
    let suffix = request.suffix.as_deref();
    if request.templates.is_empty() {
        vec![plan(None, suffix, &loc)]
    } else {
        request
            .templates
            .iter()
            .map(|t| plan(Some(t), suffix, &loc))
            .collect()
    }
}

/// Runs mktemp mode for `request`. Output: [`Outcome::Success`] or [`Outcome::Failure`].
pub fn run(request: &Request, env_tmpdir: Option<&OsStr>) -> Outcome {
    let mut failed = false;
    let mut created: Vec<Created> = Vec::new();
    for planned in plans(request, env_tmpdir) {
        // -q hides creation failures only, never a template rule (SPEC.md A2).
        let result = match planned {
            Err(e) => Err(Some(e.to_string())),
            Ok(p) => create(&p, request.kind, request.dry_run)
                .map_err(|e| (!request.quiet).then(|| e.to_string())),
        };
        match result {
            Ok(c) => created.push(c),
            Err(message) => {
                failed = true;
                if let Some(message) = message {
                    warn(&message);
                }
            }
        }
    }
    if let Err(e) = print_names(&created) {
        if !request.dry_run {
            for c in &created {
                // The name is useless to the caller if it was never printed.
                let _ = c.remove_fresh();
            }
        }
        if !request.quiet || request.dry_run {
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
