//! Where the name goes (`-p`, `--tmpdir`, `-t`, `$TMPDIR`) and how the directory and the
//! template are joined: GNU's rule 5 (README "Differences from GNU and BSD mktemp": as GNU; `-t`
//! as BSD), with the GNU messages when the place is unusable.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use crate::support::{Run, TestEnv, os, rnd};

/// A scratch directory with `d/`, `sub/` and a regular file `afile` besides `tmp/`.
fn fixture() -> TestEnv {
    let env = TestEnv::new();
    env.mkdir("d").mkdir("sub").file("afile", "");
    env
}

/// Runs rtmp with `args` and `$TMPDIR` set to `tmpdir` (`None`: unset).
fn run_with_tmpdir(env: &TestEnv, tmpdir: Option<&OsStr>, args: &[&OsStr]) -> Run {
    let mut cmd = env.rtmp_cmd(args);
    match tmpdir {
        Some(t) => cmd.env("TMPDIR", t),
        None => cmd.env_remove("TMPDIR"),
    };
    env.run_cmd(cmd)
}

/// The fixture's entries, as [`Run::tree`] patterns.
const FIXTURE: [&str; 4] = ["afile", "d/", "sub/", "tmp/"];

/// `aXXX` made in `dir` (`""`, `"d/"`, ...), as a regex.
fn a3(dir: &str) -> String {
    format!("{dir}a{}", rnd(3))
}

/// Asserts that `run` succeeded without a message, printed the line `printed` (a regex) and
/// added exactly `made` (regexes, see [`Run::tree`]) to the fixture.
#[track_caller]
fn created(run: &Run, printed: &str, made: &[&str]) {
    let tree: Vec<&str> = FIXTURE.iter().chain(made).copied().collect();
    run.success()
        .stderr("")
        .stdout_matches(&format!("{printed}\n"))
        .tree(&tree);
}

/// Asserts that a dry run succeeded without a message, printed the line `printed` (a regex) and
/// created nothing.
#[track_caller]
fn printed_only(run: &Run, printed: &str) {
    run.success()
        .stderr("")
        .stdout_matches(&format!("{printed}\n"))
        .nothing_left();
}

#[test]
fn a2_5_p_dir_puts_the_name_in_dir() {
    let env = fixture();
    created(&env.run(["-p", "d", "aXXX"]), &a3("d/"), &[&a3("d/")]);
}

#[test]
fn a1_p_value_may_be_attached() {
    let env = fixture();
    created(&env.run(["-pd", "aXXX"]), &a3("d/"), &[&a3("d/")]);
}

#[test]
fn a1_tmpdir_with_equals_takes_the_value() {
    let env = fixture();
    created(&env.run(["--tmpdir=d", "aXXX"]), &a3("d/"), &[&a3("d/")]);
}

#[test]
fn a1_bare_tmpdir_does_not_take_the_next_word() {
    let env = fixture();
    created(
        &env.run(["--tmpdir", "fooXXX"]),
        &format!("{}/tmp/foo{}", env.root_re(), rnd(3)),
        &[&format!("tmp/foo{}", rnd(3))],
    );
}

#[test]
fn a1_tmpdir_prefix_with_value_and_default_template() {
    let env = fixture();
    let name = format!(r"sub/tmp\.{}", rnd(10));
    created(&env.run(["--tmp=sub"]), &name, &[&name]);
}

#[test]
fn a1_last_of_p_and_tmpdir_wins() {
    let env = fixture();
    let run = env.run(["-p", "d", "--tmpdir=sub", "aXXX"]);
    created(&run, &a3("sub/"), &[&a3("sub/")]);
    let env = fixture();
    let run = env.run(["--tmpdir=sub", "-p", "d", "aXXX"]);
    created(&run, &a3("d/"), &[&a3("d/")]);
}

#[test]
fn a2_5_t_tmpdir_beats_p() {
    let env = fixture();
    created(
        &env.run(["-t", "-p", "d", "aXXX"]),
        &a3(&format!("{}/tmp/", env.root_re())),
        &[&a3("tmp/")],
    );
}

