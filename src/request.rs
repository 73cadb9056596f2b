//! What the command line asks for, as plain typed data: the [`Request`] that
//! [`crate::cli::parse`] produces and the mktemp and `--exec` modes carry out.
//!
//! Invariants, kept by the types rather than by comments: a request is either mktemp mode
//! (any number of templates, maybe a dry run) or `--exec` mode (at most one template, a
//! command, never a dry run), never both; an `--exec` command has a program; a directory is
//! the only thing that can be entered (`--cd`) or exported as `TMPDIR`, and an anonymous file
//! is never a directory; a given `-p`/`--tmpdir` DIR is never empty (an empty one means "the
//! default directory", as in GNU); a [`Placeholder::Literal`] is never empty. One rule is kept
//! by `cli` and [`Exec::apply_env_keep`] instead of the types: an anonymous file, which has no
//! name, is never kept ([`Keep::Never`]). This module depends on no parser: clap stays in `cli`.

use std::ffi::{OsStr, OsString};
use std::time::Duration;

use crate::template::{self, Plan, TemplateError};

/// What to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file, mode 0600 minus umask.
    File,
    /// A directory (`-d`), mode 0700 minus umask.
    Directory,
}

/// A parsed, validated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The last `--suffix`.
    pub suffix: Option<OsString>,
    /// Where the name goes: `-p`/`--tmpdir` and `-t`.
    pub location: Location,
    /// `-q`: hide creation failures (never a template rule, GNU `mktemp`).
    pub quiet: bool,
    /// mktemp mode or `--exec` mode, with what only that mode has.
    pub mode: Mode,
}

/// The two ways rtmp runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Create (or with `-u` only name) each template and print the names, as GNU `mktemp`.
    Mktemp(Mktemp),
    /// Create one path, run a command with it, remove it (`--exec`, `--shell`).
    Exec(Exec),
}

/// The part of a request only mktemp mode has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mktemp {
    /// File or directory (`-d`).
    pub kind: Kind,
    /// `-u`: print a free name, create nothing.
    pub dry_run: bool,
    /// TEMPLATE operands, in order (empty: the default template). Several are BSD's spelling.
    pub templates: Vec<OsString>,
    /// `--until PID`: a detached guardian removes the paths when PID exits (issue 14).
    pub until: Option<i32>,
}

/// The part of a request only `--exec` mode has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exec {
    /// The one TEMPLATE (`None`: the default template).
    pub template: Option<OsString>,
    /// What is created for the command.
    pub path: ExecPath,
    /// What to run.
    pub command: ExecCommand,
    /// Which word of the command stands for the path.
    pub placeholder: Placeholder,
    /// When the path is kept rather than removed (`--keep-on-failure`, `--keep`, `RTMP_KEEP`).
    pub keep: Keep,
    /// `--kill-after=DURATION`: the grace period between SIGTERM and SIGKILL for processes the
    /// command leaves running (`None`: the default, 2 s).
    pub kill_after: Option<Duration>,
    /// `--wait-children`: wait for processes the command leaves running instead of ending them.
    pub wait_children: bool,
    /// Issue 14: `--stdin` and `--replace DEST` ([`Modes`]).
    pub modes: Modes,
}

/// The token in CMD and its ARGs that stands for the path (README, "Use in scripts").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placeholder {
    /// The default: every `{}` inside a word is the path; `{{` is a literal `{` and `}}` a
    /// literal `}`, as in `fd -x` (fd's escapes, so awk programs and JSON can be written).
    Braces,
    /// `-I STR`/`--placeholder=STR` (after `xargs -I`): every STR inside a word is the path,
    /// matched literally, without escapes. Never empty.
    Literal(OsString),
    /// `--no-placeholder`: no word is changed.
    Off,
}

/// When `--exec` keeps the path instead of removing it. Only a named path can be kept: the
/// command line refuses a keep option with `--anonymous`, and `RTMP_KEEP` is ignored there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Always removed (the default).
    Never,
    /// `--keep-on-failure`: kept when the command fails (status other than 0) or dies of a
    /// signal.
    OnFailure,
    /// `--keep`, or `RTMP_KEEP` set to anything but empty or `0`: kept however the command
    /// ends.
    Always,
}

