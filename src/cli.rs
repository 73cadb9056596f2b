//! The command line: the clap definition (also used to generate the man page and completions)
//! and its translation into a plain [`Request`].
//!
//! GNU `mktemp` uses `getopt_long`, so rtmp follows its rules (SPEC.md A1): options and operands
//! may be mixed, `--` ends options, unambiguous prefixes of long options work, `--tmpdir` takes a
//! value only when attached with `=`, and the last `--suffix` and the last `-p`/`--tmpdir` win.
//! Usage errors use getopt's wording and exit 1 (125 when `--exec` is on the line), never clap's
//! exit 2. No other module depends on clap.

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};

use crate::create::Kind;

const AFTER_LONG_HELP: &str = "\
If TEMPLATE is not given, use tmp.XXXXXXXXXX and --tmpdir is implied. TEMPLATE must end in
at least 3 consecutive X's (unless -t is given: then it may be a BSD prefix).

Exit status: 0 on success, 1 on failure. With --exec: the command's status; 125 if rtmp
fails before the command runs, 126 if the command cannot be run, 127 if it is not found;
if the command dies of a signal, rtmp dies of the same signal after removing the path.

Examples:
  dir=$(rtmp -d) || exit 1           a private directory in $TMPDIR or /tmp
  rtmp -p . build.XXXX --suffix=.log  a file build.????.log here
  rtmp -d --exec tar -C {} -xf a.tar  unpack into a directory removed afterwards
  rtmp -d --export-tmpdir --exec make test
                                      every temporary file of the test run lands
                                      inside, and is removed with it";

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

    /// Append SUFF to TEMPLATE; SUFF must not contain a slash. Implied when TEMPLATE does
    /// not end in X
    #[arg(
        long,
        value_name = "SUFF",
        allow_hyphen_values = true,
        help_heading = "Creation"
    )]
    suffix: Option<OsString>,

    /// Interpret TEMPLATE relative to DIR; if DIR is empty or not given, use $TMPDIR if set,
    /// else /tmp. With this option, TEMPLATE must not be an absolute name; it may contain
    /// slashes, but mktemp creates only the final component
    #[arg(
        short = 'p',
        value_name = "DIR",
        allow_hyphen_values = true,
        value_hint = clap::ValueHint::DirPath,
        help_heading = "Location"
    )]
    p: Option<OsString>,

    /// Same as -p DIR; the value is taken only when attached with '='
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

    /// Interpret TEMPLATE as a single file name component relative to a directory: $TMPDIR
    /// if set, else the directory given by -p, else /tmp. A TEMPLATE without X's is a BSD
    /// prefix: PREFIX.XXXXXXXXXX
    #[arg(short = 't', help_heading = "Location")]
    t: bool,

    /// Run CMD with the new path, then remove the path. Every {} in CMD or an ARG is
    /// replaced by the path; without {}, the path is appended. RTMP_PATH holds it too
    #[arg(
        long,
        value_name = "CMD",
        num_args = 1..,
        allow_hyphen_values = true,
        value_hint = clap::ValueHint::CommandName,
        help_heading = "Exec"
    )]
    exec: Option<Vec<OsString>>,

    /// With -d and --exec: set TMPDIR to the new directory for the command
    #[arg(long, help_heading = "Exec")]
    export_tmpdir: bool,

    /// With --exec: keep the path if the command fails or dies of a signal
    #[arg(long, help_heading = "Exec")]
    keep_on_failure: bool,

    /// With -d and --exec: run CMD inside the new directory; {} and RTMP_PATH are then
    /// absolute, and the path is not appended
    #[arg(long, help_heading = "Exec")]
    cd: bool,

    /// With --exec, files only: the file never has a name (O_TMPFILE); the command gets it
    /// as an open descriptor N, and {} and RTMP_PATH are /dev/fd/N
    #[arg(long, help_heading = "Exec")]
    anonymous: bool,

    /// A throwaway shell in a throwaway directory: -d --cd --exec "$SHELL" (/bin/sh when
    /// SHELL is unset or empty)
    #[arg(long, help_heading = "Exec")]
    shell: bool,

    /// Print help (--help: more)
    #[arg(short = 'h', action = ArgAction::SetTrue, help_heading = "Info")]
    short_help: bool,

    /// Print help with examples and exit statuses
    #[arg(long = "help", action = ArgAction::SetTrue, help_heading = "Info")]
    long_help: bool,

    /// Print version
    #[arg(short = 'V', long, action = ArgAction::SetTrue, help_heading = "Info")]
    version: bool,

    /// Template(s) for the name; X's at the end of the last component are replaced
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
    let args: Vec<OsString> = args.into_iter().collect();
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
        .any(|a| {
            let name = a.split(|&b| b == b'=').next().unwrap_or(a);
            (name.len() >= b"--exe".len() && b"--exec".starts_with(name))
                || (name.len() >= b"--sh".len() && b"--shell".starts_with(name))
        })
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
