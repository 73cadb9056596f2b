
use builtin;
use str;

set edit:completion:arg-completer[rtmp] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    # rtmp: after --exec (--exec=CMD, --exec -- CMD) the words are CMD's, after -- TEMPLATEs.
    var rtmp-options = $true
    for word $words[1..-1] {
        if (or (eq $word --) (eq $word --exe) (eq $word --exec) (str:has-prefix $word --exe=) (str:has-prefix $word --exec=)) {
            set rtmp-options = $false
            break
        }
    }
    var command = 'rtmp'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'rtmp'= {
            cand --suffix 'Append SUFF to TEMPLATE'
            cand -p 'Interpret TEMPLATE relative to DIR'
            cand --tmpdir 'Same as -p DIR; without DIR, use $TMPDIR or /tmp'
            cand --exec 'Run CMD with the new path, then remove the path; must come last'
            cand -I 'Use STR instead of {} as the placeholder'
            cand --placeholder 'Use STR instead of {} as the placeholder'
            cand --kill-after 'End what CMD leaves running: SIGTERM, then SIGKILL after DURATION (2s)'
            cand --replace 'With --exec: write next to DEST, move over DEST only if CMD exits 0'
            cand --until 'Without --exec: remove the path(s) when process PID exits'
            cand -d 'Create a directory, not a file'
            cand --directory 'Create a directory, not a file'
            cand -u 'Do not create anything; merely print a name (unsafe)'
            cand --dry-run 'Do not create anything; merely print a name (unsafe)'
            cand -q 'Suppress diagnostics about file/dir-creation failure'
            cand --quiet 'Suppress diagnostics about file/dir-creation failure'
            cand -t 'TEMPLATE is one name in $TMPDIR, else in -p DIR, else in /tmp (BSD: -t PREFIX)'
            cand --no-placeholder 'Replace nothing in CMD and its ARGs'
            cand --export-tmpdir 'With -d: set TMPDIR (and TMP, TEMP, TEMPDIR) to the new directory for CMD; the path is not appended'
            cand --keep-on-failure 'Keep the path if CMD fails or dies of a signal'
            cand --keep 'Keep the path however CMD ends'
            cand --wait-children 'Wait for what CMD leaves running instead of ending it'
            cand --cd 'With -d: run CMD inside the new directory'
            cand --anonymous 'With --exec, files only: the file never has a name'
            cand --shell 'A throwaway shell in a throwaway directory'
            cand --stdin 'With --exec, files only: fill the file with standard input before CMD runs'
            cand -h 'Print a short help'
            cand --help 'Print the full help, with exit statuses and examples'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    if $rtmp-options {
        $completions['rtmp']
    } else {
        edit:complete-filename $words[-1]
    }
}
