"""Argo's archive for tests and the benchmark: schema from Argo's own migrations, rows as Argo writes them.

- Schema: Argo's migrations (persist/sqldb/migrate.go) run by Argo's own code through the ``db`` tool the
  control plane builds (tests/controlplane/argodb: Argo's hack/db command line with a logger in the
  context, as hack/db itself panics at v4.0.5), never a copy of Argo's DDL.
- Rows: ``fake_archived`` writes through Argo's real ArchiveWorkflow (`db fake-archived-workflows`);
  ``archive_workflow`` repeats ArchiveWorkflow's statements for rows a test needs exactly (ties, NUL
  characters, labels); ``generate`` is the bulk equivalent for the benchmark: it copies a workflow Argo
  itself wrote and applies fake-archived-workflows' randomisation server-side, in batches.
"""
from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
import uuid

import psycopg
from psycopg import sql

NULL_REPLACEMENT = "ARGO_POSTGRES_NULL_REPLACEMENT"
PHASE_LABEL = "workflows.argoproj.io/phase"
ARCHIVING_STATUS_LABEL = "workflows.argoproj.io/workflow-archiving-status"
TEMPLATE = "workflow/controller/testdata/dag-exhausted-retries-xfail.yaml"  # hack/db's default template
TEMPLATE_DB = "argoops_archive_template"


def template_file(version: str) -> str:
    """hack/db's default workflow in Argo's module in the Go module cache."""
    gomodcache = os.environ.get("GOMODCACHE") or os.path.join(os.path.expanduser("~"), "go", "pkg", "mod")
    return os.path.join(gomodcache, "github.com", "argoproj", "argo-workflows", f"v4@{version}", TEMPLATE)


