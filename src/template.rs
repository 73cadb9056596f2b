//! Template planning: from TEMPLATE, `--suffix`, `-p`/`--tmpdir`, `-t` and `$TMPDIR` to the
//! exact name pattern to create.
//!
//! This module is pure: it does no I/O and reads no environment (the caller passes `$TMPDIR`).
//! The checks run in GNU coreutils' order (`mktemp.c`, 9.x) and the first failure
//! wins, with GNU's message. Everything is bytes: templates, suffixes and directories may hold any
//! byte but NUL.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use crate::quote::quote;

/// GNU's template when none is given (`mktemp.c`: `default_template`).
pub const DEFAULT_TEMPLATE: &str = "tmp.XXXXXXXXXX";

/// Random characters used for a BSD `-t PREFIX` (`PREFIX.XXXXXXXXXX`).
const BSD_PREFIX_X_COUNT: usize = 10;

/// GNU needs at least this many X's in the random part (`mktemp.c`: `x_count < 3`).
const MIN_X_COUNT: usize = 3;

/// Where the caller asked the name to go, as given on the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Location<'a> {
    /// `-p DIR` or `--tmpdir[=DIR]` was given (GNU's `use_dest_dir`).
    pub tmpdir_option: bool,
    /// The DIR of the last `-p`/`--tmpdir`; `None` for a bare `--tmpdir`.
    pub tmpdir_arg: Option<&'a OsStr>,
    /// `-t`: GNU's deprecated option, which is also the BSD prefix spelling.
    pub t_option: bool,
    /// The value of `$TMPDIR`, if set.
    pub env_tmpdir: Option<&'a OsStr>,
}

/// A validated template: what to create, and how to show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Directory part as it will be printed, ending in `/` (or empty for the current directory):
    /// `sub/`, `/tmp/`, `./a/`. Never normalised beyond GNU's join.
    pub dir: OsString,
    /// Bytes of the last component before the random characters (no `/`).
    pub prefix: OsString,
    /// Number of random characters.
    pub x_count: usize,
    /// Bytes after the random characters (no `/` except trailing ones, as GNU allows).
    pub suffix: OsString,
}

impl Plan {
    /// The directory the name goes in, for opening it: [`Plan::dir`], or `.` when that is
    /// empty (the current directory).
    pub fn dir_path(&self) -> &Path {
        if self.dir.is_empty() {
            Path::new(".")
        } else {
            Path::new(&self.dir)
        }
    }

    /// The full template with its directory joined and the X's not yet replaced: the `%s` of
    /// GNU's `failed to create file via template %s`.
    pub fn template(&self) -> OsString {
        self.with_random(&b"X".repeat(self.x_count))
    }

    /// The path with `random` in place of the X's.
    pub fn with_random(&self, random: &[u8]) -> OsString {
        let mut out = Vec::with_capacity(
            self.dir.len() + self.prefix.len() + random.len() + self.suffix.len(),
        );
        out.extend_from_slice(self.dir.as_bytes());
        out.extend_from_slice(self.prefix.as_bytes());
        out.extend_from_slice(random);
        out.extend_from_slice(self.suffix.as_bytes());
        OsString::from_vec(out)
    }
}

/// Why a template was refused. Each message is GNU's, with names quoted as GNU quotes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `--suffix` given but TEMPLATE is empty or does not end in `X`.
    SuffixNeedsTrailingX(OsString),
    /// The suffix holds a `/` that is not trailing.
    SuffixHasSlash(OsString),
    /// Fewer than 3 X's before the suffix (the template as given, without SUFF, as GNU 9.5+).
    TooFewXs(OsString),
    /// With `-t`, TEMPLATE+SUFF is not a single component.
    HasDirectorySeparator(OsString),
    /// With `-p`/`--tmpdir`, TEMPLATE+SUFF is absolute.
    AbsoluteWithTmpdir(OsString),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SuffixNeedsTrailingX(t) => {
                write!(f, "with --suffix, template {} must end in X", quote(t))
            }
            Self::SuffixHasSlash(s) => {
                write!(
                    f,
                    "invalid suffix {}, contains directory separator",
                    quote(s)
                )
            }
            Self::TooFewXs(t) => write!(f, "too few X's in template {}", quote(t)),
            Self::HasDirectorySeparator(t) => {
                write!(
                    f,
                    "invalid template, {}, contains directory separator",
                    quote(t)
                )
            }
            Self::AbsoluteWithTmpdir(t) => write!(
                f,
                "invalid template, {}; with --tmpdir, it may not be absolute",
                quote(t)
            ),
        }
    }
}

