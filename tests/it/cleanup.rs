//! Tests of `rtmp::cleanup` that need a process of their own: a low descriptor limit, the
//! `openat` fallback switched on, or an unprivileged user (root bypasses the permission checks
//! these tests are about). Each test re-executes this test binary with only itself selected;
//! the unit tests beside the code (`src/cleanup/`) cover the rest.

use std::fs;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::fcntl::{self, OFlag};
use nix::sys::stat::{self, Mode};
use nix::unistd;
use rtmp::cleanup::remove_created;

/// Set in a re-executed test binary to the name of the test whose body it must run; the
/// scratch directory to use is in `SCRATCH_ENV`.
const CHILD_ENV: &str = "RTMP_CLEANUP_TEST_CHILD";
const SCRATCH_ENV: &str = "RTMP_CLEANUP_TEST_SCRATCH";
/// `nobody`: an unprivileged identity for tests that need permission checks to apply.
const NOBODY: u32 = 65534;

fn gone(path: &Path) -> bool {
    matches!(fs::symlink_metadata(path), Err(e) if e.kind() == io::ErrorKind::NotFound)
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Runs `body` in a fresh process: this test binary re-executed with only
/// `test` selected, as `nobody` if `unprivileged` and we are root. The
/// body gets a world-writable scratch directory. In the parent this
/// asserts that the child ran exactly that one test and it passed, so a
/// mistyped test name cannot pass silently.
fn in_child(test: &str, unprivileged: bool, body: impl FnOnce(&Path)) {
    let test = test.split_once("::").map_or(test, |(_, rest)| rest);
    if std::env::var(CHILD_ENV).as_deref() == Ok(test) {
        let dir = PathBuf::from(std::env::var_os(SCRATCH_ENV).expect("scratch env"));
        body(&dir);
        return;
    }
    let tmp = tempfile::tempdir().expect("create scratch dir");
    chmod(tmp.path(), 0o777);
    let mut cmd = Command::new(std::env::current_exe().expect("current_exe"));
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, test)
        .env(SCRATCH_ENV, tmp.path());
    if unprivileged && unistd::geteuid().is_root() {
        // std also clears supplementary groups when it sets the uid.
        cmd.uid(NOBODY).gid(NOBODY);
    }
    let out = cmd.output().expect("re-run test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "child run of {test} failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read_only_and_unreadable_dirs_removed_case(parallel: bool) {
    in_child(
        &child_name("read_only_and_unreadable_dirs_removed", parallel),
        true,
        move |scratch| {
            if parallel {
                rtmp::cleanup::force_parallel(4);
            }
            let top = scratch.join("top");
            for d in ["r500/inner", "z000", "nox600/sub", "n/a500/b000/c300/d"] {
                fs::create_dir_all(top.join(d)).expect("mkdir");
            }
            for f in [
                "r500/f",
                "r500/inner/f",
                "z000/f",
                "nox600/f",
                "n/a500/b000/c300/d/f",
            ] {
                fs::write(top.join(f), b"x").expect("write");
            }
            // Deepest first, so that the chmods themselves succeed.
            for (d, mode) in [
                ("n/a500/b000/c300", 0o300),
                ("n/a500/b000", 0o000),
                ("n/a500", 0o500),
                ("r500/inner", 0o500),
                ("r500", 0o500),
                ("z000", 0o000),
                ("nox600", 0o600),
                ("", 0o500),
            ] {
                chmod(&top.join(d), mode);
            }
            // Without this the test would prove nothing (e.g. run as root).
            let denied = fs::write(top.join("probe"), b"x").expect_err("top is read-only");
            assert_eq!(denied.kind(), io::ErrorKind::PermissionDenied);
            remove_created(&top).expect("remove");
            assert!(gone(&top));
        },
    );
}

fn deep_chain_with_low_fd_limit_case(parallel: bool) {
    const DEPTH: usize = 5000;
    in_child(
        &child_name("deep_chain_with_low_fd_limit", parallel),
        false,
        move |scratch| {
            if parallel {
                rtmp::cleanup::force_parallel(4);
            }
            use nix::sys::resource::{Resource, getrlimit, setrlimit};
            let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
            setrlimit(Resource::RLIMIT_NOFILE, 256, hard).expect("setrlimit");
            let top = scratch.join("top");
            fs::create_dir(&top).expect("mkdir");
            // Built fd-relative: the full path is far beyond PATH_MAX.
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
            let mut fd = fcntl::open(&top, flags, Mode::empty()).expect("open top");
            for i in 0..DEPTH {
                stat::mkdirat(&fd, c"d", Mode::from_bits_truncate(0o700)).expect("mkdirat");
                if i % 100 == 0 {
                    let f = fcntl::openat(
                        &fd,
                        c"f",
                        OFlag::O_CREAT | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
                        Mode::from_bits_truncate(0o600),
                    );
                    drop(f.expect("create file"));
                    symlink(&top, format!("/proc/self/fd/{}/l", fd.as_raw_fd())).expect("symlink");
                }
                fd = fcntl::openat(&fd, c"d", flags, Mode::empty()).expect("open d");
            }
            drop(fd);
            remove_created(&top).expect("remove");
            assert!(gone(&top));
        },
    );
}

/// Regression: with `ulimit -n 64` a 60-deep tree failed with EMFILE, because
/// the walk held up to 64 descriptors whatever the limit. Now it holds a
/// quarter of the limit and fewer again on EMFILE.
fn deep_chain_with_a_tiny_fd_limit_case(parallel: bool) {
    in_child(
        &child_name("deep_chain_with_a_tiny_fd_limit", parallel),
        false,
        move |scratch| {
            if parallel {
                rtmp::cleanup::force_parallel(4);
            }
            use nix::sys::resource::{Resource, getrlimit, setrlimit};
            let top = scratch.join("top");
            let mut deep = top.clone();
            for _ in 0..300 {
                deep.push("d");
            }
            fs::create_dir_all(&deep).expect("mkdir -p");
            let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
            // A few above what the test process itself holds.
            let in_use = fs::read_dir("/proc/self/fd").expect("fds").count() as u64;
            setrlimit(Resource::RLIMIT_NOFILE, in_use + 4, hard).expect("setrlimit");
            remove_created(&top).expect("remove");
            assert!(gone(&top));
        },
    );
}

/// Kernels without `openat2` get plain `openat(O_NOFOLLOW)`: symlinks must
/// still not be followed and locked directories still be removed.
fn openat_fallback_is_equally_safe_case(parallel: bool) {
    in_child(
        &child_name("openat_fallback_is_equally_safe", parallel),
        true,
        move |scratch| {
            if parallel {
                rtmp::cleanup::force_parallel(4);
            }
            rtmp::sys::fs::use_openat_fallback_only();
            let outside = scratch.join("outside");
            fs::create_dir(&outside).expect("mkdir");
            fs::write(outside.join("keep"), b"k").expect("write");
            chmod(&outside, 0o500);
            let before = fs::metadata(&outside).expect("stat").permissions().mode();
            let top = scratch.join("top");
            fs::create_dir_all(top.join("z/y")).expect("mkdir");
            symlink(&outside, top.join("z/y/link")).expect("symlink");
            chmod(&top.join("z/y"), 0o000);
            chmod(&top.join("z"), 0o500);
            remove_created(&top).expect("remove");
            assert!(gone(&top));
            assert_eq!(fs::read(outside.join("keep")).expect("kept"), b"k");
            // Nothing outside had its mode widened either.
            let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode();
            assert_eq!(mode(&outside), before);
        },
    );
}

/// This module's test `name`, or its twin that forces the parallel remover on.
fn child_name(name: &str, parallel: bool) -> String {
    let twin = if parallel { "_parallel" } else { "" };
    format!("{}::{name}{twin}", module_path!())
}

/// Every case runs twice: as rtmp removes, and with the parallel remover
/// forced on (four threads from the first subdirectory on, whatever the CPUs).
macro_rules! both_ways {
    ($($case:ident: $name:ident, $parallel:ident;)*) => {$(
        #[test]
        fn $name() {
            $case(false);
        }
        #[test]
        fn $parallel() {
            $case(true);
        }
    )*};
}

both_ways! {
    read_only_and_unreadable_dirs_removed_case: read_only_and_unreadable_dirs_removed, read_only_and_unreadable_dirs_removed_parallel;
    deep_chain_with_low_fd_limit_case: deep_chain_with_low_fd_limit, deep_chain_with_low_fd_limit_parallel;
    deep_chain_with_a_tiny_fd_limit_case: deep_chain_with_a_tiny_fd_limit, deep_chain_with_a_tiny_fd_limit_parallel;
    openat_fallback_is_equally_safe_case: openat_fallback_is_equally_safe, openat_fallback_is_equally_safe_parallel;
}
