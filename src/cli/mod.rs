//! The command line: from the words after the program name to an [`Action`].
//!
//! GNU `mktemp` uses `getopt_long`, so rtmp follows its rules (README, "Differences from GNU
//! and BSD mktemp"; man page, OPTIONS): options and operands may be mixed, `--` ends options,
//! unambiguous prefixes of long options work, `--tmpdir` takes a value only when attached with
//! `=`, and the last `--suffix` and the last `-p`/`--tmpdir` win. Usage errors use getopt's
//! wording and exit 1 (125 when `--exec` is on the line), never clap's exit 2.
//!
//! - `args.rs`: the clap definition, also the source of `--help`, the man page and the
//!   completions;
//! - `getopt.rs`: getopt's behaviour around clap (prefixes before, error wording after);
//! - this file: [`parse`], and the rules that combine options into a request.
//!
//! clap is used by this module only; the rest of rtmp sees plain data.

use std::ffi::OsString;

use clap::ArgMatches;

use crate::create::Kind;

pub mod args;
pub mod getopt;

use args::id;

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Print help: `-h` (short) or `--help` (long, with examples).
    Help {
        /// `--help` rather than `-h`.
        long: bool,
    },
    /// Print the version.
    Version,
    /// Create (and maybe run a command).
    Create(Request),
}

/// A parsed, validated request: plain data, independent of clap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// File or directory (`-d`).
    pub kind: Kind,
    /// `-u`: print a free name, create nothing.
    pub dry_run: bool,
    /// `-q`: hide creation failures.
    pub quiet: bool,
    /// The last `--suffix`.
    pub suffix: Option<OsString>,
    /// `-p`/`--tmpdir` was given.
    pub tmpdir_option: bool,
    /// The value of the last `-p`/`--tmpdir` (`None` for a bare `--tmpdir`).
    pub tmpdir_arg: Option<OsString>,
    /// `-t`.
    pub t_option: bool,
    /// TEMPLATE operands, in order (empty: the default template).
    pub templates: Vec<OsString>,
    /// `--exec` and its companions.
    pub exec: Option<Exec>,
}

/// The `--exec` part of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exec {
    /// What to run.
    pub command: ExecCommand,
    /// `--export-tmpdir`.
    pub export_tmpdir: bool,
    /// `--keep-on-failure`.
    pub keep_on_failure: bool,
    /// `--cd` (also implied by `--shell`): run in the new directory, with an absolute path.
    pub cd: bool,
    /// `--anonymous`: an unnamed file (never a directory), passed as `/dev/fd/N`.
    pub anonymous: bool,
}

/// The command `--exec` runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecCommand {
    /// CMD and its ARGs, `{}` not yet replaced; never empty.
    Argv(Vec<OsString>),
    /// `--shell`: the user's `$SHELL`, resolved when it runs.
    Shell,
}

/// A usage error: printed as `rtmp: MESSAGE` and `Try 'rtmp --help' for more information.`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    /// getopt-style text, without the program name.
    pub message: String,
    /// `--exec` was on the command line: the exit status is 125, not 1.
    pub exec_mode: bool,
}

impl UsageError {
    fn new(message: impl Into<String>, exec_mode: bool) -> Self {
        Self {
            message: message.into(),
            exec_mode,
        }
    }
}

/// The help text: `-h` (`long` false: one line per option) or `--help` (every option's full
/// text, the exit statuses and examples).
pub fn help_text(long: bool) -> String {
    let mut command = args::command();
    let text = if long {
        command.render_long_help()
    } else {
        command.render_help()
    };
    text.to_string()
}

