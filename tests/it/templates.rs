//! GNU's template rules and messages (README "Differences from GNU and BSD mktemp": as GNU, C
//! locale): what a template turns into, which templates are rejected and with which message.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;

use crate::support::{Run, TestEnv, rnd};

/// The regular file that `run` printed exists, relative to the scratch directory.
#[track_caller]
fn assert_file(env: &TestEnv, run: &Run) {
    let path = env.path(run.name());
    let meta = fs::symlink_metadata(&path).expect("printed name does not exist");
    assert!(meta.file_type().is_file(), "{path:?} is not a regular file");
}

#[test]
fn a2_1_no_template_uses_tmp_xxxxxxxxxx_in_tmpdir() {
    let env = TestEnv::new();
    let run = env.run::<[&str; 0], &str>([]);
    run.success()
        .stderr("")
        .stdout_matches(&format!(r"{}/tmp/tmp\.{}\n", env.root_re(), rnd(10)))
        .tree(&["tmp/", &format!(r"tmp/tmp\.{}", rnd(10))]);
    assert_file(&env, &run);
}

#[test]
fn a2_2_without_suffix_option_the_suffix_follows_the_last_x() {
    let env = TestEnv::new();
    let run = env.run(["fooXXX.txt"]);
    run.success()
        .stderr("")
        .stdout_matches(&format!(r"foo{}\.txt\n", rnd(3)))
        .tree(&[&format!(r"foo{}\.txt", rnd(3)), "tmp/"]);
    assert_file(&env, &run);
}

#[test]
fn a2_4_only_the_last_run_of_xs_is_random() {
    let env = TestEnv::new();
    let run = env.run(["aXXXXaaXXXXa"]);
    run.success()
        .stderr("")
        .stdout_matches(&format!("aXXXXaa{}a\n", rnd(4)))
        .tree(&[&format!("aXXXXaa{}a", rnd(4)), "tmp/"]);
    assert_file(&env, &run);
}

#[test]
fn a2_2_suffix_option_is_appended() {
    let env = TestEnv::new();
    let run = env.run(["--suffix=.txt", "fooXXX"]);
    run.success()
        .stderr("")
        .stdout_matches(&format!(r"foo{}\.txt\n", rnd(3)))
        .tree(&[&format!(r"foo{}\.txt", rnd(3)), "tmp/"]);
}

#[test]
fn a1_suffix_option_with_separate_value() {
    let env = TestEnv::new();
    let run = env.run(["--suffix", ".log", "fooXXX"]);
    run.success()
        .stderr("")
        .stdout_matches(&format!(r"foo{}\.log\n", rnd(3)))
        .tree(&[&format!(r"foo{}\.log", rnd(3)), "tmp/"]);
}

#[test]
fn a2_2_with_suffix_template_must_end_in_x() {
    let env = TestEnv::new();
    env.run(["--suffix=.txt", "fooXXXa"])
        .failure()
        .stderr("rtmp: with --suffix, template 'fooXXXa' must end in X\n")
        .stdout("")
        .nothing_left();
}

#[test]
fn a2_2_with_suffix_empty_template_is_rejected() {
    let env = TestEnv::new();
    env.run(["--suffix=x", ""])
        .failure()
        .stderr("rtmp: with --suffix, template '' must end in X\n")
        .stdout("")
        .nothing_left();
}

