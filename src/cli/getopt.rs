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
        // getopt: `-pp` is -p with DIR `p`, so the next word is an option again.
        assert_eq!(
            resolved(&["-pp", "--s", ".x"]),
            words(&["-pp", "--suffix", ".x"])
        );
        assert_eq!(
            resolved(&["-dpp", "--s", ".x"]),
            words(&["-dpp", "--suffix", ".x"])
        );
        assert!(short_cluster_takes_next_word(b"-p"));
        assert!(short_cluster_takes_next_word(b"-uqp"));
        assert!(!short_cluster_takes_next_word(b"-pd"));
        assert!(!short_cluster_takes_next_word(b"-"));
        assert!(!short_cluster_takes_next_word(b"aXXp"));
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
