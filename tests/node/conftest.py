"""Fixtures of the node tier: the local control plane with a REAL node (cluster.py up --node real).

  real_cluster   the running cluster (.kubeconfig .state_dir ...), its own state dir
                 ($ARGOOPS_NODE_CLUSTER_DIR, default <repo>/.build/cluster-node) so the kwok tiers'
                 cluster is never touched
  kubectl        kubectl(*args, input=None, check=True) -> CompletedProcess, against real_cluster
  namespace      (function) a fresh namespace, deleted afterwards without waiting

Tests marked ``teardown`` run last (they take the cluster down).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "controlplane"))

from cplane import build, cluster, paths, sessions  # noqa: E402  pylint: disable=wrong-import-position


def _log(message: str) -> None:
    sys.stderr.write(f"[controlplane] {message}\n")


def node_state_dir() -> str:
    return os.environ.get("ARGOOPS_NODE_CLUSTER_DIR") or os.path.join(paths.REPO_ROOT, ".build", "cluster-node")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.get_closest_marker("teardown") is not None)


def pytest_configure(config):
    config.addinivalue_line("markers", "teardown: takes the real cluster down; runs after every other test")


@pytest.fixture(scope="session")
def real_cluster():
    with sessions.using(node_state_dir(), cluster.stop_pieces, _log) as state:
        yield cluster.up(state, owner="session", log=_log, node_kind="real")


class Kubectl:
    def __init__(self, kubeconfig: str):
        self.binary = build.ensure("kubectl", _log).path()
        self.kubeconfig = kubeconfig

    def __call__(self, *args: str, input: str | None = None, check: bool = True,  # pylint: disable=redefined-builtin
                 timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run([self.binary, "--kubeconfig", self.kubeconfig, *args], input=input,
                                capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def apply(self, namespace: str, *objects: dict) -> None:
        self("apply", "-n", namespace, "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List",
                                                                    "items": list(objects)}))

    def get(self, namespace: str, kind: str, name: str) -> dict:
        return json.loads(self("get", "-n", namespace, kind, name, "-o", "json").stdout)

    def wait_for(self, what: str, check, timeout: float = 120):
        """Poll ``check()`` until it returns something truthy; fail with ``what`` on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(0.5)


@pytest.fixture(scope="session")
def kubectl(real_cluster):
    return Kubectl(real_cluster.kubeconfig)


@pytest.fixture
def namespace(kubectl):
    name = f"node-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)
