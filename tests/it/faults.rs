//! Fault injection: creation errors from the OS, and hostile leftovers under `--exec`.
//!
//! * EACCES, EROFS and ENOSPC give GNU's `failed to create file via template %s: <OS text>` and
//!   exit 1 (README "Exit status"), compared byte for byte with GNU `/usr/bin/mktemp` run the
//!   same way (skipped where it is missing or not GNU's). EACCES needs
//!   an unprivileged user (`setpriv` to `nobody`, since tests run as root); EROFS and ENOSPC a
//!   private mount namespace (`unshare -m`) with a small tmpfs. Where the machine does not allow
//!   that, the test prints why and returns.
//! * A child that leaves a FIFO, a socket, a 5 000-deep directory chain and a non-UTF-8 name in
//!   its `--exec` directory: all of it is removed. The child is this test binary re-executed
//!   (see [`hook_leave_hard_things`]), so no outside tool is needed.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::{
    AS_NOBODY, GNU_MKTEMP, Hook, SETPRIV, check_hook, clean_command, have_gnu_mktemp, os, rtmp_bin,
    scratch_dir, wait_until,
};
use tempfile::TempDir;

const UNSHARE: &str = "/usr/bin/unshare";

/// The child of [`exec_dir_with_hard_things_is_removed`].
const LEAVE_HARD_THINGS: Hook = Hook("faults::hook_leave_hard_things");

/// A scratch directory traversable by every user (0755).
fn scratch() -> TempDir {
    scratch_dir(0o755)
}

/// rtmp, copied into `dir` so that an unprivileged user can run it wherever the build is.
fn rtmp_in(dir: &Path) -> PathBuf {
    let copy = dir.join("rtmp");
    fs::copy(rtmp_bin(), &copy).expect("copy rtmp");
    fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).expect("chmod rtmp");
    wait_until_executable(&copy);
    copy
}

/// Waits until `program` can be executed. Right after the copy, a process that another test
/// thread forked while the copy was open for writing may still hold that descriptor until its
/// own `exec`, and executing the copy then fails with ETXTBSY ("Text file busy"): a flaky
/// failure seen on a first `cargo test`. Once one `exec` succeeds, no such descriptor is left.
fn wait_until_executable(program: &Path) {
    wait_until(
        &format!("{} to be executable", program.display()),
        || match Command::new(program).arg("--version").output() {
            Err(e) if e.raw_os_error() == Some(nix::libc::ETXTBSY) => false,
            Err(e) => panic!("cannot run {}: {e}", program.display()),
            Ok(_) => true,
        },
    );
}

/// Runs `program args` (behind `wrapper`, if any) with a clean C-locale environment.
fn run(wrapper: &[OsString], program: &Path, args: &[&OsStr], cwd: &Path) -> Output {
    let mut argv: Vec<OsString> = wrapper.to_vec();
    argv.push(program.into());
    argv.extend(args.iter().map(|&a| a.to_owned()));
    clean_command(&argv[0])
        .args(&argv[1..])
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("run command")
}

/// Runs rtmp and GNU mktemp the same way and checks that both fail with exit 1 and the same
/// message, which must end in `: {os_text}`.
fn assert_same_failure_as_gnu(wrapper: &[OsString], dir: &Path, args: &[&OsStr], os_text: &str) {
    let rtmp = run(wrapper, &rtmp_in(dir), args, dir);
    let gnu = run(wrapper, Path::new(GNU_MKTEMP), args, dir);
    let rtmp_err = String::from_utf8_lossy(&rtmp.stderr).into_owned();
    let gnu_err = String::from_utf8_lossy(&gnu.stderr).replacen(GNU_MKTEMP, "rtmp", 1);
    assert_eq!(rtmp_err, gnu_err, "args {args:?}");
    assert!(
        rtmp_err.ends_with(&format!(": {os_text}\n")),
        "{rtmp_err:?}"
    );
    assert!(
        rtmp_err.starts_with("rtmp: failed to create "),
        "{rtmp_err:?}"
    );
    assert_eq!((rtmp.status.code(), gnu.status.code()), (Some(1), Some(1)));
    assert!(rtmp.stdout.is_empty() && gnu.stdout.is_empty());
}

