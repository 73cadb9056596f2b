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
//! - this file: [`parse`] and the rules that combine options into a
//!   [`Request`] (`--exec` takes one template, `--cd` needs `-d`, ...),
//!   [`help_text`], and [`args_from_c_main`], the arguments as the C runtime passes them.
//!
//! Invariants: clap is used by this module only, and the rest of rtmp sees plain data; every
//! argument stays bytes (`OsString`) from `argv` to the request; no input makes [`parse`]
//! panic (the `parse_args` fuzz target checks it).

use std::ffi::{CStr, OsStr, OsString, c_char, c_int};
use std::os::unix::ffi::OsStringExt;

use clap::ArgMatches;

use crate::exit::Outcome;
use crate::request::{Exec, ExecCommand, ExecPath, Kind, Location, Mktemp, Mode, Request, Tmpdir};

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
    Create(Request),
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

/// The arguments after the program name, from the `argc` and `argv` that the C runtime passes
/// to `main`: each is the bytes before its NUL, kept as they are (non-UTF-8 included).
///
/// rtmp defines the C `main` itself, and then `std::env::args_os()` is filled only where std
/// collects the arguments on its own (glibc Linux, macOS); on musl it is empty. Reading
/// `argv` works wherever a C `main` does. A null `argv`, `argc` below 1, or a null entry before
/// `argc` (C11 5.1.2.2.1 puts the terminating null at `argv[argc]`) ends the list early.
///
/// # Safety
///
/// `argv` must be null or point to `argc` readable pointers, each null or pointing to a
/// NUL-terminated string, all valid for the duration of the call: what the C runtime passes to
/// `main` (C11 5.1.2.2.1, POSIX `exec`).
pub unsafe fn args_from_c_main(argc: c_int, argv: *const *const c_char) -> Vec<OsString> {
    let count = usize::try_from(argc).unwrap_or(0);
    if argv.is_null() || count == 0 {
        return Vec::new();
    }
    // SAFETY: `argv` is not null and points to `argc` pointers (the caller's contract).
    let slots = unsafe { std::slice::from_raw_parts(argv, count) };
    let mut args = Vec::with_capacity(count - 1);
    for &arg in &slots[1..] {
        if arg.is_null() {
            break;
        }
        // SAFETY: a non-null entry of `argv` points to a NUL-terminated string (the caller's
        // contract), which outlives this loop.
        let arg = unsafe { CStr::from_ptr(arg) };
        args.push(OsString::from_vec(arg.to_bytes().to_vec()));
    }
    args
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
    let flags = Flags::from_matches(&matches);
    let mode = mode(&flags, &matches)?;
    Ok(Action::Create(Request {
        suffix: value(&matches, id::SUFFIX),
        location: Location {
            tmpdir: tmpdir(&matches),
            t_option: matches.get_flag(id::T),
        },
        quiet: matches.get_flag(id::QUIET),
        mode,
    }))
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
    wait_children: bool,
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
            wait_children: matches.get_flag(id::WAIT_CHILDREN),
        }
    }
}

