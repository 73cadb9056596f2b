//! Stress tests: many rtmp processes at once, a full name space, a storm of signals.
//!
//! They are slow and load the machine, so they are all `#[ignore]`d. Run them with
//!
//! ```sh
//! cargo test --test load -- --ignored
//! ```
//!
//! They use the helpers of the `it` target (`tests/it/support`), included as a module: scratch
//! directories on `/dev/shm` (tmpfs) when it is writable, the clean environment, the waits
//! against one deadline and the file handshake with an `--exec` child.

use std::collections::HashSet;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::{
    ANNOUNCE, AWAIT_GO, Handshake, REPORT_PARENT_AND_PATH, clean_command, rtmp_bin, scratch_dir,
    wait_exit,
};
use tempfile::TempDir;

// Only part of the shared helpers is used here.
#[allow(dead_code, unused_imports)]
#[path = "it/support/mod.rs"]
mod support;

/// A scratch directory of this test's own.
fn scratch() -> TempDir {
    scratch_dir(0o700)
}

/// rtmp with a clean environment, run in `cwd`.
fn command(cwd: &Path) -> Command {
    let mut cmd = clean_command(rtmp_bin());
    cmd.current_dir(cwd).stdin(Stdio::null());
    cmd
}

/// 200 rtmp processes started at once in one directory each create a distinct file.
#[test]
#[ignore = "stress test: cargo test --test load -- --ignored"]
fn two_hundred_concurrent_creations_give_distinct_files() {
    const N: usize = 200;
    let dir = scratch();
    fs::create_dir(dir.path().join("td")).expect("mkdir td");
    let children: Vec<Child> = (0..N)
        .map(|_| {
            command(dir.path())
                .arg("td/XXX")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn rtmp")
        })
        .collect();
    let mut names = HashSet::new();
    for child in children {
        let out = child.wait_with_output().expect("wait rtmp");
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "status {:?}, stderr {:?}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let name = out.stdout.strip_suffix(b"\n").expect("newline").to_vec();
        assert!(name.starts_with(b"td/") && name.len() == 6, "{name:?}");
        assert!(names.insert(name.clone()), "name printed twice: {name:?}");
    }
    let on_disk = fs::read_dir(dir.path().join("td"))
        .expect("read td")
        .count();
    assert_eq!((names.len(), on_disk), (N, N));
    for name in &names {
        let meta = fs::symlink_metadata(dir.path().join(std::ffi::OsStr::from_bytes(name)))
            .expect("printed file exists");
        assert!(meta.is_file());
    }
}

/// Every three-character name from `[A-Za-z0-9]`: 62³ = 238 328.
fn fill_every_three_char_name(dir: &Path) -> usize {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut count = 0;
    for &a in ALNUM {
        for &b in ALNUM {
            for &c in ALNUM {
                let name = [a, b, c];
                fs::File::create(dir.join(std::ffi::OsStr::from_bytes(&name))).expect("create");
                count += 1;
            }
        }
    }
    count
}

/// With all 238 328 names taken, file, directory and dry-run creation each give up quickly
/// with GNU's `File exists` message and exit 1.
#[test]
#[ignore = "stress test: cargo test --test load -- --ignored"]
fn exhausted_name_space_fails_fast_with_file_exists() {
    let dir = scratch();
    let full = dir.path().join("full");
    fs::create_dir(&full).expect("mkdir full");
    let start = Instant::now();
    assert_eq!(fill_every_three_char_name(&full), 238_328);
    eprintln!("filled 238328 names in {:?}", start.elapsed());
    for (args, what) in [
        (&["full/XXX"][..], "file"),
        (&["-d", "full/XXX"][..], "directory"),
        (&["-u", "full/XXX"][..], "file"),
    ] {
        let start = Instant::now();
        let mut child = command(dir.path())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn rtmp");
        wait_exit(&mut child);
        let took = start.elapsed();
        let out = child.wait_with_output().expect("output");
        eprintln!("rtmp {args:?}: {took:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("rtmp: failed to create {what} via template 'full/XXX': File exists\n"),
            "rtmp {args:?}"
        );
        assert_eq!(out.status.code(), Some(1), "rtmp {args:?}");
        assert!(out.stdout.is_empty(), "rtmp {args:?}");
        assert!(took < Duration::from_secs(2), "rtmp {args:?} took {took:?}");
    }
    assert_eq!(fs::read_dir(&full).expect("read full").count(), 238_328);
}

/// The `--exec` child: counts the SIGTERMs it gets, announces itself, and once told to go on
/// logs its count (`count N`), its parent and whether its path exists (see
/// [`REPORT_PARENT_AND_PATH`]), and exits 7.
fn counting_child() -> String {
    format!(
        r#"
n=0
trap 'n=$((n + 1))' TERM
{ANNOUNCE}
{AWAIT_GO}
echo "count $n" >> "$LOG"
{REPORT_PARENT_AND_PATH}
exit 7
"#
    )
}

/// The pause between the spaced-out SIGTERMs. Standard signals are not queued: two that reach
/// rtmp before it has taken the first are one. rtmp takes and forwards a signal within
/// microseconds, and the child's trap runs as soon as its `wait` is interrupted, so 20 ms lets
/// most of the spaced signals through one by one even on a loaded machine; the test asserts
/// only that at least half of them are counted.
const SPACING: Duration = Duration::from_millis(20);

/// 100 SIGTERMs sent to rtmp alone in quick succession (then 20 more, spaced out): rtmp
/// forwards them and keeps waiting; it ends only when the child does, with the child's status,
/// and the directory is gone.
#[test]
#[ignore = "stress test: cargo test --test load -- --ignored"]
fn term_storm_does_not_end_rtmp_before_its_child() {
    const BURST: u32 = 100;
    const SPACED: u32 = 20;
    let dir = scratch();
    let hs = Handshake::new();
    let mut cmd = command(dir.path());
    cmd.args(["-d", "-p"])
        .arg(dir.path())
        .args(["--exec", "sh", "-c", &counting_child()]);
    let mut child = hs
        .env(&mut cmd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rtmp");
    let path = hs.wait_ready();
    assert!(path.is_dir(), "{path:?} is not a directory");

    let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    for _ in 0..BURST {
        kill(pid, Signal::SIGTERM).expect("kill -TERM rtmp");
    }
    // Then some spaced out, so that they cannot all coalesce: most of these must get through.
    for _ in 0..SPACED {
        sleep(SPACING);
        kill(pid, Signal::SIGTERM).expect("kill -TERM rtmp");
    }
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "rtmp ended while its child was still running"
    );
    assert!(path.is_dir(), "{path:?} removed while the child runs");

    hs.go();
    let status = wait_exit(&mut child);
    let out = child.wait_with_output().expect("output");
    assert_eq!(
        (status.code(), status.signal()),
        (Some(7), None),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert!(!path.exists(), "{path:?} left behind");
    // The child's report covers its whole run: rtmp stayed its parent, the path stayed.
    let log = hs.log();
    assert_eq!(
        log[1..],
        [format!("parent {}", pid.as_raw()), "path yes".to_owned()],
        "rtmp must stay the child's parent, with the path in place, until the child ends"
    );
    let got: u32 = log[0]
        .strip_prefix("count ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("child log {log:?}"));
    eprintln!(
        "child caught {got} of {} SIGTERMs ({BURST} in a burst, {SPACED} 20 ms apart)",
        BURST + SPACED
    );
    // Each signal reaches the child at most once; a burst coalesces (standard signals are not
    // queued), the spaced ones mostly do not.
    assert!(
        (SPACED / 2..=BURST + SPACED).contains(&got),
        "child counted {got}"
    );
}
