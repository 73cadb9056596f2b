//! Every wait of the tests, against one [`DEADLINE`].
//!
//! A test waits for something to happen (a file, a condition, a process to end) by polling it
//! every [`STEP`]; if it has not happened within [`DEADLINE`], the test fails instead of hanging
//! the suite. The deadline is never what a test asserts: it only bounds a broken rtmp, so it is
//! generous for a loaded machine. A test that asserts *how fast* something happens measures the
//! time itself and compares it with a named bound of its own (see `guardian.rs`).
//!
//! "Must not happen" is checked without sleeping wherever a readiness signal exists (a file the
//! child writes, a signal it logs, its parent pid read back at the end). Where none exists,
//! [`holds_for`] watches a condition for a named duration that the caller justifies.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Child, ExitStatus, Output};
use std::time::{Duration, Instant};

/// How long any single wait may take before the test fails (a broken rtmp must not hang the
/// suite). Every wait in these tests ends in milliseconds when rtmp works.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The polling step of every wait.
pub const STEP: Duration = Duration::from_millis(5);

/// Waits (polling) until `cond` holds; fails the test after [`DEADLINE`].
#[track_caller]
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {DEADLINE:?} waiting for {what}"
        );
        std::thread::sleep(STEP);
    }
}

/// Waits until something (even a dangling symlink) exists at `path`.
#[track_caller]
pub fn wait_for_file(path: &Path) {
    wait_until(&format!("{path:?} to appear"), || {
        fs::symlink_metadata(path).is_ok()
    });
}

/// Asserts that `cond` holds all through `window` (checked every [`STEP`]): for a "must not
/// happen" with no readiness signal to wait for. The caller names `window` and says why it is
/// long enough for the thing that must not happen to have happened if it were going to.
#[track_caller]
pub fn holds_for(window: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + window;
    loop {
        assert!(cond(), "{what} stopped holding within {window:?}");
        if Instant::now() >= until {
            return;
        }
        std::thread::sleep(STEP);
    }
}

/// Waits for `child` to end; kills it and fails the test after [`DEADLINE`].
#[track_caller]
pub fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process {} did not finish within {DEADLINE:?}", child.id());
        }
        std::thread::sleep(STEP);
    }
}

/// Waits for a child spawned with piped stdout/stderr and collects its output (the outputs in
/// these tests are far smaller than a pipe buffer, so nothing blocks while we poll).
#[track_caller]
pub fn wait_output(mut child: Child) -> Output {
    let status = wait_exit(&mut child);
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    if let Some(mut s) = child.stdout.take() {
        s.read_to_end(&mut stdout).expect("read stdout");
    }
    if let Some(mut s) = child.stderr.take() {
        s.read_to_end(&mut stderr).expect("read stderr");
    }
    Output {
        status,
        stdout,
        stderr,
    }
}
