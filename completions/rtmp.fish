# rtmp: after --exec CMD, --exec=CMD or --exec -- CMD the words are CMD's; --tmpdir takes
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
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash; and string match -q -- "--t*" (commandline -ct); and not string match -q -- "*=*" (commandline -ct)' -f -a '--tmpdir=' -d 'Same as -p DIR; without DIR, use $TMPDIR or /tmp'
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -l suffix -d 'Append SUFF to TEMPLATE' -r
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -s p -d 'Interpret TEMPLATE relative to DIR' -r -f -a "(__fish_complete_directories)"
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -l exec -d 'Run CMD with the new path, then remove the path; must come last' -r -f -a "(__rtmp_command_names)"
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -s I -l placeholder -d 'Use STR instead of {} as the placeholder' -r
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -l kill-after -d 'End what CMD leaves running: SIGTERM, then SIGKILL after DURATION (2s)' -r
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -l replace -d 'With --exec: write next to DEST, move over DEST only if CMD exits 0' -r -F
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -l until -d 'Without --exec: remove the path(s) when process PID exits' -r
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -s d -l directory -d 'Create a directory, not a file'
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -s u -l dry-run -d 'Do not create anything; merely print a name (unsafe)'
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -s q -l quiet -d 'Suppress diagnostics about file/dir-creation failure'
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -s t -d 'TEMPLATE is one name in $TMPDIR, else in -p DIR, else in /tmp (BSD: -t PREFIX)'
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -l no-placeholder -d 'Replace nothing in CMD and its ARGs'
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -l export-tmpdir -d 'With -d: set TMPDIR (and TMP, TEMP, TEMPDIR) to the new directory for CMD; the path is not appended'
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -l keep-on-failure -d 'Keep the path if CMD fails or dies of a signal'
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -l keep -d 'Keep the path however CMD ends'
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -l wait-children -d 'Wait for what CMD leaves running instead of ending it'
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -l cd -d 'With -d: run CMD inside the new directory'
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -l anonymous -d 'With --exec, files only: the file never has a name'
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -l shell -d 'A throwaway shell in a throwaway directory'
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -l stdin -d 'With --exec, files only: fill the file with standard input before CMD runs'
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -s h -d 'Print a short help'
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -l help -d 'Print the full help, with exit statuses and examples'
complete -c rtmp -n 'not __rtmp_after_exec; and not __rtmp_after_dash_dash' -s V -l version -d 'Print version'