fn words(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

/// EACCES: `nobody` cannot create in a root-owned 0755 directory.
#[test]
fn permission_denied_matches_gnu() {
    if !Path::new(SETPRIV).exists() || !have_gnu_mktemp() {
        eprintln!("skipped: needs {SETPRIV} and GNU's {GNU_MKTEMP}");
        return;
    }
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root to switch to an unprivileged user");
        return;
    }
    let dir = scratch();
    let locked = dir.path().join("locked");
    fs::create_dir(&locked).expect("mkdir locked");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).expect("chmod locked");
    let nobody = words(&AS_NOBODY);
    let template = locked.join("fooXXX");
    for args in [
        vec![template.as_os_str()],
        vec![os("-d"), template.as_os_str()],
    ] {
        assert_same_failure_as_gnu(&nobody, dir.path(), &args, "Permission denied");
    }
    // Also for a relative template and with -p, where the message shows the joined name.
    for args in [
        vec![os("locked/fooXXX")],
        vec![os("-p"), os("locked"), os("-d"), os("fooXXX.d")],
    ] {
        assert_same_failure_as_gnu(&nobody, dir.path(), &args, "Permission denied");
    }
    // -u only looks the name up: it fails where `nobody` cannot even search the directory.
    let private = dir.path().join("private");
    fs::create_dir(&private).expect("mkdir private");
    fs::set_permissions(&private, fs::Permissions::from_mode(0o700)).expect("chmod private");
    for args in [
        vec![os("-u"), os("private/fooXXX")],
        vec![os("-u"), os("-d"), os("private/fooXXX")],
    ] {
        assert_same_failure_as_gnu(&nobody, dir.path(), &args, "Permission denied");
    }
    assert_eq!(fs::read_dir(&locked).expect("read locked").count(), 0);
}

/// ENAMETOOLONG and ELOOP need no privilege: a 300-byte component, a symlink loop.
#[test]
fn name_too_long_and_symlink_loop_match_gnu() {
    if !have_gnu_mktemp() {
        eprintln!("skipped: needs GNU's {GNU_MKTEMP}");
        return;
    }
    let dir = scratch();
    std::os::unix::fs::symlink("loop", dir.path().join("loop")).expect("symlink loop");
    let long = format!("{}XXX", "a".repeat(300));
    for opts in [&[][..], &["-d"][..], &["-u"][..]] {
        let mut args: Vec<&OsStr> = opts.iter().map(|&o| os(o)).collect();
        args.push(os(&long));
        assert_same_failure_as_gnu(&[], dir.path(), &args, "File name too long");
        args.pop();
        args.push(os("loop/fooXXX"));
        assert_same_failure_as_gnu(&[], dir.path(), &args, "Too many levels of symbolic links");
    }
}

/// A wrapper that runs the command in a private mount namespace with a fresh tmpfs mounted
/// (with `options`) on `mount_point`; `None` when this machine does not allow it.
fn with_tmpfs(mount_point: &Path, options: &str) -> Option<Vec<OsString>> {
    if !Path::new(UNSHARE).exists() {
        eprintln!("skipped: {UNSHARE} is missing");
        return None;
    }
    let script = r#"mount -t tmpfs -o "$1" rtmp-faults "$2" || exit 200; shift 2; exec "$@""#;
    let mut wrapper = words(&[
        UNSHARE,
        "-m",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        script,
    ]);
    wrapper.push("sh".into());
    wrapper.push(options.into());
    wrapper.push(mount_point.into());
    let probe = run(&wrapper, Path::new("/bin/true"), &[], Path::new("/"));
    if probe.status.success() {
        Some(wrapper)
    } else {
        eprintln!(
            "skipped: cannot mount a tmpfs in a private namespace here ({}): {}",
            probe.status,
            String::from_utf8_lossy(&probe.stderr).trim()
        );
        None
    }
}

/// EROFS: a read-only tmpfs.
#[test]
fn read_only_file_system_matches_gnu() {
    let dir = scratch();
    let mount_point = dir.path().join("ro");
    fs::create_dir(&mount_point).expect("mkdir ro");
    let Some(wrapper) = with_tmpfs(&mount_point, "ro,size=64k") else {
        return;
    };
    for args in [
        vec![os("ro/fooXXX")],
        vec![os("-d"), os("ro/fooXXX")],
        vec![os("-p"), os("ro"), os("--suffix=.txt"), os("fooXXX")],
    ] {
        assert_same_failure_as_gnu(&wrapper, dir.path(), &args, "Read-only file system");
    }
}

/// ENOSPC: a tmpfs with no inode left for a new file or directory.
#[test]
fn no_space_left_matches_gnu() {
    let dir = scratch();
    let mount_point = dir.path().join("full");
    fs::create_dir(&mount_point).expect("mkdir full");
    let Some(wrapper) = with_tmpfs(&mount_point, "size=64k,nr_inodes=1") else {
        return;
    };
    for args in [vec![os("full/fooXXX")], vec![os("-d"), os("full/fooXXX")]] {
        assert_same_failure_as_gnu(&wrapper, dir.path(), &args, "No space left on device");
    }
}

