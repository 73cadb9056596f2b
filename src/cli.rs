//! The command line: the clap definition (also used to generate the man page and completions)
//! and its translation into a plain [`Request`].
//!
//! GNU `mktemp` uses `getopt_long`, so rtmp follows its rules (SPEC.md A1): options and operands
//! may be mixed, `--` ends options, unambiguous prefixes of long options work, `--tmpdir` takes a
//! value only when attached with `=`, and the last `--suffix` and the last `-p`/`--tmpdir` win.
//! Usage errors use getopt's wording and exit 1 (125 when `--exec` is on the line), never clap's
//! exit 2. No other module depends on clap.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};

use crate::create::Kind;

const AFTER_LONG_HELP: &str = "\
If TEMPLATE is not given, use tmp.XXXXXXXXXX and --tmpdir is implied. TEMPLATE must end in
at least 3 consecutive X's (unless -t is given: then it may be a BSD prefix).

With --exec, the path is removed when CMD ends, however it ends, without following symlinks;
if rtmp itself is killed (SIGKILL), a guardian process removes it once CMD has exited.

Exit status: 0 on success, 1 on failure. With --exec: the command's status; 125 if rtmp
fails before the command runs, 126 if the command cannot be run, 127 if it is not found;
if the command dies of a signal, rtmp dies of the same signal after removing the path.

Examples:
  dir=$(rtmp -d) || exit 1            a private directory in $TMPDIR or /tmp
  rtmp -p . build.XXXX --suffix=.log  a file build.????.log here
  rtmp -d --exec tar -C {} -xf a.tar  unpack into a directory removed afterwards
  rtmp -d --export-tmpdir --exec make test
                                      every temporary file of the test run lands
                                      inside, and is removed with it
  rtmp --shell                        a shell in a new directory, removed when the
                                      shell exits";

