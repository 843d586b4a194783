# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hourly rollups of Argo's workflow archive, kept in a schema of the collection's own (``argoops_rollup``).

Why this shape:
- Argo's table has no "archived at" column (rows are written as delete + insert by uid), so the watermark
  is the set of rows already rolled up: ``argoops_rollup.workflow`` keeps one narrow row per archived
  workflow (scope, uid, group columns, times, duration, CPU/memory). A run reads only archive rows not
  in that set (an anti-join on the primary keys), so it reads only what was archived since the last run,
  and a re-run finds nothing and changes nothing.
- ``argoops_rollup.hourly`` holds per (cluster, instance, namespace, phase, template, hour of start) the
  count, sum/min/max duration, CPU/memory totals and every duration as a float8 array: percentile_cont
  over the unnested arrays sorts exactly the values it would sort over the raw rows, so p50/p95/p99 are
  equal, not close.
- ``argoops_rollup.concurrency`` holds the peak number of workflows running at once per scope and hour,
  recomputed for the hours a run touched from the narrow rows (which outlive pruning).
- Two runs at once: each takes a transaction-scoped advisory lock first, so the second waits and then
  finds nothing new. Everything of one run is one transaction: a run killed halfway leaves nothing.
- Argo never touches this schema: its migrations only know ``schema_history`` and its own tables.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.argoops.workflows.plugins.module_utils import pg

SCHEMA = "argoops_rollup"
SCHEMA_MARK = "argoops.workflows rollups v1"
LOCK_KEY = 0x6172676F  # 'argo': pg_advisory_xact_lock key shared by every rollup writer
TEMPLATE_LABELS = ("workflows.argoproj.io/workflow-template", "workflows.argoproj.io/cluster-workflow-template")
NO_TEMPLATE = "none"

DDL = (
    "CREATE SCHEMA %s" % SCHEMA,
    "COMMENT ON SCHEMA %s IS '%s'" % (SCHEMA, SCHEMA_MARK),
    "CREATE TABLE %s.workflow (clustername varchar(64) NOT NULL, instanceid varchar(64) NOT NULL, "
    "uid varchar(128) NOT NULL, namespace varchar(256) NOT NULL, phase varchar(25) NOT NULL, "
    "template text NOT NULL, startedat timestamp NOT NULL, finishedat timestamp NOT NULL, "
    "duration float8 NOT NULL, cpu_seconds float8 NOT NULL, memory_seconds float8 NOT NULL, "
    "PRIMARY KEY (clustername, uid))" % SCHEMA,
    "CREATE INDEX workflow_span ON %s.workflow (clustername, instanceid, startedat, finishedat)" % SCHEMA,
    "CREATE TABLE %s.hourly (clustername varchar(64) NOT NULL, instanceid varchar(64) NOT NULL, "
    "namespace varchar(256) NOT NULL, phase varchar(25) NOT NULL, template text NOT NULL, "
    "hour timestamp NOT NULL, count bigint NOT NULL, duration_sum float8 NOT NULL, "
    "duration_min float8 NOT NULL, duration_max float8 NOT NULL, durations float8[] NOT NULL, "
    "cpu_seconds float8 NOT NULL, memory_seconds float8 NOT NULL, "
    "PRIMARY KEY (clustername, instanceid, hour, namespace, phase, template))" % SCHEMA,
    "CREATE TABLE %s.concurrency (clustername varchar(64) NOT NULL, instanceid varchar(64) NOT NULL, "
    "hour timestamp NOT NULL, peak integer NOT NULL, PRIMARY KEY (clustername, instanceid, hour))" % SCHEMA,
)

_TEMPLATE = ("coalesce((SELECT l.value FROM argo_archived_workflows_labels l WHERE l.clustername = w.clustername "
             "AND l.uid = w.uid AND l.name = %s), (SELECT l.value FROM argo_archived_workflows_labels l "
             "WHERE l.clustername = w.clustername AND l.uid = w.uid AND l.name = %s), "
             "w.workflow->'spec'->'workflowTemplateRef'->>'name', '" + NO_TEMPLATE + "')")

