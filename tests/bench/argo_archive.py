"""Argo's archive for tests and the benchmark: schema from Argo's own migrations, rows as Argo writes them.

Schema: Argo's migrations run by Argo itself, never a copy of its DDL. `hack/db migrate` of v4.0.5
panics ("logger not found in context": its cobra command context carries no logger), so when the
tool fails we start the real workflow-controller from the local control plane against the database;
it migrates at start-up, before it reports healthy.

Rows: ``archive_workflow`` issues exactly the statements of ArchiveWorkflow in
persist/sqldb/workflow_archive.go (delete + insert by uid, labels deleted and re-inserted, all in one
transaction, NUL escapes replaced by ARGO_POSTGRES_NULL_REPLACEMENT). ``generate`` is the bulk
equivalent of `hack/db fake-archived-workflows` (which panics the same way): the same workflow template
and the same randomisation (name of 10-30 characters, time-based uid, phase, start in 2023, 5-300 s
duration, phase label, archiving-status label ``Persisted``), done server-side in batches.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import psycopg
import yaml
from psycopg import sql

CONTROLPLANE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "controlplane")
NULL_REPLACEMENT = "ARGO_POSTGRES_NULL_REPLACEMENT"
PHASE_LABEL = "workflows.argoproj.io/phase"
ARCHIVING_STATUS_LABEL = "workflows.argoproj.io/workflow-archiving-status"
TEMPLATE = "workflow/controller/testdata/dag-exhausted-retries-xfail.yaml"  # hack/db's default template
TEMPLATE_DB = "argoops_archive_template"


def argo_source_dir(version: str) -> str:
    gomodcache = os.environ.get("GOMODCACHE") or os.path.join(os.path.expanduser("~"), "go", "pkg", "mod")
    return os.path.join(gomodcache, "github.com", "argoproj", "argo-workflows", f"v4@{version}")


def load_template(version: str) -> dict:
    """hack/db's default workflow, read from Argo's module in the Go module cache."""
    with open(os.path.join(argo_source_dir(version), TEMPLATE), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def rfc3339(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # metav1.Time marshals whole seconds, UTC


def argo_workflow(template: dict, name: str, namespace: str, phase: str, started, finished,
                  labels: dict | None = None, uid: str | None = None, message: str | None = None) -> dict:
    """A copy of ``template`` randomised the way hack/db's randomizeWorkflow does it."""
    wf = json.loads(json.dumps(template))
    wf["metadata"].update(name=name, namespace=namespace, uid=uid or str(uuid.uuid1()))
    wf["metadata"]["labels"] = dict(labels or {}, **{PHASE_LABEL: phase})
    wf["status"].update(phase=phase, startedAt=rfc3339(started), finishedAt=rfc3339(finished))
    if message is not None:
        wf["status"]["message"] = message
    return wf


def archive_workflow(conn, wf: dict, cluster_name: str = "default", instance_id: str = "") -> None:
    """ArchiveWorkflow (persist/sqldb/workflow_archive.go), statement for statement, one transaction."""
    import datetime  # pylint: disable=import-outside-toplevel

    def parse(text):
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")

    labels = dict(wf["metadata"].get("labels") or {}, **{ARCHIVING_STATUS_LABEL: "Persisted"})
    wf = dict(wf, metadata=dict(wf["metadata"], labels=labels))
    body = json.dumps(wf, separators=(",", ":")).replace("\\u0000", NULL_REPLACEMENT)
    meta, status = wf["metadata"], wf["status"]
    with conn.transaction():
        conn.execute("DELETE FROM argo_archived_workflows WHERE clustername = %s AND instanceid = %s AND uid = %s",
                     [cluster_name, instance_id, meta["uid"]])
        conn.execute("INSERT INTO argo_archived_workflows (clustername, instanceid, uid, name, namespace, phase, "
                     "startedat, finishedat, creationtimestamp, workflow) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                     [cluster_name, instance_id, meta["uid"], meta["name"], meta["namespace"], status["phase"],
                      parse(status["startedAt"]), parse(status["finishedAt"]),
                      parse(meta["creationTimestamp"]), body])
        conn.execute("DELETE FROM argo_archived_workflows_labels WHERE clustername = %s AND uid = %s",
                     [cluster_name, meta["uid"]])
        for key, value in labels.items():
            conn.execute("INSERT INTO argo_archived_workflows_labels (clustername, uid, name, value) "
                         "VALUES (%s, %s, %s, %s)", [cluster_name, meta["uid"], key, value])