impl std::error::Error for TemplateError {}

/// Plans one template, following GNU `mktemp` (coreutils `mktemp.c`, 9.x) and BSD's `-t PREFIX`
/// (README, "Differences from GNU and BSD mktemp").
///
/// Inputs: TEMPLATE (`None` for GNU's default `tmp.XXXXXXXXXX` in the tmpdir), the last
/// `--suffix`, and the location options. Output: the [`Plan`], or the first rule it breaks.
pub fn plan(
    template: Option<&OsStr>,
    suffix: Option<&OsStr>,
    location: &Location<'_>,
) -> Result<Plan, TemplateError> {
    let (template, in_tmpdir) = match template {
        None => (OsStr::new(DEFAULT_TEMPLATE), true),
        Some(t) => (t, location.tmpdir_option || location.t_option),
    };
    let template = template.as_bytes();

    // Rule 2: where the suffix starts in TEMPLATE+SUFF.
    let mut full = template.to_vec();
    let suffix_start = match suffix {
        Some(suff) => {
            if template.last() != Some(&b'X') {
                return Err(TemplateError::SuffixNeedsTrailingX(os(template)));
            }
            full.extend_from_slice(suff.as_bytes());
            template.len()
        }
        None => template
            .iter()
            .rposition(|&b| b == b'X')
            .map_or(template.len(), |i| i + 1),
    };

    // Rule 3: only trailing slashes may appear in the suffix.
    let implied_suffix = &full[suffix_start..];
    if !implied_suffix.is_empty() && has_directory_separator(implied_suffix) {
        return Err(TemplateError::SuffixHasSlash(os(implied_suffix)));
    }

    // Rule 4: the run of X's right before the suffix is the random part.
    let x_count = full[..suffix_start]
        .iter()
        .rev()
        .take_while(|&&b| b == b'X')
        .count();
    let (full, suffix_start, x_count) = if x_count >= MIN_X_COUNT {
        (full, suffix_start, x_count)
    } else if location.t_option && !template.is_empty() && !template.contains(&b'/') {
        // BSD `-t PREFIX`: the whole TEMPLATE is a prefix (README, "Differences from GNU and BSD
        // mktemp").
        let mut bsd = template.to_vec();
        bsd.push(b'.');
        bsd.extend(std::iter::repeat_n(b'X', BSD_PREFIX_X_COUNT));
        let start = bsd.len();
        bsd.extend_from_slice(suffix.map_or(&[][..], OsStr::as_bytes));
        (bsd, start, BSD_PREFIX_X_COUNT)
    } else {
        return Err(TemplateError::TooFewXs(os(template)));
    };

    // Rule 5: the directory.
    let name_len = full.len();
    let joined = if in_tmpdir {
        let dir = tmpdir(location);
        if location.t_option {
            if has_directory_separator(&full) {
                return Err(TemplateError::HasDirectorySeparator(os(&full)));
            }
        } else if full.first() == Some(&b'/') {
            return Err(TemplateError::AbsoluteWithTmpdir(os(&full)));
        }
        join_dir(dir, &full)
    } else {
        full
    };
    Ok(split(joined, name_len, suffix_start, x_count))
}

