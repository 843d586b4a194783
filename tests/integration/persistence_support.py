"""Shared by the persistence_config integration and oracle tests: run the module the way Ansible does
(``ansible localhost -m ...`` with the json callback, so argument parsing, check mode and diff mode are
real) and talk to the local API server directly for setup and assertions."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import time

import kubernetes
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE = "argoops.workflows.persistence_config"
SECRET = "argo-postgres-config"
CONFIGMAP = "workflow-controller-configmap"


def ansible_env(json_output: bool = True, **extra) -> dict:
    """The environment for ansible / ansible-playbook here: this checkout's collections, plain output
    (the json callback unless ``json_output`` is false), no localhost warnings; ``extra`` on top."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    if json_output:
        env.update(ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json")
    env.update(extra)
    return env


def module_argv(kubeconfig: str, args: dict, module: str = MODULE) -> list:
    """``ansible localhost -m module -a args`` with the kubeconfig added to the arguments."""
    return [os.path.join(REPO, ".venv", "bin", "ansible"), "localhost", "-m", module,
            "-a", json.dumps(dict(args, kubeconfig=kubeconfig))]


def unreachable_kubeconfig(path) -> str:
    """Write a kubeconfig whose API server (127.0.0.1:9) refuses connections; return its path."""
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "x",
        "clusters": [{"name": "x", "cluster": {"server": "https://127.0.0.1:9"}}],
        "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
        "users": [{"name": "x", "user": {"token": "not-a-secret"}}]}))
    return str(path)


def run_module(kubeconfig: str, args: dict, check: bool = False, diff: bool = False, module: str = MODULE) -> dict:
    """The module's result as Ansible reports it, plus ``_seconds`` (wall time of the ansible command)."""
    argv = module_argv(kubeconfig, args, module) + ["--check"] * check + ["--diff"] * diff
    started = time.monotonic()
    proc = subprocess.run(argv, env=ansible_env(), capture_output=True, text=True, timeout=300, check=False)
    seconds = time.monotonic() - started
    try:
        result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError) as exc:
        raise AssertionError(f"ansible gave no result (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}") from exc
    result["_seconds"] = seconds
    result["_output"] = proc.stdout + proc.stderr
    return result


def core(kubeconfig: str) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(config_file=kubeconfig))


def create_secret(api, namespace: str, data: dict, name: str = SECRET) -> None:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    api.create_namespaced_secret(namespace, kubernetes.client.V1Secret(
        metadata=kubernetes.client.V1ObjectMeta(name=name), data=encoded))


def create_config_map(api, namespace: str, data: dict, name: str = CONFIGMAP, **meta):
    return api.create_namespaced_config_map(namespace, kubernetes.client.V1ConfigMap(
        metadata=kubernetes.client.V1ObjectMeta(name=name, **meta), data=data))


def read_config_map(api, namespace: str, name: str = CONFIGMAP):
    try:
        return api.read_namespaced_config_map(name, namespace)
    except kubernetes.client.rest.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def persistence_args(namespace: str, postgres, **extra) -> dict:
    """The tutorial's settings (secrets referenced) pointed at the test PostgreSQL."""
    args = {
        "namespace": namespace, "archive": True, "archive_ttl": "7d", "node_status_offload": True,
        "connection_pool": {"max_idle_conns": 100, "max_open_conns": 0, "conn_max_lifetime": "0s"},
        "postgresql": {"host": postgres.host, "port": int(postgres.port), "database": postgres.dbname,
                       "table_name": "argo_workflows",
                       "username_secret": {"name": SECRET, "key": "username"},
                       "password_secret": {"name": SECRET, "key": "password"}},
        "retention_policy": {"completed": 10, "failed": 3, "errored": 3},
    }
    args.update(extra)
    return args


def warnings_of(result: dict) -> str:
    return " ".join(w if isinstance(w, str) else json.dumps(w) for w in result.get("warnings", []))


@pytest.fixture
def api(control_plane):
    """CoreV1Api on the local control plane (import this fixture into a test module)."""
    return core(control_plane.kubeconfig)


@pytest.fixture
def ns(argo_namespace, api, control_plane):  # pylint: disable=redefined-outer-name
    """A fresh Argo namespace holding the database Secret the tests' settings name."""
    create_secret(api, argo_namespace, {"username": control_plane.postgres.user,
                                        "password": control_plane.postgres.password})
    return argo_namespace


class ArgoConfigOracle:
    """Argo v4.0.5's own ConfigMap parsing (tests/controlplane/argoconfig): one process for the whole
    session, one JSON line per ConfigMap each way."""

    def __init__(self, binary: str):
        self.binary, self.cases = binary, 0
        self.proc = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     encoding="utf-8", bufsize=1)

    def judge(self, data: dict) -> dict:
        """What Argo makes of ConfigMap ``data``: ``stage``/``error`` ('' when accepted) and the values."""
        self.cases += 1
        self.proc.stdin.write(json.dumps({"id": str(self.cases), "data": data}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"{self.binary} exited ({self.proc.wait()}) on {data!r}")
        answer = json.loads(line)
        assert answer["id"] == str(self.cases), answer
        return answer

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="session")
def argo_config_oracle():
    """ArgoConfigOracle over the built `argoconfig` binary (built on first use, like the control plane)."""
    # imported here: conftest.py puts tests/controlplane on sys.path
    from cplane import build  # pylint: disable=import-outside-toplevel
    oracle = ArgoConfigOracle(build.ensure("argo-config", print).path())
    yield oracle
    oracle.close()


POD_LESS_WORKFLOW = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
    "metadata": {"generateName": "oracle-", "labels": {"suite": "oracle"}},
    "spec": {"entrypoint": "main", "templates": [
        {"name": "main", "steps": [[{"name": "skipped", "template": "noop", "when": "false"}]]},
        {"name": "noop", "container": {"image": "alpine:3", "command": ["true"]}}]},
}


def wait_archived(control_plane, ns, name, timeout=180.0) -> dict:
    custom = kubernetes.client.CustomObjectsApi(kubernetes.config.new_client_from_config(
        config_file=control_plane.kubeconfig))
    deadline, workflow = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        workflow = custom.get_namespaced_custom_object("argoproj.io", "v1alpha1", ns, "workflows", name)
        labels = workflow["metadata"].get("labels", {})
        if labels.get("workflows.argoproj.io/workflow-archiving-status") == "Archived":
            return workflow
        time.sleep(1)
    raise AssertionError(f"workflow {name} not archived after {timeout:.0f}s: {workflow.get('status')}")