/// Creates a temporary file or directory, safely, and prints its name.
///
/// The field doc comments below are the `--help` text.
#[derive(Debug, Parser)]
#[command(
    name = "rtmp",
    version,
    about = "Create a temporary file or directory, safely, and print its name.",
    long_about = "Create a temporary file or directory, safely, and print its name.\n\
        TEMPLATE must contain at least 3 consecutive 'X's in last component.\n\
        With --exec, run a command with the new path and remove the path afterwards.",
    override_usage = "rtmp [OPTION]... [TEMPLATE]...\n       rtmp [OPTION]... [TEMPLATE] --exec CMD [ARG]...",
    after_long_help = AFTER_LONG_HELP,
    disable_help_flag = true,
    disable_version_flag = true,
    infer_long_args = true,
    args_override_self = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Create a directory, not a file
    #[arg(short = 'd', long, help_heading = "Creation")]
    directory: bool,

    /// Do not create anything; merely print a name (unsafe)
    #[arg(short = 'u', long = "dry-run", help_heading = "Creation")]
    dry_run: bool,

    /// Suppress diagnostics about file/dir-creation failure
    #[arg(short = 'q', long, help_heading = "Creation")]
    quiet: bool,

    /// Append SUFF to TEMPLATE
    ///
    /// SUFF must not contain a slash. Without --suffix, the suffix is whatever follows the
    /// last X of TEMPLATE.
    #[arg(
        long,
        value_name = "SUFF",
        allow_hyphen_values = true,
        help_heading = "Creation"
    )]
    suffix: Option<OsString>,

    /// Interpret TEMPLATE relative to DIR
    ///
    /// If DIR is empty, use $TMPDIR if set and not empty, else /tmp. With this option,
    /// TEMPLATE must not be an absolute name; it may contain slashes, but only the final
    /// component is created.
    #[arg(
        short = 'p',
        value_name = "DIR",
        allow_hyphen_values = true,
        value_hint = clap::ValueHint::DirPath,
        help_heading = "Location"
    )]
    p: Option<OsString>,

    /// Same as -p DIR; without DIR, use $TMPDIR or /tmp
    ///
    /// The value is taken only when attached with '=': `--tmpdir fooXXX` means "no DIR,
    /// template fooXXX".
    #[arg(
        long,
        value_name = "DIR",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "",
        value_hint = clap::ValueHint::DirPath,
        help_heading = "Location"
    )]
    tmpdir: Option<OsString>,

    /// TEMPLATE is one name in $TMPDIR, else in -p DIR, else in /tmp (BSD: -t PREFIX)
    ///
    /// TEMPLATE must be a single file name component; $TMPDIR (if set and not empty) is
    /// preferred over -p DIR, as in GNU mktemp. As in BSD mktemp, a TEMPLATE with fewer than
    /// 3 trailing X's and no slash is a prefix: rtmp creates PREFIX.XXXXXXXXXX.
    #[arg(short = 't', help_heading = "Location")]
    t: bool,

    /// Run CMD with the new path, then remove the path; must come last
    ///
    /// Everything after --exec is the command (a leading -- is dropped). Every {} in CMD or
    /// an ARG is replaced by the path; if no word has {}, the path is appended as the last
    /// argument. RTMP_PATH holds it too. rtmp exits as CMD did.
    #[arg(
        long,
        value_name = "CMD",
        num_args = 1..,
        allow_hyphen_values = true,
        value_hint = clap::ValueHint::CommandName,
        help_heading = "Exec"
    )]
    exec: Option<Vec<OsString>>,

    /// With -d: set TMPDIR to the new directory for CMD
    ///
    /// Every temporary file that CMD and its children make then lands inside the directory
    /// and is removed with it.
    #[arg(long, help_heading = "Exec")]
    export_tmpdir: bool,

    /// Keep the path if CMD fails or dies of a signal
    ///
    /// rtmp then prints `rtmp: kept PATH` on stderr, for a look at what CMD left.
    #[arg(long, help_heading = "Exec")]
    keep_on_failure: bool,

    /// With -d: run CMD inside the new directory
    ///
    /// {} and RTMP_PATH then hold the absolute path, and the path is not appended.
    #[arg(long, help_heading = "Exec")]
    cd: bool,

    /// With --exec, files only: the file never has a name
    ///
    /// It is made with O_TMPFILE in the template's directory and given to CMD as an open
    /// descriptor N; {} and RTMP_PATH are /dev/fd/N. Nothing ever appears in the directory.
    #[arg(long, help_heading = "Exec")]
    anonymous: bool,

    /// A throwaway shell in a throwaway directory
    ///
    /// Same as -d --cd --exec "$SHELL" (/bin/sh when SHELL is unset or empty). The directory
    /// is removed when the shell exits; on a terminal, rtmp says which one.
    #[arg(long, help_heading = "Exec")]
    shell: bool,

    /// Print a short help
    #[arg(short = 'h', action = ArgAction::SetTrue, help_heading = "Info")]
    short_help: bool,

    /// Print the full help, with exit statuses and examples
    #[arg(long = "help", action = ArgAction::SetTrue, help_heading = "Info")]
    long_help: bool,

    /// Print version
    #[arg(short = 'V', long, action = ArgAction::SetTrue, help_heading = "Info")]
    version: bool,

    /// Name pattern: trailing X's (at least 3) are replaced by random characters
    ///
    /// Default: tmp.XXXXXXXXXX in $TMPDIR or /tmp. Several TEMPLATEs (BSD) are each created
    /// and printed on their own line.
    #[arg(value_name = "TEMPLATE")]
    templates: Vec<OsString>,
}

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

