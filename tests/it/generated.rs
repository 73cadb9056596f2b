//! The man page and the shell completions are generated from the clap definition the binary
//! uses (`rtmp::cli::args::command`), and committed. This test fails when a committed file differs from
//! what the definition generates now. Regenerate them with:
//!
//! ```sh
//! RTMP_UPDATE_GENERATED=1 cargo test --test it generated::
//! ```

use std::path::{Path, PathBuf};

use clap_complete::Shell;
use rtmp::cli::args::command;
use rtmp::exit::{STATUS_TABLE, Status, StatusMode};

/// The man page sections after EXIT STATUS, in roff. Kept here, beside the generator, so that
/// the page has one source.
const MAN_EXTRA: &str = r#".SH ENVIRONMENT
.TP
.B TMPDIR
the directory for the default template, for \fB\-\-tmpdir\fR without DIR, and for
\fB\-t\fR (where it is preferred over \fB\-p\fR). Ignored when TEMPLATE is given without
\fB\-p\fR, \fB\-\-tmpdir\fR or \fB\-t\fR. With \fB\-\-export\-tmpdir\fR, rtmp sets it to the
new directory for CMD.
.TP
.B RTMP_PATH
set by rtmp in the environment of CMD to the path it created.
.TP
.B SHELL
the shell that \fB\-\-shell\fR starts (\fI/bin/sh\fR when unset or empty).
.SH CLEANUP
With \fB\-\-exec\fR, rtmp removes the path when CMD ends, however it ends: by name, inside
the directory where it was created (held open from creation on), without ever following a
symbolic link and without entering a mount point. Directories that CMD made read\-only are
made writable first. A path that CMD already removed is not an error.
.PP
The path is removed only once CMD and every process it started have ended: rtmp is a child
subreaper, so processes that CMD leaves running (background jobs, daemons) are re\-parented to
rtmp. When CMD exits they get SIGTERM and SIGCONT, then SIGKILL after the
\fB\-\-kill\-after\fR grace period (2 seconds); with \fB\-\-wait\-children\fR rtmp waits
for them instead. rtmp still exits with the status of CMD.
.PP
If rtmp itself is killed with SIGKILL, a guardian process (\fBrtmp\-guardian\fR, forked at
creation, in its own session, so a SIGKILL of rtmp's process group does not reach it) waits
until CMD has exited and then removes the path. After a normal end the guardian exits without
touching anything.
.PP
With \fB\-\-anonymous\fR the file never has a name: it is created with O_TMPFILE and given
to CMD as an open descriptor, so nothing can be left behind.
.SH SIGNALS
With \fB\-\-exec\fR, rtmp catches every signal whose default action ends or stops a
process (not SIGKILL, SIGSTOP, or the faults SEGV, BUS, ILL, FPE, TRAP, SYS). A signal sent to
rtmp with \fBkill\fR(1) is passed on to every process of the tree of CMD, once; a signal
that the terminal sends to the foreground process group (Ctrl\-C, Ctrl\-\e, Ctrl\-Z)
already reached CMD and is not sent again, except a hang\-up when rtmp leads its session.
SIGTSTP, SIGTTIN and SIGTTOU stop the tree, then rtmp; SIGCONT continues both. rtmp then
ends as CMD ends. If a signal arrives before CMD has started, CMD never starts: rtmp removes
the path and dies of that signal. A signal sent to the whole process group of rtmp reaches
CMD twice: rtmp stays in its caller's process group so that job control keeps working.
.SH EXAMPLES
A script that needs a private scratch directory:
.PP
.nf
.RS
dir=$(rtmp \-d) || exit 1
trap 'rm \-rf "$dir"' EXIT
.RE
.fi
.PP
The same without the trap: the directory is removed when the command ends, whatever happens:
.PP
.nf
.RS
rtmp \-d \-\-exec tar \-C {} \-xf release.tar
rtmp \-\-suffix=.json \-\-exec sh \-c 'curl \-o "$1" "$URL" && jq . "$1"' sh {}
.RE
.fi
.PP
Every temporary file of a test run lands in one directory, removed afterwards:
.PP
.nf
.RS
rtmp \-d \-\-export\-tmpdir \-\-exec make check
.RE
.fi
.PP
A throwaway shell in a throwaway directory (removed when the shell exits), and one in a
scratch area of your own:
.PP
.nf
.RS
rtmp \-\-shell
rtmp \-\-shell \-p ~/scratch work.XXXX
.RE
.fi
.PP
A file that never has a name, written and read back by the command:
.PP
.nf
.RS
rtmp \-\-anonymous \-\-exec sh \-c 'date > "$1"; cat "$1"' sh {}
.RE
.fi
.SH "SEE ALSO"
.BR mktemp (1),
.BR mkstemp (3),
.BR timeout (1),
.BR env (1)
"#;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn man_page() -> Vec<u8> {
    let man = clap_mangen::Man::new(command()).date("2026-11-29");
    let mut out = Vec::new();
    man.render_title(&mut out).expect("render title");
    man.render_name_section(&mut out).expect("render name");
    man.render_synopsis_section(&mut out)
        .expect("render synopsis");
    man.render_description_section(&mut out)
        .expect("render description");
    man.render_options_section(&mut out)
        .expect("render options");
    out.extend_from_slice(exit_status_section().as_bytes());
    out.extend_from_slice(MAN_EXTRA.as_bytes());
    man.render_version_section(&mut out)
        .expect("render version");
    out
}

