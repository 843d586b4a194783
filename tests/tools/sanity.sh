#!/usr/bin/env bash
# `ansible-test sanity` offline, on a copy of the checkout laid out as
# $SANITY_DIR/ansible_collections/argoops/workflows (ansible-test resolves symlinks and insists on
# running inside such a tree). Extra arguments go to ansible-test, e.g. `--test pep8 plugins/`.
# Set SANITY_DIR to run several at once; the default is $BUILD/sanity.
set -euo pipefail
build=$1; shift
repo=$(cd "$(dirname "$0")/../.." && pwd)
root=${SANITY_DIR:-$build/sanity}
site=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

# ansible-test bootstraps pip in its sanity virtualenvs with a get-pip.py it downloads from a host
# our machines cannot reach; it uses a cached copy when present, so we provide one that bootstraps
# from ensurepip instead. The version in the name is the pip version ansible-test pins.
pip_version=$(python - <<'PY'
import ast, inspect
from ansible_test._internal import python_requirements as pr
src = inspect.getsource(pr.get_venv_packages)
print(src.split("pip='")[1].split("'")[0])
PY
)
cache=~/.ansible/test/cache
mkdir -p "$cache"
cp "$repo/tests/tools/get_pip_offline.py" "$cache/get_pip_${pip_version//./_}.py"

# The shellcheck sanity test is skipped silently without shellcheck: install it (Debian package).
if ! command -v shellcheck >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "sanity: installing shellcheck from Debian packages"
  apt-get install -y -qq shellcheck >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq shellcheck >/dev/null; } ||
    echo "sanity: WARNING shellcheck could not be installed; its sanity test will be skipped"
fi

# The copy: the checkout's files as git sees them (tracked + untracked, not ignored), with its own
# git index because ansible-test lists files through git; dependencies linked beside it.
copy=$root/ansible_collections/argoops/workflows
for dep in kubernetes/core community/postgresql; do
  mkdir -p "$root/ansible_collections/${dep%/*}"
  ln -sfn "$site/ansible_collections/$dep" "$root/ansible_collections/$dep"
done
rm -rf "$copy" && mkdir -p "$copy"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
  xargs -0 -r ls -d 2>/dev/null | tr '\n' '\0' | tar --null -T - -cf -) | tar -xf - -C "$copy"
(cd "$copy" && git init -q && git add -A .)

cd "$copy" || exit 1
log=$(mktemp)
set +e
ansible-test sanity --python 3.11 --color no "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# "Running sanity test 'pep8'" per test; on failure "FATAL: The 3 sanity test(s) listed below (out of 24) failed."
ran=$(grep -cE '^Running sanity test ' "$log" || true)
failed=$(sed -nE 's/^FATAL: The ([0-9]+) sanity test\(s\) listed below.*/\1/p' "$log" | tail -1)
failed=${failed:-$([ "$rc" -ne 0 ] && echo 1 || echo 0)}
skipped=$(grep -cE '^WARNING: Skipping sanity test ' "$log" || true)
rm -f "$log"
echo "TIER-COUNTS passed=$((ran > failed ? ran - failed : 0)) failed=$failed skipped=$skipped"
exit "$rc"
