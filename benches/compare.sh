#!/usr/bin/env bash
# benches/compare.sh - rtmp's performance report against GNU mktemp (see benches/README.md).
#
# Usage: benches/compare.sh [--quick] [--only a|b|c|d|e|f|g[,...]]
#
#   a  start-up: rtmp -u / rtmp / rtmp -d vs GNU mktemp (+ BusyBox, uutils: informational)
#   b  exec: rtmp -d --exec true vs a dash mktemp+trap wrapper (informational)
#   c  tree cleanup: a 20 000-file tree built and removed by rtmp --exec vs sh + mktemp +
#      rm -rf (informational)
#   d  peak RSS of rtmp -u vs GNU mktemp -u, and the binary size
#   e  exec floor: rtmp -d --exec /bin/true vs C floors (benches/floor_exec.c) and the dash idiom
#   f  tree removal: 20 000- and 200 000-file trees removed by rtmp vs rm -rf and a C remover
#      (benches/rmtree.c), the building of the tree not timed
#   g  issue 14's modes vs their shell idioms, in one hyperfine run (informational):
#      rtmp --replace vs mktemp + write + mv (without and with sync), rtmp --stdin vs
#      mktemp + trap + cat > "$tmp"
#
# Groups e and f build benches/*.c with gcc -O2 -static into the scratch directory; without
# gcc or a static libc they are skipped with a message.
#
# A report, not a test: it exits 0 whether or not the budgets are met.
set -euo pipefail
export LC_ALL=C