def _db_tool(db_tool: str, url: str, *args: str) -> str:
    result = subprocess.run([db_tool, "--dsn", url, *args], capture_output=True, text=True, check=False,
                            timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(f"{os.path.basename(db_tool)} {args[0]} failed ({result.returncode}): "
                           f"{(result.stdout + result.stderr)[-600:]}")
    return result.stdout


def migrate(db_tool: str, pg_info, dbname: str) -> int:
    """Argo's schema migrations on ``dbname``; returns the schema_history version they leave."""
    _db_tool(db_tool, pg_info.url(dbname), "migrate")
    with psycopg.connect(pg_info.dsn(dbname)) as conn:
        return schema_version(conn)


def fake_archived(db_tool: str, pg_info, dbname: str, rows: int, seed: int, version: str,
                  namespaces=("argo",), clusters=("default",)) -> None:
    """`db fake-archived-workflows`: rows written by Argo's ArchiveWorkflow (uniform phases, started within
    the last 365 days, names fake-<hex>-<n>, phase + archiving-status labels)."""
    args = ["fake-archived-workflows", "--template", "@" + template_file(version), "--rows", str(rows),
            "--seed", str(seed)]
    for namespace in namespaces:
        args += ["-n", namespace]
    for cluster in clusters:
        args += ["-c", cluster]
    _db_tool(db_tool, pg_info.url(dbname), *args)


def argo_template(conn) -> dict:
    """A workflow exactly as Argo marshalled and stored it (the copy source for new rows)."""
    row = conn.execute("SELECT workflow FROM argo_archived_workflows ORDER BY clustername, uid LIMIT 1").fetchone()
    if row is None:
        raise RuntimeError("no archived workflow to copy; run fake_archived first")
    return row[0]


def schema_version(conn):
    if conn.execute("SELECT to_regclass('public.schema_history')").fetchone()[0] is None:
        return None
    return conn.execute("SELECT max(schema_version) FROM schema_history").fetchone()[0]


def rfc3339(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # metav1.Time marshals whole seconds, UTC


def argo_workflow(template: dict, name: str, namespace: str, phase: str, started, finished,
                  labels: dict | None = None, uid: str | None = None, message: str | None = None) -> dict:
    """A copy of ``template`` randomised the way fake-archived-workflows does it, with chosen values."""
    wf = json.loads(json.dumps(template))
    wf["metadata"].update(name=name, namespace=namespace, uid=uid or str(uuid.uuid1()))
    wf["metadata"]["labels"] = dict(labels or {}, **{PHASE_LABEL: phase})
    wf["status"].update(phase=phase, startedAt=rfc3339(started), finishedAt=rfc3339(finished))
    if message is not None:
        wf["status"]["message"] = message
    return wf


def archive_workflow(conn, wf: dict, cluster_name: str = "default", instance_id: str = "") -> dict:
    """ArchiveWorkflow (persist/sqldb/workflow_archive.go) statement for statement, in one transaction.
    Returns the workflow as stored (with the archiving-status label Argo adds)."""
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
    return wf


# One batch of fake-archived-workflows, server-side: the template (a workflow Argo stored) is a parameter
# and each row gets the tool's randomisation. Phases are weighted (Succeeded/Failed/Error) instead of
# uniform so that deep pages exist behind a phase-label filter. Go's uuid.NewUUID is a v1 uuid;
# gen_random_uuid() has the same text form.
_GENERATE = """
WITH tpl AS MATERIALIZED (SELECT %(template)s::jsonb AS t),
src AS (
  SELECT gen_random_uuid()::text AS uid,
         'fake-' || substr(md5(random()::text || i::text), 1, 8) || '-' || i AS name,
         (%(namespaces)s::text[])[1 + floor(random() * %(namespace_count)s)::int] AS namespace,
         CASE WHEN r < %(succeeded)s THEN 'Succeeded' WHEN r < %(succeeded)s + %(failed)s THEN 'Failed'
              ELSE 'Error' END AS phase,
         %(start)s::timestamp + floor(random() * %(span)s) * interval '1 second' AS startedat,
         (5 + floor(random() * 300))::int AS seconds
  FROM (SELECT i, random() AS r FROM generate_series(%(first)s::int, %(last)s::int) i) g
), ins AS (
  INSERT INTO argo_archived_workflows (clustername, instanceid, uid, name, namespace, phase, startedat, finishedat,
                                       creationtimestamp, workflow)
  SELECT %(cluster)s, %(instance)s, uid, name, namespace, phase, startedat, startedat + seconds * interval '1 second',
         (t #>> '{metadata,creationTimestamp}')::timestamptz AT TIME ZONE 'UTC',
         t
           || jsonb_build_object('metadata', (t -> 'metadata') || jsonb_build_object(
                'name', name, 'namespace', namespace, 'uid', uid,
                'labels', (t #> '{metadata,labels}') || jsonb_build_object('workflows.argoproj.io/phase', phase)))
           || jsonb_build_object('status', (t -> 'status') || jsonb_build_object(
                'phase', phase,
                'startedAt', to_char(startedat, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'finishedAt', to_char(startedat + seconds * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
  FROM src, tpl
  RETURNING clustername, uid, workflow #> '{metadata,labels}' AS labels
)
INSERT INTO argo_archived_workflows_labels (clustername, uid, name, value)
SELECT clustername, uid, l.key, l.value FROM ins, jsonb_each_text(ins.labels) l
"""


def generate(conn, rows: int, template: dict, namespaces=("argo",), weights=(0.7, 0.2), start="2023-01-01",
             span_seconds=365 * 86400, cluster_name="default", instance_id="", batch=50000, seed=0.42,
             progress=None) -> None:
    """Insert ``rows`` copies of ``template`` in batches of ``batch`` rows (one transaction each)."""
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
            conn.execute(_GENERATE, dict(params, first=done + 1, last=done + size))
        if not done:
            conn.execute("ANALYZE argo_archived_workflows")
            conn.execute("ANALYZE argo_archived_workflows_labels")
        done += size
        if progress:
            progress(done)


def template_database(pg_info, db_tool: str, log=print) -> str:
    """A database holding Argo's migrated, empty schema, made once per server (guarded by an advisory lock
    and reused by later sessions); tests clone it with CREATE DATABASE ... TEMPLATE."""
    with psycopg.connect(pg_info.dsn(), autocommit=True) as admin:
        admin.execute("SELECT pg_advisory_lock(hashtext(%s))", [TEMPLATE_DB])
        try:
            if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE_DB]).fetchone():
                return TEMPLATE_DB
            building = TEMPLATE_DB + "_building"
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(building)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
            version = migrate(db_tool, pg_info, building)
            admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(building),
                                                                           sql.Identifier(TEMPLATE_DB)))
            log(f"{TEMPLATE_DB}: Argo's migrations applied, schema_history version {version}")
            return TEMPLATE_DB
        finally:
            admin.execute("SELECT pg_advisory_unlock(hashtext(%s))", [TEMPLATE_DB])


