//! How rtmp ends: the [`Outcome`] of a run, and the one table of exit statuses.
//!
//! [`STATUS_TABLE`] is the only description of rtmp's exit statuses. The EXIT STATUS text of
//! `--help` is rendered from it ([`render_plain`]), so is the man page's (`tests/generated.rs`),
//! and a test checks that the README's "Exit status" table says the same. [`Outcome::termination`]
//! turns an outcome into a status through the constants the table names, and a test checks that
//! every outcome has its row and every row its outcome.
//!
//! The statuses: mktemp mode gives 0 or 1, as GNU `mktemp`. `--exec` mode gives the command's
//! status, or 125 (rtmp failed), 126 (the command cannot run) and 127 (not found), as GNU
//! `env`, `timeout` and `nice` do; a command killed by a signal makes rtmp die of that signal.

/// Success (GNU `mktemp`: `EXIT_SUCCESS`).
pub const SUCCESS: u8 = 0;
/// Any failure in mktemp mode (GNU `mktemp`: `EXIT_FAILURE`).
pub const FAILURE: u8 = 1;
/// `--exec`: rtmp itself failed (GNU `env`/`timeout`: `EXIT_CANCELED`).
pub const EXEC_FAILED: u8 = 125;
/// `--exec`: the command was found but could not be run (GNU `EXIT_CANNOT_INVOKE`, POSIX shells).
pub const CANNOT_RUN: u8 = 126;
/// `--exec`: the command was not found (GNU `EXIT_ENOENT`, POSIX shells).
pub const NOT_FOUND: u8 = 127;

/// How a run of rtmp ended, before it is turned into an exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done: [`SUCCESS`].
    Success,
    /// mktemp mode failed (bad template, creation, output, usage): [`FAILURE`].
    Failure,
    /// `--exec` mode: rtmp itself failed before the child ran, could not remove the path
    /// after a successful child, or (`--replace`) could not move it into place: [`EXEC_FAILED`].
    ExecFailed,
    /// `--exec` mode: CMD was found but could not be run: [`CANNOT_RUN`].
    CannotRun,
    /// `--exec` mode: CMD was not found: [`NOT_FOUND`].
    NotFound,
    /// `--exec` mode: the child exited with this status.
    ChildExited(u8),
    /// `--exec` mode: the child (or rtmp, before the child started) was killed by this signal;
    /// rtmp re-raises it so the caller sees a signal death.
    Signaled(i32),
}

/// The way the process ends, derived from an [`Outcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// `exit(code)`.
    Exit(u8),
    /// Die of this signal (default disposition, no core dump).
    Signal(i32),
}

impl Outcome {
    /// The exit status or signal for this outcome.
    pub fn termination(self) -> Termination {
        match self {
            Self::Success => Termination::Exit(SUCCESS),
            Self::Failure => Termination::Exit(FAILURE),
            Self::ExecFailed => Termination::Exit(EXEC_FAILED),
            Self::CannotRun => Termination::Exit(CANNOT_RUN),
            Self::NotFound => Termination::Exit(NOT_FOUND),
            Self::ChildExited(code) => Termination::Exit(code),
            Self::Signaled(sig) => Termination::Signal(sig),
        }
    }

    /// The row of [`STATUS_TABLE`] that documents this outcome (`None` would be a gap in the
    /// table, which a test rules out).
    pub fn documented_by(self) -> Option<&'static StatusRow> {
        let (mode, status) = match self {
            Self::Success => (StatusMode::Mktemp, Status::Code(SUCCESS)),
            Self::Failure => (StatusMode::Mktemp, Status::Code(FAILURE)),
            Self::ExecFailed => (StatusMode::Exec, Status::Code(EXEC_FAILED)),
            Self::CannotRun => (StatusMode::Exec, Status::Code(CANNOT_RUN)),
            Self::NotFound => (StatusMode::Exec, Status::Code(NOT_FOUND)),
            Self::ChildExited(_) => (StatusMode::Exec, Status::Child),
            Self::Signaled(_) => (StatusMode::Exec, Status::Signal),
        };
        STATUS_TABLE
            .iter()
            .find(|row| row.mode == mode && row.status == status)
    }
}

/// The mode a row of [`STATUS_TABLE`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMode {
    /// Without `--exec` (GNU `mktemp`'s statuses).
    Mktemp,
    /// With `--exec` (or `--shell`).
    Exec,
}

impl StatusMode {
    /// The README's name for the mode, in Markdown: `mktemp` or `` `--exec` ``.
    pub fn label(self) -> &'static str {
        match self {
            Self::Mktemp => "mktemp",
            Self::Exec => "`--exec`",
        }
    }
}

/// The status column of a row of [`STATUS_TABLE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// This exit status.
    Code(u8),
    /// The command's own exit status.
    Child,
    /// The command's signal, re-raised.
    Signal,
}

impl Status {
    /// How the table writes the status: `0`, `N` (the command's status) or `signal N`.
    pub fn label(self) -> String {
        match self {
            Self::Code(code) => code.to_string(),
            Self::Child => "N".to_owned(),
            Self::Signal => "signal N".to_owned(),
        }
    }
}

/// One row of [`STATUS_TABLE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusRow {
    /// The mode the status belongs to.
    pub mode: StatusMode,
    /// The status.
    pub status: Status,
    /// What it means, in the README's words; `` `code` `` spans are the only markup.
    pub meaning: &'static str,
}

