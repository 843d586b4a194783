#!/usr/bin/env bash
# Lay the collection out as Ansible expects it:
#   $BUILD/collections/ansible_collections/argoops/workflows -> this checkout (symlink; for
#       ansible-playbook, ansible-doc, molecule and pytest via ANSIBLE_COLLECTIONS_PATH)
#   $BUILD/collections/ansible_collections/{kubernetes/core,community/postgresql} -> the copies
#       shipped inside the pinned `ansible` package (Galaxy is not reachable here)
# ansible-test needs a real copy instead: tests/tools/sanity.sh makes one.
set -euo pipefail
venv=$1 build=$2
repo=$(cd "$(dirname "$0")/../.." && pwd)
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
deps=(kubernetes/core community/postgresql)

link_tree() {  # link_tree ROOT: our dependencies under ROOT/ansible_collections
  local root=$1/ansible_collections
  mkdir -p "$root/argoops"
  for dep in "${deps[@]}"; do
    mkdir -p "$root/${dep%/*}"
    ln -sfn "$site/ansible_collections/$dep" "$root/$dep"
  done
}

link_tree "$build/collections"
ln -sfn "$repo" "$build/collections/ansible_collections/argoops/workflows"

