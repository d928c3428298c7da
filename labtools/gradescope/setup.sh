#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
# It installs a Rust toolchain (unless one is there), fetches every dependency
# and builds the grader, so run_autograder grades without the network.
#
# AUTOGRADER_ROOT (default /autograder) moves the whole layout, for testing.
# GRADE_SETUP_WARM=0 skips grading the bare handout once ahead of time (which
# builds everything at the place run_autograder grades, so a submission then
# rebuilds only the student's crates).
set -euo pipefail

ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"

if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
    apt-get update -q
    apt-get install -y -q curl ca-certificates build-essential
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
        | sh -s -- -y --profile minimal --component rustfmt,clippy
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi

cd "$SOURCE/pristine"
cargo fetch --locked
CARGO_TARGET_DIR="$SOURCE/target" cargo build --release --locked --offline -p labtools --bin grade
if [ "${GRADE_SETUP_WARM:-1}" = 1 ]; then
    "$SOURCE/target/release/grade" --rubric "$SOURCE/rubric.toml" --pristine "$SOURCE/pristine" \
        --submission "$SOURCE/pristine" --work-dir "$SOURCE/work" --offline --quiet \
        --out "$SOURCE/work/warm-report" >/dev/null
fi
echo "setup.sh: the grader is $SOURCE/target/release/grade"
