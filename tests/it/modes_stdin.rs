//! `--stdin` through the binary (issue 14, section 3; docs/behaviour.md C9.1; README "Scripts
//! without trap"): the file holds standard input before the command starts, the copy is
//! streamed, the command's standard input is what is left, `--anonymous --stdin` is rewound,
//! `-d --stdin` is a usage error, and a failed copy (a read error, a closed descriptor 0,
//! ENOSPC on a 1 MiB tmpfs) is one line, status 125, the path removed, the command not run; a
//! signal during the copy (a stalled pipe, Ctrl-C at a terminal) ends rtmp with it at once, the
//! path removed; a terminal is read up to Ctrl-D.
//!
//! Input that is not a pipe (a regular file, a directory, a closed descriptor) is given by a
//! `sh -c '... < FILE'` wrapper, since [`TestEnv::run_cmd`] sets standard input to /dev/null.

use std::fs;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{
    Pty, TestEnv, clean_command, isolate_fds, rtmp_bin, scratch_dir, wait_output,
};
use nix::libc;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const UNSHARE: &str = "/usr/bin/unshare";

/// A `sh -c SCRIPT sh RTMP ARGS...` command in `env`: the script runs rtmp as `"$1"`.
fn sh_with_rtmp(env: &TestEnv, script: &str, args: &[&str]) -> Command {
    let mut cmd = env.command("sh");
    cmd.args(["-c", script, "sh"]).arg(rtmp_bin()).args(args);
    cmd
}

#[test]
fn stdin_is_in_the_file_before_the_command_runs() {
    let env = TestEnv::new();
    let cmd = env.rtmp_cmd([
        "--stdin",
        "--suffix=.txt",
        "--exec",
        "sh",
        "-c",
        r#"case $1 in *.txt) ;; *) exit 9;; esac; test -f "$1" && cat "$1" && wc -c < "$1""#,
        "sh",
        "{}",
    ]);
    env.run_with_stdin(cmd, "hello\nworld\n")
        .success()
        .stdout("hello\nworld\n12\n")
        .stderr("")
        .nothing_left();
}

#[test]
fn empty_stdin_gives_an_empty_file() {
    let env = TestEnv::new();
    // /dev/null: end of file at once.
    env.run([
        "--stdin",
        "--exec",
        "sh",
        "-c",
        r#"test -f "$1" && wc -c < "$1""#,
        "sh",
    ])
    .success()
    .stdout("0\n")
    .nothing_left();
}

#[test]
fn the_commands_stdin_is_what_is_left_at_end_of_file() {
    let env = TestEnv::new();
    // From a pipe: the command's `cat` reads nothing more.
    let script = r#"printf 'rest:'; cat; printf '|file:'; cat "$1""#;
    let cmd = env.rtmp_cmd(["--stdin", "--exec", "sh", "-c", script, "sh"]);
    env.run_with_stdin(cmd, "abc")
        .success()
        .stdout("rest:|file:abc")
        .nothing_left();
    // From a regular file (copy_file_range moves the shared offset): the same.
    env.file("input", "from a file\n");
    let run = env.run_cmd(sh_with_rtmp(
        &env,
        r#""$1" --stdin --exec sh -c "$2" sh < input"#,
        &[script],
    ));
    run.success().stdout("rest:|file:from a file\n");
}

#[test]
fn a_large_input_is_streamed_without_memory_growth() {
    let env = TestEnv::new();
    // 64 MiB through a pipe. The command, rtmp's child, reads rtmp's peak resident set
    // (VmHWM of its parent) after the copy: far below the input's size.
    let script =
        r#"wc -c < "$1"; sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB$/\1/p' /proc/$PPID/status"#;
    let mut cmd = env.rtmp_cmd(["--stdin", "--exec", "sh", "-c", script, "sh"]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn rtmp");
    let mut input = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..64 {
            input.write_all(&chunk).expect("write input");
        }
    });
    let out = wait_output(child);
    writer.join().expect("writer");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("67108864"), "{text}");
    let hwm_kib: u64 = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in {text:?}"));
    assert!(hwm_kib < 16 * 1024, "rtmp's peak RSS {hwm_kib} KiB");
    assert_eq!(fs::read_dir(env.tmpdir()).expect("tmp").count(), 0);
}

