//! `--replace DEST` through the binary (issue 14, section 2; docs/behaviour.md C10; README
//! "Scripts without trap"): the path is a hidden name next to DEST, DEST changes only when the
//! command exits 0 and then atomically (a reader loop sees the old or the new content, never a
//! mix or a short file), with DEST's mode and owner (a new DEST: 0666/0777 minus the umask); a
//! failure or a signal leaves DEST as it was and removes the path (`--keep-on-failure` keeps
//! it); a symlink DEST is refused; `-d` swaps an existing directory (RENAME_EXCHANGE) and
//! removes the old tree, or renames into a missing DEST; errors (a missing or read-only
//! directory, ENOSPC) are one line, status 125, DEST as it was.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::support::{Run, TestEnv, clean_command, rnd, rtmp_bin, scratch_dir, unprivileged_rtmp};
use nix::libc;

const UNSHARE: &str = "/usr/bin/unshare";
const TRY_HELP: &str = "Try 'rtmp --help' for more information.\n";

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path)
        .expect("stat")
        .permissions()
        .mode()
        & 0o7777
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `sh -c SCRIPT sh RTMP` in `env`: the script runs rtmp as `"$1"`.
fn sh_with_rtmp(env: &TestEnv, script: &str) -> Command {
    let mut cmd = env.command("sh");
    cmd.args(["-c", script, "sh"]).arg(rtmp_bin());
    cmd
}

#[test]
fn success_moves_the_result_over_dest_with_dests_mode() {
    let env = TestEnv::new();
    env.file("config.json", "old\n");
    fs::set_permissions(env.path("config.json"), fs::Permissions::from_mode(0o640)).expect("chmod");
    let script = r#"printf '%s\n' "$1"; cat config.json > "$1"; printf 'new\n' >> "$1""#;
    env.run([
        "--replace",
        "config.json",
        "--exec",
        "sh",
        "-c",
        script,
        "sh",
        "{}",
    ])
    .success()
    .stderr("")
    .stdout_matches(&format!("\\.config\\.json\\.{}\n", rnd(6)))
    .tree(&["config\\.json", "tmp/"]);
    assert_eq!(read(&env.path("config.json")), "old\nnew\n");
    assert_eq!(mode(&env.path("config.json")), 0o640);
}

#[test]
fn the_temporary_is_in_dests_directory_with_the_suffix() {
    let env = TestEnv::new();
    env.mkdir("sub");
    env.run([
        "--replace",
        "sub/out.png",
        "--suffix=.png",
        "--exec",
        "sh",
        "-c",
        r#"printf '%s\n' "$1"; : > "$1""#,
        "sh",
    ])
    .success()
    .stdout_matches(&format!("sub/\\.out\\.png\\.{}\\.png\n", rnd(6)))
    .tree(&["sub/", "sub/out\\.png", "tmp/"]);
}

#[test]
fn a_new_dest_gets_0666_minus_the_umask() {
    let env = TestEnv::new();
    let run = env.run_cmd(sh_with_rtmp(
        &env,
        r#"umask 027; "$1" --replace new.txt --exec sh -c 'echo hi > "$1"' sh"#,
    ));
    run.success().tree(&["new\\.txt", "tmp/"]);
    assert_eq!(mode(&env.path("new.txt")), 0o640);
    assert_eq!(read(&env.path("new.txt")), "hi\n");
}

#[test]
fn failure_leaves_dest_untouched_and_removes_the_temporary() {
    let env = TestEnv::new();
    env.file("f", "old\n");
    env.run([
        "--replace",
        "f",
        "--exec",
        "sh",
        "-c",
        r#"echo new > "$1"; exit 3"#,
        "sh",
    ])
    .code(3)
    .stderr("")
    .tree(&["f", "tmp/"]);
    assert_eq!(read(&env.path("f")), "old\n");
    // --keep-on-failure keeps the temporary to look at; DEST is still untouched.
    let run = env.run([
        "--keep-on-failure",
        "--replace",
        "f",
        "--exec",
        "sh",
        "-c",
        r#"echo new > "$1"; exit 4"#,
        "sh",
    ]);
    run.code(4)
        .stderr_matches_kept()
        .tree(&["f", &format!("\\.f\\.{}", rnd(6)), "tmp/"]);
    assert_eq!(read(&env.path("f")), "old\n");
}

/// `rtmp: kept '.f.XXXXXX'` (quoted or not: the quoting of kept paths, docs/behaviour.md C8.6,
/// is another branch's).
trait KeptMessage {
    fn stderr_matches_kept(&self) -> &Self;
}

