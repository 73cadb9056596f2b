//! `--cd` and `--shell`, through the real binary (README "Terminal use"): the child
//! runs in the new directory with an absolute path, `--shell` runs `$SHELL` (`/bin/sh` when
//! SHELL is unset or empty) there, says which directory goes only on a terminal, leaves rtmp
//! running on Ctrl-C at the prompt, and exits with the shell's status after removing it.
//!
//! Children report what they saw in files of an aux directory; the terminal tests wait on the
//! pseudo-terminal's output (see [`Pty::wait_for`]), never on fixed sleeps.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::{Pty, Run, TestEnv, aux_dir, exists, full_match, lit, log_lines, rnd};

const USAGE_HINT: &str = "Try 'rtmp --help' for more information.\n";

// ---------------------------------------------------------------- helpers

/// The scratch directory as the kernel reports it (`getcwd`, `pwd -P`), as a regex.
fn physical_root_re(env: &TestEnv) -> String {
    let root = fs::canonicalize(env.root()).expect("canonicalize scratch");
    lit(&root.to_string_lossy())
}

/// Asserts that a usage error was reported on stderr: `rtmp: ...` mentioning `option`, then
/// the `--help` hint.
#[track_caller]
fn assert_usage_error(run: &Run, option: &str) {
    let stderr = String::from_utf8_lossy(&run.output.stderr);
    assert!(
        stderr.starts_with("rtmp: ") && stderr.contains(option) && stderr.ends_with(USAGE_HINT),
        "expected a usage message about {option}{}",
        run.context()
    );
}

// ---------------------------------------------------------------- --cd

/// What the `--cd` child reports, one per line: `pwd -P`, `/proc/$$/cwd`, `$PWD`, `$#`, `$1`,
/// `RTMP_PATH`.
const CD_REPORT: &str = "{ pwd -P; readlink /proc/$$/cwd; printf '%s\\n' \"$PWD\" \"$#\" \"$1\" \"$RTMP_PATH\"; } > \"$AUX/out\"";

/// Runs `rtmp -d --cd ARGS... --exec sh -c CD_REPORT sh WORDS...` and returns the run and the
/// reported lines.
fn cd_run(env: &TestEnv, args: &[&str], words: &[&str]) -> (Run, Vec<String>, tempfile::TempDir) {
    let aux = aux_dir();
    let mut cmd = env.rtmp_cmd(["-d", "--cd"]);
    cmd.args(args)
        .args(["--exec", "sh", "-c", CD_REPORT, "sh"])
        .args(words)
        .env("AUX", aux.path());
    let run = env.run_cmd(cmd);
    let lines = log_lines(&aux.path().join("out"));
    (run, lines, aux)
}

#[test]
fn cd_runs_the_child_in_the_new_directory() {
    let env = TestEnv::new();
    let (run, lines, _aux) = cd_run(&env, &[], &["{}"]);
    run.success().stdout("").stderr("").nothing_left();
    assert_eq!(lines.len(), 6, "child report {lines:?}{}", run.context());
    let dir = &lines[0];
    let tmp = lit(&fs::canonicalize(env.tmpdir())
        .expect("tmp")
        .to_string_lossy());
    assert!(
        full_match(&format!("{tmp}/tmp\\.{}", rnd(10)), dir),
        "pwd -P {dir:?} is not a new directory in $TMPDIR{}",
        run.context()
    );
    assert_eq!(lines[1], *dir, "/proc/self/cwd{}", run.context());
    assert_eq!(lines[2], *dir, "$PWD{}", run.context());
    assert_eq!(lines[3], "1", "$#{}", run.context());
    assert_eq!(lines[4], *dir, "{{}}{}", run.context());
    assert_eq!(lines[5], *dir, "RTMP_PATH{}", run.context());
    assert!(!exists(Path::new(dir)), "{dir:?} left behind");
}

