"""Benchmark: Argo's own archive list query (LIMIT/OFFSET) vs archive_info's keyset pages, statistics over
the whole archive from raw rows and from the rollups, the full archive report, and batched pruning (with and
without rollups) vs Argo's one big DELETE -- side by side on one database, ending in a table of the goals.

    make bench                      # or: .venv/bin/python tests/bench/archive_bench.py [--rows N] [--fresh]

The dataset (1,000,000 archived workflows by default, rows shaped exactly as Argo writes them, schema from
Argo's own migrations; see argo_archive.py) lives in a PostgreSQL data directory under the cache dir and is
reused by later runs. Prints numbers and EXPLAIN plans; asserts nothing about speed (whether a goal is met
is printed, never asserted).
"""
from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg
from psycopg import sql

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, os.path.join(REPO, "tests", "controlplane"), os.path.join(REPO, ".build", "collections")]

import argo_archive  # noqa: E402  pylint: disable=wrong-import-position
from cplane import build, paths, postgres  # noqa: E402

from ansible_collections.argoops.workflows.plugins.module_utils import (  # noqa: E402
    archive_capacity, archive_rollup, archive_rollup_stats, archive_sql)
from ansible_collections.argoops.workflows.plugins.module_utils.archive_selector import parse_selector  # noqa: E402

BASE_DB = "argo_bench_base"  # the cached dataset; each run works on a copy (DB), so pruning costs no rebuild
DB = "argo_bench"
DATASET_VERSION = "argo-bench v4"  # bump when the generator changes, so cached datasets are rebuilt
ARGO_WRITTEN = 2000  # rows written by Argo's own ArchiveWorkflow; the rest are copies of one of them
NAMESPACES = ("argo", "team-a", "team-b", "team-c")
DEPTHS = (0, 10000, 100000, 500000)
PAGE = 100
PHASE_FILTER = "workflows.argoproj.io/phase=Succeeded"
SCOPE = archive_sql.Scope("default", "")
PRUNE_SCOPE = archive_sql.Scope("bench-prune", "")  # a second controller's rows in the same archive, to prune
# Each prune method deletes the prune rows started in one year of the dataset.
PRUNE_YEARS = dict(batches=2020, gc=2021, rollups=2022)
PRUNE_BATCH = 1000  # archive_prune's default batch_size
# playbooks/archive_report.yml's defaults, for the full report
REPORT_GROUP_BY = ("phase", "namespace", "day")
REPORT_LATEST = 10
REPORT_PHASES = ("Succeeded", "Failed", "Error")
REPORT_FAILED_PHASES = ("Failed", "Error")
REPORT_TEMPLATE_LABEL = "workflows.argoproj.io/workflow-template"
REPORT_TOP_FAILING = 10

# Argo's ListWorkflows for PostgreSQL (persist/sqldb/workflow_archive.go + selector.go +
# archived_workflow_labels.go, v4.0.5) as upper/db renders it: a CTE that extracts metadata/status from
# the workflow JSON, label requirements inlined as EXISTS sub-queries, ORDER BY startedat DESC, and
# LIMIT limit+1 (argo-server asks for one extra row to know whether more exist) OFFSET offset.
ARGO_LIST = (
    'WITH workflows AS (SELECT "name", "namespace", "uid", "phase", "startedat", "finishedat", '
    '"creationtimestamp", coalesce(workflow->\'metadata\', \'{{}}\') as metadata, '
    'coalesce(workflow->\'status\', \'{{}}\') as status, workflow->\'spec\'->>\'suspend\' as suspend, '
    'coalesce(workflow->\'spec\'->\'arguments\', \'{{}}\') as arguments FROM "argo_archived_workflows" '
    'WHERE (("clustername" = %s AND "instanceid" = %s){labels}) ORDER BY "startedat" DESC LIMIT {limit} '
    'OFFSET {offset}) SELECT "name", "namespace", "uid", "phase", "startedat", "finishedat", "creationtimestamp", '
    'coalesce(metadata->>\'labels\', \'{{}}\') as labels, coalesce(metadata->>\'annotations\', \'{{}}\') as '
    'annotations, coalesce(status->>\'progress\', \'\') as progress, "suspend", coalesce(arguments::text, '
    '\'{{}}\') as arguments, coalesce(status->>\'message\', \'\') as message, '
    'coalesce(status->>\'estimatedDuration\', \'0\') as estimatedduration, '
    'coalesce(status->>\'resourcesDuration\', \'{{}}\') as resourcesduration FROM "workflows"')
