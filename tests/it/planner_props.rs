//! Property tests of the template planner, `rtmp::template::plan`.
//!
//! Over arbitrary byte strings (no NUL) for TEMPLATE, `--suffix`, `-p` and `$TMPDIR`, and every
//! combination of `-t` and a bare `--tmpdir`:
//!
//! * `plan` never panics;
//! * an accepted plan has the shape `dir + prefix + random + suffix`, the prefix holds no `/`
//!   and the suffix none except trailing ones;
//! * `plan` agrees with [`model`], an independent reading of GNU mktemp's template rules and
//!   rtmp's BSD `-t PREFIX` (README "Differences from GNU and BSD mktemp"), written from those
//!   rules (not from `src/template.rs`), on accept/reject, on the path and on the exact error
//!   message.
//!
//! Generators are biased toward the bytes the rules care about: `X`, `/`, `.`, `'`, `\` and a
//! non-UTF-8 byte. An input that fuzzing (`fuzz/`) finds to crash goes at the end as a
//! regression test (none so far: 15.5 M `plan` and 0.5 M `parse_args` runs found nothing).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use proptest::prelude::*;
use rtmp::template::{Location, Plan, plan};

/// Cases per property: enough to hit every rule combination many times, still well under
/// a second each in a debug build.
const CASES: u32 = 4096;

/// An independent model of GNU mktemp's template rules (A2, numbered as in the module doc of
/// `main.rs`) and the BSD `-t PREFIX` (B).
mod model {
    /// GNU's default template (A2 rule 1).
    const DEFAULT: &[u8] = b"tmp.XXXXXXXXXX";

    /// The inputs, as the command line and environment give them.
    #[derive(Debug, Clone)]
    pub struct Input {
        pub template: Option<Vec<u8>>,
        pub suffix: Option<Vec<u8>>,
        /// The value of `-p DIR` (implies the tmpdir option).
        pub p: Option<Vec<u8>>,
        /// A bare `--tmpdir` (no value).
        pub tmpdir_flag: bool,
        pub t: bool,
        pub env_tmpdir: Option<Vec<u8>>,
    }

    /// What the model expects: the full path with the X's of the random part kept, the
    /// number of random characters; or the error message.
    pub type Outcome = Result<(Vec<u8>, usize), String>;

    /// GNU `quote()` in the C locale (A2 rule 6): `'...'`, `\'` and `\\`, C escapes for the
    /// control characters that have one, three octal digits for every other byte that is not
    /// printable ASCII.
    pub fn quote(bytes: &[u8]) -> String {
        let mut s = String::from("'");
        for &b in bytes {
            let esc = match b {
                b'\'' => "\\'",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\t' => "\\t",
                b'\r' => "\\r",
                7 => "\\a",
                8 => "\\b",
                11 => "\\v",
                12 => "\\f",
                b' '..=b'~' => {
                    s.push(b as char);
                    continue;
                }
                _ => {
                    s.push_str(&format!("\\{b:03o}"));
                    continue;
                }
            };
            s.push_str(esc);
        }
        s.push('\'');
        s
    }

    /// "Contains a directory separator" as GNU means it: the name is not its own last
    /// component. Leading slashes are skipped, then the last component starts after the last
    /// `/` that is followed by something other than `/`. So `b/` and `b//` are one component;
    /// `/b`, `a/b`, `/` and `//` are not.
    fn not_one_component(name: &[u8]) -> bool {
        let leading = name.iter().take_while(|&&b| b == b'/').count();
        let last_start = (leading.max(1)..name.len())
            .rev()
            .find(|&i| name[i - 1] == b'/' && name[i] != b'/')
            .unwrap_or(leading);
        last_start != 0
    }

    /// `value` when it is set and not empty.
    fn non_empty(value: &Option<Vec<u8>>) -> Option<&[u8]> {
        value.as_deref().filter(|v| !v.is_empty())
    }