# One batch of fake-archived-workflows, server-side: the template is a parameter, each row gets hack/db's
# randomisation. Phases are weighted (Succeeded/Failed/Error) instead of uniform so that deep pages exist
# behind a phase-label filter. Go's uuid.NewUUID is a v1 uuid; gen_random_uuid() has the same text form.
_GENERATE = """
WITH tpl AS MATERIALIZED (SELECT %(template)s::jsonb AS t),
src AS (
  SELECT gen_random_uuid()::text AS uid,
         translate(substr(md5(random()::text || i::text), 1, 10 + floor(random() * 21)::int),
                   '0123456789abcdef', 'bcdfghjklmnpqrst') AS name,
         (%(namespaces)s::text[])[1 + floor(random() * %(namespace_count)s)::int] AS namespace,
         CASE WHEN r < %(succeeded)s THEN 'Succeeded' WHEN r < %(succeeded)s + %(failed)s THEN 'Failed'
              ELSE 'Error' END AS phase,
         %(start)s::timestamp + floor(random() * %(span)s) * interval '1 second' AS startedat,
         (5 + floor(random() * 296))::int AS seconds
  FROM (SELECT i, random() AS r FROM generate_series(1, %(rows)s) i) g
), ins AS (
  INSERT INTO argo_archived_workflows (clustername, instanceid, uid, name, namespace, phase, startedat, finishedat,
                                       creationtimestamp, workflow)
  SELECT %(cluster)s, %(instance)s, uid, name, namespace, phase, startedat, startedat + seconds * interval '1 second',
         (t #>> '{metadata,creationTimestamp}')::timestamptz AT TIME ZONE 'UTC',
         t
           || jsonb_build_object('metadata', (t -> 'metadata') || jsonb_build_object(
                'name', name, 'namespace', namespace, 'uid', uid,
                'labels', jsonb_build_object('workflows.argoproj.io/phase', phase,
                                             'workflows.argoproj.io/workflow-archiving-status', 'Persisted')))
           || jsonb_build_object('status', (t -> 'status') || jsonb_build_object(
                'phase', phase,
                'startedAt', to_char(startedat, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'finishedAt', to_char(startedat + seconds * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
  FROM src, tpl
  RETURNING clustername, uid, phase
)
INSERT INTO argo_archived_workflows_labels (clustername, uid, name, value)
SELECT clustername, uid, 'workflows.argoproj.io/phase', phase FROM ins
UNION ALL
SELECT clustername, uid, 'workflows.argoproj.io/workflow-archiving-status', 'Persisted' FROM ins
"""


def generate(conn, rows: int, template: dict, namespaces=("argo",), weights=(0.7, 0.2), start="2023-01-01",
             span_seconds=365 * 86400, cluster_name="default", instance_id="", batch=50000, seed=0.42,
             progress=None) -> None:
    """Insert ``rows`` fake archived workflows in batches of ``batch`` rows (one transaction each)."""
    conn.execute("SELECT setseed(%s)", [seed])
    params = dict(namespaces=list(namespaces), namespace_count=len(namespaces), succeeded=weights[0],
                  failed=weights[1], start=start, span=span_seconds, cluster=cluster_name, instance=instance_id,
                  template=json.dumps(template))
    done = 0
    while done < rows:
        # A small first batch, then ANALYZE: otherwise the foreign-key checks of the label inserts are
        # planned against an empty table (sequential scans, quadratic time).
        size = min(batch if done else min(batch, 1000), rows - done)
        with conn.transaction():
            conn.execute(_GENERATE, dict(params, rows=size))
        if not done:
            conn.execute("ANALYZE argo_archived_workflows")
            conn.execute("ANALYZE argo_archived_workflows_labels")
        done += size
        if progress:
            progress(done)


