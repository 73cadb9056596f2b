//! Terminal job control with rtmp in it, typed at an interactive shell on a pseudo-terminal
//! (issue 12: owning the command's process tree must not break any of it). rtmp stays in the
//! caller's process group, so the shell's job is rtmp *and* its command:
//!
//! * Ctrl-Z stops the job (rtmp too, so the shell sees it stopped), `bg` and `fg` continue
//!   it, Ctrl-C ends it, and rtmp ends as the command did (130);
//! * Ctrl-C in a shell `for` loop ends the loop (rtmp dies of SIGINT, which the shell sees);
//! * in a pipeline at the prompt the command reads the terminal (no SIGTTIN) and Ctrl-C reaches
//!   it, also with `less` at the end of the pipeline;
//! * `rtmp --shell` runs a job-control shell whose own jobs stop and continue as usual.
//!
//! The outer shell is bash (`--norc --noprofile -i`), the one most users type at; the tests
//! are skipped, with a message, without `/bin/bash`. The commands end in `exec sleep`: dash
//! `vfork`s a foreground command, and a terminal signal that arrives in that instant can be
//! lost by dash itself (seen as a rare Ctrl-C that did nothing), which is not rtmp's to test. The processes' states come from `/proc`;
//! every wait is on the terminal's output or a state, bounded by the support module's deadline.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{Pty, TestEnv, exists, holds_for, rtmp_bin, wait_until};

const BASH: &str = "/bin/bash";
/// The prompt of every shell here (no `$` or `#`, which command output could contain).
const PROMPT: &str = "@P@ ";

/// An interactive bash on a new pseudo-terminal, as session leader, with `$R` naming rtmp, and
/// its first prompt already shown. `None` (and a message) without bash.
fn bash(env: &TestEnv) -> Option<Pty> {
    if !Path::new(BASH).exists() {
        eprintln!("skipped: {BASH} is missing");
        return None;
    }
    let mut cmd = env.command(BASH);
    cmd.args(["--norc", "--noprofile", "-i"])
        .env("PS1", PROMPT)
        .env("SHELL", "/bin/sh")
        .env("TERM", "dumb")
        .env("R", rtmp_bin());
    let mut pty = Pty::spawn(cmd);
    pty.wait_for("the first prompt", |t| t.contains(PROMPT));
    Some(pty)
}

/// How many prompts the terminal has shown so far.
fn prompts(pty: &Pty) -> usize {
    pty.text().matches(PROMPT).count()
}

/// Waits until the terminal shows more than `before` prompts.
#[track_caller]
fn wait_prompt_after(pty: &mut Pty, before: usize, what: &str) -> String {
    pty.wait_for(what, |t| t.matches(PROMPT).count() > before)
}

/// The fields after the last `KEY=` in `text` whose first field is a number, up to a `|`, split
/// at `:` (typed command lines echo `KEY=$$...`, never digits, so only output matches).
fn numbers_after(text: &str, key: &str) -> Option<Vec<String>> {
    text.rmatch_indices(key).find_map(|(i, _)| {
        let rest = &text[i + key.len()..];
        let end = rest.find('|')?;
        let fields: Vec<String> = rest[..end].split(':').map(str::to_owned).collect();
        fields[0]
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then_some(fields)
    })
}

fn state_of(pid: &str) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let state = stat[stat.rfind(')')? + 1..].trim_start().chars().next()?;
    (state != 'Z').then_some(state)
}

/// Ctrl-Z, `bg`, `fg`, Ctrl-C on `rtmp -d --exec sh -c 'loop'`: each step acts on rtmp and on
/// its command, and at the end both are gone with the path, and `$?` is 130.
#[test]
fn ctrl_z_bg_fg_and_ctrl_c_act_on_rtmp_and_its_command() {
    let env = TestEnv::new();
    let Some(mut pty) = bash(&env) else {
        return;
    };
    pty.type_bytes(b"\"$R\" -d --exec sh -c 'echo \"PIDS=$$:$PPID:$1|\"; exec sleep 30' sh\n");
    let text = pty.wait_for("the command's pids", |t| {
        numbers_after(t, "PIDS=").is_some()
    });
    let ids = numbers_after(&text, "PIDS=").expect("pids");
    let (cmd, rtmp, path) = (ids[0].clone(), ids[1].clone(), PathBuf::from(&ids[2]));
    assert!(path.is_dir(), "{path:?}");

    owns_terminal(&rtmp);
    let before = prompts(&pty);
    pty.type_bytes(b"\x1a");
    wait_until("Ctrl-Z to stop rtmp and the command", || {
        state_of(&cmd) == Some('T') && state_of(&rtmp) == Some('T')
    });
    wait_prompt_after(&mut pty, before, "the prompt after Ctrl-Z");

    let before = prompts(&pty);
    pty.type_bytes(b"bg\n");
    wait_until("bg to continue rtmp and the command", || {
        !matches!(state_of(&cmd), Some('T') | None) && !matches!(state_of(&rtmp), Some('T') | None)
    });
    wait_prompt_after(&mut pty, before, "the prompt after bg");

    pty.type_bytes(b"fg\n");
    let before = prompts(&pty);
    // The shell gives the terminal to the job right after printing its line, then sends it
    // SIGCONT; a Ctrl-C before the first would reach the shell instead. Wait for both.
    owns_terminal(&rtmp);
    wait_until("fg to continue the job", || {
        !matches!(state_of(&cmd), Some('T') | None) && !matches!(state_of(&rtmp), Some('T') | None)
    });
    pty.type_bytes(b"\x03");
    wait_prompt_after(&mut pty, before, "the prompt after Ctrl-C");
    wait_until("rtmp and the command to end", || {
        state_of(&cmd).is_none() && state_of(&rtmp).is_none()
    });
    assert!(!exists(&path), "{path:?} left behind");

    pty.type_bytes(b"echo \"RC=$?|\"\n");
    let text = pty.wait_for("the status", |t| numbers_after(t, "RC=").is_some());
    assert_eq!(
        numbers_after(&text, "RC=").expect("rc")[0],
        "130",
        "{text:?}"
    );
    pty.type_bytes(b"exit\n");
    let _ = pty.finish();
    assert_eq!(
        env.listing(),
        ["tmp/"],
        "something left in the scratch tree"
    );
}