/// Parses `args` (without the program name) as GNU `mktemp` would, plus rtmp's extensions.
///
/// Output: the [`Action`]. Errors: a [`UsageError`] with getopt's wording (`invalid option --
/// 'z'`, `option '--d' is ambiguous; possibilities: ...`), or one of rtmp's own rules for
/// `--exec`.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Action, UsageError> {
    let args = resolve_gnu_prefixes(args.into_iter().collect());
    let exec_mode = mentions_exec(&args);
    let command = Cli::command();
    let argv = std::iter::once(OsString::from("rtmp")).chain(args.iter().cloned());
    let matches = command
        .try_get_matches_from(argv)
        .map_err(|e| UsageError::new(getopt_message(&e, &args), exec_mode))?;
    let cli = Cli::from_arg_matches(&matches)
        .map_err(|e| UsageError::new(getopt_message(&e, &args), exec_mode))?;
    if cli.long_help {
        return Ok(Action::Help { long: true });
    }
    if cli.short_help {
        return Ok(Action::Help { long: false });
    }
    if cli.version {
        return Ok(Action::Version);
    }
    let exec = exec_part(&cli)?;
    // -p and --tmpdir are one option in GNU: the last one on the line wins.
    let last_index = |id: &str| matches.indices_of(id).and_then(Iterator::max);
    let tmpdir_arg = match (last_index("p"), last_index("tmpdir")) {
        (Some(p), Some(t)) if t > p => cli.tmpdir.filter(|d| !d.is_empty()),
        (Some(_), _) => cli.p,
        (None, Some(_)) => cli.tmpdir.filter(|d| !d.is_empty()),
        (None, None) => None,
    };
    Ok(Action::Create(Request {
        kind: if cli.directory || cli.shell {
            Kind::Directory
        } else {
            Kind::File
        },
        dry_run: cli.dry_run,
        quiet: cli.quiet,
        suffix: cli.suffix,
        tmpdir_option: last_index("p").is_some() || last_index("tmpdir").is_some(),
        tmpdir_arg,
        t_option: cli.t,
        templates: cli.templates,
        exec,
    }))
}

