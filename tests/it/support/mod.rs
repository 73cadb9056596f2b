//! What the integration tests share: the test environment (after fd's `testenv` and ripgrep's
//! `Dir` + `TestCommand`), the rtmp binary, scratch directories, and through the submodules the
//! waits ([`wait`]), processes and handshakes ([`process`]), pseudo-terminals ([`pty`]) and the
//! re-exec harness ([`hook`]). Everything is re-exported here: `use crate::support::{...}`,
//! except [`tree`] (a command's whole process tree, with a `Run` and a tolerant `send` of its
//! own), which is used as `crate::support::tree`.
//!
//! A [`TestEnv`] owns a scratch directory (on `/dev/shm` when it is writable) with an empty
//! `tmp/` inside it. Commands run in the scratch directory with a clean environment:
//! `PATH=/usr/bin:/bin`, `LC_ALL=C` and `TMPDIR=<scratch>/tmp`, nothing else, and no
//! descriptor above 2 of the test process (see [`isolate_fds`]). A [`Run`] keeps
//! the command line, the output and the scratch tree before and after the run, so that every
//! failed assertion shows all of it.
//!
//! Paths in listings and in `Run`'s messages are shown with [`escape`]: printable ASCII as is,
//! everything else as `\xNN`, so non-UTF-8 names can be matched with a regex too.

pub mod hook;
pub mod process;
pub mod pty;
pub mod shells;
pub mod tree;
pub mod wait;

pub use hook::*;
pub use process::*;
pub use pty::*;
pub use shells::*;
pub use wait::*;

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};

use predicates::Predicate;
use tempfile::TempDir;

/// One random character of a name, as a regex: rtmp draws them from `[A-Za-z0-9]`, as GNU
/// mktemp does (README "Differences from GNU and BSD mktemp": names as GNU).
pub const RND: &str = "[A-Za-z0-9]";

/// `n` random characters, as a regex.
pub fn rnd(n: usize) -> String {
    format!("{RND}{{{n}}}")
}

/// `text` as a regex that matches it literally.
pub fn lit(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

/// The path of the rtmp binary built for this test run.
pub fn rtmp_bin() -> &'static Path {
    assert_cmd::cargo::cargo_bin!("rtmp")
}

/// A word of a command line, for arrays of `&OsStr` that mix text and raw bytes.
pub fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// A new scratch directory with permission bits `mode`: on `/dev/shm` (tmpfs, fast, and free of
/// leftovers from other runs) when it is writable, else in the default temporary directory.
/// Removed when dropped. Every scratch directory of the tests comes from here.
pub fn scratch_dir(mode: u32) -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix("rtmp-test.")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::Builder::new().prefix("rtmp-test.").tempdir())
        .expect("cannot create a scratch directory");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(mode)).expect("chmod scratch");
    dir
}

/// A command for `program` with a clean environment (`PATH=/usr/bin:/bin`, `LC_ALL=C`, nothing
/// else) whose descriptors above 2 are not inherited (see [`isolate_fds`]).
pub fn clean_command(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C");
    isolate_fds(&mut cmd);
    cmd
}

/// GNU coreutils' mktemp, which the differential tests compare rtmp with.
pub const GNU_MKTEMP: &str = "/usr/bin/mktemp";

/// [`GNU_MKTEMP`] when [`have_gnu_mktemp`]; otherwise `None`, after printing `skipped: ...`
/// (the caller returns and passes).
pub fn gnu_mktemp() -> Option<&'static str> {
    if have_gnu_mktemp() {
        Some(GNU_MKTEMP)
    } else {
        eprintln!("skipped: {GNU_MKTEMP} is missing or is not GNU coreutils' mktemp");
        None
    }
}

/// The repository's root (where `Cargo.toml` is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The repository file `rel`, as text.
pub fn repo_file(rel: &str) -> String {
    fs::read_to_string(repo_root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every file under `dir`, recursively (symlinks not followed), in no particular order.
pub fn repo_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(entry.path());
            } else {
                out.push(entry.path());
            }
        }
    }
    out
}