/// Waits until the process group of `pid` is the terminal's foreground group: a control
/// character typed before that would reach another group.
#[track_caller]
fn owns_terminal(pid: &str) {
    wait_until("the job to own the terminal", || {
        tpgid_of(pid).is_some_and(|(pgrp, tpgid)| pgrp == tpgid)
    });
}

/// (process group, terminal's foreground group) of `pid`, from `/proc/PID/stat`.
fn tpgid_of(pid: &str) -> Option<(i64, i64)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    Some((fields.get(2)?.parse().ok()?, fields.get(5)?.parse().ok()?))
}

/// Ctrl-C while the first rtmp of a `for` loop runs ends the whole loop: rtmp dies of SIGINT
/// after cleaning up, so the shell stops the loop as it would for the command itself.
#[test]
fn ctrl_c_in_a_for_loop_ends_the_loop() {
    let env = TestEnv::new();
    let Some(mut pty) = bash(&env) else {
        return;
    };
    let before = prompts(&pty);
    pty.type_bytes(
        b"for i in 1 2 3; do \"$R\" -d --exec sh -c 'echo \"LOOP=$0:$$:$1|\"; exec sleep 30' \"$i\"; done\n",
    );
    let text = pty.wait_for("the first round", |t| numbers_after(t, "LOOP=").is_some());
    let ids = numbers_after(&text, "LOOP=").expect("loop");
    assert_eq!(ids[0], "1");
    let path = PathBuf::from(&ids[2]);
    owns_terminal(&ids[1]);
    pty.type_bytes(b"\x03");
    wait_prompt_after(&mut pty, before, "the prompt after Ctrl-C");
    // The next round would start within milliseconds; half a second shows it did not.
    holds_for(Duration::from_millis(500), "no second round", || {
        numbers_after(&pty.text(), "LOOP=").is_some_and(|ids| ids[0] == "1")
    });
    assert!(!exists(&path), "{path:?} left behind");
    pty.type_bytes(b"exit\n");
    let _ = pty.finish();
    assert_eq!(
        env.listing(),
        ["tmp/"],
        "something left in the scratch tree"
    );
}

/// `rtmp -d --exec CMD | cat` at the prompt: CMD is in the foreground job, so it reads what is
/// typed (a command in another process group would be stopped by SIGTTIN), and both ends of
/// the pipeline exit 0.
#[test]
fn pipeline_at_the_prompt_reads_the_terminal() {
    let env = TestEnv::new();
    let Some(mut pty) = bash(&env) else {
        return;
    };
    pty.type_bytes(
        b"\"$R\" -d --exec sh -c 'echo \"PIPE=$$:$1|\"; read -r x; echo \"IN=[$x]\"' sh | cat; echo \"PS=${PIPESTATUS[0]}:${PIPESTATUS[1]}|\"\n",
    );
    let text = pty.wait_for("the command", |t| numbers_after(t, "PIPE=").is_some());
    let path = PathBuf::from(&numbers_after(&text, "PIPE=").expect("pipe")[1]);
    pty.type_bytes(b"typed\n");
    let text = pty.wait_for("the pipeline's status", |t| {
        numbers_after(t, "PS=").is_some()
    });
    assert!(text.contains("IN=[typed]"), "{text:?}");
    assert_eq!(
        numbers_after(&text, "PS=").expect("ps"),
        ["0", "0"],
        "{text:?}"
    );
    assert!(!exists(&path), "{path:?} left behind");
    pty.type_bytes(b"exit\n");
    let _ = pty.finish();
}

