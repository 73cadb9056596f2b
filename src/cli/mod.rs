//! The command line: from the words after the program name to an [`Action`].
//!
//! GNU `mktemp` uses `getopt_long`, so rtmp follows its rules (docs/behaviour.md A1; README,
//! "Differences from GNU and BSD mktemp"; man page, OPTIONS): options and operands may be mixed
//! (not with `POSIXLY_CORRECT`), `--` ends options, unambiguous prefixes of long options work,
//! `--tmpdir` takes a value only when attached with `=`, `-p=DIR` is the directory `=DIR`,
//! options act in order (`--help` before a bad option wins), and the last `--suffix` and the
//! last `-p`/`--tmpdir` win. Usage errors use getopt's
//! wording and exit 1 (125 when `--exec` is on the line), never clap's exit 2.
//!
//! - `args.rs`: the clap definition, also the source of `--help`, the man page and the
//!   completions;
//! - `getopt.rs`: getopt's behaviour around clap (prefixes before, error wording after);
//! - this file: [`parse`] and the rules that combine options into a
//!   [`Request`] (`--exec` takes one template, `--cd` needs `-d`, ...),
//!   and [`help_text`]. The arguments themselves come from the C runtime through
//!   [`crate::sys::args::from_c_main`].
//!
//! Invariants: clap is used by this module only, and the rest of rtmp sees plain data; every
//! argument stays bytes (`OsString`) from `argv` to the request; no input makes [`parse`]
//! panic (the `parse_args` fuzz target checks it).

use std::ffi::{OsStr, OsString};

use clap::ArgMatches;
use clap::parser::ValueSource;

use crate::exit::Outcome;
use crate::request::{
    Exec, ExecCommand, ExecPath, Keep, Kind, Location, Mktemp, Mode, Modes, Placeholder, Replace,
    Request, Tmpdir,
};

pub mod args;
mod getopt;

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
    Create(Box<Request>),
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

    /// How rtmp ends after this error: [`Outcome::ExecFailed`] (125) in exec mode, as GNU
    /// `env` and `timeout` fail, else [`Outcome::Failure`] (1), as GNU `mktemp`.
    pub fn outcome(&self) -> Outcome {
        if self.exec_mode {
            Outcome::ExecFailed
        } else {
            Outcome::Failure
        }
    }
}

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UsageError {}

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

/// What of the environment changes how the command line is parsed. The caller reads it (`main`
/// from the process environment), so that parsing stays a pure function of its inputs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseEnv {
    /// `POSIXLY_CORRECT` is in the environment (any value, glibc's rule): options end at the
    /// first operand (docs/behaviour.md A1.2).
    pub posixly_correct: bool,
}

impl ParseEnv {
    /// The parts of the process environment that parsing depends on.
    pub fn from_process() -> Self {
        Self {
            posixly_correct: std::env::var_os("POSIXLY_CORRECT").is_some(),
        }
    }
}

/// Parses `args` (without the program name) as GNU `mktemp` would, plus rtmp's extensions, with
/// a default [`ParseEnv`] (no `POSIXLY_CORRECT`); see [`parse_in`].
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Action, UsageError> {
    parse_in(args, ParseEnv::default())
}

/// Parses `args` (without the program name) as GNU `mktemp` would in the environment `env`,
/// plus rtmp's extensions. Options act in getopt's order: a `--help` or `--version` before the
/// first bad option wins (docs/behaviour.md A1.6).
///
/// Output: the [`Action`]. Errors: a [`UsageError`] with getopt's wording (`invalid option --
/// 'z'`, `option '--d' is ambiguous; possibilities: ...`), or one of rtmp's own rules for
/// `--exec`.
pub fn parse_in(
    args: impl IntoIterator<Item = OsString>,
    env: ParseEnv,
) -> Result<Action, UsageError> {
    let mut command = args::parsing_command();
    let mut args = getopt::resolve_gnu_prefixes(args.into_iter().collect(), &command);
    let operands = if env.posixly_correct {
        getopt::take_posix_operands(&mut args)
    } else {
        Vec::new()
    };
    let info = [id::LONG_HELP, id::SHORT_HELP, id::VERSION];
    match getopt::first_info_option(&args, &command, &info).as_deref() {
        Some(id::LONG_HELP) => return Ok(Action::Help { long: true }),
        Some(id::SHORT_HELP) => return Ok(Action::Help { long: false }),
        Some(id::VERSION) => return Ok(Action::Version),
        _ => {}
    }
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
    let flags = Flags::from_matches(&matches);
    let mode = mode(&flags, &matches, exec_mode, operands, &args)?;
    Ok(Action::Create(Box::new(Request {
        suffix: value(&matches, id::SUFFIX),
        location: Location {
            tmpdir: tmpdir(&matches),
            t_option: matches.get_flag(id::T),
        },
        quiet: matches.get_flag(id::QUIET),
        mode,
    })))
}

