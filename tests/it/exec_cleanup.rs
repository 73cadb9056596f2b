//! `--exec` cleanup safety through the real binary (README "Cleanup": only rtmp's path is
//! removed, inside the directory it was created in): symlinks are never followed, a swapped
//! path loses only the link, read-only subtrees go, special files and non-UTF-8 names go, a path
//! the child removed is fine, and a failed removal is reported with status 125 (or the child's
//! failing status).
//!
//! Tests that need permissions to matter run rtmp as an unprivileged user (see
//! `support::unprivileged_rtmp`): through setpriv when the tests run as root.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::{
    ANNOUNCE, AWAIT_GO, Handshake, NOBODY, TestEnv, aux_dir, escape, exists, full_match,
    give_to_nobody, is_root, lit, rnd, spawn_piped, unprivileged_rtmp, wait_output,
};

/// An "outside" directory with a file and a subdirectory in it, which cleanup must not touch.
struct Outside {
    dir: tempfile::TempDir,
}

impl Outside {
    fn new() -> Self {
        let dir = aux_dir();
        fs::write(dir.path().join("f"), "keep me").expect("write f");
        fs::create_dir(dir.path().join("sub")).expect("mkdir sub");
        fs::write(dir.path().join("sub/g"), "keep me too").expect("write g");
        Outside { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `rtmp OPTS --exec sh -c SCRIPT sh` with `$OUT` naming this directory and `$T` set
    /// to `t`; asserts that rtmp succeeded quietly and left nothing behind, and that this
    /// directory is untouched.
    #[track_caller]
    fn check_child(&self, env: &TestEnv, opts: &[&str], script: &str, t: &str) {
        let mut cmd = env.rtmp_cmd(opts);
        cmd.args(["--exec", "sh", "-c", script, "sh"])
            .env("OUT", self.path())
            .env("T", t);
        env.run_cmd(cmd).success().stderr("").nothing_left();
        self.assert_untouched();
    }

    #[track_caller]
    fn assert_untouched(&self) {
        let p = self.path();
        assert_eq!(
            fs::read_to_string(p.join("f")).ok().as_deref(),
            Some("keep me")
        );
        assert_eq!(
            fs::read_to_string(p.join("sub/g")).ok().as_deref(),
            Some("keep me too")
        );
        let mut names: Vec<String> = fs::read_dir(p)
            .expect("read outside")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["f", "sub"], "outside directory changed");
        let mode = fs::metadata(p).expect("stat outside").permissions().mode() & 0o7777;
        assert_eq!(mode, 0o777, "outside directory's mode changed");
    }
}

// ---------------------------------------------------------------- symlinks

#[test]
fn symlinks_inside_the_tree_are_not_followed() {
    let env = TestEnv::new();
    let out = Outside::new();
    let script = r#"mkdir "$1/sub" &&
ln -s "$OUT" "$1/dirlink" &&
ln -s "$OUT/f" "$1/filelink" &&
ln -s "$OUT/sub" "$1/sub/deeper" &&
ln -s "$OUT/nonexistent" "$1/dangling""#;
    out.check_child(&env, &["-d"], script, "");
}

#[test]
fn directory_swapped_for_a_symlink_loses_only_the_link() {
    let env = TestEnv::new();
    let out = Outside::new();
    out.check_child(&env, &["-d"], r#"rmdir "$1" && ln -s "$OUT" "$1""#, "");
}

#[test]
fn file_swapped_for_a_symlink_loses_only_the_link() {
    let env = TestEnv::new();
    let out = Outside::new();
    for target in ["f", "sub", "."] {
        out.check_child(&env, &[], r#"rm "$1" && ln -s "$OUT/$T" "$1""#, target);
    }
}

#[test]
fn directory_swapped_for_a_file_or_a_fifo_is_removed() {
    let env = TestEnv::new();
    for swap in [
        r#"rmdir "$1" && echo x > "$1""#,
        r#"rmdir "$1" && mkfifo "$1""#,
    ] {
        env.run(["-d", "--exec", "sh", "-c", swap, "sh"])
            .success()
            .stderr("")
            .nothing_left();
    }
}

// ---------------------------------------------------------------- permissions

/// The child's script for the read-only tests: a file in `a/b/`, `a/b` read-only, `a` locked.
const READ_ONLY_TREE: &str =
    r#"mkdir -p "$1/a/b" && touch "$1/a/b/f" && chmod 500 "$1/a/b" && chmod 000 "$1/a""#;

/// Runs [`READ_ONLY_TREE`] as an unprivileged user; `top` also locks a second directory and
/// the path itself.
fn read_only_subtree(top: bool) {
    let env = TestEnv::new();
    let mut script = String::from(READ_ONLY_TREE);
    if top {
        script.push_str(r#" && mkdir "$1/c" && chmod 000 "$1/c" && chmod 000 "$1""#);
    }
    if is_root() {
        // Permissions only matter if rtmp (and so its child) really runs unprivileged.
        script.push_str(&format!(r#" && [ "$(id -u)" = {NOBODY} ]"#));
    }
    let Some(cmd) = unprivileged_rtmp(&env, ["-d", "--exec", "sh", "-c", &script, "sh"]) else {
        return;
    };
    env.run_cmd(cmd).success().stderr("").nothing_left();
}

#[test]
fn read_only_subtree_is_removed_by_an_unprivileged_user() {
    read_only_subtree(false);
}

#[test]
fn locked_top_directory_is_removed_by_an_unprivileged_user() {
    read_only_subtree(true);
}

#[test]
fn read_only_subtree_is_removed_by_the_current_user() {
    let env = TestEnv::new();
    env.run(["-d", "--exec", "sh", "-c", READ_ONLY_TREE, "sh"])
        .success()
        .stderr("")
        .nothing_left();
}

/// A directory owned by the unprivileged user for `-p`, so that its child can lock it.
fn nobody_dir(env: &TestEnv) -> PathBuf {
    let dir = env.tmpdir().join("nob");
    fs::create_dir(&dir).expect("mkdir nob");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod nob");
    give_to_nobody(&dir);
    dir
}

/// The child makes the path's parent read-only, so removing the path fails with EACCES. The
/// entry that could not be removed is the path itself (everything inside goes), so the message
/// names the path alone, not `PATH/inside` (issue 12: a failure names its entry).
fn failed_removal(dir: bool, child_code: u8) {
    let env = TestEnv::new();
    let mut args = vec![];
    if dir {
        args.push("-d");
    }
    let script = format!(
        r#"{} {} chmod 555 "$(dirname "$1")" && exit {child_code}"#,
        if is_root() {
            format!(r#"[ "$(id -u)" = {NOBODY} ] &&"#)
        } else {
            String::new()
        },
        if dir { r#"touch "$1/inside" &&"# } else { "" }
    );
    args.extend(["--exec", "sh", "-c", &script, "sh"]);
    let nob = nobody_dir(&env);
    let Some(mut cmd) = unprivileged_rtmp(&env, [OsStr::new("-p"), nob.as_os_str()]) else {
        return;
    };
    cmd.args(&args);
    let run = env.run_cmd(cmd);
    // Put things back so the scratch directory can be removed by a non-root user too.
    fs::set_permissions(&nob, fs::Permissions::from_mode(0o755)).expect("chmod back");
    let expected = if child_code == 0 {
        125
    } else {
        i32::from(child_code)
    };
    run.code(expected).stdout("");
    let path_re = format!(
        "{}/tmp\\.{}",
        lit(&escape(nob.as_os_str().as_encoded_bytes())),
        rnd(10)
    );
    let err = escape(&run.output.stderr);
    assert!(
        full_match(
            &format!("rtmp: failed to remove '{path_re}': Permission denied\\\\x0a"),
            &err
        ),
        "stderr{}",
        run.context()
    );
    // The path is still there (nothing was removed behind the user's back), and named in the
    // message.
    let shown = err
        .strip_prefix("rtmp: failed to remove '")
        .and_then(|s| s.strip_suffix("': Permission denied\\x0a"))
        .expect("path in the message");
    assert!(
        exists(Path::new(shown)),
        "{shown} vanished{}",
        run.context()
    );
    if dir {
        // Everything inside was still removed.
        assert_eq!(fs::read_dir(shown).expect("read kept dir").count(), 0);
    }
}

#[test]
fn failed_removal_of_a_file_is_125_when_the_child_succeeded() {
    failed_removal(false, 0);
}

#[test]
fn failed_removal_of_a_directory_is_125_when_the_child_succeeded() {
    failed_removal(true, 0);
}

#[test]
fn failed_removal_keeps_the_childs_failing_status() {
    failed_removal(false, 6);
    failed_removal(true, 6);
}

// ---------------------------------------------------------------- what the child did

#[test]
fn path_removed_by_the_child_is_fine() {
    let env = TestEnv::new();
    env.run([
        "-d",
        "--exec",
        "sh",
        "-c",
        r#"touch "$1/x" && rm -rf "$1""#,
        "sh",
    ])
    .success()
    .stdout("")
    .stderr("")
    .nothing_left();
    env.run(["--exec", "rm"])
        .success()
        .stderr("")
        .nothing_left();
}

#[test]
fn fifo_socket_and_non_utf8_names_are_removed() {
    let env = TestEnv::new();
    let hs = Handshake::new();
    let before = env.listing();
    let script = format!(
        r#"
mkfifo "$1/fifo" &&
mkdir "$1/$(printf 'd\376ir')" &&
touch "$1/$(printf 'bad\377name')" "$1/$(printf 'd\376ir')/$(printf '\001\n')" &&
mkfifo "$1/$(printf 'd\376ir')/fifo2" &&
{ANNOUNCE} || exit 1
{AWAIT_GO}
"#
    );
    let mut cmd = env.rtmp_cmd(["-d", "--exec", "sh", "-c", &script, "sh"]);
    hs.env(&mut cmd);
    let rtmp = spawn_piped(cmd);
    let path = hs.wait_ready();
    // Sockets cannot be made from sh without extra tools: bind them from here while the child
    // waits.
    let _l1 = std::os::unix::net::UnixListener::bind(path.join("sock")).expect("bind sock");
    let sub = path.join(OsStr::from_bytes(b"d\xfeir"));
    let _l2 = std::os::unix::net::UnixListener::bind(sub.join("sock2")).expect("bind sock2");
    assert_eq!(fs::read_dir(&path).expect("read path").count(), 4);
    hs.go();
    let out = wait_output(rtmp);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(out.stderr, b"");
    assert!(!exists(&path), "{path:?} left behind");
    assert_eq!(env.listing(), before);
}

#[test]
fn deep_tree_is_removed() {
    let env = TestEnv::new();
    // 1000 levels: deeper than rtmp's limit of open directory descriptors (64).
    let mut cmd = env.rtmp_cmd([
        "-d",
        "--exec",
        "sh",
        "-c",
        r#"cd "$1" && mkdir -p "$D" && touch "$D/leaf" && test -f "$D/leaf""#,
        "sh",
    ]);
    cmd.env("D", "a/".repeat(1000));
    env.run_cmd(cmd).success().stderr("").nothing_left();
}

/// Regression (found by a black-box test): the child renamed the directory that holds the path
/// and put a symlink to an outside directory in its place, with a same-named entry there.
/// rtmp used to resolve the parent again at cleanup, follow the symlink, and delete the entry
/// outside. The parent is now pinned at creation: the removal happens in the renamed parent.
#[test]
fn parent_swapped_for_a_symlink_does_not_redirect_the_removal() {
    let env = TestEnv::new();
    fs::create_dir(env.path("sub")).expect("mkdir sub");
    let out = Outside::new();
    let victim = out.path().join("victim");
    let mut cmd = env.rtmp_cmd([
        "-d",
        "-p",
        "sub",
        "--exec",
        "sh",
        "-c",
        r#"mv sub subold && ln -s "$VICTIM" sub && mkdir -p "$VICTIM/${1#sub/}""#,
        "sh",
        "{}",
    ]);
    cmd.env("VICTIM", &victim);
    env.run_cmd(cmd).success().stderr("");
    // Only rtmp's own directory (now under subold/) is gone; the look-alike outside stays.
    let kept: Vec<_> = fs::read_dir(&victim).expect("victim").collect();
    assert_eq!(
        kept.len(),
        1,
        "the same-named directory outside was removed"
    );
    assert_eq!(
        fs::read_dir(env.path("subold")).expect("subold").count(),
        0,
        "rtmp's own directory was left behind in the renamed parent"
    );
    fs::remove_dir_all(&victim).expect("clean victim");
    out.assert_untouched();
}
