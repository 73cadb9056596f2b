//! GNU `getopt_long` behaviour around clap: the argument words are adjusted before clap sees
//! them, and clap's errors are reworded after, in getopt's exact words.
//!
//! GNU `mktemp` parses with glibc's `getopt_long`, whose rules differ from clap's in a few
//! places that scripts can see (README, "Differences from GNU and BSD mktemp"):
//! - an unambiguous prefix of a long option is that option; rtmp's extra options must not make
//!   GNU's prefixes ambiguous (`--s` is `--suffix`, though rtmp also has `--shell`):
//!   [`resolve_gnu_prefixes`];
//! - an option value is the next word whatever it is (`-p -d`, `--suffix --x`), attached
//!   (`-pDIR`, `-dpDIR`, `--suffix=S`) or not; `--tmpdir` takes one only attached with `=`
//!   (clap's `require_equals`, set in `args.rs`);
//! - usage errors read `invalid option -- 'z'`, `option '--d' is ambiguous; possibilities:
//!   '--directory' '--dry-run'` and so on: [`message`].
//!
//! Invariants: words after `--` or after `--exec` (which belong to the command) are never
//! changed; a rewritten word keeps the user's bytes after the option name.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use clap::Command;
use clap::error::{ContextKind, ContextValue, ErrorKind};

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

/// rtmp's short options that take a value (`-p DIR`, `-I STR`).
const SHORT_WITH_VALUE: &[u8] = b"pI";