/// Depth of the directory chain the child leaves behind: deeper than `PATH_MAX` allows to
/// name, and far more than the descriptors cleanup may hold.
const DEPTH: usize = 5000;

/// The child (a re-execution of this binary, see [`crate::support::hook`]): fills the
/// `--exec` directory `$RTMP_PATH` with a FIFO, a bound Unix socket, a non-UTF-8 name and a
/// `DEPTH`-deep chain of directories, then writes `made` beside the directory and exits 0.
#[test]
#[ignore = "run by exec_dir_with_hard_things_is_removed as rtmp's child"]
fn hook_leave_hard_things() {
    let Some(scratch) = LEAVE_HARD_THINGS.dir() else {
        return;
    };
    let path = PathBuf::from(std::env::var_os("RTMP_PATH").expect("RTMP_PATH"));
    nix::unistd::mkfifo(
        &path.join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .expect("mkfifo");
    let socket = std::os::unix::net::UnixListener::bind(path.join("sock")).expect("bind");
    fs::write(path.join(OsStr::from_bytes(b"caf\xe9\xff\n")), "x").expect("non-UTF-8 name");
    std::env::set_current_dir(&path).expect("cd");
    for _ in 0..DEPTH {
        fs::create_dir("d").expect("mkdir d");
        std::env::set_current_dir("d").expect("cd d");
    }
    fs::write(OsStr::from_bytes(b"\x80bottom"), "x").expect("file at the bottom");
    drop(socket); // leaves the socket file in place
    fs::write(Path::new(&scratch).join("made"), "").expect("marker");
}

/// Everything the child leaves in its `--exec` directory is removed with it.
#[test]
fn exec_dir_with_hard_things_is_removed() {
    let dir = scratch();
    let out = clean_command(rtmp_bin())
        .args(["-d", "-p"])
        .arg(dir.path())
        .arg("--exec")
        .args(LEAVE_HARD_THINGS.argv())
        // `--skip {}` keeps rtmp from appending the path, which libtest would take as a filter.
        .args(["--skip", "{}"])
        .envs(LEAVE_HARD_THINGS.vars(dir.path()))
        .stdin(Stdio::null())
        .output()
        .expect("run rtmp");
    // rtmp passes the child's output through: the hook ran, and passed.
    check_hook(&out);
    assert!(
        dir.path().join("made").exists(),
        "the child did not run to the end"
    );
    let left: Vec<_> = fs::read_dir(dir.path())
        .expect("read scratch")
        .map(|e| e.expect("entry").file_name())
        .filter(|name| name != "made")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A file system the child mounts inside its `--exec` directory is not entered: its files
/// stay, everything else goes, and the failure to remove the mount point is reported, naming
/// the mount point (the entry that could not be removed, issue 12), not only the path (125,
/// since the child succeeded).
#[test]
fn mount_point_inside_exec_dir_is_not_entered() {
    let dir = scratch();
    let probe_point = dir.path().join("probe");
    fs::create_dir(&probe_point).expect("mkdir probe");
    if with_tmpfs(&probe_point, "size=16k").is_none() {
        return;
    }
    let child = r#"mkdir "$RTMP_PATH/m" &&
mount -t tmpfs -o size=16k rtmp-faults "$RTMP_PATH/m" &&
echo x > "$RTMP_PATH/m/keep" && echo x > "$RTMP_PATH/gone" &&
printf %s "$RTMP_PATH" > "$DIR/path""#;
    let outer = r#""$RTMP" -d -p "$DIR" --exec /bin/sh -c "$CHILD"
echo "rc=$?"
p=$(cat "$DIR/path") || exit 1
[ -e "$p/m/keep" ] && echo kept
[ -e "$p/gone" ] || echo removed
umount "$p/m""#;
    let out = clean_command(UNSHARE)
        .args(["-m", "--propagation", "private", "/bin/sh", "-c", outer])
        .env("RTMP", rtmp_bin())
        .env("DIR", dir.path())
        .env("CHILD", child)
        .stdin(Stdio::null())
        .output()
        .expect("run unshare");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stdout, "rc=125\nkept\nremoved\n", "stderr: {stderr}");
    // The path as rtmp printed it to the child (`-p DIR`: DIR/tmp.XXXXXXXXXX), joined with
    // the mount point's name, quoted as GNU quotes.
    let path = fs::read(dir.path().join("path")).expect("path written by the child");
    let mount_point = Path::new(OsStr::from_bytes(&path)).join("m");
    assert_eq!(
        stderr,
        format!(
            "rtmp: failed to remove {}: Invalid cross-device link\n",
            rtmp::quote::quote(mount_point.as_os_str())
        ),
    );
}