/// Cuts the joined name into directory, prefix, random part and suffix. `suffix_start` indexes
/// the un-joined name of length `name_len`, which is the tail of `joined`.
fn split(joined: Vec<u8>, name_len: usize, suffix_start: usize, x_count: usize) -> Plan {
    let suffix_start = joined.len() - name_len + suffix_start;
    let random_start = suffix_start - x_count;
    let prefix_start = joined[..random_start]
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(0, |i| i + 1);
    Plan {
        dir: os(&joined[..prefix_start]),
        prefix: os(&joined[prefix_start..random_start]),
        x_count,
        suffix: os(&joined[suffix_start..]),
    }
}

/// The directory GNU picks (`mktemp.c`; man page, OPTIONS). With `-t`, `$TMPDIR` beats `-p`.
fn tmpdir<'a>(location: &Location<'a>) -> &'a [u8] {
    let non_empty = |v: Option<&'a OsStr>| v.map(OsStr::as_bytes).filter(|b| !b.is_empty());
    let (first, second) = if location.t_option {
        (location.env_tmpdir, location.tmpdir_arg)
    } else {
        (location.tmpdir_arg, location.env_tmpdir)
    };
    non_empty(first).or(non_empty(second)).unwrap_or(b"/tmp")
}

/// Joins as gnulib's `file_name_concat`: trailing slashes of `dir` become one `/`, except that a
/// `dir` of only slashes is kept as it is (`/` + `a` is `/a`, `//` + `a` is `//a`).
fn join_dir(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let trimmed_len = dir.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    let mut out = Vec::with_capacity(dir.len() + 1 + name.len());
    if trimmed_len == 0 {
        out.extend_from_slice(dir);
    } else {
        out.extend_from_slice(&dir[..trimmed_len]);
        out.push(b'/');
    }
    out.extend_from_slice(name);
    out
}

/// True when `name` is not a single component, as gnulib's `last_component(name) != name`:
/// leading slashes, or a slash followed by anything but slashes. `b/` is one component.
pub fn has_directory_separator(name: &[u8]) -> bool {
    if name.first() == Some(&b'/') {
        return true;
    }
    name.windows(2).any(|w| w[0] == b'/' && w[1] != b'/')
}

