//! The man page and the shell completions are generated from the clap definition the binary
//! uses (`rtmp::cli::args::command`), and committed. The bash, zsh and fish scripts are then
//! edited where clap_complete cannot say what rtmp means (after `--exec CMD` the words are
//! CMD's; `--tmpdir` takes DIR only after `=`), each edit anchored on what clap_complete emits
//! so that an update of it fails here instead of dropping the edit. This test fails when a committed file differs from
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
\fB\-p\fR, \fB\-\-tmpdir\fR or \fB\-t\fR. With \fB\-\-export\-tmpdir\fR (and \fB\-\-shell\fR),
rtmp sets it to the new directory for CMD.
.TP
.B TMP, TEMP, TEMPDIR
set by rtmp to the new directory for CMD with \fB\-\-export\-tmpdir\fR and \fB\-\-shell\fR,
for the tools that read one of them instead of TMPDIR. rtmp itself does not read them.
.TP
.B RTMP_PATH
set by rtmp in the environment of CMD to the path it created.
.TP
.B RTMP_KEEP
any value but empty and \fB0\fR acts as \fB\-\-keep\fR for every \fB\-\-exec\fR and
\fB\-\-shell\fR run (ignored with \fB\-\-anonymous\fR), so that a failing script can be
debugged without editing it.
.TP
.B SHELL
the shell that \fB\-\-shell\fR starts (\fI/bin/sh\fR when unset or empty).
.TP
.B POSIXLY_CORRECT
when set (to any value), options end at the first TEMPLATE, as with GNU getopt: later words are
TEMPLATEs, except \fB\-\-exec\fR and what follows it.
.SH CLEANUP
With \fB\-\-exec\fR, rtmp removes the path when CMD ends, however it ends: by name, inside
the directory where it was created (held open from creation on), without ever following a
symbolic link and without entering a mount point. Directories that CMD made read\-only are
made writable first. A path that CMD already removed is not an error. What cannot be removed is
named below the path: rtmp: failed to remove \*(AqPATH/ENTRY\*(Aq: ERROR (status 125 if CMD
succeeded).
.PP
The path is removed only once CMD and every process it started have ended: rtmp is a child
subreaper, so processes that CMD leaves running (background jobs, daemons) are re\-parented to
rtmp. When CMD exits they get SIGTERM and SIGCONT, then SIGKILL after the
\fB\-\-kill\-after\fR grace period (2 seconds); with \fB\-\-wait\-children\fR rtmp waits
for them instead. rtmp still exits with the status of CMD.
.PP
If rtmp itself is killed with SIGKILL, a guardian process (\fBrtmp\-guardian\fR, forked
before anything exists, in its own session, so a SIGKILL of rtmp's process group does not
reach it) waits until CMD has exited and then removes the path. The guardian creates the path
itself, so a SIGKILL at any moment leaves nothing, and it only ever removes what it created.
If it cannot be started, rtmp creates nothing and exits 125. After a normal end the guardian
exits without touching anything.
.PP
With \fB\-\-keep\fR (or RTMP_KEEP), and with \fB\-\-keep\-on\-failure\fR when CMD fails, the
path stays and rtmp says \fBrtmp: kept 'PATH'\fR, unless CMD removed it. After a SIGKILL of
rtmp the guardian removes the path in every case.
.PP
With \fB\-\-anonymous\fR the file never has a name: it is created with O_TMPFILE and given
to CMD as an open descriptor (3 or more), so nothing can be left behind.
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
Never write sh \-c '... {} ...': the path is pasted into the script, so a space, a quote or
$(...) in it (from TMPDIR, \-p or the template) is run as shell code; pass it as an argument
instead: sh \-c '... "$1"' sh {}. The form sh \-c '... {} ...' is unsafe.
.PP
Literal braces, and another placeholder where the command has a {} of its own:
.PP
.nf
.RS
rtmp \-\-exec jq \-n \-\-arg p {} '{{path: $p}}'
rtmp \-I @@ \-\-exec find . \-newer @@ \-exec echo {} +
.RE
.fi
.PP
Every temporary file of a test run lands in one directory, removed afterwards (nothing is
appended to the command):
.PP
.nf
.RS
rtmp \-d \-\-export\-tmpdir \-\-exec make check
.RE
.fi
.PP
Keep every path of a script's runs, to look at them afterwards:
.PP
.nf
.RS
RTMP_KEEP=1 ./ci.sh
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
A download given to a program that needs a seekable file, removed afterwards:
.PP
.nf
.RS
curl \-fsS "$URL" | rtmp \-\-stdin \-\-suffix=.zip \-\-exec unzip \-l {}
.RE
.fi
A file sorted in place, atomically: the sorted copy replaces it only if sort succeeds:
.PP
.nf
.RS
rtmp \-\-replace big.txt \-\-exec sh \-c 'sort big.txt > "$1"' sh {}
.RE
.fi
A directory that lives as long as the script, without a trap: a detached guardian (one
sleeping process while the script runs) removes it when the script's process exits, however
it exits, kill \-9 included:
.PP
.nf
.RS
dir=$(rtmp \-d \-\-until $$) || exit 1
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
    let text = String::from_utf8(out).expect("completions are UTF-8");
    match shell {
        Shell::Bash => bash_rtmp_rules(&bash_exec_completes_commands(text)),
        Shell::Zsh => zsh_rtmp_rules(&text),
        Shell::Fish => fish_rtmp_rules(&text),
        Shell::Elvish => elvish_rtmp_rules(&text),
        _ => text,
    }
    .into_bytes()
}

/// `text` with `from` replaced by `to`, asserting that `from` is there: these edits are
/// anchored on what clap_complete emits today, and a clap_complete update that changes it must
/// fail here, loudly, rather than ship a script without them.
#[track_caller]
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "clap_complete's output changed, revisit this edit: {from:?}"
    );
    text.replace(from, to)
}