ARGO_PHASE_LABEL = (" AND exists (select 1 from argo_archived_workflows_labels where clustername = "
                    "argo_archived_workflows.clustername and uid = argo_archived_workflows.uid and "
                    "name = 'workflows.argoproj.io/phase' and value = 'Succeeded')")
# Argo's archive GC (DeleteExpiredWorkflows): one statement.
ARGO_GC = ("DELETE FROM \"argo_archived_workflows\" WHERE ((\"clustername\" = %s AND \"instanceid\" = %s) "
           "AND finishedat < current_timestamp - interval '{seconds}' second)")


def log(message: str) -> None:
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


def bench_base() -> str:
    """Under the cache dir, unless PostgreSQL (run as `postgres` when we are root) cannot reach it."""
    base = os.environ.get("ARGOOPS_BENCH_DIR") or os.path.join(paths.cache_dir(), "bench")
    if os.geteuid() == 0 and subprocess.run(["runuser", "-u", postgres.RUN_AS, "--", "test", "-x",
                                             os.path.dirname(base)], check=False).returncode != 0:
        fallback = os.path.join("/var/tmp", "argoops-workflows", "bench")
        log(f"{base} is not reachable for the postgres user; keeping the dataset in {fallback}")
        base = fallback
    os.makedirs(base, exist_ok=True)
    os.chmod(base, 0o755)
    return base


def dataset(pg_info, rows: int, prune_rows: int, fresh: bool) -> dict:
    """The cached dataset, or a new one: Argo's migrations, ARGO_WRITTEN rows through Argo's own writer, the
    rest of ``rows`` copied from one of those; plus ``prune_rows`` of cluster PRUNE_SCOPE in each year of
    PRUNE_YEARS, for the prune comparison. Returns facts about it."""
    marker = f"{DATASET_VERSION} rows={rows} prune_rows={prune_rows}"
    with psycopg.connect(pg_info.dsn(), autocommit=True) as admin:
        found = admin.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                              [BASE_DB]).fetchone()
        if found and found[0] and found[0].startswith(marker) and not fresh:
            log(f"reusing the cached dataset ({found[0]})")
            return dict(cached=True, note=found[0])
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BASE_DB)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BASE_DB)))
    db_tool = build.ensure("argo-db", log).path("db")
    version = argo_archive.migrate(db_tool, pg_info, BASE_DB)
    began = time.monotonic()
    argo_archive.fake_archived(db_tool, pg_info, BASE_DB, ARGO_WRITTEN, 7, build.ARGO_VERSION,
                               namespaces=NAMESPACES)
    written_s = time.monotonic() - began
    with psycopg.connect(pg_info.dsn(BASE_DB), autocommit=True) as conn:
        note = (f"{marker} built {datetime.date.today()}: schema_history {version} by Argo's migrations; "
                f"{ARGO_WRITTEN} rows by Argo's ArchiveWorkflow in {written_s:.0f}s; ")
        note += add_rows(conn, rows - ARGO_WRITTEN, prune_rows)
    with psycopg.connect(pg_info.dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(BASE_DB), sql.Literal(note)))
    return dict(cached=False, note=note)


def add_rows(conn, copies: int, prune_rows: int) -> str:
    """Copies of a workflow Argo wrote: ``copies`` started within the last year, then the prune rows."""
    template = argo_archive.argo_template(conn)
    began = time.monotonic()
    year_ago = conn.execute("SELECT date_trunc('day', now() AT TIME ZONE 'UTC') - interval '365 days'").fetchone()[0]
    argo_archive.generate(conn, copies, template, namespaces=NAMESPACES, start=year_ago, seed=0.6180339887,
                          progress=lambda done: log(f"copied {done}/{copies} rows ({time.monotonic() - began:.0f}s)"))
    copies_s = time.monotonic() - began
    began = time.monotonic()
    for year in PRUNE_YEARS.values():
        argo_archive.generate(conn, prune_rows, template, namespaces=NAMESPACES, start=f"{year}-01-01",
                              span_seconds=300 * 86400, cluster_name=PRUNE_SCOPE.cluster_name, seed=0.25)
    prune_s = time.monotonic() - began
    return (f"{copies} copied in {copies_s:.0f}s ({copies / copies_s:.0f} rows/s); {len(PRUNE_YEARS) * prune_rows} "
            f"rows of cluster {PRUNE_SCOPE.cluster_name} in {prune_s:.0f}s; VACUUM ANALYZE {vacuum(conn):.0f}s")


def working_copy(pg_info) -> float:
    """DB as a file copy of BASE_DB (seconds it took): this run may delete rows, the cache stays whole."""
    began = time.monotonic()
    with psycopg.connect(pg_info.dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB)))
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
            sql.Identifier(DB), sql.Identifier(BASE_DB)))
    return time.monotonic() - began