/// `-p DIR` and `--tmpdir[=DIR]`: one option in GNU, so the last one on the line wins.
fn tmpdir(matches: &ArgMatches) -> Tmpdir {
    let last_index = |id: &str| matches.indices_of(id).and_then(Iterator::max);
    let last = match (last_index(id::P), last_index(id::TMPDIR)) {
        (None, None) => return Tmpdir::NotGiven,
        (Some(p), Some(t)) if t > p => id::TMPDIR,
        (Some(_), _) => id::P,
        (None, Some(_)) => id::TMPDIR,
    };
    Tmpdir::from_value(value(matches, last))
}

/// `-I STR`/`--placeholder=STR` and `--no-placeholder`: the last one on the line wins (getopt
/// order, as for `-p`/`--tmpdir`); neither means `{}`.
fn placeholder(matches: &ArgMatches) -> Placeholder {
    // A flag has a default (false) with an index of its own: only what the user typed counts.
    let last_index = |id: &str| {
        (matches.value_source(id) == Some(ValueSource::CommandLine))
            .then(|| matches.indices_of(id).and_then(Iterator::max))
            .flatten()
    };
    let literal =
        || value(matches, id::PLACEHOLDER).map_or(Placeholder::Braces, Placeholder::Literal);
    match (last_index(id::PLACEHOLDER), last_index(id::NO_PLACEHOLDER)) {
        (Some(i), Some(off)) if i > off => literal(),
        (_, Some(_)) => Placeholder::Off,
        (Some(_), None) => literal(),
        (None, None) => Placeholder::Braces,
    }
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
    keep: bool,
    placeholder: bool,
    no_placeholder: bool,
    cd: bool,
    anonymous: bool,
    shell: bool,
    wait_children: bool,
    /// Issue 14: `--stdin`.
    stdin: bool,
    /// Issue 14: `--replace DEST`.
    replace: Option<OsString>,
    /// Issue 14: `--until PID`, as typed.
    until: Option<OsString>,
    /// `-p`, `--tmpdir` or `-t` was given (`--replace` puts the path next to DEST).
    location_given: bool,
}

impl Flags {
    fn from_matches(matches: &ArgMatches) -> Self {
        Self {
            directory: matches.get_flag(id::DIRECTORY),
            dry_run: matches.get_flag(id::DRY_RUN),
            export_tmpdir: matches.get_flag(id::EXPORT_TMPDIR),
            keep_on_failure: matches.get_flag(id::KEEP_ON_FAILURE),
            keep: matches.get_flag(id::KEEP),
            placeholder: matches.contains_id(id::PLACEHOLDER),
            no_placeholder: matches.get_flag(id::NO_PLACEHOLDER),
            cd: matches.get_flag(id::CD),
            anonymous: matches.get_flag(id::ANONYMOUS),
            shell: matches.get_flag(id::SHELL),
            wait_children: matches.get_flag(id::WAIT_CHILDREN),
            stdin: matches.get_flag(id::STDIN),
            replace: value(matches, id::REPLACE),
            until: value(matches, id::UNTIL),
            location_given: matches.indices_of(id::P).is_some()
                || matches.indices_of(id::TMPDIR).is_some()
                || matches.get_flag(id::T),
        }
    }
}

