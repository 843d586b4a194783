"""The local control plane itself: real PostgreSQL, Argo's real migrations and controller."""
from __future__ import annotations

import contextlib
import subprocess
import time
import uuid

import kubernetes
import psycopg
import pytest
import yaml
from psycopg import sql


@contextlib.contextmanager
def _migrated_database(postgres, argo_db_tool, dbname):
    """A fresh database migrated by Argo's own migration code (hack/db); dropped afterwards."""
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    try:
        result = subprocess.run([argo_db_tool, "--dsn", postgres.url(dbname), "migrate"],
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        yield
    finally:
        with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def test_hack_db_migrate_creates_schema_history(postgres, argo_db_tool):
    """Argo's own migration code (hack/db) runs against the test PostgreSQL."""
    dbname = "migrate_probe"
    with _migrated_database(postgres, argo_db_tool, dbname):
        with psycopg.connect(postgres.dsn(dbname)) as conn:
            versions = [row[0] for row in conn.execute("SELECT schema_version FROM schema_history")]
            tables = {row[0] for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    assert len(versions) == 1 and versions[0] > 0
    assert {"argo_archived_workflows", "argo_archived_workflows_labels", "argo_workflows"} <= tables


# ---- the Kubernetes control plane and Argo's real controller (issue 3 acceptance test)

ARCHIVING_LABEL = "workflows.argoproj.io/workflow-archiving-status"
PODLESS_WORKFLOW = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"generateName": "podless-"},
    "spec": {
        "entrypoint": "main",
        "templates": [
            # every step is skipped, so the workflow succeeds without a single pod
            {"name": "main", "steps": [[{"name": "skipped-a", "template": "noop", "when": "false"}],
                                       [{"name": "skipped-b", "template": "noop", "when": "false"}]]},
            {"name": "noop", "container": {"image": "registry.invalid/never-pulled:1", "command": ["true"]}},
        ],
    },
}


# kwok runs its pod as if the image existed: nothing is ever pulled
PROBE_DEPLOYMENT = {
    "metadata": {"name": "probe"},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "probe"}}, "template": {
        "metadata": {"labels": {"app": "probe"}},
        "spec": {"containers": [{"name": "probe", "image": "registry.invalid/never-pulled:1"}]}}},
}


def _wait_for(what, probe, timeout, interval=0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last seen: {last!r}")


@pytest.fixture
def kube(control_plane):
    api = kubernetes.config.new_client_from_config(config_file=control_plane.kubeconfig)
    yield api
    api.close()


@pytest.fixture
def archive_db(postgres):
    """A fresh database and a non-superuser owner, as a platform team would hand to Argo."""
    suffix = uuid.uuid4().hex[:8]
    dbname, user, password = f"argo_{suffix}", f"argo_{suffix}", uuid.uuid4().hex
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(user), sql.Literal(password)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(dbname), sql.Identifier(user)))
    yield {"dbname": dbname, "user": user, "password": password}
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(user)))


def _persistence_configmap(postgres, archive_db) -> dict:
    persistence = {
        "archive": True,
        "nodeStatusOffLoad": True,
        "connectionPool": {"maxIdleConns": 5, "maxOpenConns": 10, "connMaxLifetime": "0s"},
        "postgresql": {
            "host": postgres.host, "port": postgres.port, "database": archive_db["dbname"],
            "tableName": "argo_workflows", "ssl": False,
            "userNameSecret": {"name": "argo-postgres-config", "key": "username"},
            "passwordSecret": {"name": "argo-postgres-config", "key": "password"},
        },
    }
    return {"metadata": {"name": "workflow-controller-configmap"},
            "data": {"persistence": yaml.safe_dump(persistence, sort_keys=False)}}