impl KeptMessage for Run {
    #[track_caller]
    fn stderr_matches_kept(&self) -> &Self {
        let re = format!("rtmp: kept '?\\.f\\.{}'?\n", rnd(6));
        assert!(
            crate::support::full_match(&re, &self.stderr_str()),
            "stderr{}",
            self.context()
        );
        self
    }
}

#[test]
fn a_signal_leaves_dest_untouched() {
    let env = TestEnv::new();
    env.file("f", "old\n");
    let run = env.run([
        "--replace",
        "f",
        "--exec",
        "sh",
        "-c",
        r#"echo new > "$1"; kill -TERM $$"#,
        "sh",
    ]);
    assert_eq!(
        run.status().signal(),
        Some(libc::SIGTERM),
        "{}",
        run.context()
    );
    run.tree(&["f", "tmp/"]);
    assert_eq!(read(&env.path("f")), "old\n");
}

#[test]
fn a_symlink_dest_is_refused_and_nothing_is_created() {
    let env = TestEnv::new();
    env.file("real", "old\n");
    symlink("real", env.path("link")).expect("symlink");
    env.run(["--replace", "link", "--exec", "touch", "ran"])
        .code(125)
        .stdout("")
        .stderr("rtmp: cannot replace 'link': it is a symbolic link; name its target instead\n")
        .nothing_left();
    assert_eq!(read(&env.path("real")), "old\n");
    // A trailing slash does not resolve the link either.
    env.mkdir("realdir");
    symlink("realdir", env.path("dirlink")).expect("symlink");
    env.run(["-d", "--replace", "dirlink/", "--exec", "touch", "ran"])
        .code(125)
        .stderr("rtmp: cannot replace 'dirlink/': it is a symbolic link; name its target instead\n")
        .nothing_left();
    // The wrong kind is refused the same way.
    env.mkdir("adir");
    env.run(["--replace", "adir", "--exec", "touch", "ran"])
        .code(125)
        .stderr("rtmp: cannot replace 'adir': Is a directory\n")
        .nothing_left();
    env.run(["-d", "--replace", "real", "--exec", "touch", "ran"])
        .code(125)
        .stderr("rtmp: cannot replace 'real': Not a directory\n")
        .nothing_left();
}

#[test]
fn a_result_swapped_for_a_symlink_is_not_moved_into_place() {
    let env = TestEnv::new();
    env.file("f", "old\n");
    env.file("secret", "s\n");
    let run = env.run([
        "--replace",
        "f",
        "--exec",
        "sh",
        "-c",
        r#"rm "$1" && ln -s secret "$1""#,
        "sh",
    ]);
    run.code(125)
        .stderr("rtmp: cannot replace 'f': the result is a symbolic link\n")
        .tree(&["f", "secret", "tmp/"]);
    assert_eq!(read(&env.path("f")), "old\n");
    // A failed step counts as a failure for --keep-on-failure: the result stays to look at.
    let run = env.run([
        "--keep-on-failure",
        "--replace",
        "f",
        "--exec",
        "sh",
        "-c",
        r#"rm "$1" && ln -s secret "$1""#,
        "sh",
    ]);
    run.code(125).tree(&[
        "f",
        "secret",
        &format!("\\.f\\.{} -> secret", rnd(6)),
        "tmp/",
    ]);
    assert!(
        run.stderr_str()
            .starts_with("rtmp: cannot replace 'f': the result is a symbolic link\nrtmp: kept "),
        "{}",
        run.context()
    );
}

#[test]
fn owner_group_and_special_bits_are_kept_where_permitted() {
    let env = TestEnv::new();
    env.file("f", "old\n");
    let f = env.path("f");
    if nix::unistd::geteuid().is_root() {
        // Root may set any owner: all of DEST's, setgid included.
        std::os::unix::fs::chown(&f, Some(1234), Some(5678)).expect("chown");
        fs::set_permissions(&f, fs::Permissions::from_mode(0o2754)).expect("chmod");
        env.run([
            "--replace",
            "f",
            "--exec",
            "sh",
            "-c",
            r#"echo new > "$1""#,
            "sh",
        ])
        .success();
        let meta = fs::metadata(&f).expect("stat");
        assert_eq!((meta.uid(), meta.gid(), mode(&f)), (1234, 5678, 0o2754));
    }
    // An unprivileged user cannot give the file root's group: the group stays its own, and
    // the setgid bit is not copied to a group DEST did not have.
    let dir = env.path("shared");
    fs::create_dir(&dir).expect("mkdir");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).expect("chmod");
    let g = dir.join("g");
    fs::write(&g, "old\n").expect("write");
    let Some(mut cmd) = unprivileged_rtmp(
        &env,
        [
            "--replace",
            "shared/g",
            "--exec",
            "sh",
            "-c",
            r#"echo new > "$1""#,
            "sh",
        ],
    ) else {
        return;
    };
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: the unprivileged half needs root to hand DEST to another owner");
        return;
    }
    std::os::unix::fs::chown(&g, Some(65534), Some(0)).expect("chown");
    fs::set_permissions(&g, fs::Permissions::from_mode(0o2664)).expect("chmod");
    let out = cmd.stdin(Stdio::null()).output().expect("run");
    assert!(out.status.success(), "{out:?}");
    let meta = fs::metadata(&g).expect("stat");
    assert_eq!((meta.uid(), meta.gid(), mode(&g)), (65534, 65534, 0o664));
    assert_eq!(read(&g), "new\n");
}

