#!/usr/bin/env bash
# Run every Molecule scenario under molecule/. A scenario that needs a Docker engine (real k3d)
# carries a `requires-docker` file and is skipped, and reported as skipped, where none answers.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo" || exit 1
# Plain text in CI logs.
export NO_COLOR=1 ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
passed=0 failed=0 skipped=0
docker_ok=false
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then docker_ok=true; fi
for dir in molecule/*/; do
  scenario=$(basename "$dir")
  [ -f "$dir/molecule.yml" ] || continue
  if [ -f "$dir/requires-docker" ] && [ "$docker_ok" != true ]; then
    echo "== molecule $scenario: SKIPPED (needs a Docker engine; none answers here)"
    skipped=$((skipped + 1)); continue
  fi
  start=$SECONDS
  if molecule test -s "$scenario"; then
    passed=$((passed + 1)); result=passed
  else
    failed=$((failed + 1)); result=FAILED
  fi
  echo "== molecule $scenario: $result in $((SECONDS - start))s"
done
echo "TIER-COUNTS passed=$passed failed=$failed skipped=$skipped"
[ "$failed" -eq 0 ]