#[test]
fn a2_5_t_uses_p_when_tmpdir_is_empty_or_unset() {
    for tmpdir in [Some(os("")), None] {
        let env = fixture();
        let run = run_with_tmpdir(&env, tmpdir, &[os("-t"), os("-p"), os("d"), os("aXXX")]);
        created(&run, &a3("d/"), &[&a3("d/")]);
    }
}

#[test]
fn a2_5_t_falls_back_to_slash_tmp() {
    // Dry run: nothing is created in the real /tmp.
    for tmpdir in [Some(os("")), None] {
        let env = fixture();
        let run = run_with_tmpdir(&env, tmpdir, &[os("-u"), os("-t"), os("aXXX")]);
        printed_only(&run, &a3("/tmp/"));
    }
}

#[test]
fn a2_5_absolute_template_with_p_is_rejected() {
    let env = fixture();
    env.run(["-p", "d", "/abs/XXX"])
        .failure()
        .stderr("rtmp: invalid template, '/abs/XXX'; with --tmpdir, it may not be absolute\n")
        .stdout("")
        .nothing_left();
}

#[test]
fn a2_5_absolute_template_message_includes_the_suffix() {
    let env = fixture();
    env.run(["-p", "d", "--suffix=.x", "/abs/XXX"])
        .failure()
        .stderr("rtmp: invalid template, '/abs/XXX.x'; with --tmpdir, it may not be absolute\n")
        .nothing_left();
}

#[test]
fn a2_5_slash_in_t_template_is_rejected() {
    let env = fixture();
    env.run(["-t", "a/bXXX"])
        .failure()
        .stderr("rtmp: invalid template, 'a/bXXX', contains directory separator\n")
        .stdout("")
        .nothing_left();
    let env = fixture();
    env.run(["-t", "--suffix=.x", "a/bXXX"])
        .failure()
        .stderr("rtmp: invalid template, 'a/bXXX.x', contains directory separator\n")
        .nothing_left();
}

#[test]
fn a2_5_slashes_in_p_template_are_allowed() {
    let env = fixture();
    env.mkdir("d/x");
    created(
        &env.run(["-p", "d", "x/aXXX"]),
        &a3("d/x/"),
        &["d/x/", &a3("d/x/")],
    );
}

#[test]
fn a2_5_no_directories_are_created() {
    let env = fixture();
    env.run(["-p", "d", "x/aXXX"])
        .failure()
        .stderr("rtmp: failed to create file via template 'd/x/aXXX': No such file or directory\n")
        .stdout("")
        .nothing_left();
}

#[test]
fn a3_missing_p_dir_fails() {
    let env = fixture();
    env.run(["-p", "nope", "aXXX"])
        .failure()
        .stderr("rtmp: failed to create file via template 'nope/aXXX': No such file or directory\n")
        .stdout("")
        .nothing_left();
    let env = fixture();
    env.run(["-d", "-p", "nope"])
        .failure()
        .stderr(
            "rtmp: failed to create directory via template 'nope/tmp.XXXXXXXXXX': \
             No such file or directory\n",
        )
        .nothing_left();
}

#[test]
fn a3_p_regular_file_is_not_a_directory() {
    for (opts, what) in [
        (&[][..], "file"),
        (&["-d"][..], "directory"),
        (&["-u"][..], "file"),
        (&["-d", "-u"][..], "directory"),
    ] {
        let env = fixture();
        let mut args = opts.to_vec();
        args.extend(["-p", "afile", "aXXX"]);
        env.run(&args)
            .failure()
            .stderr(&format!(
                "rtmp: failed to create {what} via template 'afile/aXXX': Not a directory\n"
            ))
            .stdout("")
            .nothing_left();
    }
}

#[test]
fn a2_5_empty_or_unset_tmpdir_means_slash_tmp() {
    for tmpdir in [Some(os("")), None] {
        let env = fixture();
        let run = run_with_tmpdir(&env, tmpdir, &[os("-u"), os("--tmpdir"), os("aXXX")]);
        printed_only(&run, &a3("/tmp/"));
        let env = fixture();
        let run = run_with_tmpdir(&env, tmpdir, &[os("-u")]);
        printed_only(&run, &format!(r"/tmp/tmp\.{}", rnd(10)));
    }
}