/// A template relative to the current directory: the child still gets an absolute path, equal
/// to its working directory.
#[test]
fn cd_with_a_relative_template_gives_an_absolute_path() {
    let env = TestEnv::new();
    let (run, lines, _aux) = cd_run(&env, &["work.XXXX"], &["{}"]);
    run.success().stdout("").stderr("").nothing_left();
    assert_eq!(lines.len(), 6, "child report {lines:?}{}", run.context());
    let dir = &lines[0];
    let pattern = format!("{}/work\\.{}", physical_root_re(&env), rnd(4));
    assert!(
        full_match(&pattern, dir),
        "pwd -P {dir:?} does not match /{pattern}/{}",
        run.context()
    );
    assert_eq!(lines[1], *dir, "/proc/self/cwd{}", run.context());
    assert_eq!(
        lines[4],
        *dir,
        "{{}} must be the absolute cwd{}",
        run.context()
    );
    assert_eq!(
        lines[5],
        *dir,
        "RTMP_PATH must be the absolute cwd{}",
        run.context()
    );
    assert!(!exists(Path::new(dir)), "{dir:?} left behind");
}

/// `-p .` (a relative location): `{}` and `RTMP_PATH` are the absolute working directory, with
/// no `.` step left in them.
#[test]
fn cd_with_a_relative_location_gives_the_absolute_cwd() {
    let env = TestEnv::new();
    let (run, lines, _aux) = cd_run(&env, &["-p", ".", "x.XXXX"], &["--dir={}"]);
    run.success().stdout("").stderr("").nothing_left();
    assert_eq!(lines.len(), 6, "child report {lines:?}{}", run.context());
    let dir = &lines[0];
    let pattern = format!("{}/x\\.{}", physical_root_re(&env), rnd(4));
    assert!(
        full_match(&pattern, dir),
        "pwd -P {dir:?} does not match /{pattern}/{}",
        run.context()
    );
    assert_eq!(lines[4], format!("--dir={dir}"), "{{}}{}", run.context());
    assert_eq!(lines[5], *dir, "RTMP_PATH{}", run.context());
    assert!(!exists(Path::new(dir)), "{dir:?} left behind");
}

/// Without `{}` the path is not appended under `--cd`: the child gets no argument.
#[test]
fn cd_does_not_append_the_path() {
    let env = TestEnv::new();
    let (run, lines, _aux) = cd_run(&env, &["work.XXXX"], &[]);
    run.success().stdout("").stderr("").nothing_left();
    assert_eq!(lines.len(), 6, "child report {lines:?}{}", run.context());
    assert_eq!(lines[3], "0", "$# must be 0{}", run.context());
    assert_eq!(lines[4], "", "$1 must be unset{}", run.context());
    assert_eq!(lines[5], lines[0], "RTMP_PATH{}", run.context());
    assert!(!exists(Path::new(&lines[0])), "{:?} left behind", lines[0]);
}

#[test]
fn cd_without_directory_is_a_usage_error_125() {
    let env = TestEnv::new();
    let run = env.run(["--cd", "work.XXXX", "--exec", "touch", "ran"]);
    run.code(125).stdout("").nothing_left();
    assert_usage_error(&run, "--cd");
    assert!(
        !exists(&env.path("ran")),
        "the command ran{}",
        run.context()
    );
}

#[test]
fn cd_without_exec_is_a_usage_error() {
    let env = TestEnv::new();
    let run = env.run(["-d", "--cd", "work.XXXX"]);
    run.failure().stdout("").nothing_left();
    assert_usage_error(&run, "--cd");
    let run = env.run(["-d", "--cd"]);
    run.failure().stdout("").nothing_left();
    assert_usage_error(&run, "--cd");
}

// ---------------------------------------------------------------- --shell, stdin not a terminal

/// The shell script fed on stdin: reports `$PWD`, `$0`, the shell's executable, `pwd -P` and
/// `RTMP_PATH`, then exits 3.
const SHELL_SCRIPT: &str = "{ printf '%s\\n' \"$PWD\" \"$0\"; readlink /proc/$$/exe; pwd -P; printf '%s\\n' \"$RTMP_PATH\"; } > \"$OUT\"; exit 3\n";