#[test]
fn directory_swaps_an_existing_dest_and_removes_the_old_tree() {
    let env = TestEnv::new();
    env.mkdir("out/old-sub").file("out/old.txt", "old\n");
    fs::set_permissions(env.path("out"), fs::Permissions::from_mode(0o750)).expect("chmod");
    let before = fs::metadata(env.path("out")).expect("stat").ino();
    env.run([
        "-d",
        "--replace",
        "out",
        "--exec",
        "sh",
        "-c",
        r#"mkdir "$1/sub" && echo new > "$1/sub/new.txt""#,
        "sh",
    ])
    .success()
    .stderr("")
    .tree(&["out/", "out/sub/", "out/sub/new\\.txt", "tmp/"]);
    assert_ne!(fs::metadata(env.path("out")).expect("stat").ino(), before);
    assert_eq!(mode(&env.path("out")), 0o750);
    // --cd works with it: the command builds in place.
    env.run([
        "-d",
        "--cd",
        "--replace",
        "out",
        "--exec",
        "sh",
        "-c",
        "echo cd > here",
    ])
    .success()
    .tree(&["out/", "out/here", "tmp/"]);
}

#[test]
fn a_tree_with_entries_the_user_may_not_open_is_still_moved_into_place() {
    let env = TestEnv::new();
    let dir = env.path("shared");
    fs::create_dir(&dir).expect("mkdir");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).expect("chmod");
    // A write-only file and a directory without read permission: not opened for fsync, so
    // the tree is synced with one syncfs instead.
    let script = r#"mkdir "$1/locked" && echo x > "$1/secret" && chmod 200 "$1/secret" && chmod 300 "$1/locked""#;
    let Some(mut cmd) = unprivileged_rtmp(
        &env,
        [
            "-d",
            "--replace",
            "shared/out",
            "--exec",
            "sh",
            "-c",
            script,
            "sh",
        ],
    ) else {
        return;
    };
    let out = cmd.stdin(Stdio::null()).output().expect("run");
    assert!(out.status.success(), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    assert_eq!(mode(&dir.join("out/secret")), 0o200);
    let names: Vec<_> = fs::read_dir(&dir)
        .expect("list")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names, ["out"]);
}

#[test]
fn directory_with_a_missing_dest_is_renamed_into_place() {
    let env = TestEnv::new();
    let run = env.run_cmd(sh_with_rtmp(
        &env,
        r#"umask 022; "$1" -d --replace build --exec sh -c 'echo x > "$1/a"' sh"#,
    ));
    run.success().tree(&["build/", "build/a", "tmp/"]);
    assert_eq!(mode(&env.path("build")), 0o755);
    // A failure leaves no DEST and no temporary.
    env.run(["-d", "--replace", "other", "--exec", "false"])
        .code(1)
        .tree(&["build/", "build/a", "tmp/"]);
    // ... and an existing directory DEST as it was.
    env.run([
        "-d",
        "--replace",
        "build",
        "--exec",
        "sh",
        "-c",
        r#"touch "$1/b"; exit 2"#,
        "sh",
    ])
    .code(2)
    .tree(&["build/", "build/a", "tmp/"]);
}

#[test]
fn a_missing_directory_is_one_line_and_125() {
    let env = TestEnv::new();
    env.run(["--replace", "nodir/f", "--exec", "touch", "ran"])
        .code(125)
        .stdout("")
        .stderr(
            "rtmp: failed to create file via template 'nodir/.f.XXXXXX': No such file or directory\n",
        )
        .nothing_left();
}

