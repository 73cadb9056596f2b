//! Stress tests: many rtmp processes at once, a full name space, a storm of signals.
//!
//! They are slow and load the machine, so they are all `#[ignore]`d. Run them with
//!
//! ```sh
//! cargo test --test load -- --ignored
//! ```
//!
//! Scratch directories are made on `/dev/shm` (tmpfs) when it is writable, else in the system
//! temporary directory.

use std::collections::HashSet;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

fn rtmp() -> PathBuf {
    assert_cmd::cargo::cargo_bin("rtmp")
}

/// A scratch directory on tmpfs when possible.
fn scratch() -> TempDir {
    let shm = Path::new("/dev/shm");
    let builder = &mut tempfile::Builder::new();
    builder.prefix("rtmp-load.");
    match builder.tempdir_in(shm) {
        Ok(dir) => dir,
        Err(_) => builder.tempdir().expect("scratch directory"),
    }
}

/// rtmp with a clean environment, run in `cwd`.
fn command(cwd: &Path) -> Command {
    let mut cmd = Command::new(rtmp());
    cmd.current_dir(cwd)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    cmd
}

/// Waits for `child` at most `limit`; kills it and fails the test when it takes longer.
fn wait_bounded(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rtmp did not finish within {limit:?}");
        }
        sleep(Duration::from_millis(5));
    }
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
        wait_bounded(&mut child, Duration::from_secs(30));
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

/// The `--exec` child: counts the SIGTERMs it gets, says it is ready (writing the path it was
/// given into `$READY`), and exits 7 once `$RELEASE` exists, after writing its count to
/// `$COUNT`. It gives up after about 60 s so a broken rtmp cannot leave it running.
const COUNTING_CHILD: &str = r#"
n=0
trap 'n=$((n + 1))' TERM
printf '%s' "$RTMP_PATH" > "$READY.tmp" && mv "$READY.tmp" "$READY"
i=0
while [ ! -e "$RELEASE" ]; do
  sleep 0.01 &
  wait $! # a trapped signal interrupts `wait`, so the trap runs at once
  i=$((i + 1))
  if [ "$i" -ge 6000 ]; then exit 99; fi
done
echo "$n" > "$COUNT"
exit 7
"#;

fn wait_for_file(path: &Path, limit: Duration) {
    let start = Instant::now();
    while !path.exists() {
        assert!(start.elapsed() < limit, "{path:?} did not appear");
        sleep(Duration::from_millis(5));
    }
}

/// 100 SIGTERMs sent to rtmp alone in quick succession (then 20 more, spaced out): rtmp
/// forwards them and keeps waiting; it ends only when the child does, with the child's status,
/// and the directory is gone.
#[test]
#[ignore = "stress test: cargo test --test load -- --ignored"]
fn term_storm_does_not_end_rtmp_before_its_child() {
    const BURST: u32 = 100;
    const SPACED: u32 = 20;
    let dir = scratch();
    let ready = dir.path().join("ready");
    let release = dir.path().join("release");
    let count = dir.path().join("count");
    let mut child = command(dir.path())
        .args(["-d", "-p"])
        .arg(dir.path())
        .args(["--exec", "sh", "-c", COUNTING_CHILD])
        .env("READY", &ready)
        .env("RELEASE", &release)
        .env("COUNT", &count)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rtmp");
    wait_for_file(&ready, Duration::from_secs(20));
    let path = PathBuf::from(std::ffi::OsStr::from_bytes(
        &fs::read(&ready).expect("read ready"),
    ));
    assert!(path.is_dir(), "{path:?} is not a directory");

    let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    for _ in 0..BURST {
        kill(pid, Signal::SIGTERM).expect("kill -TERM rtmp");
    }
    // Then some spaced out, so that they cannot all coalesce: most of these must get through.
    for _ in 0..SPACED {
        sleep(Duration::from_millis(20));
        kill(pid, Signal::SIGTERM).expect("kill -TERM rtmp");
    }
    sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "rtmp ended while its child was still running"
    );
    assert!(path.is_dir(), "{path:?} removed while the child runs");

    fs::write(&release, "").expect("release the child");
    let status = wait_bounded(&mut child, Duration::from_secs(30));
    let out = child.wait_with_output().expect("output");
    assert_eq!(
        (status.code(), status.signal()),
        (Some(7), None),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert!(!path.exists(), "{path:?} left behind");
    let got: u32 = fs::read_to_string(&count)
        .expect("child wrote its count")
        .trim()
        .parse()
        .expect("count");
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