/// rtmp's run `out` against GNU's run `g` of the same case: the same status, GNU's stderr with
/// the program name `gnu` replaced by `rtmp`, and stdout of the same shape (each line's last
/// run of letters and digits, the random part in these cases, is free).
#[track_caller]
pub fn same_shape(out: &Run, g: &Run, gnu: &str) {
    let context = || format!("rtmp:{}GNU:{}", out.context(), g.context());
    assert_eq!(
        out.status().code(),
        g.status().code(),
        "status as GNU\n{}",
        context()
    );
    assert_eq!(
        out.stderr_str(),
        g.stderr_str().replace(gnu, "rtmp"),
        "stderr as GNU\n{}",
        context()
    );
    let shape = |s: &str| -> String {
        s.lines()
            .map(|l| {
                let keep = l.trim_end_matches(|c: char| c.is_ascii_alphanumeric());
                format!("{keep}{}\n", "?".repeat(l.len() - keep.len()))
            })
            .collect()
    };
    assert_eq!(
        shape(&out.stdout_str()),
        shape(&g.stdout_str()),
        "stdout shape as GNU\n{}",
        context()
    );
}

/// Whether [`GNU_MKTEMP`] exists and is GNU coreutils' (not, say, BusyBox's or BSD's): the
/// differential tests print `skipped: ...` and pass otherwise.
pub fn have_gnu_mktemp() -> bool {
    Path::new(GNU_MKTEMP).exists()
        && Command::new(GNU_MKTEMP)
            .arg("--version")
            .env("LC_ALL", "C")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("GNU coreutils"))
}

/// Shows bytes for humans and regexes: printable ASCII as is (a backslash doubled), every other
/// byte as `\xNN`.
pub fn escape(bytes: &[u8]) -> String {
    escape_with(bytes, false)
}

fn escape_with(bytes: &[u8], keep_newlines: bool) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\n' if keep_newlines => s.push('\n'),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s
}

/// A scratch directory and the clean environment that commands run in.
pub struct TestEnv {
    dir: TempDir,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEnv {
    /// Creates a scratch directory (on `/dev/shm` when writable, else in the default temporary
    /// directory) containing an empty `tmp/`, which is `$TMPDIR` for the commands run here.
    pub fn new() -> Self {
        let dir = scratch_dir(0o700);
        fs::create_dir(dir.path().join("tmp")).expect("cannot create <scratch>/tmp");
        TestEnv { dir }
    }

    /// The scratch directory: the working directory of every command.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The scratch directory as a regex matching it literally (as [`escape`] shows it).
    pub fn root_re(&self) -> String {
        lit(&escape(self.root().as_os_str().as_bytes()))
    }

    /// `<scratch>/tmp`, the `$TMPDIR` of every command unless changed.
    pub fn tmpdir(&self) -> PathBuf {
        self.root().join("tmp")
    }

    /// `rel` inside the scratch directory (an absolute `rel` is returned as is).
    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root().join(rel)
    }

    /// Creates the directory `rel` (and its parents) in the scratch directory.
    pub fn mkdir(&self, rel: impl AsRef<Path>) -> &Self {
        fs::create_dir_all(self.path(rel)).expect("mkdir in scratch");
        self
    }

    /// Creates the regular file `rel` with `contents` in the scratch directory.
    pub fn file(&self, rel: impl AsRef<Path>, contents: &str) -> &Self {
        fs::write(self.path(rel), contents).expect("write file in scratch");
        self
    }

