//! The command `--exec` runs: placeholder substitution and the child's spec (its words,
//! environment, directory, and what its process does before `exec`).
//!
//! The placeholder rules (README, "Use in scripts"; `--help`, `--exec`): `{}` inside any word
//! is the path, with fd's escapes `{{` and `}}` for literal braces; `-I STR` replaces STR
//! instead, literally and without escapes; `--no-placeholder` replaces nothing. When no word
//! holds a placeholder the path is appended, as `fd -x` and `xargs` do, except with `--cd` or
//! `--export-tmpdir` (the command finds the path in its cwd or `TMPDIR`, and `make check` must
//! not become `make check PATH`).
//!
//! Invariant: building the spec runs nothing and changes nothing but stderr (the `--shell`
//! notice); the spec's [`ChildSetup`] is applied by [`crate::supervise::child`], the only code
//! between rtmp's `fork` of the command and its `exec`.

use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::process::Command;

use super::target::Target;
use crate::guardian::Guardian;
use crate::output::warn;
use crate::quote::quote;
use crate::request::{Exec, ExecCommand, Keep, Placeholder};
use crate::supervise::child::ChildSetup;

/// The default placeholder replaced by the path in CMD and its ARGs (as `fd -x` and
/// `find -exec`).
const BRACES: &[u8] = b"{}";

/// The variable that always names the path for the command (and marks the run's processes).
const PATH_VAR: &str = "RTMP_PATH";

/// The variables `--export-tmpdir` (and `--shell`) set to the new directory: `TMPDIR` (POSIX),
/// and `TMP`, `TEMP`, `TEMPDIR`, which some tools read instead (issue 13, item 1).
const EXPORTED: [&str; 4] = ["TMPDIR", "TMP", "TEMP", "TEMPDIR"];

/// Everything needed to start the command.
pub(super) struct ChildSpec {
    /// CMD with `{}` replaced, its ARGs, environment and directory.
    pub command: Command,
    /// What its process does between `fork` and `exec`.
    pub setup: ChildSetup,
    /// The `RTMP_PATH=<path>` entry of its environment, exactly: the marker the guardian finds
    /// the run's processes by if rtmp dies (`crate::guardian`).
    pub marker: Vec<u8>,
}

/// The child's spec: the placeholder replaced in every word, or the path appended when no word
/// has one (not with `--cd` or `--export-tmpdir`); `RTMP_PATH` always set, [`EXPORTED`] too
/// with `--export-tmpdir`; the anonymous file's descriptor inherited; the guardian told the
/// pid. With `--shell` on a terminal, says which directory it runs in and what becomes of it.
pub(super) fn child_spec(exec: &Exec, target: &Target, guardian: Option<&Guardian>) -> ChildSpec {
    let words = exec.command.words().unwrap_or_else(|| vec![user_shell()]);
    // With --cd the child runs elsewhere, so a relative path would point nowhere.
    let path = match target {
        Target::Named(created, _) if exec.cd() => created.absolute.clone().into_os_string(),
        Target::Named(created, _) => created.path.clone(),
        Target::Anonymous(fd) => OsString::from(format!("/dev/fd/{}", fd.as_raw_fd())),
    };
    if exec.command == ExecCommand::Shell && std::io::stderr().is_terminal() {
        warn(&shell_notice(&path, exec.keep));
    }
    let append = !(exec.cd() || exec.export_tmpdir());
    let mut words = substitute(&words, &path, &exec.placeholder, append);
    let program = if words.is_empty() {
        OsString::new()
    } else {
        words.remove(0)
    };
    let mut command = Command::new(program);
    command.args(words).env(PATH_VAR, &path);
    let mut marker = Vec::with_capacity(PATH_VAR.len() + 1 + path.len());
    marker.extend_from_slice(PATH_VAR.as_bytes());
    marker.push(b'=');
    marker.extend_from_slice(path.as_bytes());
    if exec.export_tmpdir() {
        for var in EXPORTED {
            command.env(var, &path);
        }
    }
    if exec.cd()
        && let Target::Named(created, _) = target
    {
        // The path as created, relative to rtmp's current directory, which the command's
        // process still has: it works where the absolute one is longer than PATH_MAX.
        command.current_dir(&created.path);
    }
    let setup = ChildSetup {
        inherit_fd: match target {
            Target::Anonymous(fd) => Some(fd.as_raw_fd()),
            Target::Named(..) => None,
        },
        announce_pid_to: guardian.map(Guardian::announce_fd),
    };
    ChildSpec {
        command,
        setup,
        marker,
    }
}