    /// Rule 5's join: DIR without its trailing slashes, then exactly one `/`; a DIR made only
    /// of slashes is kept as it is (`/` + NAME is `/NAME`, `//` + NAME is `//NAME`).
    fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
        let mut out;
        if dir.iter().all(|&b| b == b'/') {
            out = dir.to_vec();
        } else {
            let mut end = dir.len();
            while dir[end - 1] == b'/' {
                end -= 1;
            }
            out = dir[..end].to_vec();
            out.push(b'/');
        }
        out.extend_from_slice(name);
        out
    }

    pub fn run(input: &Input) -> Outcome {
        // Rule 1.
        let (template, in_dir) = match &input.template {
            None => (DEFAULT.to_vec(), true),
            Some(t) => (t.clone(), input.p.is_some() || input.tmpdir_flag || input.t),
        };

        // Rule 2: split TEMPLATE into the part with the X's and the suffix.
        let (base, suffix): (Vec<u8>, Vec<u8>) = match &input.suffix {
            Some(suff) => {
                if template.last() != Some(&b'X') {
                    return Err(format!(
                        "with --suffix, template {} must end in X",
                        quote(&template)
                    ));
                }
                (template.clone(), suff.clone())
            }
            None => match template.iter().rposition(|&b| b == b'X') {
                Some(last_x) => (
                    template[..=last_x].to_vec(),
                    template[last_x + 1..].to_vec(),
                ),
                None => (template.clone(), Vec::new()),
            },
        };

        // Rule 3.
        if not_one_component(&suffix) {
            return Err(format!(
                "invalid suffix {}, contains directory separator",
                quote(&suffix)
            ));
        }

        // Rule 4, and B: with -t, a non-empty TEMPLATE without `/` is a BSD prefix.
        let xs = base.iter().rev().take_while(|&&b| b == b'X').count();
        let (name, xs) = if xs >= 3 {
            ([&base[..], &suffix[..]].concat(), xs)
        } else if input.t && !template.is_empty() && !template.contains(&b'/') {
            let mut name = template.clone();
            name.extend_from_slice(b".XXXXXXXXXX");
            // Only an explicit --suffix follows the X's; an implied one is part of PREFIX.
            name.extend_from_slice(input.suffix.as_deref().unwrap_or_default());
            (name, 10)
        } else {
            return Err(format!("too few X's in template {}", quote(&template)));
        };

        // Rule 5.
        if !in_dir {
            return Ok((name, xs));
        }
        let dir: &[u8] = if input.t {
            if not_one_component(&name) {
                return Err(format!(
                    "invalid template, {}, contains directory separator",
                    quote(&name)
                ));
            }
            non_empty(&input.env_tmpdir)
                .or(non_empty(&input.p))
                .unwrap_or(b"/tmp")
        } else {
            if name.first() == Some(&b'/') {
                return Err(format!(
                    "invalid template, {}; with --tmpdir, it may not be absolute",
                    quote(&name)
                ));
            }
            non_empty(&input.p)
                .or(non_empty(&input.env_tmpdir))
                .unwrap_or(b"/tmp")
        };
        Ok((join(dir, &name), xs))
    }
}

/// One byte, mostly the ones the rules look at; never NUL.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        6 => Just(b'X'),
        3 => Just(b'/'),
        1 => Just(b'.'),
        1 => Just(b'\''),
        1 => Just(b'\\'),
        1 => Just(0xff),
        1 => Just(b'\n'),
        2 => prop::sample::select(b"abx-_ ".to_vec()),
        2 => 1u8..=255,
    ]
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(interesting_byte(), 0..=max)
}

fn opt_bytes(max: usize) -> impl Strategy<Value = Option<Vec<u8>>> {
    prop::option::weighted(0.6, bytes(max))
}

/// A TEMPLATE that often ends in a run of X's, sometimes followed by a suffix.
fn template() -> impl Strategy<Value = Option<Vec<u8>>> {
    let shaped = (bytes(6), 0usize..6, bytes(3)).prop_map(|(head, xs, tail)| {
        let mut t = head;
        t.extend(std::iter::repeat_n(b'X', xs));
        t.extend(tail);
        t
    });
    prop::option::weighted(0.9, prop_oneof![bytes(12), shaped])
}

fn input() -> impl Strategy<Value = model::Input> {
    (
        template(),
        opt_bytes(5),
        opt_bytes(6),
        any::<bool>(),
        any::<bool>(),
        opt_bytes(6),
    )
        .prop_map(
            |(template, suffix, p, tmpdir_flag, t, env_tmpdir)| model::Input {
                template,
                suffix,
                p,
                tmpdir_flag,
                t,
                env_tmpdir,
            },
        )
}

fn run_plan(input: &model::Input) -> Result<Plan, rtmp::template::TemplateError> {
    fn os(v: &Option<Vec<u8>>) -> Option<&OsStr> {
        v.as_deref().map(OsStr::from_bytes)
    }
    let p = os(&input.p);
    let location = Location {
        tmpdir_option: p.is_some() || input.tmpdir_flag,
        tmpdir_arg: p,
        t_option: input.t,
        env_tmpdir: os(&input.env_tmpdir),
    };
    plan(os(&input.template), os(&input.suffix), &location)
}