def test_real_controller_migrates_and_archives_a_podless_workflow(
        kube, argo_namespace, argo_controller, postgres, archive_db, argo_db_tool):
    core = kubernetes.client.CoreV1Api(kube)
    custom = kubernetes.client.CustomObjectsApi(kube)
    core.create_namespaced_secret(argo_namespace, {
        "metadata": {"name": "argo-postgres-config"},
        "stringData": {"username": archive_db["user"], "password": archive_db["password"]}})
    core.create_namespaced_config_map(argo_namespace, _persistence_configmap(postgres, archive_db))

    reference = _reference_schema_version(postgres, argo_db_tool, f"{archive_db['dbname']}_ref")
    with argo_controller.start(argo_namespace) as controller:
        controller.wait_ready(180)
        wf = custom.create_namespaced_custom_object("argoproj.io", "v1alpha1", argo_namespace, "workflows",
                                                    PODLESS_WORKFLOW)
        name, uid = wf["metadata"]["name"], wf["metadata"]["uid"]

        def archived():
            obj = custom.get_namespaced_custom_object("argoproj.io", "v1alpha1", argo_namespace, "workflows", name)
            phase = obj.get("status", {}).get("phase")
            label = obj["metadata"].get("labels", {}).get(ARCHIVING_LABEL)
            return obj if (phase, label) == ("Succeeded", "Archived") else None

        obj = _wait_for(f"workflow {name} Succeeded and archived", archived, 120)

        def migrated():  # the controller migrates in the background; /healthz does not wait for it
            with psycopg.connect(postgres.dsn(archive_db["dbname"])) as conn:
                rows = conn.execute("SELECT schema_version FROM schema_history").fetchall()
            return rows if rows == [(reference,)] else None

        _wait_for(f"schema_history at version {reference}", migrated, 60)
        assert controller.wait_exit(0) is None, controller.log()

    # every step was skipped: no pod exists for it
    assert not core.list_namespaced_pod(argo_namespace).items
    step_phases = {n["phase"] for n in obj["status"]["nodes"].values() if n["type"] not in ("Steps", "StepGroup")}
    assert step_phases == {"Skipped"}
    with psycopg.connect(postgres.dsn(archive_db["dbname"])) as conn:
        rows = conn.execute("SELECT name, namespace, phase, clustername FROM argo_archived_workflows WHERE uid = %s",
                            (uid,)).fetchall()
    assert rows == [(name, argo_namespace, "Succeeded", "default")]


def _reference_schema_version(postgres, argo_db_tool, dbname) -> int:
    """The schema version Argo's own migration code reaches on an empty database."""
    with _migrated_database(postgres, argo_db_tool, dbname):
        with psycopg.connect(postgres.dsn(dbname)) as conn:
            (version,), = conn.execute("SELECT schema_version FROM schema_history").fetchall()
    return version


def test_deployment_gets_an_available_replica_on_the_kwok_node(kube, argo_namespace):
    apps = kubernetes.client.AppsV1Api(kube)
    apps.create_namespaced_deployment(argo_namespace, PROBE_DEPLOYMENT)

    def available():
        current = apps.read_namespaced_deployment_status("probe", argo_namespace)
        return current if current.status.available_replicas == 1 else None

    deployment = _wait_for("1 available replica", available, 90)
    assert deployment.status.ready_replicas == 1
    pods = kubernetes.client.CoreV1Api(kube).list_namespaced_pod(argo_namespace, label_selector="app=probe").items
    assert [(p.spec.node_name, p.status.phase) for p in pods] == [("kwok-node-0", "Running")]


def test_namespace_deletion_completes(kube, control_plane):
    core = kubernetes.client.CoreV1Api(kube)
    name = f"delete-probe-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_config_map(name, {"metadata": {"name": "content"}, "data": {"k": "v"}})
    kubernetes.client.AppsV1Api(kube).create_namespaced_deployment(name, PROBE_DEPLOYMENT)
    _wait_for("the probe pod", lambda: core.list_namespaced_pod(name).items, 60)
    core.delete_namespace(name)

    def gone():
        try:
            core.read_namespace(name)
        except kubernetes.client.ApiException as exc:
            return exc.status == 404
        return False

    _wait_for(f"namespace {name} to be deleted", gone, 120)