# Narrow rows of archive rows not rolled up yet, staged for this transaction; ``{scope}`` narrows to a
# scope and finish time (what a prune batch is about to delete).
_STAGE = (
    "CREATE TEMP TABLE argoops_rollup_new ON COMMIT DROP AS SELECT w.clustername, w.instanceid, w.uid, "
    "w.namespace, w.phase, " + _TEMPLATE + " AS template, w.startedat, w.finishedat, "
    "date_part('epoch', w.finishedat - w.startedat) AS duration, "
    "coalesce((w.workflow->'status'->'resourcesDuration'->>'cpu')::float8, 0) AS cpu_seconds, "
    "coalesce((w.workflow->'status'->'resourcesDuration'->>'memory')::float8, 0) AS memory_seconds "
    "FROM argo_archived_workflows w WHERE {scope} NOT EXISTS (SELECT 1 FROM " + SCHEMA + ".workflow r "
    "WHERE r.clustername = w.clustername AND r.uid = w.uid)")

_KEEP = "INSERT INTO " + SCHEMA + ".workflow SELECT * FROM argoops_rollup_new"

# Add the new rows to their hours (arrays concatenated, so the multiset of durations is exact).
_MERGE_HOURLY = (
    "INSERT INTO " + SCHEMA + ".hourly AS h SELECT clustername, instanceid, namespace, phase, template, "
    "date_trunc('hour', startedat), count(*), sum(duration), min(duration), max(duration), "
    "array_agg(duration ORDER BY duration), sum(cpu_seconds), sum(memory_seconds) "
    "FROM argoops_rollup_new GROUP BY 1, 2, 3, 4, 5, 6 "
    "ON CONFLICT (clustername, instanceid, hour, namespace, phase, template) DO UPDATE SET "
    "count = h.count + excluded.count, duration_sum = h.duration_sum + excluded.duration_sum, "
    "duration_min = least(h.duration_min, excluded.duration_min), "
    "duration_max = greatest(h.duration_max, excluded.duration_max), durations = h.durations || excluded.durations, "
    "cpu_seconds = h.cpu_seconds + excluded.cpu_seconds, memory_seconds = h.memory_seconds + excluded.memory_seconds")

# Peak number of workflows running at once, per scope and hour, for every hour a new row overlaps,
# from all narrow rows of that scope (they outlive pruning). A workflow runs in [startedat, finishedat).
# A sweep: +1 at a start, -1 at a finish, and a 0 marker at each hour's start; at one instant finishes
# sort first, then the marker, then starts, so the running sum at the marker is the count at the hour's
# start and the hour's peak is the largest running sum of its events.
CONCURRENCY_SWEEP = (
    "events AS (SELECT r.clustername, r.instanceid, e.at, e.delta FROM {rows} r "
    "JOIN scopes s ON s.clustername = r.clustername AND s.instanceid = r.instanceid "
    "AND r.startedat < s.hi AND r.finishedat > s.lo, "
    "LATERAL (VALUES (r.startedat, 1), (r.finishedat, -1)) e(at, delta) WHERE r.finishedat > r.startedat "
    "UNION ALL SELECT clustername, instanceid, hour, 0 FROM hours), "
    "running AS (SELECT clustername, instanceid, at, delta, sum(delta) OVER (PARTITION BY clustername, instanceid "
    "ORDER BY at, delta ROWS UNBOUNDED PRECEDING) AS n FROM events), "
    "peaks AS (SELECT x.clustername, x.instanceid, date_trunc('hour', x.at) AS hour, max(x.n)::int AS peak "
    "FROM running x GROUP BY 1, 2, 3) "
    "SELECT p.clustername, p.instanceid, p.hour, p.peak FROM peaks p JOIN hours h ON h.clustername = p.clustername "
    "AND h.instanceid = p.instanceid AND h.hour = p.hour")

HOURS_OF = ("SELECT DISTINCT r.clustername, r.instanceid, g.hour FROM {rows} r, "
            "generate_series(date_trunc('hour', r.startedat), date_trunc('hour', greatest(r.startedat, "
            "r.finishedat - interval '1 microsecond')), interval '1 hour') g(hour)")

_CONCURRENCY = (
    "INSERT INTO " + SCHEMA + ".concurrency WITH hours AS (" + HOURS_OF.format(rows="argoops_rollup_new") + "), "
    "scopes AS (SELECT clustername, instanceid, min(hour) AS lo, max(hour) + interval '1 hour' AS hi FROM hours "
    "GROUP BY 1, 2), " + CONCURRENCY_SWEEP.format(rows=SCHEMA + ".workflow") + " "
    "ON CONFLICT (clustername, instanceid, hour) DO UPDATE SET peak = excluded.peak")