def timed(conn, query, params, runs: int):
    """(median milliseconds, rows of the last run); slow queries (> 1 s) run once."""
    samples, result = [], None
    for attempt in range(runs + 1):
        began = time.perf_counter()
        result = conn.execute(query, params).fetchall()
        elapsed = (time.perf_counter() - began) * 1000
        if attempt == 0 and elapsed > 1000:
            return elapsed, result
        if attempt:
            samples.append(elapsed)
    return statistics.median(samples), result


def keyset_position(conn, filters, depth):
    """Harness only (not measured): (startedat, uid) of the depth-th row, where page `depth` starts after."""
    if depth == 0:
        return None
    condition, params = archive_sql.where(SCOPE, filters)
    return conn.execute(f"SELECT w.startedat, w.uid FROM argo_archived_workflows w WHERE {condition} "
                        "ORDER BY w.startedat DESC, w.uid DESC LIMIT 1 OFFSET %s", params + [depth - 1]).fetchone()


def explain(conn, query, params, analyze=True) -> str:
    options = "ANALYZE, BUFFERS" if analyze else "COSTS"
    return "\n".join("    " + r[0] for r in conn.execute(f"EXPLAIN ({options}) " + query, params))


def list_pages(conn, runs: int, plans: dict, rows: int) -> list:
    table = []
    depths = [d for d in DEPTHS if d < rows]
    for label_filter in (False, True):
        filters = archive_sql.NO_FILTERS._replace(
            labels=tuple(parse_selector(PHASE_FILTER)) if label_filter else ())
        for depth in depths:
            argo_sql = ARGO_LIST.format(labels=ARGO_PHASE_LABEL if label_filter else "", limit=PAGE + 1, offset=depth)
            argo_ms, argo_rows = timed(conn, argo_sql, [SCOPE.cluster_name, SCOPE.instance_id], runs)
            ours_sql, ours_params = archive_sql.list_query(SCOPE, filters, PAGE, keyset_position(conn, filters, depth))
            ours_ms, ours_rows = timed(conn, ours_sql, ours_params, runs)
            same = sorted(r[4] for r in argo_rows) == sorted(r[4] for r in ours_rows)
            table.append((depth, PHASE_FILTER if label_filter else "-", argo_ms, ours_ms, len(ours_rows), same))
            log(f"page at depth {depth} filter={label_filter}: argo {argo_ms:.1f} ms, keyset {ours_ms:.1f} ms")
            if depth == depths[-1] and label_filter:
                plans["Argo list, label filter, OFFSET %d" % depth] = explain(
                    conn, argo_sql, [SCOPE.cluster_name, SCOPE.instance_id])
                plans["archive_info list, label filter, depth %d" % depth] = explain(conn, ours_sql, ours_params)
            if depth == 0 and not label_filter:
                plans["archive_info list, first page"] = explain(conn, ours_sql, ours_params)
    return table


def stats_day(conn, runs: int, plans: dict):
    query, params = archive_sql.stats_query(SCOPE, archive_sql.NO_FILTERS, "day")
    ms, rows = timed(conn, query, params, runs)
    plans["archive_info group_by: day (all rows)"] = explain(conn, query, params)
    return ms, len(rows), sum(r[1] for r in rows)


