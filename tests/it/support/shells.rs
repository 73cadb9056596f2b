//! Shell completion driven for real: bash (always), zsh, fish and elvish (when installed), each
//! given the repository's committed completion file (`completions/`) and a command line, and
//! asked for its candidates as a user's TAB would (issue 13, items 15-17; docs/behaviour.md D).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn completion(file: &str) -> PathBuf {
    super::repo_root().join("completions").join(file)
}

fn installed(shell: &str) -> bool {
    let found = Command::new(shell)
        .args(["-c", "exit 0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("skipped: {shell} is not installed");
    }
    found
}

/// Drives bash completion as readline would: bash-completion loaded when installed, the
/// repository's `completions/rtmp.bash` sourced, `COMP_WORDS` (split as bash splits the
/// line: `=` is a word of its own), `COMP_CWORD`, `COMP_LINE` and `COMP_POINT` set, the
/// function named by `complete -p rtmp` called as `FUNC rtmp CUR PREV`, CUR as readline gives
/// it (empty when the last word is a lone `=`: checked against an interactive bash). Returns COMPREPLY
/// and whether bash-completion was loaded.
pub fn bash_complete(cwd: &Path, line: &str, words: &[&str]) -> (Vec<String>, bool) {
    const DRIVER: &str = r#"
bc=0
if [ -r /usr/share/bash-completion/bash_completion ]; then
  . /usr/share/bash-completion/bash_completion && bc=1
fi
. "$1"; shift
COMP_LINE=$1; COMP_POINT=${#1}; shift
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
spec=$(complete -p rtmp) || exit 90
fn=${spec#*-F }; fn=${fn%% *}
# bash passes readline's word, which starts after a COMP_WORDBREAKS character: after
# `--tmpdir=` it is empty, while COMP_WORDS holds the `=`.
cur=${COMP_WORDS[COMP_CWORD]}; [[ $cur == = ]] && cur=
"$fn" rtmp "$cur" "${COMP_WORDS[COMP_CWORD-1]}"
echo "bash-completion=$bc"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let out = Command::new("bash")
        .arg("-c")
        .arg(DRIVER)
        .arg("bash")
        .arg(completion("rtmp.bash"))
        .arg(line)
        .args(words)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .expect("run bash");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "bash driver failed: {out:?}");
    let mut lines = text.lines();
    let loaded = lines.next() == Some("bash-completion=1");
    let reply = lines.filter(|l| !l.is_empty()).map(str::to_owned).collect();
    (reply, loaded)
}

/// Drives fish: `complete -C LINE` after sourcing `completions/rtmp.fish`; the candidates
/// without their descriptions. `None` (with a message) when fish is not installed. Panics if
/// fish printed anything on stderr: completion must never write at the user's terminal.
pub fn fish_complete(cwd: &Path, line: &str) -> Option<Vec<String>> {
    if !installed("fish") {
        return None;
    }
    let out = Command::new("fish")
        .args(["-c", "source $argv[1]; complete -C $argv[2]"])
        .arg(completion("rtmp.fish"))
        .arg(line)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C")
        // No user configuration: fish's own completions only (`--no-config` drops those too).
        .env("HOME", cwd)
        .env("XDG_CONFIG_HOME", cwd.join(".no-config"))
        .env("XDG_DATA_HOME", cwd.join(".no-data"))
        .stdin(Stdio::null())
        .output()
        .expect("run fish");
    assert!(out.status.success(), "fish failed: {out:?}");
    // Whatever fish prints on stderr during completion lands on the user's terminal.
    assert!(
        out.stderr.is_empty(),
        "fish printed on the terminal while completing {line:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_owned())
            .collect(),
    )
}

/// The zsh driver: an interactive `zsh -f` on a `zpty`, `compinit` with the repository's
/// `completions/` first in `fpath`, `compadd` wrapped to print every candidate (with its
/// prefixes and suffixes, `-qS=` included) between two NUL markers, then LINE and a TAB
/// typed. After zsh-capture-completion (Valodim, MIT). Since the wrapped `compadd` adds no
/// match, tag fallbacks (`_files`' all-files) show up too.
pub const ZSH_CAPTURE: &str = r#"
zmodload zsh/zpty || exit 2
zpty z zsh -f -i
zpty -w z "fpath=(${(q)1} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'zstyle ":completion:*" list-grouped false; zstyle ":completion:*" insert-tab false; zstyle ":completion:*" menu no'
zpty -w z 'compadd () { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi; typeset -a __hits __dscr; if (( $@[(I)-d] )); then __dscr=( "${(@P)${@[$[${@[(i)-d]}+1]]}}" ); fi; builtin compadd -A __hits -D __dscr "$@"; setopt localoptions norcexpandparam extendedglob; typeset -A apre hpre hsuf asuf; zparseopts -E q=qq r:=rr R:=RR P:=apre p:=hpre S:=asuf s:=hsuf; integer dirsuf=0; if [[ -z $hsuf && "${${@//-default-/}% *}" == *-[[:alnum:]]#f* ]]; then dirsuf=1; fi; [[ -n $__hits ]] || return; local i; for i in {1..$#__hits}; do (( dirsuf )) && [[ -d $__hits[$i] ]] && __hits[$i]=$__hits[$i]/; echo -E - $IPREFIX$apre$hpre$__hits[$i]$hsuf$asuf; done }'
zpty -w z "zstyle ':completion:*' completer _complete"
zpty -w z 'PROMPT=; RPROMPT=; null-line () { echo -E - $'"'"'\0'"'"' }; compprefuncs=( null-line ); comppostfuncs=( null-line exit )'
zpty -n -w z "$2"$'\t'
integer tog=0
while zpty -r z; do :; done | while IFS= read -r line; do
  if [[ $line == *$'\0\r' ]]; then (( tog++ )) && return 0 || continue; fi
  (( tog )) && echo -E - ${line%$'\r'}
done
"#;

/// Drives zsh with [`ZSH_CAPTURE`]; `None` (with a message) when zsh is not installed.
pub fn zsh_complete(cwd: &Path, line: &str) -> Option<Vec<String>> {
    if !installed("zsh") {
        return None;
    }
    let out = Command::new("timeout")
        .args(["20", "zsh", "-f", "-c", ZSH_CAPTURE, "zsh"])
        .arg(super::repo_root().join("completions"))
        .arg(line)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C")
        .env("TERM", "dumb")
        .stdin(Stdio::null())
        .output()
        .expect("run zsh");
    assert!(out.status.success(), "zsh driver failed: {out:?}");
    let mut reply: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    reply.dedup();
    Some(reply)
}

/// The elvish driver: `edit:` exists only in an interactive elvish, so the completion file is
/// evaluated in a namespace that stands in for it (`edit:completion:arg-completer`,
/// `edit:complex-candidate`, `edit:complete-filename`, which yields `FILES:PREFIX`), then
/// rtmp's arg-completer is called with WORDS (the last one is the word being completed).
const ELVISH_DRIVER: &str = r#"
var file = $args[0]
var words = $args[1..]
var completion = (ns [&arg-completer=[&]])
fn complex-candidate {|text &display=''| put $text }
fn complete-filename {|prefix| put 'FILES:'$prefix }
var edit = (ns [&completion:=$completion &complex-candidate~=$complex-candidate~ &complete-filename~=$complete-filename~])
eval &ns=(ns [&edit:=$edit]) (slurp < $file)
$completion[arg-completer][rtmp] $@words | each {|c| echo $c }
"#;

/// Drives elvish with [`ELVISH_DRIVER`]: the candidates for WORDS (`rtmp` first, the word
/// being completed last). `None` (with a message) when elvish is not installed.
pub fn elvish_complete(cwd: &Path, words: &[&str]) -> Option<Vec<String>> {
    if !installed("elvish") {
        return None;
    }
    let out = Command::new("elvish")
        .args(["-norc", "-c", ELVISH_DRIVER])
        .arg(completion("rtmp.elv"))
        .args(words)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", cwd)
        .stdin(Stdio::null())
        .output()
        .expect("run elvish");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "elvish failed: {out:?}"
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}