fn os(bytes: &[u8]) -> OsString {
    OsString::from_vec(bytes.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(s: &str) -> &OsStr {
        OsStr::new(s)
    }

    /// Plans and renders the template (X's kept) or the error message.
    fn render(template: Option<&str>, suffix: Option<&str>, loc: Location<'_>) -> String {
        match plan(template.map(o), suffix.map(o), &loc) {
            Ok(p) => p.template().to_string_lossy().into_owned(),
            Err(e) => format!("error: {e}"),
        }
    }

    fn plain(template: &str) -> String {
        render(Some(template), None, Location::default())
    }

    fn tmpdir_opt<'a>(dir: Option<&'a str>, env: Option<&'a str>) -> Location<'a> {
        Location {
            tmpdir_option: true,
            tmpdir_arg: dir.map(o),
            t_option: false,
            env_tmpdir: env.map(o),
        }
    }

    fn t_opt<'a>(dir: Option<&'a str>, env: Option<&'a str>) -> Location<'a> {
        Location {
            t_option: true,
            ..tmpdir_opt(dir, env)
        }
    }

    #[test]
    fn no_template_uses_default_in_tmpdir() {
        let p = plan(None, None, &Location::default()).expect("default plans");
        assert_eq!(p.dir, "/tmp/");
        assert_eq!(p.prefix, "tmp.");
        assert_eq!(p.x_count, 10);
        assert_eq!(p.suffix, "");
        assert_eq!(
            render(
                None,
                None,
                Location {
                    env_tmpdir: Some(o("sub")),
                    ..Location::default()
                }
            ),
            "sub/tmp.XXXXXXXXXX"
        );
    }

    #[test]
    fn template_without_location_is_used_as_given() {
        assert_eq!(plain("bar.XXXX"), "bar.XXXX");
        assert_eq!(plain("sub/XXXX"), "sub/XXXX");
        let p = plan(Some(o("sub/dir/fooXXX.txt")), None, &Location::default()).expect("plans");
        assert_eq!(
            (p.dir.as_os_str(), p.prefix.as_os_str()),
            (o("sub/dir/"), o("foo"))
        );
        assert_eq!((p.x_count, p.suffix.as_os_str()), (3, o(".txt")));
    }

    #[test]
    fn tmpdir_env_is_ignored_without_location_option() {
        let loc = Location {
            env_tmpdir: Some(o("/nope")),
            ..Location::default()
        };
        assert_eq!(render(Some("fooXXX"), None, loc), "fooXXX");
    }

    #[test]
    fn only_last_run_of_xs_is_random() {
        let p = plan(Some(o("aXXXXaaXXXXa")), None, &Location::default()).expect("plans");
        assert_eq!(p.prefix, "aXXXXaa");
        assert_eq!(p.x_count, 4);
        assert_eq!(p.suffix, "a");
    }

    #[test]
    fn implied_suffix_is_what_follows_the_last_x() {
        let p = plan(Some(o("fooXXXbar.txt")), None, &Location::default()).expect("plans");
        assert_eq!(
            (p.prefix.as_os_str(), p.suffix.as_os_str()),
            (o("foo"), o("bar.txt"))
        );
    }

    #[test]
    fn suffix_option_requires_trailing_x() {
        assert_eq!(
            render(Some("aXXXXb"), Some(""), Location::default()),
            "error: with --suffix, template 'aXXXXb' must end in X"
        );
        assert_eq!(
            render(Some(""), Some(".txt"), Location::default()),
            "error: with --suffix, template '' must end in X"
        );
    }

    #[test]
    fn x_in_suffix_option_is_literal() {
        let p = plan(Some(o("aXXXX")), Some(o("X")), &Location::default()).expect("plans");
        assert_eq!((p.x_count, p.suffix.as_os_str()), (4, o("X")));
        assert_eq!(
            render(Some("aXX"), Some("X"), Location::default()),
            "error: too few X's in template 'aXX'"
        );
    }

    #[test]
    fn suffix_with_slash_is_refused_unless_trailing() {
        assert_eq!(
            render(Some("aXXXX"), Some("/b"), Location::default()),
            "error: invalid suffix '/b', contains directory separator"
        );
        assert_eq!(
            plain("aXXXX/b"),
            "error: invalid suffix '/b', contains directory separator"
        );
        assert_eq!(
            render(Some("aXXXX"), Some("b/"), Location::default()),
            "aXXXXb/"
        );
        assert_eq!(
            render(Some("aXXXX"), Some("//"), Location::default()),
            "error: invalid suffix '//', contains directory separator"
        );
    }

    #[test]
    fn too_few_xs() {
        assert_eq!(plain("aXXb"), "error: too few X's in template 'aXXb'");
        assert_eq!(plain(""), "error: too few X's in template ''");
        assert_eq!(plain("foo"), "error: too few X's in template 'foo'");
        assert_eq!(plain("XXX"), "XXX");
    }

    #[test]
    fn tmpdir_option_chooses_dir_then_env_then_tmp() {
        assert_eq!(
            render(Some("fooXXX"), None, tmpdir_opt(Some("sub"), Some("env"))),
            "sub/fooXXX"
        );
        assert_eq!(
            render(Some("fooXXX"), None, tmpdir_opt(Some(""), Some("env"))),
            "env/fooXXX"
        );
        assert_eq!(
            render(Some("fooXXX"), None, tmpdir_opt(None, Some(""))),
            "/tmp/fooXXX"
        );
    }

    #[test]
    fn t_option_prefers_env_over_dir() {
        assert_eq!(
            render(Some("fooXXX"), None, t_opt(Some("no/such"), Some("."))),
            "./fooXXX"
        );
        assert_eq!(
            render(Some("fooXXX"), None, t_opt(Some("sub"), Some(""))),
            "sub/fooXXX"
        );
        assert_eq!(
            render(Some("fooXXX"), None, t_opt(None, None)),
            "/tmp/fooXXX"
        );
    }

    #[test]
    fn join_strips_trailing_slashes_but_keeps_root() {
        assert_eq!(
            render(Some("fooXXX"), None, tmpdir_opt(Some("sub//"), None)),
            "sub/fooXXX"
        );
        assert_eq!(
            render(Some("fooXXX"), None, tmpdir_opt(Some("/"), None)),
            "/fooXXX"
        );
        assert_eq!(
            render(Some("fooXXX"), None, tmpdir_opt(Some("//"), None)),
            "//fooXXX"
        );
        assert_eq!(
            render(Some("fooXXX"), None, tmpdir_opt(Some("."), None)),
            "./fooXXX"
        );
        assert_eq!(
            render(Some("./fooXXX"), None, tmpdir_opt(Some("sub"), None)),
            "sub/./fooXXX"
        );
    }

    #[test]
    fn tmpdir_allows_slashes_but_not_absolute() {
        assert_eq!(
            render(Some("a/bXXXX"), None, tmpdir_opt(Some("."), None)),
            "./a/bXXXX"
        );
        assert_eq!(
            render(Some("/bXXXX"), None, tmpdir_opt(Some("a"), None)),
            "error: invalid template, '/bXXXX'; with --tmpdir, it may not be absolute"
        );
    }

    #[test]
    fn t_option_refuses_directory_separator() {
        assert_eq!(
            render(Some("aXXX/"), Some("b"), t_opt(None, None)),
            "error: with --suffix, template 'aXXX/' must end in X"
        );
        assert_eq!(
            render(Some("a/bXXXX"), None, t_opt(None, None)),
            "error: invalid template, 'a/bXXXX', contains directory separator"
        );
    }

    #[test]
    fn t_prefix_is_bsd_spelling() {
        assert_eq!(
            render(Some("build"), None, t_opt(None, Some("/x"))),
            "/x/build.XXXXXXXXXX"
        );
        assert_eq!(
            render(Some("fooXXb"), None, t_opt(None, None)),
            "/tmp/fooXXb.XXXXXXXXXX"
        );
        assert_eq!(
            render(Some("aXX"), Some(".txt"), t_opt(None, None)),
            "/tmp/aXX.XXXXXXXXXX.txt"
        );
        // With a slash, GNU's error stands; an empty prefix is still an error.
        assert_eq!(
            render(Some("a/bXX"), None, t_opt(None, None)),
            "error: too few X's in template 'a/bXX'"
        );
        assert_eq!(
            render(Some(""), None, t_opt(None, None)),
            "error: too few X's in template ''"
        );
    }

    #[test]
    fn first_failing_rule_wins() {
        // Suffix slash (rule 3) is reported before too few X's (rule 4).
        assert_eq!(
            plain("aXX/b"),
            "error: invalid suffix '/b', contains directory separator"
        );
        // Too few X's (rule 4) before absolute-with-tmpdir (rule 5).
        assert_eq!(
            render(Some("/aXX"), None, tmpdir_opt(Some("d"), None)),
            "error: too few X's in template '/aXX'"
        );
    }

    #[test]
    fn bytes_pass_through_unchanged() {
        let t = OsStr::from_bytes(b"\xff\xfeXXX");
        let p = plan(Some(t), None, &Location::default()).expect("plans");
        assert_eq!(p.prefix.as_bytes(), b"\xff\xfe");
        let err = plan(
            Some(OsStr::from_bytes(b"\xffXX")),
            None,
            &Location::default(),
        )
        .expect_err("too few");
        assert_eq!(err.to_string(), "too few X's in template '\\377XX'");
    }

    #[test]
    fn with_random_replaces_only_the_random_part() {
        let p = plan(Some(o("aXXXXaaXXXXa")), None, &Location::default()).expect("plans");
        assert_eq!(p.with_random(b"1234"), "aXXXXaa1234a");
    }

    #[test]
    fn has_directory_separator_matches_last_component() {
        for (name, want) in [
            ("b/", false),
            ("b//", false),
            ("/b", true),
            ("a/b", true),
            ("/", true),
            ("", false),
            ("ab", false),
        ] {
            assert_eq!(has_directory_separator(name.as_bytes()), want, "{name:?}");
        }
    }
}