def rollups(pg_info, runs: int) -> dict:
    """archive_rollup on the whole dataset, then after 10k new rows (started within one recent day), and
    the statistics queries side by side: raw rows vs rollups, plus a label filter the rollups cannot serve."""
    facts = {}
    with psycopg.connect(pg_info.dsn(DB)) as conn:
        began = time.perf_counter()
        archive_rollup.ensure_schema(conn, create=True)
        facts["first_rows"] = archive_rollup.roll_up(conn)
        conn.commit()
        facts["first_s"] = time.perf_counter() - began
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) argoops_rollup.workflow")
        conn.execute("VACUUM (ANALYZE) argoops_rollup.hourly")
        template = argo_archive.argo_template(conn)
        recent = conn.execute("SELECT date_trunc('day', now() AT TIME ZONE 'UTC')").fetchone()[0]
        argo_archive.generate(conn, 10000, template, namespaces=NAMESPACES, start=recent, span_seconds=86400,
                              seed=0.3)
        conn.autocommit = False
        began = time.perf_counter()
        facts["inc_rows"] = archive_rollup.roll_up(conn)
        conn.commit()
        facts["inc_s"] = time.perf_counter() - began
        began = time.perf_counter()
        facts["rerun_rows"] = archive_rollup.roll_up(conn)
        conn.commit()
        facts["rerun_s"] = time.perf_counter() - began
        conn.autocommit = True
        raw_q = archive_sql.stats_query(SCOPE, archive_sql.NO_FILTERS, "day")
        roll_q = archive_rollup_stats.stats_query(SCOPE, archive_sql.NO_FILTERS, "day")
        facts["raw_ms"], raw_rows = timed(conn, *raw_q, runs)
        facts["roll_ms"], roll_rows = timed(conn, *roll_q, runs)
        facts["same"] = raw_rows == roll_rows
        facts["groups"] = len(roll_rows)
        began = time.perf_counter()
        facts["uncovered"] = archive_rollup_stats.uncovered_count(conn, SCOPE, archive_sql.NO_FILTERS)
        facts["coverage_ms"] = (time.perf_counter() - began) * 1000
        labelled = archive_sql.NO_FILTERS._replace(labels=tuple(parse_selector("workflows.argoproj.io/phase=Failed")))
        facts["label_ms"], label_rows = timed(conn, *archive_sql.stats_query(SCOPE, labelled, "day"), runs)
        facts["label_groups"] = len(label_rows)
        facts["sizes"] = conn.execute("SELECT pg_total_relation_size('argoops_rollup.workflow') / 1048576, "
                                      "pg_total_relation_size('argoops_rollup.hourly') / 1048576, "
                                      "(SELECT count(*) FROM argoops_rollup.hourly)").fetchone()
    return facts


def durable(conn, on: bool) -> None:
    """The cached server runs without fsync (test server settings); prune timings use real durability."""
    for setting in ("fsync", "synchronous_commit", "full_page_writes"):
        conn.execute(f"ALTER SYSTEM SET {setting} = {'on' if on else 'off'}")
    conn.execute("SELECT pg_reload_conf()")
    time.sleep(0.5)


class BatchClock:
    """run_prune's before_batch: notes when each batch's transaction starts and when ``hook`` (archive_prune's
    rollup) is done in it; with the end of run_prune that times every transaction and its delete + commit."""

    def __init__(self, hook=None):
        self.hook, self.starts, self.hooked = hook, [], []

    def __call__(self, conn, cutoff):
        self.starts.append(time.perf_counter())
        if self.hook is not None:
            self.hook(conn, cutoff)
        self.hooked.append(time.perf_counter())

    def spans(self, ended: float) -> tuple:
        """([ms of each transaction], [ms of its delete + commit]); ``ended``: when run_prune returned."""
        ends = self.starts[1:] + [ended]
        return ([(e - s) * 1000 for s, e in zip(self.starts, ends)],
                [(e - h) * 1000 for h, e in zip(self.hooked, ends)])


def batched_prune(pg_info, ttl: int, rollup: bool) -> dict:
    """archive_prune's run: batches of PRUNE_BATCH; with rollup=true first ensure_schema(create=False), then
    archive_rollup.prune_hook as before_batch (as plugins/modules/archive_prune.py does)."""
    clock = BatchClock(archive_rollup.prune_hook(PRUNE_SCOPE) if rollup else None)
    with psycopg.connect(pg_info.dsn(DB)) as conn:
        if rollup:
            archive_rollup.ensure_schema(conn, create=False)
            conn.commit()
        result = archive_sql.run_prune(conn, PRUNE_SCOPE, archive_sql.NO_FILTERS, ttl, PRUNE_BATCH, False,
                                       before_batch=clock)
        tx_ms, delete_ms = clock.spans(time.perf_counter())
    return dict(rows=result["deleted"], seconds=result["seconds"], tx_ms=tx_ms, delete_ms=delete_ms)


def argo_gc(conn, ttl: int) -> dict:
    """Argo's archive GC: one DELETE, one transaction."""
    began = time.perf_counter()
    with conn.transaction():
        rows = conn.execute(ARGO_GC.format(seconds=ttl), [PRUNE_SCOPE.cluster_name, PRUNE_SCOPE.instance_id]).rowcount
    seconds = time.perf_counter() - began
    return dict(rows=rows, seconds=seconds, tx_ms=[seconds * 1000], delete_ms=[seconds * 1000])


def vacuum(conn) -> float:
    """VACUUM ANALYZE Argo's tables (seconds), after writing or deleting many rows (so autovacuum does not run
    during later timings)."""
    began = time.perf_counter()
    conn.execute("VACUUM (ANALYZE) argo_archived_workflows")
    conn.execute("VACUUM (ANALYZE) argo_archived_workflows_labels")
    return time.perf_counter() - began