/// What `--shell` says on a terminal before the shell starts: the directory, quoted as every
/// path in rtmp's messages, and only what will be true of it (issue 13, item 5).
fn shell_notice(dir: &OsStr, keep: Keep) -> String {
    let what = match keep {
        Keep::Never => "is removed when this shell exits",
        Keep::OnFailure => "is removed when this shell exits with status 0, kept otherwise",
        Keep::Always => "is kept when this shell exits",
    };
    format!("{} {what}", quote(dir))
}

/// `$SHELL`, or `/bin/sh` when it is unset or empty (README, "Terminal use").
fn user_shell() -> OsString {
    std::env::var_os("SHELL")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| OsString::from("/bin/sh"))
}

/// Replaces the placeholder in every word of `words` by `path`; when no word holds one and
/// `append` is set, appends `path` as the last word (as `fd -x` and `xargs` do).
///
/// Inputs: the words as typed, the path, the [`Placeholder`] rule, and whether to append.
/// Output: the words to run. Never fails: every byte sequence is a valid word.
pub(super) fn substitute(
    words: &[OsString],
    path: &OsStr,
    placeholder: &Placeholder,
    append: bool,
) -> Vec<OsString> {
    let mut found = false;
    let mut out: Vec<OsString> = words
        .iter()
        .map(|w| {
            let (bytes, had) = match placeholder {
                Placeholder::Braces => replace_braces(w.as_bytes(), path.as_bytes()),
                Placeholder::Literal(token) => {
                    replace_literal(w.as_bytes(), token.as_bytes(), path.as_bytes())
                }
                Placeholder::Off => (Cow::Borrowed(w.as_bytes()), false),
            };
            found |= had;
            OsString::from_vec(bytes.into_owned())
        })
        .collect();
    if !found && append {
        out.push(path.to_owned());
    }
    out
}