#[test]
fn a2_5_empty_p_means_tmpdir() {
    let env = fixture();
    let printed = a3(&format!("{}/tmp/", env.root_re()));
    created(&env.run(["-p", "", "aXXX"]), &printed, &[&a3("tmp/")]);
    let env = fixture();
    let printed = a3(&format!("{}/tmp/", env.root_re()));
    created(&env.run(["--tmpdir=", "aXXX"]), &printed, &[&a3("tmp/")]);
}

#[test]
fn a2_5_empty_p_and_empty_tmpdir_mean_slash_tmp() {
    let env = fixture();
    let run = run_with_tmpdir(
        &env,
        Some(os("")),
        &[os("-u"), os("-p"), os(""), os("aXXX")],
    );
    printed_only(&run, &a3("/tmp/"));
}

#[test]
fn a2_5_relative_tmpdir_is_relative_to_cwd() {
    let env = fixture();
    let run = run_with_tmpdir(&env, Some(os("sub")), &[os("--tmpdir"), os("aXXX")]);
    created(&run, &a3("sub/"), &[&a3("sub/")]);
}

#[test]
fn a2_5_trailing_slashes_of_dir_are_stripped() {
    let env = fixture();
    let run = run_with_tmpdir(&env, Some(os("sub//")), &[os("--tmpdir"), os("aXXX")]);
    created(&run, &a3("sub/"), &[&a3("sub/")]);
    let env = fixture();
    created(&env.run(["-p", "d///", "aXXX"]), &a3("d/"), &[&a3("d/")]);
}

#[test]
fn a2_5_dir_of_only_slashes_stays_as_is() {
    for (tmpdir, printed) in [("/", "/"), ("//", "//")] {
        let env = fixture();
        let run = run_with_tmpdir(
            &env,
            Some(os(tmpdir)),
            &[os("-u"), os("--tmpdir"), os("aXXX")],
        );
        printed_only(&run, &a3(printed));
    }
    let env = fixture();
    printed_only(&env.run(["-u", "-p", "/", "aXXX"]), &a3("/"));
}

#[test]
fn a2_5_dot_dir_is_joined_with_a_slash() {
    let env = fixture();
    created(&env.run(["-p", ".", "aXXX"]), &a3(r"\./"), &[&a3("")]);
}

#[test]
fn a2_5_tmpdir_is_ignored_for_a_plain_template() {
    let env = fixture();
    let run = run_with_tmpdir(&env, Some(os("sub")), &[os("aXXX")]);
    created(&run, &a3(""), &[&a3("")]);
    // Even a missing $TMPDIR does not matter.
    let env = fixture();
    let run = run_with_tmpdir(&env, Some(os("nope")), &[os("sub/aXXX")]);
    created(&run, &a3("sub/"), &[&a3("sub/")]);
}

#[test]
fn a2_5_missing_tmpdir_fails_for_default_template() {
    let env = fixture();
    run_with_tmpdir(&env, Some(os("nope")), &[])
        .failure()
        .stderr(
            "rtmp: failed to create file via template 'nope/tmp.XXXXXXXXXX': \
             No such file or directory\n",
        )
        .stdout("")
        .nothing_left();
}

#[test]
fn a3_non_utf8_tmpdir_works() {
    let env = fixture();
    env.mkdir(OsStr::from_bytes(b"d\xff"));
    let run = run_with_tmpdir(
        &env,
        Some(OsStr::from_bytes(b"d\xff")),
        &[os("--tmpdir"), os("aXXX")],
    );
    created(&run, &a3(r"d\\xff/"), &[r"d\\xff/", &a3(r"d\\xff/")]);
}

#[test]
fn a3_non_utf8_p_value_works_and_is_quoted_in_messages() {
    let env = fixture();
    env.mkdir(OsStr::from_bytes(b"d\xff"));
    let run = env.run([os("-p"), OsStr::from_bytes(b"d\xff"), os("aXXX")]);
    created(&run, &a3(r"d\\xff/"), &[r"d\\xff/", &a3(r"d\\xff/")]);
    let env = fixture();
    env.run([os("-p"), OsStr::from_bytes(b"n\xfe"), os("aXXX")])
        .failure()
        .stderr(
            "rtmp: failed to create file via template 'n\\376/aXXX': No such file or directory\n",
        )
        .stdout("")
        .nothing_left();
}
