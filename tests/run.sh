#!/usr/bin/env bash
# Runs every test of Orleans.Trade: builds the solution, starts a throw-away PostgreSQL 15 with deploy/dev-postgres.sh,
# runs `dotnet test`, stops PostgreSQL, and closes with the line "N passed, N failed".
# Needs the .NET 10 SDK and PostgreSQL 15 binaries (/usr/lib/postgresql/15/bin, or PG_BIN); .ci/run installs them.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
configuration="${CONFIGURATION:-Release}"
results="$root/TestResults"
# Under /tmp, not the clone: the postgres user must be able to reach it wherever the clone lives (e.g. under /root).
export PGDEV_DIR="${TMPDIR:-/tmp}/orleans-trade-test-pg-$$"

if ! dotnet build Orleans.Trade.sln -c "$configuration" -nologo -v quiet; then
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

connection="$(deploy/dev-postgres.sh start | tail -n 1)" || { echo "could not start PostgreSQL"; echo "0 passed, 1 failed"; exit 1; }
trap 'deploy/dev-postgres.sh destroy >/dev/null 2>&1 || true' EXIT
export TRADE_TEST_POSTGRES="$connection"

rm -rf "$results"
dotnet test Orleans.Trade.sln -c "$configuration" --no-build -nologo \
    --logger "trx;LogFilePrefix=results" --logger "console;verbosity=normal" --results-directory "$results" "$@"
status=$?

passed=0
failed=0
shopt -s nullglob
for trx in "$results"/*.trx; do
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
    p="$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")"
    f="$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")"
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
done
if (( failed > 0 )); then
    # CI shows only the output's tail: the first failures' messages and stacks, then every failed test's name, just above the
    # closing line.
    awk '
        function unescape(s) { gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s); gsub(/&apos;/, "\047", s); gsub(/&#xD;/, "", s); gsub(/&#xA;/, " ", s); gsub(/&amp;/, "\\&", s); return s }
        /<UnitTestResult / && /outcome="Failed"/ {
            match($0, /testName="[^"]*"/); names[++count] = unescape(substr($0, RSTART + 10, RLENGTH - 11)); inside = 1; lines = 0; next
        }
        inside && /<\/UnitTestResult>/ { inside = 0; next }
        inside && /<(Message|StackTrace)>/ { show = 1 }
        inside && show && count <= 3 && lines < 14 {
            line = $0; gsub(/<\/?(Message|StackTrace|ErrorInfo|Output)>/, "", line); sub(/^[ \t]+/, "", line)
            if (line ~ /[^ \t]/) { details[count] = details[count] "      " unescape(line) "\n"; lines++ }
        }
        inside && /<\/(Message|StackTrace)>/ { show = 0 }
        END {
            for (i = 1; i <= count && i <= 3; i++) { printf "\nFailure %d: %s\n%s", i, names[i], details[i] }
            printf "\nFailed tests (%d):\n", count
            for (i = 1; i <= count; i++) { print "  - " names[i] }
        }
    ' "$results"/*.trx
fi
if [[ $status -ne 0 && $failed -eq 0 ]]; then
    failed=1 # the run itself broke (crash, no results): never report a clean run
fi
echo
echo "$passed passed, $failed failed"
[[ $status -eq 0 && $failed -eq 0 ]]