def _tool_migrate(db_tool: str, url: str) -> tuple[bool, str]:
    """`hack/db migrate`; (worked, tail of its output)."""
    result = subprocess.run([db_tool, "migrate", "--dsn", url], capture_output=True, text=True, check=False,
                            timeout=300)
    return result.returncode == 0, (result.stdout + result.stderr)[-300:]


def _controller_migrate(control_plane, start_controller, pg_info, dbname: str, timeout: float = 300.0) -> None:
    """Let Argo's real workflow-controller migrate ``dbname``: a Secret and a persistence ConfigMap in a
    fresh namespace, start, wait until healthy (migrations run before the informers start), stop."""
    from kubernetes import client, config  # pylint: disable=import-outside-toplevel
    if CONTROLPLANE not in sys.path:
        sys.path.insert(0, CONTROLPLANE)
    from cplane import kubeapi  # pylint: disable=import-outside-toplevel

    namespace = kubeapi.create_namespace(control_plane.kubeconfig, prefix="argo-migrate")
    api = client.CoreV1Api(config.new_client_from_config(config_file=control_plane.kubeconfig))
    try:
        api.create_namespaced_secret(namespace, client.V1Secret(
            metadata=client.V1ObjectMeta(name="argo-archive-db"),
            string_data={"username": pg_info.user, "password": pg_info.password}))
        persistence = {
            "archive": True,
            "postgresql": {"host": pg_info.host, "port": pg_info.port, "database": dbname,
                           "tableName": "argo_workflows",
                           "userNameSecret": {"name": "argo-archive-db", "key": "username"},
                           "passwordSecret": {"name": "argo-archive-db", "key": "password"}},
        }
        api.create_namespaced_config_map(namespace, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="workflow-controller-configmap"),
            data={"persistence": yaml.safe_dump(persistence)}))
        handle = start_controller(namespace)
        try:
            handle.wait_ready(timeout)
        finally:
            handle.stop()
    finally:
        kubeapi.delete_namespace(control_plane.kubeconfig, namespace)


def schema_version(conn):
    if conn.execute("SELECT to_regclass('public.schema_history')").fetchone()[0] is None:
        return None
    return conn.execute("SELECT max(schema_version) FROM schema_history").fetchone()[0]


def migrate(pg_info, dbname: str, db_tool: str | None, controller=None, log=print) -> str:
    """Give the (existing, empty) database ``dbname`` Argo's schema by Argo's own migrations.

    Tries `hack/db migrate` first; when it fails (v4.0.5 panics) calls ``controller()`` for
    (control_plane, start_controller) and lets the real workflow-controller migrate. Returns which way.
    """
    if db_tool:
        worked, output = _tool_migrate(db_tool, pg_info.url(dbname))
        if worked:
            return "hack/db migrate"
        log(f"hack/db migrate failed, using the real workflow-controller instead: ...{output.strip()[-160:]}")
    if controller is None:
        raise RuntimeError("hack/db migrate failed and no control plane was offered to run the controller")
    control_plane, start_controller = controller()
    _controller_migrate(control_plane, start_controller, pg_info, dbname)
    with psycopg.connect(pg_info.dsn(dbname)) as conn:
        if schema_version(conn) is None:
            raise RuntimeError(f"the workflow-controller became healthy but {dbname} has no schema_history")
    return "workflow-controller"


