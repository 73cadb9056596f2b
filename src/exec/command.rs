//! The command `--exec` runs: `{}` substitution and the child's spec (its words, environment,
//! directory, and what its process does before `exec`).
//!
//! Invariant: building the spec runs nothing and changes nothing but stderr (the `--shell`
//! notice); the spec's [`ChildSetup`] is applied by [`crate::supervise::child`], the only code
//! between rtmp's `fork` of the command and its `exec`.

use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::process::Command;

use super::target::Target;
use crate::guardian::Guardian;
use crate::output::warn;
use crate::request::{Exec, ExecCommand};
use crate::supervise::child::ChildSetup;

/// The placeholder replaced by the path in CMD and its ARGs (as `fd -x` and `find -exec`).
const PLACEHOLDER: &[u8] = b"{}";

/// Everything needed to start the command.
pub(super) struct ChildSpec {
    /// CMD with `{}` replaced, its ARGs, environment and directory.
    pub command: Command,
    /// What its process does between `fork` and `exec`.
    pub setup: ChildSetup,
}

/// The child's spec: `{}` replaced in every word, or the path appended when no word has one
/// (not with `--cd`: the child is already in it); `RTMP_PATH` always set, `TMPDIR` too with
/// `--export-tmpdir`; the anonymous file's descriptor inherited; the guardian told the pid.
/// With `--shell` on a terminal, says which directory goes away.
pub(super) fn child_spec(exec: &Exec, target: &Target, guardian: Option<&Guardian>) -> ChildSpec {
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
    let setup = ChildSetup {
        inherit_fd: match target {
            Target::Anonymous(fd) => Some(fd.as_raw_fd()),
            Target::Named(..) => None,
        },
        announce_pid_to: guardian.map(Guardian::announce_fd),
    };
    ChildSpec { command, setup }
}

/// `$SHELL`, or `/bin/sh` when it is unset or empty (README, "Terminal use").
fn user_shell() -> OsString {
    std::env::var_os("SHELL")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| OsString::from("/bin/sh"))
}

/// Replaces every `{}` in `words` by `path`; when no word holds one and `append` is set, appends
/// `path` as the last word (as `fd -x` and `xargs` do).
pub(super) fn substitute(words: &[OsString], path: &OsStr, append: bool) -> Vec<OsString> {
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
