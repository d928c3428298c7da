#!/usr/bin/env bash
# The mutation check for the suites: plant one classic student bug at a time
# (scripts/mutants/*.patch) in a scratch copy of the workspace, run the suites
# that should catch it with fail-fast, and report which test killed it and how
# fast. Exits non-zero if any planted bug survives (or a mutant fails to
# apply or build). See docs/TESTING.md, "Mutation check".
#
# Usage: scripts/mutants.sh [options]
#   --list           list the planted bugs and exit
#   --only NAME      run only this mutant (its file name without .patch, or the
#                    tag before its first '-', e.g. 'a' or 'd2'); repeatable,
#                    or comma-separated
#   --tree           copy the working tree (tracked and untracked, not ignored
#                    files) instead of the committed HEAD
#   --rev REV        copy commit REV instead of HEAD
#   --keep           keep the scratch copy (its path is printed)
#   --runs N         run a surviving mutant's suites up to N times in all
#                    (default 1), for bugs that show only under some timings
#   --baseline       first run every selected suite on the unmutated copy and
#                    stop if that fails (a kill means nothing on a red suite)
#   --target-dir D   cargo target dir shared by all mutants (default:
#                    $CARGO_TARGET_DIR/mutants, or target/mutants)
#   --log-dir D      where the per-mutant nextest logs and table.md go
#                    (default: <target dir>/logs)
#   --dir D          take the patches from folder D instead of scripts/mutants
#                    (e.g. scripts/mutants-survivors: bugs the suites miss)
#   --sim N          also run the swarm test of each mutant's crate alone, on
#                    seeds 1..N (stopping at the first failing seed), and add
#                    the column "killed by the swarm alone" with the number of
#                    seeds it took
#   --sim-only N     the swarm alone, without the suites
#   -h, --help       this text
#
# The sources come from HEAD (or --rev / --tree); the patches always come
# from this checkout's scripts/mutants/. Each patch starts with a header of
# '# key: value' lines: 'mutant', 'plants', 'classic', and optionally
# 'suites', a nextest filterset (default: the integration tests of the crates
# the patch touches, 'package(X) & kind(test)'), and optionally 'swarm', the
# swarm test that --sim runs, as 'package:binary:test' (default: raft's
# swarm_raft for raft, the classic KV swarm for kvraft/src/classic, the KV
# swarm for rsm and the rest of kvraft). The suites never include the swarm
# binaries: --sim reports the swarm apart. Unit tests inside the crates
# are never run: they test this implementation's internals, so they would
# "know" the bug; a student's code has only the integration suites.
#
# Timing: "kill s" is the wall time from the start of the test run (the build
# is done beforehand and timed separately) to the first failing test's line;
# with `--max-fail 1:immediate` nextest then stops everything else at once.
set -euo pipefail

die() {
    echo "mutants.sh: $*" >&2
    exit 2
}

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MUTANT_DIR="$ROOT/scripts/mutants"

only=()
list=0
tree=0
rev=HEAD
keep=0
runs=1
baseline=0
sim=0
suites=1
target_dir="${CARGO_TARGET_DIR:-$ROOT/target}/mutants"
log_dir=""

