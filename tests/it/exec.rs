//! `--exec` mode through the real binary (README "Use in scripts", "Exit status"): exit
//! statuses, how the path reaches the child, `--keep-on-failure`, and the state the child starts
//! in (descriptors, signal mask and dispositions). Signals are in `exec_signals`, cleanup safety
//! in `exec_cleanup`, `--cd`/`--shell` in `terminal`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Command;

use crate::support::{
    Run, TestEnv, escape, exists, full_match, isolate_fds, lit, rnd, sig_bit, sig_masks,
    spawn_piped, wait_output,
};
use nix::libc;

/// The regex of the default path: `<scratch>/tmp/tmp.XXXXXXXXXX`.
fn default_path_re(env: &TestEnv) -> String {
    format!("{}/tmp/tmp\\.{}", env.root_re(), rnd(10))
}

fn stdout_text(run: &Run) -> String {
    String::from_utf8(run.output.stdout.clone()).expect("utf-8 stdout")
}

// ---------------------------------------------------------------- exit statuses

#[test]
fn child_success_gives_0_and_the_path_existed_meanwhile() {
    let env = TestEnv::new();
    // The path is appended as $1; `test -f` fails unless it existed while the child ran.
    env.run([
        "--exec",
        "sh",
        "-c",
        "test -f \"$1\" && test -f \"$RTMP_PATH\"",
        "sh",
    ])
    .success()
    .stdout("")
    .stderr("")
    .nothing_left();
}

#[test]
fn directory_exists_while_the_child_runs() {
    let env = TestEnv::new();
    env.run(["-d", "--exec", "sh", "-c", "test -d \"$1\"", "sh"])
        .success()
        .stderr("")
        .nothing_left();
}

#[test]
fn child_exit_status_is_rtmps() {
    let env = TestEnv::new();
    env.run(["--exec", "sh", "-c", "exit 7"])
        .code(7)
        .stdout("")
        .stderr("")
        .nothing_left();
    env.run(["-d", "--exec", "sh", "-c", "exit 255"])
        .code(255)
        .nothing_left();
    env.run(["--exec", "false"]).code(1).nothing_left();
}

#[test]
fn bad_template_is_125_and_the_command_never_runs() {
    let env = TestEnv::new();
    // `touch ran` would leave `ran` in the scratch directory (the working directory).
    let run = env.run(["fooXX", "--exec", "touch", "ran"]);
    run.code(125).stdout("").nothing_left();
    assert!(
        String::from_utf8_lossy(&run.output.stderr).contains("too few X's in template 'fooXX'"),
        "stderr{}",
        run.context()
    );
}

#[test]
fn usage_errors_with_exec_are_125_and_run_nothing() {
    let env = TestEnv::new();
    let cases: &[&[&str]] = &[
        &["-u", "--exec", "touch", "ran"],
        &["a.XXX", "b.XXX", "--exec", "touch", "ran"],
        &["--exec"],
        &["aXXX", "--exec"],
        &["--export-tmpdir", "--exec", "touch", "ran"],
        &["--no-such-option", "--exec", "touch", "ran"],
    ];
    for args in cases {
        let run = env.run(*args);
        run.code(125).stdout("").nothing_left();
        let err = String::from_utf8_lossy(&run.output.stderr).into_owned();
        assert!(
            err.starts_with("rtmp: ") && err.ends_with("Try 'rtmp --help' for more information.\n"),
            "usage message{}",
            run.context()
        );
    }
}

#[test]
fn creation_failure_is_125() {
    let env = TestEnv::new();
    env.run(["-p", "/nonexistent", "--exec", "touch", "ran"])
        .code(125)
        .stdout("")
        .stderr(
            "rtmp: failed to create file via template '/nonexistent/tmp.XXXXXXXXXX': \
             No such file or directory\n",
        )
        .nothing_left();
    env.run(["-d", "-p", "/nonexistent", "--exec", "touch", "ran"])
        .code(125)
        .stderr(
            "rtmp: failed to create directory via template '/nonexistent/tmp.XXXXXXXXXX': \
             No such file or directory\n",
        )
        .nothing_left();
}

