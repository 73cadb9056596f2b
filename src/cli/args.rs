//! The clap definition of rtmp's command line: every option, its help text and its value rules.
//!
//! This one [`Command`] is what the binary parses with, what `-h`/`--help` print, and what the
//! man page and the shell completions are generated from (`tests/generated.rs`), so a change
//! here reaches all of them. It is built with clap's builder API, not its derive: a derive
//! needs a proc-macro crate, and proc-macro crates cannot be built with
//! `-C target-feature=+crt-static`, which `.cargo/config.toml` applies to every crate of the
//! host target (see the comment there).
//!
//! Invariants: arguments are read back by the ids in [`id`] only; every option that takes a
//! value keeps the user's bytes (`OsString`, never UTF-8 checked); clap's own `--help` and
//! `--version` flags are off, so that `-h`, `--help` and `-V` are plain flags that
//! [`crate::cli::parse`] turns into actions. What this module does not know: GNU getopt's
//! prefix rules and error wording (`getopt.rs`), and the rules that combine options into a
//! request (`mod.rs`).

use clap::{Arg, ArgAction, Command, ValueHint, value_parser};

use crate::exit;

/// The ids under which [`command`] stores each argument in clap's matches.
pub mod id {
    /// `-d`/`--directory`.
    pub const DIRECTORY: &str = "directory";
    /// `-u`/`--dry-run`.
    pub const DRY_RUN: &str = "dry_run";
    /// `-q`/`--quiet`.
    pub const QUIET: &str = "quiet";
    /// `--suffix=SUFF`.
    pub const SUFFIX: &str = "suffix";
    /// `-p DIR`.
    pub const P: &str = "p";
    /// `--tmpdir[=DIR]`.
    pub const TMPDIR: &str = "tmpdir";
    /// `-t`.
    pub const T: &str = "t";
    /// `--exec CMD [ARG]...`.
    pub const EXEC: &str = "exec";
    /// `--export-tmpdir`.
    pub const EXPORT_TMPDIR: &str = "export_tmpdir";
    /// `--keep-on-failure`.
    pub const KEEP_ON_FAILURE: &str = "keep_on_failure";
    /// `--keep`.
    pub const KEEP: &str = "keep";
    /// `-I STR`/`--placeholder=STR`.
    pub const PLACEHOLDER: &str = "placeholder";
    /// `--no-placeholder`.
    pub const NO_PLACEHOLDER: &str = "no_placeholder";
    /// `--cd`.
    pub const CD: &str = "cd";
    /// `--kill-after=DURATION`.
    pub const KILL_AFTER: &str = "kill_after";
    /// `--wait-children`.
    pub const WAIT_CHILDREN: &str = "wait_children";
    /// `--anonymous`.
    pub const ANONYMOUS: &str = "anonymous";
    /// `--shell`.
    pub const SHELL: &str = "shell";
    /// `-h`.
    pub const SHORT_HELP: &str = "short_help";
    /// `--help`.
    pub const LONG_HELP: &str = "long_help";
    /// `-V`/`--version`.
    pub const VERSION: &str = "version";
    /// The TEMPLATE operands.
    pub const TEMPLATES: &str = "templates";

    // Issue 14.
    /// `--stdin`.
    pub const STDIN: &str = "stdin";
    /// `--replace DEST`.
    pub const REPLACE: &str = "replace";
    /// `--until PID`.
    pub const UNTIL: &str = "until";
}

/// The text after the options in `--help`, before the exit statuses.
const LONG_HELP_NOTES: &str = "\
If TEMPLATE is not given, use tmp.XXXXXXXXXX and --tmpdir is implied. With -t, a TEMPLATE
with too few X's is a BSD prefix (see -t).

With --exec, the path is removed when CMD ends, however it ends, without following symlinks;
if rtmp itself is killed (SIGKILL), a guardian process removes it once CMD has exited.";

/// The examples that close `--help`.
const LONG_HELP_EXAMPLES: &str = "\
Examples:
  dir=$(rtmp -d) || exit 1            a private directory in $TMPDIR or /tmp
  rtmp -p . build.XXXX --suffix=.log  a file build.????.log here
  rtmp -d --exec tar -C {} -xf a.tar  unpack into a directory removed afterwards
  rtmp --suffix=.json --exec sh -c 'curl -fo \"$1\" \"$URL\" && jq . \"$1\"' sh {}
                                      a shell script gets the path as \"$1\"
  rtmp -d --export-tmpdir --exec make test
                                      every temporary file of the test run lands
                                      inside, and is removed with it
  RTMP_KEEP=1 ./ci.sh                 every rtmp --exec in the script keeps its path
  rtmp --shell                        a shell in a new directory, removed when the
                                      shell exits";