/// Every exit status rtmp gives, mktemp mode first; the README's "Exit status" table.
pub const STATUS_TABLE: &[StatusRow] = &[
    StatusRow {
        mode: StatusMode::Mktemp,
        status: Status::Code(SUCCESS),
        meaning: "created (or, with `-u`, a free name found) and printed",
    },
    StatusRow {
        mode: StatusMode::Mktemp,
        status: Status::Code(FAILURE),
        meaning: "any failure: usage, template, creation, write error; nothing is left behind \
                  (as in GNU mktemp, a write to a closed pipe kills rtmp with SIGPIPE unless \
                  SIGPIPE is ignored)",
    },
    StatusRow {
        mode: StatusMode::Exec,
        status: Status::Child,
        meaning: "the command's exit status",
    },
    StatusRow {
        mode: StatusMode::Exec,
        status: Status::Code(EXEC_FAILED),
        meaning: "rtmp failed before the command ran (usage, template, creation, no guardian, \
                  copying standard input), could not remove the path after the command \
                  succeeded, or with `--replace` could not move the result into place",
    },
    StatusRow {
        mode: StatusMode::Exec,
        status: Status::Code(CANNOT_RUN),
        meaning: "the command was found but could not be run",
    },
    StatusRow {
        mode: StatusMode::Exec,
        status: Status::Code(NOT_FOUND),
        meaning: "the command was not found",
    },
    StatusRow {
        mode: StatusMode::Exec,
        status: Status::Signal,
        meaning: "the command died of signal N; rtmp removed the path and re-raised N (core \
                  dumps off)",
    },
];

/// `text` without its `` ` `` markup, as plain text shows it.
pub fn plain(text: &str) -> String {
    text.replace('`', "")
}

/// The table as `--help` shows it: one block per mode, a blank line between, the meanings wrapped so that no line is
/// longer than `width` (unless one word is). Ends with a newline.
pub fn render_plain(width: usize) -> String {
    let column = STATUS_TABLE
        .iter()
        .map(|row| row.status.label().len())
        .max()
        .unwrap_or(0)
        + 4;
    let mut out = String::new();
    let mut mode = None;
    for row in STATUS_TABLE {
        if mode != Some(row.mode) {
            if mode.is_some() {
                out.push('\n');
            }
            mode = Some(row.mode);
            out.push_str(match row.mode {
                StatusMode::Mktemp => "Exit status:\n",
                StatusMode::Exec => "Exit status with --exec:\n",
            });
        }
        let mut line = format!("  {}", row.status.label());
        for word in plain(row.meaning).split(' ') {
            if line.len() < column {
                line.push_str(&" ".repeat(column - line.len()));
            } else if line.len() + 1 + word.len() > width {
                out.push_str(&line);
                out.push('\n');
                line = " ".repeat(column);
            } else {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each kind of outcome.
    const OUTCOMES: [Outcome; 7] = [
        Outcome::Success,
        Outcome::Failure,
        Outcome::ExecFailed,
        Outcome::CannotRun,
        Outcome::NotFound,
        Outcome::ChildExited(7),
        Outcome::Signaled(15),
    ];

    #[test]
    fn mktemp_statuses_are_gnus() {
        assert_eq!(Outcome::Success.termination(), Termination::Exit(0));
        assert_eq!(Outcome::Failure.termination(), Termination::Exit(1));
    }

    #[test]
    fn exec_statuses_follow_env_and_timeout() {
        assert_eq!(Outcome::ExecFailed.termination(), Termination::Exit(125));
        assert_eq!(Outcome::CannotRun.termination(), Termination::Exit(126));
        assert_eq!(Outcome::NotFound.termination(), Termination::Exit(127));
        assert_eq!(Outcome::ChildExited(7).termination(), Termination::Exit(7));
        assert_eq!(Outcome::Signaled(15).termination(), Termination::Signal(15));
    }

    #[test]
    fn every_outcome_has_its_row_and_every_row_its_outcome() {
        for outcome in OUTCOMES {
            let row = outcome.documented_by();
            let row = row.unwrap_or_else(|| panic!("{outcome:?} is not in STATUS_TABLE"));
            match (row.status, outcome.termination()) {
                (Status::Code(code), Termination::Exit(exit)) => assert_eq!(code, exit),
                (Status::Child, Termination::Exit(_))
                | (Status::Signal, Termination::Signal(_)) => {}
                other => panic!("{outcome:?}: {other:?}"),
            }
        }
        for row in STATUS_TABLE {
            assert!(
                OUTCOMES.iter().any(|o| o.documented_by() == Some(row)),
                "no outcome gives {row:?}"
            );
        }
    }

    #[test]
    fn readme_table_is_this_table() {
        let readme = include_str!("../README.md");
        let section = readme
            .split("\n## Exit status\n")
            .nth(1)
            .expect("README has an '## Exit status' section");
        let have: Vec<&str> = section
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .collect();
        let mut want = vec![
            "| mode | status | meaning |".to_owned(),
            "| --- | --- | --- |".to_owned(),
        ];
        want.extend(STATUS_TABLE.iter().map(|row| {
            format!(
                "| {} | {} | {} |",
                row.mode.label(),
                row.status.label(),
                row.meaning
            )
        }));
        assert_eq!(
            have, want,
            "README's exit status table differs from STATUS_TABLE"
        );
    }

    #[test]
    fn plain_rendering_is_wrapped_and_complete() {
        let text = render_plain(92);
        assert!(text.lines().all(|l| l.len() <= 92), "{text}");
        assert!(text.starts_with("Exit status:\n  0 "), "{text}");
        assert!(
            text.contains("\n\nExit status with --exec:\n  N "),
            "{text}"
        );
        let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        for row in STATUS_TABLE {
            let meaning = words(&plain(row.meaning)).join(" ");
            assert!(words(&text).join(" ").contains(&meaning), "{meaning}");
        }
    }
}