#[test]
fn anonymous_stdin_is_filled_and_rewound_for_the_command() {
    let env = TestEnv::new();
    // `{}` is /dev/fd/N; reading the inherited descriptor N itself (not a fresh open of it)
    // shows the shared offset: 0, so the whole input.
    let script = r#"n=${1#/dev/fd/}; eval "cat <&$n"; printf '|'; cat "$1""#;
    let cmd = env.rtmp_cmd([
        "--anonymous",
        "--stdin",
        "--exec",
        "sh",
        "-c",
        script,
        "sh",
        "{}",
    ]);
    env.run_with_stdin(cmd, "unnamed")
        .success()
        .stdout("unnamed|unnamed")
        .stderr("")
        .nothing_left();
}

#[test]
fn directory_with_stdin_is_a_usage_error() {
    let env = TestEnv::new();
    let try_help = "Try 'rtmp --help' for more information.\n";
    env.run(["-d", "--stdin", "--exec", "touch", "ran"])
        .code(125)
        .stdout("")
        .stderr(&format!(
            "rtmp: --stdin cannot be combined with --directory\n{try_help}"
        ))
        .nothing_left();
    env.run(["--shell", "--stdin"])
        .code(125)
        .stderr(&format!(
            "rtmp: --stdin cannot be combined with --shell\n{try_help}"
        ))
        .nothing_left();
    // Without --exec: mktemp mode's usage status.
    env.run(["--stdin"])
        .code(1)
        .stderr(&format!(
            "rtmp: option '--stdin' requires --exec\n{try_help}"
        ))
        .nothing_left();
}

#[test]
fn a_read_error_is_one_line_125_and_nothing_left() {
    let env = TestEnv::new();
    env.mkdir("adir");
    // A directory as standard input: read(2) fails with EISDIR.
    let run = env.run_cmd(sh_with_rtmp(
        &env,
        r#""$1" --stdin --exec touch ran < adir"#,
        &[],
    ));
    run.code(125).stdout("");
    let err = run.stderr_str();
    assert!(
        err.starts_with("rtmp: cannot copy standard input to '")
            && err.ends_with(": Is a directory\n")
            && err.lines().count() == 1,
        "{}",
        run.context()
    );
    assert_eq!(run.after, ["adir/", "tmp/"], "{}", run.context());
    // A closed descriptor 0 is an error, not an empty input.
    let run = env.run_cmd(sh_with_rtmp(
        &env,
        r#""$1" --stdin --exec touch ran <&-"#,
        &[],
    ));
    run.code(125);
    assert!(
        run.stderr_str().ends_with(": Bad file descriptor\n"),
        "{}",
        run.context()
    );
    assert_eq!(run.after, ["adir/", "tmp/"], "{}", run.context());
}

#[test]
fn no_space_left_while_copying_removes_the_file_and_never_runs_the_command() {
    if !Path::new(UNSHARE).exists() {
        eprintln!("skipped: {UNSHARE} is missing");
        return;
    }
    let dir = scratch_dir(0o755);
    let mount = dir.path().join("small");
    fs::create_dir(&mount).expect("mkdir");
    // In a private mount namespace: a 1 MiB tmpfs, 2 MiB of input, then what is left there.
    let script = r#"mount -t tmpfs -o size=1m rtmp-modes "$1" || exit 200
head -c 2097152 /dev/zero | "$2" -p "$1" --stdin --exec sh -c 'echo ran'
echo "status=$?"
ls -A "$1""#;
    let mut cmd = clean_command(UNSHARE);
    cmd.args([
        "-m",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        script,
        "sh",
    ])
    .arg(&mount)
    .arg(rtmp_bin())
    .stdin(Stdio::null());
    let out = cmd.output().expect("run unshare");
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
    assert_eq!(stdout, "status=125\n", "stderr: {stderr}");
    assert!(
        stderr.starts_with("rtmp: cannot copy standard input to '")
            && stderr.ends_with(": No space left on device\n")
            && stderr.lines().count() == 1,
        "{stderr:?}"
    );
}