#[test]
fn command_not_found_is_127() {
    let env = TestEnv::new();
    env.run(["--exec", "no-such-cmd"])
        .code(127)
        .stdout("")
        .stderr("rtmp: 'no-such-cmd': No such file or directory\n")
        .nothing_left();
    env.run(["-d", "--exec", "./no/such/cmd", "arg"])
        .code(127)
        .stderr("rtmp: './no/such/cmd': No such file or directory\n")
        .nothing_left();
}

#[test]
fn directory_as_command_is_126() {
    let env = TestEnv::new();
    env.mkdir("adir");
    env.run(["--exec", "./adir"])
        .code(126)
        .stdout("")
        .stderr("rtmp: './adir': Permission denied\n")
        .nothing_left();
}

#[test]
fn non_executable_file_as_command_is_126() {
    let env = TestEnv::new();
    env.file("script", "#!/bin/sh\ntouch ran\n");
    fs::set_permissions(env.path("script"), fs::Permissions::from_mode(0o644)).expect("chmod");
    env.run(["-d", "--exec", "./script"])
        .code(126)
        .stdout("")
        .stderr("rtmp: './script': Permission denied\n")
        .nothing_left();
}

// ---------------------------------------------------------------- path delivery

#[test]
fn placeholder_is_replaced_inside_words_and_several_times() {
    let env = TestEnv::new();
    let run = env.run([
        "--exec",
        "sh",
        "-c",
        "printf '%s\\n' \"$@\" \"$RTMP_PATH\"",
        "sh",
        "--out={}",
        "{}/{}",
        "x{}y{}z",
        "plain",
    ]);
    run.success().stderr("").nothing_left();
    let p = default_path_re(&env);
    run.stdout_matches(&format!("--out=({p})\n{p}/{p}\nx{p}y{p}z\nplain\n{p}\n"));
    // All occurrences are the same path.
    let lines: Vec<String> = stdout_text(&run).lines().map(str::to_owned).collect();
    let path = lines[4].clone();
    assert_eq!(lines[0], format!("--out={path}"));
    assert_eq!(lines[1], format!("{path}/{path}"));
    assert_eq!(lines[2], format!("x{path}y{path}z"));
}

#[test]
fn placeholder_in_the_command_name_is_replaced() {
    let env = TestEnv::new();
    // `{}` as the program name is the new file itself: it exists (so not 127) but is empty and
    // not executable (126). Unsubstituted, `{}` would not be found (127).
    env.run(["--exec", "{}"]).code(126).nothing_left();
}

#[test]
fn path_is_appended_when_no_word_holds_a_placeholder() {
    let env = TestEnv::new();
    let run = env.run([
        "--exec",
        "sh",
        "-c",
        "printf '%s|' \"$#\" \"$1\" \"$2\" \"$RTMP_PATH\"",
        "sh",
        "first",
    ]);
    run.success().stderr("").nothing_left();
    let p = default_path_re(&env);
    run.stdout_matches(&format!("2\\|first\\|({p})\\|{p}\\|"));
    let parts: Vec<String> = stdout_text(&run).split('|').map(str::to_owned).collect();
    assert_eq!(parts[2], parts[3], "appended path differs from RTMP_PATH");
}

#[test]
fn rtmp_path_is_set_without_placeholder_use() {
    let env = TestEnv::new();
    let run = env.run([
        "-d",
        "--exec",
        "sh",
        "-c",
        "printf '%s' \"$RTMP_PATH\"",
        "{}",
    ]);
    run.success().nothing_left();
    run.stdout_matches(&default_path_re(&env));
}