def prune_ttls(conn) -> dict:
    """older_than (seconds) per method: its cutoff is December 1 of its slice's year."""
    now = conn.execute("SELECT now() AT TIME ZONE 'UTC'").fetchone()[0]
    return {method: int((now - datetime.datetime(year, 12, 1)).total_seconds()) for method, year in PRUNE_YEARS.items()}


def prune_plans(conn, plans: dict, ttls: dict) -> None:
    batch_sql, batch_params = archive_sql.prune_batch_query(PRUNE_SCOPE, archive_sql.with_finished_before(
        archive_sql.NO_FILTERS, datetime.datetime(PRUNE_YEARS["batches"], 12, 1)), PRUNE_BATCH)
    with conn.transaction(force_rollback=True):
        plans[f"archive_prune batch ({PRUNE_BATCH} rows, rolled back)"] = explain(conn, batch_sql, batch_params)
    plans["Argo archive GC DELETE (not executed)"] = explain(
        conn, ARGO_GC.format(seconds=ttls["gc"]), [PRUNE_SCOPE.cluster_name, PRUNE_SCOPE.instance_id], analyze=False)


def prune(pg_info, plans: dict) -> dict:
    """Delete PRUNE_SCOPE's rows, one year per method: archive_prune's batches (2020), Argo's one DELETE (2021)
    and archive_prune rollup=true (2022), in that order (each cutoff also covers the earlier years). Runs
    before rollups(): rollup=true meets rows no archive_rollup has seen, in a rollup schema created empty
    and dropped afterwards, so rollups() starts from nothing and rolls up cluster SCOPE's rows only."""
    with psycopg.connect(pg_info.dsn(DB), autocommit=True) as conn:
        ttls = prune_ttls(conn)
        prune_plans(conn, plans, ttls)
        archive_rollup.ensure_schema(conn, create=True)
        durable(conn, True)
        try:
            methods = dict(batches=batched_prune(pg_info, ttls["batches"], False), gc=argo_gc(conn, ttls["gc"]),
                           rollups=batched_prune(pg_info, ttls["rollups"], True))
        finally:
            durable(conn, False)
        for method, m in methods.items():
            log(f"prune {method}: {m['rows']} rows in {len(m['tx_ms'])} transactions, {m['seconds']:.1f} s")
        left = conn.execute("SELECT count(*) FROM argo_archived_workflows WHERE clustername = %s",
                            [PRUNE_SCOPE.cluster_name]).fetchone()[0]
        kept = conn.execute(f"SELECT count(*) FROM {archive_rollup.SCHEMA}.workflow WHERE clustername = %s",
                            [PRUNE_SCOPE.cluster_name]).fetchone()[0]
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(archive_rollup.SCHEMA)))
        vacuum_s = vacuum(conn)
    return dict(methods=methods, left=left, kept=kept, vacuum_s=vacuum_s)


# ---- the full report (playbooks/archive_report.yml)

def archive_info(pg_info, call):
    """One archive_info task: its own connection, Argo's tables checked, then ``call(conn)``."""
    with psycopg.connect(pg_info.dsn(DB), autocommit=True) as conn:
        archive_sql.require_archive_tables(conn)
        return call(conn)


def report_queries(pg_info, source: str) -> tuple:
    """The archive_info tasks of playbooks/archive_report.yml with archive_report_html set and its defaults,
    in its order. Returns ([(task, ms, stats source)], the archive_report module's inputs); source raw is the
    report of a database without rollups (raw rows, no capacity view)."""
    steps, none = [], archive_sql.NO_FILTERS

    def task(name, call):
        began = time.perf_counter()
        value, used = archive_info(pg_info, call)
        steps.append((name, (time.perf_counter() - began) * 1000, used))
        return value

    def stats(filters, group_by):
        return lambda conn: archive_rollup_stats.run_stats(conn, SCOPE, filters, group_by, source)

    tables = {f"per {g}": task(f"archive_info group_by {g}", stats(none, g)) for g in REPORT_GROUP_BY}
    latest = task(f"archive_info limit {REPORT_LATEST} (latest workflows)",
                  lambda conn: (archive_sql.run_list(conn, SCOPE, none, REPORT_LATEST)[0], "raw"))
    by_phase = {p: task(f"archive_info group_by day, phases [{p}]", stats(none._replace(phases=(p,)), "day"))
                for p in REPORT_PHASES}
    failing = task(f"archive_info group_by label:...template, phases {'+'.join(REPORT_FAILED_PHASES)}",
                   stats(none._replace(phases=REPORT_FAILED_PHASES), "label:" + REPORT_TEMPLATE_LABEL))
    capacity = None
    if source != "raw":
        capacity = task("archive_info capacity", lambda conn: (
            archive_capacity.run_capacity(conn, SCOPE, none, None, None), "rollup"))
    return steps, dict(per_day=tables["per day"], by_phase=by_phase, failing=failing, capacity=capacity,
                       tables=tables, latest=latest)