impl Keep {
    /// Whether the path is kept after a command that failed (`child_failed`) or succeeded.
    pub fn keeps(self, child_failed: bool) -> bool {
        match self {
            Keep::Never => false,
            Keep::OnFailure => child_failed,
            Keep::Always => true,
        }
    }
}

/// Whether the environment variable `RTMP_KEEP`, with `value` (`None`: unset), asks to keep
/// every `--exec` path, as `--keep` does (README, "Use in scripts"). Decision (issue 13): any
/// value but the empty one and `0` turns it on, so `RTMP_KEEP=1`, `=yes` and `=true` all do, and
/// `RTMP_KEEP=0` says "off" in a script that exports it.
pub fn keep_from_env(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0")
}

/// What `--exec` creates for the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecPath {
    /// A named file.
    File,
    /// `--anonymous`: a file with no name, passed as `/dev/fd/N`.
    Anonymous,
    /// A directory (`-d`, or `--shell`).
    Directory {
        /// `--cd` (implied by `--shell`): run the command inside it, with an absolute path.
        cd: bool,
        /// `--export-tmpdir` (implied by `--shell`): set `TMPDIR`, `TMP`, `TEMP` and
        /// `TEMPDIR` to it for the command, and append nothing.
        export_tmpdir: bool,
    },
}

impl Exec {
    /// File or directory; an anonymous file is a file.
    pub fn kind(&self) -> Kind {
        match self.path {
            ExecPath::File | ExecPath::Anonymous => Kind::File,
            ExecPath::Directory { .. } => Kind::Directory,
        }
    }

    /// `--anonymous`.
    pub fn anonymous(&self) -> bool {
        self.path == ExecPath::Anonymous
    }

    /// `--cd` or `--shell`: the command runs inside the new directory.
    pub fn cd(&self) -> bool {
        matches!(self.path, ExecPath::Directory { cd: true, .. })
    }

    /// `--export-tmpdir` or `--shell`: the command gets the new directory as `TMPDIR` (and
    /// `TMP`, `TEMP`, `TEMPDIR`).
    pub fn export_tmpdir(&self) -> bool {
        matches!(
            self.path,
            ExecPath::Directory {
                export_tmpdir: true,
                ..
            }
        )
    }

    /// Applies `RTMP_KEEP` (`on`: [`keep_from_env`] said it is set): the path is kept however
    /// the command ends, as with `--keep`. Ignored for an anonymous file, which has no name to
    /// keep: an environment setting must not turn a valid command line into an error.
    pub fn apply_env_keep(&mut self, on: bool) {
        if on && !self.anonymous() {
            self.keep = Keep::Always;
        }
    }
}

/// The command `--exec` runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecCommand {
    /// CMD and its ARGs as given, `{}` not yet replaced.
    Argv {
        /// CMD.
        program: OsString,
        /// The ARGs.
        args: Vec<OsString>,
    },
    /// `--shell`: the user's `$SHELL`, resolved when it runs.
    Shell,
}

impl ExecCommand {
    /// CMD followed by its ARGs; `None` for `--shell`.
    pub fn words(&self) -> Option<Vec<OsString>> {
        match self {
            Self::Argv { program, args } => {
                Some(std::iter::once(program).chain(args).cloned().collect())
            }
            Self::Shell => None,
        }
    }
}

/// Where the name goes, as the command line says; `$TMPDIR` is added when planning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The last `-p DIR` or `--tmpdir[=DIR]` (GNU: one option, the last wins).
    pub tmpdir: Tmpdir,
    /// `-t`: GNU's deprecated option, also BSD's prefix spelling.
    pub t_option: bool,
}

/// The `-p`/`--tmpdir` option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tmpdir {
    /// Neither was given: a TEMPLATE is relative to the current directory.
    NotGiven,
    /// A bare `--tmpdir`, or an empty DIR: `$TMPDIR` if set and not empty, else `/tmp`.
    Default,
    /// This DIR (never empty).
    Dir(OsString),
}

impl Tmpdir {
    /// The option from its value: an empty DIR is [`Tmpdir::Default`], as in GNU `mktemp`.
    pub fn from_value(dir: Option<OsString>) -> Self {
        match dir {
            Some(dir) if !dir.is_empty() => Self::Dir(dir),
            _ => Self::Default,
        }
    }
}

