#!/usr/bin/env bash
# Lay the collection out as Ansible expects it: $BUILD/collections/ansible_collections/argoops/workflows
# -> this checkout (a symlink; the Makefile exports ANSIBLE_COLLECTIONS_PATH=$BUILD/collections for
# ansible-playbook, ansible-doc, Molecule and pytest). Our dependencies, kubernetes.core and
# community.postgresql, come from the pinned `ansible` package in the venv (Galaxy is not reachable
# here); Ansible finds them on sys.path, so they are not linked again. ansible-test needs a real copy
# instead: tests/tools/sanity.sh makes one.
set -euo pipefail
build=$1
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$build/collections/ansible_collections/argoops"
rm -rf "$build/collections/ansible_collections/kubernetes" "$build/collections/ansible_collections/community"
ln -sfn "$repo" "$build/collections/ansible_collections/argoops/workflows"