#[test]
fn a_signal_during_a_stalled_copy_ends_rtmp_with_it_and_nothing_is_left() {
    let env = TestEnv::new();
    // The writer stalls (the pipe stays open): rtmp is waiting for more input when it is told
    // to stop, and must not wait for the writer.
    let (child, input) =
        start_stalled_copy(&env, env.rtmp_cmd(["--stdin", "--exec", "touch", "ran"]));
    let tmp = env.tmpdir();
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    kill(pid, Signal::SIGTERM).expect("kill");
    let out = wait_output(child);
    drop(input);
    assert_eq!(out.status.signal(), Some(libc::SIGTERM), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    assert_eq!(fs::read_dir(&tmp).expect("tmp").count(), 0);
    assert!(!env.path("ran").exists(), "the command ran");
}

#[test]
fn a_terminal_is_read_up_to_ctrl_d() {
    let env = TestEnv::new();
    let cmd = env.rtmp_cmd([
        "--stdin",
        "--exec",
        "sh",
        "-c",
        r#"printf '[%s]' "$(cat "$1")""#,
        "sh",
    ]);
    let tmp = env.tmpdir();
    let mut pty = Pty::spawn(cmd);
    crate::support::wait_until("rtmp to create the file", || {
        fs::read_dir(&tmp).is_ok_and(|mut d| d.next().is_some())
    });
    pty.type_bytes(b"typed line\n");
    pty.wait_for("the echo of the line", |t| t.contains("typed line"));
    // Ctrl-D at the start of a line: end of input.
    pty.type_bytes(b"\x04");
    let (status, text) = pty.finish();
    assert!(status.success(), "{status}: {text:?}");
    assert!(text.contains("[typed line]"), "{text:?}");
    assert_eq!(fs::read_dir(&tmp).expect("tmp").count(), 0);
}

#[test]
fn ctrl_c_while_reading_a_terminal_removes_the_file() {
    let env = TestEnv::new();
    let cmd = env.rtmp_cmd(["--stdin", "--exec", "touch", "ran"]);
    let tmp = env.tmpdir();
    let mut pty = Pty::spawn(cmd);
    crate::support::wait_until("rtmp to create the file", || {
        fs::read_dir(&tmp).is_ok_and(|mut d| d.next().is_some())
    });
    pty.type_bytes(b"half a line");
    pty.wait_for("the echo", |t| t.contains("half a line"));
    pty.type_bytes(b"\x03");
    let (status, text) = pty.finish();
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status}: {text:?}");
    assert_eq!(fs::read_dir(&tmp).expect("tmp").count(), 0);
    assert!(!env.path("ran").exists(), "the command ran");
}

#[test]
fn kill_9_during_the_copy_leaves_nothing_behind() {
    let env = TestEnv::new();
    let mut cmd = env.rtmp_cmd(["--stdin", "--exec", "touch", "ran"]);
    isolate_fds(&mut cmd);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rtmp");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(b"partial").expect("write");
    let tmp = env.tmpdir();
    crate::support::wait_until("the file to exist", || {
        fs::read_dir(&tmp).is_ok_and(|mut d| d.next().is_some())
    });
    // The guardian (started before the copy) sees rtmp gone with no command started, and
    // removes the file.
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    crate::support::wait_until("the guardian to remove the file", || {
        fs::read_dir(&tmp).is_ok_and(|mut d| d.next().is_none())
    });
    drop(input);
    assert!(!env.path("ran").exists(), "the command ran");
}

