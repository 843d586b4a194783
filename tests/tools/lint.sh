#!/usr/bin/env bash
# ansible-lint (production profile, settings in .ansible-lint) over roles/ and playbooks/.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo" || exit 1
log=$(mktemp)
ansible-lint --profile production --nocolor roles playbooks 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# "Passed: 0 failure(s), 0 warning(s) in 12 files processed of 14 encountered." (or "Failed: ...")
summary=$(grep -E "^(Passed|Failed): " "$log" | tail -1)
rm -f "$log"
files=$(sed -nE 's/.* in ([0-9]+) files processed.*/\1/p' <<<"$summary")
failures=$(sed -nE 's/^[A-Za-z]+: ([0-9]+) failure.*/\1/p' <<<"$summary")
files=${files:-0} failures=${failures:-0}
if [ "$rc" -ne 0 ] && [ "$failures" -eq 0 ]; then failures=1; fi
# Counted per file: a file with any violation counts as failed.
echo "TIER-COUNTS passed=$((files > failures ? files - failures : 0)) failed=$failures skipped=0"
exit "$rc"
