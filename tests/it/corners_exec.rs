//! Issue 13, items 1-7: the `--exec` corners a script meets (docs/design/corners.md has the
//! plan and the decisions). One test (or a few) per item, black-box through the built binary,
//! each named after its case; the tests written before the fix failed against the binary of
//! that day. Items 8-19 (GNU mode, completions, the repository) are in a module of their own.
//!
//! Decisions the issue left open are written in the doc comment of the test that pins them.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::support::{Pty, Run, TestEnv, full_match, lit, rnd, rtmp_bin};

const USAGE_HINT: &str = "Try 'rtmp --help' for more information.\n";

/// `<scratch>/tmp/tmp.XXXXXXXXXX` as a regex.
fn default_path_re(env: &TestEnv) -> String {
    format!("{}/tmp/tmp\\.{}", env.root_re(), rnd(10))
}

/// stdout as text (the tests' paths are ASCII; anything else shows as U+FFFD and fails).
fn stdout(run: &Run) -> String {
    String::from_utf8_lossy(&run.output.stdout).into_owned()
}

/// stderr as text, as [`stdout`].
fn stderr(run: &Run) -> String {
    String::from_utf8_lossy(&run.output.stderr).into_owned()
}

/// A file of the repository, as text.
fn repo_file(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ================================================================== item 1

/// Item 1: with `--export-tmpdir` nothing is appended (as with `--cd`): `make check` must not
/// become `make check /tmp/tmp.X`. `{}` and `RTMP_PATH` still hold the path.
#[test]
fn export_tmpdir_appends_nothing() {
    let env = TestEnv::new();
    let run = env.run([
        "-d",
        "--export-tmpdir",
        "--exec",
        "sh",
        "-c",
        r#"printf '%s\n' "$#""#,
        "sh",
    ]);
    run.success().stdout("0\n").nothing_left();

    // The placeholder and RTMP_PATH are unchanged.
    let run = env.run([
        "-d",
        "--export-tmpdir",
        "--exec",
        "sh",
        "-c",
        r#"printf '%s|%s|%s\n' "$#" "$1" "$RTMP_PATH""#,
        "sh",
        "{}",
    ]);
    run.success().nothing_left();
    let out = stdout(&run);
    let fields: Vec<&str> = out.trim_end().split('|').collect();
    assert_eq!(fields.len(), 3, "{}", run.context());
    assert_eq!(fields[0], "1", "only {{}} is passed{}", run.context());
    assert!(
        full_match(&default_path_re(&env), fields[1]),
        "{{}} is the path{}",
        run.context()
    );
    assert_eq!(
        fields[1],
        fields[2],
        "RTMP_PATH is the path{}",
        run.context()
    );
}

/// Item 1: `--export-tmpdir` also sets `TMP`, `TEMP` and `TEMPDIR` (read by some tools instead
/// of `TMPDIR`), all to the same path as `TMPDIR` and `RTMP_PATH`.
#[test]
fn export_tmpdir_sets_tmp_temp_tempdir() {
    let env = TestEnv::new();
    let mut cmd = env.rtmp_cmd([
        "-d",
        "--export-tmpdir",
        "--exec",
        "sh",
        "-c",
        r#"printf '%s\n' "$RTMP_PATH" "$TMPDIR" "${TMP-unset}" "${TEMP-unset}" "${TEMPDIR-unset}""#,
        "sh",
    ]);
    cmd.env("TMP", "/nonexistent-tmp")
        .env("TEMP", "/nonexistent-temp");
    let run = env.run_cmd(cmd);
    run.success().nothing_left();
    let out = stdout(&run);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{}", run.context());
    for (var, value) in ["TMPDIR", "TMP", "TEMP", "TEMPDIR"].iter().zip(&lines[1..]) {
        assert_eq!(
            *value,
            lines[0],
            "{var} is not the new directory{}",
            run.context()
        );
    }
}

/// Item 1: `--shell` exports the directory too (as `--export-tmpdir`): fish wrote
/// `$TMPDIR/fish.root` outside the throwaway directory, and it stayed. The shell here reads
/// its commands from stdin (not a terminal).
#[test]
fn shell_exports_tmpdir() {
    let env = TestEnv::new();
    let mut cmd = env.rtmp_cmd(["--shell"]);
    cmd.env("SHELL", "/bin/sh");
    let run = env.run_with_stdin(
        cmd,
        "printf '%s\\n' \"$PWD\" \"$TMPDIR\" \"${TMP-unset}\" \"${TEMP-unset}\" \"${TEMPDIR-unset}\"\n",
    );
    run.success().nothing_left();
    let out = stdout(&run);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{}", run.context());
    for (var, value) in ["TMPDIR", "TMP", "TEMP", "TEMPDIR"].iter().zip(&lines[1..]) {
        assert_eq!(
            *value,
            lines[0],
            "{var} is not the shell's directory{}",
            run.context()
        );
    }
}

// ================================================================== item 2

/// Item 2: fd's escapes. `{{` is a literal `{`, `}}` a literal `}`, so awk programs, JSON and
/// `find -exec ... {} \;` can be written: `{{}}` is a literal `{}`. Escapes are not
/// placeholders: a line with only escapes still gets the path appended.
#[test]
fn placeholder_escapes_double_braces() {
    let env = TestEnv::new();
    let name = default_path_re(&env);
    let run = env.run([
        "--exec",
        "printf",
        "%s|",
        "BEGIN{{}}{{print}}",
        "{}",
        "{{}}",
        "a}}b{{c",
    ]);
    run.success().nothing_left();
    run.stdout_matches(&format!(
        "{}{name}{}",
        lit("BEGIN{}{print}|"),
        lit("|{}|a}b{c|")
    ));

    // An escape is not a placeholder: the path is appended.
    let run = env.run(["--exec", "printf", "%s|", "{{}}"]);
    run.success().nothing_left();
    run.stdout_matches(&format!("{}{name}\\|", lit("{}|")));
}

/// Item 2: the placeholder can be chosen. Decision: `-I STR` and `--placeholder=STR` (also
/// `--placeholder STR`), after `xargs -I` and `parallel -I` (fd has no such option). With a
/// chosen placeholder, `{}` is an ordinary word and there are no escapes: `STR` is matched
/// literally, inside words as `{}` is.
#[test]
fn placeholder_option_changes_the_token() {
    let env = TestEnv::new();
    let name = default_path_re(&env);
    for option in [
        &["-I", "@@"][..],
        &["--placeholder=@@"],
        &["--placeholder", "@@"],
        &["-I@@"],
    ] {
        let mut args: Vec<&str> = option.to_vec();
        args.extend(["--exec", "printf", "%s|", "@@", "{}", "x{{y", "a@@b"]);
        let run = env.run(&args);
        run.success().nothing_left();
        let out = stdout(&run);
        let fields: Vec<&str> = out.split('|').collect();
        assert_eq!(fields.len(), 5, "{option:?}{}", run.context());
        assert!(
            full_match(&name, fields[0]),
            "{option:?}: STR is the path{}",
            run.context()
        );
        assert_eq!(
            fields[1..],
            ["{}", "x{{y", &format!("a{}b", fields[0]), ""],
            "{option:?}{}",
            run.context()
        );
    }
}

/// Item 2: substitution can be turned off. Decision: `--no-placeholder`; every word is passed
/// as typed, and, as when no word holds the placeholder, the path is appended (unless `--cd`
/// or `--export-tmpdir`); `RTMP_PATH` holds it as always.
#[test]
fn no_placeholder_turns_substitution_off() {
    let env = TestEnv::new();
    let run = env.run([
        "--no-placeholder",
        "--exec",
        "printf",
        "%s|",
        "{}",
        "BEGIN{}{print}",
        "{{}}",
    ]);
    run.success().nothing_left();
    run.stdout_matches(&format!(
        "{}{}\\|",
        lit("{}|BEGIN{}{print}|{{}}|"),
        default_path_re(&env)
    ));

    // With --export-tmpdir nothing is appended; RTMP_PATH still holds the path.
    let run = env.run([
        "-d",
        "--no-placeholder",
        "--export-tmpdir",
        "--exec",
        "sh",
        "-c",
        r#"printf '%s|%s' "$#" "$RTMP_PATH""#,
        "sh",
        "{}",
    ]);
    run.success().nothing_left();
    run.stdout_matches(&format!("1\\|{}", default_path_re(&env)));
}

/// Item 2: the placeholder options are getopt options: the last of `-I` and
/// `--no-placeholder` wins (as the last of `-p`/`--tmpdir` does), an empty STR is a usage
/// error (exec mode: 125, nothing runs), and without `--exec` they are usage errors with
/// status 1, as every option that needs `--exec`.
#[test]
fn placeholder_options_last_wins_and_usage_errors() {
    let env = TestEnv::new();
    let name = default_path_re(&env);
    let run = env.run([
        "-I",
        "@@",
        "--no-placeholder",
        "--exec",
        "printf",
        "%s|",
        "@@",
    ]);
    run.success().nothing_left();
    run.stdout_matches(&format!("@@\\|{name}\\|"));
    let run = env.run([
        "--no-placeholder",
        "-I",
        "@@",
        "--exec",
        "printf",
        "%s|",
        "@@",
    ]);
    run.success().nothing_left();
    run.stdout_matches(&format!("{name}\\|"));

    for args in [
        &["-I", "", "--exec", "touch", "ran"][..],
        &["--placeholder=", "--exec", "touch", "ran"],
    ] {
        env.run(args)
            .code(125)
            .stdout("")
            .stderr(&format!(
                "rtmp: the placeholder must not be empty\n{USAGE_HINT}"
            ))
            .nothing_left();
    }
    for (args, option) in [
        (&["-I", "@@"][..], "-I"),
        (&["--placeholder=@@"], "--placeholder"),
        (&["--no-placeholder"], "--no-placeholder"),
        (&["--keep"], "--keep"),
    ] {
        env.run(args)
            .failure()
            .stdout("")
            .stderr(&format!(
                "rtmp: option '{option}' requires --exec\n{USAGE_HINT}"
            ))
            .nothing_left();
    }
}

/// Item 2: a TMPDIR with a space and `$(...)` must never be re-parsed. Through the safe form
/// `sh -c '... "$1"' sh {}` the path arrives whole and nothing runs; the docs (README, man
/// page, `--help`) show only that form and say why `sh -c '... {} ...'` is unsafe.
#[test]
fn docs_use_the_safe_sh_c_form_and_say_why() {
    let env = TestEnv::new();
    let odd = env.path("a b$(touch INJECTED)");
    fs::create_dir(&odd).expect("mkdir odd TMPDIR");
    let mut cmd = env.rtmp_cmd(["-d", "--exec", "sh", "-c", r#"cd "$1" && pwd"#, "sh", "{}"]);
    cmd.env("TMPDIR", &odd);
    let run = env.run_cmd(cmd);
    run.success();
    assert!(!env.path("INJECTED").exists(), "{}", run.context());

    let readme = repo_file("README.md");
    // The man page as text: roff's minus, quote and font escapes undone.
    let mut man = repo_file("man/rtmp.1");
    for (roff, text) in [
        ("\\-", "-"),
        ("\\*(Aq", "'"),
        ("\\(aq", "'"),
        ("\\fB", ""),
        ("\\fI", ""),
        ("\\fR", ""),
        ("\\fP", ""),
    ] {
        man = man.replace(roff, text);
    }
    let help = stdout(&env.run(["--help"]));
    for (doc, text) in [
        ("README.md", &readme),
        ("man/rtmp.1", &man),
        ("--help", &help),
    ] {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        // The warning itself quotes the unsafe form; any other `{}` inside a `sh -c` script is
        // an unsafe example.
        let examples = flat.replace("sh -c '... {} ...'", "");
        assert!(
            !full_match(r"(?s:.*sh -c '[^']*\{\}.*)", &examples),
            "{doc} has an unsafe sh -c example"
        );
        assert!(
            flat.contains(r#""$1"' sh {}"#),
            "{doc} has no example of the safe form sh -c '... \"$1\"' sh {{}}"
        );
        assert!(
            flat.contains("sh -c '... {} ...'") && flat.contains("unsafe"),
            "{doc} does not say why sh -c '... {{}} ...' is unsafe"
        );
    }
}

/// Item 2: every `sh -c` example of the README's "Use in scripts" section, run as written with a
/// TMPDIR holding a space, a quote and `$(touch INJECTED)`: the path reaches the script whole
/// and nothing in it runs as code.
#[test]
fn safe_form_survives_a_hostile_tmpdir() {
    let env = TestEnv::new();
    let odd = env.path("x y'$(touch INJECTED)`touch INJECTED2`");
    fs::create_dir(&odd).expect("mkdir odd TMPDIR");
    for (args, check) in [
        (
            &[
                "-d",
                "--exec",
                "sh",
                "-c",
                r#"test -d "$1" && printf '%s' "$1""#,
                "sh",
                "{}",
            ][..],
            "dir",
        ),
        (
            &[
                "--exec",
                "sh",
                "-c",
                r#"echo hi > "$1" && cat "$1" >/dev/null && printf '%s' "$1""#,
                "sh",
                "{}",
            ],
            "file",
        ),
    ] {
        let mut cmd = env.rtmp_cmd(args);
        cmd.env("TMPDIR", &odd);
        let run = env.run_cmd(cmd);
        run.success().stderr("");
        let shown = stdout(&run);
        assert!(
            shown.starts_with(&format!("{}/tmp.", odd.display())),
            "{check}: the path arrived whole{}",
            run.context()
        );
        for marker in ["INJECTED", "INJECTED2"] {
            assert!(
                !env.path(marker).exists(),
                "{check}: {marker}{}",
                run.context()
            );
        }
    }
}

// ================================================================== item 3

/// Item 3: `--exec=CMD ARG...` is `--exec CMD ARG...`: `hiXXX` is the command's argument, not
/// rtmp's template (rtmp used to create `hiXXX` in the cwd and run `echo` with it). An empty
/// CMD (`--exec=`) is the empty word, not found, as GNU `env ''` says (127).
#[test]
fn exec_equals_cmd_takes_the_rest_of_the_line() {
    let env = TestEnv::new();
    let name = default_path_re(&env);
    for spelling in ["--exec=echo", "--exe=echo"] {
        let run = env.run([spelling, "hiXXX", "-d"]);
        run.success().nothing_left();
        run.stdout_matches(&format!("hiXXX -d {name}\n"));
    }
    // `--exec=--`: CMD is `--` (the value is taken whole), not the end of options.
    env.run(["--exec=--", "x"])
        .code(127)
        .stderr("rtmp: '--': No such file or directory\n")
        .nothing_left();
    env.run(["--exec="])
        .code(127)
        .stderr("rtmp: '': No such file or directory\n")
        .nothing_left();
}

// ================================================================== item 4

/// Item 4: `kept PATH` is one line and names the real path. Decision: every path or command
/// name in an exec-mode message is quoted as mktemp mode quotes templates (gnulib `quote()`,
/// C locale: always in `'...'`, `\n` and `\377` escaped), as GNU `env` does for a command it
/// cannot run. So a plain path prints as `rtmp: kept './dirAb3'` too.
#[test]
fn kept_message_quotes_a_newline_path() {
    let env = TestEnv::new();
    let run = env.run([
        "-d",
        "--keep-on-failure",
        "-p",
        ".",
        "a\nbXXX",
        "--exec",
        "false",
    ]);
    run.code(1);
    let err = stderr(&run);
    assert!(
        full_match(&format!("rtmp: kept '\\./a\\\\nb{}'\n", rnd(3)), &err),
        "{}",
        run.context()
    );
    let kept = err
        .trim_end()
        .strip_prefix("rtmp: kept './")
        .and_then(|r| r.strip_suffix('\''))
        .expect("kept line")
        .replace("\\n", "\n");
    assert!(
        env.path(&kept).is_dir(),
        "the printed path exists{}",
        run.context()
    );

    // A byte that is not UTF-8 is escaped in octal, never shown as U+FFFD.
    let mut cmd = env.rtmp_cmd(["-d", "--keep-on-failure", "-p", "."]);
    cmd.arg(OsStr::from_bytes(b"c\xffXXX"))
        .args(["--exec", "false"]);
    let run = env.run_cmd(cmd);
    run.code(1);
    assert!(
        full_match(
            &format!("rtmp: kept '\\./c\\\\377({})'\n", rnd(3)),
            &stderr(&run)
        ),
        "bytes are escaped, never U+FFFD{}",
        run.context()
    );
    let random = &stderr(&run)["rtmp: kept './c\\377".len()..][..3];
    let mut name = b"c\xff".to_vec();
    name.extend_from_slice(random.as_bytes());
    assert!(
        env.path(OsStr::from_bytes(&name)).is_dir(),
        "the printed path exists{}",
        run.context()
    );
}

/// Item 4: a command that cannot be found is named as GNU `env` names it
/// (`env: 'no\nsuch': No such file or directory`, status 127).
#[test]
fn command_not_found_message_quotes_the_name() {
    let env = TestEnv::new();
    env.run(["--exec", "no\nsuch"])
        .code(127)
        .stderr("rtmp: 'no\\nsuch': No such file or directory\n")
        .nothing_left();
    let mut cmd = env.rtmp_cmd(["--exec"]);
    cmd.arg(OsStr::from_bytes(b"./no\xffsuch"));
    env.run_cmd(cmd)
        .code(127)
        .stderr("rtmp: './no\\377such': No such file or directory\n")
        .nothing_left();
}

// ================================================================== item 5

/// Item 5: nothing is kept when the command removed the path, so nothing is said.
#[test]
fn kept_is_not_printed_when_the_command_removed_the_path() {
    let env = TestEnv::new();
    for keep in ["--keep-on-failure", "--keep"] {
        let run = env.run([
            "-d",
            keep,
            "-p",
            ".",
            "cXXX",
            "--exec",
            "sh",
            "-c",
            r#"rmdir "$1"; exit 3"#,
            "sh",
            "{}",
        ]);
        run.code(3).stderr("").nothing_left();
    }
}

/// Item 5: an anonymous file has no name, so it cannot be kept. Decision: `--keep-on-failure`
/// and `--keep` with `--anonymous` are usage errors (status 125, exec mode), worded like the
/// other combination errors; the command does not run. (`RTMP_KEEP=1` with `--anonymous` is
/// ignored, silently: an environment setting must not break a valid command line.)
#[test]
fn anonymous_with_keep_on_failure_is_a_usage_error() {
    let env = TestEnv::new();
    for option in ["--keep-on-failure", "--keep"] {
        env.run(["--anonymous", option, "--exec", "touch", "ran"])
            .code(125)
            .stdout("")
            .stderr(&format!(
                "rtmp: {option} cannot be combined with --anonymous\n{USAGE_HINT}"
            ))
            .nothing_left();
    }
    let mut cmd = env.rtmp_cmd(["--anonymous", "--exec", "sh", "-c", "exit 2"]);
    cmd.env("RTMP_KEEP", "1");
    env.run_cmd(cmd).code(2).stderr("").nothing_left();
}

/// Item 5: `--shell --keep-on-failure` on a terminal must not announce that the directory "is
/// removed". Decision: the announcement says `rtmp: 'DIR' is removed when this shell exits
/// with status 0, kept otherwise` (and with `--keep`: `rtmp: 'DIR' is kept when this shell
/// exits`); after a failing shell rtmp prints `rtmp: kept 'DIR'`. SHELL is /bin/false here, a
/// "shell" that exits 1 at once.
#[test]
fn shell_with_keep_on_failure_says_it_keeps_on_failure() {
    for (option, announced) in [
        (
            "--keep-on-failure",
            "' is removed when this shell exits with status 0, kept otherwise",
        ),
        ("--keep", "' is kept when this shell exits"),
    ] {
        let env = TestEnv::new();
        let mut cmd = env.rtmp_cmd(["--shell", option]);
        cmd.env("SHELL", "/bin/false");
        let (status, text) = Pty::spawn(cmd).finish();
        assert_eq!(status.code(), Some(1), "{option}: terminal: {text:?}");
        let dir = default_path_re(&env);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines.len(), 3, "{option}: two lines: {text:?}");
        let shown = lines[0]
            .strip_prefix("rtmp: '")
            .and_then(|l| l.strip_suffix(announced))
            .unwrap_or_else(|| panic!("{option}: announcement: {text:?}"));
        assert!(full_match(&dir, shown), "{option}: /{dir}/ {text:?}");
        assert_eq!(
            lines[1],
            format!("rtmp: kept '{shown}'"),
            "{option}: {text:?}"
        );
        assert!(Path::new(shown).is_dir(), "{option}: the directory is kept");
    }
}

// ================================================================== item 6

/// Item 6: with descriptors 0-2 closed, the anonymous file must not become descriptor 0, 1
/// or 2 (the command's stderr would go into its data file): it is always 3 or more.
#[test]
fn anonymous_fd_is_at_least_3_with_std_fds_closed() {
    let env = TestEnv::new();
    let report = env.path("fd.txt");
    let mut cmd = env.command("/bin/bash");
    cmd.arg("-c")
        .arg(r#"exec 0<&- 1>&- 2>&- "$@""#)
        .arg("bash")
        .arg(rtmp_bin())
        .args([
            "--anonymous",
            "--exec",
            "sh",
            "-c",
            r#"printf '%s' "$1" > "$2""#,
            "sh",
            "{}",
        ])
        .arg(&report);
    let run = env.run_cmd(cmd);
    run.success();
    let shown = fs::read_to_string(&report).expect("the command wrote its {}");
    let fd: u32 = shown
        .strip_prefix("/dev/fd/")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not /dev/fd/N: {shown:?}"));
    assert!(fd >= 3, "the anonymous file is descriptor {fd}");
}

// ================================================================== item 7

/// Item 7: `--keep` keeps the path whatever the command does, and says so on stderr
/// (`rtmp: kept 'PATH'`); the status is the command's. `--keep` is an option of its own now,
/// no longer a prefix of `--keep-on-failure`, so `--kee` is ambiguous.
#[test]
fn keep_keeps_and_says_so() {
    let env = TestEnv::new();
    for (cmd, code) in [("true", 0), ("false", 1)] {
        let run = env.run(["-d", "-p", ".", "kXXX", "--keep", "--exec", cmd]);
        run.code(code);
        let err = stderr(&run);
        assert!(
            full_match(&format!("rtmp: kept '\\./k{}'\n", rnd(3)), &err),
            "{cmd}{}",
            run.context()
        );
        let name = &err["rtmp: kept './".len()..][..4];
        assert!(env.path(name).is_dir(), "{cmd}: kept{}", run.context());
        fs::remove_dir(env.path(name)).expect("clean up");
    }
    env.run(["--kee", "--exec", "true"])
        .code(125)
        .stderr(&format!(
            "rtmp: option '--kee' is ambiguous; possibilities: '--keep-on-failure' '--keep'\n\
             {USAGE_HINT}"
        ))
        .nothing_left();
}

/// `--keep-on-failure` keeps the path when the command cannot be run at all (127, 126) as it
/// does when the command runs and fails; a black-box tester found it removed there while
/// `--keep` kept it.
#[test]
fn keep_on_failure_keeps_when_the_command_cannot_run() {
    let env = TestEnv::new();
    env.mkdir("notexec");
    for (cmd, code) in [("rtmp-no-such-command", 127), ("./notexec", 126)] {
        let run = env.run(["-d", "-p", ".", "kXXX", "--keep-on-failure", "--exec", cmd]);
        run.code(code);
        let err = stderr(&run);
        let kept = err
            .lines()
            .find_map(|l| l.strip_prefix("rtmp: kept './"))
            .unwrap_or_else(|| panic!("{cmd}: not kept{}", run.context()));
        let name = kept.trim_end_matches('\'');
        assert!(env.path(name).is_dir(), "{cmd}: kept{}", run.context());
        fs::remove_dir(env.path(name)).expect("clean up");
    }
}

/// Item 7: `RTMP_KEEP=1` acts as `--keep`, so a failing script can be debugged without editing
/// it. Decision: any value other than empty and `0` turns it on.
#[test]
fn rtmp_keep_env_acts_as_keep() {
    let env = TestEnv::new();
    for on in ["1", "yes"] {
        let mut cmd = env.rtmp_cmd(["-d", "-p", ".", "kXXX", "--exec", "true"]);
        cmd.env("RTMP_KEEP", on);
        let run = env.run_cmd(cmd);
        run.success();
        let err = stderr(&run);
        assert!(
            full_match(&format!("rtmp: kept '\\./k{}'\n", rnd(3)), &err),
            "RTMP_KEEP={on}{}",
            run.context()
        );
        run.tree(&["tmp/", &format!("k{}/", rnd(3))]);
        fs::remove_dir(env.path(&err["rtmp: kept './".len()..][..4])).expect("clean up");
    }

    for off in ["", "0"] {
        let mut cmd = env.rtmp_cmd(["-d", "-p", ".", "kXXX", "--exec", "true"]);
        cmd.env("RTMP_KEEP", off);
        env.run_cmd(cmd).success().stderr("").nothing_left();
    }
}

/// Messages name what the user typed: `--shell` when `--shell` was given (a black-box tester
/// saw `rtmp --shell -u` say `--dry-run cannot be combined with --exec`, and `rtmp --shell a b`
/// say `--exec takes at most one template`), and the short or long spelling that was used.
/// Still usage errors of exec mode: 125, nothing created, the command (a shell) not run.
#[test]
fn usage_errors_name_the_options_as_typed() {
    let env = TestEnv::new();
    for (args, message) in [
        (&["--shell", "-u"][..], "-u cannot be combined with --shell"),
        (
            &["--shell", "--dry-run"],
            "--dry-run cannot be combined with --shell",
        ),
        (
            &["--shell", "aXXX", "bXXX"],
            "--shell takes at most one template",
        ),
        (
            &["-u", "--exec", "true"],
            "-u cannot be combined with --exec",
        ),
        (
            &["-d", "--anonymous", "--exec", "true"],
            "--anonymous cannot be combined with -d",
        ),
    ] {
        env.run(args)
            .code(125)
            .stdout("")
            .stderr(&format!("rtmp: {message}\n{USAGE_HINT}"))
            .nothing_left();
    }
}
