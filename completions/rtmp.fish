# rtmp: after --exec CMD the words are CMD's; --tmpdir takes DIR only after '='.
function __rtmp_after_exec_cmd
    set -l toks (commandline -opc)
    set -l i (contains -i -- --exec $toks); or return 1
    test (count $toks) -gt $i
end
function __rtmp_exec_words
    set -l toks (commandline -opc)
    set -l i (contains -i -- --exec $toks)
    printf '%s\n' $toks[(math $i + 1)..-1]
end
function __rtmp_tmpdir_values
    set -l tok (commandline -ct)
    string match -q -- '--tmpdir=*' $tok; or return
    __fish_complete_directories (string replace -- --tmpdir= '' $tok) | string replace -r '^' -- --tmpdir=
end
complete -c rtmp -n __rtmp_after_exec_cmd -f -a '(__fish_complete_subcommand --commandline (__rtmp_exec_words) (commandline -ct))'
complete -c rtmp -n 'not __rtmp_after_exec_cmd; and string match -q -- "--tmpdir=*" (commandline -ct)' -f -a '(__rtmp_tmpdir_values)'
complete -c rtmp -n 'not __rtmp_after_exec_cmd; and string match -q -- "--t*" (commandline -ct); and not string match -q -- "*=*" (commandline -ct)' -f -a '--tmpdir=' -d 'Same as -p DIR; without DIR, use $TMPDIR or /tmp'
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -l suffix -d 'Append SUFF to TEMPLATE' -r
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -s p -d 'Interpret TEMPLATE relative to DIR' -r -f -a "(__fish_complete_directories)"
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -l exec -d 'Run CMD with the new path, then remove the path; must come last' -r -f -a "(__fish_complete_command)"
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -s I -l placeholder -d 'Use STR instead of {} as the placeholder' -r
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -l kill-after -d 'End what CMD leaves running: SIGTERM, then SIGKILL after DURATION (2s)' -r
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -l replace -d 'With --exec: write next to DEST, move over DEST only if CMD exits 0' -r -F
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -s d -l directory -d 'Create a directory, not a file'
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -s u -l dry-run -d 'Do not create anything; merely print a name (unsafe)'
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -s q -l quiet -d 'Suppress diagnostics about file/dir-creation failure'
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -s t -d 'TEMPLATE is one name in $TMPDIR, else in -p DIR, else in /tmp (BSD: -t PREFIX)'
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -l no-placeholder -d 'Replace nothing in CMD and its ARGs'
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -l export-tmpdir -d 'With -d: set TMPDIR (and TMP, TEMP, TEMPDIR) to the new directory for CMD; the path is not appended'
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -l keep-on-failure -d 'Keep the path if CMD fails or dies of a signal'
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -l keep -d 'Keep the path however CMD ends'
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -l wait-children -d 'Wait for what CMD leaves running instead of ending it'
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -l cd -d 'With -d: run CMD inside the new directory'
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -l anonymous -d 'With --exec, files only: the file never has a name'
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -l shell -d 'A throwaway shell in a throwaway directory'
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -l stdin -d 'With --exec, files only: fill the file with standard input before CMD runs'
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -s h -d 'Print a short help'
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -l help -d 'Print the full help, with exit statuses and examples'
complete -c rtmp -n 'not __rtmp_after_exec_cmd' -s V -l version -d 'Print version'
