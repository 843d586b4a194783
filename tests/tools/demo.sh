#!/usr/bin/env bash
# `make demo`: the whole story in one command.
#   - With a Docker engine and k3d: playbooks/site.yml on a new k3d cluster (PostgreSQL in the cluster,
#     the UI at https://localhost:2746), then the archived workflow read back from PostgreSQL.
#   - Without Docker (k3d cannot run): the local control plane with a REAL node (tests/controlplane:
#     kube-apiserver & co., containerd, kubelet, kube-proxy, CoreDNS, local-path storage; images built
#     locally), the same site.yml against it (k3d_enabled=false, PostgreSQL in the cluster, Argo's v4.0.5
#     images from localhost/argoproj), the tutorial's container workflow run and archived, its output,
#     its row read from PostgreSQL and the archived workflow as argo-server's API returns it.
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

say "No Docker engine answers here, so k3d cannot run: using the local control plane with a real node"
# A cluster of its own, so the demo never touches the one the test tiers use.
state="$repo/.build/demo-cluster"
cluster() { "$py" tests/controlplane/cluster.py "$@" --state-dir "$state"; }
# The only Argo the Go module proxy serves is v4.0.5, so its images are the only ones that can be built here
# (v4.0.x has security issues; the collection installs v4.1.x by default).
argo_version=v4.0.5
namespace=argo

say "Starting the control plane and the node (binaries and images are built on first use: that can take long)"
cluster up --node real
export KUBECONFIG="$state/kubeconfig"
kubectl=$("$py" -c 'import sys; sys.path.insert(0, "tests/controlplane"); from cplane import build; print(build.ensure("kubectl").path())')
manifest=$(molecule/default/render_argo_manifests.sh "$argo_version")

vars_file=$(mktemp --suffix=.json)
forward_pid=""
cleanup() {
  rm -f "$vars_file"
  [ -z "$forward_pid" ] || kill "$forward_pid" 2>/dev/null || true
}
trap cleanup EXIT
chmod 600 "$vars_file"
cat >"$vars_file" <<JSON
{"k3d_enabled": false,
 "argo_common_kubeconfig": "$KUBECONFIG",
 "argo_common_namespace": "$namespace",
 "argo_common_version": "$argo_version",
 "argo_install_manifest_src": "$manifest",
 "argo_install_image_registry": "localhost/argoproj",
 "postgres_mode": "in_cluster",
 "postgres_image": "$(cluster images --ref postgres)",
 "archive_check_image": "$(cluster images --ref busybox)"}
JSON

say "site.yml (k3d_enabled=false): Argo $argo_version, PostgreSQL in the cluster, the archive, the tutorial's workflow"
site_start=$SECONDS
ansible-playbook playbooks/site.yml -e "@$vars_file" | tee "$state/demo-site.log"
echo "site.yml took $((SECONDS - site_start))s"
workflow=$(sed -nE 's/.*Wait until the workflow is completed, ([a-z0-9-]+).*/\1/p' "$state/demo-site.log" | tail -1)

say "The workflow's output, from its pod ($workflow, container main)"
"$kubectl" -n "$namespace" logs "$workflow" -c main | grep -v " argo=true"  

say "Its row, read from PostgreSQL inside the cluster"
# shellcheck disable=SC2016  # expanded by the pod's shell
"$kubectl" -n "$namespace" exec postgres-0 -- sh -c 'psql -X -P pager=off -U "$POSTGRES_USER" -d argo -c "$0"' \
  "SELECT name, namespace, phase, startedat, finishedat, clustername FROM argo_archived_workflows ORDER BY finishedat DESC LIMIT 5"

say "The archived workflow as argo-server's API returns it (what the UI lists), with a read-only service account's token"
ansible localhost -m argoops.workflows.argo_server_archive_info \
  -a "namespace=$namespace name_prefix=$workflow service_account=argo-archive-reader kubeconfig=$KUBECONFIG"

say "The archive report, through a port-forward to the in-cluster PostgreSQL"
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$kubectl" -n "$namespace" port-forward svc/postgres "$port:5432" >/dev/null &
forward_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
"$py" - "$namespace" "$port" "$KUBECONFIG" >"$vars_file" <<'PY'
import base64, json, subprocess, sys
namespace, port, kubeconfig = sys.argv[1:]
sys.path.insert(0, "tests/controlplane")
from cplane import build  # noqa: E402
secret = json.loads(subprocess.run([build.ensure("kubectl").path(), "--kubeconfig", kubeconfig, "-n", namespace, "get",
                                    "secret", "postgres-admin", "-o", "json"], check=True, capture_output=True).stdout)
data = {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
print(json.dumps({"archive_report_db": {
    "login_host": "127.0.0.1", "login_port": int(port), "login_user": data["username"],
    "login_password": data["password"], "login_db": "argo", "ssl_mode": "disable"}}))
PY
ansible-playbook playbooks/archive_report.yml -e "@$vars_file"

say "Done in $(elapsed). The cluster keeps running: KUBECONFIG=$KUBECONFIG; stop it with"
echo "   $py tests/controlplane/cluster.py down --state-dir $state"