/// `rtmp -d --exec CMD | less` at the prompt: the output shows in `less`, Ctrl-C ends rtmp and
/// its command (not `less`, which stays until `q`), and rtmp's status is 130 (bash then drops
/// the rest of the line, as for any pipeline that died of SIGINT).
#[test]
fn pipeline_into_less_and_ctrl_c() {
    if !Path::new("/usr/bin/less").exists() {
        eprintln!("skipped: /usr/bin/less is missing");
        return;
    }
    let env = TestEnv::new();
    let Some(mut pty) = bash(&env) else {
        return;
    };
    pty.type_bytes(
        b"\"$R\" -d --exec sh -c 'echo \"LESS=$$:$1|\"; exec sleep 30' sh | TERM=vt100 less\n",
    );
    let text = pty.wait_for("the output in less", |t| {
        numbers_after(t, "LESS=").is_some()
    });
    let ids = numbers_after(&text, "LESS=").expect("less");
    let (cmd, path) = (ids[0].clone(), PathBuf::from(&ids[1]));
    owns_terminal(&cmd);
    pty.type_bytes(b"\x03");
    wait_until("Ctrl-C to end the command", || state_of(&cmd).is_none());
    wait_until("rtmp to remove the path", || !exists(&path));
    let before = prompts(&pty);
    pty.type_bytes(b"q");
    // bash drops the rest of the line after a pipeline that died of SIGINT: ask again.
    wait_prompt_after(&mut pty, before, "the prompt after less");
    pty.type_bytes(b"echo \"PS=${PIPESTATUS[0]}:${PIPESTATUS[1]}|\"\n");
    let text = pty.wait_for("the pipeline's status", |t| {
        numbers_after(t, "PS=").is_some()
    });
    assert_eq!(
        numbers_after(&text, "PS=").expect("ps"),
        ["130", "0"],
        "{text:?}"
    );
    pty.type_bytes(b"exit\n");
    let _ = pty.finish();
    assert_eq!(
        env.listing(),
        ["tmp/"],
        "something left in the scratch tree"
    );
}

/// `rtmp --shell` typed at bash: the inner shell (sh, job control on) runs a job, Ctrl-Z stops
/// it and gives the prompt back, `fg` and Ctrl-C end it, rtmp is still there, and `exit 3` ends
/// the inner shell and rtmp with 3 and removes the directory.
#[test]
fn shell_inside_a_shell_keeps_job_control() {
    let env = TestEnv::new();
    let Some(mut pty) = bash(&env) else {
        return;
    };
    pty.type_bytes(b"\"$R\" --shell\n");
    pty.wait_for("the notice", |t| {
        t.contains("is removed when this shell exits")
    });
    let before = prompts(&pty);
    pty.type_bytes(b"echo \"IN=$$:$PPID:$PWD|\"\n");
    let text = pty.wait_for("the inner shell", |t| numbers_after(t, "IN=").is_some());
    let ids = numbers_after(&text, "IN=").expect("inner");
    let (rtmp, dir) = (ids[1].clone(), PathBuf::from(&ids[2]));
    wait_prompt_after(&mut pty, before, "the inner prompt");

    // A job started in the foreground, not `&` then `fg`: `fg` gives the terminal to the job
    // and only then sends it SIGCONT, which would undo a Ctrl-Z typed in between.
    pty.type_bytes(b"sh -c 'echo \"JOB=$$|\"; exec sleep 30'\n");
    let text = pty.wait_for("the job", |t| numbers_after(t, "JOB=").is_some());
    let job = numbers_after(&text, "JOB=").expect("job")[0].clone();
    owns_terminal(&job);
    let before = prompts(&pty);
    pty.type_bytes(b"\x1a");
    wait_until("Ctrl-Z to stop the inner job", || {
        state_of(&job) == Some('T')
    });
    wait_prompt_after(&mut pty, before, "the inner prompt after Ctrl-Z");
    assert_ne!(
        state_of(&rtmp),
        Some('T'),
        "rtmp stopped with the inner job"
    );

    pty.type_bytes(b"fg\n");
    // `fg` gives the terminal first, then sends SIGCONT: wait for both.
    wait_until("fg to continue the inner job", || {
        state_of(&job).is_some_and(|s| s != 'T')
            && tpgid_of(&job).is_some_and(|(pgrp, tpgid)| pgrp == tpgid)
    });
    let before = prompts(&pty);
    pty.type_bytes(b"\x03");
    wait_until("Ctrl-C to end the inner job", || state_of(&job).is_none());
    wait_prompt_after(&mut pty, before, "the inner prompt after Ctrl-C");
    assert!(state_of(&rtmp).is_some(), "rtmp ended on the inner Ctrl-C");
    assert!(dir.is_dir(), "{dir:?} removed while the inner shell runs");

    pty.type_bytes(b"exit 3\n");
    wait_until("rtmp to end with the inner shell", || {
        state_of(&rtmp).is_none()
    });
    pty.type_bytes(b"echo \"RC=$?|\"\n");
    let text = pty.wait_for("the status", |t| numbers_after(t, "RC=").is_some());
    assert_eq!(numbers_after(&text, "RC=").expect("rc")[0], "3", "{text:?}");
    assert!(!exists(&dir), "{dir:?} left behind");
    pty.type_bytes(b"exit\n");
    let _ = pty.finish();
    assert_eq!(
        env.listing(),
        ["tmp/"],
        "something left in the scratch tree"
    );
}