def template_database(pg_info, db_tool, controller=None, log=print) -> str:
    """A database holding Argo's migrated, empty schema, made once per server (guarded by an advisory
    lock, reused by later sessions); tests clone it with CREATE DATABASE ... TEMPLATE."""
    with psycopg.connect(pg_info.dsn(), autocommit=True) as admin:
        admin.execute("SELECT pg_advisory_lock(hashtext(%s))", [TEMPLATE_DB])
        try:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE_DB]).fetchone()
            if exists:
                with psycopg.connect(pg_info.dsn(TEMPLATE_DB)) as conn:
                    if schema_version(conn) is not None:
                        return TEMPLATE_DB
                admin.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(TEMPLATE_DB)))
            building = TEMPLATE_DB + "_building"
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(building)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
            how = migrate(pg_info, building, db_tool, controller, log)
            admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(building),
                                                                           sql.Identifier(TEMPLATE_DB)))
            admin.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(TEMPLATE_DB), sql.Literal(f"Argo schema made by {how}")))
            log(f"{TEMPLATE_DB}: Argo's schema made by {how}")
            return TEMPLATE_DB
        finally:
            admin.execute("SELECT pg_advisory_unlock(hashtext(%s))", [TEMPLATE_DB])


def clone_database(pg_info, name: str, template: str) -> None:
    """A fresh copy of ``template`` named ``name`` (an older one of that name is dropped)."""
    with psycopg.connect(pg_info.dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))


def drop_database(pg_info, name: str) -> None:
    with psycopg.connect(pg_info.dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def run_module(module: str, args: dict, check: bool = False, diff: bool = False) -> dict:
    """Run argoops.workflows.<module> the way Ansible does (`ansible localhost -m ...`), return its result
    with the raw ``stdout``/``stderr`` of the run added (tests check them for leaked secrets)."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    venv_bin = os.path.dirname(sys.executable)
    argv = [os.path.join(venv_bin, "ansible"), "localhost", "-m", f"argoops.workflows.{module}",
            "-a", json.dumps(args)] + (["--check"] if check else []) + (["--diff"] if diff else [])
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(repo, ".build", "collections"),
               ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, PATH=venv_bin + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=300)
    try:
        result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError) as exc:
        raise AssertionError(f"no JSON result from {argv[:4]}: rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}") from exc
    return dict(result, stdout=proc.stdout, stderr=proc.stderr)


def controller_from(request):
    """Lazily get (control_plane, start_controller) from the integration fixtures, so the local cluster
    only starts when `hack/db migrate` cannot make the schema."""
    def factory():
        control_plane = request.getfixturevalue("control_plane")
        request.getfixturevalue("argo_crds")
        return control_plane, request.getfixturevalue("argo_controller").start
    return factory


def archive_database(request, name: str) -> str:
    """A fresh database ``name`` with Argo's migrated schema (cloned from the per-server template)."""
    pg_info = request.getfixturevalue("postgres")
    template = template_database(pg_info, request.getfixturevalue("argo_db_tool"), controller_from(request),
                                 log=lambda message: sys.stderr.write(f"[archive] {message}\n"))
    clone_database(pg_info, name, template)
    return name


def snapshot(conn, cluster_name=None):
    """Every archived row with its labels, read plainly (the oracle tests compare module output with)."""
    rows = conn.execute("SELECT clustername, instanceid, uid, name, namespace, phase, startedat, finishedat "
                        "FROM argo_archived_workflows").fetchall()
    labels = {}
    for cluster, uid, key, value in conn.execute("SELECT clustername, uid, name, value "
                                                 "FROM argo_archived_workflows_labels"):
        labels.setdefault((cluster, uid), {})[key] = value
    keys = ("clustername", "instanceid", "uid", "name", "namespace", "phase", "startedat", "finishedat")
    return [dict(zip(keys, row), labels=labels.get((row[0], row[2]), {})) for row in rows
            if cluster_name is None or row[0] == cluster_name]
