//! Creation (README "Use in scripts", SECURITY.md "Creation never opens an existing name"):
//! permissions under several umasks, dry runs, and O_EXCL semantics when the name space is full.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{Run, TestEnv, rnd};
use nix::sys::stat::{Mode, umask};

/// `cmd` with its umask set to `mask` in the child, just before exec.
fn with_umask(mut cmd: Command, mask: u32) -> Command {
    let mode = Mode::from_bits_truncate(mask);
    // SAFETY: umask(2) is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(move || {
            umask(mode);
            Ok(())
        });
    }
    cmd
}

/// Creates a file and a directory under `mask` and returns their permission bits.
fn modes_under_umask(mask: u32) -> (u32, u32) {
    let env = TestEnv::new();
    let file = env.run_cmd(with_umask(env.rtmp_cmd(["fXXX"]), mask));
    file.success()
        .stderr("")
        .stdout_matches(&format!("f{}\n", rnd(3)));
    let dir = env.run_cmd(with_umask(env.rtmp_cmd(["-d", "dXXX"]), mask));
    dir.success()
        .stderr("")
        .stdout_matches(&format!("d{}\n", rnd(3)))
        .tree(&[&format!("d{}/", rnd(3)), &format!("f{}", rnd(3)), "tmp/"]);
    let mode = |run: &Run| {
        let meta = fs::symlink_metadata(env.path(run.name())).expect("created name");
        meta.permissions().mode() & 0o7777
    };
    let file_meta = fs::symlink_metadata(env.path(file.name())).expect("created file");
    assert!(file_meta.is_file());
    (mode(&file), mode(&dir))
}

#[test]
fn a3_file_0600_and_directory_0700_under_umask_022() {
    assert_eq!(modes_under_umask(0o022), (0o600, 0o700));
}

#[test]
fn a3_umask_077_changes_nothing() {
    assert_eq!(modes_under_umask(0o077), (0o600, 0o700));
}

#[test]
fn a3_umask_000_never_widens() {
    assert_eq!(modes_under_umask(0o000), (0o600, 0o700));
}

#[test]
fn a3_umask_277_removes_owner_write() {
    // GNU 9.1 under umask 277: file -r-------- (0400), directory dr-x------ (0500).
    assert_eq!(modes_under_umask(0o277), (0o400, 0o500));
}

#[test]
fn a3_dry_run_creates_nothing() {
    for (args, shape) in [
        (&["-u", "aXXX"][..], format!("a{}\n", rnd(3))),
        (&["-d", "-u", "aXXX"][..], format!("a{}\n", rnd(3))),
        (
            &["--dry-run", "--directory", "aXXX"][..],
            format!("a{}\n", rnd(3)),
        ),
    ] {
        let env = TestEnv::new();
        let run = env.run(args);
        run.success()
            .stderr("")
            .stdout_matches(&shape)
            .nothing_left();
        assert!(fs::symlink_metadata(env.path(run.name())).is_err());
    }
}

#[test]
fn a3_dry_run_default_template_creates_nothing_in_tmpdir() {
    let env = TestEnv::new();
    env.run(["-u"])
        .success()
        .stderr("")
        .stdout_matches(&format!(r"{}/tmp/tmp\.{}\n", env.root_re(), rnd(10)))
        .nothing_left();
}

#[test]
fn a3_dry_run_with_missing_parent_succeeds() {
    let env = TestEnv::new();
    env.run(["-u", "nope/aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("nope/a{}\n", rnd(3)))
        .nothing_left();
    let env = TestEnv::new();
    env.run(["-d", "-u", "-p", "nope", "aXXX"])
        .success()
        .stderr("")
        .stdout_matches(&format!("nope/a{}\n", rnd(3)))
        .nothing_left();
}

#[test]
fn a3_missing_parent_fails_without_dry_run() {
    let env = TestEnv::new();
    env.run(["nope/aXXX"])
        .failure()
        .stderr("rtmp: failed to create file via template 'nope/aXXX': No such file or directory\n")
        .stdout("")
        .nothing_left();
}

#[test]
fn a3_quiet_hides_creation_failures() {
    let env = TestEnv::new();
    env.run(["-q", "-d", "nope/aXXX"])
        .failure()
        .stderr("")
        .stdout("")
        .nothing_left();
}

/// All 62^3 names of a 3-X template present (as dangling symlinks to `victim`): every mode
/// gives up with GNU's `File exists`, never follows a link, and does so quickly.
#[test]
#[ignore = "creates 238 328 symlinks; run with --ignored"]
fn a3_full_name_space_fails_with_file_exists_and_follows_no_symlink() {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let env = TestEnv::new();
    env.mkdir("full");
    let full = env.path("full");
    for &a in CHARS {
        for &b in CHARS {
            for &c in CHARS {
                let name = [a, b, c];
                let name = std::str::from_utf8(&name).expect("ascii");
                std::os::unix::fs::symlink("../victim", full.join(name)).expect("symlink");
            }
        }
    }
    for (opt, what) in [
        (None, "file"),
        (Some("-d"), "directory"),
        (Some("-u"), "file"),
    ] {
        let args: Vec<&str> = opt.into_iter().chain(["full/XXX"]).collect();
        let start = Instant::now();
        let run = env.run(&args);
        let took = start.elapsed();
        run.failure()
            .stderr(&format!(
                "rtmp: failed to create {what} via template 'full/XXX': File exists\n"
            ))
            .stdout("")
            .nothing_left();
        assert!(
            took < Duration::from_secs(10),
            "rtmp {args:?} took {took:?}{}",
            run.context()
        );
        assert!(
            fs::symlink_metadata(env.path("victim")).is_err(),
            "a symlink was followed{}",
            run.context()
        );
    }
}