/// clap_complete's bash script ignores value hints and completes file names after `--exec`;
/// the word after `--exec` is a command, so complete command names there (as zsh and fish do
/// from the same `ValueHint::CommandName`).
fn bash_exec_completes_commands(text: String) -> String {
    edit(
        &text,
        "--exec)\n                    COMPREPLY=($(compgen -f \"${cur}\"))",
        "--exec)\n                    COMPREPLY=($(compgen -c -- \"${cur}\"))",
    )
}

/// What clap_complete cannot say in bash (docs/behaviour.md D; issue 13 items 15 and 16):
/// - after `--exec CMD` (or `--exe`, or `--exec=CMD`, which bash splits into `--exec`, `=`,
///   `CMD`, or `--exec -- CMD`), the words are the command's: bash-completion's
///   `_command_offset` completes them as for CMD itself (files when bash-completion is not
///   loaded); after a `--` before it, rtmp takes no options, so none is offered;
/// - a value after `=` (`--suffix=`) is not an option: nothing is offered there;
/// - `-pDIR` (attached, also `-dpDIR`) completes directories, as `-p DIR` does;
/// - `--tmpdir` takes DIR only attached (`--tmpdir fooXXX` is "no DIR, template fooXXX"), so it
///   is offered as `--tmpdir=` with no space after it, and directories follow the `=`;
/// - `-p DIR` offers directories in COMPREPLY itself (not `-o plusdirs`).
fn bash_rtmp_rules(text: &str) -> String {
    const RULES: &str = r#"    # rtmp: after --exec CMD the words are CMD's; --tmpdir takes DIR only after '='.
    # bash gives an empty cur after '=' (readline's word); COMP_WORDS holds the '=' itself.
    local j k w eq=
    [[ ${COMP_WORDS[COMP_CWORD]} == = ]] && eq=1
    for (( j=1; j < COMP_CWORD; j++ )); do
        w=${COMP_WORDS[j]}
        # After --, rtmp takes no options: the words are TEMPLATEs.
        if [[ $w == -- ]]; then
            COMPREPLY=()
            return 0
        fi
        if [[ $w == --exe || $w == --exec ]]; then
            k=$((j + 1))
            if [[ ${COMP_WORDS[k]} == = ]]; then
                k=$((k + 1))
            elif [[ ${COMP_WORDS[k]} == -- ]] && (( k < COMP_CWORD )); then
                # --exec -- CMD: the -- only protects CMD (--exec=-- is the command --).
                k=$((k + 1))
            fi
            if (( k < COMP_CWORD )); then
                if declare -F _command_offset >/dev/null; then
                    _command_offset "$k"
                else
                    COMPREPLY=($(compgen -f -- "${cur}"))
                fi
                return 0
            fi
            if (( k == COMP_CWORD )) || [[ -n $eq ]]; then
                COMPREPLY=($(compgen -c -- "${cur#=}"))
                return 0
            fi
        fi
    done
    if [[ -n $eq ]] && [[ ${#prev} -ge 3 && --tmpdir == "${prev}"* ]]; then
        COMPREPLY=($(compgen -d))
        return 0
    fi
    if (( COMP_CWORD >= 3 )) && [[ ${prev} == = ]]; then
        w=${COMP_WORDS[COMP_CWORD-2]}
        if [[ ${#w} -ge 3 && --tmpdir == "${w}"* ]]; then
            COMPREPLY=($(compgen -d -- "${cur}"))
            return 0
        fi
    fi
    # Any other OPTION=VALUE (--suffix=SUFF, --placeholder=STR): a value, not an option, nor
    # a file name (-o default would offer those).
    if [[ -n $eq || ${prev} == = ]]; then
        COMPREPLY=()
        compopt +o default +o bashdefault 2>/dev/null
        return 0
    fi
    # -pDIR, -dpDIR: getopt takes the rest of the word as DIR.
    if [[ ${cur} =~ ^(-[dqut]*p)(.+)$ ]]; then
        w=${BASH_REMATCH[1]}
        COMPREPLY=($(compgen -d -P "$w" -- "${BASH_REMATCH[2]}"))
        return 0
    fi

    case "${cmd}" in
"#;
    const OPTIONS: &str = "COMPREPLY=( $(compgen -W \"${opts}\" -- \"${cur}\") )\n";
    const NOSPACE: &str = "COMPREPLY=( $(compgen -W \"${opts}\" -- \"${cur}\") )\n            \
        [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null\n";
    let text = edit(text, " --tmpdir ", " --tmpdir= ");
    let text = edit(&text, "\n    case \"${cmd}\" in\n", &format!("\n{RULES}"));
    let text = edit(&text, &format!("    {OPTIONS}"), &format!("    {NOSPACE}"));
    let text = edit(
        &text,
        "                --tmpdir)
                    COMPREPLY=()
                    if [[ \"${BASH_VERSINFO[0]}\" -ge 4 ]]; then
                        compopt -o plusdirs
                    fi
                    return 0
                    ;;
",
        "",
    );
    edit(
        &text,
        "                -p)
                    COMPREPLY=()
                    if [[ \"${BASH_VERSINFO[0]}\" -ge 4 ]]; then
                        compopt -o plusdirs
                    fi
                    return 0",
        "                -p)
                    COMPREPLY=($(compgen -d -- \"${cur}\"))
                    return 0",
    )
}

/// zsh: after `--exec`, the rest of the line is a command line of its own (`_normal`), and no
/// rtmp option follows (`(-)`); clap's spec completed one command name and then rtmp's options.
/// (`--tmpdir=` is already right: clap emits it with `=`.)
fn zsh_rtmp_rules(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.starts_with("'*--exec=["))
        .expect("clap_complete's zsh output changed: no '*--exec=[' line");
    let help = line
        .strip_prefix("'*--exec=[")
        .and_then(|l| l.split_once("]:CMD:"))
        .map(|(help, _)| help)
        .expect("clap_complete's zsh output changed: the --exec spec");
    let text = edit(
        text,
        line,
        &format!("'(-)--exec[{help}]:*::command: _normal' \\"),
    );
    edit(
        &text,
        "\n    local context curcontext=\"$curcontext\" state line\n",
        &format!("\n{ZSH_EXEC_FORMS}    local context curcontext=\"$curcontext\" state line\n"),
    )
}

/// zsh, before `_arguments`: `--exec=CMD` and `--exec -- CMD` are `--exec CMD` (`_arguments`
/// knows neither), so the words from CMD on are handed to `_normal` directly; a `--` before
/// ends the search (after it rtmp's words are TEMPLATEs: `_arguments` completes them).
const ZSH_EXEC_FORMS: &str = r#"    # rtmp: after --exec CMD, --exec=CMD or --exec -- CMD the words are CMD's.
    local i
    for (( i = 2; i <= CURRENT; i++ )); do
        case ${words[i]} in
            (--) break ;;
            (--exe|--exec)
                (( i < CURRENT )) || break
                [[ ${words[i+1]} == -- ]] && (( i + 1 < CURRENT )) && (( i++ ))
                shift $i words
                (( CURRENT -= i ))
                _normal
                return
                ;;
            (--exe=*|--exec=*)
                (( i == CURRENT )) && compset -P '*='
                words[i]=${words[i]#*=}
                shift $(( i - 1 )) words
                (( CURRENT -= i - 1 ))
                _normal
                return
                ;;
        esac
    done
"#;

/// fish: every rtmp line applies only before `--exec` (also `--exec=CMD`, `--exec -- CMD`) and
/// before a `--`; after `--exec`, fish completes the words as a command line of its own
/// (`__fish_complete_subcommand`; command names for CMD itself), never with a CMD that starts
/// with `-` (fish's `complete -C` would print an error at the terminal). `--tmpdir` is offered only as
/// `--tmpdir=`, then `--tmpdir=DIR/` (clap's line gave `--tmpdir=--tmpdir=sub/`).
fn fish_rtmp_rules(text: &str) -> String {
    const FUNCTIONS: &str = r#"# rtmp: after --exec CMD, --exec=CMD or --exec -- CMD the words are CMD's; --tmpdir takes
# DIR only after '='.
function __rtmp_exec_words
    # CMD and the words after it, if --exec comes before the word being completed (and before
    # any --, after which rtmp takes no options); status 1 if it does not.
    set -l toks (commandline -opc)
    set -e toks[1]
    while set -q toks[1]
        set -l w $toks[1]
        set -e toks[1]
        switch $w
            case --
                return 1
            case --exe --exec
                if test "$toks[1]" = -- # --exec -- CMD: the -- only protects CMD
                    set -e toks[1]
                end
                printf '%s\n' $toks
                return 0
            case '--exe=*' '--exec=*'
                printf '%s\n' (string replace -r -- '^[^=]*=' '' $w) $toks
                return 0
        end
    end
    return 1
end
function __rtmp_after_exec
    __rtmp_exec_words >/dev/null
end
function __rtmp_command_names
    # --exec CMD and --exec=CMD: fish adds the --exec= itself (__fish_complete_command adds it
    # again); a word that starts with - is not completed as a command.
    set -l tok (string replace -r -- '^--[^=]*=' '' (commandline -ct))
    string match -q -- '-*' $tok; and return
    complete -C "$tok"
end
function __rtmp_after_dash_dash
    contains -- -- (commandline -opc)
end
function __rtmp_exec_complete
    set -l words (__rtmp_exec_words)
    if not set -q words[1]
        __rtmp_command_names
    else if not string match -q -- '-*' $words[1]
        # (A CMD that starts with - would reach `complete -C` as an option of its own.)
        __fish_complete_subcommand --commandline $words (commandline -ct)
    end
end
function __rtmp_tmpdir_values
    set -l tok (commandline -ct)
    string match -q -- '--tmpdir=*' $tok; or return
    __fish_complete_directories (string replace -- --tmpdir= '' $tok) | string replace -r '^' -- --tmpdir=
end
complete -c rtmp -n __rtmp_after_exec -f -a '(__rtmp_exec_complete)'
complete -c rtmp -n 'not __rtmp_after_exec; and string match -q -- "--tmpdir=*" (commandline -ct)' -f -a '(__rtmp_tmpdir_values)'
"#;
    let tmpdir = text
        .lines()
        .find(|l| l.starts_with("complete -c rtmp -l tmpdir "))
        .expect("clap_complete's fish output changed: no --tmpdir line");
    let help = tmpdir
        .split_once(" -d '")
        .and_then(|(_, rest)| rest.split_once("' "))
        .map(|(help, _)| help)
        .expect("clap_complete's fish output changed: the --tmpdir description");
    let text = edit(
        text,
        " -a \"(__fish_complete_command)\"",
        " -a \"(__rtmp_command_names)\"",
    );
    let mut out = String::from(FUNCTIONS);
    out.push_str(&format!(
        "complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash; and string match -q -- \"--t*\" \
         (commandline -ct); and not string match -q -- \"*=*\" (commandline -ct)' -f -a \
         '--tmpdir=' -d '{help}'\n"
    ));
    for line in text.lines().filter(|l| *l != tmpdir) {
        let guarded = line
            .strip_prefix("complete -c rtmp ")
            .expect("clap_complete's fish output changed: a line that is not 'complete -c rtmp'");
        out.push_str(&format!(
            "complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' {guarded}\n"
        ));
    }
    out
}

/// elvish: after `--exec` (`--exec=CMD`, `--exec -- CMD`) the words are CMD's, and after `--`
/// TEMPLATEs; clap's script offered rtmp's options there. elvish has no command-line completion
/// to hand CMD's words to, so file names are completed. rtmp has no subcommands, so rtmp's
/// options are looked up under `rtmp` whatever the words before (clap's script looked up
/// `rtmp;fooXXX` after a TEMPLATE and raised `no such key` at the prompt). No `return`: it
/// would escape the completer, which is a lambda, as an exception.
fn elvish_rtmp_rules(text: &str) -> String {
    const RULES: &str = r#"    # rtmp: after --exec (--exec=CMD, --exec -- CMD) the words are CMD's, after -- TEMPLATEs.
    var rtmp-options = $true
    for word $words[1..-1] {
        if (or (eq $word --) (eq $word --exe) (eq $word --exec) (str:has-prefix $word --exe=) (str:has-prefix $word --exec=)) {
            set rtmp-options = $false
            break
        }
    }
"#;
    let text = edit(
        text,
        "\n    var command = 'rtmp'\n",
        &format!("\n{RULES}    var command = 'rtmp'\n"),
    );
    edit(
        &text,
        "\n    $completions[$command]\n}",
        "\n    if $rtmp-options {\n        $completions['rtmp']\n    } else {\n        \
         edit:complete-filename $words[-1]\n    }\n}",
    )
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
