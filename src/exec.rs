//! `--exec` mode: create the path, run the command with it, remove the path, end as the
//! command ended (SPEC.md C).
//!
//! Order matters for "nothing left behind": signal handling is installed before the path exists,
//! a signal that arrives before the child starts removes the path and ends rtmp with that signal,
//! and every way out after creation goes through `finish`, which removes the path (unless
//! `--keep-on-failure` applies). rtmp writes nothing to stdout in this mode.

use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::CommandExt;
use std::process::Command;

use crate::cleanup::Pinned;
use crate::create::{CreateError, Created, create, create_anonymous};
use crate::errors::os_error_text;
use crate::exit::Outcome;
use crate::guardian::Guardian;
use crate::output::warn;
use crate::request::{Exec, ExecCommand, Request};
use crate::supervise::{ChildEnd, SpawnError, Supervisor};
use nix::libc;

/// The placeholder replaced by the path in CMD and its ARGs (as `fd -x` and `find -exec`).
const PLACEHOLDER: &[u8] = b"{}";

/// Runs `--exec` mode: `request`'s shared part (suffix, location, `-q`) and its `exec` part.
///
/// Output: the child's status, [`Outcome::Signaled`] if it died of a signal, or 125/126/127 for
/// rtmp's own failures. Every failure is reported on stderr as `rtmp: ...`.
pub fn run(request: &Request, exec: &Exec, env_tmpdir: Option<&OsStr>) -> Outcome {
    let mut supervisor = match Supervisor::install() {
        Ok(s) => s,
        Err(e) => {
            warn(&format!("cannot handle signals: {}", os_error_text(&e)));
            return Outcome::ExecFailed;
        }
    };
    let target = match make_target(request, exec, env_tmpdir) {
        Ok(t) => t,
        Err(message) => {
            if let Some(message) = message {
                warn(&message);
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
    let command = child_command(exec, &target, guardian.as_ref());
    // For the message if it cannot run: the name after `{}` was replaced, as it was tried.
    let program = command.get_program().to_owned();
    let end = match supervisor.run(command) {
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
            let _ = finish(&target, exec, false);
            return match e {
                SpawnError::NotFound(_) => Outcome::NotFound,
                SpawnError::CannotRun(_) => Outcome::CannotRun,
                _ => Outcome::ExecFailed,
            };
        }
    };
    let (outcome, child_failed) = match end {
        ChildEnd::Exited(code) => (
            Outcome::ChildExited(u8::try_from(code).unwrap_or(u8::MAX)),
            code != 0,
        ),
        ChildEnd::Signaled(sig) => (Outcome::Signaled(sig), true),
    };
    match finish(&target, exec, child_failed) {
        Ok(()) => outcome,
        // A failed cleanup only changes the status of a child that succeeded (SPEC.md C).
        Err(()) if !child_failed => Outcome::ExecFailed,
        Err(()) => outcome,
    }
}

/// Plans the one template and creates it: a named path, pinned at once (before any child
/// exists, so the removal happens in this directory whatever the child does to the directories
/// above it), or an anonymous file. Err holds the message to print (`None` when `-q` hides it).
fn make_target(
    request: &Request,
    exec: &Exec,
    env_tmpdir: Option<&OsStr>,
) -> Result<Target, Option<String>> {
    let plan = match request.plan(exec.template.as_deref(), env_tmpdir) {
        Ok(plan) => plan,
        Err(e) => return Err(Some(e.to_string())),
    };
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
    created.map_err(|e| (!request.quiet).then(|| e.to_string()))
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

/// What `--exec` made for the child.
enum Target {
    /// A named file or directory, removed afterwards through its pinned parent.
    Named(Created, Pinned),
    /// `--anonymous`: an unnamed file, open for the child as `/dev/fd/N`; nothing to remove.
    Anonymous(OwnedFd),
}

/// Removes the path, or keeps it with `--keep-on-failure` when the child failed. Reports a
/// failed removal on stderr. An anonymous file has nothing to remove or keep.
fn finish(target: &Target, exec: &Exec, child_failed: bool) -> Result<(), ()> {
    let Target::Named(created, pinned) = target else {
        return Ok(());
    };
    if child_failed && exec.keep_on_failure {
        warn(&format!("kept {}", created.path.to_string_lossy()));
        return Ok(());
    }
    pinned.remove().map_err(|e| {
        warn(&format!(
            "failed to remove {}: {}",
            created.path.to_string_lossy(),
            os_error_text(&e)
        ));
    })
}

/// The child's command: `{}` replaced in every word, or the path appended when no word has one
/// (not with `--cd`: the child is already in it); `RTMP_PATH` always set, `TMPDIR` too with
/// `--export-tmpdir`; the anonymous file's descriptor inherited; the guardian told the pid.
/// With `--shell` on a terminal, says which directory goes away.
fn child_command(exec: &Exec, target: &Target, guardian: Option<&Guardian>) -> Command {
    let words = exec.command.words().unwrap_or_else(|| vec![user_shell()]);
    // With --cd the child runs elsewhere, so a relative path would point nowhere.
    let path = match target {
        Target::Named(created, _) if exec.cd() => created.absolute.clone().into_os_string(),
        Target::Named(created, _) => created.path.clone(),
        Target::Anonymous(fd) => OsString::from(format!("/dev/fd/{}", fd.as_raw_fd())),
    };
    if exec.command == ExecCommand::Shell && std::io::stderr().is_terminal() {
        warn(&format!(
            "{} is removed when this shell exits",
            path.to_string_lossy()
        ));
    }
    let mut words = substitute(&words, &path, !exec.cd());
    let program = if words.is_empty() {
        OsString::new()
    } else {
        words.remove(0)
    };
    let mut command = Command::new(program);
    command.args(words).env("RTMP_PATH", &path);
    if exec.export_tmpdir() {
        command.env("TMPDIR", &path);
    }
    if exec.cd() {
        command.current_dir(&path);
    }
    if let Target::Anonymous(fd) = target {
        let fd = fd.as_raw_fd();
        // SAFETY: fcntl is async-signal-safe. Only the child's copy loses FD_CLOEXEC, so the
        // command inherits the file as descriptor `fd` and rtmp's own copy stays close-on-exec.
        unsafe {
            command.pre_exec(move || {
                if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    if let Some(guardian) = guardian {
        // SAFETY: the announcer only calls getpid and send (async-signal-safe), no allocation.
        unsafe {
            command.pre_exec(guardian.announcer());
        }
    }
    command
}

/// `$SHELL`, or `/bin/sh` when it is unset or empty (SPEC.md C, `--shell`).
fn user_shell() -> OsString {
    std::env::var_os("SHELL")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| OsString::from("/bin/sh"))
}

/// Replaces every `{}` in `words` by `path`; when no word holds one and `append` is set, appends
/// `path` as the last word (as `fd -x` and `xargs` do).
pub fn substitute(words: &[OsString], path: &OsStr, append: bool) -> Vec<OsString> {
    let has_placeholder = |w: &OsString| w.as_bytes().windows(2).any(|p| p == PLACEHOLDER);
    if !words.iter().any(has_placeholder) {
        if !append {
            return words.to_vec();
        }
        let mut out = words.to_vec();
        out.push(path.to_owned());
        return out;
    }
    words
        .iter()
        .map(|w| OsString::from_vec(replace_all(w.as_bytes(), path.as_bytes())))
        .collect()
}

fn replace_all(word: &[u8], path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(word.len() + path.len());
    let mut rest = word;
    while let Some(i) = rest.windows(2).position(|p| p == PLACEHOLDER) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(path);
        rest = &rest[i + PLACEHOLDER.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::substitute;
    use std::ffi::{OsStr, OsString};
    use std::os::unix::ffi::OsStrExt;

    fn words(ws: &[&str]) -> Vec<OsString> {
        ws.iter().map(OsString::from).collect()
    }

    #[test]
    fn path_is_appended_without_placeholder() {
        assert_eq!(
            substitute(&words(&["ls", "-l"]), OsStr::new("/t/x"), true),
            words(&["ls", "-l", "/t/x"])
        );
    }

    #[test]
    fn every_placeholder_is_replaced_inside_words() {
        assert_eq!(
            substitute(
                &words(&["cp", "a", "--out={}", "{}/{}"]),
                OsStr::new("/t"),
                true
            ),
            words(&["cp", "a", "--out=/t", "/t//t"])
        );
    }

    #[test]
    fn nothing_is_appended_with_cd() {
        assert_eq!(
            substitute(&words(&["make"]), OsStr::new("/t"), false),
            words(&["make"])
        );
        assert_eq!(
            substitute(&words(&["echo", "{}"]), OsStr::new("/t"), false),
            words(&["echo", "/t"])
        );
    }

    #[test]
    fn placeholder_in_command_name_counts() {
        assert_eq!(
            substitute(&words(&["{}/run"]), OsStr::new("d"), true),
            words(&["d/run"])
        );
    }

    #[test]
    fn non_utf8_paths_pass_through() {
        let path = OsStr::from_bytes(b"/t/\xff");
        let out = substitute(&words(&["cat", "{}"]), path, true);
        assert_eq!(out[1].as_bytes(), b"/t/\xff");
    }
}
