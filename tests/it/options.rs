//! The getopt-style command line and its usage errors, as GNU's (man page OPTIONS), and the BSD
//! spellings rtmp accepts besides: several templates, `-t PREFIX` (README "Differences from GNU
//! and BSD mktemp").

use crate::support::{TestEnv, rnd};

const TRY: &str = "Try 'rtmp --help' for more information.\n";

/// Asserts that `args` is a usage error with `message`, exit 1, nothing on stdout or disk.
#[track_caller]
fn usage_error(args: &[&str], message: &str) {
    let env = TestEnv::new();
    env.run(args)
        .failure()
        .stderr(&format!("rtmp: {message}\n{TRY}"))
        .stdout("")
        .nothing_left();
}

#[test]
fn a1_unknown_short_option() {
    usage_error(&["-z"], "invalid option -- 'z'");
    usage_error(&["-qx", "aXXX"], "invalid option -- 'x'");
}

#[test]
fn a1_unknown_long_option() {
    usage_error(&["--foo"], "unrecognized option '--foo'");
    usage_error(&["aXXX", "--foo=bar"], "unrecognized option '--foo=bar'");
}

#[test]
fn a1_ambiguous_prefix_lists_the_possibilities() {
    usage_error(
        &["--d"],
        "option '--d' is ambiguous; possibilities: '--directory' '--dry-run'",
    );
}

#[test]
fn a1_flag_option_with_a_value() {
    usage_error(
        &["--directory=x"],
        "option '--directory' doesn't allow an argument",
    );
    // An abbreviation is reported under its full name.
    usage_error(&["--qu=1"], "option '--quiet' doesn't allow an argument");
}

#[test]
fn a1_missing_p_value() {
    usage_error(&["-p"], "option requires an argument -- 'p'");
}

#[test]
fn a1_missing_suffix_value() {
    usage_error(&["--suffix"], "option '--suffix' requires an argument");
}

#[test]
fn a1_options_after_operands_still_apply() {
    let env = TestEnv::new();
    env.run(["aXXX", "-u"])
        .success()
        .stderr("")
        .stdout_matches(&format!("a{}\n", rnd(3)))
        .nothing_left();
    let env = TestEnv::new();
    env.run(["aXXX", "-d"])
        .success()
        .stderr("")
        .stdout_matches(&format!("a{}\n", rnd(3)))
        .tree(&[&format!("a{}/", rnd(3)), "tmp/"]);
    let env = TestEnv::new();
    env.run(["aXXX", "--suffix", ".x"])
        .success()
        .stderr("")
        .stdout_matches(&format!(r"a{}\.x\n", rnd(3)))
        .tree(&[&format!(r"a{}\.x", rnd(3)), "tmp/"]);
}