impl Request {
    /// Plans `template` (`None`: GNU's default) with this request's suffix and location, and
    /// `$TMPDIR` as the caller read it.
    ///
    /// Output: the [`Plan`], or the first of GNU's template rules it breaks
    /// ([`template::plan`]).
    pub fn plan(
        &self,
        template: Option<&OsStr>,
        env_tmpdir: Option<&OsStr>,
    ) -> Result<Plan, TemplateError> {
        let (tmpdir_option, tmpdir_arg) = match &self.location.tmpdir {
            Tmpdir::NotGiven => (false, None),
            Tmpdir::Default => (true, None),
            Tmpdir::Dir(dir) => (true, Some(dir.as_os_str())),
        };
        let location = template::Location {
            tmpdir_option,
            tmpdir_arg,
            t_option: self.location.t_option,
            env_tmpdir,
        };
        template::plan(template, self.suffix.as_deref(), &location)
    }
}

// ---------------------------------------------------------------------------------------------
// Issue 14: `--stdin` and `--replace DEST`.

/// What `--exec` does with the path besides running the command (issue 14): fill it with
/// standard input before the command starts (`--stdin`), and move it over DEST once the
/// command succeeded (`--replace DEST`). The default is neither.
///
/// Invariant, kept by [`Modes::new`], the only way to set either: `--stdin` is for a file
/// (named or `--anonymous`), never a directory; `--replace` is never for an `--anonymous`
/// file (it has no name to move) nor with `--export-tmpdir` (the command's own temporary files
/// would be moved into place with the result). The rules about the command line around them
/// (no TEMPLATE, no `-p`/`--tmpdir`/`-t`, no `--shell`) are the parser's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Modes {
    stdin: bool,
    replace: Option<Replace>,
}

impl Modes {
    /// The modes for a path made as `path`.
    ///
    /// Output: the modes, or the usage error's text (`--stdin cannot be combined with
    /// --directory`, ...) when the combination means nothing.
    pub fn new(path: ExecPath, stdin: bool, replace: Option<Replace>) -> Result<Modes, String> {
        let directory = matches!(path, ExecPath::Directory { .. });
        if stdin && directory {
            return Err("--stdin cannot be combined with --directory".to_owned());
        }
        if replace.is_some() {
            match path {
                ExecPath::Anonymous => {
                    return Err("--replace cannot be combined with --anonymous".to_owned());
                }
                ExecPath::Directory {
                    export_tmpdir: true,
                    ..
                } => return Err("--replace cannot be combined with --export-tmpdir".to_owned()),
                _ => {}
            }
        }
        Ok(Modes { stdin, replace })
    }

    /// `--stdin`: copy standard input into the file before the command starts.
    pub fn stdin(&self) -> bool {
        self.stdin
    }

    /// `--replace DEST`: the destination, when given.
    pub fn replace(&self) -> Option<&Replace> {
        self.replace.as_ref()
    }
}

/// `--replace DEST`: a destination with a final component that is a name (not `.`, `..`, or
/// nothing, as in `/` or the empty string), so that a hidden name can be derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replace {
    dest: OsString,
    /// The byte offset of the final component in `dest`.
    name_at: usize,
    /// The byte length of the final component (trailing slashes not included).
    name_len: usize,
}

impl Replace {
    /// The X's of the temporary name: six, as in the `mktemp "$f.XXXXXX"` idiom.
    pub const XS: &'static str = "XXXXXX";

    /// Checks DEST. Output: the destination, or the usage error's text
    /// (`invalid destination '..' for --replace`).
    pub fn new(dest: OsString) -> Result<Replace, String> {
        let bytes = dest.as_encoded_bytes();
        let end = bytes.len() - bytes.iter().rev().take_while(|&&b| b == b'/').count();
        let name_at = bytes[..end]
            .iter()
            .rposition(|&b| b == b'/')
            .map_or(0, |i| i + 1);
        let name = &bytes[name_at..end];
        if name.is_empty() || name == b"." || name == b".." {
            return Err(format!(
                "invalid destination {} for --replace",
                crate::quote::quote(&dest)
            ));
        }
        Ok(Replace {
            name_at,
            name_len: name.len(),
            dest,
        })
    }

