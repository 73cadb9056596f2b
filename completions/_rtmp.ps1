
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'rtmp' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'rtmp'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'rtmp' {
            [CompletionResult]::new('--suffix', '--suffix', [CompletionResultType]::ParameterName, 'Append SUFF to TEMPLATE')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Interpret TEMPLATE relative to DIR')
            [CompletionResult]::new('--tmpdir', '--tmpdir', [CompletionResultType]::ParameterName, 'Same as -p DIR; without DIR, use $TMPDIR or /tmp')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'Run CMD with the new path, then remove the path; must come last')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Use STR instead of {} as the placeholder')
            [CompletionResult]::new('--placeholder', '--placeholder', [CompletionResultType]::ParameterName, 'Use STR instead of {} as the placeholder')
            [CompletionResult]::new('--kill-after', '--kill-after', [CompletionResultType]::ParameterName, 'End what CMD leaves running: SIGTERM, then SIGKILL after DURATION (2s)')
            [CompletionResult]::new('--replace', '--replace', [CompletionResultType]::ParameterName, 'With --exec: write next to DEST, move over DEST only if CMD exits 0')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Without --exec: remove the path(s) when process PID exits')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Create a directory, not a file')
            [CompletionResult]::new('--directory', '--directory', [CompletionResultType]::ParameterName, 'Create a directory, not a file')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Do not create anything; merely print a name (unsafe)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Do not create anything; merely print a name (unsafe)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Suppress diagnostics about file/dir-creation failure')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Suppress diagnostics about file/dir-creation failure')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'TEMPLATE is one name in $TMPDIR, else in -p DIR, else in /tmp (BSD: -t PREFIX)')
            [CompletionResult]::new('--no-placeholder', '--no-placeholder', [CompletionResultType]::ParameterName, 'Replace nothing in CMD and its ARGs')
            [CompletionResult]::new('--export-tmpdir', '--export-tmpdir', [CompletionResultType]::ParameterName, 'With -d: set TMPDIR (and TMP, TEMP, TEMPDIR) to the new directory for CMD; the path is not appended')
            [CompletionResult]::new('--keep-on-failure', '--keep-on-failure', [CompletionResultType]::ParameterName, 'Keep the path if CMD fails or dies of a signal')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'Keep the path however CMD ends')
            [CompletionResult]::new('--wait-children', '--wait-children', [CompletionResultType]::ParameterName, 'Wait for what CMD leaves running instead of ending it')
            [CompletionResult]::new('--cd', '--cd', [CompletionResultType]::ParameterName, 'With -d: run CMD inside the new directory')
            [CompletionResult]::new('--anonymous', '--anonymous', [CompletionResultType]::ParameterName, 'With --exec, files only: the file never has a name')
            [CompletionResult]::new('--shell', '--shell', [CompletionResultType]::ParameterName, 'A throwaway shell in a throwaway directory')
            [CompletionResult]::new('--stdin', '--stdin', [CompletionResultType]::ParameterName, 'With --exec, files only: fill the file with standard input before CMD runs')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print a short help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print the full help, with exit statuses and examples')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