/// Runs `rtmp --shell ARGS...` with SHELL set as given (None: unset) and [`SHELL_SCRIPT`] on
/// stdin; checks the status 3, empty stdout and stderr, nothing left; returns the report.
#[track_caller]
fn shell_run(env: &TestEnv, shell: Option<&str>, args: &[&str]) -> Vec<String> {
    let aux = aux_dir();
    let out = aux.path().join("out");
    let mut cmd = env.rtmp_cmd(["--shell"]);
    cmd.args(args).env("OUT", &out);
    if let Some(shell) = shell {
        cmd.env("SHELL", shell);
    }
    let run = env.run_with_stdin(cmd, SHELL_SCRIPT);
    run.code(3).stdout("").stderr("").nothing_left();
    let lines = log_lines(&out);
    assert_eq!(lines.len(), 5, "shell report {lines:?}{}", run.context());
    let dir = &lines[0];
    assert!(
        Path::new(dir).is_absolute(),
        "$PWD {dir:?} is not absolute{}",
        run.context()
    );
    assert_eq!(lines[3], *dir, "pwd -P{}", run.context());
    assert_eq!(lines[4], *dir, "RTMP_PATH{}", run.context());
    assert!(
        !exists(Path::new(dir)),
        "{dir:?} left behind{}",
        run.context()
    );
    lines
}

/// Asserts that the report's shell executable is `expected` (symlinks resolved).
#[track_caller]
fn assert_shell_is(lines: &[String], expected: &str) {
    let want = fs::canonicalize(expected).expect("canonicalize shell");
    assert_eq!(
        PathBuf::from(&lines[2]),
        want,
        "the shell run was {:?} ($0 = {:?}), expected {expected}",
        lines[2],
        lines[1]
    );
}

#[test]
fn shell_runs_shell_in_a_new_directory_and_exits_with_its_status() {
    let env = TestEnv::new();
    let lines = shell_run(&env, Some("/bin/sh"), &[]);
    let tmp = lit(&fs::canonicalize(env.tmpdir())
        .expect("tmp")
        .to_string_lossy());
    assert!(
        full_match(&format!("{tmp}/tmp\\.{}", rnd(10)), &lines[0]),
        "$PWD {:?} is not a new directory in $TMPDIR",
        lines[0]
    );
    assert_eq!(lines[1], "/bin/sh", "$0");
    assert_shell_is(&lines, "/bin/sh");
}

#[test]
fn shell_without_shell_variable_runs_bin_sh() {
    let env = TestEnv::new();
    let lines = shell_run(&env, None, &[]);
    assert_eq!(lines[1], "/bin/sh", "$0");
    assert_shell_is(&lines, "/bin/sh");
}

#[test]
fn shell_with_empty_shell_variable_runs_bin_sh() {
    let env = TestEnv::new();
    let lines = shell_run(&env, Some(""), &[]);
    assert_eq!(lines[1], "/bin/sh", "$0");
    assert_shell_is(&lines, "/bin/sh");
}

#[test]
fn shell_runs_bash_from_shell_variable() {
    if !Path::new("/bin/bash").exists() {
        eprintln!("skipped: /bin/bash is missing");
        return;
    }
    let env = TestEnv::new();
    let lines = shell_run(&env, Some("/bin/bash"), &[]);
    assert_shell_is(&lines, "/bin/bash");
}

#[test]
fn shell_takes_template_and_location() {
    let env = TestEnv::new();
    env.mkdir("scratch");
    let scratch = env.path("scratch");
    let scratch = scratch.to_str().expect("utf-8 scratch path");
    let lines = shell_run(&env, Some("/bin/sh"), &["-p", scratch, "work.XXXX"]);
    let pattern = format!("{}/scratch/work\\.{}", physical_root_re(&env), rnd(4));
    assert!(
        full_match(&pattern, &lines[0]),
        "$PWD {:?} does not match /{pattern}/",
        lines[0]
    );
}

#[test]
fn shell_with_exec_is_a_usage_error_125() {
    let env = TestEnv::new();
    let mut cmd = env.rtmp_cmd(["--shell", "--exec", "touch", "ran"]);
    cmd.env("SHELL", "/bin/sh");
    let run = env.run_with_stdin(cmd, "touch ran-shell\n");
    run.code(125).stdout("").nothing_left();
    assert_usage_error(&run, "--shell");
}

// ---------------------------------------------------------------- --shell on a terminal

const PROMPT: &str = "rtmp-test$ ";