#[test]
fn relative_template_gives_a_relative_path() {
    let env = TestEnv::new();
    let run = env.run([
        "relXXXXXX",
        "--exec",
        "sh",
        "-c",
        "test -f \"$1\" && test -f \"$RTMP_PATH\" && printf '%s %s' \"$1\" \"$RTMP_PATH\"",
        "sh",
        "{}",
    ]);
    run.success().stderr("").nothing_left();
    run.stdout_matches(&format!("(rel{0}) rel{0}", rnd(6)));
}

#[test]
fn relative_template_with_a_directory_part() {
    let env = TestEnv::new();
    env.mkdir("sub");
    let run = env.run([
        "-d",
        "sub/dXXX",
        "--exec",
        "sh",
        "-c",
        "test -d \"$1\" && printf '%s' \"$1\"",
        "sh",
    ]);
    run.success().stderr("");
    run.stdout_matches(&format!("sub/d{}", rnd(3)));
    run.tree(&["tmp/", "sub/"]);
}

#[test]
fn export_tmpdir_sets_tmpdir_to_the_directory() {
    let env = TestEnv::new();
    let run = env.run([
        "-d",
        "--export-tmpdir",
        "--exec",
        "sh",
        "-c",
        "test -d \"$TMPDIR\" && printf '%s\\n' \"$TMPDIR\" \"$1\" && mktemp && mktemp -d",
        "sh",
        "{}",
    ]);
    run.success().stderr("").nothing_left();
    let lines: Vec<String> = stdout_text(&run).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 4, "{}", run.context());
    assert_eq!(
        lines[0],
        lines[1],
        "TMPDIR is not the path{}",
        run.context()
    );
    assert!(full_match(
        &default_path_re(&env),
        &escape(lines[0].as_bytes())
    ));
    // Temporary files the child made landed inside and went with it.
    for made in &lines[2..] {
        assert!(
            made.starts_with(&format!("{}/", lines[0])),
            "{}",
            run.context()
        );
        assert!(!exists(made.as_ref()));
    }
}

#[test]
fn without_export_tmpdir_the_callers_tmpdir_stays() {
    let env = TestEnv::new();
    let run = env.run(["-d", "--exec", "sh", "-c", "printf '%s' \"$TMPDIR\"", "sh"]);
    run.success()
        .stdout(&env.tmpdir().to_string_lossy())
        .nothing_left();
}

#[test]
fn rtmp_writes_nothing_to_stdout_and_the_childs_passes_through() {
    let env = TestEnv::new();
    env.run(["--exec", "true"]).success().stdout("").stderr("");
    env.run(["-d", "--exec", "sh", "-c", "echo hello; echo oops >&2"])
        .success()
        .stdout("hello\n")
        .stderr("oops\n")
        .nothing_left();
}

#[test]
fn leading_double_dash_after_exec_is_dropped() {
    let env = TestEnv::new();
    let run = env.run([
        "--exec",
        "--",
        "sh",
        "-c",
        "printf '%s\\n' \"$@\"",
        "sh",
        "--",
        "{}",
    ]);
    run.success().stderr("").nothing_left();
    // The second `--` belongs to the command and is kept.
    run.stdout_matches(&format!("--\n{}\n", default_path_re(&env)));
}

#[test]
fn options_after_exec_belong_to_the_command() {
    let env = TestEnv::new();
    let run = env.run([
        "--exec",
        "sh",
        "-c",
        "printf '%s ' \"$@\"",
        "sh",
        "-d",
        "-u",
        "{}",
    ]);
    run.success().stderr("").nothing_left();
    // -d was not taken by rtmp: the path is a file.
    run.stdout_matches(&format!("-d -u {} ", default_path_re(&env)));
}

#[test]
fn template_suffix_and_p_work_with_exec() {
    let env = TestEnv::new();
    env.mkdir("loc");
    let run = env.run([
        "-p",
        "loc",
        "--suffix=.txt",
        "fXXXX",
        "--exec",
        "sh",
        "-c",
        "test -f \"$1\" && printf '%s' \"$1\"",
        "sh",
    ]);
    run.success().stderr("");
    run.stdout_matches(&format!("loc/f{}{}", rnd(4), lit(".txt")));
    run.tree(&["tmp/", "loc/"]);
}