/// Parses `args` (without the program name) as GNU `mktemp` would, plus rtmp's extensions.
///
/// Output: the [`Action`]. Errors: a [`UsageError`] with getopt's wording (`invalid option --
/// 'z'`, `option '--d' is ambiguous; possibilities: ...`), or one of rtmp's own rules for
/// `--exec`.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Action, UsageError> {
    let mut command = args::command();
    let args = getopt::resolve_gnu_prefixes(args.into_iter().collect(), &command);
    let exec_mode = getopt::mentions_exec(&args);
    let argv = std::iter::once(OsString::from("rtmp")).chain(args.iter().cloned());
    let matches = command
        .try_get_matches_from_mut(argv)
        .map_err(|e| UsageError::new(getopt::message(&e, &args, &command), exec_mode))?;
    if matches.get_flag(id::LONG_HELP) {
        return Ok(Action::Help { long: true });
    }
    if matches.get_flag(id::SHORT_HELP) {
        return Ok(Action::Help { long: false });
    }
    if matches.get_flag(id::VERSION) {
        return Ok(Action::Version);
    }
    let cli = Flags::from_matches(&matches);
    let exec = exec_part(&cli, &matches)?;
    // -p and --tmpdir are one option in GNU: the last one on the line wins.
    let last_index = |id: &str| matches.indices_of(id).and_then(Iterator::max);
    let tmpdir = || value(&matches, id::TMPDIR).filter(|d| !d.is_empty());
    let tmpdir_arg = match (last_index(id::P), last_index(id::TMPDIR)) {
        (Some(p), Some(t)) if t > p => tmpdir(),
        (Some(_), _) => value(&matches, id::P),
        (None, Some(_)) => tmpdir(),
        (None, None) => None,
    };
    Ok(Action::Create(Request {
        kind: if cli.directory || cli.shell {
            Kind::Directory
        } else {
            Kind::File
        },
        dry_run: cli.dry_run,
        quiet: matches.get_flag(id::QUIET),
        suffix: value(&matches, id::SUFFIX),
        tmpdir_option: last_index(id::P).is_some() || last_index(id::TMPDIR).is_some(),
        tmpdir_arg,
        t_option: matches.get_flag(id::T),
        templates: values(&matches, id::TEMPLATES).unwrap_or_default(),
        exec,
    }))
}

/// The last value of option `id`, as the user's bytes.
fn value(matches: &ArgMatches, id: &str) -> Option<OsString> {
    matches.get_one::<OsString>(id).cloned()
}

/// All values of option `id`, in order; `None` when it was not given.
fn values(matches: &ArgMatches, id: &str) -> Option<Vec<OsString>> {
    matches
        .get_many::<OsString>(id)
        .map(|words| words.cloned().collect())
}

/// The flags the combination rules look at.
struct Flags {
    directory: bool,
    dry_run: bool,
    export_tmpdir: bool,
    keep_on_failure: bool,
    cd: bool,
    anonymous: bool,
    shell: bool,
}

impl Flags {
    fn from_matches(matches: &ArgMatches) -> Self {
        Self {
            directory: matches.get_flag(id::DIRECTORY),
            dry_run: matches.get_flag(id::DRY_RUN),
            export_tmpdir: matches.get_flag(id::EXPORT_TMPDIR),
            keep_on_failure: matches.get_flag(id::KEEP_ON_FAILURE),
            cd: matches.get_flag(id::CD),
            anonymous: matches.get_flag(id::ANONYMOUS),
            shell: matches.get_flag(id::SHELL),
        }
    }
}

