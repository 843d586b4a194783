"""Issue 13, item 1 "lost restart": Argo's restart is decided from state, against the real kube-apiserver.

The role argoops.workflows.argo_persistence runs as Ansible runs it (ansible-playbook, json callback) on
the local control plane's kwok node, with workflow-controller and argo-server Deployments. A run killed
after writing the ConfigMap is simulated by changing the ConfigMap with persistence_config alone (what the
killed run had done); the next role run must restart both (their pod template's startup-settings
annotation moves to the ConfigMap's hash, the template's generation goes up), the third must report
changed=0, and archive_check must refuse a controller that runs stale settings.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import kubernetes
import pytest
import yaml

from persistence_support import REPO, SECRET, persistence_args, run_module
from persistence_support import api, ns  # noqa: F401  pylint: disable=unused-import

from ansible_collections.argoops.workflows.plugins.module_utils.startup_settings import ANNOTATION

DEPLOYMENTS = ("workflow-controller", "argo-server")


def say(message):
    sys.stderr.write(f"[startup_settings] {message}\n")


def create_deployment(apps, namespace, name):
    labels = {"app": name}
    apps.create_namespaced_deployment(namespace, kubernetes.client.V1Deployment(
        metadata=kubernetes.client.V1ObjectMeta(name=name),
        spec=kubernetes.client.V1DeploymentSpec(
            replicas=1, selector=kubernetes.client.V1LabelSelector(match_labels=labels),
            template=kubernetes.client.V1PodTemplateSpec(
                metadata=kubernetes.client.V1ObjectMeta(labels=labels),
                spec=kubernetes.client.V1PodSpec(containers=[kubernetes.client.V1Container(
                    name=name, image=f"quay.io/argoproj/{name}:v4.0.5")])))))


def template_state(apps, namespace):
    """{Deployment: (startup-settings annotation, metadata.generation)}"""
    out = {}
    for name in DEPLOYMENTS:
        deployment = apps.read_namespaced_deployment(name, namespace)
        annotations = deployment.spec.template.metadata.annotations or {}
        out[name] = (annotations.get(ANNOTATION), deployment.metadata.generation)
    return out


def run_playbook(tmp_path, kubeconfig, namespace, postgres, role, check=False, diff=False, **extra):
    """(PLAY RECAP stats of localhost, {task name: result}, output) of a play that includes ``role``."""
    variables = {
        "argo_common_kubeconfig": kubeconfig, "argo_common_namespace": namespace, "argo_common_version": "v4.0.5",
        "argo_persistence_postgresql_host": postgres.host, "argo_persistence_postgresql_port": int(postgres.port),
        "argo_persistence_postgresql_database": postgres.dbname,
        # kwok's pods never start a process: the rollout is proven by the pod template, not by waiting.
        "argo_persistence_wait": False,
        "ansible_python_interpreter": os.path.join(REPO, ".venv", "bin", "python"),
    }
    variables.update(extra)
    play = [{"name": "issue 13 lost restart", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": variables, "tasks": [{"name": "the role", "ansible.builtin.include_role": {"name": role}}]}]
    path = tmp_path / f"play-{time.monotonic_ns()}.yml"
    path.write_text(yaml.safe_dump(play))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    argv = [os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "-i", "localhost,", str(path)]
    argv += ["--check"] * check + ["--diff"] * diff
    started = time.monotonic()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    try:
        report = json.loads(proc.stdout)
    except ValueError as exc:
        raise AssertionError(f"no json from ansible-playbook (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}") \
            from exc
    tasks = {}
    for task in report["plays"][0]["tasks"]:
        tasks[task["task"]["name"].split(" : ", 1)[-1]] = task["hosts"].get("localhost", {})
    say(f"{role}{' --check' if check else ''}: {time.monotonic() - started:.1f}s, {report['stats']['localhost']}")
    return report["stats"]["localhost"], tasks, proc.stdout + proc.stderr


RESTART_TASK = "Restart Argo if it runs older start-up settings than the ConfigMap holds"


@pytest.fixture
def apps(control_plane):
    return kubernetes.client.AppsV1Api(kubernetes.config.new_client_from_config(config_file=control_plane.kubeconfig))


def test_a_killed_run_is_restarted_by_the_next_run(control_plane, api, ns, apps, tmp_path):
    kubeconfig, postgres = control_plane.kubeconfig, control_plane.postgres
    for name in DEPLOYMENTS:
        create_deployment(apps, ns, name)
    untouched = template_state(apps, ns)
    assert all(value[0] is None for value in untouched.values())

    # First run: writes the ConfigMap, then rolls both Deployments to its hash.
    stats, tasks, output = run_playbook(tmp_path, kubeconfig, ns, postgres, "argoops.workflows.argo_persistence")
    assert stats["failures"] == 0, output
    first = tasks[RESTART_TASK]
    assert first["changed"] is True and first["stale"] == list(DEPLOYMENTS), output
    after_first = template_state(apps, ns)
    assert {v[0] for v in after_first.values()} == {first["settings_hash"]}
    assert all(after_first[n][1] == untouched[n][1] + 1 for n in DEPLOYMENTS)  # the pod template changed

    # The killed run: it wrote the new TTL into the ConfigMap and died before restarting anything.
    killed = run_module(kubeconfig, persistence_args(ns, postgres, archive_ttl="30d"))
    assert killed["changed"] is True and killed["restart_required"] is True, killed["_output"]
    assert template_state(apps, ns) == after_first  # no restart happened

    # archive_check tells that the controller runs stale settings, before submitting anything.
    stats, tasks, output = run_playbook(tmp_path, kubeconfig, ns, postgres, "argoops.workflows.archive_check",
                                        archive_check_workflow="podless", archive_check_server=False)
    assert stats["failures"] == 1
    failed = tasks["Check that the controller runs the ConfigMap's start-up settings"]
    assert failed.get("failed") is True
    assert f"Deployment {ns}/workflow-controller runs with stale start-up settings" in failed["msg"]
    assert after_first["workflow-controller"][0] in failed["msg"]
    assert "Submit the check workflow (podless)" not in tasks

    # Check mode predicts the restart and writes nothing; diff shows the annotation.
    stats, tasks, output = run_playbook(tmp_path, kubeconfig, ns, postgres, "argoops.workflows.argo_persistence",
                                        check=True, diff=True, argo_persistence_archive_ttl="30d")
    predicted = tasks[RESTART_TASK]
    assert stats["failures"] == 0 and predicted["changed"] is True, output
    assert tasks["Write the archive settings into ConfigMap %s/workflow-controller-configmap" % ns]["changed"] is False
    assert ANNOTATION in predicted["diff"]["after"] and predicted["settings_hash"] in predicted["diff"]["after"]
    assert template_state(apps, ns) == after_first

    # The next run: the ConfigMap needs no change, yet both Deployments restart to the new hash.
    stats, tasks, output = run_playbook(tmp_path, kubeconfig, ns, postgres, "argoops.workflows.argo_persistence",
                                        argo_persistence_archive_ttl="30d")
    assert stats["failures"] == 0, output
    assert tasks["Write the archive settings into ConfigMap %s/workflow-controller-configmap" % ns]["changed"] is False
    second = tasks[RESTART_TASK]
    assert second["changed"] is True and second["stale"] == list(DEPLOYMENTS)
    after_second = template_state(apps, ns)
    assert second["settings_hash"] != first["settings_hash"]
    assert {v[0] for v in after_second.values()} == {second["settings_hash"]}
    assert all(after_second[n][1] == after_first[n][1] + 1 for n in DEPLOYMENTS)

    # The third run changes nothing.
    stats, tasks, output = run_playbook(tmp_path, kubeconfig, ns, postgres, "argoops.workflows.argo_persistence",
                                        argo_persistence_archive_ttl="30d")
    assert stats["failures"] == 0 and stats["changed"] == 0, output
    assert template_state(apps, ns) == after_second


def test_new_credentials_in_the_secret_restart_argo(control_plane, api, ns, apps, tmp_path):
    kubeconfig, postgres = control_plane.kubeconfig, control_plane.postgres
    for name in DEPLOYMENTS:
        create_deployment(apps, ns, name)
    stats, tasks, output = run_playbook(tmp_path, kubeconfig, ns, postgres, "argoops.workflows.argo_persistence")
    assert stats["failures"] == 0, output
    before = template_state(apps, ns)
    # A new password written by something else (or by a postgres role run that was killed afterwards).
    api.patch_namespaced_secret(SECRET, ns, {"stringData": {"password": "rotated-password"}})
    stats, tasks, output = run_playbook(tmp_path, kubeconfig, ns, postgres, "argoops.workflows.argo_persistence")
    assert stats["failures"] == 0 and tasks[RESTART_TASK]["changed"] is True, output
    assert "rotated-password" not in output
    after = template_state(apps, ns)
    assert all(after[n][0] != before[n][0] and after[n][1] == before[n][1] + 1 for n in DEPLOYMENTS)