    /// A command for `program` with the clean environment, run in the scratch directory.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = clean_command(program);
        cmd.env("TMPDIR", self.tmpdir()).current_dir(self.root());
        cmd
    }

    /// An rtmp command with `args` and the clean environment.
    pub fn rtmp_cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(rtmp_bin());
        cmd.args(args);
        cmd
    }

    /// Runs rtmp with `args` and the clean environment.
    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run_cmd(self.rtmp_cmd(args))
    }

    /// Runs a prepared command (stdin is `/dev/null`; stdout and stderr are captured unless the
    /// command redirects them) and records the scratch tree before and after. `cmd` may be a
    /// `Command` or the `&mut Command` a builder chain (`.env(...)`) returns.
    pub fn run_cmd(&self, mut cmd: impl std::borrow::BorrowMut<Command>) -> Run {
        let cmd = cmd.borrow_mut();
        let before = self.listing();
        let output = cmd
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(cmd)));
        self.finish_run(describe(cmd), cmd, output, before)
    }

    /// Runs a prepared command with `input` on its stdin (a pipe, not a terminal), like
    /// [`TestEnv::run_cmd`] otherwise.
    pub fn run_with_stdin(&self, mut cmd: Command, input: &str) -> Run {
        let before = self.listing();
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(&cmd)));
        {
            let mut stdin = child.stdin.take().expect("stdin");
            // A shell may exit before reading everything; a broken pipe is not the test's concern.
            let _ = stdin.write_all(input.as_bytes());
        }
        let output = wait_output(child);
        self.finish_run(
            format!("{} <<< {input:?}", describe(&cmd)),
            &cmd,
            output,
            before,
        )
    }

    fn finish_run(
        &self,
        command: String,
        cmd: &Command,
        output: Output,
        before: Vec<String>,
    ) -> Run {
        Run {
            command,
            cwd: cmd.get_current_dir().map_or_else(
                || "(inherited)".into(),
                |d| escape(d.as_os_str().as_bytes()),
            ),
            output,
            before,
            after: self.listing(),
        }
    }

    /// The scratch tree: sorted relative paths, [`escape`]d, directories with a trailing `/`,
    /// symlinks as `name -> target`. Symlinks are never followed.
    pub fn listing(&self) -> Vec<String> {
        let mut entries = Vec::new();
        walk(self.root(), Path::new(""), &mut entries);
        entries.sort();
        entries.into_iter().map(|(_, shown)| shown).collect()
    }
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<(Vec<u8>, String)>) {
    let Ok(dir) = fs::read_dir(root.join(rel)) else {
        return;
    };
    for entry in dir.flatten() {
        let rel = rel.join(entry.file_name());
        let bytes = rel.as_os_str().as_bytes().to_vec();
        let Ok(meta) = fs::symlink_metadata(root.join(&rel)) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            let target = fs::read_link(root.join(&rel)).unwrap_or_default();
            let shown = format!(
                "{} -> {}",
                escape(&bytes),
                escape(target.as_os_str().as_bytes())
            );
            out.push((bytes, shown));
        } else if meta.is_dir() {
            out.push((bytes.clone(), format!("{}/", escape(&bytes))));
            walk(root, &rel, out);
        } else {
            out.push((bytes.clone(), escape(&bytes)));
        }
    }
}

/// The command line of `cmd`, each word [`escape`]d and single-quoted.
pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|w| format!("'{}'", escape(w.as_bytes())))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `text` matches the whole regex `pattern`.
pub fn full_match(pattern: &str, text: &str) -> bool {
    predicates::str::is_match(format!("^(?:{pattern})$"))
        .unwrap_or_else(|e| panic!("bad regex {pattern:?}: {e}"))
        .eval(text)
}

/// The result of one command, with everything needed to explain a failed assertion.
pub struct Run {
    /// The command line, [`escape`]d.
    pub command: String,
    /// The working directory, [`escape`]d.
    pub cwd: String,
    /// Exit status and captured output.
    pub output: Output,
    /// The scratch tree before the run (see [`TestEnv::listing`]).
    pub before: Vec<String>,
    /// The scratch tree after the run.
    pub after: Vec<String>,
}