/// The default rule, fd's (`fd -x`): scanning left to right, `{{` is a literal `{`, `}}` a
/// literal `}`, and `{}` the path; any other byte, a lone `{` or `}` included, is kept.
/// Escapes are consumed first, so `{{}}` is the text `{}`.
///
/// Output: the new word (borrowed when nothing changed) and whether it held a `{}`.
fn replace_braces<'a>(word: &'a [u8], path: &[u8]) -> (Cow<'a, [u8]>, bool) {
    if !word
        .windows(2)
        .any(|p| p == b"{{" || p == b"}}" || p == BRACES)
    {
        return (Cow::Borrowed(word), false);
    }
    let mut out = Vec::with_capacity(word.len() + path.len());
    let mut found = false;
    let mut i = 0;
    while i < word.len() {
        match word.get(i..i + 2) {
            Some(b"{{") => out.push(b'{'),
            Some(b"}}") => out.push(b'}'),
            Some(pair) if pair == BRACES => {
                out.extend_from_slice(path);
                found = true;
            }
            _ => {
                out.push(word[i]);
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    (Cow::Owned(out), found)
}

/// `-I STR`: every STR (never empty) in `word`, left to right and not overlapping, is the
/// path; nothing else changes.
///
/// Output: the new word (borrowed when nothing changed) and whether it held STR.
fn replace_literal<'a>(word: &'a [u8], token: &[u8], path: &[u8]) -> (Cow<'a, [u8]>, bool) {
    let find = |hay: &[u8]| hay.windows(token.len()).position(|p| p == token);
    if token.is_empty() || find(word).is_none() {
        return (Cow::Borrowed(word), false);
    }
    let mut out = Vec::with_capacity(word.len() + path.len());
    let mut rest = word;
    while let Some(i) = find(rest) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(path);
        rest = &rest[i + token.len()..];
    }
    out.extend_from_slice(rest);
    (Cow::Owned(out), true)
}

#[cfg(test)]
mod tests {
    use super::{Keep, Placeholder, shell_notice, substitute};
    use std::ffi::{OsStr, OsString};
    use std::os::unix::ffi::OsStrExt;

    fn words(ws: &[&str]) -> Vec<OsString> {
        ws.iter().map(OsString::from).collect()
    }

    /// `substitute` with the default `{}` rule.
    fn braces(ws: &[&str], path: &str, append: bool) -> Vec<OsString> {
        substitute(&words(ws), OsStr::new(path), &Placeholder::Braces, append)
    }

    #[test]
    fn path_is_appended_without_placeholder() {
        assert_eq!(
            braces(&["ls", "-l"], "/t/x", true),
            words(&["ls", "-l", "/t/x"])
        );
    }

    #[test]
    fn every_placeholder_is_replaced_inside_words() {
        assert_eq!(
            braces(&["cp", "a", "--out={}", "{}/{}"], "/t", true),
            words(&["cp", "a", "--out=/t", "/t//t"])
        );
    }

    #[test]
    fn nothing_is_appended_with_cd_or_export_tmpdir() {
        // child_spec passes append = false for --cd and for --export-tmpdir alike.
        assert_eq!(braces(&["make"], "/t", false), words(&["make"]));
        assert_eq!(braces(&["echo", "{}"], "/t", false), words(&["echo", "/t"]));
        let off = substitute(
            &words(&["make"]),
            OsStr::new("/t"),
            &Placeholder::Off,
            false,
        );
        assert_eq!(off, words(&["make"]));
    }

    #[test]
    fn placeholder_in_command_name_counts() {
        assert_eq!(braces(&["{}/run"], "d", true), words(&["d/run"]));
    }

    #[test]
    fn double_braces_are_literal_braces() {
        assert_eq!(
            braces(&["awk", "BEGIN{{n=0}} {{n++}}", "{}"], "/t", true),
            words(&["awk", "BEGIN{n=0} {n++}", "/t"])
        );
        // Escapes first: `{{}}` is the text `{}`, and `{{{}}}` is `{` + path + `}`.
        assert_eq!(
            braces(&["{{}}", "{{{}}}", "}}{{", "{}}", "{{}"], "P", true),
            words(&["{}", "{P}", "}{", "P}", "{}"])
        );
        // A lone brace is literal; a word of escapes only holds no placeholder.
        assert_eq!(
            braces(&["{", "}", "a{b}c", "{{x}}"], "P", true),
            words(&["{", "}", "a{b}c", "{x}", "P"])
        );
    }

    #[test]
    fn a_chosen_placeholder_is_literal_and_has_no_escapes() {
        let at = Placeholder::Literal("@@".into());
        let out = substitute(
            &words(&["x", "@@", "a@@b@@", "{}", "{{", "@@@"]),
            OsStr::new("P"),
            &at,
            true,
        );
        assert_eq!(out, words(&["x", "P", "aPbP", "{}", "{{", "P@"]));
        let out = substitute(&words(&["x", "{}"]), OsStr::new("P"), &at, true);
        assert_eq!(out, words(&["x", "{}", "P"]));
    }

    #[test]
    fn no_placeholder_changes_nothing_and_appends() {
        let out = substitute(
            &words(&["x", "{}", "{{"]),
            OsStr::new("P"),
            &Placeholder::Off,
            true,
        );
        assert_eq!(out, words(&["x", "{}", "{{", "P"]));
    }

    #[test]
    fn non_utf8_paths_and_words_pass_through() {
        let path = OsStr::from_bytes(b"/t/\xff");
        let out = braces(&["cat", "{}"], "", true);
        assert_eq!(out, words(&["cat", ""]));
        let out = substitute(
            &[
                OsString::from("cat"),
                OsStr::from_bytes(b"\xfe{}").to_owned(),
            ],
            path,
            &Placeholder::Braces,
            true,
        );
        assert_eq!(out[1].as_bytes(), b"\xfe/t/\xff");
    }

    #[test]
    fn the_shell_notice_says_what_will_happen() {
        let dir = OsStr::from_bytes(b"/t/a\nb");
        assert_eq!(
            shell_notice(dir, Keep::Never),
            "'/t/a\\nb' is removed when this shell exits"
        );
        assert_eq!(
            shell_notice(dir, Keep::OnFailure),
            "'/t/a\\nb' is removed when this shell exits with status 0, kept otherwise"
        );
        assert_eq!(
            shell_notice(dir, Keep::Always),
            "'/t/a\\nb' is kept when this shell exits"
        );
    }
}
