"""Issue 13, fault tier: the kube-apiserver of the local control plane killed (SIGKILL) in the middle of runs.

1. During persistence_config, at several moments of a run: the ConfigMap is always whole (exactly the old or
   exactly the new settings, every other key intact), a failed run says the API server could not be reached,
   no key material shows, and the next run converges, then reports no change.
2. In the site flow's configuration step (the postgres role in mode external, then argo_persistence, as
   site.yml runs them), right after the ConfigMap was written: the restart step fails; after the API server is
   back, the next run restarts Argo (its pod templates move to the ConfigMap's start-up-settings hash) although
   the ConfigMap needs no change, and the run after that changes nothing.
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid

import kubernetes
import pytest
import yaml

from cplane import kube  # noqa: E402  (tests/controlplane is on sys.path through conftest)
from persistence_support import REPO, ansible_env, core, module_argv, persistence_args, read_config_map, run_module
from persistence_support import api, ns  # noqa: F401  pylint: disable=unused-import
from test_startup_settings import DEPLOYMENTS, RESTART_TASK, create_deployment, template_state
from test_startup_settings import apps  # noqa: F401  pylint: disable=unused-import

CALLBACKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callbacks")
WRITE_TASK = "Write the archive settings into ConfigMap"


def say(message):
    sys.stderr.write(f"[faults] {message}\n")


def client_key(kubeconfig):
    with open(kubeconfig, encoding="utf-8") as handle:
        for user in yaml.safe_load(handle).get("users") or []:
            data = (user.get("user") or {}).get("client-key-data")
            if data:
                return base64.b64decode(data).decode()
    return None


def restore(api, ns, data):  # noqa: F811
    body = read_config_map(api, ns)
    body.data = data
    api.replace_namespaced_config_map("workflow-controller-configmap", ns, body)


# kube.connect (kubernetes.core builds its client by asking the server) or a later call: both name the cause
UNREACHABLE = ("the API server could not be reached", "cannot create a Kubernetes client")


def unreachable(msg):
    return any(words in msg for words in UNREACHABLE)


def apiserver_pid(cluster):
    return cluster.record()["pids"]["kube-apiserver"]["pid"]


def test_api_server_killed_during_persistence_config(control_plane, api, ns):  # noqa: F811
    cluster = kube.KubeCluster(control_plane.state_dir)
    old_args = persistence_args(ns, control_plane.postgres, argo_version=control_plane.argo_version)
    new_args = dict(old_args, archive_ttl="14d", cluster_name="faulty")
    first = run_module(control_plane.kubeconfig, old_args)
    assert first.get("failed") is not True, first["_output"]
    api.patch_namespaced_config_map("workflow-controller-configmap", ns, {"data": {"parallelism": "10\n"}})
    old_data = dict(read_config_map(api, ns).data)
    probe = run_module(control_plane.kubeconfig, new_args)  # what a whole new write looks like
    assert probe.get("changed") is True, probe["_output"][-3000:]
    new_data = dict(read_config_map(api, ns).data)
    restore(api, ns, old_data)
    secret = client_key(control_plane.kubeconfig)
    assert secret
    outcomes = []
    # a run takes ~2-4 s: the first kill lands in Ansible's start-up, the later ones in the API calls
    for delay in (0.5, 1.5, 2.5, 3.5):
        proc = subprocess.Popen(module_argv(control_plane.kubeconfig, new_args), env=ansible_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        cluster.kill("kube-apiserver")
        out, err = proc.communicate(timeout=300)
        result = json.loads(out)["plays"][0]["tasks"][0]["hosts"]["localhost"]
        cluster.restart("kube-apiserver", log=say)
        data = dict(read_config_map(api, ns).data)
        assert secret not in out + err
        assert data in (old_data, new_data), "the ConfigMap is neither the old nor the new one"
        outcomes.append(("failed" if result.get("failed") else "ok") + (", written" if data == new_data else ""))
        if result.get("failed"):
            assert unreachable(result["msg"]), result["msg"]
        else:
            assert data == new_data
        restore(api, ns, old_data)
    say(f"kills of the API server during persistence_config: {outcomes}")
    assert any(o.startswith("failed") for o in outcomes)
    rerun = run_module(control_plane.kubeconfig, new_args)
    assert rerun.get("failed") is not True and rerun["changed"] is True, rerun["_output"]
    again = run_module(control_plane.kubeconfig, new_args)
    assert again.get("failed") is not True and again["changed"] is False, again["_output"]
    data = dict(read_config_map(api, ns).data)
    assert data["parallelism"] == "10\n" and "archiveTTL: 14d" in data["persistence"]


def configuration_play(control_plane, namespace, database, archive_ttl):
    postgres = control_plane.postgres
    return [{"name": "site flow, configuration step", "hosts": "localhost", "connection": "local",
             "gather_facts": False, "vars": {
                 "argo_common_kubeconfig": control_plane.kubeconfig, "argo_common_namespace": namespace,
                 "argo_common_version": "v4.0.5", "postgres_mode": "external", "postgres_host": postgres.host,
                 "postgres_port": int(postgres.port), "postgres_admin_user": postgres.user,
                 "postgres_admin_password": postgres.password, "postgres_database": database,
                 "postgres_username": database + "_argo", "argo_persistence_archive_ttl": archive_ttl,
                 # kwok's pods never start a process: the rollout is proven by the pod template, not by waiting
                 "argo_persistence_wait": False,
                 "ansible_python_interpreter": os.path.join(REPO, ".venv", "bin", "python")},
             "tasks": [{"name": "postgres", "ansible.builtin.include_role": {"name": "argoops.workflows.postgres"}},
                       {"name": "argo_persistence",
                        "ansible.builtin.include_role": {"name": "argoops.workflows.argo_persistence"}}]}]


def run_play(tmp_path, play, **env):
    """(stats of localhost, {task name: result}, output) of ansible-playbook with the json callback."""
    path = tmp_path / f"play-{time.monotonic_ns()}.yml"
    path.write_text(yaml.safe_dump(play))
    proc = subprocess.run([os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "-i", "localhost,", str(path)],
                          env=ansible_env(**env), capture_output=True, text=True, timeout=600, check=False)
    report = json.loads(proc.stdout)
    tasks = {}
    for task in report["plays"][0]["tasks"]:
        tasks.setdefault(task["task"]["name"].split(" : ", 1)[-1], task["hosts"].get("localhost", {}))
    return report["stats"]["localhost"], tasks, proc.stdout + proc.stderr


def task(tasks, prefix):
    return next(result for name, result in tasks.items() if name.startswith(prefix))


def test_api_server_killed_after_the_site_flow_wrote_the_configmap(control_plane, apps, tmp_path):  # noqa: F811
    cluster = kube.KubeCluster(control_plane.state_dir)
    namespace, database = "fault-" + uuid.uuid4().hex[:8], "argoops_fault_site"
    core(control_plane.kubeconfig).create_namespace(
        kubernetes.client.V1Namespace(metadata=kubernetes.client.V1ObjectMeta(name=namespace)))
    for name in DEPLOYMENTS:
        create_deployment(apps, namespace, name)
    stats, tasks, output = run_play(tmp_path, configuration_play(control_plane, namespace, database, "7d"))
    assert stats["failures"] == 0, output[-5000:]
    converged = template_state(apps, namespace)

    # The run that dies: the API server is killed the moment the ConfigMap holds the new TTL.
    stats, tasks, output = run_play(tmp_path, configuration_play(control_plane, namespace, database, "30d"),
                                    ANSIBLE_CALLBACK_PLUGINS=CALLBACKS, ANSIBLE_CALLBACKS_ENABLED="kill_after_task",
                                    ARGOOPS_KILL_AFTER_TASK=WRITE_TASK, ARGOOPS_KILL_PID=str(apiserver_pid(cluster)))
    cluster.restart("kube-apiserver", log=say)
    assert stats["failures"] == 1, output[-5000:]
    assert task(tasks, WRITE_TASK)["changed"] is True
    failed = tasks[RESTART_TASK]
    assert failed.get("failed") is True and unreachable(failed["msg"]), failed
    data = read_config_map(core(control_plane.kubeconfig), namespace).data
    assert "archiveTTL: 30d" in data["persistence"]
    assert template_state(apps, namespace) == converged  # Argo still runs the 7d settings

    # The next run: nothing to write, yet Argo is restarted to the ConfigMap's settings.
    stats, tasks, output = run_play(tmp_path, configuration_play(control_plane, namespace, database, "30d"))
    assert stats["failures"] == 0, output[-5000:]
    assert task(tasks, WRITE_TASK)["changed"] is False
    restarted = tasks[RESTART_TASK]
    assert restarted["changed"] is True and restarted["stale"] == list(DEPLOYMENTS), restarted
    after = template_state(apps, namespace)
    assert {value[0] for value in after.values()} == {restarted["settings_hash"]}
    assert all(after[name][1] == converged[name][1] + 1 for name in DEPLOYMENTS)

    stats, tasks, output = run_play(tmp_path, configuration_play(control_plane, namespace, database, "30d"))
    assert stats["failures"] == 0 and stats["changed"] == 0, output[-5000:]
    assert template_state(apps, namespace) == after
    run_play(tmp_path, [{"name": "teardown", "hosts": "localhost", "connection": "local", "gather_facts": False,
                         "vars": dict(configuration_play(control_plane, namespace, database, "30d")[0]["vars"],
                                      postgres_state="absent", postgres_drop_database=True),
                         "tasks": [{"name": "postgres teardown",
                                    "ansible.builtin.include_role": {"name": "argoops.workflows.postgres"}}]}])


@pytest.fixture(autouse=True)
def _api_server_back(control_plane):
    """Whatever a test did, the shared API server runs when it ends."""
    yield
    kube.KubeCluster(control_plane.state_dir).restart("kube-apiserver", log=say)
