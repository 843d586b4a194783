"""Issue 13, item 4 "late validation": site.yml and teardown.yml validate every role's variables first.

Run as a user runs them (ansible-playbook argoops.workflows.site / .teardown against the local control
plane, k3d_enabled=false). A wrong postgres_mode must fail in the first task, before argo_install creates
the namespace (site.yml) or argo_persistence edits the ConfigMap (teardown.yml, whose postgres role comes
after it) - checked on the API server afterwards.
"""
from __future__ import annotations

import json
import os
import subprocess
import uuid

import kubernetes
import pytest

from persistence_support import REPO, core, create_config_map, read_config_map, unreachable_kubeconfig
from persistence_support import api, ns  # noqa: F401  pylint: disable=unused-import

VALIDATION_TASK = "Validate the variables of every role before changing anything"


def playbook(name, kubeconfig, **extra):
    """(rc, [(task name, {role: result})], output) of ansible-playbook argoops.workflows.<name>."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    variables = dict({"k3d_enabled": False, "argo_common_kubeconfig": kubeconfig,
                      "ansible_python_interpreter": os.path.join(REPO, ".venv", "bin", "python")}, **extra)
    argv = [os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "-i", "localhost,",
            "argoops.workflows." + name, "-e", json.dumps(variables)]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    try:
        report = json.loads(proc.stdout)
    except ValueError as exc:
        raise AssertionError(f"no json from ansible-playbook (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}") \
            from exc
    tasks = [(t["task"]["name"], t["hosts"].get("localhost", {})) for t in report["plays"][0]["tasks"]]
    return proc.returncode, tasks, proc.stdout + proc.stderr


def namespace_exists(kubeconfig, name):
    try:
        core(kubeconfig).read_namespace(name)
        return True
    except kubernetes.client.rest.ApiException as exc:
        if exc.status == 404:
            return False
        raise


def assert_failed_first_on_postgres_mode(tasks, output):
    names = [name for name, _result in tasks]
    assert names == [VALIDATION_TASK], output  # the play stopped at its first task
    result = tasks[0][1]
    assert result.get("failed") is True
    failed = [r for r in result["results"] if r.get("failed")]
    assert [r["site_role"]["name"] for r in failed] == ["postgres"]
    assert "postgres_mode" in failed[0]["msg"] and "in_cluster, external" in failed[0]["msg"], failed[0]["msg"]
    assert "got: bogus" in failed[0]["msg"]


def test_site_fails_on_a_wrong_postgres_mode_before_installing_argo(control_plane, argo_crds):
    namespace = "argo-never-" + uuid.uuid4().hex[:8]  # argo_install would create it
    rc, tasks, output = playbook("site", control_plane.kubeconfig, argo_common_namespace=namespace,
                                 postgres_mode="bogus")
    assert rc != 0
    assert_failed_first_on_postgres_mode(tasks, output)
    assert not namespace_exists(control_plane.kubeconfig, namespace)


def test_teardown_fails_on_a_wrong_postgres_mode_before_removing_the_archive_settings(control_plane, api, ns):
    created = create_config_map(api, ns, {"persistence": "archive: true\n", "namespaceParallelism": "10"})
    rc, tasks, output = playbook("teardown", control_plane.kubeconfig, argo_common_namespace=ns,
                                 postgres_mode="bogus")
    assert rc != 0
    assert_failed_first_on_postgres_mode(tasks, output)
    after = read_config_map(api, ns)
    assert after.metadata.resource_version == created.metadata.resource_version
    assert after.data == {"persistence": "archive: true\n", "namespaceParallelism": "10"}


@pytest.mark.parametrize("name", ["site", "teardown"])
def test_valid_variables_pass_the_validation(name, tmp_path):
    """The validation must not reject what the roles accept: with a valid postgres_mode the first task
    passes and the play goes on (it is stopped by an unreachable cluster, not by validation)."""
    kubeconfig = unreachable_kubeconfig(tmp_path / "unreachable.kubeconfig")
    rc, tasks, output = playbook(name, kubeconfig, postgres_mode="external", postgres_host="db.example.com")
    assert tasks[0][0] == VALIDATION_TASK and tasks[0][1].get("failed") is not True, output
    assert len(tasks) > 1 and rc != 0