// ---------------------------------------------------------------- --keep-on-failure

#[test]
fn keep_on_failure_keeps_the_path_when_the_child_fails() {
    let env = TestEnv::new();
    let run = env.run(["--keep-on-failure", "--exec", "sh", "-c", "exit 3"]);
    run.code(3).stdout("");
    let err = String::from_utf8(run.output.stderr.clone()).expect("utf-8");
    let p = default_path_re(&env);
    assert!(
        full_match(
            &format!("rtmp: kept '{p}'"),
            &escape(err.trim_end_matches('\n').as_bytes())
        ),
        "stderr{}",
        run.context()
    );
    let kept = err
        .strip_prefix("rtmp: kept '")
        .and_then(|s| s.strip_suffix("'\n"))
        .expect("kept path");
    assert!(fs::metadata(kept).expect("kept path exists").is_file());
    run.tree(&["tmp/", &format!("tmp/tmp\\.{}", rnd(10))]);
}

#[test]
fn keep_on_failure_keeps_a_directory_when_the_child_dies_of_a_signal() {
    let env = TestEnv::new();
    let run = env.run([
        "-d",
        "--keep-on-failure",
        "--exec",
        "sh",
        "-c",
        "touch \"$1/inside\"; kill -TERM $$",
        "sh",
    ]);
    assert_eq!(
        run.status().signal(),
        Some(libc::SIGTERM),
        "{}",
        run.context()
    );
    let p = format!("tmp/tmp\\.{}", rnd(10));
    run.tree(&["tmp/", &format!("{p}/"), &format!("{p}/inside")]);
    assert!(String::from_utf8_lossy(&run.output.stderr).starts_with("rtmp: kept '"));
}

#[test]
fn keep_on_failure_removes_the_path_when_the_child_succeeds() {
    let env = TestEnv::new();
    env.run([
        "-d",
        "--keep-on-failure",
        "--exec",
        "sh",
        "-c",
        "touch \"$1/x\"",
        "sh",
    ])
    .success()
    .stderr("")
    .nothing_left();
}

// ---------------------------------------------------------------- the child's state

#[test]
fn child_inherits_no_descriptor() {
    let env = TestEnv::new();
    for kind in [&[][..], &["-d"][..]] {
        let mut cmd = env.rtmp_cmd(kind);
        // `ls` lists its own descriptors: 0, 1, 2 and the one it reads the listing with.
        cmd.args(["--exec", "sh", "-c", "exec ls -1 /proc/self/fd", "{}"]);
        isolate_fds(&mut cmd);
        env.run_cmd(cmd)
            .success()
            .stdout("0\n1\n2\n3\n")
            .stderr("")
            .nothing_left();
    }
}

/// How the process that starts `grep` (directly or through rtmp) is set up.
#[derive(Clone, Copy)]
enum Caller {
    /// Every signal at its default action and an empty mask. (The test process itself may
    /// have been started with glibc's internal signal 32 ignored, and `posix_spawn` may add 33;
    /// this starts from a clean slate instead, so any ignored signal is rtmp's doing.)
    Clean,
    /// Clean, then SIGUSR2 ignored and SIGWINCH blocked.
    Odd,
}