/// The mode and its part of the request, checked against rtmp's rules for combining options
/// (docs/behaviour.md C5; man page, OPTIONS). `exec_mode` is [`getopt::mentions_exec`] of the
/// line: usage errors exit 125 when `--exec` or `--shell` is on it, else 1 like every other
/// usage error, whatever the option (`rtmp --anonymous` alone: 1; docs/behaviour.md C6).
/// `operands` are TEMPLATEs that follow the ones clap found (`POSIXLY_CORRECT`). `args` are the
/// words clap parsed: messages name an option as the user spelled it (`-u`, not `--dry-run`;
/// `--shell`, not the `--exec` it implies).
fn mode(
    flags: &Flags,
    matches: &ArgMatches,
    exec_mode: bool,
    operands: Vec<OsString>,
    args: &[OsString],
) -> Result<Mode, UsageError> {
    let exec = values(matches, id::EXEC);
    let mut templates = values(matches, id::TEMPLATES).unwrap_or_default();
    templates.extend(operands);
    let fail = |m: &str| Err(UsageError::new(m, exec_mode));
    let command = match (exec, flags.shell) {
        (Some(_), true) => return fail("--shell cannot be combined with --exec"),
        (Some(words), false) => {
            let mut words = words.into_iter();
            let mut program = words.next();
            // `--exec -- CMD`: the `--` only protects CMD from option parsing.
            if program.as_ref().is_some_and(|w| w == "--") {
                program = words.next();
            }
            let Some(program) = program else {
                return fail("option '--exec' requires a command");
            };
            ExecCommand::Argv {
                program,
                args: words.collect(),
            }
        }
        (None, true) => ExecCommand::Shell,
        (None, false) => {
            if flags.until.is_some() && flags.anonymous {
                return fail("--anonymous cannot be combined with --until");
            }
            for (given, name) in [
                (flags.export_tmpdir, "--export-tmpdir"),
                (flags.keep_on_failure, "--keep-on-failure"),
                (flags.keep, "--keep"),
                (
                    flags.placeholder,
                    &getopt::typed_flag(args, b'I', "placeholder"),
                ),
                (flags.no_placeholder, "--no-placeholder"),
                (flags.cd, "--cd"),
                (flags.anonymous, "--anonymous"),
                (value(matches, id::KILL_AFTER).is_some(), "--kill-after"),
                (flags.wait_children, "--wait-children"),
                (flags.stdin, "--stdin"),
                (flags.replace.is_some(), "--replace"),
            ] {
                if given {
                    return fail(&format!("option '{name}' requires --exec"));
                }
            }
            let until = match &flags.until {
                None => None,
                Some(pid) => match pid.to_str().and_then(|p| p.parse::<i32>().ok()) {
                    Some(pid) if pid > 0 => Some(pid),
                    _ => {
                        return fail(&format!(
                            "invalid PID for --until: '{}'",
                            pid.to_string_lossy()
                        ));
                    }
                },
            };
            if until.is_some() && flags.dry_run {
                let dry_run = getopt::typed_flag(args, b'u', "dry-run");
                return fail(&format!("{dry_run} cannot be combined with --until"));
            }
            return Ok(Mode::Mktemp(Mktemp {
                kind: if flags.directory {
                    Kind::Directory
                } else {
                    Kind::File
                },
                dry_run: flags.dry_run,
                templates,
                until,
            }));
        }
    };
    let directory = flags.directory || flags.shell;
    let exec = if flags.shell { "--shell" } else { "--exec" };
    if flags.until.is_some() {
        return fail(&format!("--until cannot be combined with {exec}"));
    }
    if flags.dry_run {
        let dry_run = getopt::typed_flag(args, b'u', "dry-run");
        return fail(&format!("{dry_run} cannot be combined with {exec}"));
    }
    if templates.len() > 1 {
        return fail(&format!("{exec} takes at most one template"));
    }
    if flags.export_tmpdir && !directory {
        return fail("--export-tmpdir requires --directory");
    }
    if flags.cd && !directory {
        return fail("--cd requires --directory");
    }
    if flags.anonymous && flags.shell {
        return fail("--anonymous cannot be combined with --shell");
    }
    if flags.anonymous && directory {
        let directory = getopt::typed_flag(args, b'd', "directory");
        return fail(&format!("--anonymous cannot be combined with {directory}"));
    }
    // An unnamed file cannot be kept (issue 13, item 5): refused rather than ignored.
    for (given, name) in [
        (flags.keep_on_failure, "--keep-on-failure"),
        (flags.keep, "--keep"),
    ] {
        if given && flags.anonymous {
            return fail(&format!("{name} cannot be combined with --anonymous"));
        }
    }
    let placeholder = placeholder(matches);
    if placeholder == Placeholder::Literal(OsString::new()) {
        return fail("the placeholder must not be empty");
    }
    let path = if flags.anonymous {
        ExecPath::Anonymous
    } else if directory {
        ExecPath::Directory {
            cd: flags.cd || flags.shell,
            // A throwaway shell's temporary files belong in its throwaway directory.
            export_tmpdir: flags.export_tmpdir || flags.shell,
        }
    } else {
        ExecPath::File
    };
    let kill_after = match value(matches, id::KILL_AFTER) {
        None => None,
        Some(text) => match parse_duration(&text) {
            Some(d) => Some(d),
            None => {
                return fail(&format!(
                    "invalid time interval '{}'",
                    text.to_string_lossy()
                ));
            }
        },
    };
    let modes = issue14_modes(flags, path, !templates.is_empty(), exec_mode)?;
    Ok(Mode::Exec(Exec {
        template: templates.pop(),
        path,
        command,
        placeholder,
        // --keep wins over --keep-on-failure: it keeps in every case.
        keep: if flags.keep {
            Keep::Always
        } else if flags.keep_on_failure {
            Keep::OnFailure
        } else {
            Keep::Never
        },
        kill_after,
        wait_children: flags.wait_children,
        modes,
    }))
}