/// The `--exec` part of the request, checked against rtmp's combination rules (SPEC.md C).
/// Usage errors here exit 125 whenever exec mode was asked for.
fn exec_part(cli: &Cli) -> Result<Option<Exec>, UsageError> {
    // --anonymous exists only for --exec, so its misuse is an exec-mode error (125) too.
    let exec_mode = cli.exec.is_some() || cli.shell || cli.anonymous;
    let fail = |m: &str| Err(UsageError::new(m, exec_mode));
    let command = match (&cli.exec, cli.shell) {
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
    if cli.templates.len() > 1 {
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

/// True when the command line (before a `--`) holds `--exec` or `--shell`, or a prefix of one
/// that getopt would accept: usage errors then exit 125, as GNU `env`/`timeout` do for their own
/// failures.
fn mentions_exec(args: &[OsString]) -> bool {
    args.iter()
        .map(|a| a.as_encoded_bytes())
        .take_while(|a| *a != b"--")
        .any(|a| starts_exec(a) || spells_long(a, "shell", 4))
}

/// True when `word` spells `--exec` (or an unambiguous prefix, `=value` allowed): the words after
/// it are the command's, never rtmp's options.
fn starts_exec(word: &[u8]) -> bool {
    spells_long(word, "exec", 5)
}

/// True when `word` is `--NAME` or a prefix of it at least `min_len` bytes long, with an optional
/// `=value`.
fn spells_long(word: &[u8], name: &str, min_len: usize) -> bool {
    let flag = word.split(|&b| b == b'=').next().unwrap_or(word);
    let full = format!("--{name}");
    flag.len() >= min_len && full.as_bytes().starts_with(flag)
}

/// GNU mktemp's long options (coreutils `mktemp.c`, `longopts`).
const GNU_LONG_OPTIONS: &[&str] = &[
    "directory",
    "dry-run",
    "quiet",
    "suffix",
    "tmpdir",
    "help",
    "version",
];

/// Keeps GNU's meaning of long-option prefixes that rtmp's own options would make ambiguous:
/// `--s` is `--suffix` in every script written for GNU mktemp, even though rtmp also has
/// `--shell`. A prefix that is ambiguous for GNU too (`--d`) is left for the usual error.
/// Stops at `--` and at `--exec`, whose following words belong to the command.
fn resolve_gnu_prefixes(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut words = args.into_iter();
    while let Some(word) = words.next() {
        let bytes = word.as_encoded_bytes();
        if bytes == b"--" || starts_exec(bytes) {
            out.push(word);
            out.extend(words);
            break;
        }
        let Some(rest) = bytes.strip_prefix(b"--") else {
            // `-p DIR` (also at the end of a cluster, `-dp DIR`): DIR is not an option.
            let takes_value = bytes.len() > 1 && bytes[0] == b'-' && bytes.ends_with(b"p");
            out.push(word);
            if takes_value {
                out.extend(words.next());
            }
            continue;
        };
        let (name, value) = match rest.iter().position(|&b| b == b'=') {
            Some(i) => (&rest[..i], Some(&rest[i..])),
            None => (rest, None),
        };
        let gnu: Vec<&str> = GNU_LONG_OPTIONS
            .iter()
            .copied()
            .filter(|o| o.as_bytes().starts_with(name))
            .collect();
        // Only a strict prefix of a GNU option can need help, and only when rtmp's own options
        // make it ambiguous; full names (what scripts use) never build the option list.
        let resolved = match gnu.as_slice() {
            [only] if !name.is_empty() && name != only.as_bytes() => {
                let rtmp_candidates = long_options_with_prefix(&String::from_utf8_lossy(name));
                (rtmp_candidates.len() > 1).then(|| {
                    let mut spelled = format!("--{only}").into_bytes();
                    spelled.extend_from_slice(value.unwrap_or_default());
                    // ASCII was added in front of bytes split at ASCII: still the user's bytes.
                    OsString::from_vec(spelled)
                })
            }
            _ => None,
        };
        let separate_value = value.is_none() && gnu == ["suffix"];
        out.push(resolved.unwrap_or(word));
        if separate_value {
            out.extend(words.next());
        }
    }
    out
}

/// Rewrites a clap error in getopt's words (glibc `getopt_long`).
fn getopt_message(err: &clap::Error, args: &[OsString]) -> String {
    let arg = match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    // clap names an option as `--suffix <SUFF>` or `-p <DIR>`: keep the name.
    let name = arg.split([' ', '=']).next().unwrap_or("").to_owned();
    match err.kind() {
        ErrorKind::UnknownArgument => {
            if let Some(long) = name.strip_prefix("--") {
                // getopt quotes the word as typed, `=value` included.
                let typed = typed_long_option(args, &name).unwrap_or_else(|| name.clone());
                let candidates = long_options_with_prefix(long);
                if candidates.len() > 1 {
                    let list: Vec<String> = candidates.iter().map(|c| format!("'--{c}'")).collect();
                    return format!(
                        "option '{typed}' is ambiguous; possibilities: {}",
                        list.join(" ")
                    );
                }
                return format!("unrecognized option '{typed}'");
            }
            match name.strip_prefix('-').and_then(|s| s.chars().next()) {
                Some(c) => format!("invalid option -- '{c}'"),
                None => format!("unrecognized argument '{arg}'"),
            }
        }
        ErrorKind::InvalidValue | ErrorKind::NoEquals | ErrorKind::WrongNumberOfValues => {
            match name.strip_prefix("--") {
                Some(long) => format!("option '--{long}' requires an argument"),
                None => format!(
                    "option requires an argument -- '{}'",
                    name.trim_start_matches('-')
                ),
            }
        }
        ErrorKind::TooManyValues => format!("option '{name}' doesn't allow an argument"),
        _ => first_line(err),
    }
}

/// The first line of clap's message, without its `error: ` label: a fallback for kinds getopt
/// has no wording for.
fn first_line(err: &clap::Error) -> String {
    let text = err.to_string();
    let line = text.lines().next().unwrap_or("invalid usage");
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

/// The command-line word (before any `--`) that spells long option `name`, with its `=value`.
fn typed_long_option(args: &[OsString], name: &str) -> Option<String> {
    args.iter()
        .map(|a| a.to_string_lossy())
        .take_while(|a| a != "--")
        .find(|a| a.split('=').next() == Some(name))
        .map(|a| a.into_owned())
}

/// Long options of which `prefix` is a prefix; an exact match is never ambiguous.
fn long_options_with_prefix(prefix: &str) -> Vec<String> {
    let command = Cli::command();
    let longs: Vec<String> = command
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_owned))
        .collect();
    if longs.iter().any(|l| l == prefix) {
        return vec![prefix.to_owned()];
    }
    longs
        .into_iter()
        .filter(|l| l.starts_with(prefix))
        .collect()
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
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
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