impl Run {
    /// The command, cwd, status, stdout, stderr and the scratch tree after the run, for
    /// assertion messages (long listings are cut).
    pub fn context(&self) -> String {
        const SHOWN: usize = 50;
        let mut listing: Vec<&str> = self.after.iter().take(SHOWN).map(String::as_str).collect();
        let more;
        if self.after.len() > SHOWN {
            more = format!("... ({} entries in all)", self.after.len());
            listing.push(&more);
        }
        format!(
            "\n  command: {}\n  cwd:     {}\n  status:  {}\n  stdout:  \"{}\"\n  stderr:  \"{}\"\n  scratch: [{}]\n",
            self.command,
            self.cwd,
            self.output.status,
            escape(&self.output.stdout),
            escape(&self.output.stderr),
            listing.join(", ")
        )
    }

    /// The exit status.
    pub fn status(&self) -> ExitStatus {
        self.output.status
    }

    /// stdout as text (invalid UTF-8 shown as U+FFFD).
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// stderr as text (invalid UTF-8 shown as U+FFFD).
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.output.status.code(),
            Some(expected),
            "exit status{}",
            self.context()
        );
        self
    }

    /// Asserts exit code 0.
    #[track_caller]
    pub fn success(&self) -> &Self {
        self.code(0)
    }

    /// Asserts exit code 1 (every failure of mktemp mode).
    #[track_caller]
    pub fn failure(&self) -> &Self {
        self.code(1)
    }

    /// Asserts that stderr is exactly `expected`.
    #[track_caller]
    pub fn stderr(&self, expected: &str) -> &Self {
        assert_eq!(
            escape(&self.output.stderr),
            escape(expected.as_bytes()),
            "stderr{}",
            self.context()
        );
        self
    }

    /// Asserts that stdout is exactly `expected`.
    #[track_caller]
    pub fn stdout(&self, expected: &str) -> &Self {
        assert_eq!(
            escape(&self.output.stdout),
            escape(expected.as_bytes()),
            "stdout{}",
            self.context()
        );
        self
    }

    /// Asserts that the whole stdout, [`escape`]d, matches the regex `pattern` (use [`RND`] and
    /// [`rnd`] for random characters, `\n` for newlines, `\\xff` for a raw byte 0xff).
    #[track_caller]
    pub fn stdout_matches(&self, pattern: &str) -> &Self {
        let text = escape_with(&self.output.stdout, true);
        assert!(
            full_match(pattern, &text),
            "stdout does not match /{pattern}/{}",
            self.context()
        );
        self
    }

    /// The printed names: stdout split into lines, raw bytes.
    pub fn lines(&self) -> Vec<OsString> {
        let out = &self.output.stdout;
        let out = out.strip_suffix(b"\n").unwrap_or(out);
        if out.is_empty() {
            return Vec::new();
        }
        out.split(|&b| b == b'\n')
            .map(|l| OsStr::from_bytes(l).to_os_string())
            .collect()
    }

    /// The single printed name (asserting there is exactly one), raw bytes.
    #[track_caller]
    pub fn name(&self) -> OsString {
        let mut lines = self.lines();
        assert_eq!(
            lines.len(),
            1,
            "expected one name on stdout{}",
            self.context()
        );
        lines.remove(0)
    }

    /// Asserts that the scratch tree after the run is exactly `expected`: regexes, one per
    /// entry, in any order (random names sort anywhere); see [`TestEnv::listing`] for the form
    /// of entries.
    #[track_caller]
    pub fn tree(&self, expected: &[&str]) -> &Self {
        let mut unused: Vec<&String> = self.after.iter().collect();
        let ok = self.after.len() == expected.len()
            && expected.iter().all(|e| {
                unused
                    .iter()
                    .position(|a| full_match(e, a))
                    .map(|i| unused.remove(i))
                    .is_some()
            });
        assert!(
            ok,
            "scratch tree: expected {expected:?}, found {:?}{}",
            self.after,
            self.context()
        );
        self
    }

    /// Asserts that the run left the scratch tree as it found it.
    #[track_caller]
    pub fn nothing_left(&self) -> &Self {
        assert_eq!(
            self.after,
            self.before,
            "something was left behind{}",
            self.context()
        );
        self
    }
}