def report_module() -> tuple:
    """(archive_report or None, import ms, why the report part is skipped). Imported here, not at the top,
    to time the import (matplotlib) that each archive_report module process pays."""
    began = time.perf_counter()
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.argoops.workflows.plugins.module_utils import archive_report, archive_report_svg
    import_ms = (time.perf_counter() - began) * 1000
    if not archive_report_svg.HAS_MATPLOTLIB:
        return None, import_ms, (f"matplotlib is not installed ({archive_report_svg.MATPLOTLIB_IMPORT_ERROR}); "
                                 f"{archive_report_svg.INSTALL_HINT}")
    return archive_report, import_ms, None


def write_report(module, inputs: dict, out_dir: str) -> tuple:
    """The archive_report module's work, as archive_runs.run_archive_report calls it: (name, ms, what)."""
    began = time.perf_counter()
    report = module.build_report(inputs["per_day"], inputs["by_phase"], inputs["failing"], inputs["capacity"],
                                 inputs["tables"], inputs["latest"], REPORT_TOP_FAILING, module.DEFAULT_TITLE)
    written = module.publish(os.path.join(out_dir, "report.html"), report)
    return ("archive_report: build_report + publish", (time.perf_counter() - began) * 1000,
            f"{len(written['charts'])} charts, HTML {written['bytes']['html'] // 1024} KiB")


def full_report(pg_info) -> dict:
    """The full report twice: with the rollups (stats_source auto, as the playbook runs it) and from raw rows."""
    module, import_ms, skipped = report_module()
    runs = {}
    with tempfile.TemporaryDirectory(prefix="argoops-bench-report-") as out:
        for source in ("auto", "raw"):
            steps, inputs = report_queries(pg_info, source)
            if module is not None:
                os.mkdir(os.path.join(out, source))
                steps.append(write_report(module, inputs, os.path.join(out, source)))
            runs[source] = steps
            log(f"full report ({source}): {sum(step[1] for step in steps):.0f} ms")
    return dict(runs=runs, import_ms=import_ms, skipped=skipped,
                totals={source: sum(step[1] for step in steps) for source, steps in runs.items()})


def sizes(conn) -> dict:
    row = conn.execute(
        "SELECT pg_relation_size('argo_archived_workflows'), "
        "pg_total_relation_size('argo_archived_workflows') - pg_relation_size('argo_archived_workflows') "
        "- pg_indexes_size('argo_archived_workflows'), pg_indexes_size('argo_archived_workflows'), "
        "pg_total_relation_size('argo_archived_workflows_labels'), pg_database_size(current_database()), "
        "(SELECT count(*) FROM argo_archived_workflows WHERE clustername = %s), "
        "(SELECT count(*) FROM argo_archived_workflows), (SELECT count(*) FROM argo_archived_workflows_labels)",
        [SCOPE.cluster_name]).fetchone()
    mib = [round(v / 1048576) for v in row[:5]]
    return dict(heap_mib=mib[0], toast_mib=mib[1], index_mib=mib[2], labels_mib=mib[3], database_mib=mib[4],
                rows=row[5], all_rows=row[6], label_rows=row[7])


def report_rollups(r) -> None:
    print("\nRollups (archive_rollup; one transaction per run)")
    print(f"  first rollup: {r['first_rows']} rows in {r['first_s']:.1f} s; after 10k new rows: {r['inc_rows']} rows "
          f"in {r['inc_s']:.2f} s; re-run: {r['rerun_rows']} rows in {r['rerun_s']:.2f} s")
    print(f"  rollup tables: narrow rows {r['sizes'][0]} MiB, hourly {r['sizes'][1]} MiB ({r['sizes'][2]} groups)")
    print(f"  {'query':<48} | {'raw rows':>10} | {'rollups':>10} | same result")
    print(f"  {'group_by day, count + avg/p50/p95/max':<48} | {r['raw_ms']:>7.0f} ms | {r['roll_ms']:>7.0f} ms | "
          f"{'yes' if r['same'] else 'NO'} ({r['groups']} groups)")
    print(f"  {'coverage check (rows not rolled up)':<48} | {'':>10} | {r['coverage_ms']:>7.0f} ms | "
          f"{r['uncovered']} uncovered")
    print(f"  {'group_by day, label phase=Failed (raw only)':<48} | {r['label_ms']:>7.0f} ms | {'-':>10} | "
          f"{r['label_groups']} groups")