/// True when `args` (before a `--`) holds `--exec` or `--shell`, or a prefix of one that getopt
/// would accept: usage errors then exit 125, as GNU `env`/`timeout` do for their own failures.
pub fn mentions_exec(args: &[OsString]) -> bool {
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

/// True when the short-option word `word` (`-dp`, not `-pDIR`) ends with an option whose value
/// is therefore the next word. getopt reads a cluster left to right, and the first option that
/// takes a value takes the rest of the word: `-pp` is `-p` with DIR `p`.
fn short_cluster_takes_next_word(word: &[u8]) -> bool {
    let Some(cluster) = word.strip_prefix(b"-") else {
        return false;
    };
    match cluster.iter().position(|b| SHORT_WITH_VALUE.contains(b)) {
        Some(i) => i + 1 == cluster.len(),
        None => false,
    }
}

/// For a short-option word whose value-taking option has its value attached (`-pDIR`,
/// `-dp=DIR`): the cluster up to that option and the value, as two words. getopt takes the rest
/// of the word as the value, byte for byte (glibc `getopt`, `_getopt_internal_r`), so `-p=sub`
/// is the directory `=sub` (GNU mktemp: `failed to create file via template '=sub/aXXX'`).
/// `None` for any other word.
fn split_attached_short_value(word: &[u8]) -> Option<(OsString, OsString)> {
    let cluster = word.strip_prefix(b"-")?;
    if cluster.is_empty() || cluster.starts_with(b"-") {
        return None;
    }
    let i = cluster.iter().position(|b| SHORT_WITH_VALUE.contains(b))?;
    let (options, value) = cluster.split_at(i + 1);
    if value.is_empty() {
        return None;
    }
    let mut options_word = b"-".to_vec();
    options_word.extend_from_slice(options);
    // Split at an ASCII option letter: both halves keep the user's bytes.
    Some((
        OsString::from_vec(options_word),
        OsString::from_vec(value.to_vec()),
    ))
}

/// Keeps GNU's meaning of long-option prefixes that rtmp's own options would make ambiguous:
/// `--s` is `--suffix` in every script written for GNU mktemp, even though rtmp also has
/// `--shell`. A prefix that is ambiguous for GNU too (`--d`) is left for clap to refuse (and
/// [`message`] to word). Values (`-p DIR`, `--suffix SUFF`) are skipped, never read as options.
/// Stops at `--` and at `--exec`, whose following words belong to the command.
///
/// `--exec=CMD` (or an accepted prefix, `--exe=CMD`) becomes `--exec`, `--`, `CMD`: CMD and
/// every word after it are the command, exactly as after `--exec CMD` (clap would take only
/// the attached value and read the rest as rtmp's templates and options). The `--` keeps a CMD
/// that is itself `--` (`--exec=--`) from being dropped as a separator.
///
/// Input: the words after the program name, and rtmp's [`Command`] (for its long options).
/// Output: the same words, with such prefixes spelled out in full and `--exec=CMD` split.
pub fn resolve_gnu_prefixes(args: Vec<OsString>, command: &Command) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut words = args.into_iter();
    while let Some(word) = words.next() {
        let bytes = word.as_encoded_bytes();
        if bytes == b"--" || starts_exec(bytes) {
            match bytes.iter().position(|&b| b == b'=') {
                Some(i) if bytes != b"--" => {
                    // Split at an ASCII `=`: both halves are still the user's bytes.
                    out.push(OsString::from_vec(bytes[..i].to_vec()));
                    out.push(OsString::from("--"));
                    out.push(OsString::from_vec(bytes[i + 1..].to_vec()));
                }
                _ => out.push(word),
            }
            out.extend(words);
            break;
        }
        let Some(rest) = bytes.strip_prefix(b"--") else {
            // `-pDIR`, `-p=DIR`: passed as two words, so that clap takes DIR whole (it drops
            // one `=` of an attached short value; getopt keeps it: `-p=sub` is DIR `=sub`).
            if let Some((cluster, value)) = split_attached_short_value(bytes) {
                out.extend([cluster, value]);
                continue;
            }
            // `-p DIR` (also at the end of a cluster, `-dp DIR`): DIR is not an option.
            let takes_value = short_cluster_takes_next_word(bytes);
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
                let candidates = long_options_with_prefix(command, &String::from_utf8_lossy(name));
                (candidates.len() > 1).then(|| {
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

/// How the user spelled the flag with short letter `short` and long name `long`: `-u` when it
/// was given in a short cluster (`-u`, `-du`), else `--dry-run` (a long prefix, `--dry`, is
/// named in full, as getopt names it). clap's matches do not say which spelling was used, so
/// the words are read again, as getopt reads them: values (`-p DIR`, `--suffix SUFF`,
/// `-I STR`, `--placeholder STR`) are skipped, and the search ends at `--` and at `--exec`.
///
/// Input: the words after [`resolve_gnu_prefixes`] (attached short values are then words of
/// their own). Output: the first spelling found; `--LONG` when none is (the flag came from
/// elsewhere).
pub fn typed_flag(args: &[OsString], short: u8, long: &str) -> String {
    let mut words = args.iter().map(|a| a.as_encoded_bytes());
    while let Some(word) = words.next() {
        if word == b"--" || starts_exec(word) {
            break;
        }
        if let Some(rest) = word.strip_prefix(b"--") {
            if spells_long(word, long, 3) {
                break;
            }
            if long_takes_next_word(rest)
                || (!rest.contains(&b'=') && spells_long(word, "placeholder", 3))
            {
                words.next();
            }
            continue;
        }
        let Some(cluster) = word.strip_prefix(b"-") else {
            continue;
        };
        let options = match cluster.iter().position(|b| SHORT_WITH_VALUE.contains(b)) {
            Some(i) => &cluster[..=i],
            None => cluster,
        };
        if options.contains(&short) {
            return format!("-{}", char::from(short));
        }
        if short_cluster_takes_next_word(word) {
            words.next();
        }
    }
    format!("--{long}")
}

/// True when the long option word `rest` (the bytes after `--`) takes the next word as its value:
/// `--suffix SUFF` and its unambiguous GNU prefixes (`--su`), never with `=`.
fn long_takes_next_word(rest: &[u8]) -> bool {
    !rest.is_empty()
        && !rest.contains(&b'=')
        && GNU_LONG_OPTIONS
            .iter()
            .filter(|o| o.as_bytes().starts_with(rest))
            .eq(["suffix"].iter())
}

/// True when `word` is an operand for getopt: not an option (`-` alone is an operand).
fn is_operand(word: &[u8]) -> bool {
    !word.starts_with(b"-") || word == b"-"
}

/// `POSIXLY_CORRECT`: options end at the first operand, as glibc `getopt` does when the variable
/// is in the environment (docs/behaviour.md A1.2; GNU: `POSIXLY_CORRECT=1 mktemp fooXXX -d`
/// is `too many templates`).
///
/// Input: the words after [`resolve_gnu_prefixes`]. Removes from them the first operand and
/// every word after it, and returns those as operands (TEMPLATEs), in order; the caller adds
/// them to the templates clap finds. Exception (rtmp's, since GNU has no `--exec`): an `--exec`
/// word after the first operand, before any `--`, stays an option with the words after it, so
/// the documented `rtmp [OPTION]... [TEMPLATE] --exec CMD` works. Option values (`-p DIR`,
/// `--suffix SUFF`) are not operands; a `--` before the first operand leaves everything to clap.
pub fn take_posix_operands(args: &mut Vec<OsString>) -> Vec<OsString> {
    let mut i = 0;
    while let Some(word) = args.get(i).map(|w| w.as_encoded_bytes()) {
        if word == b"--" || starts_exec(word) {
            return Vec::new();
        }
        if is_operand(word) {
            break;
        }
        let skip_value = match word.strip_prefix(b"--") {
            Some(rest) => long_takes_next_word(rest),
            None => short_cluster_takes_next_word(word),
        };
        i += if skip_value { 2 } else { 1 };
    }
    if i >= args.len() {
        return Vec::new();
    }
    let end = args[i..]
        .iter()
        .map(|w| w.as_encoded_bytes())
        .take_while(|w| *w != b"--")
        .position(starts_exec)
        .map_or(args.len(), |n| i + n);
    args.drain(i..end).collect()
}

/// The id of the first `-h`, `--help`, `-V` or `--version` (any id in `info_ids`) that getopt
/// would act on, in order: before any word getopt refuses (an unknown or ambiguous option, an
/// argument given to a flag), and before `--` or `--exec`. GNU mktemp acts on `--help` and
/// `--version` as getopt returns them, so `mktemp --help --bogus` prints the help (status 0)
/// while `mktemp --bogus --help` is an error (docs/behaviour.md A1.6).
///
/// Inputs: the words after [`resolve_gnu_prefixes`] and rtmp's [`Command`]. Option values are
/// skipped (`-p --help` is the directory `--help`). `None` when no such option comes first;
/// clap then parses the whole line as usual.
pub fn first_info_option(
    args: &[OsString],
    command: &Command,
    info_ids: &[&str],
) -> Option<String> {
    let is_info = |arg: &clap::Arg| info_ids.iter().any(|id| arg.get_id() == *id);
    let mut words = args.iter().map(|w| w.as_encoded_bytes());
    while let Some(word) = words.next() {
        if word == b"--" || starts_exec(word) {
            return None;
        }
        if is_operand(word) {
            continue;
        }
        if let Some(rest) = word.strip_prefix(b"--") {
            let (name, has_value) = match rest.iter().position(|&b| b == b'=') {
                Some(i) => (&rest[..i], true),
                None => (rest, false),
            };
            let name = std::str::from_utf8(name).ok()?;
            let [long] = long_options_with_prefix(command, name)[..] else {
                return None; // unknown or ambiguous: getopt's error comes first
            };
            let arg = command
                .get_arguments()
                .find(|a| a.get_long() == Some(long))?;
            let takes_value = arg.get_action().takes_values();
            if has_value && !takes_value {
                return None; // `--help=x`: doesn't allow an argument
            }
            if is_info(arg) {
                return Some(arg.get_id().to_string());
            }
            if !has_value && long_takes_next_word(rest) {
                words.next();
            }
            continue;
        }
        for (i, &c) in word[1..].iter().enumerate() {
            let arg = command
                .get_arguments()
                .find(|a| a.get_short().is_some_and(|s| u32::from(s) == u32::from(c)))?;
            if is_info(arg) {
                return Some(arg.get_id().to_string());
            }
            if SHORT_WITH_VALUE.contains(&c) {
                if i + 2 == word.len() {
                    words.next(); // `-p DIR`
                }
                break; // `-pDIR`: the rest of the word is the value
            }
        }
    }
    None
}

/// Rewrites a clap error in getopt's words (glibc `getopt_long`), without the program name.
///
/// Inputs: clap's error, the words clap was given (getopt quotes an unknown long option as
/// typed, `=value` included), and rtmp's [`Command`] (for the list of an ambiguous prefix's
/// possibilities). An error kind getopt has no wording for keeps clap's first line.
pub fn message(err: &clap::Error, args: &[OsString], command: &Command) -> String {
    let arg = match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    // clap names an option as `--suffix <SUFF>` or `-p <DIR>`: keep the name.
    let name = arg.split([' ', '=']).next().unwrap_or("").to_owned();
    match err.kind() {
        ErrorKind::UnknownArgument => {
            if let Some(long) = name.strip_prefix("--") {
                let typed = typed_long_option(args, &name).unwrap_or_else(|| name.clone());
                let candidates = long_options_with_prefix(command, long);
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

/// rtmp's long options of which `prefix` is a prefix, in definition order; an exact match is
/// never ambiguous, so it comes back alone.
fn long_options_with_prefix<'a>(command: &'a Command, prefix: &str) -> Vec<&'a str> {
    let longs: Vec<&str> = command
        .get_arguments()
        .filter_map(clap::Arg::get_long)
        .collect();
    if let Some(exact) = longs.iter().find(|l| **l == prefix) {
        return vec![exact];
    }
    longs
        .into_iter()
        .filter(|l| l.starts_with(prefix))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(ws: &[&str]) -> Vec<OsString> {
        ws.iter().map(OsString::from).collect()
    }

    fn resolved(ws: &[&str]) -> Vec<OsString> {
        resolve_gnu_prefixes(words(ws), &crate::cli::args::command())
    }

    #[test]
    fn gnu_prefixes_are_spelled_out_only_when_rtmp_makes_them_ambiguous() {
        assert_eq!(
            resolved(&["--s=.x", "--s", ".y"]),
            words(&["--suffix=.x", "--suffix", ".y"])
        );
        // --su is unambiguous for rtmp too, --d ambiguous for GNU too, --sh is rtmp's own.
        assert_eq!(
            resolved(&["--su=.x", "--d", "--sh"]),
            words(&["--su=.x", "--d", "--sh"])
        );
    }

    #[test]
    fn values_and_command_words_are_left_alone() {
        assert_eq!(resolved(&["-p", "--s"]), words(&["-p", "--s"]));
        assert_eq!(resolved(&["-dp", "--s"]), words(&["-dp", "--s"]));
        assert_eq!(resolved(&["--s", "--s"]), words(&["--suffix", "--s"]));
        assert_eq!(resolved(&["--", "--s"]), words(&["--", "--s"]));
        assert_eq!(resolved(&["--exe", "--s"]), words(&["--exe", "--s"]));
        assert_eq!(resolved(&["-I", "--s"]), words(&["-I", "--s"]));
    }

    #[test]
    fn exec_equals_cmd_is_split() {
        assert_eq!(
            resolved(&["--s", ".x", "--exec=echo", "a=b", "--s"]),
            words(&["--suffix", ".x", "--exec", "--", "echo", "a=b", "--s"])
        );
        assert_eq!(
            resolved(&["--exe=--", "x"]),
            words(&["--exe", "--", "--", "x"])
        );
        assert_eq!(resolved(&["--exec="]), words(&["--exec", "--", ""]));
        // After `--`, a word is an operand, never split.
        assert_eq!(
            resolved(&["--", "--exec=echo"]),
            words(&["--", "--exec=echo"])
        );
    }

    #[test]
    fn an_attached_value_ends_the_cluster() {
        // getopt: `-pp` is -p with DIR `p`, so the next word is an option again. (The
        // attached value is passed to clap as a word of its own.)
        assert_eq!(
            resolved(&["-pp", "--s", ".x"]),
            words(&["-p", "p", "--suffix", ".x"])
        );
        assert_eq!(
            resolved(&["-dpp", "--s", ".x"]),
            words(&["-dp", "p", "--suffix", ".x"])
        );
        assert!(short_cluster_takes_next_word(b"-p"));
        assert!(short_cluster_takes_next_word(b"-uqp"));
        assert!(!short_cluster_takes_next_word(b"-pd"));
        assert!(!short_cluster_takes_next_word(b"-"));
        assert!(!short_cluster_takes_next_word(b"aXXp"));
    }

    #[test]
    fn an_attached_short_value_is_its_own_word() {
        assert_eq!(
            resolved(&["-p=sub", "aXXX"]),
            words(&["-p", "=sub", "aXXX"])
        );
        assert_eq!(resolved(&["-dp=sub"]), words(&["-dp", "=sub"]));
        assert_eq!(resolved(&["-psub"]), words(&["-p", "sub"]));
        assert_eq!(resolved(&["-pp", "-d"]), words(&["-p", "p", "-d"]));
        assert_eq!(resolved(&["-p", "-p=x"]), words(&["-p", "-p=x"]));
        assert_eq!(resolved(&["-d", "-"]), words(&["-d", "-"]));
    }

    fn posix(ws: &[&str]) -> (Vec<OsString>, Vec<OsString>) {
        let mut args = resolved(ws);
        let operands = take_posix_operands(&mut args);
        (args, operands)
    }

    #[test]
    fn posixly_correct_ends_options_at_the_first_operand() {
        assert_eq!(
            posix(&["fooXXX", "-d"]),
            (words(&[]), words(&["fooXXX", "-d"]))
        );
        assert_eq!(
            posix(&["-d", "-p", "x", "--suffix", ".s", "aXXX", "--", "-u"]),
            (
                words(&["-d", "-p", "x", "--suffix", ".s"]),
                words(&["aXXX", "--", "-u"])
            )
        );
        assert_eq!(posix(&["-dp", "x"]), (words(&["-dp", "x"]), words(&[])));
        assert_eq!(
            posix(&["-d", "--", "-u"]),
            (words(&["-d", "--", "-u"]), words(&[]))
        );
        // --exec after the one TEMPLATE is still the option, and the rest the command's.
        assert_eq!(
            posix(&["-d", "aXXX", "--exec", "ls", "-l"]),
            (words(&["-d", "--exec", "ls", "-l"]), words(&["aXXX"]))
        );
        assert_eq!(
            posix(&["aXXX", "--", "--exec", "ls"]),
            (words(&[]), words(&["aXXX", "--", "--exec", "ls"]))
        );
        assert_eq!(posix(&["--exec", "ls", "aXXX"]).1, words(&[]));
    }

    fn info(ws: &[&str]) -> Option<String> {
        first_info_option(
            &resolved(ws),
            &crate::cli::args::command(),
            &[
                crate::cli::args::id::LONG_HELP,
                crate::cli::args::id::SHORT_HELP,
                crate::cli::args::id::VERSION,
            ],
        )
    }

    #[test]
    fn help_and_version_act_in_getopt_order() {
        assert_eq!(info(&["--help", "--bogus"]).as_deref(), Some("long_help"));
        assert_eq!(info(&["--he", "-z"]).as_deref(), Some("long_help"));
        assert_eq!(
            info(&["aXXX", "-d", "--version", "--x"]).as_deref(),
            Some("version")
        );
        assert_eq!(info(&["-dh"]).as_deref(), Some("short_help"));
        assert_eq!(info(&["-V", "--help"]).as_deref(), Some("version"));
        for ws in [
            &["--bogus", "--help"][..],
            &["-z", "--help"],
            &["-dz", "-h"],
            &["--d", "--help"],
            &["--directory=x", "--help"],
            &["--help=x"],
            &["-p", "--help"],
            &["-ph"],
            &["--suffix", "--help"],
            &["--", "--help"],
            &["--exec", "--help"],
            &["-d", "aXXX"],
        ] {
            assert_eq!(info(ws), None, "{ws:?}");
        }
        assert_eq!(info(&["--tmpdir", "--help"]).as_deref(), Some("long_help"));
    }

    #[test]
    fn exec_is_recognised_by_its_getopt_prefixes() {
        assert!(mentions_exec(&words(&["-d", "--exe", "true"])));
        assert!(mentions_exec(&words(&["--exec=true"])));
        assert!(mentions_exec(&words(&["--she"])));
        assert!(mentions_exec(&words(&["--sh"])));
        assert!(!mentions_exec(&words(&["--e", "--s", "--ex"])));
        assert!(!mentions_exec(&words(&["--", "--exec"])));
    }
}