/// `(SigBlk, SigIgn)` of a `grep` run by `cmd` (directly or as rtmp's child).
fn child_masks(env: &TestEnv, mut cmd: Command, caller: Caller) -> (u64, u64) {
    let odd = matches!(caller, Caller::Odd);
    // SAFETY: sigaction and sigprocmask on local data are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            // The raw syscall: glibc's sigaction refuses its internal signals 32 and 33, and
            // the test process may have been started with 32 ignored. An all-zero kernel
            // `struct sigaction` is SIG_DFL with no flags and an empty mask.
            let dfl = [0u64; 4];
            for sig in 1..=64 {
                // SIGKILL and SIGSTOP refuse; they are never ignored anyway.
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    sig,
                    dfl.as_ptr(),
                    std::ptr::null_mut::<u64>(),
                    8usize,
                );
            }
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            if odd {
                let mut ign: libc::sigaction = std::mem::zeroed();
                ign.sa_sigaction = libc::SIG_IGN;
                if libc::sigaction(libc::SIGUSR2, &ign, std::ptr::null_mut()) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::sigaddset(&mut set, libc::SIGWINCH);
            }
            if libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let run = env.run_cmd(cmd);
    run.success().stderr("").nothing_left();
    sig_masks(&String::from_utf8_lossy(&run.output.stdout))
}

const GREP_MASKS: [&str; 4] = ["grep", "-h", "^Sig", "/proc/self/status"];

fn rtmp_grep(env: &TestEnv) -> Command {
    let mut cmd = env.rtmp_cmd(["--exec", "sh", "-c", "exec \"$@\"", "{}"]);
    cmd.args(GREP_MASKS);
    cmd
}

#[test]
fn child_gets_the_callers_mask_and_ignored_signals() {
    let env = TestEnv::new();
    let mut direct = env.command(GREP_MASKS[0]);
    direct.args(&GREP_MASKS[1..]);
    let caller = child_masks(&env, direct, Caller::Odd);
    assert_ne!(
        caller.0 & sig_bit(libc::SIGWINCH),
        0,
        "test setup: WINCH not blocked"
    );
    assert_ne!(
        caller.1 & sig_bit(libc::SIGUSR2),
        0,
        "test setup: USR2 not ignored"
    );
    let child = child_masks(&env, rtmp_grep(&env), Caller::Odd);
    assert_eq!(
        child, caller,
        "child's (SigBlk, SigIgn) {child:x?} differ from the caller's {caller:x?}"
    );
}

#[test]
fn child_gets_nothing_ignored_or_blocked_when_the_caller_has_none() {
    let env = TestEnv::new();
    let (blk, ign) = child_masks(&env, rtmp_grep(&env), Caller::Clean);
    assert_eq!(
        ign,
        0,
        "rtmp leaked ignored signals (SIGPIPE is bit {:x})",
        sig_bit(13)
    );
    assert_eq!(blk, 0, "rtmp leaked blocked signals");
}

#[test]
fn child_gets_default_sigpipe_so_a_broken_pipe_kills_it() {
    let env = TestEnv::new();
    // `yes` dies of SIGPIPE when `head` is gone; with SIGPIPE ignored it would report EPIPE.
    let run = env.run(["--exec", "sh", "-c", "yes | head -n 1 >/dev/null; exit 0"]);
    run.success().stderr("").nothing_left();
}

/// Regression: a caller that blocks SIGCHLD (found by a black-box test run) left rtmp waiting
/// forever for a wake-up, with the child a zombie and the path behind. rtmp must unblock it for
/// itself, finish, and still give the child the caller's mask.
#[test]
fn rtmp_finishes_when_the_caller_blocked_sigchld() {
    let env = TestEnv::new();
    let mut cmd = env.rtmp_cmd(["-d", "--exec", "grep", "-h", "^Sig", "/proc/self/status"]);
    // SAFETY: sigprocmask on local data is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGCHLD);
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // A hang (the bug) fails the test after the deadline instead of hanging the suite.
    let out = wait_output(spawn_piped(cmd));
    // grep gets the path appended too (a directory): status 2, but rtmp finished and cleaned up.
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let (blocked, _) = sig_masks(&String::from_utf8_lossy(&out.stdout));
    assert_ne!(
        blocked & sig_bit(libc::SIGCHLD),
        0,
        "child lost the caller's mask"
    );
    assert_eq!(
        fs::read_dir(env.tmpdir()).expect("ls").count(),
        0,
        "path left behind"
    );
}