def report(facts, table, stats, settings) -> None:
    print(f"\nArchive benchmark -- PostgreSQL {settings['server_version']}, shared_buffers "
          f"{settings['shared_buffers']}, work_mem {settings['work_mem']}, "
          f"max_parallel_workers_per_gather {settings['max_parallel_workers_per_gather']}")
    print(f"dataset: {facts['note']}")
    print(f"  this run works on a file copy of it ({facts['copy_s']:.0f}s to make)")
    s = facts["sizes"]
    print(f"  {s['rows']} workflows of cluster {SCOPE.cluster_name} ({s['all_rows']} with {PRUNE_SCOPE.cluster_name}), "
          f"{s['label_rows']} labels; heap {s['heap_mib']} MiB, toast {s['toast_mib']} MiB, "
          f"indexes {s['index_mib']} MiB, labels table {s['labels_mib']} MiB, database {s['database_mib']} MiB")
    print(f"\nList one page of {PAGE} (median ms; one run when it took over 1 s)")
    print(f"{'depth':>8} | {'label filter':<38} | {'Argo LIMIT/OFFSET':>17} | {'archive_info keyset':>19} | "
          f"{'speed-up':>8} | same rows")
    for depth, label, argo_ms, ours_ms, count, same in table:
        print(f"{depth:>8} | {label:<38} | {argo_ms:>14.1f} ms | {ours_ms:>16.1f} ms | {argo_ms / ours_ms:>7.0f}x | "
              f"{'yes' if same else 'NO'} ({count} rows)")
    ms, groups, total = stats
    print(f"\nStatistics, group_by: day over all rows: {ms:.0f} ms ({groups} groups, {total} workflows; "
          f"count + duration avg/p50/p95/max)")


def report_full(r) -> None:
    print("\nFull report: the tasks of playbooks/archive_report.yml with archive_report_html set (default vars), "
          "as direct Python calls on the bench database, not through ansible (no ansible-playbook or module "
          "process start-up; one connection per archive_info task); one run each")
    raw = {step[0]: step[1] for step in r["runs"]["raw"]}
    print(f"  {'task':<62} | {'with rollups':>12} | {'raw rows':>10} | stats source (with rollups)")
    for name, ms, used in r["runs"]["auto"]:
        raw_ms = f"{raw[name]:>7.0f} ms" if name in raw else f"{'-':>10}"
        print(f"  {name:<62} | {ms:>9.0f} ms | {raw_ms} | {used}")
    print(f"  {'total':<62} | {r['totals']['auto']:>9.0f} ms | {r['totals']['raw']:>7.0f} ms |")
    if not r["skipped"]:
        print(f"  raw rows: no capacity view (it needs the rollups; the playbook leaves it out), {r['runs']['raw'][-1][2]}")
    if r["skipped"]:
        print(f"  the archive_report part (build_report + publish) was skipped: {r['skipped']}")
    else:
        print(f"  not in the totals: importing archive_report (matplotlib), {r['import_ms']:.0f} ms here, which each "
              "archive_report module process pays once")


def report_prune(p) -> None:
    print(f"\nPrune the rows of cluster {PRUNE_SCOPE.cluster_name} started in one year per method (durable settings: "
          "fsync, synchronous_commit, full_page_writes on); ms per transaction = how long it holds its locks")
    print(f"  {'method':<44} | {'rows':>7} | {'transactions':>12} | {'seconds':>7} | {'rows/s':>7} | "
          f"{'transaction max / median':>24} | {'its delete+commit max / median':>30}")
    names = dict(batches=f"archive_prune, batches of {PRUNE_BATCH}",
                 rollups=f"archive_prune rollup=true, batches of {PRUNE_BATCH}", gc="Argo GC, one DELETE")
    for method in ("batches", "rollups", "gc"):
        m = p["methods"][method]
        tx, deletes = m["tx_ms"], m["delete_ms"]
        print(f"  {names[method]:<44} | {m['rows']:>7} | {len(tx):>12} | {m['seconds']:>7.1f} | "
              f"{m['rows'] / m['seconds']:>7.0f} | {max(tx):>11.0f} / {statistics.median(tx):>6.0f} ms | "
              f"{max(deletes):>17.0f} / {statistics.median(deletes):>6.0f} ms")
    rollups = p["methods"]["rollups"]
    print(f"  rollup=true: no archive_rollup had seen its rows (the rollup schema was empty), so its first "
          f"transaction rolled all of them up ({rollups['tx_ms'][0]:.0f} ms); later batches found none new. "
          f"Rolled up before deletion: {p['kept']} of {rollups['rows']}")
    print(f"  rows of cluster {PRUNE_SCOPE.cluster_name} left: {p['left']}; then the rollup schema was dropped "
          f"(rollups() starts from none) and Argo's tables vacuumed ({p['vacuum_s']:.0f} s)")