#[test]
fn a2_2_xs_in_suffix_are_literal() {
    let env = TestEnv::new();
    env.run(["--suffix=aX", "fooXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("foo{}aX\n", rnd(3)))
        .tree(&[&format!("foo{}aX", rnd(3)), "tmp/"]);
}

#[test]
fn a1_last_suffix_wins() {
    let env = TestEnv::new();
    env.run(["--suffix=.a", "--suffix=.b", "fooXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!(r"foo{}\.b\n", rnd(3)))
        .tree(&[&format!(r"foo{}\.b", rnd(3)), "tmp/"]);
}

#[test]
fn a2_3_suffix_option_with_slash_is_rejected() {
    for (suffix, shown) in [("--suffix=/b", "/b"), ("--suffix=a/b", "a/b")] {
        let env = TestEnv::new();
        env.run([suffix, "fooXXX"])
            .failure()
            .stderr(&format!(
                "rtmp: invalid suffix '{shown}', contains directory separator\n"
            ))
            .stdout("")
            .nothing_left();
    }
}

#[test]
fn a2_3_implied_suffix_with_slash_is_rejected() {
    let env = TestEnv::new();
    env.run(["fooXXX/bar"])
        .failure()
        .stderr("rtmp: invalid suffix '/bar', contains directory separator\n")
        .stdout("")
        .nothing_left();
}

#[test]
fn a2_3_quiet_does_not_hide_suffix_errors() {
    let env = TestEnv::new();
    env.run(["-q", "--suffix=/b", "aXXX"])
        .failure()
        .stderr("rtmp: invalid suffix '/b', contains directory separator\n")
        .nothing_left();
}

#[test]
fn a2_3_trailing_slash_suffix_is_accepted_with_d() {
    let env = TestEnv::new();
    let run = env.run(["-d", "--suffix=b/", "fooXXX"]);
    run.success()
        .stderr("")
        .stdout_matches(&format!("foo{}b/\n", rnd(3)))
        .tree(&[&format!("foo{}b/", rnd(3)), "tmp/"]);
    assert!(env.path(run.name()).is_dir());
}

#[test]
fn a2_3_trailing_slash_implied_suffix_is_accepted_with_d() {
    let env = TestEnv::new();
    env.run(["-d", "fooXXXb/"])
        .success()
        .stderr("")
        .stdout_matches(&format!("foo{}b/\n", rnd(3)))
        .tree(&[&format!("foo{}b/", rnd(3)), "tmp/"]);
}

#[test]
fn a3_trailing_slash_suffix_for_a_file_is_a_directory_error() {
    let env = TestEnv::new();
    env.run(["--suffix=b/", "fooXXX"])
        .failure()
        .stderr("rtmp: failed to create file via template 'fooXXXb/': Is a directory\n")
        .stdout("")
        .nothing_left();
}

#[test]
fn a2_4_too_few_xs() {
    for template in ["aXX", "a", "X", "aXXXbXX"] {
        let env = TestEnv::new();
        env.run([template])
            .failure()
            .stderr(&format!("rtmp: too few X's in template '{template}'\n"))
            .stdout("")
            .nothing_left();
    }
}

#[test]
fn a2_4_quiet_does_not_hide_too_few_xs() {
    let env = TestEnv::new();
    env.run(["-q", "aXX"])
        .failure()
        .stderr("rtmp: too few X's in template 'aXX'\n")
        .stdout("")
        .nothing_left();
}

#[test]
fn a2_4_too_few_xs_with_suffix_quotes_template_without_suffix() {
    // GNU 9.1 says 'fooXX.txt'; rtmp follows GNU 9.5+, which says 'fooXX' (README
    // "Differences from GNU and BSD mktemp").
    let env = TestEnv::new();
    env.run(["--suffix=.txt", "fooXX"])
        .failure()
        .stderr("rtmp: too few X's in template 'fooXX'\n")
        .nothing_left();
}

#[test]
fn a2_4_empty_template_has_too_few_xs() {
    let env = TestEnv::new();
    env.run([""])
        .failure()
        .stderr("rtmp: too few X's in template ''\n")
        .stdout("")
        .nothing_left();
}

#[test]
fn a3_name_too_long_reports_the_os_error() {
    let long = format!("{}XXX", "a".repeat(300));
    for (opts, what) in [
        (&[][..], "file"),
        (&["-d"][..], "directory"),
        (&["-u"][..], "file"),
    ] {
        let env = TestEnv::new();
        let mut args: Vec<&str> = opts.to_vec();
        args.push(&long);
        env.run(&args)
            .failure()
            .stderr(&format!(
                "rtmp: failed to create {what} via template '{long}': File name too long\n"
            ))
            .stdout("")
            .nothing_left();
    }
}

#[test]
fn a3_non_utf8_template_is_created_and_printed_raw() {
    let env = TestEnv::new();
    let run = env.run([OsStr::from_bytes(b"\xff\xfeXXX")]);
    run.success()
        .stderr("")
        .stdout_matches(&format!(r"\\xff\\xfe{}\n", rnd(3)))
        .tree(&["tmp/", &format!(r"\\xff\\xfe{}", rnd(3))]);
    // Raw bytes on stdout, not a lossy or escaped form.
    let out = &run.output.stdout;
    assert_eq!(&out[..2], b"\xff\xfe");
    assert_file(&env, &run);
}

#[test]
fn a3_non_utf8_suffix_is_created_and_printed_raw() {
    let env = TestEnv::new();
    let run = env.run([
        OsStr::from_bytes(b"--suffix=\xfe"),
        OsStr::from_bytes(b"aXXX"),
    ]);
    run.success()
        .stderr("")
        .stdout_matches(&format!(r"a{}\\xfe\n", rnd(3)))
        .tree(&[&format!(r"a{}\\xfe", rnd(3)), "tmp/"]);
    assert_file(&env, &run);
}

#[test]
fn a2_6_non_utf8_bytes_in_messages_are_octal_escaped() {
    let env = TestEnv::new();
    env.run([OsStr::from_bytes(b"a\xffXX")])
        .failure()
        .stderr("rtmp: too few X's in template 'a\\377XX'\n")
        .stdout("")
        .nothing_left();
}

#[test]
fn a2_6_control_characters_quotes_and_backslashes_are_escaped() {
    let env = TestEnv::new();
    env.run(["a\tb\\c'XX"])
        .failure()
        .stderr("rtmp: too few X's in template 'a\\tb\\\\c\\'XX'\n")
        .nothing_left();
}

#[test]
fn a1_double_dash_allows_a_template_starting_with_dash() {
    let env = TestEnv::new();
    let run = env.run(["--", "-XXXX"]);
    run.success()
        .stderr("")
        .stdout_matches(&format!("-{}\n", rnd(4)))
        .tree(&[&format!("-{}", rnd(4)), "tmp/"]);
    assert_file(&env, &run);
}