    /// DEST as given.
    pub fn dest(&self) -> &OsStr {
        &self.dest
    }

    /// DEST without trailing slashes (`a/b/out` of `a/b/out/`): the entry itself, which
    /// `lstat` then does not resolve through a symlink as it would with the slash.
    pub fn entry(&self) -> &OsStr {
        let bytes = &self.dest.as_encoded_bytes()[..self.name_at + self.name_len];
        std::os::unix::ffi::OsStrExt::from_bytes(bytes)
    }

    /// DEST's final component (`c.json` of `a/b/c.json/`).
    pub fn name(&self) -> &[u8] {
        &self.dest.as_encoded_bytes()[self.name_at..self.name_at + self.name_len]
    }

    /// The template of the temporary: in DEST's directory (so on DEST's filesystem and
    /// renamed over it atomically), hidden, named after DEST: `a/b/.c.json.XXXXXX`,
    /// `.c.json.XXXXXX` for a DEST without a slash. Relative when DEST is.
    pub fn template(&self) -> OsString {
        let bytes = self.dest.as_encoded_bytes();
        let mut out = bytes[..self.name_at].to_vec();
        out.push(b'.');
        out.extend_from_slice(self.name());
        out.push(b'.');
        out.extend_from_slice(Self::XS.as_bytes());
        // On Unix any bytes are a name: DEST's own bytes plus ASCII.
        std::os::unix::ffi::OsStringExt::from_vec(out)
    }
}