/// The `--exec` part of the request, checked against rtmp's combination rules (README, "Use in scripts"; man page, OPTIONS).
/// Usage errors here exit 125 whenever exec mode was asked for.
fn exec_part(cli: &Flags, matches: &ArgMatches) -> Result<Option<Exec>, UsageError> {
    let exec = values(matches, id::EXEC);
    let templates = matches
        .get_many::<OsString>(id::TEMPLATES)
        .map_or(0, Iterator::count);
    // --anonymous exists only for --exec, so its misuse is an exec-mode error (125) too.
    let exec_mode = exec.is_some() || cli.shell || cli.anonymous;
    let fail = |m: &str| Err(UsageError::new(m, exec_mode));
    let command = match (&exec, cli.shell) {
        (Some(_), true) => return fail("--shell cannot be combined with --exec"),
        (Some(words), false) => {
            let mut words = words.clone();
            // `--exec -- CMD`: the `--` only protects CMD from option parsing.
            if words.first().is_some_and(|w| w == "--") {
                words.remove(0);
            }
            if words.is_empty() {
                return fail("option '--exec' requires a command");
            }
            ExecCommand::Argv(words)
        }
        (None, true) => ExecCommand::Shell,
        (None, false) => {
            for (given, name) in [
                (cli.export_tmpdir, "--export-tmpdir"),
                (cli.keep_on_failure, "--keep-on-failure"),
                (cli.cd, "--cd"),
                (cli.anonymous, "--anonymous"),
            ] {
                if given {
                    return fail(&format!("option '{name}' requires --exec"));
                }
            }
            return Ok(None);
        }
    };
    let directory = cli.directory || cli.shell;
    if cli.dry_run {
        return fail("--dry-run cannot be combined with --exec");
    }
    if templates > 1 {
        return fail("--exec takes at most one template");
    }
    if cli.export_tmpdir && !directory {
        return fail("--export-tmpdir requires --directory");
    }
    if cli.cd && !directory {
        return fail("--cd requires --directory");
    }
    if cli.anonymous && cli.shell {
        return fail("--anonymous cannot be combined with --shell");
    }
    if cli.anonymous && directory {
        return fail("--anonymous cannot be combined with --directory");
    }
    Ok(Some(Exec {
        command,
        export_tmpdir: cli.export_tmpdir,
        keep_on_failure: cli.keep_on_failure,
        cd: cli.cd || cli.shell,
        anonymous: cli.anonymous,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Action, UsageError> {
        parse(words.iter().map(OsString::from))
    }

    fn request(words: &[&str]) -> Request {
        match parse_words(words) {
            Ok(Action::Create(r)) => r,
            other => panic!("{words:?} gave {other:?}"),
        }
    }

    fn usage_error(words: &[&str]) -> UsageError {
        match parse_words(words) {
            Err(e) => e,
            other => panic!("{words:?} gave {other:?}"),
        }
    }

    #[test]
    fn last_of_p_and_tmpdir_wins() {
        assert_eq!(
            request(&["-p", "a", "--tmpdir=b"]).tmpdir_arg,
            Some("b".into())
        );
        assert_eq!(
            request(&["--tmpdir=b", "-p", "a"]).tmpdir_arg,
            Some("a".into())
        );
        // A bare --tmpdir after -p resets the directory to $TMPDIR, as in GNU.
        let r = request(&["-p", "a", "--tmpdir", "fooXXX"]);
        assert_eq!((r.tmpdir_option, r.tmpdir_arg), (true, None));
        assert_eq!(r.templates, vec![OsString::from("fooXXX")]);
    }

    #[test]
    fn last_suffix_wins_and_options_follow_operands() {
        let r = request(&["aXXX", "--suffix=.a", "-u", "--suffix", ".b"]);
        assert_eq!(r.suffix, Some(".b".into()));
        assert!(r.dry_run);
    }

    #[test]
    fn gnu_prefixes_keep_their_gnu_meaning() {
        assert_eq!(request(&["--s=.txt", "aXXX"]).suffix, Some(".txt".into()));
        assert_eq!(
            request(&["--s", ".txt", "aXXX"]).suffix,
            Some(".txt".into())
        );
        assert!(request(&["--sh"]).exec.is_some());
        assert_eq!(
            usage_error(&["--d"]).message,
            "option '--d' is ambiguous; possibilities: '--directory' '--dry-run'"
        );
    }

    #[test]
    fn words_after_exec_are_the_commands() {
        let r = request(&["-d", "--exec", "grep", "--s", "-d", "x"]);
        let exec = r.exec.expect("exec mode");
        assert_eq!(
            exec.command,
            ExecCommand::Argv(["grep", "--s", "-d", "x"].map(OsString::from).to_vec())
        );
        let r = request(&["--exec", "--", "ls", "-l"]);
        assert_eq!(
            r.exec.expect("exec mode").command,
            ExecCommand::Argv(["ls", "-l"].map(OsString::from).to_vec())
        );
    }

    #[test]
    fn usage_errors_use_getopt_wording() {
        assert_eq!(usage_error(&["-z"]).message, "invalid option -- 'z'");
        assert_eq!(
            usage_error(&["--foo=bar"]).message,
            "unrecognized option '--foo=bar'"
        );
        assert_eq!(
            usage_error(&["-p"]).message,
            "option requires an argument -- 'p'"
        );
        assert_eq!(
            usage_error(&["--suffix"]).message,
            "option '--suffix' requires an argument"
        );
        assert_eq!(
            usage_error(&["--directory=x"]).message,
            "option '--directory' doesn't allow an argument"
        );
        assert!(!usage_error(&["-z"]).exec_mode);
    }

    #[test]
    fn usage_errors_with_exec_are_exec_mode() {
        for words in [
            &["-u", "--exec", "true"][..],
            &["aXXX", "bXXX", "--exec", "true"],
            &["--exec"],
            &["--export-tmpdir", "--exec", "true"],
            &["--cd", "--exec", "true"],
            &["--shell", "--exec", "true"],
            &["-z", "--exe", "true"],
        ] {
            assert!(usage_error(words).exec_mode, "{words:?}");
        }
        assert!(!usage_error(&["--keep-on-failure"]).exec_mode);
    }

    #[test]
    fn shell_implies_directory_and_cd() {
        let r = request(&["--shell", "-p", "x", "work.XXXX"]);
        assert_eq!(r.kind, Kind::Directory);
        let exec = r.exec.expect("exec mode");
        assert_eq!(exec.command, ExecCommand::Shell);
        assert!(exec.cd);
    }

    #[test]
    fn help_and_version_actions() {
        assert_eq!(parse_words(&["-h"]), Ok(Action::Help { long: false }));
        assert_eq!(parse_words(&["--help"]), Ok(Action::Help { long: true }));
        assert_eq!(parse_words(&["--he"]), Ok(Action::Help { long: true }));
        assert_eq!(parse_words(&["-V"]), Ok(Action::Version));
        assert_eq!(parse_words(&["--version"]), Ok(Action::Version));
    }
}
