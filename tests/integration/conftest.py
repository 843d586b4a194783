"""Session fixtures for the integration tier: the real local control plane (tests/controlplane).

Contract used by every integration test (keep names and shapes):
  postgres        PostgreSQL 15 (alone, or the running cluster's): .host .port .user .password
                  .dbname, .dsn(dbname=None) -> libpq conninfo, .url(dbname=None) -> postgres:// URL,
                  .connect_params(dbname=None) -> login_* module arguments
  argo_db_tool    path of Argo's built `hack/db` binary
  control_plane   the whole local cluster: .kubeconfig .postgres .k8s_version .argo_version
                  .argo_manifests .state_dir
  argo_crds       Argo's CRDs (from the module cache) applied and Established
  argo_namespace  (function) a fresh namespace, deleted afterwards
  argo_controller .start(namespace, configmap=..., env=None) -> handle with .wait_ready(timeout),
                  .wait_exit(timeout), .log(), .stop(); one controller machine-wide (file lock)

Teardown: pieces a session started are stopped when the last session using the state dir ends,
unless ARGOOPS_KEEP_CLUSTER=1; a cluster found running (e.g. `make cluster-up`) is left up.
"""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "controlplane"))

from cplane import argo, build, cluster, kubeapi, paths, sessions  # noqa: E402  pylint: disable=wrong-import-position


def _log(message: str) -> None:
    sys.stderr.write(f"[controlplane] {message}\n")


@pytest.fixture(scope="session")
def _cluster_session():
    """Registers this pytest session as a user of the shared state dir; the last one out stops
    what sessions started."""
    with sessions.using(paths.state_dir(), cluster.stop_pieces, _log) as state:
        yield state


@pytest.fixture(scope="session")
def postgres(_cluster_session):
    return cluster.ensure_postgres(_cluster_session, owner="session", log=_log)


@pytest.fixture(scope="session")
def argo_db_tool():
    return build.ensure("argo-db", _log).path("db")


@pytest.fixture(scope="session")
def control_plane(_cluster_session, postgres):  # pylint: disable=unused-argument
    """The whole local cluster (building binaries on first use); reuses a running one."""
    return cluster.up(_cluster_session, owner="session", log=_log)


@pytest.fixture(scope="session")
def argo_crds(control_plane):
    return kubeapi.apply_argo_crds(control_plane.kubeconfig, control_plane.argo_manifests)


@pytest.fixture
def argo_namespace(control_plane, argo_crds):  # pylint: disable=unused-argument
    name = kubeapi.create_namespace(control_plane.kubeconfig)
    yield name
    kubeapi.delete_namespace(control_plane.kubeconfig, name)


class ArgoControllers:
    """Starts Argo's workflow-controller against the local cluster; stops leftovers at the end."""

    def __init__(self, info):
        self.info = info
        self.handles = []

    def start(self, namespace: str, configmap: str = "workflow-controller-configmap", env: dict | None = None,
              **kwargs) -> argo.ControllerHandle:
        handle = argo.start(self.info.state_dir, self.info.kubeconfig, namespace, configmap=configmap, env=env,
                            log=_log, **kwargs)
        self.handles.append(handle)
        return handle

    def stop_all(self) -> None:
        for handle in self.handles:
            handle.stop()


@pytest.fixture(scope="session")
def argo_controller(control_plane):
    controllers = ArgoControllers(control_plane)
    yield controllers
    controllers.stop_all()