impl Exec {
    /// The template to plan: TEMPLATE, or with `--replace` the one derived from DEST
    /// ([`Replace::template`]).
    pub fn template_to_plan(&self) -> Option<OsString> {
        match self.modes.replace() {
            Some(replace) => Some(replace.template()),
            None => self.template.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(tmpdir: Tmpdir, t_option: bool) -> Request {
        Request {
            suffix: None,
            location: Location { tmpdir, t_option },
            quiet: false,
            mode: Mode::Mktemp(Mktemp {
                kind: Kind::File,
                dry_run: false,
                templates: Vec::new(),
                until: None,
            }),
        }
    }

    fn planned(request: &Request, template: Option<&str>, env: Option<&str>) -> String {
        match request.plan(template.map(OsStr::new), env.map(OsStr::new)) {
            Ok(plan) => plan.template().to_string_lossy().into_owned(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn location_reaches_the_planner() {
        let none = request(Tmpdir::NotGiven, false);
        assert_eq!(planned(&none, Some("aXXX"), Some("/e")), "aXXX");
        assert_eq!(planned(&none, None, Some("/e")), "/e/tmp.XXXXXXXXXX");
        let default = request(Tmpdir::Default, false);
        assert_eq!(planned(&default, Some("aXXX"), Some("/e")), "/e/aXXX");
        assert_eq!(planned(&default, Some("aXXX"), None), "/tmp/aXXX");
        let dir = request(Tmpdir::Dir("/d".into()), false);
        assert_eq!(planned(&dir, Some("aXXX"), Some("/e")), "/d/aXXX");
        // -t prefers $TMPDIR over -p DIR (GNU).
        let t = request(Tmpdir::Dir("/d".into()), true);
        assert_eq!(planned(&t, Some("aXXX"), Some("/e")), "/e/aXXX");
    }

    #[test]
    fn an_empty_dir_is_the_default() {
        assert_eq!(Tmpdir::from_value(Some(OsString::new())), Tmpdir::Default);
        assert_eq!(Tmpdir::from_value(None), Tmpdir::Default);
        assert_eq!(
            Tmpdir::from_value(Some("d".into())),
            Tmpdir::Dir("d".into())
        );
    }

    /// An `--exec` of the user's shell at `path`, every other setting at its default.
    fn shell_exec(path: ExecPath) -> Exec {
        Exec {
            template: None,
            path,
            command: ExecCommand::Shell,
            placeholder: Placeholder::Braces,
            keep: Keep::Never,
            kill_after: None,
            wait_children: false,
            modes: Modes::default(),
        }
    }

    #[test]
    fn exec_path_answers() {
        let anonymous = shell_exec(ExecPath::Anonymous);
        assert_eq!(
            (anonymous.kind(), anonymous.anonymous(), anonymous.cd()),
            (Kind::File, true, false)
        );
        let dir = shell_exec(ExecPath::Directory {
            cd: true,
            export_tmpdir: false,
        });
        assert_eq!(
            (dir.kind(), dir.cd(), dir.export_tmpdir()),
            (Kind::Directory, true, false)
        );
        assert_eq!(ExecCommand::Shell.words(), None);
        let argv = ExecCommand::Argv {
            program: "ls".into(),
            args: vec!["-l".into()],
        };
        assert_eq!(argv.words(), Some(vec!["ls".into(), "-l".into()]));
    }

    #[test]
    fn keep_rules() {
        assert!(!Keep::Never.keeps(true));
        assert!(Keep::OnFailure.keeps(true) && !Keep::OnFailure.keeps(false));
        assert!(Keep::Always.keeps(true) && Keep::Always.keeps(false));
        for value in [None, Some(""), Some("0")] {
            assert!(!keep_from_env(value.map(OsStr::new)), "{value:?}");
        }
        for value in ["1", "yes", "00", " "] {
            assert!(keep_from_env(Some(OsStr::new(value))), "{value:?}");
        }
    }

    #[test]
    fn rtmp_keep_is_ignored_for_an_anonymous_file() {
        let mut exec = shell_exec(ExecPath::Anonymous);
        exec.apply_env_keep(true);
        assert_eq!(exec.keep, Keep::Never);
        exec.path = ExecPath::File;
        exec.apply_env_keep(false);
        assert_eq!(exec.keep, Keep::Never);
        exec.apply_env_keep(true);
        assert_eq!(exec.keep, Keep::Always);
    }

    #[test]
    fn stdin_is_for_files_only() {
        let dir = ExecPath::Directory {
            cd: false,
            export_tmpdir: false,
        };
        assert!(Modes::new(ExecPath::File, true, None).is_ok_and(|m| m.stdin()));
        assert!(Modes::new(ExecPath::Anonymous, true, None).is_ok());
        assert_eq!(
            Modes::new(dir, true, None),
            Err("--stdin cannot be combined with --directory".to_owned())
        );
    }

    #[test]
    fn replace_needs_a_name_and_a_named_path() {
        let r = |d: &str| Replace::new(d.into());
        let template = |d: &str| r(d).map(|r| r.template().to_string_lossy().into_owned());
        assert_eq!(template("c.json"), Ok(".c.json.XXXXXX".to_owned()));
        assert_eq!(template("a/b/c.json"), Ok("a/b/.c.json.XXXXXX".to_owned()));
        assert_eq!(template("/c"), Ok("/.c.XXXXXX".to_owned()));
        assert_eq!(template("a/out//"), Ok("a/.out.XXXXXX".to_owned()));
        assert_eq!(r("a/out/").map(|r| r.name().to_vec()), Ok(b"out".to_vec()));
        assert_eq!(
            r("a/out//").map(|r| r.entry().to_owned()),
            Ok("a/out".into())
        );
        for bad in ["", "/", ".", "..", "a/..", "a/./", "//"] {
            assert!(r(bad).is_err(), "{bad:?}");
        }
        let dest = r("f").expect("valid");
        assert!(Modes::new(ExecPath::Anonymous, false, Some(dest.clone())).is_err());
        let export = ExecPath::Directory {
            cd: false,
            export_tmpdir: true,
        };
        assert!(Modes::new(export, false, Some(dest.clone())).is_err());
        let cd = ExecPath::Directory {
            cd: true,
            export_tmpdir: false,
        };
        assert!(Modes::new(cd, false, Some(dest.clone())).is_ok());
        let modes = Modes::new(ExecPath::File, true, Some(dest)).expect("sponge");
        let exec = Exec {
            template: None,
            path: ExecPath::File,
            command: ExecCommand::Shell,
            placeholder: Placeholder::Braces,
            keep: Keep::Never,
            kill_after: None,
            wait_children: false,
            modes,
        };
        assert_eq!(exec.template_to_plan(), Some(".f.XXXXXX".into()));
    }
}
