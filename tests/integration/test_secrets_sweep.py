"""Issue 13, secrets sweep: the roles and modules that handle secrets, run at -vvv --diff, never show one.

One play, as a user runs it against the local control plane and the test PostgreSQL: the postgres role in
mode external (admin credentials, Argo's password generated and written to a Secret), argo_persistence
(ConfigMap referencing that Secret, restart decision from the pod templates), archive_db / archive_info /
archive_prune / archive_rollup with passwords (one of them wrong on purpose, so error paths are swept too),
argo_manifests_info reading the cluster's CRDs, persistence_config in check mode with diff, then the postgres
role's teardown. Its whole output at -vvv --diff and Ansible's log file must not contain any secret of the
run: the admin password, the generated password (read back from the Secret afterwards), the wrong password,
the kubeconfig's client key (base64 and decoded). (The k3d token: test_k3d_cluster.py's test_token_never_in_output.)
"""
from __future__ import annotations

import base64
import os
import subprocess
import uuid

import kubernetes
import yaml

from persistence_support import REPO, ansible_env, core
from test_startup_settings import DEPLOYMENTS, create_deployment
from test_startup_settings import apps  # noqa: F401  pylint: disable=unused-import

DB = "argoops_it_sweep"


def kubeconfig_secrets(path):
    """The client key of the kubeconfig as stored (base64) and decoded (each line of the PEM body)."""
    with open(path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    out = []
    for user in config.get("users") or []:
        for key in ("client-key-data", "token"):
            value = (user.get("user") or {}).get(key)
            if value:
                out.append(value)
                if key == "client-key-data":
                    pem = base64.b64decode(value).decode()
                    out += [line for line in pem.splitlines() if line and not line.startswith("-----")]
        key_file = (user.get("user") or {}).get("client-key")
        if key_file:
            with open(key_file, encoding="utf-8") as handle:
                out += [line for line in handle.read().splitlines() if line and not line.startswith("-----")]
    return out


def plays(kubeconfig, namespace, postgres, wrong_password, manifests):
    """(the run, the teardown): two playbooks, so the generated password can be read between them."""
    admin = dict(login_host=postgres.host, login_port=int(postgres.port), login_user=postgres.user,
                 login_password=postgres.password, login_db="postgres")
    common = {"argo_common_kubeconfig": kubeconfig, "argo_common_namespace": namespace,
              "argo_common_version": "v4.0.5", "postgres_mode": "external", "postgres_host": postgres.host,
              "postgres_port": int(postgres.port), "postgres_admin_user": postgres.user,
              "postgres_admin_password": postgres.password, "postgres_database": DB,
              "postgres_username": "argoops_it_sweep_argo", "argo_persistence_wait": False,
              "ansible_python_interpreter": os.path.join(REPO, ".venv", "bin", "python")}
    argo_login = dict(admin, login_user="argoops_it_sweep_argo", login_password="{{ postgres_argo_password }}",
                      login_db=DB)
    tolerated = {"failed_when": False}  # error paths are swept too; the play goes on
    return [{"name": "secrets sweep", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": common, "tasks": [
                 {"name": "postgres role", "ansible.builtin.include_role": {"name": "argoops.workflows.postgres"}},
                 {"name": "argo_persistence role",
                  "ansible.builtin.include_role": {"name": "argoops.workflows.argo_persistence"}},
                 {"name": "archive_db again, password given", "argoops.workflows.archive_db": dict(
                     admin, name=DB, user="argoops_it_sweep_argo", password="{{ postgres_argo_password }}")},
                 {"name": "archive_info as Argo's role", "argoops.workflows.archive_info": dict(argo_login, limit=1),
                  **tolerated},
                 {"name": "archive_prune in check mode", "check_mode": True,
                  "argoops.workflows.archive_prune": dict(argo_login, archive_ttl="1d"), **tolerated},
                 {"name": "archive_rollup as Argo's role", "argoops.workflows.archive_rollup": dict(argo_login),
                  **tolerated},
                 {"name": "argo_manifests_info against the cluster",
                  "argoops.workflows.argo_manifests_info": {"kubeconfig": kubeconfig, "src": manifests,
                                                            "namespace": namespace, "version": "v4.0.5"}},
                 {"name": "archive_info with a wrong password",
                  "argoops.workflows.archive_info": dict(admin, login_password=wrong_password, limit=1), **tolerated},
                 {"name": "persistence_config in check mode with diff", "check_mode": True, "diff": True,
                  "argoops.workflows.persistence_config": {
                      "kubeconfig": kubeconfig, "namespace": namespace, "archive": True, "archive_ttl": "3d",
                      "postgresql": {"host": postgres.host, "port": int(postgres.port), "database": DB,
                                     "username_secret": {"name": "argo-postgres-config", "key": "username"},
                                     "password_secret": {"name": "argo-postgres-config", "key": "password"}}}},
             ]}], [{"name": "secrets sweep, teardown", "hosts": "localhost", "connection": "local",
                    "gather_facts": False, "vars": common, "tasks": [
                        {"name": "postgres role teardown",
                         "ansible.builtin.include_role": {"name": "argoops.workflows.postgres"},
                         "vars": {"postgres_state": "absent", "postgres_drop_database": True}}]}]


def test_no_secret_in_vvv_diff_output_or_log(control_plane, postgres, apps, tmp_path):  # noqa: F811
    namespace = "sweep-" + uuid.uuid4().hex[:8]
    core(control_plane.kubeconfig).create_namespace(
        kubernetes.client.V1Namespace(metadata=kubernetes.client.V1ObjectMeta(name=namespace)))
    for name in DEPLOYMENTS:
        create_deployment(apps, namespace, name)
    wrong_password = "wrong-" + uuid.uuid4().hex
    run, teardown = plays(control_plane.kubeconfig, namespace, postgres, wrong_password, control_plane.argo_manifests)
    log = tmp_path / "ansible.log"
    output = run_playbook(tmp_path, "run", run, log)
    assert "TASK [persistence_config in check mode with diff]" in output
    assert "TASK [argo_manifests_info against the cluster]" in output and "TASK [archive_rollup as Argo's role]" in output
    secret = core(control_plane.kubeconfig).read_namespaced_secret("argo-postgres-config", namespace)
    generated = base64.b64decode(secret.data["password"]).decode()
    assert len(generated) >= 32
    output += run_playbook(tmp_path, "teardown", teardown, log)
    assert "TASK [postgres role teardown]" in output

    secrets = [postgres.password, wrong_password, generated, secret.data["password"]]
    key_material = kubeconfig_secrets(control_plane.kubeconfig)
    assert key_material, "the kubeconfig holds no client key or token to look for"
    secrets += key_material
    texts = {"output": output, "log": log.read_text(encoding="utf-8")}
    for text in texts.values():  # really -vvv (connection details, module arguments), really logged
        assert "ESTABLISH LOCAL CONNECTION" in text and '"module_args"' in text
    for where, text in texts.items():
        leaked = [s[:4] + "..." for s in secrets if s and s in text]
        assert not leaked, f"secrets found in the {where}: {leaked}"


def run_playbook(tmp_path, name, playbook, log):
    """The output of ansible-playbook -vvv --diff (which must succeed), logging to ``log`` as well."""
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(playbook))
    env = ansible_env(json_output=False, ANSIBLE_LOG_PATH=str(log))
    argv = [os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "-vvv", "--diff", "-i", "localhost,", str(path)]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-5000:]
    return output