/// A process re-parented to rtmp (a subreaper) while `--stdin` waits for its input is not the
/// command's: the caller's shell `exec`s into rtmp and leaves a job whose child is orphaned
/// during the copy. That child must neither be ended nor waited for when the command exits.
/// Found by a review of issue 16's early listing of rtmp's children (made while the guardian
/// creates the path, before the copy): the orphan was ended as a leftover. Each step waits for
/// a readiness file or the kernel's own state (the orphan's parent), not for a time.
#[test]
fn an_orphan_adopted_during_the_copy_is_not_the_commands() {
    let env = TestEnv::new();
    let aux = env.path("aux");
    fs::create_dir(&aux).expect("aux");
    // The job: waits for `go`, starts a `sleep` in the background, writes its pid and exits,
    // so that the `sleep` is orphaned and re-parented to rtmp.
    let script = r#"aux=$1; shift
(while [ ! -e "$aux/go" ]; do sleep 0.01; done; sleep 30 </dev/null >/dev/null 2>&1 & echo $! > "$aux/orph.tmp"; mv "$aux/orph.tmp" "$aux/orph") </dev/null >/dev/null 2>&1 &
exec "$@""#;
    let mut cmd = env.command("sh");
    cmd.args(["-c", script, "sh"])
        .arg(&aux)
        .arg(rtmp_bin())
        .args(["--stdin", "--exec", "sh", "-c", "cat >/dev/null"]);
    let (child, input) = start_stalled_copy(&env, cmd);
    let tmp = env.tmpdir();
    fs::write(aux.join("go"), b"").expect("go");
    crate::support::wait_until("the job to start its child", || aux.join("orph").exists());
    let orphan: i32 = fs::read_to_string(aux.join("orph"))
        .expect("orph")
        .trim()
        .parse()
        .expect("pid");
    let rtmp = i32::try_from(child.id()).expect("pid");
    let parent = || {
        fs::read_to_string(format!("/proc/{orphan}/stat"))
            .ok()
            .and_then(|s| {
                // The parent is the second field after the name (which may hold spaces).
                s.rsplit_once(')')?
                    .1
                    .split_whitespace()
                    .nth(1)?
                    .parse::<i32>()
                    .ok()
            })
    };
    crate::support::wait_until("the orphan to be re-parented to rtmp", || {
        parent() == Some(rtmp)
    });
    drop(input);
    let out = wait_output(child);
    let alive = parent() == Some(1) || Path::new(&format!("/proc/{orphan}")).exists();
    let state = fs::read_to_string(format!("/proc/{orphan}/stat")).unwrap_or_default();
    let _ = kill(Pid::from_raw(orphan), Signal::SIGKILL);
    assert!(out.status.success(), "{out:?}");
    assert!(
        alive && !state.contains(") Z"),
        "the orphan was ended as the command's leftover: {state:?}"
    );
    assert_eq!(fs::read_dir(&tmp).expect("tmp").count(), 0);
}

/// Spawns `cmd` (rtmp with `--stdin`, or a shell that `exec`s it) with its standard streams
/// piped, writes 7 bytes to its input and keeps the input open, and returns once the file in
/// `env`'s TMPDIR holds them: rtmp is then inside the copy, waiting for more.
fn start_stalled_copy(
    env: &TestEnv,
    mut cmd: Command,
) -> (std::process::Child, std::process::ChildStdin) {
    isolate_fds(&mut cmd);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rtmp");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(b"partial").expect("write");
    let tmp = env.tmpdir();
    crate::support::wait_until("the file to hold the first bytes", || {
        fs::read_dir(&tmp).is_ok_and(|d| {
            d.flatten()
                .any(|e| e.metadata().is_ok_and(|m| m.len() == 7))
        })
    });
    (child, input)
}