def report_plans(plans) -> None:
    print("\nEXPLAIN plans")
    for title, plan in plans.items():
        print(f"\n  -- {title}\n{plan}")


def prune_goal(p) -> tuple:
    rollups, gc = p["methods"]["rollups"], p["methods"]["gc"]
    worst, rate, gc_rate = max(rollups["tx_ms"]), rollups["rows"] / rollups["seconds"], gc["rows"] / gc["seconds"]
    measured = (f"max {worst:.0f} ms, median {statistics.median(rollups['tx_ms']):.0f} ms per transaction; "
                f"{rate:.0f} rows/s vs Argo GC {gc_rate:.0f} rows/s ({gc['seconds'] * 1000:.0f} ms in 1 transaction)")
    misses = ([f"max {worst:.0f} ms >= 100 ms"] if worst >= 100 else []) + (["slower than Argo"] if rate < gc_rate else [])
    return measured, "NO: " + ", ".join(misses) if misses else "yes"


def report_goal(reported) -> tuple:
    total, raw = reported["totals"]["auto"], reported["totals"]["raw"]
    if reported["skipped"]:
        return (f"{total / 1000:.2f} s with rollups (raw rows {raw / 1000:.2f} s), archive_info queries only",
                ("yes" if total <= 5000 else "NO") + " for the queries (the report part was skipped)")
    return f"{total / 1000:.2f} s with rollups (raw rows {raw / 1000:.2f} s)", "yes" if total <= 5000 else "NO"


def report_goals(rolled, reported, pruned) -> None:
    """goal | measured | met? for the goals of issue 15 (printed, never asserted)."""
    def met(ok):
        return "yes" if ok else "NO"
    r = rolled
    rows = [
        ("first rollup of 1M rows <= 60 s", f"{r['first_s']:.1f} s ({r['first_rows']} rows)", met(r["first_s"] <= 60)),
        ("incremental rollup after 10k new rows <= 1 s", f"{r['inc_s']:.2f} s ({r['inc_rows']} rows)",
         met(r["inc_s"] <= 1)),
        ("group_by day with percentiles, whole range <= 100 ms",
         f"{r['roll_ms']:.0f} ms from rollups (raw rows {r['raw_ms']:.0f} ms)", met(r["roll_ms"] <= 100)),
        ("the full report <= 5 s", *report_goal(reported)),
        ("label-filtered statistics (raw rows) <= 1 s", f"{r['label_ms']:.0f} ms", met(r["label_ms"] <= 1000)),
        ("archive_prune rollup=true: < 100 ms per transaction, rows/s >= Argo GC", *prune_goal(pruned)),
    ]
    width, measured_width = max(len(row[0]) for row in rows), max(len(row[1]) for row in rows)
    print("\nGoals (issue 15)")
    print(f"  {'goal':<{width}} | {'measured':<{measured_width}} | met?")
    for goal, measured, ok in rows:
        print(f"  {goal:<{width}} | {measured:<{measured_width}} | {ok}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1000000, help="archived workflows in the dataset")
    parser.add_argument("--prune-rows", type=int, default=100000, help="rows each prune method deletes")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per fast query (median)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the dataset even when cached")
    parser.add_argument("--keep-running", action="store_true", help="leave the bench PostgreSQL running")
    args = parser.parse_args()
    server = postgres.PostgresServer(bench_base())
    pg_info = server.start(log)
    try:
        facts = dataset(pg_info, args.rows, args.prune_rows, args.fresh)
        facts["copy_s"] = working_copy(pg_info)
        plans = {}
        with psycopg.connect(pg_info.dsn(DB), autocommit=True) as conn:
            facts["sizes"] = sizes(conn)
            settings = dict(conn.execute("SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
                                         "('server_version', 'shared_buffers', 'work_mem', "
                                         "'max_parallel_workers_per_gather')").fetchall())
            table = list_pages(conn, args.runs, plans, args.rows)
            stats = stats_day(conn, args.runs, plans)
        pruned = prune(pg_info, plans)
        rolled = rollups(pg_info, args.runs)
        reported = full_report(pg_info)
        report(facts, table, stats, settings)
        report_rollups(rolled)
        report_full(reported)
        report_prune(pruned)
        report_plans(plans)
        report_goals(rolled, reported, pruned)
    finally:
        if server.running():
            with psycopg.connect(pg_info.dsn(), autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB)))
        if not args.keep_running:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