/// The EXIT STATUS section, rendered from `rtmp::exit::STATUS_TABLE`: one tagged paragraph
/// per status, under a line that names the mode.
fn exit_status_section() -> String {
    let mut out = String::from(".SH \"EXIT STATUS\"\n");
    let mut mode = None;
    for row in STATUS_TABLE {
        if mode != Some(row.mode) {
            if mode.is_some() {
                out.push_str(".PP\n");
            }
            mode = Some(row.mode);
            out.push_str(match row.mode {
                StatusMode::Mktemp => "Without \\fB\\-\\-exec\\fR:\n",
                StatusMode::Exec => "With \\fB\\-\\-exec\\fR:\n",
            });
        }
        let tag = match row.status {
            Status::Code(code) => format!(".B {code}"),
            Status::Child => ".I N".to_owned(),
            Status::Signal => ".BI \"signal \" N".to_owned(),
        };
        out.push_str(&format!(".TP\n{tag}\n{}\n", roff(row.meaning)));
    }
    out
}

/// `text` (the table's markup: `` `code` `` spans) in roff: code in bold, `-` and `\` escaped.
fn roff(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        let escaped = part.replace('\\', "\\e").replace('-', "\\-");
        if i % 2 == 1 {
            out.push_str(&format!("\\fB{escaped}\\fR"));
        } else {
            out.push_str(&escaped);
        }
    }
    out
}

fn completion(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command(), "rtmp", &mut out);
    if shell == Shell::Bash {
        out = bash_exec_completes_commands(out);
    }
    out
}

/// clap_complete's bash script ignores value hints and completes file names after `--exec`;
/// the word after `--exec` is a command, so complete command names there (as zsh and fish do
/// from the same `ValueHint::CommandName`).
fn bash_exec_completes_commands(script: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8(script).expect("bash completion is UTF-8");
    let from = "--exec)\n                    COMPREPLY=($(compgen -f \"${cur}\"))";
    let to = "--exec)\n                    COMPREPLY=($(compgen -c -- \"${cur}\"))";
    assert!(
        text.contains(from),
        "clap_complete's bash output changed: revisit this rewrite"
    );
    text.replace(from, to).into_bytes()
}

/// Every generated file: (path relative to the repository, contents).
fn generated() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("man/rtmp.1", man_page()),
        ("completions/rtmp.bash", completion(Shell::Bash)),
        ("completions/_rtmp", completion(Shell::Zsh)),
        ("completions/rtmp.fish", completion(Shell::Fish)),
        ("completions/rtmp.elv", completion(Shell::Elvish)),
        ("completions/_rtmp.ps1", completion(Shell::PowerShell)),
    ]
}

fn check_or_update(rel: &str, want: &[u8]) {
    let path: PathBuf = repo().join(rel);
    if std::env::var_os("RTMP_UPDATE_GENERATED").is_some() {
        std::fs::write(&path, want).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        return;
    }
    let have = std::fs::read(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale or missing: regenerate with RTMP_UPDATE_GENERATED=1 cargo test --test it generated::",
        Path::new(rel).display()
    );
}

#[test]
fn generated_files_match_the_clap_definition() {
    for (rel, want) in generated() {
        check_or_update(rel, &want);
    }
}

#[test]
fn man_page_has_the_sections_users_expect() {
    let page = String::from_utf8(man_page()).expect("man page is UTF-8");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH OPTIONS",
        ".SH \"EXIT STATUS\"",
        ".SH ENVIRONMENT",
        ".SH CLEANUP",
        ".SH EXAMPLES",
        ".SH \"SEE ALSO\"",
    ] {
        assert!(page.contains(section), "man page lacks {section}");
    }
    for flag in [
        "\\-\\-exec",
        "\\-\\-export\\-tmpdir",
        "\\-\\-keep\\-on\\-failure",
        "\\-\\-tmpdir",
    ] {
        assert!(page.contains(flag), "man page lacks {flag}");
    }
}