def archive_database(request, name: str) -> str:
    """A fresh database ``name`` with Argo's migrated schema (a clone of the per-server template)."""
    pg_info = request.getfixturevalue("postgres")
    template = template_database(pg_info, request.getfixturevalue("argo_db_tool"),
                                 log=lambda message: sys.stderr.write(f"[archive] {message}\n"))
    with psycopg.connect(pg_info.dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    return name


def drop_database(pg_info, name: str) -> None:
    with psycopg.connect(pg_info.dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def snapshot(conn):
    """Every archived row with its labels, read plainly (the oracle tests compare module output with)."""
    rows = conn.execute("SELECT clustername, instanceid, uid, name, namespace, phase, startedat, finishedat "
                        "FROM argo_archived_workflows").fetchall()
    labels = {}
    for cluster, uid, key, value in conn.execute("SELECT clustername, uid, name, value "
                                                 "FROM argo_archived_workflows_labels"):
        labels.setdefault((cluster, uid), {})[key] = value
    keys = ("clustername", "instanceid", "uid", "name", "namespace", "phase", "startedat", "finishedat")
    return [dict(zip(keys, row), labels=labels.get((row[0], row[2]), {})) for row in rows]


def _ansible_env(repo: str, venv_bin: str) -> dict:
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(repo, ".build", "collections"),
                ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
                ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                ANSIBLE_PYTHON_INTERPRETER=sys.executable, PATH=venv_bin + os.pathsep + os.environ.get("PATH", ""))


def run_modules(module: str, args_list: list, check: bool = False) -> list:
    """Run argoops.workflows.<module> once per entry of ``args_list`` in ONE ansible-playbook process (a
    loop), so a test that needs dozens of results pays Ansible's start-up once instead of each time. Each
    result is what ``run_module`` returns for the same arguments; a failed item does not stop the rest."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    venv_bin = os.path.dirname(sys.executable)
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": [{
        "name": "each", f"argoops.workflows.{module}": "{{ item }}", "loop": args_list,
        "ignore_errors": True, "loop_control": {"label": "{{ ansible_loop.index }}", "extended": True}}]}]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as handle:
        json.dump(play, handle)
    try:
        argv = [os.path.join(venv_bin, "ansible-playbook"), "-i", "localhost,", handle.name] + ["--check"] * check
        proc = subprocess.run(argv, capture_output=True, text=True, env=_ansible_env(repo, venv_bin),
                              check=False, timeout=600)
    finally:
        os.remove(handle.name)
    try:
        results = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]["results"]
    except (ValueError, KeyError, IndexError) as exc:
        raise AssertionError(f"no JSON results from {module} x{len(args_list)}: rc={proc.returncode}\n"
                             f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}") from exc
    assert len(results) == len(args_list), (len(results), len(args_list))
    cleaned = []
    for result in results:
        # The loop echoes each item (its arguments, passwords included) back: that is the test's own
        # input, not module output, so it is dropped before callers look for leaked secrets.
        own = {k: v for k, v in result.items() if k not in ("item", "ansible_loop", "_ansible_item_label")}
        cleaned.append(dict(own, stdout=json.dumps(own), stderr=proc.stderr))
    return cleaned


def run_module(module: str, args: dict, check: bool = False, diff: bool = False) -> dict:
    """Run argoops.workflows.<module> the way Ansible does (`ansible localhost -m ...`), return its result
    with the raw ``stdout``/``stderr`` of the run added (tests check them for leaked secrets)."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    venv_bin = os.path.dirname(sys.executable)
    argv = [os.path.join(venv_bin, "ansible"), "localhost", "-m", f"argoops.workflows.{module}",
            "-a", json.dumps(args)] + (["--check"] if check else []) + (["--diff"] if diff else [])
    proc = subprocess.run(argv, capture_output=True, text=True, env=_ansible_env(repo, venv_bin),
                          check=False, timeout=300)
    try:
        result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError) as exc:
        raise AssertionError(f"no JSON result from {argv[:4]}: rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}") from exc
    return dict(result, stdout=proc.stdout, stderr=proc.stderr)