class RollupError(pg.PgError):
    """The rollup schema is missing, not ours, or cannot be written; the message says what to do."""


def schema_state(conn):
    """'absent', 'ours' or 'foreign' (a schema of that name without our mark)."""
    row = pg.run(conn, "SELECT obj_description(n.oid, 'pg_namespace') FROM pg_namespace n WHERE n.nspname = %s",
                 [SCHEMA], "look for the rollup schema").fetchone()
    if row is None:
        return "absent"
    return "ours" if row[0] == SCHEMA_MARK else "foreign"


def ensure_schema(conn, create):
    """Make sure our schema exists (creating it when ``create``); returns True when it was created."""
    state = schema_state(conn)
    if state == "foreign":
        raise RollupError("rollup schema: %s already exists in %s but was not created by argoops.workflows "
                          "(no %r comment); rename or drop it, nothing was written"
                          % (SCHEMA, pg.describe(conn.argoops_target), SCHEMA_MARK))
    if state == "ours":
        return False
    if not create:
        raise RollupError("create_schema: the rollup schema %s does not exist in %s; run archive_rollup with "
                          "create_schema=true (needs CREATE on the database)" % (SCHEMA, pg.describe(conn.argoops_target)))
    for statement in DDL:
        pg.run(conn, statement, doing="create the rollup schema")
    return True


def _scope_sql(scope, finished_before):
    clauses, params = [], []
    if scope is not None:
        clauses += ["w.clustername = %s", "w.instanceid = %s"]
        params += [scope.cluster_name, scope.instance_id]
    if finished_before is not None:
        clauses.append("w.finishedat < %s")
        params.append(finished_before)
    return "".join(c + " AND " for c in clauses), params


def pending_count(conn, scope=None, finished_before=None):
    """Archive rows not rolled up yet (what the next run would read)."""
    condition, params = _scope_sql(scope, finished_before)
    query = ("SELECT count(*) FROM argo_archived_workflows w WHERE %s NOT EXISTS (SELECT 1 FROM %s.workflow r "
             "WHERE r.clustername = w.clustername AND r.uid = w.uid)" % (condition, SCHEMA))
    return pg.run(conn, query, params, "count rows not rolled up").fetchone()[0]


def roll_up(conn, scope=None, finished_before=None):
    """Roll up every archive row not rolled up yet (optionally only of ``scope``, finished before a time),
    inside the caller's transaction. Returns the number of rows rolled up."""
    pg.run(conn, "SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY], "wait for other rollup runs")
    condition, params = _scope_sql(scope, finished_before)
    pg.run(conn, _STAGE.format(scope=condition), list(TEMPLATE_LABELS) + params, "read new archive rows")
    count = pg.run(conn, "SELECT count(*) FROM argoops_rollup_new", doing="count new rows").fetchone()[0]
    if count:
        pg.run(conn, "ANALYZE argoops_rollup_new", doing="analyze new rows")
        pg.run(conn, _KEEP, doing="keep the new rows")
        pg.run(conn, _MERGE_HOURLY, doing="add the new rows to the hourly rollup")
        pg.run(conn, _CONCURRENCY, doing="recompute peak concurrency")
    pg.run(conn, "DROP TABLE argoops_rollup_new", doing="drop the staged rows")
    return count


def prune_hook(scope):
    """archive_prune's before_batch: roll up the scope's rows finished before the cutoff."""
    def before_batch(conn, cutoff):
        roll_up(conn, scope, cutoff)
    return before_batch


def run_rollup(conn, create_schema, check_mode):
    """The archive_rollup module's work, one transaction. Returns the module result (without changed)."""
    state = schema_state(conn)
    if check_mode:
        if state == "foreign":
            ensure_schema(conn, False)
        if state == "absent" and not create_schema:
            ensure_schema(conn, False)
        pending = None
        if state == "ours":
            pending = pending_count(conn)
        else:
            pending = pg.run(conn, "SELECT count(*) FROM argo_archived_workflows",
                             doing="count archive rows").fetchone()[0]
        pg.rollback(conn)
        return dict(schema_created=state == "absent", rolled_up=pending)
    created = ensure_schema(conn, create_schema)
    rolled = roll_up(conn)
    pg.commit(conn, "commit the rollup")
    return dict(schema_created=created, rolled_up=rolled)
