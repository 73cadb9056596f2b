complete -c rtmp -l suffix -d 'Append SUFF to TEMPLATE' -r
complete -c rtmp -s p -d 'Interpret TEMPLATE relative to DIR' -r -f -a "(__fish_complete_directories)"
complete -c rtmp -l tmpdir -d 'Same as -p DIR; without DIR, use $TMPDIR or /tmp' -r -f -a "(__fish_complete_directories)"
complete -c rtmp -l exec -d 'Run CMD with the new path, then remove the path; must come last' -r -f -a "(__fish_complete_command)"
complete -c rtmp -l kill-after -d 'End what CMD leaves running: SIGTERM, then SIGKILL after DURATION (2s)' -r
complete -c rtmp -s d -l directory -d 'Create a directory, not a file'
complete -c rtmp -s u -l dry-run -d 'Do not create anything; merely print a name (unsafe)'
complete -c rtmp -s q -l quiet -d 'Suppress diagnostics about file/dir-creation failure'
complete -c rtmp -s t -d 'TEMPLATE is one name in $TMPDIR, else in -p DIR, else in /tmp (BSD: -t PREFIX)'
complete -c rtmp -l export-tmpdir -d 'With -d: set TMPDIR to the new directory for CMD'
complete -c rtmp -l keep-on-failure -d 'Keep the path if CMD fails or dies of a signal'
complete -c rtmp -l wait-children -d 'Wait for what CMD leaves running instead of ending it'
complete -c rtmp -l cd -d 'With -d: run CMD inside the new directory'
complete -c rtmp -l anonymous -d 'With --exec, files only: the file never has a name'
complete -c rtmp -l shell -d 'A throwaway shell in a throwaway directory'
complete -c rtmp -s h -d 'Print a short help'
complete -c rtmp -l help -d 'Print the full help, with exit statuses and examples'
complete -c rtmp -s V -l version -d 'Print version'