/// The text between `open` and the next `close` after the last `open` in `text` (the typed
/// command's echo contains `open` followed by something else, so callers pick markers that
/// only the output contains).
fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.rfind(open)? + open.len();
    let len = text[start..].find(close)?;
    Some(&text[start..start + len])
}

#[test]
fn shell_on_a_terminal_announces_survives_ctrl_c_and_exits_with_the_shell() {
    let env = TestEnv::new();
    let mut cmd = env.rtmp_cmd(["--shell"]);
    cmd.env("SHELL", "/bin/sh").env("PS1", PROMPT);
    let mut pty = Pty::spawn(cmd);
    let rtmp_pid = pty.child.id();

    // The notice, once, on the terminal, then the prompt.
    let text = pty.wait_for("the notice", |t| {
        t.contains("is removed when this shell exits")
    });
    let notice = text
        .lines()
        .find(|l| l.contains("is removed when this shell exits"))
        .expect("notice line")
        .trim_end_matches('\r')
        .to_owned();
    let tmp = lit(&fs::canonicalize(env.tmpdir())
        .expect("tmp")
        .to_string_lossy());
    let pattern = format!(
        "rtmp: '({tmp}/tmp\\.{})' is removed when this shell exits",
        rnd(10)
    );
    assert!(
        full_match(&pattern, &notice),
        "notice {notice:?} does not match /{pattern}/"
    );
    let dir = notice
        .strip_prefix("rtmp: '")
        .and_then(|n| n.strip_suffix("' is removed when this shell exits"))
        .expect("path in notice")
        .to_owned();
    assert!(Path::new(&dir).is_dir(), "{dir:?} does not exist");
    pty.wait_for("the first prompt", |t| t.contains(PROMPT));

    // The shell works in the directory; it is in the terminal's foreground group.
    pty.type_bytes(b"cd \"$RTMP_PATH\" && echo \"PWD$((1))=[$(pwd)]\"; read -r _ _ _ _ g _ _ f _ < /proc/$$/stat; echo \"FG$((1))=[$g:$f]\"\n");
    let text = pty.wait_for("pwd", |t| {
        between(t, "PWD1=[", "]").is_some() && between(t, "FG1=[", "]").is_some()
    });
    let pwd = between(&text, "PWD1=[", "]").expect("pwd");
    assert_eq!(pwd, dir, "cd \"$RTMP_PATH\" && pwd; terminal: {text:?}");
    let fg = between(&text, "FG1=[", "]").expect("fg");
    let (pgrp, tpgid) = fg.split_once(':').expect("pgrp:tpgid");
    assert_eq!(
        pgrp, tpgid,
        "the shell is not in the terminal's foreground group; terminal: {text:?}"
    );

    // Ctrl-C at the prompt: the prompt comes back, rtmp and the shell keep running.
    let prompts = pty
        .wait_for("the prompt after pwd", |t| {
            t.rfind(PROMPT)
                .is_some_and(|p| p > t.rfind("FG1=[").unwrap_or(0))
        })
        .matches(PROMPT)
        .count();
    pty.type_bytes(b"\x03");
    pty.wait_for("the prompt after Ctrl-C", |t| {
        t.matches(PROMPT).count() > prompts
    });
    pty.type_bytes(b"echo ALIVE$((2+3))\n");
    pty.wait_for("the shell to answer after Ctrl-C", |t| t.contains("ALIVE5"));
    assert!(
        matches!(pty.child.try_wait(), Ok(None)),
        "rtmp (pid {rtmp_pid}) ended on Ctrl-C at the prompt; terminal: {:?}",
        pty.text()
    );
    assert!(Path::new(&dir).is_dir(), "{dir:?} removed on Ctrl-C");

    // `exit 4` ends the shell and rtmp with status 4 and removes the directory.
    pty.type_bytes(b"exit 4\n");
    let (status, text) = pty.finish();
    assert_eq!(
        status.code(),
        Some(4),
        "status {status:?}; terminal: {text:?}"
    );
    assert!(!exists(Path::new(&dir)), "{dir:?} left behind");
    assert_eq!(
        text.matches("is removed when this shell exits").count(),
        1,
        "the notice must appear once; terminal: {text:?}"
    );
    assert_eq!(
        env.listing(),
        ["tmp/"],
        "something left in the scratch tree"
    );
}