while (($#)); do
    case "$1" in
        --list) list=1 ;;
        --only)
            (($# >= 2)) || die "--only needs a name"
            IFS=',' read -r -a names <<<"$2"
            only+=("${names[@]}")
            shift
            ;;
        --only=*)
            IFS=',' read -r -a names <<<"${1#--only=}"
            only+=("${names[@]}")
            ;;
        --tree) tree=1 ;;
        --rev)
            (($# >= 2)) || die "--rev needs a commit"
            rev="$2"
            shift
            ;;
        --keep) keep=1 ;;
        --runs)
            (($# >= 2)) || die "--runs needs a number"
            runs="$2"
            shift
            ;;
        --baseline) baseline=1 ;;
        --dir)
            (($# >= 2)) || die "--dir needs a folder of patches"
            MUTANT_DIR=$(cd "$2" && pwd) || die "no folder '$2'"
            shift
            ;;
        --sim | --sim-only)
            (($# >= 2)) || die "$1 needs a number of seeds"
            [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 wants a positive number of seeds, not '$2'"
            sim="$2"
            [[ "$1" == --sim-only ]] && suites=0
            shift
            ;;
        --target-dir)
            (($# >= 2)) || die "--target-dir needs a directory"
            target_dir="$2"
            shift
            ;;
        --log-dir)
            (($# >= 2)) || die "--log-dir needs a directory"
            log_dir="$2"
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive number, not '$runs'"

# --- the planted bugs -------------------------------------------------------

# header FILE KEY: the value of '# KEY: ...' in the patch header, with its
# indented continuation lines joined by spaces.
header() {
    awk -v key="$2" '
        /^diff --git / { exit }
        $0 ~ "^# " key ":" { sub("^# " key ": *", ""); val = $0; on = 1; next }
        on && /^#   / { sub(/^# +/, ""); val = val " " $0; next }
        { on = 0 }
        END { print val }
    ' "$1"
}

# Default suites: the integration tests of every crate the patch touches.
default_suites() {
    local crates
    crates=$(grep -E '^\+\+\+ b/' "$1" | sed -E 's|^\+\+\+ b/([^/]+)/.*|\1|' | sort -u)
    local expr=""
    for c in $crates; do
        expr+="${expr:+ | }package($c)"
    done
    echo "($expr) & kind(test)"
}

SWARM_BINARIES='binary(swarm_test) | binary(classic_swarm_test)'

suites_of() {
    local s
    s=$(header "$1" suites)
    if [[ -z "$s" ]]; then
        s=$(default_suites "$1")
    fi
    echo "($s) & !($SWARM_BINARIES)"
}

# The swarm test for a patch: 'package:binary:test'.
swarm_of() {
    local s
    s=$(header "$1" swarm)
    if [[ -n "$s" ]]; then
        echo "$s"
        return
    fi
    local files
    files=$(grep -E '^\+\+\+ b/' "$1" | sed -E 's|^\+\+\+ b/||')
    if grep -q '^raft/' <<<"$files"; then
        echo "raft:swarm_test:swarm_raft"
    elif grep -q '^kvraft/src/classic/' <<<"$files"; then
        echo "kvraft:classic_swarm_test:swarm_kv_classic"
    else
        echo "kvraft:swarm_test:swarm_kv"
    fi
}

# The -p flags to build only what a filterset can select.
packages_of() {
    grep -oE 'package\([a-z_0-9-]+\)' <<<"$1" | sed -E 's/package\((.*)\)/-p \1/' | sort -u | tr '\n' ' '
}

shopt -s nullglob
all=("$MUTANT_DIR"/*.patch)
shopt -u nullglob
((${#all[@]})) || die "no patches in $MUTANT_DIR"

selected=()
for p in "${all[@]}"; do
    name=$(basename "$p" .patch)
    if ((${#only[@]})); then
        hit=0
        for o in "${only[@]}"; do
            [[ "$o" == "$name" || "$o" == "${name%%-*}" ]] && hit=1
        done
        ((hit)) || continue
    fi
    selected+=("$p")
done
if ((${#only[@]})) && ((${#selected[@]} == 0)); then
    die "no mutant matches --only ${only[*]} (see --list)"
fi

if ((list)); then
    for p in "${selected[@]}"; do
        printf '%-36s %s\n' "$(basename "$p" .patch)" "$(header "$p" plants)"
        printf '%-36s suites: %s\n' "" "$(suites_of "$p")"
        printf '%-36s swarm: %s\n' "" "$(swarm_of "$p")"
    done
    exit 0
fi

command -v cargo >/dev/null || die "cargo not found"
cargo nextest --version >/dev/null 2>&1 || die "cargo-nextest not installed (cargo install cargo-nextest --locked)"

# --- the scratch copy -------------------------------------------------------

# One fixed scratch path per user: cargo keys its build cache on the
# workspace's path, so with one path and one target dir only the crates a
# mutant changes (and their dependents) rebuild.
scratch="${MUTANTS_SCRATCH:-${TMPDIR:-/tmp}/mutants-scratch-$(id -u)}"
mkdir -p "$target_dir"
target_dir=$(cd "$target_dir" && pwd)
log_dir="${log_dir:-$target_dir/logs}"
mkdir -p "$log_dir"

# Two runs must share neither the scratch copy nor the target dir (cargo's
# output names do not depend on the workspace's path).
exec 9>"$scratch.lock"
flock -n 9 || die "another mutants.sh run is using $scratch"
exec 8>"$target_dir/mutants.lock"
flock -n 8 || die "another mutants.sh run is using $target_dir"

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if ((keep)); then
        echo "scratch copy kept: $scratch" >&2
    else
        rm -rf "$scratch"
    fi
    rm -f "$scratch.lock"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -rf "$scratch"
mkdir -p "$scratch"
if ((tree)); then
    source_desc="working tree of $ROOT"
    (
        cd "$ROOT"
        git ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do
                if [[ -e "$f" || -L "$f" ]]; then printf '%s\0' "$f"; fi
            done |
            tar --null -T - -cf -
    ) | tar -xf - -C "$scratch"
else
    commit=$(git -C "$ROOT" rev-parse --verify "$rev^{commit}") || die "no commit '$rev'"
    source_desc="commit $(git -C "$ROOT" log -1 --format='%h %s' "$commit")"
    git -C "$ROOT" archive "$commit" | tar -xf - -C "$scratch"
fi
# Every source newer than anything a previous run left in the target dir:
# the first build here rebuilds the workspace's own crates (not its
# dependencies), so no mutant's artifact from an earlier run is ever reused.
find "$scratch" -type f -exec touch {} +

# git apply outside any repository (the scratch copy has none).
export GIT_CEILING_DIRECTORIES
GIT_CEILING_DIRECTORIES=$(dirname "$scratch")
apply() { (cd "$scratch" && git apply "$@"); }

export CARGO_TARGET_DIR="$target_dir"
# Mutants may leave an unused variable behind: never deny warnings here.
export RUSTFLAGS="${MUTANTS_RUSTFLAGS-}"
unset CARGO_ENCODED_RUSTFLAGS
export NEXTEST_SHOW_PROGRESS=none NO_COLOR=1 CARGO_TERM_COLOR=never

# Microseconds since the epoch, and seconds (one decimal) since such a stamp.
now() {
    local t=${EPOCHREALTIME/[.,]/}
    echo "$t"
}
since() {
    local t=${EPOCHREALTIME/[.,]/}
    local d=$(((t - $1) / 100000))
    printf '%d.%d' $((d / 10)) $((d % 10))
}

# run_suites FILTER LOG: runs the suites with fail-fast and prints
# "<status> <seconds> <test's own seconds> <test>": killed (seconds to the
# first failing test's line), survived or error (seconds of the whole run).
FAIL_RE='^[[:space:]]*(FAIL|TIMEOUT|SIG[A-Z]+|ABORT|LEAK-FAIL|FLAKY-FAIL)[[:space:]]+\['
# The failing check's message: the tester's first "Fatal:" line, else the
# line after the first panic, shortened for a table cell.
why_of() {
    local msg
    msg=$(cut -f2- "$1" | grep -m1 -oE 'Fatal: .*' || true)
    if [[ -z "$msg" ]]; then
        msg=$(cut -f2- "$1" | grep -m1 -A1 -E 'panicked at' | tail -1 || true)
    fi
    msg=$(sed -E 's/^[[:space:]]+//; s/\|/\\|/g; s/`//g' <<<"$msg")
    if ((${#msg} > 110)); then
        msg="${msg:0:107}..."
    fi
    echo "$msg"
}

# Each output line is stamped with the seconds since the run started.
run_suites() {
    local filter="$1" log="$2" pkgs
    pkgs=$(packages_of "$filter")
    local start
    start=$(now)
    local rc=0
    set +e
    # shellcheck disable=SC2086 # $pkgs is a list of flags
    (cd "$scratch" && exec cargo nextest run --profile fast --max-fail 1:immediate \
        $pkgs -E "$filter" 2>&1) |
        while IFS= read -r line; do
            printf '%s\t%s\n' "$(since "$start")" "$line"
        done >"$log"
    rc=${PIPESTATUS[0]}
    set -e
    local total first test own at
    total=$(since "$start")
    first=$(cut -f2- "$log" | grep -m1 -E "$FAIL_RE" || true)
    if [[ -n "$first" ]]; then
        at=$(grep -m1 -F -- "$first" "$log" | cut -f1)
        # "        FAIL [   1.234s] (3/28) raft::raft_test figure8_3c"
        own=$(sed -E 's/^[^[]*\[ *([0-9.]+)s.*/\1/' <<<"$first")
        test=$(sed -E 's/^[^]]*\] *(\([0-9]+\/[0-9]+\) *)?//' <<<"$first")
        echo "killed $at $own $test" >"$log.verdict"
        why_of "$log" >>"$log.verdict"
        head -1 "$log.verdict"
    elif ((rc == 0)); then
        echo "survived $total - -"
    else
        echo "error $total - exit-code-$rc"
    fi
}

# run_swarm SPEC LOG: builds the swarm test and runs seeds 1..$sim with
# fail-fast; prints "killed <first failing seed> <seconds>" or
# "survived <seeds> <seconds>" or "error - <seconds>".
run_swarm() {
    local spec="$1" log="$2" pkg bin test exe start rc
    IFS=: read -r pkg bin test <<<"$spec"
    exe=$(cd "$scratch" && cargo test --no-run -p "$pkg" --test "$bin" --message-format=json 2>>"$log.build" |
        grep -o '"executable":"[^"]*"' | cut -d'"' -f4 | grep "/deps/$bin-" | tail -1)
    if [[ -z "$exe" ]]; then
        echo "error - 0"
        return
    fi
    start=$(now)
    set +e
    SWARM_SEED=1 SWARM_SEEDS="$sim" SWARM_FAIL_FAST=1 VIS_ENABLE=never \
        "$exe" --exact "$test" --nocapture >"$log" 2>&1
    rc=$?
    set -e
    local first
    first=$(grep -m1 -oE '^seed [0-9]+ \(' "$log" | grep -oE '[0-9]+' || true)
    if [[ -n "$first" ]]; then
        echo "killed $first $(since "$start")"
    elif ((rc == 0)); then
        echo "survived $sim $(since "$start")"
    else
        echo "error - $(since "$start")"
    fi
}

# --- the runs ---------------------------------------------------------------

echo "mutants.sh: ${#selected[@]} mutant(s) on $source_desc" >&2
echo "mutants.sh: scratch $scratch, target $target_dir, logs $log_dir" >&2
run_started=$(now)

union=""
for p in "${selected[@]}"; do
    union+="${union:+ | }($(suites_of "$p"))"
done
union_pkgs=$(packages_of "$union")

echo "mutants.sh: building the unmutated copy ($union_pkgs)" >&2
t0=$(now)
# shellcheck disable=SC2086 # a list of flags
if ! (cd "$scratch" && cargo nextest run --no-run --profile fast $union_pkgs) >"$log_dir/build-baseline.log" 2>&1; then
    die "the unmutated copy does not build; see $log_dir/build-baseline.log"
fi
base_build=$(since "$t0")
echo "mutants.sh: unmutated build ${base_build}s" >&2

if ((baseline)); then
    echo "mutants.sh: baseline run of every selected suite" >&2
    read -r status secs _ test <<<"$(run_suites "$union" "$log_dir/baseline.log")"
    if [[ "$status" != survived ]]; then
        die "the unmutated suites fail ($status ${test:-} after ${secs}s); see $log_dir/baseline.log"
    fi
    echo "mutants.sh: baseline passed in ${secs}s" >&2
fi

rows=()
bad=0
for p in "${selected[@]}"; do
    name=$(basename "$p" .patch)
    filter=$(suites_of "$p")
    log="$log_dir/$name.log"
    if ! apply --check "$p" 2>"$log_dir/$name.apply.log"; then
        echo "mutants.sh: $name does not apply; see $log_dir/$name.apply.log" >&2
        rows+=("| $name | **error: does not apply** | | | | | |")
        bad=1
        continue
    fi
    apply "$p"
    t0=$(now)
    pkgs=$(packages_of "$filter")
    # shellcheck disable=SC2086 # a list of flags
    if ! (cd "$scratch" && cargo nextest run --no-run --profile fast $pkgs) >"$log_dir/$name.build.log" 2>&1; then
        build=$(since "$t0")
        echo "mutants.sh: $name does not build; see $log_dir/$name.build.log" >&2
        rows+=("| $name | **error: does not build** | | | | $build | |")
        bad=1
    else
        build=$(since "$t0")
        swarm_cell=""
        if ((sim)); then
            spec=$(swarm_of "$p")
            read -r sstatus sseeds ssecs <<<"$(run_swarm "$spec" "$log.swarm")"
            case "$sstatus" in
                killed)
                    swarm_cell="yes, seed $sseeds (${ssecs}s)"
                    echo "mutants.sh: $name killed by the swarm (${spec##*:}) at seed $sseeds after ${ssecs}s" >&2
                    ;;
                survived)
                    swarm_cell="**no** ($sseeds seeds, ${ssecs}s)"
                    echo "mutants.sh: $name survived $sseeds seeds of the swarm (${spec##*:}), ${ssecs}s" >&2
                    ;;
                *)
                    swarm_cell="**error** (see $name.log.swarm)"
                    echo "mutants.sh: $name: the swarm run failed without a failing seed; see $log.swarm" >&2
                    bad=1
                    ;;
            esac
            swarm_cell=" $swarm_cell |"
        fi
        if ((!suites)); then
            rows+=("| $name | — | | | | $build | |$swarm_cell")
        else
        elapsed=0
        status=survived
        for ((run = 1; run <= runs; run++)); do
            read -r status secs own test <<<"$(run_suites "$filter" "$log.$run")"
            elapsed=$(awk -v a="$elapsed" -v b="$secs" 'BEGIN { printf "%.1f", a + b }')
            [[ "$status" == survived ]] || break
        done
        ((run > runs)) && run=$runs
        runs_note=""
        ((runs > 1)) && runs_note=" (run $run)"
        case "$status" in
            killed)
                why=$(sed -n 2p "$log.$run.verdict")
                echo "mutants.sh: $name killed by $test after ${elapsed}s$runs_note (build ${build}s): $why" >&2
                rows+=("| $name | yes | \`$test\` | $elapsed$runs_note | $own | $build | $why |$swarm_cell")
                ;;
            survived)
                echo "mutants.sh: $name SURVIVED ${runs} run(s), ${elapsed}s (build ${build}s)" >&2
                rows+=("| $name | **no** | — (suites passed in ${elapsed}s$runs_note) | | | $build | |$swarm_cell")
                bad=1
                ;;
            *)
                echo "mutants.sh: $name: the run failed without a failing test ($test); see $log.$run" >&2
                rows+=("| $name | **error: $test** | | $elapsed | | $build | see the log |$swarm_cell")
                bad=1
                ;;
        esac
        fi
    fi
    # Revert: the files it touched get new times, so the next build redoes them.
    apply -R "$p"
done

total=$(since "$run_started")
{
    if ((sim)); then
        echo "| mutant | killed | killing test | kill s | test's own s | build s | failure | swarm alone (seeds 1..$sim) |"
        echo "|---|---|---|---|---|---|---|---|"
    else
        echo "| mutant | killed | killing test | kill s | test's own s | build s | failure |"
        echo "|---|---|---|---|---|---|---|"
    fi
    printf '%s\n' "${rows[@]}"
    echo
    echo "Source: $source_desc. Unmutated build ${base_build}s; whole check ${total}s."
} | tee "$log_dir/table.md"
exit "$bad"
