#!/usr/bin/env bash
# `make demo`: the whole story in one command.
#   - With a Docker engine and k3d: playbooks/site.yml on a new k3d cluster (PostgreSQL in the cluster,
#     the UI at https://localhost:2746), then the archived workflow read back from PostgreSQL.
#   - Without Docker (k3d cannot run): the local control plane (tests/controlplane: real kube-apiserver,
#     kwok, PostgreSQL 15), the same site.yml against it (k3d_enabled=false, PostgreSQL external), Argo's
#     real workflow-controller, a workflow proven archived, and the row read back from PostgreSQL.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
export PATH="$repo/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:-$repo/.build/collections}"
export ANSIBLE_FORCE_COLOR="${ANSIBLE_FORCE_COLOR:-1}"
# The playbooks target localhost only; no inventory is needed.
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
py="$repo/.venv/bin/python"
start=$SECONDS
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
elapsed() { echo "$((SECONDS - start))s"; }

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 && command -v k3d >/dev/null 2>&1; then
  cluster=${K3D_CLUSTER_NAME:-argo-demo}
  say "Docker and k3d answer: site.yml on a new k3d cluster ($cluster)"
  ansible-playbook playbooks/site.yml -e k3d_cluster_name="$cluster" -e argo_install_expose_ui=true
  say "The archived workflows, read back from PostgreSQL inside the cluster"
  kubectl --context "k3d-$cluster" -n argo exec statefulset/postgres -- \
    psql -U postgres -d argo -c \
    "SELECT name, namespace, phase, startedat, finishedat FROM argo_archived_workflows ORDER BY finishedat DESC LIMIT 5"
  say "Done in $(elapsed): Argo UI at https://localhost:2746 (client auth: paste \`kubectl create token ...\`);"
  echo "   remove it all with: ansible-playbook playbooks/teardown.yml"
  exit 0
fi

say "No Docker engine answers here, so k3d cannot run: using the local control plane instead"
# Names of our own, so the demo never touches what tests use in the same control plane.
namespace=argo-demo
database=argo_demo
# The only Argo the Go module proxy serves is v4.0.5, so it is the only controller that can run here.
# It is a loopback test peer (v4.0.x has security issues); the collection installs v4.1.x by default.
argo_version=v4.0.5

say "Starting the control plane (binaries are built from Go modules on first use: that can take long)"
"$py" tests/controlplane/cluster.py up
env_json=$("$py" tests/controlplane/cluster.py env --json)
manifest=$(molecule/default/render_argo_manifests.sh "$argo_version")

vars_file=$(mktemp --suffix=.json)
controller_started=false
cleanup() {
  rm -f "$vars_file"
  if [ "$controller_started" = true ]; then
    "$py" tests/controlplane/argo_controller.py stop --namespace "$namespace" >/dev/null || true
  fi
}
trap cleanup EXIT
chmod 600 "$vars_file"
"$py" - "$env_json" "$manifest" "$namespace" "$database" "$argo_version" >"$vars_file" <<'PY'
import json, sys
env, manifest, namespace, database, version = json.loads(sys.argv[1]), *sys.argv[2:]
print(json.dumps({
    "k3d_enabled": False,
    "argo_common_kubeconfig": env["KUBECONFIG"],
    "argo_common_namespace": namespace,
    "argo_common_version": version,
    "argo_install_manifest_src": manifest,
    "postgres_mode": "external",
    "postgres_host": env["PGHOST"],
    "postgres_port": int(env["PGPORT"]),
    "postgres_admin_user": env["PGUSER"],
    "postgres_admin_password": env["PGPASSWORD"],
    "postgres_database": database,
    "postgres_username": database,
    "archive_check_workflow": "podless",
    "archive_check_login_host": env["PGHOST"],
    "archive_check_login_port": int(env["PGPORT"]),
    "archive_check_login_user": env["PGUSER"],
    "archive_check_login_password": env["PGPASSWORD"],
    "archive_check_login_db": database,
    "archive_check_ssl_mode": "disable",
}))
PY

say "site.yml (k3d_enabled=false): Argo $argo_version, PostgreSQL (external) and the archive settings"
ansible-playbook playbooks/site.yml -e "@$vars_file" -e site_archive_check=false

say "Argo's real workflow-controller, on this host, for namespace $namespace"
controller_started=true
"$py" tests/controlplane/argo_controller.py start --namespace "$namespace"

say "site.yml again, now with the archive check: nothing else changes, a workflow is archived"
ansible-playbook playbooks/site.yml -e "@$vars_file" -e site_archive_check=true

say "The archived workflow, read back from PostgreSQL ($database.argo_archived_workflows)"
eval "$("$py" tests/controlplane/cluster.py env)"
PGDATABASE=$database /usr/lib/postgresql/15/bin/psql -X -P pager=off -c \
  "SELECT uid, name, namespace, phase, startedat, finishedat, clustername
   FROM argo_archived_workflows WHERE namespace = '$namespace' ORDER BY finishedat DESC LIMIT 5"

say "The archive report (playbooks/archive_report.yml)"
"$py" - "$env_json" "$database" >"$vars_file" <<'PY'
import json, sys
env, database = json.loads(sys.argv[1]), sys.argv[2]
print(json.dumps({"archive_report_db": {
    "login_host": env["PGHOST"], "login_port": int(env["PGPORT"]), "login_user": env["PGUSER"],
    "login_password": env["PGPASSWORD"], "login_db": database, "ssl_mode": "disable"}}))
PY
ansible-playbook playbooks/archive_report.yml -e "@$vars_file"

say "Done in $(elapsed). The control plane keeps running (make cluster-env to use it, make cluster-down to stop it)."