/// A duration as GNU `timeout` reads it: a non-negative decimal number with an optional unit
/// `s` (seconds, the default), `m`, `h` or `d`. `None` if it is anything else or too large.
fn parse_duration(text: &OsStr) -> Option<std::time::Duration> {
    let text = text.to_str()?;
    let (number, unit) = match text.char_indices().last()? {
        (i, 's') => (&text[..i], 1.0),
        (i, 'm') => (&text[..i], 60.0),
        (i, 'h') => (&text[..i], 3600.0),
        (i, 'd') => (&text[..i], 86400.0),
        _ => (text, 1.0),
    };
    // Digits and at most one point only: no sign, exponent, "inf" or "nan".
    if number.is_empty()
        || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || number.bytes().filter(|&b| b == b'.').count() > 1
        || number == "."
    {
        return None;
    }
    let seconds: f64 = number.parse().ok()?;
    std::time::Duration::try_from_secs_f64(seconds * unit).ok()
}

/// Issue 14: `--stdin` and `--replace DEST` for the path `mode` chose, under [`Modes::new`]'s
/// rules and the command line's: `--replace` names the path after DEST, in DEST's directory,
/// so a TEMPLATE or a location option would mean nothing (docs/behaviour.md C9, C10).
fn issue14_modes(
    flags: &Flags,
    path: ExecPath,
    has_template: bool,
    exec_mode: bool,
) -> Result<Modes, UsageError> {
    let fail = |m: &str| Err(UsageError::new(m, exec_mode));
    if flags.stdin && flags.shell {
        return fail("--stdin cannot be combined with --shell");
    }
    let replace = match &flags.replace {
        None => None,
        Some(_) if flags.shell => return fail("--replace cannot be combined with --shell"),
        Some(_) if has_template => {
            return fail("--replace takes no template: the path is named after DEST");
        }
        Some(_) if flags.location_given => {
            return fail("--replace cannot be combined with -p, --tmpdir or -t");
        }
        Some(dest) => Some(Replace::new(dest.clone()).map_err(|m| UsageError::new(m, exec_mode))?),
    };
    Modes::new(path, flags.stdin, replace).map_err(|m| UsageError::new(m, exec_mode))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    fn parse_words(words: &[&str]) -> Result<Action, UsageError> {
        parse(words.iter().map(OsString::from))
    }

    fn request(words: &[&str]) -> Request {
        match parse_words(words) {
            Ok(Action::Create(r)) => *r,
            other => panic!("{words:?} gave {other:?}"),
        }
    }

    fn usage_error(words: &[&str]) -> UsageError {
        match parse_words(words) {
            Err(e) => e,
            other => panic!("{words:?} gave {other:?}"),
        }
    }

    fn mktemp(words: &[&str]) -> Mktemp {
        match request(words).mode {
            Mode::Mktemp(m) => m,
            other => panic!("{words:?} gave {other:?}"),
        }
    }

    fn exec(words: &[&str]) -> Exec {
        match request(words).mode {
            Mode::Exec(e) => e,
            other => panic!("{words:?} gave {other:?}"),
        }
    }

    fn argv(program: &str, args: &[&str]) -> ExecCommand {
        ExecCommand::Argv {
            program: program.into(),
            args: args.iter().map(OsString::from).collect(),
        }
    }

    #[test]
    fn last_of_p_and_tmpdir_wins() {
        assert_eq!(
            request(&["-p", "a", "--tmpdir=b"]).location.tmpdir,
            Tmpdir::Dir("b".into())
        );
        assert_eq!(
            request(&["--tmpdir=b", "-p", "a"]).location.tmpdir,
            Tmpdir::Dir("a".into())
        );
        // A bare --tmpdir after -p resets the directory to $TMPDIR, as in GNU.
        let r = request(&["-p", "a", "--tmpdir", "fooXXX"]);
        assert_eq!(r.location.tmpdir, Tmpdir::Default);
        assert_eq!(
            mktemp(&["-p", "a", "--tmpdir", "fooXXX"]).templates,
            vec![OsString::from("fooXXX")]
        );
        assert_eq!(
            request(&["-p", "", "aXXX"]).location.tmpdir,
            Tmpdir::Default
        );
        assert_eq!(request(&["aXXX"]).location.tmpdir, Tmpdir::NotGiven);
    }

    #[test]
    fn last_suffix_wins_and_options_follow_operands() {
        let words = ["aXXX", "--suffix=.a", "-u", "--suffix", ".b"];
        assert_eq!(request(&words).suffix, Some(".b".into()));
        assert!(mktemp(&words).dry_run);
    }

    #[test]
    fn gnu_prefixes_keep_their_gnu_meaning() {
        assert_eq!(request(&["--s=.txt", "aXXX"]).suffix, Some(".txt".into()));
        assert_eq!(
            request(&["--s", ".txt", "aXXX"]).suffix,
            Some(".txt".into())
        );
        assert_eq!(exec(&["--sh"]).command, ExecCommand::Shell);
        assert_eq!(
            usage_error(&["--d"]).message,
            "option '--d' is ambiguous; possibilities: '--directory' '--dry-run'"
        );
    }

    #[test]
    fn words_after_exec_are_the_commands() {
        assert_eq!(
            exec(&["-d", "--exec", "grep", "--s", "-d", "x"]).command,
            argv("grep", &["--s", "-d", "x"])
        );
        assert_eq!(
            exec(&["--exec", "--", "ls", "-l"]).command,
            argv("ls", &["-l"])
        );
        assert_eq!(exec(&["--exec", "--", "--"]).command, argv("--", &[]));
        assert_eq!(
            usage_error(&["--exec", "--"]).message,
            "option '--exec' requires a command"
        );
    }

    #[test]
    fn exec_mode_has_one_template_and_its_path() {
        let e = exec(&["-d", "--cd", "--export-tmpdir", "aXXX", "--exec", "true"]);
        assert_eq!(e.template, Some("aXXX".into()));
        assert_eq!(
            e.path,
            ExecPath::Directory {
                cd: true,
                export_tmpdir: true
            }
        );
        let e = exec(&["--anonymous", "--exec", "true"]);
        assert_eq!(
            (e.template, e.path, e.keep),
            (None, ExecPath::Anonymous, Keep::Never)
        );
        let e = exec(&["--exec", "true"]);
        assert_eq!(
            (e.path, e.placeholder),
            (ExecPath::File, Placeholder::Braces)
        );
        assert_eq!(
            exec(&["--keep-on-failure", "--exec", "x"]).keep,
            Keep::OnFailure
        );
        assert_eq!(exec(&["--keep", "--exec", "x"]).keep, Keep::Always);
        assert_eq!(
            exec(&["--keep", "--keep-on-failure", "--exec", "x"]).keep,
            Keep::Always
        );
    }

    #[test]
    fn last_placeholder_option_wins() {
        let lit = |s: &str| Placeholder::Literal(s.into());
        assert_eq!(exec(&["-I", "@", "--exec", "x"]).placeholder, lit("@"));
        assert_eq!(exec(&["-I@", "--exec", "x"]).placeholder, lit("@"));
        assert_eq!(exec(&["-I", "-d", "--exec", "x"]).placeholder, lit("-d"));
        assert_eq!(
            exec(&["--placeholder", "@", "--placeholder=%", "--exec", "x"]).placeholder,
            lit("%")
        );
        assert_eq!(
            exec(&["-I", "@", "--no-placeholder", "--exec", "x"]).placeholder,
            Placeholder::Off
        );
        assert_eq!(
            exec(&["--no-placeholder", "-I", "@", "--exec", "x"]).placeholder,
            lit("@")
        );
        // `-I STR` takes the next word whatever it is, as `-p DIR` does.
        assert_eq!(exec(&["-I", "--s", "--exec", "x"]).placeholder, lit("--s"));
        assert_eq!(
            usage_error(&["-I", "", "--exec", "x"]).message,
            "the placeholder must not be empty"
        );
    }

    #[test]
    fn anonymous_files_are_never_kept() {
        for keep in ["--keep", "--keep-on-failure"] {
            let e = usage_error(&["--anonymous", keep, "--exec", "x"]);
            assert_eq!(
                e.message,
                format!("{keep} cannot be combined with --anonymous")
            );
            assert_eq!(e.outcome(), Outcome::ExecFailed);
        }
    }

    #[test]
    fn exec_equals_cmd_is_exec_cmd() {
        assert_eq!(
            exec(&["--exec=echo", "hiXXX", "-d"]).command,
            argv("echo", &["hiXXX", "-d"])
        );
        let e = exec(&["-d", "--exe=ls", "-l"]);
        assert_eq!(
            (e.kind(), e.command),
            (Kind::Directory, argv("ls", &["-l"]))
        );
        assert_eq!(exec(&["--exec=--", "x"]).command, argv("--", &["x"]));
        assert_eq!(exec(&["--exec="]).command, argv("", &[]));
        assert!(usage_error(&["-z", "--exec=true"]).exec_mode);
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
        assert_eq!(usage_error(&["-z"]).outcome(), Outcome::Failure);
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
            assert_eq!(usage_error(words).outcome(), Outcome::ExecFailed);
        }
        for words in [
            &["--keep-on-failure"][..],
            &["--anonymous"],
            &["--anonymous", "-d"],
            &["--cd", "aXXX"],
        ] {
            assert!(!usage_error(words).exec_mode, "{words:?}");
            assert_eq!(usage_error(words).outcome(), Outcome::Failure);
        }
    }

    /// A black-box tester saw `rtmp --shell -u` say `--dry-run cannot be combined with --exec`
    /// and `rtmp --shell a b` say `--exec takes at most one template`: neither was typed.
    #[test]
    fn messages_name_the_options_as_typed() {
        for (words, message) in [
            (&["--shell", "-u"][..], "-u cannot be combined with --shell"),
            (&["-qu", "--shell"], "-u cannot be combined with --shell"),
            (
                &["--dry", "--shell"],
                "--dry-run cannot be combined with --shell",
            ),
            (
                &["-u", "--exec", "true"],
                "-u cannot be combined with --exec",
            ),
            (
                &["--dry-run", "--exec", "true"],
                "--dry-run cannot be combined with --exec",
            ),
            (&["--shell", "a", "b"], "--shell takes at most one template"),
            (
                &["a", "b", "--exec", "true"],
                "--exec takes at most one template",
            ),
            (
                &[
                    "-p",
                    "-u",
                    "--suffix",
                    "-d",
                    "--anonymous",
                    "--directory",
                    "--exec",
                    "x",
                ],
                "--anonymous cannot be combined with --directory",
            ),
            (
                &["-pd", "-d", "--anonymous", "--exec", "x"],
                "--anonymous cannot be combined with -d",
            ),
            (&["-I", "@", "aXXX"], "option '-I' requires --exec"),
            (&["-qI@", "aXXX"], "option '-I' requires --exec"),
            (
                &["--placeholder=@", "aXXX"],
                "option '--placeholder' requires --exec",
            ),
            (
                &["--pl", "@", "aXXX"],
                "option '--placeholder' requires --exec",
            ),
        ] {
            assert_eq!(usage_error(words).message, message, "{words:?}");
        }
    }

    #[test]
    fn shell_implies_directory_cd_and_export_tmpdir() {
        let e = exec(&["--shell", "-p", "x", "work.XXXX"]);
        assert_eq!(e.kind(), Kind::Directory);
        assert_eq!(e.command, ExecCommand::Shell);
        assert!(e.cd());
        assert!(e.export_tmpdir());
        assert_eq!(mktemp(&["-d"]).kind, Kind::Directory);
        assert_eq!(mktemp(&[]).kind, Kind::File);
    }

    #[test]
    fn long_help_shows_the_status_table() {
        let help = help_text(true);
        assert!(help.contains(&crate::exit::render_plain(92)), "{help}");
        assert!(!help_text(false).contains("Exit status"));
    }

    #[test]
    fn the_parser_reads_the_c_runtimes_bytes() {
        let args = crate::sys::args::tests::from_c_layout(&[
            b"rtmp",
            b"-d",
            b"--s=.\xff",
            b"x\xffXXX",
            b"--exec",
            b"ls",
        ]);
        let request = match parse(args) {
            Ok(Action::Create(r)) => *r,
            other => panic!("{other:?}"),
        };
        assert_eq!(request.suffix, Some(OsString::from_vec(b".\xff".to_vec())));
        let Mode::Exec(e) = request.mode else {
            panic!("not exec mode: {request:?}");
        };
        assert_eq!(e.template, Some(OsString::from_vec(b"x\xffXXX".to_vec())));
        assert_eq!(e.kind(), Kind::Directory);
        assert_eq!(e.command, argv("ls", &[]));
    }

    fn parse_posix(words: &[&str]) -> Result<Action, UsageError> {
        let env = ParseEnv {
            posixly_correct: true,
        };
        parse_in(words.iter().map(OsString::from), env)
    }

    #[test]
    fn posixly_correct_makes_later_options_templates() {
        let Ok(Action::Create(r)) = parse_posix(&["-d", "fooXXX", "-u", "--", "x"]) else {
            panic!("not a request");
        };
        let Mode::Mktemp(m) = r.mode else {
            panic!("not mktemp mode");
        };
        assert_eq!((m.kind, m.dry_run), (Kind::Directory, false));
        assert_eq!(m.templates, ["fooXXX", "-u", "--", "x"]);
        // The documented exec form still works; a second operand is still a second template.
        let Ok(Action::Create(r)) = parse_posix(&["-d", "aXXX", "--exec", "ls", "-l"]) else {
            panic!("not a request");
        };
        let Mode::Exec(e) = r.mode else {
            panic!("not exec mode");
        };
        assert_eq!(
            (e.template, e.command),
            (Some("aXXX".into()), argv("ls", &["-l"]))
        );
        let err = parse_posix(&["aXXX", "-d", "--exec", "ls"]).expect_err("two templates");
        assert_eq!(err.message, "--exec takes at most one template");
        assert_eq!(
            parse_posix(&["--help", "x"]),
            Ok(Action::Help { long: true })
        );
        assert!(matches!(
            parse_posix(&["x", "--help"]),
            Ok(Action::Create(_))
        ));
    }

    #[test]
    fn help_and_version_win_over_a_later_bad_option() {
        assert_eq!(
            parse_words(&["--help", "--bogus"]),
            Ok(Action::Help { long: true })
        );
        assert_eq!(parse_words(&["--version", "-z"]), Ok(Action::Version));
        assert_eq!(
            parse_words(&["-h", "--anonymous"]),
            Ok(Action::Help { long: false })
        );
        assert_eq!(
            usage_error(&["--bogus", "--help"]).message,
            "unrecognized option '--bogus'"
        );
    }

    #[test]
    fn help_and_version_actions() {
        assert_eq!(parse_words(&["-h"]), Ok(Action::Help { long: false }));
        assert_eq!(parse_words(&["--help"]), Ok(Action::Help { long: true }));
        assert_eq!(parse_words(&["--he"]), Ok(Action::Help { long: true }));
        assert_eq!(parse_words(&["-V"]), Ok(Action::Version));
        assert_eq!(parse_words(&["--version"]), Ok(Action::Version));
    }

    #[test]
    fn issue14_stdin_rules() {
        assert!(exec(&["--stdin", "--exec", "true"]).modes.stdin());
        assert!(
            exec(&["--anonymous", "--stdin", "--exec", "true"])
                .modes
                .stdin()
        );
        assert!(!exec(&["--exec", "true"]).modes.stdin());
        let e = usage_error(&["-d", "--stdin", "--exec", "true"]);
        assert_eq!(e.message, "--stdin cannot be combined with --directory");
        assert!(e.exec_mode);
        let e = usage_error(&["--stdin", "--shell"]);
        assert_eq!(e.message, "--stdin cannot be combined with --shell");
        let e = usage_error(&["--stdin"]);
        assert_eq!(
            (e.message.as_str(), e.exec_mode),
            ("option '--stdin' requires --exec", false)
        );
        // GNU's prefixes keep their meaning: --s is still --suffix.
        assert_eq!(request(&["--s=.x", "aXXX"]).suffix, Some(".x".into()));
        assert!(exec(&["--std", "--exec", "true"]).modes.stdin());
    }

    #[test]
    fn issue14_replace_rules() {
        let e = exec(&["--replace", "a/f.json", "--suffix=.json", "--exec", "true"]);
        let dest = e.modes.replace().map(|r| r.dest().to_owned());
        assert_eq!(dest, Some("a/f.json".into()));
        assert_eq!(e.template_to_plan(), Some("a/.f.json.XXXXXX".into()));
        assert!(
            exec(&["--stdin", "--replace", "f", "--exec", "true"])
                .modes
                .stdin()
        );
        assert!(exec(&["-d", "--cd", "--replace", "out", "--exec", "make"]).cd());
        for (words, message) in [
            (
                &["--replace", "f", "aXXX", "--exec", "true"][..],
                "--replace takes no template: the path is named after DEST",
            ),
            (
                &["--replace", "f", "-p", "d", "--exec", "true"],
                "--replace cannot be combined with -p, --tmpdir or -t",
            ),
            (
                &["--replace", "f", "--tmpdir", "--exec", "true"],
                "--replace cannot be combined with -p, --tmpdir or -t",
            ),
            (
                &["--replace", "f", "--anonymous", "--exec", "true"],
                "--replace cannot be combined with --anonymous",
            ),
            (
                &["-d", "--export-tmpdir", "--replace", "f", "--exec", "true"],
                "--replace cannot be combined with --export-tmpdir",
            ),
            (
                &["--replace", "f", "--shell"],
                "--replace cannot be combined with --shell",
            ),
            (
                &["--replace", "..", "--exec", "true"],
                "invalid destination '..' for --replace",
            ),
        ] {
            let e = usage_error(words);
            assert_eq!(
                (e.message.as_str(), e.exec_mode),
                (message, true),
                "{words:?}"
            );
        }
        let e = usage_error(&["--replace", "f"]);
        assert_eq!(
            (e.message.as_str(), e.exec_mode),
            ("option '--replace' requires --exec", false)
        );
    }
}