#[test]
fn a1_unambiguous_prefixes_work() {
    let env = TestEnv::new();
    env.run(["--dir", "--dry", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("a{}\n", rnd(3)))
        .nothing_left();
    let env = TestEnv::new();
    env.run(["--dir", "--suf=.s", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!(r"a{}\.s\n", rnd(3)))
        .tree(&[&format!(r"a{}\.s/", rnd(3)), "tmp/"]);
}

#[test]
fn a1_short_options_combine() {
    let env = TestEnv::new();
    env.run(["-du", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("a{}\n", rnd(3)))
        .nothing_left();
    let env = TestEnv::new();
    env.mkdir("d");
    env.run(["-dpd", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("d/a{}\n", rnd(3)))
        .tree(&["d/", &format!("d/a{}/", rnd(3)), "tmp/"]);
}

#[test]
fn a1_bare_tmpdir_after_p_resets_to_tmpdir() {
    let env = TestEnv::new();
    env.mkdir("d");
    env.run(["-p", "d", "--tmpdir", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("{}/tmp/a{}\n", env.root_re(), rnd(3)))
        .tree(&["d/", "tmp/", &format!("tmp/a{}", rnd(3))]);
}

#[test]
fn b_several_templates_are_created_and_printed_in_order() {
    let env = TestEnv::new();
    let run = env.run(["aXXX", "-d", "bXXXX", "cXXXXX"]);
    run.success()
        .stderr("")
        .stdout_matches(&format!("a{}\nb{}\nc{}\n", rnd(3), rnd(4), rnd(5)))
        .tree(&[
            &format!("a{}/", rnd(3)),
            &format!("b{}/", rnd(4)),
            &format!("c{}/", rnd(5)),
            "tmp/",
        ]);
}

/// B2, all or nothing: `aXXX` was created before `nope/bXXX` failed, and is removed again;
/// `cXXX` is never tried.
#[test]
fn b_several_templates_one_creation_failure_creates_nothing() {
    let env = TestEnv::new();
    env.run(["aXXX", "nope/bXXX", "cXXX"])
        .failure()
        .stderr("rtmp: failed to create file via template 'nope/bXXX': No such file or directory\n")
        .stdout("")
        .nothing_left();
    // -q hides the message, not the rollback.
    env.run(["-q", "-d", "aXXX", "nope/bXXX", "cXXX"])
        .failure()
        .stderr("")
        .stdout("")
        .nothing_left();
}

/// B2, all or nothing: every template is planned first, so `bX` stops the run before `aXXX`
/// is created. Only the first template error is reported: bad input gets one line, as GNU
/// gives one for its one template (a black-box tester found `rtmp -- --exec echo hi` printing
/// three).
#[test]
fn b_several_templates_one_template_error_creates_nothing() {
    let env = TestEnv::new();
    env.run(["aXXX", "bX", "cXXX"])
        .failure()
        .stderr("rtmp: too few X's in template 'bX'\n")
        .stdout("")
        .nothing_left();
    env.run(["aX", "bXXX", "cY"])
        .failure()
        .stderr("rtmp: too few X's in template 'aX'\n")
        .stdout("")
        .nothing_left();
}

#[test]
fn b_t_prefix_creates_prefix_dot_ten_xs_in_tmpdir() {
    let env = TestEnv::new();
    env.run(["-t", "build"])
        .success()
        .stderr("")
        .stdout_matches(&format!(r"{}/tmp/build\.{}\n", env.root_re(), rnd(10)))
        .tree(&["tmp/", &format!(r"tmp/build\.{}", rnd(10))]);
    let env = TestEnv::new();
    env.run(["-d", "-t", "build"])
        .success()
        .stderr("")
        .stdout_matches(&format!(r"{}/tmp/build\.{}\n", env.root_re(), rnd(10)))
        .tree(&["tmp/", &format!(r"tmp/build\.{}/", rnd(10))]);
}

#[test]
fn b_t_prefix_with_too_few_xs_is_a_prefix_too() {
    let env = TestEnv::new();
    env.run(["-t", "buildXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!(r"{}/tmp/buildXX\.{}\n", env.root_re(), rnd(10)))
        .tree(&["tmp/", &format!(r"tmp/buildXX\.{}", rnd(10))]);
}

#[test]
fn b_t_prefix_uses_the_t_directory() {
    let env = TestEnv::new();
    env.mkdir("d");
    let mut cmd = env.rtmp_cmd(["-t", "-p", "d", "build"]);
    cmd.env("TMPDIR", "");
    env.run_cmd(cmd)
        .success()
        .stderr("")
        .stdout_matches(&format!(r"d/build\.{}\n", rnd(10)))
        .tree(&["d/", &format!(r"d/build\.{}", rnd(10)), "tmp/"]);
}

#[test]
fn b_t_prefix_with_a_slash_keeps_gnus_error() {
    let env = TestEnv::new();
    env.run(["-t", "a/build"])
        .failure()
        .stderr("rtmp: too few X's in template 'a/build'\n")
        .stdout("")
        .nothing_left();
}
