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
if [[ $status -ne 0 && $failed -eq 0 ]]; then
    failed=1 # the run itself broke (crash, no results): never report a clean run
fi
echo
echo "$passed passed, $failed failed"
[[ $status -eq 0 && $failed -eq 0 ]]