usage() {
    cat <<'EOF'
Usage: benches/compare.sh [--quick] [--only a|b|c|d|e|f|g[,...]]
  --quick    few runs (a smoke test; figures are not meaningful)
  --only X   run only figure group X (a start-up, b exec vs idiom, c tree cleanup,
             d RSS/size, e exec vs C floor, f tree removal, g --replace/--stdin
             vs their shell idioms); several groups may be
             given comma-separated, e.g. --only e,f
Environment:
  RTMP        the rtmp binary (default: newest of target/release/rtmp, target/*/release/rtmp)
  UU_MKTEMP   uutils' mktemp (default: benches/.uutils/bin/mktemp)
  GNU_MKTEMP  GNU mktemp (default: /usr/bin/mktemp)
  CC          C compiler for groups e and f (default: gcc)
  G_DIR       directory for group g's DEST and files (default: the tmpfs scratch, where
              fsync is free; give a directory on a disk to see what durability costs)
EOF
}

quick=0
only=""
while (($# > 0)); do
    case $1 in
    --quick) quick=1 ;;
    --only)
        if (($# < 2)); then
            echo "compare.sh: --only needs an argument" >&2
            usage >&2
            exit 2
        fi
        only=$2
        shift
        ;;
    --only=*) only=${1#--only=} ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "compare.sh: unknown argument: $1" >&2
        usage >&2
        exit 2
        ;;
    esac
    shift
done
if [[ -n $only ]]; then
    IFS=, read -r -a only_list <<<"$only"
    for g in "${only_list[@]}"; do
        case $g in
        a | b | c | d | e | f | g) ;;
        *)
            echo "compare.sh: --only takes a, b, c, d, e, f or g (got '$g')" >&2
            exit 2
            ;;
        esac
    done
fi
selected() { [[ -z $only || ",$only," == *",$1,"* ]]; }

# Work from the repository root whatever the caller's cwd.
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."
repo=$PWD

say() { printf '%s\n' "$*"; }
section() { printf '\n== %s ==\n' "$*"; }

# ---------------------------------------------------------------- tools
if ! command -v hyperfine >/dev/null 2>&1; then
    say "compare.sh: hyperfine not found; skipping the benchmarks."
    say "  install it with: apt-get install hyperfine   (or: cargo install hyperfine)"
    exit 0
fi

py=""
if command -v python3 >/dev/null 2>&1; then
    # The real interpreter, not a version-manager shim (a shim would add its own start-up).
    py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || py=""
fi
if [[ -z $py ]] && ! command -v jq >/dev/null 2>&1; then
    say "compare.sh: needs python3 or jq to read hyperfine's JSON; skipping."
    say "  install one with: apt-get install python3   (or: apt-get install jq)"
    exit 0
fi

gnu=${GNU_MKTEMP:-/usr/bin/mktemp}
if ! "$gnu" --version 2>/dev/null | grep -q 'GNU coreutils'; then
    say "compare.sh: GNU mktemp not found at $gnu (the anchor); skipping."
    say "  install it with: apt-get install coreutils   (or set GNU_MKTEMP)"
    exit 0
fi

busybox=""
if command -v busybox >/dev/null 2>&1 && busybox mktemp -u >/dev/null 2>&1; then
    busybox=$(command -v busybox)
fi

uu=${UU_MKTEMP:-$repo/benches/.uutils/bin/mktemp}
if [[ ! -x $uu ]]; then
    uu=""
fi

dash=""
for cand in /usr/bin/dash /bin/dash; do
    if [[ -x $cand ]]; then
        dash=$cand
        break
    fi
done

# ---------------------------------------------------------------- rtmp binary
if [[ -n ${RTMP:-} ]]; then
    rtmp=$RTMP
    if [[ ! -x $rtmp ]]; then
        say "compare.sh: RTMP=$rtmp is not an executable file" >&2
        exit 2
    fi
else
    rtmp=""
    for cand in target/release/rtmp target/*/release/rtmp; do
        if [[ -x $cand && ( -z $rtmp || $cand -nt $rtmp ) ]]; then
            rtmp=$cand
        fi
    done
    if [[ -z $rtmp ]]; then
        say "compare.sh: no release binary found; building it with: cargo build --release"
        cargo build --release
        rtmp=target/release/rtmp
    fi
fi
case $rtmp in
/*) ;;
*) rtmp=$repo/$rtmp ;;
esac

# ---------------------------------------------------------------- scratch (tmpfs)
if [[ -d /dev/shm && -w /dev/shm ]]; then
    base=/dev/shm
else
    base=${TMPDIR:-/tmp}
fi
scratch=$("$gnu" -d "$base/rtmp-bench.XXXXXXXXXX")
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() { rm -rf -- "$scratch"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE
tmp=$scratch/t # TMPDIR of every benchmarked command
mkdir -- "$tmp"
export TMPDIR=$tmp

if ((quick)); then
    a_runs=30 a_warm=5 b_runs=20 b_warm=3 c_runs=3 c_warm=1 d_runs=5
    e_runs=20 e_rounds=2 e_warm=2 f_runs=3 f_big_runs=3 f_rounds=3 f_warm=0
    g_runs=20 g_rounds=2 g_warm=2
else
    a_runs=1000 a_warm=50 b_runs=500 b_warm=20 c_runs=15 c_warm=2 d_runs=21
    e_runs=500 e_rounds=10 e_warm=5 f_runs=15 f_big_runs=10 f_rounds=5 f_warm=0
    g_runs=300 g_rounds=5 g_warm=5
fi

# ---------------------------------------------------------------- C helpers (e, f)
# Built once into the scratch directory. helpers_missing says why they could not be built.
cc=${CC:-gcc}
cbin=$scratch/bin
helpers_missing=""
if selected e || selected f; then
    mkdir -- "$cbin"
    if ! command -v "$cc" >/dev/null 2>&1; then
        helpers_missing="no C compiler ($cc); install: apt-get install gcc libc6-dev"
    else
        for prog in floor_exec mktree rmtree; do
            if ! "$cc" -O2 -static -pthread -Wall -Wextra -o "$cbin/$prog" "benches/$prog.c" \
                2>"$scratch/cc.log"; then
                helpers_missing="$cc -O2 -static failed on benches/$prog.c (static libc missing? apt-get install libc6-dev):
$(head -n 5 -- "$scratch/cc.log")"
                break
            fi
            if [[ -s $scratch/cc.log ]]; then
                say "compare.sh: warnings building benches/$prog.c:"
                cat -- "$scratch/cc.log"
            fi
        done
    fi
fi

say "rtmp benchmark report ($( ((quick)) && echo quick || echo full) run)"
say "  rtmp:      $rtmp ($(stat -c '%s bytes, modified %y' -- "$rtmp"))"
say "  GNU:       $gnu ($("$gnu" --version | head -n 1))"
say "  busybox:   ${busybox:-absent (informational only; install: apt-get install busybox)}"
if [[ -n $uu ]]; then
    say "  uutils:    $uu"
else
    say "  uutils:    absent (informational only; install: cargo install uu_mktemp --root benches/.uutils, or set UU_MKTEMP)"
fi
say "  dash:      ${dash:-absent}"
if selected e || selected f; then
    if [[ -z $helpers_missing ]]; then
        say "  C floors:  $cbin ($("$cc" --version | head -n 1); -O2 -static)"
    else
        say "  C floors:  not built: $helpers_missing"
    fi
fi
say "  scratch:   $scratch ($(stat -f -c %T -- "$scratch"))"
say "  hyperfine: $(hyperfine --version)"
say "  cpus:      $(nproc 2>/dev/null || echo '?'); load: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"

# ---------------------------------------------------------------- helpers
q() { printf '%q' "$1"; } # quote one word for hyperfine -N (shell-words splitting)

results=()
met=0
total=0
json_n=0

# medians JSON [NAME...]: one median (seconds) per benchmarked command, in order. With NAMEs,
# the commands were run in rounds (see bench_rounds) and named "NAME [r/R]": one median per
# NAME, in the order given, over the pooled times of all its rounds.
medians() {
    if [[ -n $py ]]; then
        "$py" - "$@" <<'EOF'
import json, re, sys
res = json.load(open(sys.argv[1]))["results"]
if len(sys.argv) > 2:
    groups = [[x for r in res if re.sub(r" \[\d+/\d+\]$", "", r["command"]) == name
               for x in r["times"]] for name in sys.argv[2:]]
else:
    groups = [r["times"] for r in res]
for t in groups:
    t = sorted(t)
    k = len(t)
    print(repr(t[k // 2] if k % 2 else (t[k // 2 - 1] + t[k // 2]) / 2) if k else "nan")
EOF
    else
        local json=$1
        shift
        jq -r --args 'def median: sort | length as $k
                | if $k % 2 == 1 then .[($k - 1) / 2] else (.[$k / 2 - 1] + .[$k / 2]) / 2 end;
            .results as $res
            | if $ARGS.positional == [] then $res[] | .times | median
              else $ARGS.positional[] as $name
                | [$res[] | select((.command | sub(" \\[[0-9]+/[0-9]+\\]$"; "")) == $name)
                   | .times[]] | median
              end' \
            "$@" <"$json"
    fi
}

# record LINE [BUDGETED]: keep a figure line for the summary; count budgets.
record() {
    say ">> $1"
    results+=("$1")
    if [[ ${2:-} == budget ]]; then
        total=$((total + 1))
        if [[ $1 == *": PASS" ]]; then
            met=$((met + 1))
        fi
    fi
}

# figure NAME RTMP_S ANCHOR_S ANCHOR_LABEL [BUDGET]
# The left side is called "rtmp" unless $lhs names it (lhs=X figure ...).
figure() {
    local line
    line=$(awk -v n="$1" -v r="$2" -v a="$3" -v l="$4" -v b="${5:-}" -v x="${lhs:-rtmp}" 'BEGIN {
        ratio = sprintf("%.2f", r / a)
        s = sprintf("%s: ratio %s (%s %.3f ms vs %s %.3f ms)", n, ratio, x, r * 1000, l, a * 1000)
        if (b == "") s = s " informational"
        else s = s sprintf(" budget <= %.2f: %s", b, (ratio + 0 <= b + 0) ? "PASS" : "FAIL")
        print s
    }')
    if [[ -n ${5:-} ]]; then
        record "$line" budget
    else
        record "$line"
    fi
}

# failed NAME [BUDGET [WHY]]: a figure that could not be measured counts as not met.
failed() {
    local why=${3:-ERROR (measurement failed)}
    if [[ -n ${2:-} ]]; then
        record "$1: $why budget <= $2: FAIL" budget
    else
        record "$1: $why informational"
    fi
}

# leftovers WHERE: warn when a benchmarked command left something in TMPDIR.
leftovers() {
    local left
    left=$(find "$tmp" -mindepth 1 -maxdepth 1 | wc -l)
    if ((left > 0)); then
        say "warning: $left entries left in TMPDIR after $1: a path was not removed"
    fi
    find "$tmp" -mindepth 1 -delete
}

# bench RUNS WARMUP [hyperfine args...]: run hyperfine -N; sets med[] (medians, seconds).
bench() {
    local runs=$1 warm=$2
    shift 2
    json_n=$((json_n + 1))
    local json=$scratch/hyperfine.$json_n.json
    med=()
    if ! hyperfine -N --runs "$runs" --warmup "$warm" --export-json "$json" "$@"; then
        return 1
    fi
    mapfile -t med < <(medians "$json")
}

# bench_rounds ROUNDS RUNS WARMUP: one hyperfine invocation over the commands in the arrays
# names[] and cmds[] (and, when preps[] is not empty, one --prepare per command), the whole
# list repeated ROUNDS times with RUNS runs each time, each round starting one command
# later (round 2 runs commands 2..N,1; ...). hyperfine runs all the runs of one command
# before the next one, so on a machine whose load drifts a single block per command would
# compare different minutes; the rounds interleave the commands at block level.
# Sets med[] to one median per command over all its rounds (seconds). hyperfine's own
# per-block output goes to a log; the pooled medians are printed instead.
bench_rounds() {
    local rounds=$1 runs=$2 warm=$3 r i j
    local args=() prep_args=() n=${#cmds[@]}
    json_n=$((json_n + 1))
    local json=$scratch/hyperfine.$json_n.json log=$scratch/hyperfine.$json_n.log
    med=()
    for ((r = 1; r <= rounds; r++)); do
        for ((j = 0; j < n; j++)); do
            i=$(((j + r - 1) % n))
            args+=(-n "${names[i]} [$r/$rounds]" "${cmds[i]}")
            if ((${#preps[@]} > 0)); then
                prep_args+=(--prepare "${preps[i]}")
            fi
        done
    done
    say "hyperfine -N: $n commands x $rounds rounds x $runs runs (+$warm warm-up per block)"
    if ! hyperfine -N --style basic --runs "$runs" --warmup "$warm" --export-json "$json" \
        "${prep_args[@]}" "${args[@]}" >"$log" 2>&1; then
        tail -n 20 -- "$log"
        return 1
    fi
    mapfile -t med < <(medians "$json" "${names[@]}")
    for ((i = 0; i < n && i < ${#med[@]}; i++)); do
        awk -v l="${names[i]}" -v m="${med[i]}" -v k=$((rounds * runs)) \
            'BEGIN { printf "  %-34s median %9.3f ms over %d runs\n", l, m * 1000, k }'
    done
}

# ---------------------------------------------------------------- (a) start-up
if selected a; then
    section "(a) start-up: rtmp vs GNU mktemp, same arguments (TMPDIR on tmpfs)"
    # The created files/dirs are removed before each run by a shell-free prepare command.
    prepare="find $(q "$tmp") -mindepth 1 -delete"
    for variant in -u "" -d; do
        case $variant in
        -u) name=a-startup-u ;;
        -d) name=a-startup-d ;;
        *) name=a-startup-file ;;
        esac
        cmds=(-n "rtmp${variant:+ $variant}" "$(q "$rtmp")${variant:+ $variant}"
            -n "GNU mktemp${variant:+ $variant}" "$(q "$gnu")${variant:+ $variant}")
        labels=(GNU)
        if [[ -n $busybox ]]; then
            cmds+=(-n "busybox mktemp${variant:+ $variant}" "$(q "$busybox") mktemp${variant:+ $variant}")
            labels+=(busybox)
        fi
        if [[ -n $uu ]]; then
            cmds+=(-n "uutils mktemp${variant:+ $variant}" "$(q "$uu")${variant:+ $variant}")
            labels+=(uutils)
        fi
        extra=()
        if [[ $variant != -u ]]; then
            extra=(--prepare "$prepare")
        fi
        if bench "$a_runs" "$a_warm" "${extra[@]}" "${cmds[@]}" && ((${#med[@]} == ${#labels[@]} + 1)); then
            figure "$name" "${med[0]}" "${med[1]}" GNU 1.00
            for ((i = 1; i < ${#labels[@]}; i++)); do
                figure "$name-vs-${labels[i]}" "${med[0]}" "${med[i + 1]}" "${labels[i]}"
            done
        else
            failed "$name" 1.00
        fi
        find "$tmp" -mindepth 1 -delete
    done
fi

# ---------------------------------------------------------------- (b) exec
if selected b; then
    section "(b) exec: rtmp -d --exec true vs dash + mktemp -d + trap rm -rf (informational; see e)"
    if [[ -z $dash ]]; then
        say "dash not found (/usr/bin/dash, /bin/dash): skipping (b); install: apt-get install dash"
        failed b-exec
    else
        # $0 is GNU mktemp, so no path is nested inside the script's quoting.
        # shellcheck disable=SC2016 # expanded by dash, not here
        wrapper='t=$("$0" -d) && trap "rm -rf \"\$t\"" EXIT && true "$t"'
        if bench "$b_runs" "$b_warm" \
            -n "rtmp -d --exec true" "$(q "$rtmp") -d --exec true" \
            -n "dash mktemp -d + trap" "$(q "$dash") -c $(q "$wrapper") $(q "$gnu")" &&
            ((${#med[@]} == 2)); then
            figure b-exec "${med[0]}" "${med[1]}" dash+mktemp
        else
            failed b-exec
        fi
        find "$tmp" -mindepth 1 -delete
    fi
fi

# ---------------------------------------------------------------- (c) tree cleanup
if selected c; then
    section "(c) tree cleanup: 20 000 files in 100 dirs, rtmp -d --exec vs sh + mktemp -d + rm -rf (informational; see f)"
    if [[ -z $py ]]; then
        say "python3 not found: skipping (c) (the populate program is a python3 script)"
        failed c-tree
    else
        pop=$scratch/populate.py
        cat >"$pop" <<'EOF'
# populate.py DIR: 100 directories of 200 empty files each (20 000 files) under DIR.
import os, sys
root = sys.argv[1]
flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY
for i in range(100):
    d = os.path.join(root, "d%03d" % i)
    os.mkdir(d)
    for j in range(200):
        os.close(os.open(os.path.join(d, "f%03d" % j), flags, 0o600))
EOF
        # shellcheck disable=SC2016 # expanded by sh, not here
        anchor='d=$("$0" -d) && "$1" "$2" "$d" && rm -rf "$d"'
        if bench "$c_runs" "$c_warm" \
            -n "rtmp -d --exec populate" "$(q "$rtmp") -d --exec $(q "$py") $(q "$pop")" \
            -n "sh mktemp -d; populate; rm -rf" "/bin/sh -c $(q "$anchor") $(q "$gnu") $(q "$py") $(q "$pop")" &&
            ((${#med[@]} == 2)); then
            figure c-tree "${med[0]}" "${med[1]}" sh+mktemp+rm
            left=$(find "$tmp" -mindepth 1 -maxdepth 1 | wc -l)
            if ((left > 0)); then
                say "warning: $left entries left in TMPDIR after (c): a tree was not removed"
            fi
        else
            failed c-tree
        fi
        find "$tmp" -mindepth 1 -delete
    fi
fi

# ---------------------------------------------------------------- (d) RSS and size
if selected d; then
    section "(d) peak RSS of -u ($d_runs runs each, median) and binary size"
    time_bin=""
    if [[ -x /usr/bin/time ]] && /usr/bin/time -f %M -o /dev/null true >/dev/null 2>&1; then
        time_bin=/usr/bin/time
    fi
    rss_file=$scratch/rss
    # rss_once CMD...: peak RSS (KiB) of one run of CMD.
    rss_once() {
        if [[ -n $time_bin ]]; then
            "$time_bin" -f %M -o "$rss_file" -- "$@" >/dev/null 2>&1
            tail -n 1 -- "$rss_file"
        else
            # getrusage fallback: the child's peak includes the pages it had before exec
            # (a copy of python's), so the floor is python's own RSS: coarse.
            "$py" - "$@" <<'EOF'
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
EOF
        fi
    }
    # rss_median CMD...: median of d_runs runs.
    rss_median() {
        local i
        for ((i = 0; i < d_runs; i++)); do
            rss_once "$@"
        done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
    }
    if [[ -n $time_bin || -n $py ]]; then
        if [[ -n $time_bin ]]; then
            say "method: $time_bin -f %M (its floor, /usr/bin/true: $(rss_median true) KiB)"
        else
            say "method: python3 getrusage(RUSAGE_CHILDREN) fallback (floor, /usr/bin/true: $(rss_median true) KiB;"
            say "        readings at the floor are inconclusive; install GNU time: apt-get install time)"
        fi
        r_rss=$(rss_median "$rtmp" -u)
        g_rss=$(rss_median "$gnu" -u)
        if [[ $r_rss =~ ^[0-9]+$ && $g_rss =~ ^[0-9]+$ ]]; then
            delta=$((r_rss - g_rss))
            verdict=FAIL
            if ((delta <= 1024)); then
                verdict=PASS
            fi
            record "d-rss-u: rtmp $r_rss KiB vs GNU $g_rss KiB (delta $(printf '%+d' "$delta") KiB) budget <= +1024 KiB: $verdict" budget
        else
            failed d-rss-u "+1024 KiB"
        fi
        if [[ -n $busybox ]]; then
            record "d-rss-u-busybox: busybox mktemp -u $(rss_median "$busybox" mktemp -u) KiB informational"
        fi
        if [[ -n $uu ]]; then
            record "d-rss-u-uutils: uutils mktemp -u $(rss_median "$uu" -u) KiB informational"
        fi
        find "$tmp" -mindepth 1 -delete
    else
        say "neither /usr/bin/time nor python3: cannot measure RSS (install: apt-get install time)"
        failed d-rss-u "+1024 KiB"
    fi

    # strip_state FILE: "stripped", "not stripped" or "strip state unknown".
    strip_state() {
        local desc
        if command -v file >/dev/null 2>&1; then
            desc=$(file -bL -- "$1")
            case $desc in
            *"not stripped"*) echo "not stripped" ;;
            *stripped*) echo stripped ;;
            *) echo "strip state unknown" ;;
            esac
        else
            echo "strip state unknown: file(1) absent, apt-get install file"
        fi
    }
    r_size=$(stat -L -c %s -- "$rtmp")
    g_size=$(stat -L -c %s -- "$gnu")
    record "d-size: rtmp $r_size bytes ($((r_size / 1024)) KiB, $(strip_state "$rtmp")) vs GNU mktemp $g_size bytes ($((g_size / 1024)) KiB, $(strip_state "$gnu")) informational"
fi

# ---------------------------------------------------------------- (e) exec vs C floor
if selected e; then
    section "(e) exec: rtmp -d --exec /bin/true vs C floors (benches/floor_exec.c) and the dash idiom"
    if [[ -n $helpers_missing ]]; then
        say "skipping (e): $helpers_missing"
        failed e-exec-floor 1.10 "SKIPPED (C floors not built)"
    else
        floor=$cbin/floor_exec
        # rtmp runs from a copy beside the floors: two copies of one binary, one on a disk
        # file system and one on tmpfs, differ by up to 3 % here (page cache), more than the
        # effects measured.
        e_rtmp=$cbin/rtmp
        cp -- "$rtmp" "$e_rtmp"
        names=("rtmp -d --exec /bin/true" "floor -w (watchdog)" "floor -W (watchdog, reaped)"
            "floor (no watchdog)" "floor -g (watchdog creates)")
        cmds=("$(q "$e_rtmp") -d --exec /bin/true" "$(q "$floor") -w /bin/true"
            "$(q "$floor") -W /bin/true" "$(q "$floor") /bin/true" "$(q "$floor") -g /bin/true")
        preps=()
        if [[ -n $dash ]]; then
            # shellcheck disable=SC2016 # expanded by dash, not here
            wrapper='t=$("$0" -d) && trap "rm -rf \"\$t\"" EXIT && /bin/true "$t"'
            names+=("dash mktemp -d + trap")
            cmds+=("$(q "$dash") -c $(q "$wrapper") $(q "$gnu")")
        else
            say "dash not found: the idiom ratio is left out; install: apt-get install dash"
        fi
        if bench_rounds "$e_rounds" "$((e_runs / e_rounds))" "$e_warm" && ((${#med[@]} == ${#cmds[@]})); then
            figure e-exec-floor "${med[0]}" "${med[1]}" floor-watchdog 1.10
            figure e-exec-floor-reaped "${med[0]}" "${med[2]}" floor-watchdog-reaped
            figure e-exec-floor-bare "${med[0]}" "${med[3]}" floor-bare
            figure e-exec-floor-creates "${med[0]}" "${med[4]}" floor-watchdog-creates
            if [[ -n $dash ]]; then
                figure e-exec-idiom "${med[0]}" "${med[5]}" dash+mktemp
            fi
        else
            failed e-exec-floor 1.10
        fi
        leftovers "(e)"
    fi
fi

# ---------------------------------------------------------------- (f) tree removal
if selected f; then
    section "(f) tree removal: rtmp vs rm -rf and benches/rmtree.c -j 2 / -j 1 (building not timed)"
    rm_bin=$(command -v rm)
    if [[ -n $helpers_missing ]]; then
        say "skipping (f): $helpers_missing"
        failed f-tree-20k 0.70 "SKIPPED (C floors not built)"
        failed f-tree-200k 0.70 "SKIPPED (C floors not built)"
    else
        mktree=$cbin/mktree
        rmtree=$cbin/rmtree
        # The tree is built by --prepare before every run (warm-ups included), outside TMPDIR
        # but on the same filesystem. rtmp's side moves it into rtmp's fresh directory with
        # one rename (mktree -m SRC PATH) and removes it; the other sides remove SRC itself.
        src=$scratch/src
        # f_tree NAME RUNS TOP SUB FILES
        f_tree() {
            local name=$1 runs=$2 build
            build="$(q "$mktree") $(q "$src") $3 $4 $5"
            rm -rf -- "$src"
            say "$name: $(($3 * $4 * $5)) files in $(($3 + $3 * $4)) directories ($3 x $4 x $5)"
            names=("rtmp -d --exec mktree -m SRC" "rm -rf SRC" "rmtree -j 2 SRC" "rmtree -j 1 SRC")
            cmds=("$(q "$rtmp") -d --exec $(q "$mktree") -m $(q "$src")"
                "$(q "$rm_bin") -rf $(q "$src")"
                "$(q "$rmtree") -j 2 $(q "$src")"
                "$(q "$rmtree") -j 1 $(q "$src")")
            preps=("$build" "$build" "$build" "$build")
            if bench_rounds "$f_rounds" "$((runs / f_rounds))" "$f_warm" && ((${#med[@]} == 4)); then
                figure "$name" "${med[0]}" "${med[1]}" "rm -rf" 0.70
                figure "$name-vs-rmtree-j2" "${med[0]}" "${med[2]}" "rmtree -j 2"
                figure "$name-vs-rmtree-j1" "${med[0]}" "${med[3]}" "rmtree -j 1"
                lhs="rmtree -j 2" figure "$name-floor-j2" "${med[2]}" "${med[1]}" "rm -rf"
                lhs="rmtree -j 1" figure "$name-floor-j1" "${med[3]}" "${med[1]}" "rm -rf"
            else
                failed "$name" 0.70
            fi
            if [[ -e $src ]]; then
                say "warning: $src still exists after $name"
                rm -rf -- "$src"
            fi
            leftovers "$name"
        }
        f_tree f-tree-20k "$f_runs" 20 10 100
        f_tree f-tree-200k "$f_big_runs" 20 100 100
    fi
fi

# ---------------------------------------------------------------- (g) issue 14's modes
if selected g; then
    section "(g) issue 14: rtmp --replace / --stdin vs their shell idioms (informational)"
    if [[ -z $dash ]]; then
        say "dash not found (/usr/bin/dash, /bin/dash): skipping (g); install: apt-get install dash"
        failed g-replace
        failed g-stdin
        failed g-until
    else
        # Every side runs its writer through dash, so the ratios compare what is around it:
        # rtmp's creation, sync, rename and cleanup vs mktemp + mv (+ sync) or mktemp + trap.
        # On the tmpfs scratch fsync costs nothing, so the sync ratio shows the cost of the
        # extra processes only; G_DIR puts DEST on a disk instead. gen writes 64 KiB.
        gdir=$("$gnu" -d "${G_DIR:-$scratch}/rtmp-bench-g.XXXXXX")
        say "DEST in $gdir ($(stat -f -c %T -- "$gdir"))"
        dest=$gdir/dest
        printf 'old\n' >"$dest"
        input=$gdir/input # 1 MiB, piped in by cat on every side of the --stdin figure
        head -c 1048576 /dev/zero >"$input"
        sync_bin=$(command -v sync)
        mv_bin=$(command -v mv)
        # shellcheck disable=SC2016 # expanded by dash, not here
        {
            gen='head -c 65536 /dev/zero > "$1"'
            idiom='t=$("$1" "$0.XXXXXX") && head -c 65536 /dev/zero > "$t" && "$2" -f -- "$t" "$0"'
            idiom_sync='t=$("$1" "$0.XXXXXX") && head -c 65536 /dev/zero > "$t" && "$3" -- "$t" && "$2" -f -- "$t" "$0" && "$3" -- "${0%/*}"'
            stdin_rtmp='cat -- "$0" | "$1" --stdin --exec wc -c'
            stdin_idiom='t=$("$1") && trap "rm -f -- \"\$t\"" EXIT && cat -- "$0" > "$t" && wc -c "$t"'
            # A script's scratch directory: --until's guardian removes it after the script has
            # exited (not timed: that is the point), the idiom's trap inside the script.
            until_rtmp='d=$("$0" -d --until $$) && touch "$d/x"'
            until_idiom='d=$("$0" -d) && trap "rm -rf -- \"\$d\"" EXIT && touch "$d/x"'
        }
        names=("rtmp --replace" "mktemp + mv" "mktemp + sync + mv + sync"
            "rtmp --stdin" "mktemp + trap + cat >" "rtmp -d --until" "mktemp -d + trap")
        cmds=("$(q "$rtmp") --replace $(q "$dest") --exec $(q "$dash") -c $(q "$gen") sh"
            "$(q "$dash") -c $(q "$idiom") $(q "$dest") $(q "$gnu") $(q "$mv_bin")"
            "$(q "$dash") -c $(q "$idiom_sync") $(q "$dest") $(q "$gnu") $(q "$mv_bin") $(q "$sync_bin")"
            "$(q "$dash") -c $(q "$stdin_rtmp") $(q "$input") $(q "$rtmp")"
            "$(q "$dash") -c $(q "$stdin_idiom") $(q "$input") $(q "$gnu")"
            "$(q "$dash") -c $(q "$until_rtmp") $(q "$rtmp")"
            "$(q "$dash") -c $(q "$until_idiom") $(q "$gnu")")
        preps=()
        if bench_rounds "$g_rounds" "$((g_runs / g_rounds))" "$g_warm" && ((${#med[@]} == 7)); then
            figure g-replace "${med[0]}" "${med[1]}" mktemp+mv
            figure g-replace-vs-sync "${med[0]}" "${med[2]}" mktemp+sync+mv+sync
            figure g-stdin "${med[3]}" "${med[4]}" mktemp+trap+cat
            figure g-until "${med[5]}" "${med[6]}" mktemp+trap
        else
            failed g-replace
            failed g-stdin
            failed g-until
        fi
        left=$(find "$gdir" -mindepth 1 -maxdepth 1 | wc -l)
        if ((left != 2)); then
            say "warning: $((left - 2)) entries left beside DEST after (g): a temporary was not removed"
        fi
        rm -rf -- "$gdir"
        leftovers "(g)"
    fi
fi

# ---------------------------------------------------------------- summary
section summary
if ((${#results[@]} > 0)); then
    printf '%s\n' "${results[@]}"
fi
say "budget: $met of $total met"
exit 0
