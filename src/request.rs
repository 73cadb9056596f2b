//! What the command line asks for, as plain typed data: the [`Request`] that
//! [`crate::cli::parse`] produces and the mktemp and `--exec` modes carry out.
//!
//! Invariants, kept by the types rather than by comments: a request is either mktemp mode
//! (any number of templates, maybe a dry run) or `--exec` mode (at most one template, a
//! command, never a dry run), never both; an `--exec` command has a program; a directory is
//! the only thing that can be entered (`--cd`) or exported as `TMPDIR`, and an anonymous file
//! is never a directory; a given `-p`/`--tmpdir` DIR is never empty (an empty one means "the
//! default directory", as in GNU). This module depends on no parser: clap stays in `cli`.

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
    /// `--keep-on-failure`: keep the path when the command fails or dies of a signal.
    pub keep_on_failure: bool,
    /// `--kill-after=DURATION`: the grace period between SIGTERM and SIGKILL for processes the
    /// command leaves running (`None`: the default, 2 s).
    pub kill_after: Option<Duration>,
    /// `--wait-children`: wait for processes the command leaves running instead of ending them.
    pub wait_children: bool,
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
        /// `--export-tmpdir`: set `TMPDIR` to it for the command.
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

    /// `--export-tmpdir`: the command gets the new directory as `TMPDIR`.
    pub fn export_tmpdir(&self) -> bool {
        matches!(
            self.path,
            ExecPath::Directory {
                export_tmpdir: true,
                ..
            }
        )
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

    #[test]
    fn exec_path_answers() {
        let exec = |path| Exec {
            template: None,
            path,
            command: ExecCommand::Shell,
            keep_on_failure: false,
            kill_after: None,
            wait_children: false,
        };
        let anonymous = exec(ExecPath::Anonymous);
        assert_eq!(
            (anonymous.kind(), anonymous.anonymous(), anonymous.cd()),
            (Kind::File, true, false)
        );
        let dir = exec(ExecPath::Directory {
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
}
