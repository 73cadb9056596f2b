//! The re-exec harness: runs one test of this binary in a process of its own.
//!
//! Some things cannot be tested inside the shared test process: a `Supervisor` changes the
//! process-wide signal dispositions, and an `--exec` child written in Rust must be a program
//! rtmp can start. Such a test is a *hook*: an `#[ignore]`d test that does its work only when
//! this process was started for it ([`Hook::dir`] is `Some`). An outer test starts this very
//! binary (`std::env::current_exe()`, the `it` binary) with [`Hook::command`] or [`Hook::argv`],
//! which select exactly that hook (`--exact` with its full name, `--include-ignored`) and hand it
//! a scratch directory through the environment.
//!
//! A hook whose name is misspelt would run nothing and pass: [`check_hook`] also asserts that
//! libtest ran exactly one test.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Names the hook this process was started for.
const HOOK_VAR: &str = "RTMP_TEST_HOOK";
/// The hook's scratch directory.
const DIR_VAR: &str = "RTMP_TEST_HOOK_DIR";

/// One hook test, by its full libtest name (`module::test_name`).
#[derive(Clone, Copy, Debug)]
pub struct Hook(pub &'static str);

impl Hook {
    /// The hook's scratch directory when this process was started to run this hook, else
    /// `None` (the hook then returns at once: it is being run as an ordinary ignored test).
    pub fn dir(&self) -> Option<PathBuf> {
        if std::env::var(HOOK_VAR).ok()? != self.0 {
            return None;
        }
        std::env::var_os(DIR_VAR).map(PathBuf::from)
    }

    /// This binary and the arguments that make it run exactly this hook, one thread, output
    /// not captured.
    pub fn argv(&self) -> Vec<OsString> {
        let exe = std::env::current_exe().expect("current_exe");
        let args = [
            self.0,
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ];
        std::iter::once(exe.into_os_string())
            .chain(args.iter().map(OsString::from))
            .collect()
    }

    /// The environment that tells the started binary to run this hook in `dir`.
    pub fn vars(&self, dir: &Path) -> [(&'static str, OsString); 2] {
        [(HOOK_VAR, self.0.into()), (DIR_VAR, dir.into())]
    }

    /// A command that runs this hook with `dir` as its scratch directory (stdin `/dev/null`).
    pub fn command(&self, dir: &Path) -> Command {
        let argv = self.argv();
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .envs(self.vars(dir))
            .stdin(Stdio::null());
        cmd
    }
}

/// Asserts that a hook process succeeded and that libtest ran exactly one test in it.
#[track_caller]
pub fn check_hook(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "hook failed or did not run: {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
