_rtmp() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="rtmp"
                ;;
            *)
                ;;
        esac
    done

    # rtmp: after --exec CMD the words are CMD's; --tmpdir takes DIR only after '='.
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
        rtmp)
            opts="-d -u -q -p -t -I -h -V --directory --dry-run --quiet --suffix --tmpdir= --exec --placeholder --no-placeholder --export-tmpdir --keep-on-failure --keep --kill-after --wait-children --cd --anonymous --shell --stdin --replace --until --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
                return 0
            fi
            case "${prev}" in
                --suffix)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -p)
                    COMPREPLY=($(compgen -d -- "${cur}"))
                    return 0
                    ;;
                --exec)
                    COMPREPLY=($(compgen -c -- "${cur}"))
                    return 0
                    ;;
                --placeholder)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -I)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kill-after)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --replace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --until)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _rtmp -o nosort -o bashdefault -o default rtmp
else
    complete -F _rtmp -o bashdefault -o default rtmp
fi
