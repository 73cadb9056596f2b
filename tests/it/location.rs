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

#[test]
fn a2_5_p_dir_puts_the_name_in_dir() {
    let env = fixture();
    env.run(["-p", "d", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("d/a{}\n", rnd(3)))
        .tree(&["afile", "d/", &format!("d/a{}", rnd(3)), "sub/", "tmp/"]);
}

#[test]
fn a1_p_value_may_be_attached() {
    let env = fixture();
    env.run(["-pd", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("d/a{}\n", rnd(3)))
        .tree(&["afile", "d/", &format!("d/a{}", rnd(3)), "sub/", "tmp/"]);
}

#[test]
fn a1_tmpdir_with_equals_takes_the_value() {
    let env = fixture();
    env.run(["--tmpdir=d", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("d/a{}\n", rnd(3)))
        .tree(&["afile", "d/", &format!("d/a{}", rnd(3)), "sub/", "tmp/"]);
}

#[test]
fn a1_bare_tmpdir_does_not_take_the_next_word() {
    let env = fixture();
    env.run(["--tmpdir", "fooXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("{}/tmp/foo{}\n", env.root_re(), rnd(3)))
        .tree(&["afile", "d/", "sub/", "tmp/", &format!("tmp/foo{}", rnd(3))]);
}

#[test]
fn a1_tmpdir_prefix_with_value_and_default_template() {
    let env = fixture();
    env.run(["--tmp=sub"])
        .success()
        .stderr("")
        .stdout_matches(&format!(r"sub/tmp\.{}\n", rnd(10)))
        .tree(&[
            "afile",
            "d/",
            "sub/",
            &format!(r"sub/tmp\.{}", rnd(10)),
            "tmp/",
        ]);
}

#[test]
fn a1_last_of_p_and_tmpdir_wins() {
    let env = fixture();
    env.run(["-p", "d", "--tmpdir=sub", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("sub/a{}\n", rnd(3)))
        .tree(&["afile", "d/", "sub/", &format!("sub/a{}", rnd(3)), "tmp/"]);
    let env = fixture();
    env.run(["--tmpdir=sub", "-p", "d", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("d/a{}\n", rnd(3)))
        .tree(&["afile", "d/", &format!("d/a{}", rnd(3)), "sub/", "tmp/"]);
}

#[test]
fn a2_5_t_tmpdir_beats_p() {
    let env = fixture();
    env.run(["-t", "-p", "d", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("{}/tmp/a{}\n", env.root_re(), rnd(3)))
        .tree(&["afile", "d/", "sub/", "tmp/", &format!("tmp/a{}", rnd(3))]);
}

#[test]
fn a2_5_t_uses_p_when_tmpdir_is_empty_or_unset() {
    for tmpdir in [Some(os("")), None] {
        let env = fixture();
        run_with_tmpdir(&env, tmpdir, &[os("-t"), os("-p"), os("d"), os("aXXX")])
            .success()
            .stderr("")
            .stdout_matches(&format!("d/a{}\n", rnd(3)))
            .tree(&["afile", "d/", &format!("d/a{}", rnd(3)), "sub/", "tmp/"]);
    }
}

#[test]
fn a2_5_t_falls_back_to_slash_tmp() {
    // Dry run: nothing is created in the real /tmp.
    for tmpdir in [Some(os("")), None] {
        let env = fixture();
        run_with_tmpdir(&env, tmpdir, &[os("-u"), os("-t"), os("aXXX")])
            .success()
            .stderr("")
            .stdout_matches(&format!("/tmp/a{}\n", rnd(3)))
            .nothing_left();
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
    env.run(["-p", "d", "x/aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("d/x/a{}\n", rnd(3)))
        .tree(&[
            "afile",
            "d/",
            "d/x/",
            &format!("d/x/a{}", rnd(3)),
            "sub/",
            "tmp/",
        ]);
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
        run_with_tmpdir(&env, tmpdir, &[os("-u"), os("--tmpdir"), os("aXXX")])
            .success()
            .stderr("")
            .stdout_matches(&format!("/tmp/a{}\n", rnd(3)))
            .nothing_left();
        let env = fixture();
        run_with_tmpdir(&env, tmpdir, &[os("-u")])
            .success()
            .stderr("")
            .stdout_matches(&format!(r"/tmp/tmp\.{}\n", rnd(10)))
            .nothing_left();
    }
}

#[test]
fn a2_5_empty_p_means_tmpdir() {
    let env = fixture();
    env.run(["-p", "", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("{}/tmp/a{}\n", env.root_re(), rnd(3)))
        .tree(&["afile", "d/", "sub/", "tmp/", &format!("tmp/a{}", rnd(3))]);
    let env = fixture();
    env.run(["--tmpdir=", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("{}/tmp/a{}\n", env.root_re(), rnd(3)))
        .tree(&["afile", "d/", "sub/", "tmp/", &format!("tmp/a{}", rnd(3))]);
}

#[test]
fn a2_5_empty_p_and_empty_tmpdir_mean_slash_tmp() {
    let env = fixture();
    run_with_tmpdir(
        &env,
        Some(os("")),
        &[os("-u"), os("-p"), os(""), os("aXXX")],
    )
    .success()
    .stderr("")
    .stdout_matches(&format!("/tmp/a{}\n", rnd(3)))
    .nothing_left();
}

#[test]
fn a2_5_relative_tmpdir_is_relative_to_cwd() {
    let env = fixture();
    run_with_tmpdir(&env, Some(os("sub")), &[os("--tmpdir"), os("aXXX")])
        .success()
        .stderr("")
        .stdout_matches(&format!("sub/a{}\n", rnd(3)))
        .tree(&["afile", "d/", "sub/", &format!("sub/a{}", rnd(3)), "tmp/"]);
}

#[test]
fn a2_5_trailing_slashes_of_dir_are_stripped() {
    let env = fixture();
    run_with_tmpdir(&env, Some(os("sub//")), &[os("--tmpdir"), os("aXXX")])
        .success()
        .stderr("")
        .stdout_matches(&format!("sub/a{}\n", rnd(3)))
        .tree(&["afile", "d/", "sub/", &format!("sub/a{}", rnd(3)), "tmp/"]);
    let env = fixture();
    env.run(["-p", "d///", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("d/a{}\n", rnd(3)))
        .tree(&["afile", "d/", &format!("d/a{}", rnd(3)), "sub/", "tmp/"]);
}

#[test]
fn a2_5_dir_of_only_slashes_stays_as_is() {
    for (tmpdir, printed) in [("/", "/"), ("//", "//")] {
        let env = fixture();
        run_with_tmpdir(
            &env,
            Some(os(tmpdir)),
            &[os("-u"), os("--tmpdir"), os("aXXX")],
        )
        .success()
        .stderr("")
        .stdout_matches(&format!("{printed}a{}\n", rnd(3)))
        .nothing_left();
    }
    let env = fixture();
    env.run(["-u", "-p", "/", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("/a{}\n", rnd(3)))
        .nothing_left();
}

#[test]
fn a2_5_dot_dir_is_joined_with_a_slash() {
    let env = fixture();
    env.run(["-p", ".", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!(r"\./a{}\n", rnd(3)))
        .tree(&[&format!("a{}", rnd(3)), "afile", "d/", "sub/", "tmp/"]);
}

#[test]
fn a2_5_tmpdir_is_ignored_for_a_plain_template() {
    let env = fixture();
    run_with_tmpdir(&env, Some(os("sub")), &[os("aXXX")])
        .success()
        .stderr("")
        .stdout_matches(&format!("a{}\n", rnd(3)))
        .tree(&[&format!("a{}", rnd(3)), "afile", "d/", "sub/", "tmp/"]);
    // Even a missing $TMPDIR does not matter.
    let env = fixture();
    run_with_tmpdir(&env, Some(os("nope")), &[os("sub/aXXX")])
        .success()
        .stderr("")
        .stdout_matches(&format!("sub/a{}\n", rnd(3)))
        .tree(&["afile", "d/", "sub/", &format!("sub/a{}", rnd(3)), "tmp/"]);
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
    run_with_tmpdir(
        &env,
        Some(OsStr::from_bytes(b"d\xff")),
        &[os("--tmpdir"), os("aXXX")],
    )
    .success()
    .stderr("")
    .stdout_matches(&format!(r"d\\xff/a{}\n", rnd(3)))
    .tree(&[
        "afile",
        "d/",
        r"d\\xff/",
        &format!(r"d\\xff/a{}", rnd(3)),
        "sub/",
        "tmp/",
    ]);
}

#[test]
fn a3_non_utf8_p_value_works_and_is_quoted_in_messages() {
    let env = fixture();
    env.mkdir(OsStr::from_bytes(b"d\xff"));
    env.run([os("-p"), OsStr::from_bytes(b"d\xff"), os("aXXX")])
        .success()
        .stderr("")
        .stdout_matches(&format!(r"d\\xff/a{}\n", rnd(3)))
        .tree(&[
            "afile",
            "d/",
            r"d\\xff/",
            &format!(r"d\\xff/a{}", rnd(3)),
            "sub/",
            "tmp/",
        ]);
    let env = fixture();
    env.run([os("-p"), OsStr::from_bytes(b"n\xfe"), os("aXXX")])
        .failure()
        .stderr(
            "rtmp: failed to create file via template 'n\\376/aXXX': No such file or directory\n",
        )
        .stdout("")
        .nothing_left();
}