/// The mode and its part of the request, checked against rtmp's rules for combining options
/// (README, "Use in scripts" and "Terminal use"; man page, OPTIONS). Usage errors here exit 125
/// whenever exec mode was asked for.
fn mode(flags: &Flags, matches: &ArgMatches) -> Result<Mode, UsageError> {
    let exec = values(matches, id::EXEC);
    let mut templates = values(matches, id::TEMPLATES).unwrap_or_default();
    // --anonymous exists only for --exec, so its misuse is an exec-mode error (125) too.
    let exec_mode = exec.is_some() || flags.shell || flags.anonymous;
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
            for (given, name) in [
                (flags.export_tmpdir, "--export-tmpdir"),
                (flags.keep_on_failure, "--keep-on-failure"),
                (flags.cd, "--cd"),
                (flags.anonymous, "--anonymous"),
                (value(matches, id::KILL_AFTER).is_some(), "--kill-after"),
                (flags.wait_children, "--wait-children"),
            ] {
                if given {
                    return fail(&format!("option '{name}' requires --exec"));
                }
            }
            return Ok(Mode::Mktemp(Mktemp {
                kind: if flags.directory {
                    Kind::Directory
                } else {
                    Kind::File
                },
                dry_run: flags.dry_run,
                templates,
            }));
        }
    };
    let directory = flags.directory || flags.shell;
    if flags.dry_run {
        return fail("--dry-run cannot be combined with --exec");
    }
    if templates.len() > 1 {
        return fail("--exec takes at most one template");
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
        return fail("--anonymous cannot be combined with --directory");
    }
    let path = if flags.anonymous {
        ExecPath::Anonymous
    } else if directory {
        ExecPath::Directory {
            cd: flags.cd || flags.shell,
            export_tmpdir: flags.export_tmpdir,
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
    Ok(Mode::Exec(Exec {
        template: templates.pop(),
        path,
        command,
        keep_on_failure: flags.keep_on_failure,
        kill_after,
        wait_children: flags.wait_children,
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
        let e = exec(&["--anonymous", "--keep-on-failure", "--exec", "true"]);
        assert_eq!(
            (e.template, e.path, e.keep_on_failure),
            (None, ExecPath::Anonymous, true)
        );
        assert_eq!(exec(&["--exec", "true"]).path, ExecPath::File);
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
        assert!(!usage_error(&["--keep-on-failure"]).exec_mode);
    }

    #[test]
    fn shell_implies_directory_and_cd() {
        let e = exec(&["--shell", "-p", "x", "work.XXXX"]);
        assert_eq!(e.kind(), Kind::Directory);
        assert_eq!(e.command, ExecCommand::Shell);
        assert!(e.cd());
        assert_eq!(mktemp(&["-d"]).kind, Kind::Directory);
        assert_eq!(mktemp(&[]).kind, Kind::File);
    }

    #[test]
    fn long_help_shows_the_status_table() {
        let help = help_text(true);
        assert!(help.contains(&crate::exit::render_plain(92)), "{help}");
        assert!(!help_text(false).contains("Exit status"));
    }

    /// The layout the C runtime hands to `main`: NUL-terminated byte strings, an array of
    /// pointers to them with a null pointer at `argv[argc]`.
    fn from_c_layout(strings: &[&[u8]]) -> Vec<OsString> {
        let owned: Vec<Vec<u8>> = strings
            .iter()
            .map(|s| {
                let mut bytes = s.to_vec();
                bytes.push(0);
                bytes
            })
            .collect();
        let mut argv: Vec<*const c_char> = owned.iter().map(|s| s.as_ptr().cast()).collect();
        argv.push(std::ptr::null());
        let argc = c_int::try_from(strings.len()).expect("few arguments");
        // SAFETY: `argv` holds `argc` pointers to NUL-terminated strings in `owned`, then a
        // null; both outlive the call.
        unsafe { args_from_c_main(argc, argv.as_ptr()) }
    }

    #[test]
    fn arguments_come_from_argv_as_bytes() {
        let args = from_c_layout(&[b"rtmp", b"-u", b"a\xff\xfeXXX", b"", b"--suffix=\x80"]);
        let want: Vec<OsString> = [&b"-u"[..], b"a\xff\xfeXXX", b"", b"--suffix=\x80"]
            .iter()
            .map(|a| OsString::from_vec(a.to_vec()))
            .collect();
        assert_eq!(args, want);
        assert_eq!(from_c_layout(&[b"rtmp"]), Vec::<OsString>::new());
        // SAFETY: a null argv is allowed by the contract.
        assert!(unsafe { args_from_c_main(0, std::ptr::null()) }.is_empty());
        // SAFETY: as above; argc is ignored when argv is null.
        assert!(unsafe { args_from_c_main(3, std::ptr::null()) }.is_empty());
    }

    #[test]
    fn the_parser_reads_the_c_runtimes_bytes() {
        let args = from_c_layout(&[b"rtmp", b"-d", b"--s=.\xff", b"x\xffXXX", b"--exec", b"ls"]);
        let request = match parse(args) {
            Ok(Action::Create(r)) => r,
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

    #[test]
    fn help_and_version_actions() {
        assert_eq!(parse_words(&["-h"]), Ok(Action::Help { long: false }));
        assert_eq!(parse_words(&["--help"]), Ok(Action::Help { long: true }));
        assert_eq!(parse_words(&["--he"]), Ok(Action::Help { long: true }));
        assert_eq!(parse_words(&["-V"]), Ok(Action::Version));
        assert_eq!(parse_words(&["--version"]), Ok(Action::Version));
    }
}