/// `n` characters from `[A-Za-z0-9]`, cycling through `pool`.
fn random_part(pool: &[u8], n: usize) -> Vec<u8> {
    (0..n).map(|i| pool[i % pool.len()]).collect()
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

proptest! {
    // No regression files: a failure prints its minimal input, to be added below as a test.
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(CASES)
    })]

    /// An accepted plan is `dir + prefix + random + suffix`, whatever the random characters.
    #[test]
    fn accepted_plan_has_the_documented_shape(
        input in input(),
        pool in prop::collection::vec(prop::sample::select(ALNUM.to_vec()), 1..16),
    ) {
        let Ok(p) = run_plan(&input) else { return Ok(()) };
        let random = random_part(&pool, p.x_count);
        let path = p.with_random(&random);
        let want = [p.dir.as_bytes(), p.prefix.as_bytes(), &random, p.suffix.as_bytes()].concat();
        prop_assert_eq!(path.as_bytes(), &want[..]);
        prop_assert!(p.x_count >= 3, "{:?}", p);
        prop_assert!(p.dir.is_empty() || p.dir.as_bytes().ends_with(b"/"), "{:?}", p);
        prop_assert!(!p.prefix.as_bytes().contains(&b'/'), "{:?}", p);
        let suffix = p.suffix.as_bytes();
        let body = suffix.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
        prop_assert!(!suffix[..body].contains(&b'/'), "{:?}", p);
        prop_assert_eq!(p.template().len(), path.len());
    }

    /// `plan` and the model agree on accept/reject, on the path and on the message.
    #[test]
    fn plan_agrees_with_the_spec_model(input in input()) {
        let got = run_plan(&input)
            .map(|p| (p.template().into_encoded_bytes(), p.x_count))
            .map_err(|e| e.to_string());
        prop_assert_eq!(got, model::run(&input), "{:?}", input);
    }

    /// The same over short templates made almost only of `X`, `/` and `.`, where the rules
    /// meet (X counts around 3, slashes next to the X's, trailing slashes).
    #[test]
    fn plan_agrees_with_the_model_near_rule_boundaries(
        template in prop::option::weighted(0.95, prop::collection::vec(
            prop::sample::select(b"XXXX//.a".to_vec()), 0..8)),
        suffix in prop::option::weighted(0.4, prop::collection::vec(
            prop::sample::select(b"X/.b".to_vec()), 0..4)),
        p in prop::option::of(prop::sample::select(vec!["", "/", "//", "d", "d/", "/d//", "."])),
        env in prop::option::of(prop::sample::select(vec!["", "/", "e", "e//"])),
        tmpdir_flag in any::<bool>(),
        t in any::<bool>(),
    ) {
        let input = model::Input {
            template,
            suffix,
            p: p.map(|s| s.as_bytes().to_vec()),
            tmpdir_flag,
            t,
            env_tmpdir: env.map(|s| s.as_bytes().to_vec()),
        };
        let got = run_plan(&input)
            .map(|p| (p.template().into_encoded_bytes(), p.x_count))
            .map_err(|e| e.to_string());
        prop_assert_eq!(got, model::run(&input), "{:?}", input);
    }
}

/// The model itself, on cases checked by hand against GNU mktemp 9.1 (`LC_ALL=C`).
#[test]
fn model_matches_gnu_on_known_cases() {
    let input = |t: Option<&str>, s: Option<&str>, p: Option<&str>, t_opt: bool| model::Input {
        template: t.map(|v| v.as_bytes().to_vec()),
        suffix: s.map(|v| v.as_bytes().to_vec()),
        p: p.map(|v| v.as_bytes().to_vec()),
        tmpdir_flag: false,
        t: t_opt,
        env_tmpdir: None,
    };
    let err = |i: &model::Input| model::run(i).expect_err("must be refused");
    let ok = |i: &model::Input| String::from_utf8(model::run(i).expect("must plan").0);
    assert_eq!(
        err(&input(Some("aXXX"), Some("//"), None, false)),
        "invalid suffix '//', contains directory separator"
    );
    assert_eq!(
        err(&input(Some("aXXX/"), None, None, true)),
        "invalid suffix '/', contains directory separator"
    );
    assert_eq!(
        ok(&input(Some("aXXX"), Some("b/"), None, true)).as_deref(),
        Ok("/tmp/aXXXb/")
    );
    assert_eq!(
        ok(&input(Some("aXXX"), None, Some("//"), false)).as_deref(),
        Ok("//aXXX")
    );
    assert_eq!(
        err(&input(Some("/aXXX"), None, None, true)),
        "invalid template, '/aXXX', contains directory separator"
    );
    assert_eq!(
        err(&input(Some(""), Some("x"), None, false)),
        "with --suffix, template '' must end in X"
    );
    assert_eq!(
        err(&input(Some(""), None, None, true)),
        "too few X's in template ''"
    );
    assert_eq!(model::quote(b"a'\\\t\x01\xff"), "'a\\'\\\\\\t\\001\\377'");
}