#[test]
fn usage_errors() {
    let env = TestEnv::new();
    for (args, message, code) in [
        (
            &["--replace", "f", "aXXX", "--exec", "true"][..],
            "--replace takes no template: the path is named after DEST",
            125,
        ),
        (
            &["--replace", "f", "-p", ".", "--exec", "true"],
            "--replace cannot be combined with -p, --tmpdir or -t",
            125,
        ),
        (
            &["--replace", "f", "--anonymous", "--exec", "true"],
            "--replace cannot be combined with --anonymous",
            125,
        ),
        (
            &["--replace", "f", "--shell"],
            "--replace cannot be combined with --shell",
            125,
        ),
        (
            &["--replace", "..", "--exec", "true"],
            "invalid destination '..' for --replace",
            125,
        ),
        (&["--replace", "f"], "option '--replace' requires --exec", 1),
        (
            &["-u", "--replace", "f", "--exec", "true"],
            "-u cannot be combined with --exec",
            125,
        ),
        (
            &["--cd", "--replace", "f", "--exec", "true"],
            "--cd requires --directory",
            125,
        ),
    ] {
        env.run(args)
            .code(code)
            .stderr(&format!("rtmp: {message}\n{TRY_HELP}"))
            .nothing_left();
    }
}

#[test]
fn stdin_and_replace_make_an_atomic_sponge() {
    let env = TestEnv::new();
    env.file("list", "b\nc\na\n");
    let run = env.run_cmd(sh_with_rtmp(
        &env,
        r#"sort list | "$1" --stdin --replace list --exec true"#,
    ));
    run.success().tree(&["list", "tmp/"]);
    assert_eq!(read(&env.path("list")), "a\nb\nc\n");
}

#[test]
fn readers_see_the_old_or_the_new_content_never_a_part() {
    const SIZE: usize = 1 << 20;
    const ROUNDS: usize = 16;
    let env = TestEnv::new();
    let dest = env.path("data");
    fs::write(&dest, vec![b'a'; SIZE]).expect("write");
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (dest, stop) = (dest.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut reads = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let data = fs::read(&dest).expect("DEST always exists");
                assert_eq!(data.len(), SIZE, "a short DEST after {reads} reads");
                assert!(
                    data.iter().all(|&b| b == data[0]),
                    "a mixed DEST after {reads} reads"
                );
                reads += 1;
            }
            reads
        })
    };
    for round in 0..ROUNDS {
        let byte = if round % 2 == 0 { "b" } else { "a" };
        // Written in 4 KiB pieces, so that a writer in place would be seen half-way.
        let script = format!(
            r#"head -c {SIZE} /dev/zero | tr '\0' {byte} | dd of="$1" bs=4096 2>/dev/null"#
        );
        env.run(["--replace", "data", "--exec", "sh", "-c", &script, "sh"])
            .success();
    }
    stop.store(true, Ordering::Relaxed);
    let reads = reader.join().expect("reader saw only whole files");
    assert!(reads > 0);
    assert_eq!(fs::read(&dest).expect("read")[0], b'a');
}

/// In a private mount namespace: DEST on a tmpfs remounted read-only, and DEST on a full
/// tmpfs (no inode left; then 1 MiB of space and 2 MiB of `--stdin`).
#[test]
fn read_only_and_full_filesystems_leave_dest_as_it_was() {
    if !Path::new(UNSHARE).exists() {
        eprintln!("skipped: {UNSHARE} is missing");
        return;
    }
    let dir = scratch_dir(0o755);
    let m = dir.path().join("m");
    fs::create_dir(&m).expect("mkdir");
    let script = r#"m=$1 rtmp=$2
mount -t tmpfs -o size=1m,nr_inodes=3 rtmp-modes "$m" || exit 200
echo old > "$m/f"
mount -o remount,ro "$m" || exit 200
"$rtmp" --replace "$m/f" --exec sh -c 'echo ran; echo new > "$1"' sh; echo "ro=$?"
mount -o remount,rw "$m" || exit 200
: > "$m/g"
"$rtmp" --replace "$m/f" --exec sh -c 'echo ran' sh; echo "inodes=$?"
rm "$m/g"
head -c 2097152 /dev/zero | "$rtmp" --stdin --replace "$m/f" --exec sh -c 'echo ran' sh; echo "space=$?"
cat "$m/f"; ls -A "$m""#;
    let out = clean_command(UNSHARE)
        .args([
            "-m",
            "--propagation",
            "private",
            "/bin/sh",
            "-c",
            script,
            "sh",
        ])
        .arg(&m)
        .arg(rtmp_bin())
        .stdin(Stdio::null())
        .output()
        .expect("run unshare");
    if out.status.code() == Some(200) || !out.status.success() {
        eprintln!(
            "skipped: cannot mount a tmpfs in a private namespace here ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return;
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stdout, "ro=125\ninodes=125\nspace=125\nold\nf\n",
        "stderr: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(lines[0].ends_with(": Read-only file system"), "{stderr}");
    assert!(lines[1].ends_with(": No space left on device"), "{stderr}");
    assert!(
        lines[2].starts_with("rtmp: cannot copy standard input to '")
            && lines[2].ends_with(": No space left on device"),
        "{stderr}"
    );
}