/// The width the exit-status table of `--help` is wrapped to, like the text around it.
const LONG_HELP_WIDTH: usize = 92;

/// rtmp's command line.
///
/// Output: the clap [`Command`], not yet built. Long help (`--help`) shows each option's full
/// text, then notes, the exit statuses (rendered from [`exit::STATUS_TABLE`]) and examples;
/// short help (`-h`) shows one line per option.
pub fn command() -> Command {
    let after_long_help = format!(
        "{LONG_HELP_NOTES}\n\n{}\n{LONG_HELP_EXAMPLES}",
        exit::render_plain(LONG_HELP_WIDTH)
    );
    parsing_command().after_long_help(after_long_help)
}

/// The command-line definition that parsing needs: [`command`] without the long help's closing
/// text (notes, the exit status table, examples), which `--help` and the generated man page
/// show and which takes a dozen allocations to render, on every start-up otherwise (issue 16).
pub fn parsing_command() -> Command {
    Command::new("rtmp")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Create a temporary file or directory, safely, and print its name.")
        .long_about(
            "Create a temporary file or directory, safely, and print its name.\n\
             TEMPLATE must contain at least 3 consecutive 'X's in last component.\n\
             With --exec, run a command with the new path and remove the path afterwards.",
        )
        .override_usage(
            "rtmp [OPTION]... [TEMPLATE]...\n       \
             rtmp [OPTION]... [TEMPLATE] --exec CMD [ARG]...",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .infer_long_args(true)
        .args_override_self(true)
        .max_term_width(100)
        .next_help_heading("Creation")
        .args([
            flag(id::DIRECTORY, Some('d'), Some("directory"))
                .help("Create a directory, not a file"),
            flag(id::DRY_RUN, Some('u'), Some("dry-run"))
                .help("Do not create anything; merely print a name (unsafe)"),
            flag(id::QUIET, Some('q'), Some("quiet"))
                .help("Suppress diagnostics about file/dir-creation failure"),
            value(id::SUFFIX, "SUFF").long("suffix").with_help(
                "Append SUFF to TEMPLATE",
                "SUFF must not contain a slash. Without --suffix, the suffix is whatever follows \
                 the last X of TEMPLATE.",
            ),
        ])
        .next_help_heading("Location")
        .args([
            value(id::P, "DIR")
                .short('p')
                .value_hint(ValueHint::DirPath)
                .with_help(
                    "Interpret TEMPLATE relative to DIR",
                    "If DIR is empty, use $TMPDIR if set and not empty, else /tmp. With this \
                     option, TEMPLATE must not be an absolute name; it may contain slashes, but \
                     only the final component is created.",
                ),
            // getopt's optional argument: the value only when attached with '='.
            Arg::new(id::TMPDIR)
                .long("tmpdir")
                .value_name("DIR")
                .value_parser(value_parser!(std::ffi::OsString))
                .action(ArgAction::Set)
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("")
                .value_hint(ValueHint::DirPath)
                .with_help(
                    "Same as -p DIR; without DIR, use $TMPDIR or /tmp",
                    "The value is taken only when attached with '=': '--tmpdir fooXXX' means \
                     \"no DIR, template fooXXX\".",
                ),
            flag(id::T, Some('t'), None).with_help(
                "TEMPLATE is one name in $TMPDIR, else in -p DIR, else in /tmp (BSD: -t PREFIX)",
                "TEMPLATE must be a single file name component; $TMPDIR (if set and not empty) \
                 is preferred over -p DIR, as in GNU mktemp. As in BSD mktemp, a TEMPLATE with too \
                 few X's and no slash is a prefix: rtmp creates PREFIX.XXXXXXXXXX.",
            ),
        ])
        .next_help_heading("Exec")
        .args([
            value(id::EXEC, "CMD")
                .long("exec")
                .action(ArgAction::Append)
                .num_args(1..)
                .value_hint(ValueHint::CommandName)
                .with_help(
                    "Run CMD with the new path, then remove the path; must come last",
                    "Everything after --exec is the command (a leading -- is dropped; \
                     --exec=CMD is --exec CMD). Every {} in CMD or an ARG is replaced by the \
                     path, and {{ and }} give a literal { and }; if no word has {}, the path is \
                     appended as the last argument (not with --cd or --export-tmpdir). \
                     RTMP_PATH holds it too. rtmp exits as CMD did.\n\n\
                     Never write sh -c '... {} ...': the path is pasted into the script, so a \
                     space, a quote or $(...) in it (from TMPDIR, -p or the template) is run as \
                     shell code; pass it as an argument instead: sh -c '... \"$1\"' sh {}. The \
                     form sh -c '... {} ...' is unsafe.",
                ),
            value(id::PLACEHOLDER, "STR")
                .short('I')
                .long("placeholder")
                .with_help(
                    "Use STR instead of {} as the placeholder",
                    "As xargs -I: every STR inside a word of CMD and its ARGs is the path, \
                     matched literally; {} is then ordinary text, and {{ and }} are not \
                     escapes. STR must not be empty.",
                ),
            flag(id::NO_PLACEHOLDER, None, Some("no-placeholder")).with_help(
                "Replace nothing in CMD and its ARGs",
                "The path is appended as the last argument (not with --cd or \
                 --export-tmpdir); RTMP_PATH holds it. The last of -I and --no-placeholder \
                 wins.",
            ),
            flag(id::EXPORT_TMPDIR, None, Some("export-tmpdir")).with_help(
                "With -d: set TMPDIR (and TMP, TEMP, TEMPDIR) to the new directory for CMD; \
                 the path is not appended",
                "Every temporary file that CMD and its children make then lands inside the \
                 directory and is removed with it. {} and RTMP_PATH still hold the path.",
            ),
            flag(id::KEEP_ON_FAILURE, None, Some("keep-on-failure")).with_help(
                "Keep the path if CMD fails or dies of a signal",
                "rtmp then prints \"rtmp: kept 'PATH'\" on stderr (unless CMD removed it), \
                 for a look at what CMD left. Not with --anonymous.",
            ),
            flag(id::KEEP, None, Some("keep")).with_help(
                "Keep the path however CMD ends",
                "rtmp then prints \"rtmp: kept 'PATH'\" on stderr (unless CMD removed it). \
                 RTMP_KEEP=1 in the environment does the same for every rtmp --exec, without \
                 editing the script. Not with --anonymous. If rtmp itself is killed \
                 (SIGKILL), the guardian still removes the path.",
            ),
            value(id::KILL_AFTER, "DURATION")
                .long("kill-after")
                .with_help(
                    "End what CMD leaves running: SIGTERM, then SIGKILL after DURATION (2s)",
                    "When CMD has exited, processes it started that still run (rtmp adopts \
                     every orphan of CMD) get SIGTERM and SIGCONT, then SIGKILL after DURATION, \
                     before the path is removed; rtmp still exits as CMD did. DURATION is a \
                     number with an optional unit s, m, h or d (as GNU timeout); 0 kills at \
                     once.",
                ),
            flag(id::WAIT_CHILDREN, None, Some("wait-children")).with_help(
                "Wait for what CMD leaves running instead of ending it",
                "The path is removed once the last of them has exited. A signal sent to rtmp \
                 meanwhile is passed on to all of them; with --kill-after, SIGKILL follows it \
                 after DURATION.",
            ),
            flag(id::CD, None, Some("cd")).with_help(
                "With -d: run CMD inside the new directory",
                "{} and RTMP_PATH then hold the absolute path, and the path is not appended.",
            ),
            flag(id::ANONYMOUS, None, Some("anonymous")).with_help(
                "With --exec, files only: the file never has a name",
                "It is made with O_TMPFILE in the template's directory and given to CMD as an \
                 open descriptor N (3 or more); {} and RTMP_PATH are /dev/fd/N. Nothing ever \
                 appears in the directory.",
            ),
            flag(id::SHELL, None, Some("shell")).with_help(
                "A throwaway shell in a throwaway directory",
                "Same as -d --cd --export-tmpdir --exec \"$SHELL\" (/bin/sh when SHELL is unset \
                 or empty). The directory is removed when the shell exits (kept with --keep, or \
                 after a failing exit with --keep-on-failure); on a terminal, rtmp says which \
                 one and what happens to it.",
            ),
        ])
        // Issue 14: what happens to the path besides the command.
        .next_help_heading("Exec modes")
        .args([
            flag(id::STDIN, None, Some("stdin")).with_help(
                "With --exec, files only: fill the file with standard input before CMD runs",
                "The copy is streamed (copy_file_range/splice where the kernel can), so any size \
             works without memory growth; CMD then gets the path of a real, seekable file, and \
             its own standard input is what is left of rtmp's (at end of file). With \
             --anonymous the file is rewound to offset 0 for CMD. A read or write error while \
             copying (No space left on device, ...) is one message: the path is removed, CMD \
             does not run, rtmp exits 125.",
            ),
            value(id::REPLACE, "DEST")
                .long("replace")
                .value_hint(ValueHint::AnyPath)
                .with_help(
                    "With --exec: write next to DEST, move over DEST only if CMD exits 0",
                    "The path is created in DEST's directory as .NAME.XXXXXX (NAME is DEST's \
                     last component; --suffix is appended), so no TEMPLATE, -p, --tmpdir or -t. \
                     If CMD exits 0, rtmp gives it DEST's permission bits, owner and group (0666 \
                     or 0777 minus the umask when DEST does not exist; an owner rtmp may not \
                     set is left, and then no setuid/setgid bit is copied), syncs it to disk, \
                     renames it over DEST atomically and syncs the directory: readers see the \
                     old or the new DEST, never a partial one. With -d, an existing DEST is \
                     swapped with renameat2(RENAME_EXCHANGE) and the old tree removed as the \
                     path would be. If CMD fails or dies of a signal, or a step fails (one \
                     message, status 125), DEST is untouched and the path removed \
                     (--keep-on-failure keeps it). DEST must not be a symbolic link: rtmp \
                     refuses one rather than follow it into another directory; name its target \
                     instead. Not with --anonymous, --shell or --export-tmpdir.",
                ),
        ])
        .next_help_heading("Scripts without trap")
        .args([value(id::UNTIL, "PID").long("until").with_help(
            "Without --exec: remove the path(s) when process PID exits",
            "The paths are created and printed and rtmp returns at once; a detached guardian \
             (own session, /dev/null on stdin, stdout and stderr, so $(...) does not wait for \
             it) removes them, without following symlinks, when process PID exits, however it \
             exits (SIGKILL included). PID is pinned with pidfd_open before anything is \
             created, so a reused pid cannot change the lifetime; a PID that does not exist or \
             is not visible is an error (status 1) and nothing is created. Several templates \
             share one guardian. Costs one sleeping process per call while PID lives. Needs \
             Linux 5.3 or later. Not with --exec, -u or --anonymous. \
             Example: dir=$(rtmp -d --until $$) || exit 1",
        )])
        .next_help_heading("Info")
        .args([
            flag(id::SHORT_HELP, Some('h'), None).help("Print a short help"),
            flag(id::LONG_HELP, None, Some("help"))
                .help("Print the full help, with exit statuses and examples"),
            flag(id::VERSION, Some('V'), Some("version")).help("Print version"),
        ])
        .next_help_heading(None)
        .arg(
            Arg::new(id::TEMPLATES)
                .value_name("TEMPLATE")
                .value_parser(value_parser!(std::ffi::OsString))
                .action(ArgAction::Append)
                .num_args(1..)
                // One X rule per help text, as GNU's: -h says it here, --help in the about.
                .help(
                    "Name pattern: its last run of X's (at least 3 in a row, in the last \
                     component) becomes random characters",
                )
                .long_help(
                    "Name pattern (default: tmp.XXXXXXXXXX in $TMPDIR or /tmp); see above for \
                     the X's.\n\n\
                     Several TEMPLATEs (BSD) are each created and printed on their own line, all \
                     or nothing: if one cannot be created, none is left and nothing is printed.",
                ),
        )
}

/// A flag that takes no value.
fn flag(id: &'static str, short: Option<char>, long: Option<&'static str>) -> Arg {
    let arg = Arg::new(id).action(ArgAction::SetTrue);
    let arg = match short {
        Some(c) => arg.short(c),
        None => arg,
    };
    match long {
        Some(name) => arg.long(name),
        None => arg,
    }
}

/// An option with one value, kept as the user's bytes; a value may start with `-` (getopt takes
/// the next word whatever it is: `-p -d` means DIR `-d`).
fn value(id: &'static str, value_name: &'static str) -> Arg {
    Arg::new(id)
        .value_name(value_name)
        .value_parser(value_parser!(std::ffi::OsString))
        .action(ArgAction::Set)
        .allow_hyphen_values(true)
}

/// Help in two lengths: a summary for `-h`, the summary and `more` for `--help`.
trait WithHelp {
    fn with_help(self, summary: &'static str, more: &'static str) -> Self;
}

impl WithHelp for Arg {
    fn with_help(self, summary: &'static str, more: &'static str) -> Self {
        self.help(summary).long_help(format!("{summary}\n\n{more}"))
    }
}

#[cfg(test)]
mod tests {
    use super::{command, id};

    #[test]
    fn definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn every_id_names_an_argument() {
        let command = command();
        for name in [
            id::DIRECTORY,
            id::DRY_RUN,
            id::QUIET,
            id::SUFFIX,
            id::P,
            id::TMPDIR,
            id::T,
            id::EXEC,
            id::EXPORT_TMPDIR,
            id::KEEP_ON_FAILURE,
            id::KEEP,
            id::PLACEHOLDER,
            id::NO_PLACEHOLDER,
            id::CD,
            id::KILL_AFTER,
            id::WAIT_CHILDREN,
            id::ANONYMOUS,
            id::SHELL,
            id::SHORT_HELP,
            id::LONG_HELP,
            id::VERSION,
            id::TEMPLATES,
            id::STDIN,
            id::REPLACE,
            id::UNTIL,
        ] {
            assert!(
                command.get_arguments().any(|a| a.get_id() == name),
                "{name}"
            );
        }
        assert_eq!(command.get_arguments().count(), 25);
    }
}
